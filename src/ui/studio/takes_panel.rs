//! Dialogue takes for a scene on the `dialogue_emotion` route: N numbered variations (default
//! [`DEFAULT_TAKES`]) through the Studio's batch service, each read as one
//! `{dialogue, stage_direction, emotional_tone}` ([`read_take`]). The accepted takes replace the
//! scene's takes (a locked one is kept) and are shown side by side; picking one locks it
//! (`picked_take`, saved in the drafts) and changing a locked pick needs an explicit unlock. The
//! run's cost per accepted take ([`TakesCost`]) is shown in $ and ¥ and stored on each take.
//! Model text is shown as text nodes only.

use std::collections::HashSet;

use crate::domain::batch::ItemState;
use crate::domain::cost::ledger::grand_total;
use crate::domain::i18n::Lang;
use crate::domain::project::Take;
use crate::domain::provider::routing::TaskType;
use crate::domain::storyboard::scene_runs::{
    pick_locked, pick_take, read_take, replace_takes, run_key, scene_prefix, take_from_draft,
    take_prompt, unlock_take, RunPurpose, TakeReading, TakesCost, DEFAULT_TAKES, MAX_TAKES,
};
use crate::domain::storyboard::schema::TakeDraft;
use crate::ui::common::ledger_view::exact_amount;
use crate::ui::i18n::{t, use_lang};
use crate::ui::studio::batch_panel::{use_batch_service, BatchHandle};
use crate::ui::studio::editor_model::EditorModel;
use crate::ui::studio::script_panel::{episode_scenes, EpisodePicker};
use crate::ui::studio::storyboard_panel::{
    adopt_resumed_batch, follow_batch, start_pipeline_batch, PipelineProblems,
};
use leptos::prelude::*;

/// One run's outcome, for the summary.
#[derive(Clone, Debug, PartialEq)]
struct RunSummary {
    requested: usize,
    /// Rejected replies: index and why.
    rejected: Vec<(usize, String)>,
    /// The batch's cost and the takes accepted.
    cost: TakesCost,
}

