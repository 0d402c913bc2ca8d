//! One shot of the storyboard as a card: its number, framing, timing, action, dialogue, tone,
//! visual elements, characters, notes and status, edited in place inside a frame guide whose
//! shape is the project's aspect ratio (a vertical 9:16 phone frame by default).
//!
//! A card reads one `RwSignal<Shot>` and writes through [`EditorModel::edit_shot`], so an edit
//! touches only that card: the other cards of a 564-shot series are not re-rendered. Every
//! value is a text node or a form value, never HTML.
//!
//! **Built by cloning.** A 564-shot storyboard is some 30,000 elements; built one element and
//! one attribute at a time from WebAssembly that takes about half a second. So a card's fixed
//! markup (its labels, buttons and empty fields, described by [`FIELDS`]) is built once per
//! language with the DOM API and cloned for each card (`cloneNode`); the card then writes its
//! shot's values into the clone's fields. Events bubble to the scene's [`ShotGrid`], which
//! handles them for all its cards, by the `data-field` or `data-action` of their target. When
//! the shot changes (an edit, a merge, a save), one effect per card writes the fields whose
//! text no longer says what the shot says, and leaves alone a field that does (so `4.` typed
//! in the duration, or a list typed with a trailing comma, is not rewritten under the caret).
//!
//! Reordering works with the ↑/↓ buttons and with the keyboard: the card's handle takes
//! Alt+ArrowUp / Alt+ArrowDown, keeps the focus after the move and announces the new position
//! through the editor's live region.

use std::cell::RefCell;

use crate::domain::i18n::Lang;
use crate::domain::project::{Shot, ShotStatus};
use crate::ui::studio::editor_model::EditorModel;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, DocumentFragment, Element, HtmlElement};

/// The production statuses and their stable names, in the order the picker lists them.
const STATUSES: [(ShotStatus, &str); 5] = [
    (ShotStatus::Draft, "draft"),
    (ShotStatus::Ready, "ready"),
    (ShotStatus::Generating, "generating"),
    (ShotStatus::Done, "done"),
    (ShotStatus::Failed, "failed"),
];

/// The stable name of a status, used as the `<option>` value.
pub fn status_value(status: ShotStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("draft", |(_, value)| value)
}

/// The status named `value`, if it is one.
fn status_from_value(value: &str) -> Option<ShotStatus> {
    STATUSES.iter().find(|(_, v)| *v == value).map(|(s, _)| *s)
}

/// Splits a comma-separated list as typed (`雨夜, 冷色调，浅景深`): ASCII and full-width commas
/// and the enumeration comma `、` all separate; items are trimmed and empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '，', '、'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A list as the field shows it.
pub fn join_list(items: &[String]) -> String {
    items.join(", ")
}

/// A duration as typed, in seconds: a finite number, zero or more.
pub fn parse_duration(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

/// How a field is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// One line of text.
    Line,
    /// Several lines.
    Lines,
    /// Seconds, a number.
    Seconds,
    /// A comma-separated list.
    List,
    /// The production status, picked from [`STATUSES`].
    Status,
}

/// One field of a card: its `data-field` name (and `shot-…` test id), labels, kind, and
/// whether it spans the card's width.
struct FieldSpec {
    field: &'static str,
    testid: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: Kind,
    wide: bool,
}

