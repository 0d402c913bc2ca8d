//! Video clips for an episode's shots, on the `video` route.
//!
//! **Never submitted twice.** A shot's job is saved in the project (and the save awaited)
//! *before* the request is sent, and its provider id is saved before polling starts. When the
//! panel opens, jobs with a provider id that are still queued or rendering resume polling; a job
//! saved but without an id (the tab closed while the request was in flight) is marked
//! "outcome unknown" and is only sent again when the user asks, since no idempotency key exists.
//!
//! **Polling** follows [`PollSchedule`] (first check after 5 s, backing off, given up after
//! 10 min, both settable here). A finished clip is downloaded at once (provider links expire),
//! kept in IndexedDB (`clips`) and played from a blob URL.
//!
//! A run works through the episode's shots with [`CONCURRENCY`] at a time, each shot submitted,
//! polled and stored before its worker takes the next (the batch engine will take this over),
//! and reports successes, failures, average latency and cost (seconds × the catalog's price at
//! the resolution). After a reload the jobs already sent resume by themselves; shots not sent
//! yet wait for "Generate" again, which skips every shot that has a job. Failed clips can be
//! retried.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use crate::domain::cost::ledger::CallSummary;
use crate::domain::cost::money::{format_count, Micros, Money};
use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;
use crate::domain::media::video_job::{
    bills_later, clip_cost, clip_fits_budget, plan_clip, shot_prompt, submit_body, ClipBudgetStop,
    ClipPlan, ClipReport, PollSchedule, VideoShape,
};
use crate::domain::project::{Budget, Project, VideoJob, VideoJobStatus};
use crate::domain::provider::connection::Connection;
use crate::domain::provider::routing::{Route, TaskType};
use crate::ui::common::ledger_view::{
    exact_amount, millis, price_call, pricing_for, record_and_show, StudioLedger,
};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, ActiveConnection, AppState};
use crate::ui::studio::batch_panel::BatchService;
use crate::ui::studio::editor_model::EditorModel;
use crate::ui::studio::script_panel::{current_episode, project_route, EpisodePicker};
use crate::web::tabs;
use crate::web::video::{self, VideoError};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How many shots render at once in a run.
pub const CONCURRENCY: usize = 2;

/// One shot as the panel lists it.
#[derive(Clone, Debug, PartialEq)]
struct ShotRow {
    id: String,
    label: String,
    plan: ClipPlan,
    prompt: String,
}

/// The shots of `episode_id` (every episode with `None`) with what each is sent as, from the
/// project as it stands (a shot edited since is planned again at submission).
fn shot_rows(
    project: &Project,
    route: &Route,
    shape: VideoShape,
    episode_id: Option<&str>,
) -> Vec<ShotRow> {
    let settings = route.video_settings();
    let resolution = settings.map(|s| s.resolution).unwrap_or_default();
    let fallback = settings.map_or(5.0, |s| f64::from(s.seconds_per_clip));
    let ratio = &project.settings.aspect_ratio;
    project
        .episodes
        .iter()
        .filter(|e| episode_id.is_none_or(|id| e.id == id))
        .flat_map(|e| e.scenes.iter())
        .flat_map(|scene| {
            scene.shots.iter().map(move |shot| {
                let seconds = if shot.duration_s > 0.0 {
                    shot.duration_s
                } else {
                    fallback
                };
                ShotRow {
                    id: shot.id.clone(),
                    label: format!("{} · {}", scene.heading, shot.number),
                    plan: plan_clip(shape, &route.model, seconds, ratio, resolution),
                    prompt: shot_prompt(shot, &scene.heading, &project.settings.style, ratio),
                }
            })
        })
        .collect()
}

