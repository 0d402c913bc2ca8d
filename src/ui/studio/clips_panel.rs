//! Video clips for an episode's shots, on the `video` route: the shots with what each is sent
//! as, the run's settings (API shape, polling), Generate and Retry, the report, and each clip.
//!
//! The runs are the executor's ([`crate::web::exec::jobs`]): a shot's job is saved before it is
//! sent and its provider id before polling starts, polling backs off and gives up as set here,
//! a finished clip is downloaded at once, kept in IndexedDB (`clips`), played from a blob URL
//! and written to the ledger, and the project's budget is checked before each send. This panel
//! is the runner's host ([`JobHost`]: the project through the editor, the prices, the ledger)
//! and renders its [`JobsView`]. When the panel opens, jobs saved but never answered are marked
//! "outcome unknown" (sent again only when the user asks) and accepted ones resume polling.
//! After a reload shots not sent yet wait for "Generate" again, which skips every shot that has
//! a job. Failed clips can be retried.

use std::collections::HashSet;

use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
use crate::domain::cost::money::{format_count, Money};
use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;
use crate::domain::media::clip_run::{
    clip_body, clip_budget_check, clip_call, pending_job, reopened_jobs, schedule_from, shot_clips,
    BudgetContext,
};
use crate::domain::media::video_job::{clip_cost, PollSchedule, VideoShape};
use crate::domain::project::{Project, VideoJob, VideoJobStatus};
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::domain::provider::routing::{Route, TaskType};
use crate::ui::common::ledger_view::{exact_amount, millis, StudioLedger};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, AppState};
use crate::ui::studio::batch_panel::BatchService;
use crate::ui::studio::editor_model::EditorModel;
use crate::ui::studio::script_panel::{current_episode, project_route, EpisodePicker};
use crate::web::exec::jobs::{concurrency, JobHost, JobRunner, JobsView, SaveFuture, Submission};
use crate::web::idb::StorageError;
use crate::web::{tabs, video};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the job runner reads and writes of the open project, through the editor.
#[derive(Clone, Copy)]
struct ClipsHost {
    model: EditorModel,
    state: AppState,
    /// The project's jobs as last put (the rows follow it).
    jobs: RwSignal<Vec<VideoJob>>,
    shape: RwSignal<VideoShape>,
    first_s: RwSignal<f64>,
    give_up_min: RwSignal<f64>,
    /// The Studio's ledger: the budget reads the project's spend from it, and each finished
    /// clip's entry is shown in it.
    ledger: Option<StudioLedger>,
    /// The Studio's batches: what the project's running batches have at risk counts against
    /// its budget before a clip is sent.
    batches: Option<BatchService>,
    /// The interface language, read from the panel (runs outlive the reactive context in
    /// which `use_context` finds it).
    lang: RwSignal<Lang>,
}

impl ClipsHost {
    fn route(&self, project: &Project) -> Route {
        project_route(
            project,
            || {
                self.state
                    .book
                    .with_untracked(|b| b.routes.route(TaskType::Video).clone())
            },
            TaskType::Video,
        )
    }
}

impl JobHost for ClipsHost {
    fn alive(&self) -> bool {
        self.jobs.try_with_untracked(|_| ()).is_some()
    }

    fn lang(&self) -> Lang {
        self.lang.try_get_untracked().unwrap_or_default()
    }

    fn link(&self) -> Option<(Connection, ApiKey)> {
        let active = self.state.connection.try_get_untracked().flatten()?;
        Some((active.connection, active.key))
    }

    fn project_id(&self) -> String {
        self.model.id()
    }

    fn job(&self, shot_id: &str) -> Option<VideoJob> {
        if !self.alive() {
            return None;
        }
        self.model
            .project()
            .video_jobs
            .into_iter()
            .find(|j| j.shot_id == shot_id)
    }