/// The takes panel of the open project.
#[component]
pub fn TakesPanel(model: EditorModel) -> impl IntoView {
    let lang = use_lang();
    let service = use_batch_service();
    let chosen = RwSignal::new(None::<String>);
    let scene = RwSignal::new(None::<String>);
    let count = RwSignal::new(DEFAULT_TAKES.to_string());
    let problem = RwSignal::new(None::<String>);
    let run = RwSignal::new(None::<BatchHandle>);
    let seen = StoredValue::new((HashSet::<usize>::new(), false));
    let target = StoredValue::new(String::new());
    let drafts = StoredValue::new(Vec::<(usize, TakeDraft, String)>::new());
    let rejected = StoredValue::new(Vec::<(usize, String)>::new());
    let summary = RwSignal::new(None::<RunSummary>);
    let running = RwSignal::new(false);
    // Bumped after every change of the takes made here (the header does not carry takes).
    let rev = RwSignal::new(0u64);
    let owner = StoredValue::new_local(Owner::current());

    let scenes = move || {
        episode_scenes(model, chosen)
            .into_iter()
            .map(|(number, id, heading, _)| (id, format!("{number}. {heading}")))
            .collect::<Vec<_>>()
    };
    let current_scene = move || {
        let list = scenes();
        scene
            .get()
            .filter(|id| list.iter().any(|(s, _)| s == id))
            .or_else(|| list.first().map(|(id, _)| id.clone()))
    };
    let takes_of_scene = move || {
        rev.track();
        model.header.track();
        let id = current_scene()?;
        let project = model.project();
        let s = project.scene(&id)?;
        Some((s.takes.clone(), s.picked_take.clone(), pick_locked(s)))
    };

    follow_batch(
        run,
        seen,
        move |index, snapshot| {
            let l = lang.get_untracked();
            match &snapshot.batch.items[index].state {
                ItemState::Failed { failure, .. } => {
                    rejected.update_value(|r| r.push((index, failure.message(l))));
                }
                ItemState::Done { model: m, .. } => {
                    let text = snapshot.reply(index).to_owned();
                    match read_take(&text) {
                        TakeReading::Take(draft, _) => {
                            drafts.update_value(|d| d.push((index, draft, m.clone())))
                        }
                        TakeReading::Invalid(problems) => {
                            let why: Vec<String> = problems
                                .iter()
                                .filter(|p| p.is_error())
                                .map(|p| p.message(l))
                                .collect();
                            rejected.update_value(|r| r.push((index, why.join("; "))));
                        }
                        TakeReading::Failed(d) => {
                            rejected.update_value(|r| r.push((index, d.message(l))))
                        }
                    }
                }
                _ => {}
            }
        },
        move |snapshot| {
            running.set(false);
            let entries: Vec<_> = snapshot.calls.iter().flatten().cloned().collect();
            let mut accepted = drafts.get_value();
            accepted.sort_by_key(|(i, _, _)| *i);
            let cost = TakesCost::of(&grand_total(&entries), accepted.len());
            let per = cost.stored_per_take();
            let scene_id = target.get_value();
            // Once per batch: a resumed batch that settles again does not replace them twice.
            let key = run_key(&snapshot.batch.id, snapshot.batch.items.len());
            if model.edit(|p, _| p.mark_run_applied(&key)) == Some(true) {
                model.edit_scene(&scene_id, |s, ids| {
                    let fresh: Vec<Take> = accepted
                        .iter()
                        .map(|(_, d, m)| take_from_draft(d, ids.next_id("take"), m, per))
                        .collect();
                    replace_takes(s, fresh);
                });
            }
            let mut rejected = rejected.get_value();
            rejected.sort_by_key(|(i, _)| *i);
            summary.set(Some(RunSummary {
                requested: snapshot.batch.items.len(),
                rejected,
                cost,
            }));
            rev.update(|r| *r += 1);
        },
    );

    // Follows a takes batch for `scene_id` from its first answer.
    let follow = move |handle: BatchHandle, scene_id: String| {
        target.set_value(scene_id);
        drafts.set_value(Vec::new());
        rejected.set_value(Vec::new());
        seen.set_value((HashSet::new(), false));
        summary.set(None);
        running.set(true);
        run.set(Some(handle));
    };
    // After a reload: the takes batch this project had running resumes here.
    adopt_resumed_batch(
        service,
        run,
        model.id(),
        |p| matches!(p, RunPurpose::Takes { .. }),
        move |handle, purpose| {
            if let RunPurpose::Takes { scene: scene_id } = purpose {
                scene.set(Some(scene_id.clone()));
                follow(handle, scene_id);
            }
        },
    );

    let start = move |_| {
        problem.set(None);
        let l = lang.get_untracked();
        let Some(scene_id) = current_scene() else {
            return;
        };
        let n = match count.get_untracked().trim().parse::<usize>() {
            Ok(n) if (1..=MAX_TAKES).contains(&n) => n,
            _ => {
                problem.set(Some(match l {
                    Lang::ZhCn => format!("版本数应为 1 到 {MAX_TAKES} 之间的整数。"),
                    Lang::En => {
                        format!("The number of takes is a whole number from 1 to {MAX_TAKES}.")
                    }
                }));
                return;
            }
        };
        let project = model.project();
        let Some(s) = project.scene(&scene_id) else {
            return;
        };
        let prefix = scene_prefix(&project.characters, s);
        let label = match l {
            Lang::ZhCn => format!("台词版本 × {n}"),
            Lang::En => format!("Dialogue takes × {n}"),
        };
        let prompts = (1..=n).map(|k| take_prompt(s, k, n)).collect();
        let started = start_pipeline_batch(
            service,
            owner,
            TaskType::DialogueEmotion,
            (prompts, vec![prefix; n]),
            label,
            &project,
            RunPurpose::Takes {
                scene: scene_id.clone(),
            },
        );
        match started {
            Ok(handle) => follow(handle, scene_id),
            Err(e) => problem.set(Some(e.message(l))),
        }
    };

    let pick = move |take_id: String| {
        let Some(scene_id) = current_scene() else {
            return;
        };
        let result = model.edit_scene(&scene_id, |s, _| pick_take(s, &take_id));
        if let Some(Err(e)) = result {
            problem.set(Some(e.message(lang.get_untracked()).into()));
        }
        rev.update(|r| *r += 1);
    };
    let unlock = move |_| {
        if let Some(scene_id) = current_scene() {
            model.edit_scene(&scene_id, |s, _| unlock_take(s));
            rev.update(|r| *r += 1);
        }
    };

    let summary_view = move || {
        summary.get().map(|s| {
            let c = s.cost;
            let per = match c.per_take() {
                Some((u, y)) => format!("{} · {}", exact_amount(u), exact_amount(y)),
                None => "—".into(),
            };
            let text = match lang.get() {
                Lang::ZhCn => format!(
                    "{} 个请求，采用 {} 个。本批费用 {} · {}；每个采用的版本 {}",
                    s.requested, c.accepted, exact_amount(c.usd), exact_amount(c.cny), per
                ),
                Lang::En => format!(
                    "{} requested, {} accepted. Batch cost {} · {}; per accepted take {}",
                    s.requested, c.accepted, exact_amount(c.usd), exact_amount(c.cny), per
                ),
            };
            let l = lang.get();
            view! {
                <p class="ds-field__hint" data-testid="takes-cost" data-accepted=c.accepted.to_string()
                    data-usd-micros=c.usd.micros().to_string()>{text}</p>
                <ul>
                    {s.rejected.into_iter().map(|(i, why)| view! {
                        <li class="ds-alert ds-alert--error" data-testid="take-rejected">
                            {match l {
                                Lang::ZhCn => format!("第 {} 个版本未采用：{why}", i + 1),
                                Lang::En => format!("Take {} was not accepted: {why}", i + 1),
                            }}
                        </li>
                    }).collect_view()}
                </ul>
            }
        })
    };

    let grid = move || {
        let Some((takes, picked, locked)) = takes_of_scene() else {
            return ().into_any();
        };
        let l = lang.get();
        let n = takes.len();
        view! {
            <div class="ds-takes-grid" data-testid="takes-grid" data-count=n.to_string()
                data-locked=locked.to_string()>
                {takes.into_iter().enumerate().map(|(i, take)| {
                    let is_picked = picked.as_deref() == Some(take.id.as_str());
                    let blocked = locked && !is_picked;
                    let id = take.id.clone();
                    let cost = take.cost.map(|c| exact_amount(c.money(crate::domain::cost::money::Currency::Usd)));
                    view! {
                        <article class="ds-take-card" data-testid="take-card" data-id=take.id.clone()
                            data-picked=is_picked.to_string() data-locked=(is_picked && locked).to_string()
                            aria-label=match l { Lang::ZhCn => format!("版本 {}", i + 1), Lang::En => format!("Take {}", i + 1) }>
                            <h4>{match l { Lang::ZhCn => format!("版本 {}", i + 1), Lang::En => format!("Take {}", i + 1) }}
                                {(is_picked && locked).then(|| view! { <span class="ds-tag" data-testid="take-locked">{l.pick(" 已选定·锁定", " Picked · locked")}</span> })}
                            </h4>
                            <p class="ds-take-card__dialogue" data-testid="take-dialogue">{take.dialogue}</p>
                            <p class="ds-field__hint" data-testid="take-direction">{take.stage_direction}</p>
                            <p class="ds-tag" data-testid="take-tone">{take.emotional_tone}</p>
                            <p class="ds-field__hint">{take.model}{cost.map(|c| format!(" · {c}"))}</p>
                            {if is_picked && locked {
                                view! {
                                    <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="take-unlock" on:click=unlock>
                                        {l.pick("解锁", "Unlock")}
                                    </button>
                                }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="ds-btn ds-btn--small" data-testid="take-pick" disabled=blocked
                                        title=blocked.then(|| l.pick("先解锁已选定的版本", "Unlock the picked take first"))
                                        on:click=move |_| pick(id.clone())>
                                        {l.pick("选定并锁定", "Pick and lock")}
                                    </button>
                                }.into_any()
                            }}
                        </article>
                    }
                }).collect_view()}
            </div>
        }
        .into_any()
    };

    view! {
        <section class="ds-proj-section ds-pipe" data-testid="takes-panel" aria-labelledby="takes-panel-title"
            data-state=move || if running.get() { "running" } else { "idle" }>
            <h3 id="takes-panel-title">{t("台词版本（dialogue_emotion 路由）", "Dialogue takes (dialogue_emotion route)")}</h3>
            <EpisodePicker model chosen testid="takes-episode"/>
            <div class="ds-pipe-actions">
                <label class="ds-field">
                    <span>{t("场景", "Scene")}</span>
                    <select data-testid="takes-scene" on:change=move |ev| scene.set(Some(event_target_value(&ev)))>
                        {move || {
                            let selected = current_scene();
                            scenes().into_iter().map(|(id, label)| {
                                let is = selected.as_deref() == Some(id.as_str());
                                view! { <option value=id selected=is>{label}</option> }
                            }).collect_view()
                        }}
                    </select>
                </label>
                <label class="ds-field">
                    <span>{t("版本数", "Takes")}</span>
                    <input type="number" min="1" max=MAX_TAKES.to_string() data-testid="takes-count"
                        prop:value=move || count.get() on:input=move |ev| count.set(event_target_value(&ev))/>
                </label>
                <button type="button" class="ds-btn" data-testid="takes-run"
                    disabled=move || running.get() || current_scene().is_none() on:click=start>
                    {t("生成台词版本", "Generate takes")}
                </button>
            </div>
            <PipelineProblems problem run prefix="takes"/>
            {summary_view}
            {grid}
        </section>
    }
}