/// The shared state of the panel's runs.
#[derive(Clone, Copy)]
struct Runner {
    model: EditorModel,
    state: AppState,
    jobs: RwSignal<Vec<VideoJob>>,
    progress: RwSignal<HashMap<String, u32>>,
    clips: RwSignal<HashMap<String, String>>,
    active: RwSignal<HashSet<String>>,
    report: RwSignal<ClipReport>,
    problem: RwSignal<Option<String>>,
    shape: RwSignal<VideoShape>,
    first_s: RwSignal<f64>,
    give_up_min: RwSignal<f64>,
    /// The Studio's ledger, where each finished clip's cost is recorded.
    ledger: Option<StudioLedger>,
    /// The Studio's batches: what the project's running batches have at risk counts against
    /// its budget before a clip is sent.
    batches: Option<BatchService>,
    /// The interface language, read from the panel (runs outlive the reactive context in
    /// which `use_context` finds it).
    lang: RwSignal<Lang>,
}

impl Runner {
    /// Whether the panel is still open (its signals, and the editor's, not yet disposed).
    fn alive(&self) -> bool {
        self.jobs.try_with_untracked(|_| ()).is_some()
    }

    fn refresh_jobs(&self) {
        if self.alive() {
            self.jobs.try_set(self.model.project().video_jobs);
        }
    }

    /// Replaces (or adds) the shot's job in the project; `false` when the tab is read-only.
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
        self.refresh_jobs();
        done
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

    fn schedule(&self) -> PollSchedule {
        let first = (self.first_s.get_untracked() * 1000.0).clamp(100.0, 600_000.0) as u32;
        let give_up =
            (self.give_up_min.get_untracked() * 60_000.0).clamp(1_000.0, 86_400_000.0) as u32;
        PollSchedule::with(first, give_up)
    }

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

    /// Whether one more clip (`model`, `seconds` at `resolution`) fits the project's budget:
    /// what the budget has left after the ledger's spend for the project must hold the clips
    /// that will still bill (accepted, or being sent by this run), the project's running
    /// batches' requests at their worst case, and this clip, priced as its ledger entry will be.
    fn fits_budget(
        &self,
        budget: Budget,
        project: &Project,
        connection: &Connection,
        (model, seconds, resolution): (&str, u32, Resolution),
    ) -> Result<(), ClipBudgetStop> {
        let now = tabs::now_ms();
        let price = |model: &str, seconds: u32, resolution: Resolution| -> Option<Money> {
            let call = clip_call(now, connection, model, &project.id, (seconds, resolution));
            let entry = self
                .state
                .book
                .with_untracked(|book| price_call(book, &call));
            (!entry.unpriced).then(|| entry.cost().in_currency(budget.currency))
        };
        let left = match self.ledger {
            Some(StudioLedger(ledger)) => {
                ledger.with_untracked(|all| budget.remaining(all, &project.id))
            }
            // The Studio, where the panel lives, always provides its ledger.
            None => budget.money(),
        };
        let sending = self.active.get_untracked();
        let in_flight = Money::sum(
            budget.currency,
            project
                .video_jobs
                .iter()
                .filter(|j| bills_later(j.status, sending.contains(&j.shot_id)))
                .filter_map(|j| {
                    price(
                        &j.model,
                        j.seconds,
                        Resolution::parse(&j.resolution).unwrap_or_default(),
                    )
                }),
        ) + self.batches.map_or(Money::zero(budget.currency), |b| {
            b.at_risk(&project.id, budget.currency, None)
        });
        clip_fits_budget(left, in_flight, price(model, seconds, resolution), model)
    }

    /// Marks a job failed and counts it.
    fn fail(&self, mut job: VideoJob, message: String) {
        job.status = VideoJobStatus::Failed;
        job.error = Some(message);
        self.put_job(job);
        self.report.update(|r| r.failure());
    }