/// The fields of a card, in the order they are shown.
#[rustfmt::skip]
const FIELDS: [FieldSpec; 12] = [
    FieldSpec { field: "number", testid: "shot-number", zh: "编号", en: "No.", kind: Kind::Line, wide: false },
    FieldSpec { field: "status", testid: "shot-status", zh: "状态", en: "Status", kind: Kind::Status, wide: false },
    FieldSpec { field: "shot_size", testid: "shot-shot-size", zh: "景别", en: "Shot size", kind: Kind::Line, wide: false },
    FieldSpec { field: "camera_angle", testid: "shot-camera-angle", zh: "机位角度", en: "Camera angle", kind: Kind::Line, wide: false },
    FieldSpec { field: "movement", testid: "shot-movement", zh: "运镜", en: "Movement", kind: Kind::Line, wide: false },
    FieldSpec { field: "duration", testid: "shot-duration", zh: "时长（秒）", en: "Duration (s)", kind: Kind::Seconds, wide: false },
    FieldSpec { field: "emotional_tone", testid: "shot-emotional-tone", zh: "情绪基调", en: "Emotional tone", kind: Kind::Line, wide: true },
    FieldSpec { field: "action", testid: "shot-action", zh: "动作", en: "Action", kind: Kind::Lines, wide: true },
    FieldSpec { field: "dialogue", testid: "shot-dialogue", zh: "台词", en: "Dialogue", kind: Kind::Lines, wide: true },
    FieldSpec { field: "visual_elements", testid: "shot-visual-elements", zh: "画面元素（逗号分隔）", en: "Visual elements (comma-separated)", kind: Kind::List, wide: true },
    FieldSpec { field: "characters", testid: "shot-characters", zh: "出场角色（逗号分隔）", en: "Characters (comma-separated)", kind: Kind::List, wide: true },
    FieldSpec { field: "notes", testid: "shot-notes", zh: "备注", en: "Notes", kind: Kind::Lines, wide: true },
];

/// The status labels, in [`STATUSES`] order.
const STATUS_LABELS: [(&str, &str); 5] = [
    ("草稿", "Draft"),
    ("待生成", "Ready"),
    ("生成中", "Generating"),
    ("已完成", "Done"),
    ("失败", "Failed"),
];

/// The delete button's two texts.
const DELETE: (&str, &str) = ("删除", "Delete");
const SURE: (&str, &str) = ("确定删除？再点一次", "Sure? Click again");

/// The value of a field as the card shows it.
fn shown(field: &str, shot: &Shot) -> String {
    match field {
        "number" => shot.number.clone(),
        "status" => status_value(shot.status).to_owned(),
        "shot_size" => shot.shot_size.clone(),
        "camera_angle" => shot.camera_angle.clone(),
        "movement" => shot.movement.clone(),
        "duration" => format!("{}", shot.duration_s),
        "emotional_tone" => shot.emotional_tone.clone(),
        "action" => shot.action.clone(),
        "dialogue" => shot.dialogue.clone(),
        "visual_elements" => join_list(&shot.visual_elements),
        "characters" => join_list(&shot.characters),
        "notes" => shot.notes.clone(),
        _ => String::new(),
    }
}

/// Whether the text of a field says what the shot says (then it is left as typed).
fn says_same(field: &str, text: &str, shot: &Shot) -> bool {
    match field {
        "duration" => parse_duration(text) == Some(shot.duration_s),
        "visual_elements" => split_list(text) == shot.visual_elements,
        "characters" => split_list(text) == shot.characters,
        _ => text == shown(field, shot),
    }
}

/// Applies what was typed in the field `field` of a card to its shot, through the editor.
/// Text that says what the shot already says is not an edit.
fn apply_field(model: EditorModel, shot: RwSignal<Shot>, field: &str, text: String) {
    if shot.with_untracked(|s| says_same(field, &text, s)) {
        return;
    }
    let id = shot.with_untracked(|s| s.id.clone());
    match field {
        "number" => model.edit_shot(&id, |s| s.number = text),
        "shot_size" => model.edit_shot(&id, |s| s.shot_size = text),
        "camera_angle" => model.edit_shot(&id, |s| s.camera_angle = text),
        "movement" => model.edit_shot(&id, |s| s.movement = text),
        "emotional_tone" => model.edit_shot(&id, |s| s.emotional_tone = text),
        "action" => model.edit_shot(&id, |s| s.action = text),
        "dialogue" => model.edit_shot(&id, |s| s.dialogue = text),
        "notes" => model.edit_shot(&id, |s| s.notes = text),
        "duration" => {
            if let Some(seconds) = parse_duration(&text) {
                model.edit_shot(&id, |s| s.duration_s = seconds);
            }
        }
        "visual_elements" => model.edit_shot(&id, |s| s.visual_elements = split_list(&text)),
        "characters" => model.edit_shot(&id, |s| s.characters = split_list(&text)),
        "status" => {
            if let Some(status) = status_from_value(&text) {
                model.edit_shot(&id, |s| s.status = status);
            }
        }
        _ => {}
    }
}

