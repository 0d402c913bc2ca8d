//! A storyboard as sheets of shot cards: every scene in order with its heading, synopsis and
//! picked dialogue, every shot with a frame in the project's aspect ratio (9:16 by default) and
//! every field. The same sheet is the shared-link viewer, the print-out (one scene per page,
//! see the print rules at the end of `style/app.css`) and, with a [`ReviewDraft`], the
//! collaborator's editor: each card can then be edited field by field and commented on.
//!
//! Every value is a text node or a form value: nothing from a link is ever rendered as HTML.
//!
//! Test ids: the sheet `storyboard-sheet`, each scene `sheet-scene`, each card `sheet-shot`
//! (with `data-shot-id`), each value `sheet-field-{field}` (`sheet-field-action`…); in review
//! mode `review-edit-toggle`, the inputs `review-field-{field}`, `review-comment-text` and
//! `review-comment-add`; comments `shot-comment`.

use crate::domain::i18n::Lang;
use crate::domain::project::css_aspect_ratio;
use crate::domain::share::{SharedShot, ShotComment, Storyboard};
use crate::domain::storyboard::export::scene_label;
use crate::domain::storyboard::merge::{
    review_edits, status_label, status_tag, FieldKind, ShotField, STATUSES,
};
use crate::ui::i18n::{t, use_lang};
use crate::web::dom::format_time;
use crate::web::share_link::new_comment_id;
use leptos::prelude::*;

/// A collaborator's working copy of a storyboard they received: one signal per shot, so an
/// edit re-renders only its card, and the comments they add. The storyboard's structure does
/// not change in a review (shots are edited and commented on, not added or removed).
#[derive(Clone, Copy)]
pub struct ReviewDraft {
    /// The storyboard as received.
    pub base: StoredValue<Storyboard>,
    /// Every shot, in order, as currently edited.
    pub shots: StoredValue<Vec<RwSignal<SharedShot>>>,
    /// The comments: the ones received, then the new ones.
    pub comments: RwSignal<Vec<ShotComment>>,
    /// The reviewer's name, written on their comments and on the link they send back.
    pub author: RwSignal<String>,
    /// Whether the cards show their editors and comment forms.
    pub editing: RwSignal<bool>,
}

impl ReviewDraft {
    /// A review of `board`, starting from `comments`.
    pub fn new(board: &Storyboard, comments: Vec<ShotComment>) -> ReviewDraft {
        ReviewDraft {
            base: StoredValue::new(board.clone()),
            shots: StoredValue::new(board.shots().cloned().map(RwSignal::new).collect()),
            comments: RwSignal::new(comments),
            author: RwSignal::new(String::new()),
            editing: RwSignal::new(false),
        }
    }

    /// The signal of a shot.
    pub fn shot(&self, shot_id: &str) -> Option<RwSignal<SharedShot>> {
        self.shots.with_value(|shots| {
            shots
                .iter()
                .copied()
                .find(|s| s.with_untracked(|s| s.id == shot_id))
        })
    }

    /// The storyboard with the current edits.
    pub fn edited(&self) -> Storyboard {
        let mut board = self.base.get_value();
        self.shots.with_value(|shots| {
            for signal in shots {
                let shot = signal.get_untracked();
                if let Some(target) = board.shot_mut(&shot.id) {
                    *target = shot;
                }
            }
        });
        board
    }

    /// How many fields differ from the storyboard as received (reactive).
    pub fn edit_count(&self) -> usize {
        self.shots
            .with_value(|shots| shots.iter().for_each(|s| s.track()));
        self.base
            .with_value(|base| review_edits(base, &self.edited()).len())
    }
}

