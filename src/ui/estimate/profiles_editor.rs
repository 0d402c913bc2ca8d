//! The profiles editor: each profile's price set, exchange rate and markup.
//!
//! Rates go through [`ExchangeRate::parse`], markups through [`Percent::parse`], and every edit
//! is checked with [`Profile::problems`]; a refused value is shown at its field and leaves the
//! book unchanged.

use crate::domain::cost::money::{format_decimal, Percent};
use crate::domain::cost::profile::{ExchangeRate, Profile, ProfileError};
use crate::domain::i18n::Lang;
use crate::ui::common::book_editing::{dom_id, edit_book, BookField, FieldError};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, AppState};
use leptos::prelude::*;

/// The profiles editor: one row per profile with its name, base URL, price set, exchange rate
/// (the relay's ¥1 = $1, the market's ¥7.3, or a custom rate) and markup.
#[component]
pub fn ProfilesEditor() -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let ids = Memo::new(move |_| {
        book.with(|book| {
            book.profiles
                .iter()
                .map(|profile| profile.id.clone())
                .collect::<Vec<_>>()
        })
    });
    view! {
        <div class="ds-editor" data-testid="profiles-editor">
            <div class="ds-editor__scroll">
                <table class="ds-table ds-editor__table">
                    <caption class="ds-visually-hidden">{t("供应商配置", "Provider profiles")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("配置", "Profile")}</th>
                            <th scope="col">{t("接口地址", "Base URL")}</th>
                            <th scope="col">{t("价格表", "Price set")}</th>
                            <th scope="col">{t("汇率（每 $1 的人民币）", "Exchange rate (¥ per $1)")}</th>
                            <th scope="col">{t("加价 %", "Markup %")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || ids.get()
                            key=|id| id.clone()
                            children=move |id| view! { <ProfileRow id/> }
                        />
                    </tbody>
                </table>
            </div>
        </div>
    }
}

/// One profile's row.
#[component]
fn ProfileRow(id: String) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let profile = {
        let id = id.clone();
        Memo::new(move |_| book.with(|book| book.profile(&id).cloned()))
    };
    let read = move |part: fn(&Profile) -> String| {
        move || profile.with(|profile| profile.as_ref().map(part).unwrap_or_default())
    };
    let rate = Memo::new(move |_| profile.with(|p| p.as_ref().map(|p| p.exchange_rate)));
    let named = |zh: &'static str, en: &'static str| {
        let name = read(|profile| profile.name.clone());
        Signal::derive(move || format!("{} {}", name(), lang.get().pick(zh, en)))
    };

    let commit_rate = {
        let id = id.clone();
        move |text: String| {
            ExchangeRate::parse(&text)
                .and_then(|rate| edit_profile(state, &id, |profile| profile.exchange_rate = rate))
                .map_err(|error| FieldError::new(|lang| error.message(lang)))
        }
    };
    let commit_markup = {
        let id = id.clone();
        move |text: String| {
            let markup = if text.trim().is_empty() {
                Ok(Percent::ZERO)
            } else {
                Percent::parse(&text)
            };
            let markup = markup.map_err(|error| {
                FieldError::new(|lang| match lang {
                    Lang::ZhCn => format!("加价比例{}", error.message(lang)),
                    Lang::En => format!("the markup {}", error.message(lang)),
                })
            })?;
            edit_profile(state, &id, |profile| profile.markup = markup)
                .map_err(|error| FieldError::new(|lang| error.message(lang)))
        }
    };
    let rate_is = move |preset: ExchangeRate| rate.get() == Some(preset);
    let preset = |rate: ExchangeRate, testid: String, zh: &'static str, en: &'static str| {
        let id = id.clone();
        view! {
            <button
                type="button"
                class="ds-btn ds-btn--ghost ds-btn--small"
                data-testid=testid
                aria-pressed=move || if rate_is(rate) { "true" } else { "false" }
                on:click=move |_| {
                    let _ = edit_profile(state, &id, |profile| profile.exchange_rate = rate);
                }
            >
                {t(zh, en)}
            </button>
        }
    };

    view! {
        <tr data-testid=format!("profile-row-{id}")>
            <th scope="row">{read(|profile| profile.name.clone())}</th>
            <td class="ds-mono" data-testid=format!("profile-base-url-{id}")>
                {read(|profile| profile.base_url.clone())}
            </td>
            <td>
                <PriceSetSelect id=id.clone() profile label=named("的价格表", "price set")/>
            </td>
            <td>
                <div class="ds-editor__presets" role="group" aria-label=named("的汇率预设", "rate presets")>
                    {preset(ExchangeRate::RELAY, format!("profile-rate-relay-{id}"), "¥1 = $1（中转）", "¥1 = $1 (relay)")}
                    {preset(ExchangeRate::MARKET, format!("profile-rate-market-{id}"), "¥7.3（市场）", "¥7.3 (market)")}
                </div>
                <BookField
                    id=dom_id(&format!("profile-rate-{id}"))
                    testid=format!("profile-rate-{id}")
                    label=named("的自定义汇率（每 $1 的人民币）", "custom exchange rate (¥ per $1)")
                    current=Signal::derive(move || rate.get().map(|rate| rate.cny_per_usd().to_decimal()).unwrap_or_default())
                    commit=commit_rate
                    inputmode="decimal"
                />
                <span class="ds-field__hint" data-testid=format!("profile-rate-display-{id}")>
                    {move || rate.get().map(ExchangeRate::display)}
                </span>
            </td>
            <td>
                <BookField
                    id=dom_id(&format!("profile-markup-{id}"))
                    testid=format!("profile-markup-{id}")
                    label=named("的加价比例（%，留空为 0）", "markup (%, blank is 0)")
                    current=Signal::derive(read(|profile| markup_text(profile.markup)))
                    commit=commit_markup
                    placeholder="0"
                    inputmode="decimal"
                />
            </td>
        </tr>
    }
}