    fn put_job(&self, job: VideoJob) -> bool {
        if !self.alive() {
            return false;
        }
        let done = self
            .model
            .edit(
                move |p, _| match p.video_jobs.iter_mut().find(|j| j.shot_id == job.shot_id) {
                    Some(existing) => *existing = job,
                    None => p.video_jobs.push(job),
                },
            )
            .is_some();
        if self.alive() {
            self.jobs.try_set(self.model.project().video_jobs);
        }
        done
    }

    fn flush(&self) -> SaveFuture {
        let (model, lang) = (self.model, self.lang());
        Box::pin(async move { model.flush().await.map_err(|e| e.message(lang)) })
    }

    fn submission(
        &self,
        shot_id: &str,
        sending: &HashSet<String>,
    ) -> Result<Option<Submission>, String> {
        let project = self.model.project();
        let route = self.route(&project);
        let shape = self.shape.get_untracked();
        let Some(clip) = shot_clips(&project, &route, shape, None)
            .into_iter()
            .find(|r| r.id == shot_id)
        else {
            return Ok(None);
        };
        if let (Some(budget), Some((connection, _))) = (project.settings.budget, self.link()) {
            let now = tabs::now_ms();
            let price = |model: &str, seconds: u32, resolution: Resolution| -> Option<Money> {
                let call = clip_call(now, &connection, model, &project.id, (seconds, resolution));
                let entry = self.price(&call);
                (!entry.unpriced).then(|| entry.cost().in_currency(budget.currency))
            };
            let batches_at_risk = self.batches.map_or(Money::zero(budget.currency), |b| {
                b.at_risk(&project.id, budget.currency, None)
            });
            let check = |ledger: &[LedgerEntry]| {
                let context = BudgetContext {
                    budget,
                    ledger,
                    sending,
                    batches_at_risk,
                };
                let this_clip = (
                    route.model.as_str(),
                    clip.plan.seconds,
                    clip.plan.resolution,
                );
                clip_budget_check(context, &project, price, this_clip)
            };
            let checked = match self.ledger {
                Some(StudioLedger(ledger)) => ledger.with_untracked(|all| check(all)),
                // The Studio, where the panel lives, always provides its ledger.
                None => check(&[]),
            };
            checked.map_err(|stop| stop.message(self.lang()))?;
        }
        Ok(Some(Submission {
            job: pending_job(&clip, &route.model, tabs::now_ms()),
            shape: clip.plan.shape,
            body: clip_body(&clip, &route.model, &project.settings.style),
        }))
    }

    fn price(&self, call: &CallSummary<'_>) -> LedgerEntry {
        self.state.book.with_untracked(|book| book.price_call(call))
    }

    fn clip_cost(&self, connection: &Connection, job: &VideoJob) -> Option<Money> {
        let resolution = Resolution::parse(&job.resolution).unwrap_or_default();
        self.state.book.with_untracked(|book| {
            let (prices, _) = book.pricing_for(connection);
            prices
                .get(&job.model)
                .and_then(|p| clip_cost(p, job.seconds, resolution))
        })
    }

    fn schedule(&self) -> PollSchedule {
        schedule_from(
            self.first_s.get_untracked(),
            self.give_up_min.get_untracked(),
        )
    }

    fn show_entry(&self, entry: LedgerEntry) {
        if let Some(StudioLedger(ledger)) = self.ledger {
            ledger.try_update(|entries| entries.push(entry));
        }
    }

    fn storage_failed(&self, error: StorageError) {
        self.state.storage_error.try_set(Some(error));
    }
}

/// A change handler that sets `signal` to the field's value when it is a positive number.
fn positive(signal: RwSignal<f64>) -> impl Fn(leptos::ev::Event) + 'static {
    move |ev| {
        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
            if v.is_finite() && v > 0.0 {
                signal.set(v);
            }
        }
    }
}