/// A field of a card: a plain-text box (`contenteditable="plaintext-only"`, what most fields
/// are) or the status button.
///
/// Neither is a form control: each `<input>`, `<textarea>` or `<select>` carries its own
/// internal editor (a user-agent shadow tree), and 6,800 of them made a 564-shot storyboard
/// take ~180 ms to build; plain-text boxes build in about a quarter of that. They take only
/// text (a paste keeps no markup) and their value is read and written as text, never HTML.
/// The status is a button naming the status; pressing it puts a `<select>` of the statuses in
/// its place until the focus leaves ([`open_status_picker`]).
enum Control {
    Text(HtmlElement),
    Status(HtmlElement, Lang),
}

impl Control {
    fn of(element: Element, lang: Lang) -> Option<Control> {
        let element: HtmlElement = element.dyn_into().ok()?;
        if element.get_attribute("data-field").as_deref() == Some("status") {
            return Some(Control::Status(element, lang));
        }
        Some(Control::Text(element))
    }

    fn value(&self) -> String {
        match self {
            Control::Text(e) => box_text(e),
            Control::Status(e, _) => e.get_attribute("data-value").unwrap_or_default(),
        }
    }

    fn set_value(&self, value: &str) {
        match self {
            Control::Text(e) => e.set_text_content(Some(value)),
            Control::Status(e, lang) => {
                let _ = e.set_attribute("data-value", value);
                e.set_text_content(Some(&status_label(value, *lang)));
                let _ = e.set_attribute("aria-label", &status_name(value, *lang));
            }
        }
    }

    /// Turns editing off (a read-only tab) or on.
    fn set_disabled(&self, disabled: bool) {
        match self {
            Control::Text(e) => {
                let editable = if disabled { "false" } else { "plaintext-only" };
                let _ = e.set_attribute("contenteditable", editable);
                let _ = e.set_attribute("aria-disabled", if disabled { "true" } else { "false" });
            }
            Control::Status(e, _) => {
                let _ = if disabled {
                    e.set_attribute("disabled", "")
                } else {
                    e.remove_attribute("disabled")
                };
            }
        }
    }
}

/// The label of a status value, with the ▾ that says a list opens.
fn status_label(value: &str, lang: Lang) -> String {
    let index = STATUSES.iter().position(|(_, v)| *v == value).unwrap_or(0);
    let (zh, en) = STATUS_LABELS[index];
    format!("{} ▾", lang.pick(zh, en))
}

/// The status button's accessible name: "Status: Draft".
fn status_name(value: &str, lang: Lang) -> String {
    let index = STATUSES.iter().position(|(_, v)| *v == value).unwrap_or(0);
    let (zh, en) = STATUS_LABELS[index];
    match lang {
        Lang::ZhCn => format!("状态：{zh}"),
        Lang::En => format!("Status: {en}"),
    }
}

/// Puts a `<select>` of the statuses (test id `shot-status-select`) in place of a card's status
/// button and focuses it; a change is an edit (the grid's input handler), and leaving it puts
/// the button back ([`close_status_picker`]).
fn open_status_picker(button: &Element, lang: Lang) {
    let Some(document) = button.owner_document() else {
        return;
    };
    let value = button.get_attribute("data-value").unwrap_or_default();
    let select = element(
        &document,
        "select",
        &[
            ("data-field", "status"),
            ("data-testid", "shot-status-select"),
            ("aria-label", lang.pick("状态", "Status")),
        ],
    );
    for ((_, option_value), labels) in STATUSES.iter().zip(STATUS_LABELS) {
        let option = element(&document, "option", &[("value", option_value)]);
        text(&document, &option, lang.pick(labels.0, labels.1));
        let _ = select.append_child(&option);
    }
    let Ok(select) = select.dyn_into::<web_sys::HtmlSelectElement>() else {
        return;
    };
    select.set_value(&value);
    let _ = button.set_attribute("hidden", "");
    let _ = button.after_with_node_1(&select);
    let _ = select.focus();
    // Open the list at once where the browser can (it needs the user's click or key press).
    if let Ok(show) = js_sys::Reflect::get(&select, &"showPicker".into()) {
        if let Some(show) = show.dyn_ref::<js_sys::Function>() {
            let _ = show.call0(&select);
        }
    }
}