    /// Runs one shot to its stored clip: submits it when it has no job (or `resubmit` and its
    /// job failed or is unknown), else resumes the job it has. Returns `false` when the run
    /// must stop (the project's budget cannot hold the clip: it is not sent).
    async fn process(self, shot_id: String, resubmit: bool) -> bool {
        let lang = self.lang.get_untracked();
        let Some(ActiveConnection { connection, key }) = self.state.connection.get_untracked()
        else {
            self.problem.set(Some(
                lang.pick(
                    "还没有连接。请先在「设置」中添加一个连接。",
                    "There is no connection yet. Add one in Settings first.",
                )
                .into(),
            ));
            return false;
        };
        let existing = self.job(&shot_id);
        let job = match existing {
            Some(job) if job.status == VideoJobStatus::Completed && job.clip_ref.is_some() => {
                return true;
            }
            Some(job)
                if job.provider_job_id.is_some()
                    && !matches!(job.status, VideoJobStatus::Failed | VideoJobStatus::Unknown) =>
            {
                job
            }
            Some(job)
                if !resubmit
                    && matches!(
                        job.status,
                        VideoJobStatus::Failed | VideoJobStatus::Unknown | VideoJobStatus::Pending
                    ) =>
            {
                return true;
            }
            _ => {
                // Save the job before sending, and wait for the save.
                let project = self.model.project();
                let route = self.route(&project);
                let shape = self.shape.get_untracked();
                let Some(row) = shot_rows(&project, &route, shape, None)
                    .into_iter()
                    .find(|r| r.id == shot_id)
                else {
                    return true;
                };
                if let Some(budget) = project.settings.budget {
                    let clip = (route.model.as_str(), row.plan.seconds, row.plan.resolution);
                    if let Err(stop) = self.fits_budget(budget, &project, &connection, clip) {
                        self.problem.set(Some(stop.message(lang)));
                        return false;
                    }
                }
                let job = VideoJob {
                    shape: Some(row.plan.shape.as_str().into()),
                    model: route.model.clone(),
                    seconds: row.plan.seconds,
                    resolution: row.plan.resolution.as_str().into(),
                    submitted_ms: Some(tabs::now_ms()),
                    ..VideoJob::pending(&row.id)
                };
                if !self.put_job(job.clone()) {
                    return true;
                }
                if let Err(e) = self.model.flush().await {
                    self.fail(job, e.message(lang));
                    return true;
                }
                let body = submit_body(
                    &row.plan,
                    &route.model,
                    &row.prompt,
                    &project.settings.style,
                );
                match video::submit(&connection, &key, row.plan.shape, &body, None).await {
                    Ok(state) => {
                        let job = VideoJob {
                            provider_job_id: Some(state.id),
                            status: state.status,
                            ..job
                        };
                        self.put_job(job.clone());
                        // The id is stored before polling starts.
                        if let Err(e) = self.model.flush().await {
                            self.problem.set(Some(e.message(lang)));
                        }
                        job
                    }
                    Err(VideoError::Api(e)) if e.kind() == "network" => {
                        let mut job = job;
                        job.status = VideoJobStatus::Unknown;
                        job.error = Some(e.message(lang));
                        self.put_job(job);
                        self.report.update(|r| r.failure());
                        return true;
                    }
                    Err(e) => {
                        self.fail(job, e.message(lang));
                        return true;
                    }
                }
            }
        };
        self.poll(job, &connection, &key).await;
        true
    }

