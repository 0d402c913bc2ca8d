//! Storyboard a scene, or every scene of an episode in parallel, on the `storyboard` route
//! through the Studio's batch service (one batch item per scene).
//!
//! Each prompt is the scene's character bible as a stable system prefix and the scene text
//! ([`storyboard_prompt`]); what each answer becomes is decided in the domain
//! ([`storyboard_step`], recorded in a [`SceneReport`]) and this panel carries it out: valid
//! shots are added to the scene through the editor ([`EditorModel::add_shots`], so they become
//! ordinary shot cards saved in the drafts), invalid shots are listed with their per-shot error,
//! a cut-off reply gets exactly one repair request (a second batch once the first is over), and
//! an unreadable reply is a diagnostic. A scene that already has shots asks first: replace them
//! or append. Model text is shown as text nodes only.

use std::collections::HashSet;

use crate::domain::batch::{BatchStatus, ItemState};
use crate::domain::i18n::Lang;
use crate::domain::project::Project;
use crate::domain::provider::routing::TaskType;
use crate::domain::storyboard::llm_json::Repair;
use crate::domain::storyboard::scene_runs::{
    invalid_shot_message, run_key, scene_prefix, storyboard_prompt, storyboard_repair_prompt,
    storyboard_step, RunPurpose, SceneReport, SceneStage, StoryboardStep,
};
use crate::ui::i18n::{t, use_lang};
use crate::ui::studio::batch_panel::{
    use_batch_service, BatchHandle, BatchProblem, BatchRequest, BatchService,
};
use crate::ui::studio::editor_model::EditorModel;
use crate::ui::studio::script_panel::{episode_scenes, EpisodePicker};
use crate::web::exec::Snapshot;
use leptos::prelude::*;

/// Follows the batch in `run`: `on_item(index, snapshot)` once for every item that ends (done
/// or failed), then `on_settled(snapshot)` once when no item is left to answer (or the batch
/// was cancelled). `seen` holds the ended items of the current run; clear it with a new run.
pub(crate) fn follow_batch(
    run: RwSignal<Option<BatchHandle>>,
    seen: StoredValue<(HashSet<usize>, bool)>,
    on_item: impl Fn(usize, &Snapshot) + 'static,
    on_settled: impl Fn(&Snapshot) + 'static,
) {
    Effect::new(move |_| {
        let Some(handle) = run.get() else {
            return;
        };
        let Some(snapshot) = handle.view.get() else {
            return;
        };
        let mut ended = Vec::new();
        for (index, item) in snapshot.batch.items.iter().enumerate() {
            let over = matches!(
                item.state,
                ItemState::Done { .. } | ItemState::Failed { .. }
            );
            if over && seen.try_update_value(|(s, _)| s.insert(index)) == Some(true) {
                ended.push(index);
            }
        }
        untrack(|| {
            for index in ended {
                on_item(index, &snapshot);
            }
        });
        let all_over = snapshot
            .batch
            .items
            .iter()
            .all(|i| matches!(i.state, ItemState::Done { .. } | ItemState::Failed { .. }));
        let settled = all_over || matches!(snapshot.batch.status, BatchStatus::Cancelled);
        if settled
            && seen.try_update_value(|(_, done)| !std::mem::replace(done, true)) == Some(true)
        {
            untrack(|| on_settled(&snapshot));
        }
    });
}

