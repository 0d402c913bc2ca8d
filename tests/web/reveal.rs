//! Progressive storyboard rendering (`ui::common::reveal`): the first scenes are built with
//! the page, later ones a slice per task, in document order, and the complete mark comes once.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::{document, sleep};
use duanju_studio::ui::common::reveal::{Reveal, EAGER_SHOTS, SLICE_SHOTS};
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

/// Whether each of the host's scenes is built, in document order.
fn scenes(host: &web_sys::HtmlElement) -> Vec<bool> {
    let mut out = Vec::new();
    let mut scene = host.first_element_child();
    while let Some(element) = scene {
        out.push(element.query_selector("[data-built]").unwrap().is_some());
        scene = element.next_element_sibling();
    }
    out
}

/// How many scenes are built; panics unless they are the first ones (document order).
fn built(host: &web_sys::HtmlElement) -> usize {
    let all = scenes(host);
    let n = all.iter().take_while(|b| **b).count();
    assert!(
        all[n..].iter().all(|b| !b),
        "scenes are built in order: {all:?}"
    );
    n
}

#[wasm_bindgen_test]
async fn first_scenes_come_with_the_page_and_the_rest_in_slices() {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    // 40 scenes of 6 shots (240 shots): the seeds' scene size.
    let scenes = 40;
    let completions = Arc::new(AtomicUsize::new(0));
    let counter = completions.clone();
    let reveal_out = Rc::new(Cell::new(None::<Reveal>));
    let out = reveal_out.clone();
    let handle = mount_to(host.clone(), move || {
        let counter = counter.clone();
        let done = Callback::new(move |()| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let reveal = Reveal::new(done);
        out.set(Some(reveal));
        (0..scenes)
            .map(|_| {
                let shown = reveal.admit(6);
                view! {
                    <section>
                        <Show when=move || shown.get()>
                            <span data-built=""></span>
                        </Show>
                    </section>
                }
            })
            .collect_view()
    });
    let reveal = reveal_out.get().unwrap();
    // Built with the page: the scenes holding the first EAGER_SHOTS shots, and no more.
    let eager = EAGER_SHOTS.div_ceil(6);
    assert_eq!(built(&host), eager);
    assert!(!reveal.complete.get_untracked());

    // Each later slice is its own task: after one, only about SLICE_SHOTS more shots.
    sleep(0).await;
    let after_one = built(&host);
    assert!(
        after_one > eager && after_one <= eager + SLICE_SHOTS.div_ceil(6),
        "one slice built {} scenes",
        after_one - eager
    );

    // In the end every scene, and one completion mark.
    for _ in 0..100 {
        if reveal.complete.get_untracked() {
            break;
        }
        sleep(5).await;
    }
    sleep(5).await;
    assert_eq!(built(&host), scenes);
    assert!(reveal.complete.get_untracked());
    assert_eq!(completions.load(Ordering::SeqCst), 1);

    // A scene that joins a complete storyboard is built at once.
    let late = reveal.admit(6);
    assert!(late.get_untracked());
    drop(handle);
    host.remove();
}

#[wasm_bindgen_test]
async fn a_small_storyboard_is_complete_when_settled() {
    let completions = Arc::new(AtomicUsize::new(0));
    let counter = completions.clone();
    let owner = Owner::new();
    let reveal = owner.with(|| {
        let reveal = Reveal::new(Callback::new(move |()| {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        // Two scenes well within the first share: both at once, nothing waits.
        assert!(reveal.admit(EAGER_SHOTS / 2).get_untracked());
        assert!(reveal.admit(EAGER_SHOTS / 2 - 1).get_untracked());
        reveal
    });
    assert!(!reveal.complete.get_untracked());
    // What the editor does once its first render is in the page.
    reveal.settle();
    sleep(0).await;
    assert!(reveal.complete.get_untracked());
    assert_eq!(completions.load(Ordering::SeqCst), 1);
    // Settling again does not mark it twice.
    reveal.settle();
    sleep(0).await;
    assert_eq!(completions.load(Ordering::SeqCst), 1);
    drop(owner);
}
