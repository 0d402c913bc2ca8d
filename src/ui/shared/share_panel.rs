//! Sharing and exporting a storyboard: the link (optionally protected by a passphrase), the
//! `.duanju.json` file for storyboards too long for a chat link, the print-out and the exports
//! (shot-list CSV, Fountain, JSON, SRT), and the comments that came back in reviews.
//!
//! [`SharePanel`] is self-contained: give it the project and the part of it the user has
//! selected, and place it anywhere (the Studio editor, the `/view` page). [`LinkOutput`] shows a
//! made link; the viewer uses it for the link a collaborator sends back.
//!
//! Test ids: `share-scope-{project|episode|scene}`, `share-passphrase`, `share-create`,
//! `share-link`, `share-length`, `share-copy`, `share-too-long`, `share-file`, `export-print`,
//! `export-csv`, `export-fountain`, `export-json`, `export-srt`, `share-comments`, and the
//! print-out `print-sheet`.

use crate::domain::i18n::Lang;
use crate::domain::project::Project;
use crate::domain::share::{
    sealed_file_text, share_file_name, share_file_text, ShareError, SharePayload, ShareScope,
    ShotComment, Storyboard, LINK_FILE_THRESHOLD,
};
use crate::domain::storyboard::export::{fountain, shot_list_csv, srt};
use crate::ui::i18n::{t, use_lang};
use crate::ui::shared::storyboard_sheet::StoryboardSheet;
use crate::web::dom::format_time;
use crate::web::files::download_text;
use crate::web::share_link::{self, copy_to_clipboard, link_url, load_comments};
use crate::web::tabs;
use leptos::portal::Portal;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A link made for sharing: the payload it carries and its full URL.
#[derive(Clone, Debug, PartialEq)]
pub struct MadeLink {
    /// What the link carries.
    pub payload: SharePayload,
    /// The fragment (`ds1.…` or `ds1k.…`).
    pub fragment: String,
    /// Whether a passphrase protects it.
    pub sealed: bool,
}

impl MadeLink {
    /// The full URL.
    pub fn url(&self) -> String {
        link_url(&self.fragment)
    }

    /// The `.duanju.json` file that carries the same storyboard (the protected link itself
    /// when it has a passphrase, so the file is protected too).
    pub fn file_text(&self) -> String {
        if self.sealed {
            sealed_file_text(&self.fragment)
        } else {
            share_file_text(&self.payload)
        }
    }
}

/// The name of a scope, for the scope choice.
fn scope_label(project: &Project, scope: &ShareScope, lang: Lang) -> String {
    match scope {
        ShareScope::Project => lang.pick("整个分镜", "The whole storyboard").into(),
        ShareScope::Episode { id } => {
            let number = project
                .episodes
                .iter()
                .find(|e| e.id == *id)
                .map_or(0, |e| e.number);
            match lang {
                Lang::ZhCn => format!("第{number}集"),
                Lang::En => format!("Episode {number}"),
            }
        }
        ShareScope::Scene { id } => {
            let heading = project
                .scene(id)
                .map(|s| s.heading.clone())
                .unwrap_or_default();
            match lang {
                Lang::ZhCn => format!("本场：{heading}"),
                Lang::En => format!("This scene: {heading}"),
            }
        }
    }
}

fn scope_kind(scope: &ShareScope) -> &'static str {
    match scope {
        ShareScope::Project => "project",
        ShareScope::Episode { .. } => "episode",
        ShareScope::Scene { .. } => "scene",
    }
}

/// A file name from the project name and an extension.
fn export_name(project: &Project, extension: &str) -> String {
    let base = crate::domain::project::file::file_stem(&project.name, "storyboard");
    format!("{base}.{extension}")
}

