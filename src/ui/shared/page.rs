//! The shared-storyboard viewer (`/view#…`), and without a link, the place to open a share
//! file and to share a storyboard from the drafts.
//!
//! **Opening.** The link's fragment is decoded when the page opens and whenever it changes
//! ([`crate::web::share_link::decode`]); a protected link first asks for its passphrase. A
//! `.duanju.json` file (or a project export) opens by drag and drop or the file picker. A link
//! or file that fails any check shows its error and changes nothing.
//!
//! **Reading.** Every scene in order, every shot as a card with a 9:16 frame and every field,
//! in the UI language of the reader's choice ([`StoryboardSheet`]). "Save a copy" imports the
//! storyboard into the drafts as a new project (`Drafts::import` with `ImportMode::Copy`).
//!
//! **Reviewing.** "Edit and comment" turns the cards into editors: the reviewer changes fields,
//! comments on shots under their name, and "Create link to send back" makes a review link
//! ([`SharePayload::review`]). Opening a link of a project already in the drafts offers the
//! merge ([`MergeView`]).
//!
//! Test ids: `page-view`, `view-error`, `view-title`, `view-kind`, `view-save-copy`,
//! `view-saved`, `view-download`, `view-print`, `view-review`, `review-author`,
//! `review-edit-count`, `review-passphrase`, `review-send`, `view-passphrase`, `view-unlock`,
//! `view-file`, `view-drop`, `view-link-input`, `view-link-open`, `drafts-select`,
//! `hub-scope`, `draft-preview`.

use crate::domain::i18n::Lang;
use crate::domain::project::{Project, ProjectMeta};
use crate::domain::share::{
    read_share_file, share_file_name, share_file_text, ShareError, ShareFile, ShareKind,
    SharePayload, ShareScope, Storyboard, MAX_PAYLOAD_BYTES,
};
use crate::ui::i18n::{t, use_lang};
use crate::ui::shared::merge_view::MergeView;
use crate::ui::shared::share_panel::{LinkOutput, MadeLink, SharePanel};
use crate::ui::shared::storyboard_sheet::{ReviewDraft, StoryboardSheet};
use crate::web::dom;
use crate::web::dom::format_time;
use crate::web::drafts::{Drafts, ImportMode};
use crate::web::files::{download_text, picked_file, read_text};
use crate::web::share_link;
use crate::web::tabs;
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

/// What the page shows.
#[derive(Clone, Debug, PartialEq)]
enum Opened {
    /// No link: the hub.
    Nothing,
    /// Decoding.
    Opening,
    /// A protected link (or file) waiting for its passphrase.
    Locked {
        /// The link or fragment.
        link: String,
        /// The last failure (a wrong passphrase).
        error: Option<ShareError>,
    },
    /// A link or file that failed a check.
    Failed(ShareError),
    /// A storyboard.
    Shown(Box<SharePayload>),
}

/// The drafts of this page, opened once.
type DraftsCell = StoredValue<Option<Drafts>, LocalStorage>;

/// Opens a storyboard someone shared by link or file, read-only first, with no key and no
/// account; or, without a link, opens a share file and shares a storyboard from the drafts.
#[component]
pub fn SharedViewPage() -> impl IntoView {
    let lang = use_lang();
    let opened = RwSignal::new(Opened::Nothing);
    let drafts: DraftsCell = StoredValue::new_local(None);
    let drafts_ready = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(d) = Drafts::open().await {
            drafts.set_value(Some(d));
        }
        drafts_ready.set(true);
    });

    let open_link = move |text: String| {
        if share_link::is_sealed(&text) {
            opened.set(Opened::Locked {
                link: text,
                error: None,
            });
            return;
        }
        opened.set(Opened::Opening);
        spawn_local(async move {
            opened.set(match share_link::decode(&text, None).await {
                Ok(payload) => Opened::Shown(Box::new(payload)),
                Err(e) => Opened::Failed(e),
            });
        });
    };
    let open_fragment = move || match dom::fragment() {
        Some(fragment) => open_link(fragment),
        None => opened.set(Opened::Nothing),
    };
    open_fragment();
    let listener = window_event_listener(ev::hashchange, move |_| open_fragment());
    on_cleanup(move || listener.remove());

    let open_file = move |file: web_sys::File| {
        opened.set(Opened::Opening);
        spawn_local(async move {
            let lang = lang.get_untracked();
            let text = match read_text(&file, MAX_PAYLOAD_BYTES as f64).await {
                Ok(text) => text,
                Err(e) => {
                    let _ = e.message(lang);
                    opened.set(Opened::Failed(ShareError::TooLarge {
                        cap: MAX_PAYLOAD_BYTES,
                    }));
                    return;
                }
            };
            opened.set(match read_share_file(&text, tabs::now_ms()) {
                Ok(ShareFile::Payload(payload)) => Opened::Shown(payload),
                Ok(ShareFile::Sealed(link)) => Opened::Locked { link, error: None },
                Err(e) => Opened::Failed(e),
            });
        });
    };

    let body = move || match opened.get() {
        Opened::Nothing => view! { <Hub drafts drafts_ready open_file/> }.into_any(),
        Opened::Opening => view! {
            <p role="status" data-testid="view-opening">{t("正在打开…", "Opening…")}</p>
        }
        .into_any(),
        Opened::Failed(error) => view! {
            <div class="ds-alert ds-alert--error" role="alert" data-testid="view-error">
                {move || error.message(lang.get())}
            </div>
            <Hub drafts drafts_ready open_file/>
        }
        .into_any(),
        Opened::Locked { link, error } => view! { <Unlock link error opened/> }.into_any(),
        Opened::Shown(payload) => {
            view! { <Viewer payload=*payload drafts drafts_ready/> }.into_any()
        }
    };

    view! {
        <section class="ds-page" data-testid="page-view">
            {body}
        </section>
    }
}