/// Removes a status `<select>` and shows its button again.
fn close_status_picker(select: &Element) {
    if let Some(button) = select.previous_element_sibling() {
        let _ = button.remove_attribute("hidden");
    }
    select.remove();
}

/// The text a plain-text box holds. Chromium types a line break into a `plaintext-only` box as
/// a "\n" text (`white-space: pre-wrap`); a `<br>` or a block another browser may add reads as
/// a line break too. Read from the nodes, not `innerText`, which needs layout (and is empty for
/// a card `content-visibility` has skipped).
fn box_text(element: &HtmlElement) -> String {
    if element.child_element_count() == 0 {
        return element.text_content().unwrap_or_default();
    }
    let mut text = String::new();
    collect_text(element, &mut text);
    text
}

fn collect_text(node: &web_sys::Node, out: &mut String) {
    let mut next = node.first_child();
    while let Some(child) = next {
        next = child.next_sibling();
        match child.node_type() {
            web_sys::Node::TEXT_NODE => out.push_str(&child.text_content().unwrap_or_default()),
            web_sys::Node::ELEMENT_NODE => {
                let name = child.node_name();
                if name.eq_ignore_ascii_case("br") {
                    out.push('\n');
                    continue;
                }
                if (name.eq_ignore_ascii_case("div") || name.eq_ignore_ascii_case("p"))
                    && !out.is_empty()
                    && !out.ends_with('\n')
                {
                    out.push('\n');
                }
                collect_text(&child, out);
            }
            _ => {}
        }
    }
}

/// The value a field's element holds: a status picker's value or a text box's text.
fn field_value(element: Element) -> Option<String> {
    if let Some(select) = element.dyn_ref::<web_sys::HtmlSelectElement>() {
        return Some(select.value());
    }
    Control::of(element, Lang::ZhCn).map(|c| c.value())
}