/// Shares and exports a project's storyboard, in a scope the user chooses among the selected
/// scene, its episode and the whole storyboard.
#[component]
pub fn SharePanel(
    /// The project to share (the editor's current state).
    #[prop(into)]
    project: Signal<Project>,
    /// What the user has selected in the editor: a scene, an episode or the whole project. The
    /// panel offers that, the larger parts containing it, and the whole storyboard.
    #[prop(into)]
    scope: Signal<ShareScope>,
) -> impl IntoView {
    let lang = use_lang();
    let chosen = RwSignal::new(scope.get_untracked());
    // A new selection in the editor becomes the choice.
    Effect::new(move |_| chosen.set(scope.get()));
    let choices = Memo::new(move |_| project.with(|p| ShareScope::choices(p, &scope.get())));
    let effective = Memo::new(move |_| {
        let chosen = chosen.get();
        if choices.with(|c| c.contains(&chosen)) {
            chosen
        } else {
            ShareScope::Project
        }
    });
    let storyboard = Memo::new(move |_| {
        project.with(|p| Storyboard::of(p, &effective.get()).map_err(|e| e.message(Lang::En)))
    });
    let passphrase = RwSignal::new(String::new());
    let made = RwSignal::new(None::<MadeLink>);
    let error = RwSignal::new(None::<ShareError>);
    let busy = RwSignal::new(false);
    let printing = RwSignal::new(false);
    let comments = RwSignal::new(Vec::<ShotComment>::new());

    // A made link describes what was shared then: drop it when the choice changes.
    Effect::new(move |_| {
        effective.track();
        made.set(None);
    });
    let project_id = Memo::new(move |_| project.with(|p| p.id.clone()));
    Effect::new(move |_| {
        let id = project_id.get();
        spawn_local(async move {
            if let Ok(list) = load_comments(&id).await {
                comments.set(list);
            }
        });
    });

    let create = move |_| {
        let Ok(payload) = project.with_untracked(|p| {
            SharePayload::storyboard(p, &effective.get_untracked(), tabs::now_ms())
        }) else {
            error.set(Some(ShareError::ScopeNotFound));
            return;
        };
        let secret = passphrase.get_untracked();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match share_link::encode(&payload, &secret).await {
                Ok(fragment) => made.set(Some(MadeLink {
                    payload,
                    sealed: !secret.trim().is_empty(),
                    fragment,
                })),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let download = move |extension: &'static str, mime: &'static str, text: String| {
        let name = project.with_untracked(|p| export_name(p, extension));
        let _ = download_text(&name, mime, &text);
    };
    let with_board = move |f: &dyn Fn(&Storyboard) -> String| -> Option<String> {
        storyboard.with_untracked(|b| b.as_ref().ok().map(f))
    };
    let export_csv = move |_| {
        if let Some(text) = with_board(&|b| shot_list_csv(b, lang.get_untracked())) {
            download("shots.csv", "text/csv;charset=utf-8", text);
        }
    };
    let export_fountain = move |_| {
        if let Some(text) = with_board(&|b| fountain(b, lang.get_untracked())) {
            download("fountain", "text/plain;charset=utf-8", text);
        }
    };
    let export_srt = move |_| {
        if let Some(text) = with_board(&srt) {
            download("srt", "application/x-subrip;charset=utf-8", text);
        }
    };
    let export_json = move |_| {
        let payload = project.with_untracked(|p| {
            SharePayload::storyboard(p, &effective.get_untracked(), tabs::now_ms())
        });
        if let Ok(payload) = payload {
            let _ = download_text(
                &share_file_name(&payload),
                "application/json",
                &share_file_text(&payload),
            );
        }
    };
    let print = move |_| {
        printing.set(true);
        set_print_mode(true);
        // Print once the sheet is in the page.
        request_animation_frame(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.print();
            }
        });
    };
    on_cleanup(|| set_print_mode(false));

    let scope_options = move || {
        let lang = lang.get();
        choices
            .get()
            .into_iter()
            .map(|choice| {
                let label = project.with(|p| scope_label(p, &choice, lang));
                let checked = {
                    let choice = choice.clone();
                    move || effective.get() == choice
                };
                let kind = scope_kind(&choice);
                view! {
                    <label class="ds-check">
                        <input
                            type="radio"
                            name="ds-share-scope"
                            data-testid=format!("share-scope-{kind}")
                            prop:checked=checked
                            on:change=move |_| chosen.set(choice.clone())
                        />
                        {label}
                    </label>
                }
            })
            .collect_view()
    };

    view! {
        <section class="ds-card ds-share" data-testid="share-panel" aria-labelledby="ds-share-title">
            <h2 id="ds-share-title">{t("分享与导出", "Share and export")}</h2>
            <fieldset class="ds-fieldset">
                <legend>{t("分享范围", "What to share")}</legend>
                {scope_options}
            </fieldset>
            <p class="ds-field__hint" data-testid="share-summary">{move || {
                let lang = lang.get();
                storyboard.with(|b| match b {
                    Ok(b) => match lang {
                        Lang::ZhCn => format!("{} 场 · {} 个镜头", b.scene_count(), b.shots().count()),
                        Lang::En => format!("{} scenes · {} shots", b.scene_count(), b.shots().count()),
                    },
                    Err(_) => ShareError::ScopeNotFound.message(lang),
                })
            }}</p>

            <h3>{t("分享链接", "Share link")}</h3>
            <p class="ds-field__hint">{t(
                "链接里只有分镜本身：不含 API 密钥、账本、费用或视频片段。对方无需安装、账号或密钥即可打开。",
                "The link holds the storyboard only: no API key, ledger, costs or clips. It opens with no install, account or key.",
            )}</p>
            <label class="ds-field">
                <span class="ds-field__label">{t("口令（可选）", "Passphrase (optional)")}</span>
                <input
                    type="password"
                    autocomplete="new-password"
                    data-testid="share-passphrase"
                    prop:value=move || passphrase.get()
                    on:input=move |ev| { passphrase.set(event_target_value(&ev)); made.set(None); }
                />
                <span class="ds-field__hint">{t(
                    "设置口令后，链接用 AES-GCM 加密；口令请通过其他渠道告诉对方。",
                    "With a passphrase the link is encrypted (AES-GCM); tell the passphrase through another channel.",
                )}</span>
            </label>
            <p class="ds-actions">
                <button type="button" class="ds-btn" data-testid="share-create" disabled=move || busy.get() || storyboard.with(Result::is_err) on:click=create>
                    {move || if busy.get() { lang.get().pick("正在生成…", "Creating…") } else { lang.get().pick("生成分享链接", "Create share link") }}
                </button>
            </p>
            {move || error.get().map(|e| view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="share-error">{e.message(lang.get())}</p>
            })}
            {move || made.get().map(|link| view! { <LinkOutput link/> })}

            <h3>{t("导出", "Export")}</h3>
            <p class="ds-actions ds-share__exports">
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="export-print" on:click=print>{t("打印分镜", "Print storyboard")}</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="export-csv" on:click=export_csv>{t("镜头表 CSV", "Shot list CSV")}</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="export-fountain" on:click=export_fountain>"Fountain"</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="export-json" on:click=export_json>"JSON (.duanju.json)"</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="export-srt" on:click=export_srt>{t("字幕 SRT", "Subtitles SRT")}</button>
            </p>
            <p class="ds-field__hint">{t(
                "SRT：每场的时长是其镜头时长之和；选定台词按字数比例分布在这一场的时长内，没有选定台词的场景用各镜头自己的台词。",
                "SRT: each scene lasts the sum of its shots; the picked take's lines share that time in proportion to their length, and scenes without a picked take use each shot's own dialogue.",
            )}</p>

            <details class="ds-share__comments" data-testid="share-comments">
                <summary>{move || match lang.get() {
                    Lang::ZhCn => format!("协作者的评论（{}）", comments.with(Vec::len)),
                    Lang::En => format!("Comments from collaborators ({})", comments.with(Vec::len)),
                }}</summary>
                <ul class="ds-comments">
                    {move || {
                        let lang = lang.get();
                        project.with(|p| comments.get().into_iter().map(|c| {
                            let shot = p.shot(&c.shot_id).map(|s| s.number.clone()).unwrap_or_else(|| "?".into());
                            view! {
                                <li class="ds-comment">
                                    <span class="ds-comment__meta">
                                        <strong>{c.author}</strong> " · " {format_time(c.time_ms, lang)} " · "
                                        {lang.pick("镜头", "Shot")} " " {shot}
                                    </span>
                                    <span class="ds-pre">{c.text}</span>
                                </li>
                            }
                        }).collect_view())
                    }}
                </ul>
            </details>
        </section>
        <Show when=move || printing.get()>
            <Portal>
                <div class="ds-print-sheet" data-testid="print-sheet">
                    {move || storyboard.get().ok().map(|board| view! { <StoryboardSheet board/> })}
                </div>
            </Portal>
        </Show>
    }
}

