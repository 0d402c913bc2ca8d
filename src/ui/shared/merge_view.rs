//! Merging a storyboard that came back by link into your copy of the project, field by field:
//! their edits that apply, your edits that stay, the conflicts you resolve, their edits on
//! shots you have removed, and their comments. Nothing is written until you press "Merge"; the
//! losing side of each conflict is kept in the project's history, and the comments are kept
//! with the project (see [`crate::domain::storyboard::merge`]).
//!
//! Test ids: `merge-view`, `merge-applied`, `merge-kept`, `merge-conflict` (each, with radios
//! `merge-keep-mine` / `merge-take-theirs`), `merge-unmatched`, `merge-comments`,
//! `merge-apply`, `merge-done`, `merge-error`.

use crate::domain::i18n::Lang;
use crate::domain::project::Project;
use crate::domain::share::SharePayload;
use crate::domain::storyboard::merge::{
    apply_merge, plan_merge, FieldChange, FieldValue, Resolution, ShotField,
};
use crate::ui::i18n::{t, use_lang};
use crate::web::dom::format_time;
use crate::web::drafts::Drafts;
use crate::web::share_link::add_comments;
use crate::web::tabs;
use leptos::prelude::*;
use leptos::task::spawn_local;

fn shot_name(episode: u32, number: &str, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("第{episode}集 镜头 {number}"),
        Lang::En => format!("Ep {episode} · shot {number}"),
    }
}

fn shown(value: &FieldValue, field: ShotField, lang: Lang) -> String {
    let text = value.display(field, lang);
    if text.is_empty() {
        lang.pick("（空）", "(empty)").into()
    } else {
        text
    }
}

