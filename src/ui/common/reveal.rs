//! Progressive rendering of a long storyboard.
//!
//! A 564-shot series is some 18,000 elements, 94 scenes with their header fields among them:
//! built in one task that blocks the page for well over 100 ms. So the editor builds its
//! scenes in document order through one [`Reveal`]: the scenes holding the first
//! [`EAGER_SHOTS`] shots come with the editor, and each later scene waits for its turn, shown
//! meanwhile as its title over a placeholder of about its height (`aria-busy`). The waiting
//! scenes are then built a slice at a time (whole scenes, about [`SLICE_SHOTS`] shots per
//! slice), each slice in its own task, so typing, scrolling and clicking go on between slices
//! and every card is in the page a few hundred milliseconds after the first ones.
//!
//! A project of up to [`EAGER_SHOTS`] shots (most of them) is built at once, as before. A
//! scene added once the storyboard is complete is built at once too. The editor's
//! `data-complete` says when every scene is built; the benchmark times both moments.

use std::collections::VecDeque;
use std::time::Duration;

use leptos::prelude::*;

/// How many shots come with the editor itself: more than one episode of the seeds' series
/// (47 shots), more than a phone or laptop screen shows.
pub const EAGER_SHOTS: usize = 48;

/// How many shots one later slice builds (whole scenes: a slice ends after the scene that
/// reaches it): some 15 ms of work on the benchmark machine, under the 50 ms of a "long task".
pub const SLICE_SHOTS: usize = 60;

#[derive(Default)]
struct Queue {
    /// Shots that may still be built with the editor.
    eager_left: usize,
    /// The scenes waiting for their turn, in document order, with their shot counts.
    waiting: VecDeque<(RwSignal<bool>, usize)>,
    /// Whether a slice is scheduled.
    scheduled: bool,
    /// Whether the first build is over (every scene built): later scenes come at once.
    done: bool,
}

/// The build order of one editor's scenes (see the module docs). Copy; made by the editor and
/// given to its scenes as context.
#[derive(Clone, Copy)]
pub struct Reveal {
    queue: StoredValue<Queue>,
    /// True once every scene is built.
    pub complete: RwSignal<bool>,
    /// Runs once when every scene is built (the benchmark's end mark).
    on_complete: Callback<()>,
}

impl Reveal {
    /// A new build order, with [`EAGER_SHOTS`] shots built with the editor.
    pub fn new(on_complete: Callback<()>) -> Self {
        Self {
            queue: StoredValue::new(Queue {
                eager_left: EAGER_SHOTS,
                ..Queue::default()
            }),
            complete: RwSignal::new(false),
            on_complete,
        }
    }

    /// Takes a scene of `shots` shots in its turn: the returned signal turns true when the
    /// scene is to be built (at once while the editor's own share lasts, or once the storyboard
    /// is complete; else in a later slice).
    pub fn admit(&self, shots: usize) -> RwSignal<bool> {
        let at_once = self
            .queue
            .try_update_value(|q| {
                if q.done || (q.eager_left > 0 && q.waiting.is_empty()) {
                    q.eager_left = q.eager_left.saturating_sub(shots.max(1));
                    None
                } else {
                    let shown = RwSignal::new(false);
                    q.waiting.push_back((shown, shots));
                    Some(shown)
                }
            })
            .flatten();
        match at_once {
            None => RwSignal::new(true),
            Some(waiting) => {
                self.schedule();
                waiting
            }
        }
    }

    /// Schedules the next slice, unless one is.
    fn schedule(&self) {
        let first = self
            .queue
            .try_update_value(|q| !std::mem::replace(&mut q.scheduled, true))
            .unwrap_or(false);
        if first {
            let this = *self;
            // A task of its own: the page paints and takes input before each slice.
            set_timeout(move || this.slice(), Duration::ZERO);
        }
    }

    /// Builds the next slice of waiting scenes, then schedules the one after.
    fn slice(&self) {
        let Some(batch) = self.queue.try_update_value(|q| {
            q.scheduled = false;
            let mut batch = Vec::new();
            let mut shots = 0;
            while shots < SLICE_SHOTS {
                let Some((shown, n)) = q.waiting.pop_front() else {
                    break;
                };
                shots += n.max(1);
                batch.push(shown);
            }
            batch
        }) else {
            return; // The editor is gone.
        };
        for shown in batch {
            shown.try_set(true);
        }
        if self
            .queue
            .try_with_value(|q| q.waiting.is_empty())
            .unwrap_or(false)
        {
            self.settle();
        } else {
            self.schedule();
        }
    }

    /// Marks the first build over once no scene waits (the editor calls it once its first
    /// render is in the page, for the case where no scene waited).
    pub fn settle(&self) {
        let over = self
            .queue
            .try_update_value(|q| {
                let over = q.waiting.is_empty() && !q.done;
                q.done |= over;
                over
            })
            .unwrap_or(false);
        if over {
            self.complete.try_set(true);
            // Queued after the rebuilds this slice's signals started: runs once the last
            // scenes are in the page. (`over` is true once: `done` stays set.)
            let (done, alive) = (self.on_complete, self.complete);
            leptos::task::spawn_local(async move {
                // Unless the editor closed meanwhile.
                if alive.try_get_untracked().is_some() {
                    done.run(());
                }
            });
        }
    }
}