/// Asks for the passphrase of a protected link.
#[component]
fn Unlock(link: String, error: Option<ShareError>, opened: RwSignal<Opened>) -> impl IntoView {
    let lang = use_lang();
    let passphrase = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let link = StoredValue::new(link);
    let unlock = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let text = link.get_value();
        let secret = passphrase.get_untracked();
        spawn_local(async move {
            let result = share_link::decode(&text, Some(&secret)).await;
            busy.set(false);
            opened.set(match result {
                Ok(payload) => Opened::Shown(Box::new(payload)),
                Err(e @ (ShareError::WrongPassphrase | ShareError::NeedsPassphrase)) => {
                    Opened::Locked {
                        link: text,
                        error: Some(e),
                    }
                }
                Err(e) => Opened::Failed(e),
            });
        });
    };
    view! {
        <h1>{t("受口令保护的分镜", "A protected storyboard")}</h1>
        <p class="ds-lead">{t("请输入分享者告诉你的口令。", "Enter the passphrase the sender told you.")}</p>
        {error.map(|e| view! {
            <div class="ds-alert ds-alert--error" role="alert" data-testid="view-error">{move || e.message(lang.get())}</div>
        })}
        <form class="ds-card ds-unlock" on:submit=unlock>
            <label class="ds-field">
                <span class="ds-field__label">{t("口令", "Passphrase")}</span>
                <input type="password" autocomplete="off" data-testid="view-passphrase"
                    prop:value=move || passphrase.get()
                    on:input=move |ev| passphrase.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="ds-btn" data-testid="view-unlock" disabled=move || busy.get()>
                {move || if busy.get() { lang.get().pick("正在解开…", "Unlocking…") } else { lang.get().pick("打开", "Open") }}
            </button>
        </form>
    }
}