/// A list of field changes as a table: shot, field, before, after.
fn changes_table(changes: Vec<FieldChange>, lang: Lang, testid: &'static str) -> impl IntoView {
    view! {
        <table class="ds-table ds-merge__table" data-testid=testid>
            <thead><tr>
                <th scope="col">{lang.pick("镜头", "Shot")}</th>
                <th scope="col">{lang.pick("字段", "Field")}</th>
                <th scope="col">{lang.pick("原来", "Before")}</th>
                <th scope="col">{lang.pick("之后", "After")}</th>
            </tr></thead>
            <tbody>
                {changes.into_iter().map(|c| view! {
                    <tr data-testid=format!("{testid}-row") data-shot-id=c.shot.shot_id.clone() data-field=c.field.key()>
                        <td>{shot_name(c.shot.episode, &c.shot.number, lang)}</td>
                        <td>{c.field.label(lang)}</td>
                        <td class="ds-pre">{shown(&c.from, c.field, lang)}</td>
                        <td class="ds-pre">{shown(&c.to, c.field, lang)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Offers to merge `incoming` into `local`, and saves the result through `drafts`.
#[component]
pub fn MergeView(
    /// Your copy of the project, as stored.
    local: Project,
    /// The storyboard that came back.
    incoming: SharePayload,
    /// Where the merged project is saved.
    drafts: StoredValue<Drafts, LocalStorage>,
    /// Called with the saved project after a merge.
    #[prop(optional, into)]
    on_merged: Option<Callback<Project>>,
) -> impl IntoView {
    let lang = use_lang();
    let plan = plan_merge(&local, &incoming);
    let resolutions = RwSignal::new(vec![Resolution::Mine; plan.conflicts.len()]);
    let status = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let stored_plan = StoredValue::new(plan.clone());
    let stored_local = StoredValue::new(local.clone());
    let project_id = local.id.clone();

    let merge = move |_| {
        busy.set(true);
        let merged = stored_plan.with_value(|plan| {
            stored_local.with_value(|local| {
                let tab = drafts.with_value(|d| d.tab_id().to_owned());
                apply_merge(
                    local,
                    plan,
                    &resolutions.get_untracked(),
                    tabs::now_ms(),
                    &tab,
                )
            })
        });
        let comments = stored_plan.with_value(|p| p.comments.clone());
        let drafts = drafts.get_value();
        let project_id = project_id.clone();
        spawn_local(async move {
            let lang = lang.get_untracked();
            let saved = drafts.save(&merged).await;
            let result = match saved {
                Ok(project) => {
                    let kept = add_comments(&project_id, &comments).await;
                    if let Some(callback) = on_merged {
                        callback.run(project.clone());
                    }
                    match kept {
                        Ok(_) => Ok(match lang {
                            Lang::ZhCn => format!("已合并到「{}」并保存。", project.name),
                            Lang::En => format!("Merged into “{}” and saved.", project.name),
                        }),
                        Err(e) => Err(e.message(lang)),
                    }
                }
                Err(e) => Err(e.message(lang)),
            };
            status.set(Some(result));
            busy.set(false);
        });
    };

    let summary = {
        let (applied, kept, conflicts, unmatched, comments) = (
            plan.applied.len(),
            plan.kept.len(),
            plan.conflicts.len(),
            plan.unmatched.len(),
            plan.comments.len(),
        );
        let from = plan.from.clone();
        let sent = plan.sent_ms;
        move || {
            let lang = lang.get();
            let who = if from.is_empty() {
                lang.pick("对方", "They").to_owned()
            } else {
                from.clone()
            };
            match lang {
                Lang::ZhCn => format!(
                    "{who}（{}）：{applied} 处修改将直接采用，你的 {kept} 处修改保留，{conflicts} 处冲突需要你选择，{unmatched} 个已删除镜头上的修改，{comments} 条评论。",
                    format_time(sent, lang)
                ),
                Lang::En => format!(
                    "{who} ({}): {applied} edits apply directly, {kept} of yours stay, {conflicts} conflicts for you to resolve, {unmatched} shots you removed had edits, {comments} comments.",
                    format_time(sent, lang)
                ),
            }
        }
    };

    let conflicts = plan
        .conflicts
        .iter()
        .enumerate()
        .map(|(index, conflict)| {
            let name = format!("ds-merge-conflict-{index}");
            let c = conflict.clone();
            let pick = move |choice: Resolution| {
                resolutions.update(|r| {
                    if let Some(slot) = r.get_mut(index) {
                        *slot = choice;
                    }
                })
            };
            let is = move |choice: Resolution| {
                resolutions.with(|r| r.get(index).copied() == Some(choice))
            };
            view! {
                <fieldset class="ds-fieldset ds-merge__conflict" data-testid="merge-conflict" data-shot-id=c.shot.shot_id.clone() data-field=c.field.key()>
                    <legend>{move || format!("{} · {}", shot_name(c.shot.episode, &c.shot.number, lang.get()), c.field.label(lang.get()))}</legend>
                    {c.base.clone().map(|base| {
                        let field = c.field;
                        view! {
                            <p class="ds-field__hint">{move || lang.get().pick("分享时：", "When shared: ")} {move || shown(&base, field, lang.get())}</p>
                        }
                    })}
                    <label class="ds-check">
                        <input type="radio" name=name.clone() data-testid="merge-keep-mine" prop:checked=move || is(Resolution::Mine) on:change=move |_| pick(Resolution::Mine)/>
                        <span><strong>{t("保留我的：", "Keep mine: ")}</strong><span class="ds-pre">{
                            let (mine, field) = (c.mine.clone(), c.field);
                            move || shown(&mine, field, lang.get())
                        }</span></span>
                    </label>
                    <label class="ds-check">
                        <input type="radio" name=name data-testid="merge-take-theirs" prop:checked=move || is(Resolution::Theirs) on:change=move |_| pick(Resolution::Theirs)/>
                        <span><strong>{t("采用对方的：", "Take theirs: ")}</strong><span class="ds-pre">{
                            let (theirs, field) = (c.theirs.clone(), c.field);
                            move || shown(&theirs, field, lang.get())
                        }</span></span>
                    </label>
                </fieldset>
            }
        })
        .collect_view();

    let tables = {
        let plan = plan.clone();
        move || {
            let lang = lang.get();
            let unmatched = plan.unmatched.clone();
            let comments = plan.comments.clone();
            let shot_of = |id: &str| -> String {
                stored_local.with_value(|p| {
                    p.episodes
                        .iter()
                        .find_map(|e| {
                            e.scenes
                                .iter()
                                .flat_map(|s| s.shots.iter())
                                .find(|s| s.id == id)
                                .map(|s| shot_name(e.number, &s.number, lang))
                        })
                        .unwrap_or_else(|| id.to_owned())
                })
            };
            view! {
                {(!plan.applied.is_empty()).then(|| view! {
                    <h3>{lang.pick("对方的修改（将直接采用）", "Their edits (applied)")}</h3>
                    {changes_table(plan.applied.clone(), lang, "merge-applied")}
                })}
                {(!plan.kept.is_empty()).then(|| view! {
                    <h3>{lang.pick("你之后的修改（保留）", "Your later edits (kept)")}</h3>
                    {changes_table(plan.kept.clone(), lang, "merge-kept")}
                })}
                {(!unmatched.is_empty()).then(|| view! {
                    <h3>{lang.pick("已删除镜头上的修改（存入历史）", "Edits on shots you removed (kept in the history)")}</h3>
                    <ul data-testid="merge-unmatched">
                        {unmatched.into_iter().map(|u| view! {
                            <li>{format!("{} {}: {}", lang.pick("镜头", "Shot"), u.shot.number,
                                u.fields.iter().map(|f| f.label(lang)).collect::<Vec<_>>().join(lang.pick("、", ", ")))}</li>
                        }).collect_view()}
                    </ul>
                })}
                {(!comments.is_empty()).then(|| view! {
                    <h3>{lang.pick("评论", "Comments")}</h3>
                    <ul class="ds-comments" data-testid="merge-comments">
                        {comments.into_iter().map(|c| view! {
                            <li class="ds-comment">
                                <span class="ds-comment__meta"><strong>{c.author.clone()}</strong> " · " {format_time(c.time_ms, lang)} " · " {shot_of(&c.shot_id)}</span>
                                <span class="ds-pre">{c.text.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            }
        }
    };

    let nothing = plan.is_empty();
    view! {
        <section class="ds-card ds-merge" data-testid="merge-view" aria-labelledby="ds-merge-title">
            <h2 id="ds-merge-title">{t("合并到我的项目", "Merge into my project")}</h2>
            <p class="ds-lead">{t(
                "你的草稿里已有这个项目。按镜头逐个字段合并：只有一方改过的字段直接采用；双方都改过的字段列在下面，由你选择。没有选中的一方会存入项目历史，不会丢失。",
                "Your drafts already have this project. It merges by shot, field by field: a field only one side changed takes that change; fields you both changed are listed below for you to choose. The side not chosen is kept in the project's history, never lost.",
            )}</p>
            <p data-testid="merge-summary">{summary}</p>
            {nothing.then(|| view! {
                <p class="ds-alert ds-alert--ok" data-testid="merge-nothing">{t("你的项目已包含这个链接里的全部内容。", "Your project already has everything in this link.")}</p>
            })}
            {(!plan.conflicts.is_empty()).then(|| view! {
                <h3>{t("冲突：请选择", "Conflicts: choose")}</h3>
                {conflicts}
            })}
            {tables}
            {(!nothing).then(|| view! {
                <p class="ds-actions">
                    <button type="button" class="ds-btn" data-testid="merge-apply"
                        disabled=move || busy.get() || matches!(status.get(), Some(Ok(_)))
                        on:click=merge>
                        {t("合并并保存", "Merge and save")}
                    </button>
                </p>
            })}
            {move || status.get().map(|result| match result {
                Ok(message) => view! { <p class="ds-alert ds-alert--ok" role="status" data-testid="merge-done">{message}</p> }.into_any(),
                Err(message) => view! { <p class="ds-alert ds-alert--error" role="alert" data-testid="merge-error">{message}</p> }.into_any(),
            })}
        </section>
    }
}