/// What holds up a pipeline panel's run, said in the panel: its own refusal (`problem`), why its
/// batch cannot run (`{prefix}-problem`), and why the batch stopped — a budget, the account's
/// quota, the key (`{prefix}-stopped`; the batch panel's Resume button continues it); and, as a
/// warning, a character bible too short for the provider to cache (`{prefix}-cache-notice`).
#[component]
pub(crate) fn PipelineProblems(
    /// The panel's own message, if any.
    problem: RwSignal<Option<String>>,
    /// The panel's batch.
    run: RwSignal<Option<BatchHandle>>,
    /// The panel's test-id prefix (`sb`, `takes`).
    prefix: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    let problem_id = format!("{prefix}-problem");
    let (own_id, stopped_id) = (problem_id.clone(), format!("{prefix}-stopped"));
    let notice_id = format!("{prefix}-cache-notice");
    let stopped = move || {
        let snapshot = run.get()?.view.get()?;
        let BatchStatus::Stopped { reason } = snapshot.batch.status else {
            return None;
        };
        Some(view! {
            <p class="ds-alert ds-alert--error" role="alert" data-testid=stopped_id.clone() data-kind=reason.kind()>
                {reason.message(lang.get())}
            </p>
        })
    };
    view! {
        {move || problem.get().map(|message| view! {
            <p class="ds-alert ds-alert--error" role="alert" data-testid=own_id.clone()>{message}</p>
        })}
        {move || run.get().and_then(|h| h.problem.get()).map(|p| view! {
            <p class="ds-alert ds-alert--error" role="alert" data-testid=problem_id.clone() data-kind=p.kind()>{p.message(lang.get())}</p>
        })}
        {stopped}
        {move || run.get().and_then(|h| h.cache_notice.get()).map(|notice| view! {
            <p class="ds-alert ds-alert--warn" data-testid=notice_id.clone()
                data-prefix-tokens=notice.prefix_tokens data-needed-tokens=notice.needed_tokens>
                {notice.message(lang.get())}
            </p>
        })}
    }
}

/// Starts a pipeline batch on `task` (one item per prompt, each with its system prefix) for
/// `project`, under `owner`: the batch's signals belong to the panel, not to whatever started
/// it (a dialog that closes, or a watcher effect, whose children are disposed when it runs
/// again).
pub(crate) fn start_pipeline_batch(
    service: BatchService,
    owner: StoredValue<Option<Owner>, LocalStorage>,
    task: TaskType,
    (prompts, prefixes): (Vec<String>, Vec<Option<String>>),
    label: String,
    project: &Project,
    purpose: RunPurpose,
) -> Result<BatchHandle, BatchProblem> {
    let request = BatchRequest {
        task,
        prompts,
        prefixes,
        label,
        budget: None,
        limits: None,
        project: Some(project.id.clone()),
        project_budget: project.settings.budget,
        purpose: Some(purpose),
    };
    match owner.get_value() {
        Some(owner) => owner.with(|| service.start_batch(request)),
        None => service.start_batch(request),
    }
}

/// After a reload, the panel's batch is running again in the [`BatchService`] (resumed from
/// IndexedDB) but the panel has forgotten it: `adopt(handle, purpose)` is called once for the
/// first unsettled batch of `project` whose purpose `wanted` accepts, while `run` is empty.
pub(crate) fn adopt_resumed_batch(
    service: BatchService,
    run: RwSignal<Option<BatchHandle>>,
    project: String,
    wanted: impl Fn(&RunPurpose) -> bool + 'static,
    adopt: impl Fn(BatchHandle, RunPurpose) + 'static,
) {
    Effect::new(move |_| {
        if run.with(Option::is_some) {
            return;
        }
        for handle in service.handles.get() {
            let found = handle.view.with(|v| {
                let s = v.as_ref()?;
                let open = !matches!(
                    s.batch.status,
                    BatchStatus::Finished | BatchStatus::Cancelled
                );
                let purpose = s.meta.purpose.as_ref()?;
                (open && s.meta.project.as_deref() == Some(project.as_str()) && wanted(purpose))
                    .then(|| purpose.clone())
            });
            if let Some(purpose) = found {
                untrack(|| adopt(handle, purpose));
                return;
            }
        }
    });
}

/// The batch being followed: which scene each item is, whether it is the repair batch, and
/// whether the scenes' shots are replaced.
#[derive(Clone, Debug, Default)]
struct RunInfo {
    scenes: Vec<String>,
    repair: bool,
    replace: bool,
    /// Scenes whose reply was cut off, with that reply: the repair batch's items.
    due: Vec<(String, String)>,
}