/// The status of a job in words.
fn status_label(job: Option<&VideoJob>, lang: Lang) -> String {
    let Some(job) = job else {
        return lang.pick("未生成", "Not generated").into();
    };
    match job.status {
        VideoJobStatus::Pending => lang.pick("已保存，发送中", "Saved, sending"),
        VideoJobStatus::Queued => lang.pick("排队中", "Queued"),
        VideoJobStatus::InProgress => lang.pick("生成中", "Rendering"),
        VideoJobStatus::Completed => lang.pick("已完成", "Done"),
        VideoJobStatus::Failed => lang.pick("失败", "Failed"),
        VideoJobStatus::Unknown => lang.pick(
            "结果未知（发送时页面已关闭），重试可能重复计费",
            "Outcome unknown (the tab closed while sending); a retry may be billed twice",
        ),
    }
    .into()
}

fn status_name(job: Option<&VideoJob>) -> &'static str {
    match job.map(|j| j.status) {
        None => "none",
        Some(VideoJobStatus::Pending) => "pending",
        Some(VideoJobStatus::Queued) => "queued",
        Some(VideoJobStatus::InProgress) => "in_progress",
        Some(VideoJobStatus::Completed) => "completed",
        Some(VideoJobStatus::Failed) => "failed",
        Some(VideoJobStatus::Unknown) => "unknown",
    }
}