/// Marks the document so the print rules print the storyboard sheet alone.
fn set_print_mode(on: bool) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = if on {
        root.set_attribute("data-print", "sheet")
    } else {
        root.remove_attribute("data-print")
    };
}

/// A made link: the URL to copy, its length, and above ~8 KB the advice to send the
/// `.duanju.json` file instead (which is always offered).
#[component]
pub fn LinkOutput(
    /// The link.
    link: MadeLink,
) -> impl IntoView {
    let lang = use_lang();
    let url = link.url();
    let length = url.chars().count();
    let too_long = length > LINK_FILE_THRESHOLD;
    let copied = RwSignal::new(None::<bool>);
    let copy = {
        let url = url.clone();
        move |_| {
            let url = url.clone();
            spawn_local(async move { copied.set(Some(copy_to_clipboard(&url).await)) });
        }
    };
    let file_name = share_file_name(&link.payload);
    let file_text = link.file_text();
    let download = move |_| {
        let _ = download_text(&file_name, "application/json", &file_text);
    };
    let length_text = move || match lang.get() {
        Lang::ZhCn => format!("链接长度：{length} 个字符"),
        Lang::En => format!("Link length: {length} characters"),
    };
    view! {
        <div class="ds-link" data-testid="link-output">
            <label class="ds-field">
                <span class="ds-field__label">{t("分享链接", "Share link")}</span>
                <input type="text" readonly data-testid="share-link" prop:value=url.clone() on:focus=move |ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                }/>
            </label>
            <p class="ds-link__meta">
                <span data-testid="share-length" data-length=length.to_string()>{length_text}</span>
                {link.sealed.then(|| view! { " · " <span class="ds-tag">{t("已加密", "Protected")}</span> })}
            </p>
            {too_long.then(|| view! {
                <p class="ds-alert ds-alert--warn" data-testid="share-too-long">{move || match lang.get() {
                    Lang::ZhCn => format!("链接超过 {} KB，微信等聊天软件可能截断它：建议改为发送分享文件（.duanju.json），对方在「分镜查看」页打开即可。", LINK_FILE_THRESHOLD / 1024),
                    Lang::En => format!("The link is over {} KB and chat apps may cut it: send the share file (.duanju.json) instead; it opens in the viewer page.", LINK_FILE_THRESHOLD / 1024),
                }}</p>
            })}
            <p class="ds-actions">
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="share-copy" on:click=copy>{t("复制链接", "Copy link")}</button>
                <a class="ds-btn ds-btn--ghost" href=url target="_blank" rel="noopener" data-testid="share-open">{t("打开链接", "Open link")}</a>
                <button type="button" class=if too_long { "ds-btn" } else { "ds-btn ds-btn--ghost" } data-testid="share-file" on:click=download>{t("下载分享文件", "Download share file")}</button>
            </p>
            {move || copied.get().map(|ok| view! {
                <p class=if ok { "ds-alert ds-alert--ok" } else { "ds-alert ds-alert--warn" } role="status">
                    {if ok { lang.get().pick("已复制。", "Copied.") } else { lang.get().pick("浏览器不允许复制：请选中上面的链接后按 Ctrl+C。", "The browser refused: select the link above and press Ctrl+C.") }}
                </p>
            })}
        </div>
    }
}