/// The storyboard as sheets of cards, in scene order.
#[component]
pub fn StoryboardSheet(
    /// The storyboard to show (its structure; with a review, the values come from it).
    board: Storyboard,
    /// A review in progress: the cards show its values and, while it is editing, their editors.
    #[prop(optional)]
    review: Option<ReviewDraft>,
) -> impl IntoView {
    let lang = use_lang();
    let ratio = css_aspect_ratio(&board.aspect_ratio);
    let mut first = true;
    let episodes = board
        .episodes
        .iter()
        .flat_map(|episode| {
            episode
                .scenes
                .iter()
                .enumerate()
                .map(move |(index, scene)| (episode.number, index, scene))
        })
        .map(|(episode, index, scene)| {
            let label = scene_label(episode, index);
            let heading = scene.heading.clone();
            let synopsis = scene.synopsis.clone();
            let take = scene.picked_take.clone();
            let class = if std::mem::take(&mut first) {
                "ds-sheet__scene"
            } else {
                "ds-sheet__scene ds-sheet__scene--break"
            };
            let cards = scene
                .shots
                .iter()
                .map(|shot| {
                    let signal = review
                        .and_then(|r| r.shot(&shot.id))
                        .unwrap_or_else(|| RwSignal::new(shot.clone()));
                    view! { <SheetCard shot=signal ratio=ratio.clone() review/> }
                })
                .collect_view();
            let title = move || match lang.get() {
                Lang::ZhCn => format!("第{episode}集 · 场 {label}"),
                Lang::En => format!("Episode {episode} · Scene {label}"),
            };
            view! {
                <section class=class data-testid="sheet-scene">
                    <h3 class="ds-sheet__heading">
                        <span class="ds-sheet__label">{title}</span>
                        " "
                        <span>{heading}</span>
                    </h3>
                    {(!synopsis.is_empty()).then(|| view! { <p class="ds-sheet__synopsis">{synopsis}</p> })}
                    {take.map(|take| view! {
                        <div class="ds-sheet__take">
                            <span class="ds-sheet__take-label">{t("选定台词", "Picked dialogue")}</span>
                            <p class="ds-pre">{take.dialogue}</p>
                            {(!take.stage_direction.is_empty()).then(|| view! { <p class="ds-sheet__direction">{take.stage_direction}</p> })}
                        </div>
                    })}
                    <ol class="ds-sheet__shots">{cards}</ol>
                </section>
            }
        })
        .collect_view();
    let style = board.style.clone();
    let name = board.name.clone();
    let aspect = board.aspect_ratio.clone();
    view! {
        <div class="ds-sheet" data-testid="storyboard-sheet">
            <header class="ds-sheet__title">
                <h2>{name}</h2>
                <p class="ds-sheet__meta">
                    {t("画幅", "Frame")} " " {aspect}
                    {(!style.is_empty()).then(|| view! { " · " {style} })}
                </p>
            </header>
            {episodes}
        </div>
    }
}