/// The clips of one episode.
#[component]
pub fn ClipsPanel(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let chosen = RwSignal::new(None::<String>);
    let host = ClipsHost {
        model,
        state,
        jobs: RwSignal::new(model.project().video_jobs),
        shape: RwSignal::new(VideoShape::OpenAi),
        first_s: RwSignal::new(5.0),
        give_up_min: RwSignal::new(10.0),
        ledger: use_context::<StudioLedger>(),
        batches: use_context::<BatchService>(),
        lang,
    };
    let runner = JobRunner::new(host);
    let shown = RwSignal::new(JobsView::default());
    {
        let watched = runner.clone();
        runner.on_change(move || {
            shown.try_set(watched.view());
        });
    }
    let runner = StoredValue::new_local(runner);
    let run = move |ids: Vec<String>, resubmit: bool| runner.with_value(|r| r.run(ids, resubmit));

    // The shots of the episode with what they are sent as.
    let rows = Memo::new(move |_| {
        let episode = current_episode(model, chosen);
        let shape = host.shape.get();
        model.header.track();
        let project = model.project();
        let route = host.route(&project);
        shot_clips(&project, &route, shape, episode.as_deref())
    });

    // On open: jobs saved without an id have an unknown outcome; jobs with one resume; stored
    // clips are loaded for playing.
    {
        let project = model.project();
        let (unknown, resume) = reopened_jobs(&project.video_jobs);
        for job in unknown {
            host.put_job(job);
        }
        let stored: Vec<(String, String)> = project
            .video_jobs
            .iter()
            .filter_map(|j| Some((j.shot_id.clone(), j.clip_ref.clone()?)))
            .collect();
        spawn_local(async move {
            for (shot_id, clip_ref) in stored {
                if let Ok(Some(blob)) = video::load_clip(&clip_ref).await {
                    if let Some(url) = video::object_url(&blob) {
                        runner.try_with_value(|r| {
                            r.update(|v| {
                                v.clips.insert(shot_id, url);
                            })
                        });
                    }
                }
            }
        });
        if !resume.is_empty() {
            // Resume once the connection and its key are there (they load after the page, and a
            // key that is not remembered has to be entered again first).
            let pending = StoredValue::new(Some(resume));
            Effect::new(move |_| {
                let ready = state
                    .connection
                    .with(|c| c.as_ref().is_some_and(|c| !c.key.is_empty()));
                if ready {
                    if let Some(rows) = pending.try_update_value(Option::take).flatten() {
                        run(rows, false);
                    }
                }
            });
        }
    }
    on_cleanup(move || {
        runner.try_with_value(|r| {
            for url in r.view().clips.values() {
                let _ = web_sys::Url::revoke_object_url(url);
            }
            r.detach();
        });
    });

    // Generate stays available while resumed jobs poll: a run skips the shots already in hand,
    // and the report keeps counting them.
    let generate = move |_| {
        runner.with_value(|r| {
            r.update(|v| {
                if v.active.is_empty() {
                    v.report = Default::default();
                }
                v.problem = None;
            })
        });
        run(
            rows.get_untracked().into_iter().map(|r| r.id).collect(),
            false,
        );
    };
    let retry_failed = move |_| {
        runner.with_value(|r| r.update(|v| v.problem = None));
        let failed: Vec<String> = rows
            .get_untracked()
            .into_iter()
            .map(|r| r.id)
            .filter(|id| {
                host.job(id).is_some_and(|j| {
                    matches!(j.status, VideoJobStatus::Failed | VideoJobStatus::Unknown)
                })
            })
            .collect();
        run(failed, true);
    };
    let busy = move || shown.with(|v| !v.active.is_empty());

    let report = move || {
        let r = shown.with(|v| v.report.clone());
        let average = r
            .average_latency_ms()
            .map(millis)
            .unwrap_or_else(|| "—".into());
        let cost = r.cost.map(exact_amount).unwrap_or_else(|| "—".into());
        let unpriced = r.unpriced;
        view! {
            <dl class="ds-play-usage" data-testid="clips-report" data-succeeded=r.succeeded.to_string() data-failed=r.failed.to_string()>
                <div><dt>{t("成功", "Succeeded")}</dt><dd data-testid="clips-succeeded">{r.succeeded}</dd></div>
                <div><dt>{t("失败", "Failed")}</dt><dd data-testid="clips-failed">{r.failed}</dd></div>
                <div><dt>{t("平均耗时", "Average latency")}</dt><dd data-testid="clips-latency">{average}</dd></div>
                <div><dt>{t("视频秒数", "Seconds")}</dt><dd>{format_count(r.seconds)}</dd></div>
                <div><dt>{t("费用（秒数 × 分辨率单价）", "Cost (seconds × resolution price)")}</dt><dd data-testid="clips-cost">{cost}</dd></div>
            </dl>
            <Show when=move || unpriced>
                <p class="ds-field__hint">{t("价格表中缺少此模型或分辨率的视频价格，按 0 计。", "The catalog has no video price for this model or resolution: counted as zero.")}</p>
            </Show>
        }
    };

    view! {
        <section class="ds-proj-section ds-pipe" data-testid="clips-panel" aria-labelledby="clips-panel-title">
            <h3 id="clips-panel-title">{t("视频片段", "Video clips")}</h3>
            <EpisodePicker model chosen testid="clips-episode"/>
            <div class="ds-pipe-actions">
                <label class="ds-field">
                    <span>{t("视频接口格式", "Video API shape")}</span>
                    <select data-testid="clips-shape" on:change=move |ev| {
                        if let Some(shape) = VideoShape::parse(&event_target_value(&ev)) { host.shape.set(shape) }
                    }>
                        <option value="openai" selected=move || host.shape.get() == VideoShape::OpenAi>"POST /v1/videos (OpenAI)"</option>
                        <option value="generate" selected=move || host.shape.get() == VideoShape::Generate>"POST /v1/video/generate"</option>
                    </select>
                </label>
                <label class="ds-field">
                    <span>{t("首次查询间隔（秒）", "First check after (s)")}</span>
                    <input type="number" min="0.1" step="0.1" data-testid="clips-first-poll"
                        prop:value=move || host.first_s.get().to_string()
                        on:change=positive(host.first_s)/>
                </label>
                <label class="ds-field">
                    <span>{t("放弃等待（分钟）", "Give up after (min)")}</span>
                    <input type="number" min="0.1" step="0.1" data-testid="clips-give-up"
                        prop:value=move || host.give_up_min.get().to_string()
                        on:change=positive(host.give_up_min)/>
                </label>
            </div>
            <p class="ds-field__hint">{t(
                "每个镜头的任务在发送前先保存；任务 ID 在开始轮询前保存。刷新页面后会继续轮询，已存在的任务不会重复提交。查询间隔逐步加长（×1.5，最长 30 秒）。",
                "Each shot's job is saved before it is sent, and its id before polling starts. After a reload polling resumes, and a job that exists is never submitted again. Checks back off (×1.5, at most 30 s apart).",
            )}</p>
            <div class="ds-pipe-actions">
                <button type="button" class="ds-btn" data-testid="clips-generate" on:click=generate>
                    {move || {
                        let at_once = state.connection.with(|c| concurrency(c.as_ref().map(|c| &c.connection)));
                        match lang.get() {
                            Lang::ZhCn => format!("生成本集片段（同时 {at_once} 个）"),
                            Lang::En => format!("Generate this episode's clips ({at_once} at a time)"),
                        }
                    }}
                </button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="clips-retry" on:click=retry_failed>
                    {t("重试失败的片段", "Retry failed clips")}
                </button>
                <span class="ds-tag" data-testid="clips-busy" data-busy=move || busy().to_string()>
                    {move || if busy() { t("进行中…", "Running…")() } else { "" }}
                </span>
            </div>
            {move || shown.with(|v| v.problem.clone()).map(|m| view! { <p class="ds-alert ds-alert--error" role="alert" data-testid="clips-error">{m}</p> })}
            <div role="status" aria-live="polite">{report}</div>
            <ul class="ds-pipe-clips">
                <For each=move || rows.get() key=|r| (r.id.clone(), r.plan.seconds, r.plan.size.clone()) let:row>
                    {
                        let id = row.id.clone();
                        let job = {
                            let id = id.clone();
                            Memo::new(move |_| host.jobs.with(|jobs| jobs.iter().find(|j| j.shot_id == id).cloned()))
                        };
                        let progress = {
                            let id = id.clone();
                            move || shown.with(|v| v.progress.get(&id).copied())
                        };
                        let clip = {
                            let id = id.clone();
                            move || shown.with(|v| v.clips.get(&id).cloned())
                        };
                        let changes = row.plan.changes.clone();
                        let sent = format!("{} s · {}", row.plan.seconds, if row.plan.shape == VideoShape::OpenAi { row.plan.size.clone() } else { row.plan.resolution.as_str().to_string() });
                        let retry_id = id.clone();
                        view! {
                            <li class="ds-pipe-clip" data-testid="clip-row" data-id=id.clone()
                                data-status=move || status_name(job.get().as_ref())
                                data-job=move || job.get().and_then(|j| j.provider_job_id).unwrap_or_default()>
                                <span class="ds-pipe-scene__heading">{row.label.clone()}</span>
                                <span class="ds-tag" data-testid="clip-sent">{sent}</span>
                                <span data-testid="clip-status">{move || status_label(job.get().as_ref(), lang.get())}</span>
                                {move || progress().filter(|_| job.get().is_some_and(|j| j.status == VideoJobStatus::InProgress)).map(|p| view! { <progress max="100" value=p.to_string()></progress> })}
                                {changes.into_iter().map(|c| view! { <p class="ds-field__hint" data-testid="clip-mapping">{move || c.message(lang.get())}</p> }).collect_view()}
                                {move || job.get().and_then(|j| j.error).map(|e| view! { <p class="ds-alert ds-alert--error" data-testid="clip-error">{e}</p> })}
                                <Show when=move || job.get().is_some_and(|j| matches!(j.status, VideoJobStatus::Failed | VideoJobStatus::Unknown))>
                                    {
                                        let retry_id = retry_id.clone();
                                        view! {
                                            <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="clip-retry"
                                                on:click=move |_| run(vec![retry_id.clone()], true)>
                                                {t("重试", "Retry")}
                                            </button>
                                        }
                                    }
                                </Show>
                                {move || clip().map(|url| view! {
                                    <video class="ds-pipe-video" data-testid="clip-video" src=url controls=true muted=true playsinline=true preload="auto"></video>
                                })}
                            </li>
                        }
                    }
                </For>
            </ul>
            <p class="ds-field__hint" data-testid="clips-cost-note">{t(
                "费用按价格表中视频模型在该分辨率下的每秒（或每段）单价计算。",
                "Costs use the catalog's per-second (or per-clip) price of the video model at the clip's resolution.",
            )}</p>
        </section>
    }
}