/// A storyboard from a link or file: read it, save a copy, review it, or merge it.
#[component]
fn Viewer(
    payload: SharePayload,
    drafts: DraftsCell,
    drafts_ready: RwSignal<bool>,
) -> impl IntoView {
    let lang = use_lang();
    let review = ReviewDraft::new(&payload.storyboard, payload.comments.clone());
    let incoming = StoredValue::new(payload.clone());
    let local = RwSignal::new(None::<Project>);
    let saved = RwSignal::new(None::<Result<String, String>>);
    let made = RwSignal::new(None::<MadeLink>);
    let send_error = RwSignal::new(None::<String>);
    let passphrase = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    // A link of a project already in the drafts offers the merge.
    let project_id = payload.storyboard.project_id.clone();
    Effect::new(move |_| {
        if !drafts_ready.get() {
            return;
        }
        let Some(d) = drafts.get_value() else {
            return;
        };
        let id = project_id.clone();
        spawn_local(async move {
            if let Ok(project) = d.load(&id).await {
                if !project.is_in_trash() {
                    local.set(Some(project));
                }
            }
        });
    });

    let save_copy = move |_| {
        let lang = lang.get_untracked();
        let Some(d) = drafts.get_value() else {
            saved.set(Some(Err(lang
                .pick("无法打开本地草稿。", "The drafts could not be opened.")
                .into())));
            return;
        };
        let board = review.edited();
        let text = board.project_file_text(tabs::now_ms(), d.tab_id());
        busy.set(true);
        spawn_local(async move {
            let result = d.import(&text, ImportMode::Copy, lang).await;
            busy.set(false);
            saved.set(Some(match result {
                Ok(metas) => Ok(match lang {
                    Lang::ZhCn => format!(
                        "已另存为新草稿「{}」。",
                        metas
                            .first()
                            .map_or(board.name.as_str(), |m| m.name.as_str())
                    ),
                    Lang::En => format!(
                        "Saved as a new draft, “{}”.",
                        metas
                            .first()
                            .map_or(board.name.as_str(), |m| m.name.as_str())
                    ),
                }),
                Err(e) => Err(e.message(lang)),
            }));
        });
    };

    let download = move |_| {
        let payload = incoming.get_value();
        let _ = download_text(
            &share_file_name(&payload),
            "application/json",
            &share_file_text(&payload),
        );
    };
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let send_back = move |_| {
        let lang = lang.get_untracked();
        let author = review.author.get_untracked();
        if author.trim().is_empty() {
            send_error.set(Some(
                lang.pick("请填写你的名字。", "Enter your name.").into(),
            ));
            return;
        }
        send_error.set(None);
        let back = incoming.with_value(|received| {
            SharePayload::review(
                received,
                &review.edited(),
                review.comments.get_untracked(),
                &author,
                tabs::now_ms(),
            )
        });
        let secret = passphrase.get_untracked();
        spawn_local(async move {
            match share_link::encode(&back, &secret).await {
                Ok(fragment) => made.set(Some(MadeLink {
                    payload: back,
                    sealed: !secret.trim().is_empty(),
                    fragment,
                })),
                Err(e) => send_error.set(Some(e.message(lang))),
            }
        });
    };

    let board = payload.storyboard.clone();
    let scope_text = {
        let board = board.clone();
        let scope = payload.scope.clone();
        move || scope.describe(&board.name, &board.episodes, lang.get())
    };
    let kind = payload.kind;
    let from = payload.from.clone();
    let sent = payload.sent_ms;
    let counts = {
        let (scenes, shots) = (board.scene_count(), board.shots().count());
        move || match lang.get() {
            Lang::ZhCn => format!("{scenes} 场 · {shots} 个镜头"),
            Lang::En => format!("{scenes} scenes · {shots} shots"),
        }
    };
    // The merge view stays as it opened (its plan is against the project as it was); after a
    // merge it reports the result instead of planning again.
    let merge_offer = move || {
        let project = local.get()?;
        let drafts = StoredValue::new_local(drafts.get_value()?);
        let incoming = incoming.get_value();
        Some(view! { <MergeView local=project incoming drafts/> })
    };

    view! {
        <header class="ds-view__header">
            <p class="ds-tag ds-noprint" data-testid="view-kind">{move || match (kind, lang.get()) {
                (ShareKind::Storyboard, l) => l.pick("分享的分镜", "Shared storyboard").to_owned(),
                (ShareKind::Review, Lang::ZhCn) => format!("{from} 发回的审阅"),
                (ShareKind::Review, Lang::En) => format!("Review sent back by {from}"),
            }}</p>
            <h1 data-testid="view-title">{board.name.clone()}</h1>
            <p class="ds-lead">
                {scope_text} " · " {counts} " · "
                {move || lang.get().pick("发送于 ", "sent ")} {move || format_time(sent, lang.get())}
            </p>
        </header>
        {merge_offer}
        <div class="ds-actions ds-noprint">
            <button type="button" class="ds-btn" data-testid="view-save-copy" disabled=move || busy.get() on:click=save_copy>
                {t("另存一份到我的草稿", "Save a copy to my drafts")}
            </button>
            <button type="button" class="ds-btn ds-btn--ghost" data-testid="view-review"
                aria-pressed=move || review.editing.get().to_string()
                on:click=move |_| review.editing.update(|e| *e = !*e)>
                {move || if review.editing.get() { lang.get().pick("结束修改", "Stop editing") } else { lang.get().pick("修改与评论", "Edit and comment") }}
            </button>
            <button type="button" class="ds-btn ds-btn--ghost" data-testid="view-download" on:click=download>
                {t("下载分享文件", "Download share file")}
            </button>
            <button type="button" class="ds-btn ds-btn--ghost" data-testid="view-print" on:click=print>
                {t("打印", "Print")}
            </button>
        </div>
        {move || saved.get().map(|result| match result {
            Ok(message) => view! {
                <p class="ds-alert ds-alert--ok ds-noprint" role="status" data-testid="view-saved">
                    {message} " " <A href="/studio">{move || lang.get().pick("在工作室中打开", "Open the Studio")}</A>
                </p>
            }.into_any(),
            Err(message) => view! { <p class="ds-alert ds-alert--error ds-noprint" role="alert" data-testid="view-save-error">{message}</p> }.into_any(),
        })}
        <Show when=move || review.editing.get()>
            <section class="ds-card ds-review-panel ds-noprint" aria-labelledby="ds-review-title">
                <h2 id="ds-review-title">{t("审阅：修改、评论、发回", "Review: edit, comment, send back")}</h2>
                <p class="ds-field__hint">{t(
                    "在下面的镜头卡片上修改字段、添加评论，然后生成链接发回给分享者；对方打开后可以逐字段合并。",
                    "Change fields and add comments on the cards below, then create a link to send back; the sender merges it field by field.",
                )}</p>
                <div class="ds-row">
                    <label class="ds-field">
                        <span class="ds-field__label">{t("你的名字", "Your name")}</span>
                        <input type="text" autocomplete="name" data-testid="review-author"
                            prop:value=move || review.author.get()
                            on:input=move |ev| review.author.set(event_target_value(&ev))/>
                    </label>
                    <label class="ds-field">
                        <span class="ds-field__label">{t("口令（可选）", "Passphrase (optional)")}</span>
                        <input type="password" autocomplete="new-password" data-testid="review-passphrase"
                            prop:value=move || passphrase.get()
                            on:input=move |ev| passphrase.set(event_target_value(&ev))/>
                    </label>
                </div>
                <p data-testid="review-edit-count">{move || {
                    let edits = review.edit_count();
                    let comments = review.comments.with(|c| c.len().saturating_sub(incoming.with_value(|p| p.comments.len())));
                    match lang.get() {
                        Lang::ZhCn => format!("{edits} 处修改 · {comments} 条新评论"),
                        Lang::En => format!("{edits} edits · {comments} new comments"),
                    }
                }}</p>
                <p class="ds-actions">
                    <button type="button" class="ds-btn" data-testid="review-send" on:click=send_back>
                        {t("生成发回链接", "Create link to send back")}
                    </button>
                </p>
                {move || send_error.get().map(|e| view! { <p class="ds-alert ds-alert--error" role="alert">{e}</p> })}
                {move || made.get().map(|link| view! { <LinkOutput link/> })}
            </section>
        </Show>
        <StoryboardSheet board review/>
    }
}