/// One shot: the frame, every field, its comments and, in a review, its editor.
#[component]
fn SheetCard(
    shot: RwSignal<SharedShot>,
    ratio: String,
    review: Option<ReviewDraft>,
) -> impl IntoView {
    let lang = use_lang();
    let id = shot.with_untracked(|s| s.id.clone());
    let number = move || shot.with(|s| s.number.clone());
    let frame_caption = move || {
        shot.with(|s| {
            [s.shot_size.as_str(), s.movement.as_str()]
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" · ")
        })
    };
    let fields = ShotField::ALL
        .into_iter()
        .filter(|f| *f != ShotField::Number)
        .map(|field| {
            let value = move || {
                let text = shot.with(|s| field.get(s)).display(field, lang.get());
                if text.is_empty() {
                    "—".to_owned()
                } else {
                    text
                }
            };
            view! {
                <div class="ds-sheet-shot__field" class:ds-sheet-shot__field--wide=matches!(field.kind(), FieldKind::Text)>
                    <dt>{move || field.label(lang.get())}</dt>
                    <dd class="ds-pre" data-testid=format!("sheet-field-{}", field.key())>{value}</dd>
                </div>
            }
        })
        .collect_view();
    let comment_list = review.map(|review| {
        let id = id.clone();
        let mine = move || {
            review.comments.with(|all| {
                all.iter()
                    .filter(|c| c.shot_id == id)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        };
        view! {
            <ul class="ds-comments" aria-label=move || lang.get().pick("评论", "Comments")>
                <For each=mine key=|c| c.id.clone() let:comment>
                    <li class="ds-comment" data-testid="shot-comment">
                        <span class="ds-comment__meta">
                            <strong>{comment.author.clone()}</strong>
                            " · "
                            {move || format_time(comment.time_ms, lang.get())}
                        </span>
                        <span class="ds-pre">{comment.text.clone()}</span>
                    </li>
                </For>
            </ul>
        }
    });
    let editor = review.map(|review| {
        view! {
            <Show when=move || review.editing.get()>
                <ReviewControls shot review/>
            </Show>
        }
    });
    view! {
        <li class="ds-sheet-shot" data-testid="sheet-shot" data-shot-id=id>
            <div class="ds-frame" style:aspect-ratio=ratio aria-hidden="true">
                <span class="ds-frame__number">{number}</span>
                <span class="ds-frame__caption">{frame_caption}</span>
            </div>
            <div class="ds-sheet-shot__body">
                <h4 class="ds-sheet-shot__title">
                    {move || lang.get().pick("镜头", "Shot")} " " {number}
                </h4>
                <dl class="ds-sheet-shot__fields">{fields}</dl>
                {comment_list}
                {editor}
            </div>
        </li>
    }
}

/// A card's review controls: its field editor (behind a toggle) and a comment form.
#[component]
fn ReviewControls(shot: RwSignal<SharedShot>, review: ReviewDraft) -> impl IntoView {
    let lang = use_lang();
    let open = RwSignal::new(false);
    let comment = RwSignal::new(String::new());
    let comment_error = RwSignal::new(None::<&'static str>);
    let number = move || shot.with(|s| s.number.clone());
    let toggle_label = move || match (open.get(), lang.get()) {
        (false, Lang::ZhCn) => format!("修改镜头 {}", number()),
        (false, Lang::En) => format!("Edit shot {}", number()),
        (true, Lang::ZhCn) => format!("收起镜头 {} 的修改", number()),
        (true, Lang::En) => format!("Close the editor of shot {}", number()),
    };
    let add_comment = move |_| {
        let text = comment.get_untracked();
        let author = review.author.get_untracked();
        if author.trim().is_empty() {
            comment_error.set(Some("name"));
            return;
        }
        if text.trim().is_empty() {
            comment_error.set(Some("empty"));
            return;
        }
        comment_error.set(None);
        let entry = ShotComment {
            id: new_comment_id(),
            shot_id: shot.with_untracked(|s| s.id.clone()),
            author: author.trim().to_owned(),
            time_ms: js_sys::Date::now(),
            text: text.trim().to_owned(),
        };
        review.comments.update(|all| all.push(entry));
        comment.set(String::new());
    };
    let comment_label = move || match lang.get() {
        Lang::ZhCn => format!("评论镜头 {}", number()),
        Lang::En => format!("Comment on shot {}", number()),
    };
    view! {
        <div class="ds-review">
            <button
                type="button"
                class="ds-btn ds-btn--small ds-btn--ghost ds-noprint"
                data-testid="review-edit-toggle"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {toggle_label}
            </button>
            <Show when=move || open.get()>
                <div class="ds-review__fields">
                    {ShotField::ALL.into_iter().map(|field| view! { <FieldEditor shot field/> }).collect_view()}
                </div>
            </Show>
            <div class="ds-review__comment ds-noprint">
                <label class="ds-field">
                    <span class="ds-field__label">{comment_label}</span>
                    <textarea
                        rows="2"
                        data-testid="review-comment-text"
                        prop:value=move || comment.get()
                        on:input=move |ev| comment.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <button type="button" class="ds-btn ds-btn--small" data-testid="review-comment-add" on:click=add_comment>
                    {t("添加评论", "Add comment")}
                </button>
                {move || comment_error.get().map(|which| {
                    let text = match which {
                        "name" => lang.get().pick("请先在上方填写你的名字。", "Enter your name above first."),
                        _ => lang.get().pick("评论不能为空。", "The comment is empty."),
                    };
                    view! { <p class="ds-field__error" role="alert">{text}</p> }
                })}
            </div>
        </div>
    }
}

/// One field's input in the review editor: text as typed, seconds and lists checked when the
/// input is left, the status from a list.
#[component]
fn FieldEditor(shot: RwSignal<SharedShot>, field: ShotField) -> impl IntoView {
    let lang = use_lang();
    let error = RwSignal::new(None::<String>);
    let commit = move |text: String| match field.parse_input(&text) {
        Ok(value) => {
            error.set(None);
            shot.update(|s| {
                field.set(s, &value);
            });
        }
        Err(e) => error.set(Some(e.message(lang.get_untracked()))),
    };
    let value = move || shot.with(|s| field.input_text(s));
    let testid = format!("review-field-{}", field.key());
    let input = match field.kind() {
        FieldKind::Line => view! {
            <input type="text" data-testid=testid prop:value=value on:input=move |ev| commit(event_target_value(&ev))/>
        }
        .into_any(),
        FieldKind::Text => view! {
            <textarea rows="3" data-testid=testid prop:value=value on:input=move |ev| commit(event_target_value(&ev))></textarea>
        }
        .into_any(),
        FieldKind::Seconds => view! {
            <input type="text" inputmode="decimal" data-testid=testid prop:value=value on:change=move |ev| commit(event_target_value(&ev))/>
        }
        .into_any(),
        FieldKind::List => view! {
            <input type="text" data-testid=testid prop:value=value on:change=move |ev| commit(event_target_value(&ev))/>
        }
        .into_any(),
        FieldKind::Status => view! {
            <select data-testid=testid prop:value=value on:change=move |ev| commit(event_target_value(&ev))>
                {STATUSES.into_iter().map(|s| view! {
                    <option value=status_tag(s)>{move || status_label(s, lang.get())}</option>
                }).collect_view()}
            </select>
        }
        .into_any(),
    };
    view! {
        <label class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
            <span class="ds-field__label">{move || field.label(lang.get())}</span>
            {input}
            {move || error.get().map(|e| view! { <span class="ds-field__error" role="alert">{e}</span> })}
        </label>
    }
}