    /// Polls a submitted job until its clip is stored, it fails, or it is given up.
    async fn poll(
        self,
        mut job: VideoJob,
        connection: &crate::domain::provider::connection::Connection,
        key: &crate::domain::provider::connection::ApiKey,
    ) {
        let lang = self.lang.get_untracked();
        let shape = job
            .shape
            .as_deref()
            .and_then(VideoShape::parse)
            .unwrap_or_default();
        let Some(id) = job.provider_job_id.clone() else {
            return;
        };
        let schedule = self.schedule();
        let submitted = job.submitted_ms.unwrap_or_else(tabs::now_ms);
        let mut attempt = 0;
        loop {
            let Some(wait) = schedule.next_wait(attempt, tabs::now_ms() - submitted) else {
                let minutes = f64::from(schedule.give_up_ms) / 60_000.0;
                self.fail(job, match lang {
                    Lang::ZhCn => format!("等待 {minutes:.1} 分钟后仍未完成，已放弃轮询（任务仍在服务商处，可重试查询）。"),
                    Lang::En => format!("Not finished after {minutes:.1} min: polling gave up (the job may still finish at the provider)."),
                });
                return;
            };
            video::sleep(wait, None).await;
            attempt += 1;
            if !self.alive() {
                return; // The editor closed.
            }
            let state = match video::status(connection, key, shape, &id, None).await {
                Ok(state) => state,
                Err(e) if e.is_transient() => continue,
                Err(e) => {
                    self.fail(job, e.message(lang));
                    return;
                }
            };
            if let Some(p) = state.progress {
                self.progress.update(|m| {
                    m.insert(job.shot_id.clone(), p);
                });
            }
            match state.status {
                VideoJobStatus::Completed => {
                    let blob = match video::download(connection, key, shape, &state, None).await {
                        Ok(blob) => blob,
                        Err(e) if e.is_transient() => continue,
                        Err(e) => {
                            self.fail(job, e.message(lang));
                            return;
                        }
                    };
                    let clip_ref = format!("{}:{}", self.model.id(), job.shot_id);
                    if let Err(e) = video::store_clip(&clip_ref, &blob).await {
                        self.fail(job, e.message(lang));
                        return;
                    }
                    let resolution = Resolution::parse(&job.resolution).unwrap_or_default();
                    let cost = self.state.book.with_untracked(|book| {
                        let (prices, _) = pricing_for(book, connection);
                        prices
                            .get(&job.model)
                            .and_then(|p| clip_cost(p, job.seconds, resolution))
                    });
                    let finished = tabs::now_ms();
                    job.status = VideoJobStatus::Completed;
                    job.clip_ref = Some(clip_ref);
                    job.cost = cost.map(|c| Micros(i64::try_from(c.micros()).unwrap_or(i64::MAX)));
                    job.error = None;
                    job.finished_ms = Some(finished);
                    let seconds = job.seconds;
                    let shot_id = job.shot_id.clone();
                    // The clip is billed: it goes in the ledger (seconds × the resolution's
                    // price, under the connection's profile), for this project.
                    let project = self.model.id();
                    let call = CallSummary {
                        latency_ms: finished - submitted,
                        ..clip_call(
                            submitted,
                            connection,
                            &job.model,
                            &project,
                            (seconds, resolution),
                        )
                    };
                    let entry = self
                        .state
                        .book
                        .with_untracked(|book| price_call(book, &call));
                    // In the ledger before the job stops counting as in flight (the budget
                    // check of the next clip counts one or the other).
                    record_and_show(entry, self.ledger, self.state.storage_error).await;
                    self.put_job(job);
                    let _ = self.model.flush().await;
                    if let Some(url) = video::object_url(&blob) {
                        self.clips.update(|m| {
                            m.insert(shot_id, url);
                        });
                    }
                    self.report
                        .update(|r| r.success(finished - submitted, seconds, cost));
                    return;
                }
                VideoJobStatus::Failed => {
                    let message = state.error.unwrap_or_else(|| "failed".into());
                    self.fail(job, message);
                    return;
                }
                status => {
                    if job.status != status {
                        job.status = status;
                        self.put_job(job.clone());
                    }
                }
            }
        }
    }

    /// Runs shots with [`CONCURRENCY`] workers.
    fn run(self, ids: Vec<String>, resubmit: bool) {
        let rows: Vec<String> = ids
            .into_iter()
            .filter(|id| !self.active.with_untracked(|a| a.contains(id)))
            .collect();
        self.active.update(|a| a.extend(rows.iter().cloned()));
        let queue = Rc::new(RefCell::new(VecDeque::from(rows)));
        for _ in 0..CONCURRENCY {
            let queue = queue.clone();
            spawn_local(async move {
                loop {
                    let next = queue.borrow_mut().pop_front();
                    let Some(id) = next else { break };
                    let go_on = self.process(id.clone(), resubmit).await;
                    self.active.try_update(|a| a.remove(&id));
                    if !go_on {
                        // The shots not started stay as they are.
                        let dropped: Vec<String> = queue.borrow_mut().drain(..).collect();
                        self.active.try_update(|a| {
                            for id in &dropped {
                                a.remove(id);
                            }
                        });
                    }
                }
            });
        }
    }
}