/// The storyboard panel of the open project.
#[component]
pub fn StoryboardPanel(model: EditorModel) -> impl IntoView {
    let lang = use_lang();
    let service = use_batch_service();
    let chosen = RwSignal::new(None::<String>);
    let reports = RwSignal::new(Vec::<SceneReport>::new());
    let asking = RwSignal::new(None::<Vec<String>>);
    let problem = RwSignal::new(None::<String>);
    let run = RwSignal::new(None::<BatchHandle>);
    let info = StoredValue::new(RunInfo::default());
    let seen = StoredValue::new((HashSet::<usize>::new(), false));
    let owner = StoredValue::new_local(Owner::current());

    let update = move |scene_id: &str, change: &dyn Fn(&mut SceneReport)| {
        reports.update(|all| {
            if let Some(r) = all.iter_mut().find(|r| r.scene_id == scene_id) {
                change(r);
            }
        });
    };

    // Starts a batch on `scenes` (with their repair prompts when `due` is given).
    let launch = move |scenes: Vec<String>, replace: bool, due: Option<Vec<String>>| -> bool {
        let project = model.project();
        let mut prompts = Vec::new();
        let mut prefixes = Vec::new();
        for (i, id) in scenes.iter().enumerate() {
            let Some(scene) = project.scene(id) else {
                continue;
            };
            prompts.push(match &due {
                Some(cut) => storyboard_repair_prompt(scene, &cut[i]),
                None => storyboard_prompt(scene),
            });
            prefixes.push(scene_prefix(&project.characters, scene));
        }
        let l = lang.get_untracked();
        let label = match (due.is_some(), l) {
            (false, Lang::ZhCn) => format!("分镜 × {}", prompts.len()),
            (false, Lang::En) => format!("Storyboard × {}", prompts.len()),
            (true, Lang::ZhCn) => format!("分镜修复 × {}", prompts.len()),
            (true, Lang::En) => format!("Storyboard repair × {}", prompts.len()),
        };
        let purpose = RunPurpose::Storyboard {
            scenes: scenes.clone(),
            repair: due.is_some(),
            replace,
        };
        let started = start_pipeline_batch(
            service,
            owner,
            TaskType::Storyboard,
            (prompts, prefixes),
            label,
            &project,
            purpose,
        );
        match started {
            Ok(handle) => {
                info.set_value(RunInfo {
                    scenes,
                    repair: due.is_some(),
                    replace,
                    due: Vec::new(),
                });
                seen.set_value((HashSet::new(), false));
                run.set(Some(handle));
                true
            }
            Err(e) => {
                problem.set(Some(e.message(l)));
                false
            }
        }
    };

    follow_batch(
        run,
        seen,
        move |index, snapshot| {
            let (scene_id, repair, replace) = info.with_value(|i| {
                (
                    i.scenes.get(index).cloned().unwrap_or_default(),
                    i.repair,
                    i.replace,
                )
            });
            let text = snapshot.reply(index).to_owned();
            let step = storyboard_step(&snapshot.batch.items[index].state, &text, repair, replace);
            let added = match &step {
                StoryboardStep::AddShots { shots, replace, .. } => {
                    // Once per batch item: after a reload the resumed batch shows its earlier
                    // replies again, and those shots are already here.
                    let key = run_key(&snapshot.batch.id, index);
                    if model.edit(|p, _| p.mark_run_applied(&key)) == Some(true) {
                        model.add_shots(&scene_id, shots.clone(), *replace).len()
                    } else {
                        shots.len()
                    }
                }
                StoryboardStep::AskAgain(_) => {
                    info.update_value(|i| i.due.push((scene_id.clone(), text)));
                    0
                }
                StoryboardStep::RequestFailed(_) | StoryboardStep::Fail { .. } => 0,
            };
            update(&scene_id, &|r| r.record(&step, added));
        },
        move |_| {
            let (due, replace) = info.with_value(|i| (i.due.clone(), i.replace));
            if due.is_empty() {
                return;
            }
            let (scenes, cut): (Vec<String>, Vec<String>) = due.into_iter().unzip();
            if !launch(scenes.clone(), replace, Some(cut)) {
                for id in scenes {
                    update(&id, &|r| r.repair_not_sent());
                }
            }
        },
    );

    let busy = move || reports.with(|all| all.iter().any(|r| r.stage.is_open()));

    let start = move |scenes: Vec<String>, replace: bool| {
        asking.set(None);
        problem.set(None);
        let headings: Vec<(String, String)> = model.header.with_untracked(|h| {
            h.episodes
                .iter()
                .flat_map(|e| e.scenes.iter())
                .filter(|s| scenes.contains(&s.id))
                .map(|s| (s.id.clone(), s.heading.clone()))
                .collect()
        });
        let before = reports.get_untracked();
        reports.set(running_reports(headings));
        if !launch(scenes, replace, None) {
            reports.set(before);
        }
    };

    // After a reload: the storyboard batch this project had running resumes here.
    adopt_resumed_batch(
        service,
        run,
        model.id(),
        |p| matches!(p, RunPurpose::Storyboard { .. }),
        move |handle, purpose| {
            let RunPurpose::Storyboard {
                scenes,
                repair,
                replace,
            } = purpose
            else {
                return;
            };
            let headings = model.header.with_untracked(|h| {
                scenes
                    .iter()
                    .map(|id| {
                        (
                            id.clone(),
                            h.scene(id).map(|s| s.heading.clone()).unwrap_or_default(),
                        )
                    })
                    .collect::<Vec<_>>()
            });
            reports.set(running_reports(headings));
            info.set_value(RunInfo {
                scenes,
                repair,
                replace,
                due: Vec::new(),
            });
            seen.set_value((HashSet::new(), false));
            run.set(Some(handle));
        },
    );

    // Asks first when a scene already has shots.
    let request = move |scenes: Vec<String>| {
        if scenes.is_empty() {
            return;
        }
        let has_shots = model.header.with_untracked(|h| {
            h.episodes
                .iter()
                .flat_map(|e| e.scenes.iter())
                .any(|s| scenes.contains(&s.id) && !s.shot_ids.is_empty())
        });
        if has_shots {
            asking.set(Some(scenes));
        } else {
            start(scenes, false);
        }
    };

    let scenes = move || episode_scenes(model, chosen);
    let episode_scenes = move || {
        scenes()
            .into_iter()
            .map(|(_, id, _, _)| id)
            .collect::<Vec<_>>()
    };

    view! {
        <section class="ds-proj-section ds-pipe" data-testid="storyboard-panel" aria-labelledby="sb-panel-title"
            data-state=move || if busy() { "running" } else { "idle" }>
            <h3 id="sb-panel-title">{t("分镜（storyboard 路由）", "Storyboard (storyboard route)")}</h3>
            <EpisodePicker model chosen testid="sb-episode"/>
            <p class="ds-field__hint">{t(
                "每场 4–8 个镜头，以 JSON 返回；整集时各场并行（批量任务，每场一项）。有效镜头加入该场的镜头卡片；无效镜头标出原因；被截断的回复自动请求修复一次。",
                "4–8 shots per scene, returned as JSON; a whole episode runs its scenes in parallel (a batch, one item per scene). Valid shots join the scene's shot cards; invalid ones are marked with the reason; a cut-off reply gets one repair request.",
            )}</p>
            <div class="ds-pipe-actions">
                <button type="button" class="ds-btn" data-testid="sb-run-episode"
                    disabled=move || busy() || scenes().is_empty()
                    on:click=move |_| request(episode_scenes())>
                    {t("为整集生成分镜", "Storyboard the episode")}
                </button>
            </div>
            <ol class="ds-pipe-scenes" data-testid="sb-scenes">
                <For each=scenes key=|s| s.clone() let:((number, id, heading, shots))>
                    {
                        let scene_id = id.clone();
                        view! {
                            <li class="ds-pipe-scene" data-testid="sb-scene" data-id=id.clone()>
                                <span class="ds-pipe-scene__heading">{format!("{number}. ")}{heading}</span>
                                <span class="ds-tag">{move || match lang.get() {
                                    Lang::ZhCn => format!("{shots} 个镜头"),
                                    Lang::En => format!("{shots} shots"),
                                }}</span>
                                <button type="button" class="ds-btn ds-btn--small" data-testid="sb-scene-run"
                                    disabled=busy on:click=move |_| request(vec![scene_id.clone()])>
                                    {t("生成分镜", "Storyboard")}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ol>
            {move || asking.get().map(|scenes| {
                let (a, b) = (scenes.clone(), scenes.clone());
                view! {
                    <div class="ds-alert" role="alertdialog" aria-labelledby="sb-ask-text" data-testid="sb-ask">
                        <p id="sb-ask-text">{t(
                            "所选场景已有镜头。新镜头要替换原有镜头，还是追加在后面？",
                            "The scene already has shots. Replace them with the new shots, or append the new ones?",
                        )}</p>
                        <div class="ds-pipe-actions">
                            <button type="button" class="ds-btn" data-testid="sb-replace" autofocus
                                on:click=move |_| start(a.clone(), true)>{t("替换", "Replace")}</button>
                            <button type="button" class="ds-btn ds-btn--ghost" data-testid="sb-append"
                                on:click=move |_| start(b.clone(), false)>{t("追加", "Append")}</button>
                            <button type="button" class="ds-btn ds-btn--ghost" data-testid="sb-ask-cancel"
                                on:click=move |_| asking.set(None)>{t("取消", "Cancel")}</button>
                        </div>
                    </div>
                }
            })}
            <PipelineProblems problem run prefix="sb"/>
            <ul class="ds-pipe-report" data-testid="sb-reports" aria-live="polite">
                {move || reports.get().into_iter().map(|r| report_view(r, lang.get())).collect_view()}
            </ul>
        </section>
    }
}

/// A "running" report per `(scene id, heading)`.
fn running_reports(headings: Vec<(String, String)>) -> Vec<SceneReport> {
    headings
        .into_iter()
        .map(|(scene_id, heading)| SceneReport::running(scene_id, heading))
        .collect()
}

fn report_view(r: SceneReport, lang: Lang) -> impl IntoView {
    let summary = match (r.stage, lang) {
        (SceneStage::Running, _) => lang.pick("生成中…", "Running…").to_string(),
        (SceneStage::Repairing, _) => lang
            .pick(
                "回复被截断，已请求修复一次…",
                "The reply was cut off; one repair request sent…",
            )
            .to_string(),
        (SceneStage::Done, Lang::ZhCn) => format!(
            "已加入 {} 个镜头{}",
            r.added,
            if r.repaired {
                "（截断后经一次修复请求得到）"
            } else {
                ""
            }
        ),
        (SceneStage::Done, Lang::En) => format!(
            "{} shots added{}",
            r.added,
            if r.repaired {
                " (after one repair request for a cut-off reply)"
            } else {
                ""
            }
        ),
        (SceneStage::Failed, _) => lang.pick("失败", "Failed").to_string(),
    };
    let diagnostic = r
        .diagnostic
        .as_ref()
        .filter(|_| r.stage != SceneStage::Repairing)
        .map(|d| d.message(lang))
        .or_else(|| r.failure.as_ref().map(|f| f.message(lang)));
    let diagnostic_kind = r
        .diagnostic
        .as_ref()
        .map(|d| d.kind())
        .unwrap_or("request_failed");
    let repairs: Vec<String> = r.repairs.iter().map(|x| x.message(lang)).collect();
    let repair_kinds = r
        .repairs
        .iter()
        .map(Repair::kind)
        .collect::<Vec<_>>()
        .join(" ");
    let warnings: Vec<String> = r.problems.iter().map(|p| p.message(lang)).collect();
    view! {
        <li class="ds-pipe-scene" data-testid="sb-report" data-scene=r.scene_id.clone()
            data-state=r.stage.id() data-repaired=r.repaired.to_string() data-added=r.added.to_string()
            data-repairs=repair_kinds data-invalid=r.invalid.len().to_string()>
            <strong>{r.heading.clone()}</strong>
            " — "
            <span data-testid="sb-report-summary">{summary}</span>
            {diagnostic.map(|d| view! {
                <p class="ds-alert ds-alert--error" data-testid="sb-diagnostic" data-kind=diagnostic_kind>{d}</p>
            })}
            {(!repairs.is_empty()).then(|| view! {
                <p class="ds-field__hint" data-testid="sb-repairs">
                    {lang.pick("JSON 已修复：", "JSON repaired: ")}{repairs.join(lang.pick("；", "; "))}
                </p>
            })}
            <ul>
                {r.invalid.iter().map(|(index, problems)| view! {
                    <li class="ds-alert ds-alert--error" data-testid="sb-invalid-shot" data-index=index.to_string()>
                        {invalid_shot_message(*index, problems, lang)}
                    </li>
                }).collect_view()}
                {warnings.into_iter().map(|w| view! {
                    <li class="ds-field__hint" data-testid="sb-warning">{w}</li>
                }).collect_view()}
            </ul>
        </li>
    }
}