/// Without a link: open a share file or a pasted link, and share a storyboard from the drafts.
#[component]
fn Hub(
    drafts: DraftsCell,
    drafts_ready: RwSignal<bool>,
    open_file: impl Fn(web_sys::File) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let lang = use_lang();
    let pasted = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let list = RwSignal::new(Vec::<ProjectMeta>::new());
    let selected = RwSignal::new(None::<Project>);
    let scope_index = RwSignal::new(0usize);

    Effect::new(move |_| {
        if !drafts_ready.get() {
            return;
        }
        let Some(d) = drafts.get_value() else {
            return;
        };
        spawn_local(async move {
            if let Ok(metas) = d.list().await {
                list.set(metas);
            }
        });
    });
    let choose = move |id: String| {
        scope_index.set(0);
        if id.is_empty() {
            selected.set(None);
            return;
        }
        let Some(d) = drafts.get_value() else {
            return;
        };
        spawn_local(async move {
            if let Ok(project) = d.load(&id).await {
                selected.set(Some(project));
            }
        });
    };
    let scopes = Memo::new(move |_| {
        selected.with(|p| {
            let mut out = vec![(ShareScope::Project, String::new())];
            if let Some(p) = p {
                for e in &p.episodes {
                    out.push((
                        ShareScope::Episode { id: e.id.clone() },
                        format!("{}", e.number),
                    ));
                    for (i, s) in e.scenes.iter().enumerate() {
                        out.push((
                            ShareScope::Scene { id: s.id.clone() },
                            format!("{}-{} {}", e.number, i + 1, s.heading),
                        ));
                    }
                }
            }
            out
        })
    });
    let scope = Signal::derive(move || {
        scopes.with(|s| {
            s.get(scope_index.get())
                .map_or(ShareScope::Project, |(scope, _)| scope.clone())
        })
    });
    let open_pasted = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let text = pasted.get_untracked();
        let fragment = text
            .trim()
            .rsplit_once('#')
            .map_or(text.trim(), |(_, f)| f)
            .to_owned();
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_hash(&fragment);
        }
    };
    let on_drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open_file(file);
        }
    };

    view! {
        <h1>{t("分镜分享与审阅", "Share and review storyboards")}</h1>
        <p class="ds-lead">{t(
            "导演或编剧打开同事发来的分镜链接或分享文件，无需安装、账号或密钥即可阅读、评论、修改并发回。",
            "A director or writer opens a storyboard link or share file from a colleague and reads, comments, edits and sends it back, with no install, account or key.",
        )}</p>
        <div class="ds-split">
            <section class="ds-card" aria-labelledby="ds-open-title">
                <h2 id="ds-open-title">{t("打开分享的分镜", "Open a shared storyboard")}</h2>
                <div
                    class="ds-drop"
                    class:ds-drop--over=move || dragging.get()
                    data-testid="view-drop"
                    on:dragover=move |ev: ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop
                >
                    <label class="ds-field">
                        <span class="ds-field__label">{t("把 .duanju.json 文件拖到这里，或选择文件", "Drop a .duanju.json file here, or choose one")}</span>
                        <input type="file" accept=".json,application/json" data-testid="view-file"
                            on:change=move |ev| { if let Some(file) = picked_file(&ev) { open_file(file); } }/>
                    </label>
                </div>
                <form class="ds-open-link" on:submit=open_pasted>
                    <label class="ds-field">
                        <span class="ds-field__label">{t("或粘贴分享链接", "Or paste a share link")}</span>
                        <input type="url" data-testid="view-link-input" prop:value=move || pasted.get()
                            on:input=move |ev| pasted.set(event_target_value(&ev))/>
                    </label>
                    <button type="submit" class="ds-btn ds-btn--ghost" data-testid="view-link-open">{t("打开", "Open")}</button>
                </form>
            </section>
            <section class="ds-card" aria-labelledby="ds-from-drafts-title">
                <h2 id="ds-from-drafts-title">{t("从我的草稿分享", "Share from my drafts")}</h2>
                <label class="ds-field">
                    <span class="ds-field__label">{t("项目", "Project")}</span>
                    <select data-testid="drafts-select" on:change=move |ev| choose(event_target_value(&ev))>
                        <option value="">{move || lang.get().pick("— 选择一个草稿 —", "— choose a draft —")}</option>
                        <For each=move || list.get() key=|m| m.id.clone() let:meta>
                            <option value=meta.id.clone()>{meta.name.clone()}</option>
                        </For>
                    </select>
                </label>
                <Show when=move || selected.with(Option::is_some)>
                    <label class="ds-field">
                        <span class="ds-field__label">{t("选中的部分", "Selected part")}</span>
                        <select data-testid="hub-scope" on:change=move |ev| {
                            scope_index.set(event_target_value(&ev).parse().unwrap_or(0));
                        }>
                            {move || {
                                let lang = lang.get();
                                scopes.get().into_iter().enumerate().map(|(i, (scope, label))| {
                                    let text = match (&scope, lang) {
                                        (ShareScope::Project, l) => l.pick("整个分镜", "The whole storyboard").to_owned(),
                                        (ShareScope::Episode { .. }, Lang::ZhCn) => format!("第{label}集"),
                                        (ShareScope::Episode { .. }, Lang::En) => format!("Episode {label}"),
                                        (ShareScope::Scene { .. }, Lang::ZhCn) => format!("场 {label}"),
                                        (ShareScope::Scene { .. }, Lang::En) => format!("Scene {label}"),
                                    };
                                    view! { <option value=i.to_string() selected=move || scope_index.get() == i>{text}</option> }
                                }).collect_view()
                            }}
                        </select>
                    </label>
                </Show>
            </section>
        </div>
        {move || selected.get().map(|project| {
            let preview = Storyboard::of(&project, &scope.get()).ok();
            let project = RwSignal::new(project);
            view! {
                <SharePanel project scope/>
                <details class="ds-card" data-testid="draft-preview" open>
                    <summary>{t("分镜预览", "Storyboard preview")}</summary>
                    {preview.map(|board| view! { <StoryboardSheet board/> })}
                </details>
            }
        })}
    }
}