/// A finished clip as a call for the ledger: `seconds` at `resolution` of `model`, for
/// `project`, on the `video` route. The budget check prices clips through the same call.
fn clip_call<'a>(
    at_ms: f64,
    connection: &'a Connection,
    model: &'a str,
    project: &'a str,
    clip: (u32, Resolution),
) -> CallSummary<'a> {
    CallSummary {
        project: Some(project),
        clip: Some(clip),
        ..CallSummary::new(at_ms, connection, model, TaskType::Video.as_str())
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
    let runner = Runner {
        model,
        state,
        jobs: RwSignal::new(model.project().video_jobs),
        progress: RwSignal::new(HashMap::new()),
        clips: RwSignal::new(HashMap::new()),
        active: RwSignal::new(HashSet::new()),
        report: RwSignal::new(ClipReport::default()),
        problem: RwSignal::new(None),
        shape: RwSignal::new(VideoShape::OpenAi),
        first_s: RwSignal::new(5.0),
        give_up_min: RwSignal::new(10.0),
        ledger: use_context::<StudioLedger>(),
        batches: use_context::<BatchService>(),
        lang,
    };

    // The shots of the episode with what they are sent as.
    let rows = Memo::new(move |_| {
        let episode = current_episode(model, chosen);
        let shape = runner.shape.get();
        model.header.track();
        let project = model.project();
        let route = runner.route(&project);
        shot_rows(&project, &route, shape, episode.as_deref())
    });

    // On open: jobs saved without an id have an unknown outcome; jobs with one resume; stored
    // clips are loaded for playing.
    {
        let project = model.project();
        let stale: Vec<VideoJob> = project
            .video_jobs
            .iter()
            .filter(|j| j.status == VideoJobStatus::Pending && j.provider_job_id.is_none())
            .cloned()
            .collect();
        for mut job in stale {
            job.status = VideoJobStatus::Unknown;
            runner.put_job(job);
        }
        let resume: Vec<VideoJob> = project
            .video_jobs
            .iter()
            .filter(|j| {
                j.provider_job_id.is_some()
                    && matches!(
                        j.status,
                        VideoJobStatus::Queued
                            | VideoJobStatus::InProgress
                            | VideoJobStatus::Pending
                    )
            })
            .cloned()
            .collect();
        let stored: Vec<(String, String)> = project
            .video_jobs
            .iter()
            .filter_map(|j| Some((j.shot_id.clone(), j.clip_ref.clone()?)))
            .collect();
        spawn_local(async move {
            for (shot_id, clip_ref) in stored {
                if let Ok(Some(blob)) = video::load_clip(&clip_ref).await {
                    if let Some(url) = video::object_url(&blob) {
                        runner.clips.try_update(|m| {
                            m.insert(shot_id, url);
                        });
                    }
                }
            }
        });
        if !resume.is_empty() {
            let rows: Vec<String> = resume.into_iter().map(|j| j.shot_id).collect();
            // Resume once the connection and its key are there (they load after the page, and a
            // key that is not remembered has to be entered again first).
            let pending = StoredValue::new(Some(rows));
            Effect::new(move |_| {
                let ready = state
                    .connection
                    .with(|c| c.as_ref().is_some_and(|c| !c.key.is_empty()));
                if ready {
                    if let Some(rows) = pending.try_update_value(Option::take).flatten() {
                        runner.run(rows, false);
                    }
                }
            });
        }
    }
    on_cleanup(move || {
        if let Some(urls) = runner.clips.try_get_untracked() {
            for url in urls.values() {
                let _ = web_sys::Url::revoke_object_url(url);
            }
        }
    });

    // Generate stays available while resumed jobs poll: a run skips the shots already in hand,
    // and the report keeps counting them.
    let generate = move |_| {
        if runner.active.with_untracked(HashSet::is_empty) {
            runner.report.set(ClipReport::default());
        }
        runner.problem.set(None);
        runner.run(
            rows.get_untracked().into_iter().map(|r| r.id).collect(),
            false,
        );
    };
    let retry_failed = move |_| {
        runner.problem.set(None);
        let failed: Vec<String> = rows
            .get_untracked()
            .into_iter()
            .map(|r| r.id)
            .filter(|id| {
                runner.job(id).is_some_and(|j| {
                    matches!(j.status, VideoJobStatus::Failed | VideoJobStatus::Unknown)
                })
            })
            .collect();
        runner.run(failed, true);
    };
    let busy = move || !runner.active.with(HashSet::is_empty);

    let report = move || {
        let r = runner.report.get();
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
                        if let Some(shape) = VideoShape::parse(&event_target_value(&ev)) { runner.shape.set(shape) }
                    }>
                        <option value="openai" selected=move || runner.shape.get() == VideoShape::OpenAi>"POST /v1/videos (OpenAI)"</option>
                        <option value="generate" selected=move || runner.shape.get() == VideoShape::Generate>"POST /v1/video/generate"</option>
                    </select>
                </label>
                <label class="ds-field">
                    <span>{t("首次查询间隔（秒）", "First check after (s)")}</span>
                    <input type="number" min="0.1" step="0.1" data-testid="clips-first-poll"
                        prop:value=move || runner.first_s.get().to_string()
                        on:change=positive(runner.first_s)/>
                </label>
                <label class="ds-field">
                    <span>{t("放弃等待（分钟）", "Give up after (min)")}</span>
                    <input type="number" min="0.1" step="0.1" data-testid="clips-give-up"
                        prop:value=move || runner.give_up_min.get().to_string()
                        on:change=positive(runner.give_up_min)/>
                </label>
            </div>
            <p class="ds-field__hint">{t(
                "每个镜头的任务在发送前先保存；任务 ID 在开始轮询前保存。刷新页面后会继续轮询，已存在的任务不会重复提交。查询间隔逐步加长（×1.5，最长 30 秒）。",
                "Each shot's job is saved before it is sent, and its id before polling starts. After a reload polling resumes, and a job that exists is never submitted again. Checks back off (×1.5, at most 30 s apart).",
            )}</p>
            <div class="ds-pipe-actions">
                <button type="button" class="ds-btn" data-testid="clips-generate" on:click=generate>
                    {move || match lang.get() {
                        Lang::ZhCn => format!("生成本集片段（同时 {CONCURRENCY} 个）"),
                        Lang::En => format!("Generate this episode's clips ({CONCURRENCY} at a time)"),
                    }}
                </button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="clips-retry" on:click=retry_failed>
                    {t("重试失败的片段", "Retry failed clips")}
                </button>
                <span class="ds-tag" data-testid="clips-busy" data-busy=move || busy().to_string()>
                    {move || if busy() { t("进行中…", "Running…")() } else { "" }}
                </span>
            </div>
            {move || runner.problem.get().map(|m| view! { <p class="ds-alert ds-alert--error" role="alert" data-testid="clips-error">{m}</p> })}
            <div role="status" aria-live="polite">{report}</div>
            <ul class="ds-pipe-clips">
                <For each=move || rows.get() key=|r| (r.id.clone(), r.plan.seconds, r.plan.size.clone()) let:row>
                    {
                        let id = row.id.clone();
                        let job = {
                            let id = id.clone();
                            Memo::new(move |_| runner.jobs.with(|jobs| jobs.iter().find(|j| j.shot_id == id).cloned()))
                        };
                        let progress = {
                            let id = id.clone();
                            move || runner.progress.with(|m| m.get(&id).copied())
                        };
                        let clip = {
                            let id = id.clone();
                            move || runner.clips.with(|m| m.get(&id).cloned())
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
                                                on:click=move |_| runner.run(vec![retry_id.clone()], true)>
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
