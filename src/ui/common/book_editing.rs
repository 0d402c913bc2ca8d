//! What the catalog, profile and route editors share: the one way they change the price book
//! ([`edit_book`]), a text field bound to one value of the book ([`BookField`]), the refusal it
//! shows ([`FieldError`]) and a button that asks before it acts ([`ConfirmButton`]).
//!
//! *Invariant:* the book only ever holds valid values. An edit is applied to a copy and the
//! copy replaces the book only when the domain accepts it; a refused text stays in its field
//! with a message beside it, and the book keeps its last valid value.

use crate::domain::cost::estimate::PriceBook;
use crate::domain::i18n::Lang;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::AppState;
use leptos::prelude::*;

/// Applies `edit` to a copy of the book and keeps the copy only if the edit succeeds and
/// changes something: a refused edit leaves the book exactly as it was, without a write. A kept
/// edit is stored merged into the stored book ([`AppState::save_book`]), so an edit another tab
/// made meanwhile stays.
pub fn edit_book<E>(
    state: AppState,
    edit: impl FnOnce(&mut PriceBook) -> Result<(), E>,
) -> Result<(), E> {
    let mut draft = state.book.get_untracked();
    edit(&mut draft)?;
    if state.book.with_untracked(|current| *current != draft) {
        state.book.set(draft);
        state.save_book();
    }
    Ok(())
}

/// Why a field's text was refused, worded in both languages when it happened so that the
/// message follows a later language switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    zh: String,
    en: String,
}

impl FieldError {
    /// Words the refusal with `message`, usually a domain error's `message`.
    pub fn new(message: impl Fn(Lang) -> String) -> FieldError {
        FieldError {
            zh: message(Lang::ZhCn),
            en: message(Lang::En),
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// A value that can be used in an element id: whitespace becomes `_`.
pub fn dom_id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// What the user typed, and the book's value (as text) it was typed against.
#[derive(Clone, Debug, PartialEq)]
struct Draft {
    text: String,
    base: String,
    error: Option<FieldError>,
}

/// A text input bound to one value of the price book.
///
/// It shows the book's value. Every keystroke goes through `commit`, which parses the text
/// with the domain and stores it, or says why not: a refused text stays in the field, marked
/// `ds-field--invalid` with its message in a `ds-field__error` (test id `<testid>-error`),
/// while the book keeps its last valid value. Leaving a valid field shows the book's own
/// spelling of the value; when the book changes elsewhere (a reset, an import) the field
/// shows the new value and drops its draft.
#[component]
pub fn BookField(
    /// The input's element id.
    #[prop(into)]
    id: String,
    /// The input's `data-testid`.
    #[prop(into)]
    testid: String,
    /// The accessible name: a visible `<label>` or, in a table cell, the `aria-label`.
    #[prop(into)]
    label: Signal<String>,
    /// Shows the label above the input instead of only naming the input.
    #[prop(optional)]
    visible_label: bool,
    /// The book's value as text.
    #[prop(into)]
    current: Signal<String>,
    /// Parses and stores a text, or says why not.
    #[prop(into)]
    commit: Callback<String, Result<(), FieldError>>,
    /// Shown while the field is empty.
    #[prop(optional)]
    placeholder: Option<&'static str>,
    /// The `inputmode` hint (`decimal` for prices) for on-screen keyboards.
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(None::<Draft>);
    // A draft counts only while the book still holds the value it was typed against.
    let live = Memo::new(move |_| draft.get().filter(|draft| draft.base == current.get()));
    let value = move || {
        live.with(|draft| draft.as_ref().map(|draft| draft.text.clone()))
            .unwrap_or_else(|| current.get())
    };
    let error = Memo::new(move |_| live.with(|draft| draft.as_ref()?.error.clone()));
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        let error = commit.run(text.clone()).err();
        draft.set(Some(Draft {
            text,
            base: current.get_untracked(),
            error,
        }));
    };
    let on_change = move |_| {
        if error.with_untracked(Option::is_none) {
            draft.set(None);
        }
    };
    let error_id = format!("{id}-error");
    let error_testid = format!("{testid}-error");
    let described_by = {
        let error_id = error_id.clone();
        move || error.with(Option::is_some).then(|| error_id.clone())
    };
    let class = move || {
        if error.with(Option::is_some) {
            "ds-field ds-editor__field ds-field--invalid"
        } else {
            "ds-field ds-editor__field"
        }
    };
    let visible = visible_label.then(|| {
        let id = id.clone();
        view! { <label for=id>{move || label.get()}</label> }
    });
    view! {
        <div class=class>
            {visible}
            <input
                type="text"
                id=id
                data-testid=testid
                placeholder=placeholder
                inputmode=inputmode
                autocomplete="off"
                aria-label=move || (!visible_label).then(|| label.get())
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=described_by
                prop:value=value
                on:input=on_input
                on:change=on_change
            />
            {move || {
                error
                    .get()
                    .map(|error| {
                        view! {
                            <span
                                class="ds-field__error"
                                id=error_id.clone()
                                data-testid=error_testid.clone()
                            >
                                {move || error.message(lang.get()).to_owned()}
                            </span>
                        }
                    })
            }}
        </div>
    }
}

/// A button that asks before it acts: the first click turns it into "确定？/Sure?" and shows
/// a cancel button (test id `<testid>-cancel`); the second click runs `on_confirm`.
#[component]
pub fn ConfirmButton(
    /// The button's `data-testid`.
    #[prop(into)]
    testid: String,
    /// What the button does, e.g. "Reset prices".
    #[prop(into)]
    label: Signal<&'static str>,
    /// Runs on the confirming click.
    #[prop(into)]
    on_confirm: Callback<()>,
) -> impl IntoView {
    let armed = RwSignal::new(false);
    let sure = t("确定？再点一次", "Sure? Click again");
    let click = move |_| {
        if armed.get_untracked() {
            armed.set(false);
            on_confirm.run(());
        } else {
            armed.set(true);
        }
    };
    let text = move || if armed.get() { sure() } else { label.get() };
    let cancel_testid = format!("{testid}-cancel");
    view! {
        <span class="ds-editor__confirm">
            <button
                type="button"
                class="ds-btn ds-btn--ghost ds-btn--small"
                data-testid=testid
                aria-live="polite"
                on:click=click
            >
                {text}
            </button>
            <Show when=move || armed.get()>
                <button
                    type="button"
                    class="ds-btn ds-btn--ghost ds-btn--small"
                    data-testid=cancel_testid.clone()
                    on:click=move |_| armed.set(false)
                >
                    {t("取消", "Cancel")}
                </button>
            </Show>
        </span>
    }
}