/// The parts of one card's clone that show the shot.
struct CardParts {
    number: Element,
    controls: Vec<(&'static str, Control)>,
}

impl CardParts {
    /// Writes the shot into the fields: into a fresh clone (`keep_same` false), or over what
    /// they show, leaving a field whose text already says the same thing as it is.
    fn show(&self, shot: &Shot, keep_same: bool) {
        let number = Some(shot.number.as_str());
        if self.number.text_content().as_deref() != number {
            self.number.set_text_content(number);
        }
        for (field, control) in &self.controls {
            let value = shown(field, shot);
            // A fresh clone's fields are empty (its status is the first, draft): writing the
            // same again costs a round trip per field.
            let unchanged = if keep_same {
                says_same(field, &control.value(), shot)
            } else {
                value.is_empty() || (*field == "status" && value == status_value(ShotStatus::Draft))
            };
            if !unchanged {
                control.set_value(&value);
            }
        }
    }
}

/// Creates an element with attributes.
fn element(document: &Document, tag: &str, attributes: &[(&str, &str)]) -> Element {
    let el = document
        .create_element(tag)
        .expect("creating an element cannot fail");
    for (name, value) in attributes {
        let _ = el.set_attribute(name, value);
    }
    el
}

/// Appends a text node.
fn text(document: &Document, parent: &Element, text: &str) {
    let _ = parent.append_child(&document.create_text_node(text));
}

/// The fixed markup of a card in one language: the bar (reorder handle, ↑, ↓, delete) and the
/// frame guide with every field, empty.
fn build_skeleton(document: &Document, lang: Lang) -> DocumentFragment {
    let pick = |pair: (&'static str, &'static str)| lang.pick(pair.0, pair.1);
    let fragment = document.create_document_fragment();
    let bar = element(document, "div", &[("class", "ds-shot-card__bar")]);
    let handle = element(
        document,
        "button",
        &[
            ("type", "button"),
            ("class", "ds-shot-card__handle"),
            ("data-testid", "shot-handle"),
            ("data-action", "handle"),
            ("aria-keyshortcuts", "Alt+ArrowUp Alt+ArrowDown"),
            (
                "aria-description",
                pick((
                    "按 Alt+↑ 或 Alt+↓ 调整顺序",
                    "Press Alt+↑ or Alt+↓ to reorder",
                )),
            ),
        ],
    );
    // The grip (⇅) is the handle's CSS content, with no text for assistive technology.
    let _ = handle.append_child(&element(
        document,
        "span",
        &[("class", "ds-shot-card__number")],
    ));
    let tools = element(document, "span", &[("class", "ds-shot-card__tools")]);
    let small = "ds-btn ds-btn--ghost ds-btn--small";
    for (action, testid, label, icon) in [
        ("up", "shot-move-up", pick(("上移", "Move up")), "↑"),
        ("down", "shot-move-down", pick(("下移", "Move down")), "↓"),
    ] {
        let button = element(
            document,
            "button",
            &[
                ("type", "button"),
                ("class", small),
                ("data-testid", testid),
                ("data-action", action),
                ("aria-label", label),
            ],
        );
        text(document, &button, icon);
        let _ = tools.append_child(&button);
    }
    let delete = element(
        document,
        "button",
        &[
            ("type", "button"),
            ("class", small),
            ("data-testid", "shot-delete"),
            ("data-action", "delete"),
        ],
    );
    text(document, &delete, pick(DELETE));
    let _ = tools.append_child(&delete);
    let _ = bar.append_child(&handle);
    let _ = bar.append_child(&tools);

    let frame = element(document, "div", &[("class", "ds-shot-card__frame")]);
    for spec in &FIELDS {
        let class = if spec.wide {
            "ds-shot-field ds-shot-field--wide"
        } else {
            "ds-shot-field"
        };
        let label_text = lang.pick(spec.zh, spec.en);
        let common = [("data-field", spec.field), ("data-testid", spec.testid)];
        // A field's visible name is the wrapper's CSS content (`data-label`), so it costs no
        // nodes in each of 564 cards; the box or button carries the name as its aria-label (a
        // `<label>` cannot name a text box or a button).
        let (label, control) = match spec.kind {
            Kind::Status => {
                let label = element(
                    document,
                    "div",
                    &[("class", class), ("data-label", label_text)],
                );
                let button = element(
                    document,
                    "button",
                    &[
                        ("type", "button"),
                        common[0],
                        common[1],
                        ("class", "ds-shot-status"),
                        ("data-action", "status"),
                        ("data-value", status_value(ShotStatus::Draft)),
                        ("aria-haspopup", "listbox"),
                        (
                            "aria-label",
                            &status_name(status_value(ShotStatus::Draft), lang),
                        ),
                    ],
                );
                text(
                    document,
                    &button,
                    &status_label(status_value(ShotStatus::Draft), lang),
                );
                (label, button)
            }
            kind => {
                let label = element(
                    document,
                    "div",
                    &[("class", class), ("data-label", label_text)],
                );
                let multiline = if kind == Kind::Lines { "true" } else { "false" };
                let inputmode = if kind == Kind::Seconds {
                    "decimal"
                } else {
                    "text"
                };
                let control = element(
                    document,
                    "div",
                    &[
                        common[0],
                        common[1],
                        ("class", "ds-shot-text"),
                        ("role", "textbox"),
                        ("contenteditable", "plaintext-only"),
                        ("aria-label", label_text),
                        ("aria-multiline", multiline),
                        ("inputmode", inputmode),
                        ("spellcheck", "false"),
                    ],
                );
                (label, control)
            }
        };
        let _ = label.append_child(&control);
        let _ = frame.append_child(&label);
    }
    let _ = fragment.append_child(&bar);
    let _ = fragment.append_child(&frame);
    fragment
}

thread_local! {
    /// The card markup of each language, built on first use.
    static SKELETONS: RefCell<Vec<(Lang, DocumentFragment)>> = const { RefCell::new(Vec::new()) };
}

/// A fresh copy of the card markup in `lang`, and the parts of it that show a shot.
fn clone_skeleton(lang: Lang) -> Option<(DocumentFragment, CardParts)> {
    let document = web_sys::window()?.document()?;
    let skeleton = SKELETONS.with_borrow_mut(|all| {
        if let Some((_, fragment)) = all.iter().find(|(l, _)| *l == lang) {
            return fragment.clone();
        }
        let fragment = build_skeleton(&document, lang);
        all.push((lang, fragment.clone()));
        fragment
    });
    let copy: DocumentFragment = skeleton.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
    let bar = copy.first_element_child()?;
    let number = bar.first_element_child()?.last_element_child()?;
    let mut controls = Vec::with_capacity(FIELDS.len());
    let mut label = bar.next_element_sibling()?.first_element_child();
    for spec in &FIELDS {
        let current = label?;
        controls.push((
            spec.field,
            Control::of(current.last_element_child()?, lang)?,
        ));
        label = current.next_element_sibling();
    }
    Some((copy, CardParts { number, controls }))
}

/// Fills an empty card element with the card markup and its shot, and keeps the fields in step
/// with the shot and with the editor's read-only state (a `use:` directive of [`ShotCard`]: it
/// runs as the element is created).
fn fill_card(card: Element, (shot, lang, read_only): (RwSignal<Shot>, Lang, Signal<bool>)) {
    let Some((copy, parts)) = clone_skeleton(lang) else {
        return;
    };
    shot.with_untracked(|s| parts.show(s, false));
    let _ = card.append_child(&copy);
    Effect::new(move |was_disabled: Option<bool>| {
        shot.with(|s| {
            if was_disabled.is_some() {
                parts.show(s, true);
            }
        });
        let disabled = read_only.get();
        // A fresh card is editable: only a change (or a read-only start) is written.
        if was_disabled.unwrap_or(false) != disabled {
            for (_, control) in &parts.controls {
                control.set_disabled(disabled);
            }
        }
        disabled
    });
}

/// The element an event came from.
fn target(ev: &web_sys::Event) -> Option<Element> {
    ev.target()?.dyn_into().ok()
}

/// The card of one shot: an `<article>` filled with the card markup by [`fill_card`]. Its
/// events are handled by the [`ShotGrid`] it sits in.
///
/// Test ids: the card is `shot-card` with `data-id` (the shot id); its fields are
/// `shot-number`, `shot-shot-size`, `shot-camera-angle`, `shot-movement`, `shot-duration`,
/// `shot-action`, `shot-dialogue`, `shot-emotional-tone`, `shot-visual-elements`,
/// `shot-characters`, `shot-notes`, `shot-status`; its buttons `shot-handle` (keyboard
/// reordering), `shot-move-up`, `shot-move-down` and `shot-delete` (the first click asks, the
/// second deletes; leaving the button cancels).
#[component]
pub fn ShotCard(
    /// The shot, updated in place by edits here, by merges from other tabs and by saves.
    shot: RwSignal<Shot>,
    /// The language of the card's fixed text.
    lang: Lang,
    /// Whether editing is off (this tab turned read-only).
    read_only: Signal<bool>,
) -> impl IntoView {
    let id = shot.with_untracked(|s| s.id.clone());
    view! { <article class="ds-shot-card" data-testid="shot-card" data-id=id use:fill_card=(shot, lang, read_only)></article> }
}

/// The cards of one scene, in order, with their events: typing in a field edits the shot;
/// ↑/↓ and Alt+ArrowUp/Alt+ArrowDown on a card's handle reorder; delete asks, then deletes.
/// The cards are rendered again when the language changes.
#[component]
pub fn ShotGrid(
    /// The open project's editor, through which every edit goes.
    model: EditorModel,
    /// The scene's shot ids, in order.
    #[prop(into)]
    shot_ids: Signal<Vec<String>>,
) -> impl IntoView {
    let ui_lang = crate::ui::i18n::use_lang();
    // The card an event happened in, and its shot.
    let card = move |ev: &web_sys::Event| {
        let card = target(ev)?.closest("[data-testid=\"shot-card\"]").ok()??;
        model.shot_signal(&card.get_attribute("data-id")?)
    };
    let moved = move |shot: RwSignal<Shot>, up: bool, button: Element| {
        let id = shot.with_untracked(|s| s.id.clone());
        model.move_shot(&id, up, ui_lang.get_untracked());
        // The card's node moves in the list and loses the focus: give it back after the move.
        if let Ok(button) = button.dyn_into::<HtmlElement>() {
            request_animation_frame(move || {
                let _ = button.focus();
            });
        }
    };
    let on_input = move |ev: web_sys::Event| {
        let Some(element) = target(&ev) else {
            return;
        };
        let Some(field) = element.get_attribute("data-field") else {
            return;
        };
        if let (Some(value), Some(shot)) = (field_value(element.clone()), card(&ev)) {
            apply_field(model, shot, &field, value);
        }
        // A status picked: the list goes, and the focus returns to the status button.
        if ev.type_() == "change"
            && element.get_attribute("data-testid").as_deref() == Some("shot-status-select")
        {
            let button = element.previous_element_sibling();
            close_status_picker(&element);
            if let Some(button) = button.and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                let _ = button.focus();
            }
        }
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        let button = target(&ev).and_then(|t| t.closest("[data-action]").ok().flatten());
        let (Some(button), Some(shot)) = (button, card(&ev)) else {
            return;
        };
        let lang = ui_lang.get_untracked();
        match button.get_attribute("data-action").as_deref() {
            Some("status") => open_status_picker(&button, lang),
            Some("up") => moved(shot, true, button),
            Some("down") => moved(shot, false, button),
            Some("delete") if button.has_attribute("data-armed") => {
                let id = shot.with_untracked(|s| s.id.clone());
                model.remove_shot(&id);
            }
            Some("delete") => {
                let _ = button.set_attribute("data-armed", "true");
                button.set_text_content(Some(lang.pick(SURE.0, SURE.1)));
            }
            _ => {}
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        // Enter does not break a one-line field.
        let one_line = target(&ev).is_some_and(|t| {
            t.has_attribute("data-field")
                && t.get_attribute("aria-multiline").as_deref() == Some("false")
        });
        if one_line && ev.key() == "Enter" {
            ev.prevent_default();
            return;
        }
        let handle =
            target(&ev).filter(|t| t.get_attribute("data-action").as_deref() == Some("handle"));
        let (Some(handle), Some(shot)) = (handle, card(&ev)) else {
            return;
        };
        if !ev.alt_key() {
            return;
        }
        let up = match ev.key().as_str() {
            "ArrowUp" => true,
            "ArrowDown" => false,
            _ => return,
        };
        ev.prevent_default();
        moved(shot, up, handle);
    };
    // Leaving an armed delete button cancels; leaving a status list closes it.
    let on_focus_out = move |ev: web_sys::FocusEvent| {
        if let Some(select) = target(&ev)
            .filter(|t| t.get_attribute("data-testid").as_deref() == Some("shot-status-select"))
        {
            // After the focus has moved (removing the focused element mid-event would move it
            // again, to the page).
            request_animation_frame(move || {
                if select.is_connected() {
                    close_status_picker(&select);
                }
            });
            return;
        }
        if let Some(button) = target(&ev).filter(|t| t.has_attribute("data-armed")) {
            let _ = button.remove_attribute("data-armed");
            let lang = ui_lang.get_untracked();
            button.set_text_content(Some(lang.pick(DELETE.0, DELETE.1)));
        }
    };
    view! {
        <div
            class="ds-shot-grid"
            on:input=on_input
            on:change=on_input
            on:click=on_click
            on:keydown=on_key
            on:focusout=on_focus_out
        >
            {move || {
                let lang = ui_lang.get();
                view! {
                    <For each=move || shot_ids.get() key=|id| id.clone() let:id>
                        {model.shot_signal(&id).map(|shot| view! { <ShotCard shot lang read_only=model.read_only/> })}
                    </For>
                }
            }}
        </div>
    }
}