/// The price set a profile uses; a set the book no longer has stays listed, marked missing.
#[component]
fn PriceSetSelect(
    id: String,
    profile: Memo<Option<Profile>>,
    label: Signal<String>,
) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let chosen = Memo::new(move |_| {
        profile.with(|profile| {
            profile
                .as_ref()
                .map(|p| p.price_set.clone())
                .unwrap_or_default()
        })
    });
    // (id, name, missing from the book)
    let options = Memo::new(move |_| {
        let chosen = chosen.get();
        book.with(|book| {
            let mut options = book
                .price_sets
                .iter()
                .map(|set| (set.id.clone(), set.name.clone(), false))
                .collect::<Vec<_>>();
            if book.price_set(&chosen).is_none() {
                options.push((chosen.clone(), chosen, true));
            }
            options
        })
    });
    let change = {
        let id = id.clone();
        move |ev| {
            let set = event_target_value(&ev);
            let _ = edit_profile(state, &id, |profile| profile.price_set = set);
        }
    };
    view! {
        <select
            id=dom_id(&format!("profile-set-{id}"))
            data-testid=format!("profile-set-{id}")
            aria-label=move || label.get()
            on:change=change
        >
            <For
                each=move || options.get()
                key=|option| option.clone()
                children=move |(set, name, missing)| {
                    let value = set.clone();
                    let text = move || {
                        if missing {
                            format!("{name} ({})", lang.get().pick("不存在", "missing"))
                        } else {
                            name.clone()
                        }
                    };
                    view! {
                        <option value=value prop:selected=move || chosen.with(|c| *c == set)>
                            {text}
                        </option>
                    }
                }
            />
        </select>
    }
}

/// A markup as typed: `12.5` (the field's label says it is a percentage).
fn markup_text(markup: Percent) -> String {
    format_decimal(i128::from(markup.basis_points), 2)
}

/// Changes one profile; refused when the change gives it a problem it did not have.
fn edit_profile(
    state: AppState,
    id: &str,
    change: impl FnOnce(&mut Profile),
) -> Result<(), ProfileError> {
    edit_book(state, |book| {
        let Some(profile) = book.profiles.iter_mut().find(|profile| profile.id == id) else {
            return Ok(());
        };
        let before = profile.problems();
        change(profile);
        match profile
            .problems()
            .into_iter()
            .find(|problem| !before.contains(problem))
        {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    })
}
