//! The executor's job kind: video clips (images and speech will run the same way). A
//! [`JobRunner`] works through shots the connection's [`concurrency`] at a time, each submitted, polled,
//! downloaded and stored before its worker takes the next:
//!
//! 1. **stored before send**: the shot's job is saved in the project (and the save awaited)
//!    before the request leaves, and its provider id before polling starts;
//! 2. **the budget**: the host plans the shot and checks the project's budget right before the
//!    send ([`JobHost::submission`], with [`crate::domain::media::clip_run::clip_budget_check`]);
//! 3. **the connection's gate**: each submit and each poll takes a permit from the connection's
//!    page-wide [`gate`] first, so clips share the rpm and concurrency with the chat runs on it;
//! 4. **polling** follows the [`PollSchedule`]; a finished clip is downloaded at once (provider
//!    links expire), kept in IndexedDB (`clips`), and its ledger entry stored before the job
//!    stops counting as in flight;
//! 5. **outcome unknown**: a job saved but never answered (the tab closed, or the network
//!    failed mid-request) is marked so and sent again only when the user asks
//!    ([`crate::domain::media::clip_run::job_step`]); accepted jobs resume polling on reopening.
//!
//! What a step means is decided in `domain::media::clip_run`; this module only does the IO.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen_futures::spawn_local;

use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
use crate::domain::cost::money::Money;
use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;
use crate::domain::media::clip_run::{
    clip_call, completed_job, given_up_message, job_step, JobStep,
};
use crate::domain::media::video_job::{ClipReport, PollSchedule, VideoShape};
use crate::domain::project::{VideoJob, VideoJobStatus};
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::web::idb::{self, StorageError, LEDGER};
use crate::web::tabs;
use crate::web::video::{self, VideoError};

use super::gate;

/// How many shots render at once on a connection whose concurrency is unknown.
pub const DEFAULT_CONCURRENCY: usize = 2;

/// How many shots render at once on `connection`: its concurrency (Settings), else
/// [`DEFAULT_CONCURRENCY`].
pub fn concurrency(connection: Option<&Connection>) -> usize {
    connection
        .and_then(|c| c.limits().concurrency)
        .map_or(DEFAULT_CONCURRENCY, |n| n.max(1) as usize)
}

/// A save in progress.
pub type SaveFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// What to send for one shot.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// The job to save before sending (pending, with model, seconds, resolution, shape).
    pub job: VideoJob,
    /// The API shape.
    pub shape: VideoShape,
    /// The request body.
    pub body: Value,
}

/// What the runner needs from the page that has the project open.
pub trait JobHost {
    /// Whether the project is still open.
    fn alive(&self) -> bool;
    /// The interface language, for messages.
    fn lang(&self) -> Lang;
    /// The active connection and its key.
    fn link(&self) -> Option<(Connection, ApiKey)>;
    /// The project's id (clips are stored under `{project}:{shot}`).
    fn project_id(&self) -> String;
    /// The shot's job in the project.
    fn job(&self, shot_id: &str) -> Option<VideoJob>;
    /// Replaces (or adds) the shot's job in the project; `false` when the tab is read-only.
    fn put_job(&self, job: VideoJob) -> bool;
    /// Saves the project now.
    fn flush(&self) -> SaveFuture;
    /// What to send for `shot_id` now, planned from the project as it stands, or why it is not
    /// sent (the project's budget cannot hold it). `Ok(None)`: the shot is gone.
    fn submission(
        &self,
        shot_id: &str,
        sending: &HashSet<String>,
    ) -> Result<Option<Submission>, String>;
    /// Prices a clip's call as its ledger entry, under the connection's profile.
    fn price(&self, call: &CallSummary<'_>) -> LedgerEntry;
    /// A clip's cost at the catalog's price (the run's report), `None` when unpriced.
    fn clip_cost(&self, connection: &Connection, job: &VideoJob) -> Option<Money>;
    /// When to check a job again.
    fn schedule(&self) -> PollSchedule;
    /// Shows a stored ledger entry (the Studio's ledger).
    fn show_entry(&self, entry: LedgerEntry);
    /// Reports a storage failure to the page.
    fn storage_failed(&self, error: StorageError);
}

/// What the panel shows about the runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobsView {
    /// Percent done per shot, as the provider reports it.
    pub progress: HashMap<String, u32>,
    /// Playable clips per shot (blob URLs).
    pub clips: HashMap<String, String>,
    /// The shots a run is working on.
    pub active: HashSet<String>,
    /// Successes, failures, latency and cost of the runs.
    pub report: ClipReport,
    /// Why a run stopped, when it did.
    pub problem: Option<String>,
}

struct Inner {
    host: Rc<dyn JobHost>,
    view: RefCell<JobsView>,
    listeners: RefCell<Vec<Rc<dyn Fn()>>>,
}

/// Runs the video jobs of one open project. Cheap to clone (a shared handle).
#[derive(Clone)]
pub struct JobRunner {
    inner: Rc<Inner>,
}

impl JobRunner {
    /// A runner for the project `host` has open.
    pub fn new(host: impl JobHost + 'static) -> JobRunner {
        JobRunner {
            inner: Rc::new(Inner {
                host: Rc::new(host),
                view: RefCell::new(JobsView::default()),
                listeners: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Calls `f` after every change of [`Self::view`].
    pub fn on_change(&self, f: impl Fn() + 'static) {
        self.inner.listeners.borrow_mut().push(Rc::new(f));
    }

    /// A copy of what the panel shows.
    pub fn view(&self) -> JobsView {
        self.inner.view.borrow().clone()
    }

    /// Changes the view and tells the listeners.
    pub fn update(&self, f: impl FnOnce(&mut JobsView)) {
        f(&mut self.inner.view.borrow_mut());
        let listeners = self.inner.listeners.borrow().clone();
        for listener in listeners {
            listener();
        }
    }

    /// Stops telling the panel (it closed); runs in progress stop at their next step.
    pub fn detach(&self) {
        self.inner.listeners.borrow_mut().clear();
    }

    /// Whether a run is working on some shot.
    pub fn busy(&self) -> bool {
        !self.inner.view.borrow().active.is_empty()
    }

    /// Runs `ids` with the connection's [`concurrency`] of workers: each shot without a job is submitted, each
    /// accepted job polled to its stored clip; with `resubmit`, failed and unknown jobs are sent
    /// again. A shot already in a run is skipped. When the budget stops a shot, the shots not
    /// started stay as they are.
    pub fn run(&self, ids: Vec<String>, resubmit: bool) {
        let view = self.inner.view.borrow().active.clone();
        let rows: Vec<String> = ids.into_iter().filter(|id| !view.contains(id)).collect();
        self.update(|v| v.active.extend(rows.iter().cloned()));
        let queue = Rc::new(RefCell::new(VecDeque::from(rows)));
        let link = self.inner.host.link();
        for _ in 0..concurrency(link.as_ref().map(|(c, _)| c)) {
            let (queue, this) = (queue.clone(), self.clone());
            spawn_local(async move {
                loop {
                    let next = queue.borrow_mut().pop_front();
                    let Some(id) = next else { break };
                    let go_on = this.process(id.clone(), resubmit).await;
                    this.update(|v| {
                        v.active.remove(&id);
                    });
                    if !go_on {
                        let dropped: Vec<String> = queue.borrow_mut().drain(..).collect();
                        this.update(|v| {
                            for id in &dropped {
                                v.active.remove(id);
                            }
                        });
                    }
                }
            });
        }
    }

    fn host(&self) -> &dyn JobHost {
        &*self.inner.host
    }

    fn problem(&self, message: String) {
        self.update(|v| v.problem = Some(message));
    }

    fn put_job(&self, job: VideoJob) -> bool {
        self.host().alive() && self.host().put_job(job)
    }

    /// Marks a job failed and counts it.
    fn fail(&self, mut job: VideoJob, message: String) {
        job.status = VideoJobStatus::Failed;
        job.error = Some(message);
        self.put_job(job);
        self.update(|v| v.report.failure());
    }

    /// Runs one shot to its stored clip (see [`job_step`]). Returns `false` when the run must
    /// stop (no connection, or the project's budget cannot hold the clip: it is not sent).
    async fn process(&self, shot_id: String, resubmit: bool) -> bool {
        let host = self.inner.host.clone();
        let lang = host.lang();
        let Some((connection, key)) = host.link() else {
            self.problem(
                lang.pick(
                    "还没有连接。请先在「设置」中添加一个连接。",
                    "There is no connection yet. Add one in Settings first.",
                )
                .into(),
            );
            return false;
        };
        if !host.alive() {
            return true;
        }
        let job = match job_step(host.job(&shot_id).as_ref(), resubmit) {
            JobStep::Finished | JobStep::Leave => return true,
            JobStep::Resume(job) => *job,
            JobStep::Submit => {
                let sending = self.inner.view.borrow().active.clone();
                let submission = match host.submission(&shot_id, &sending) {
                    Ok(Some(submission)) => submission,
                    Ok(None) => return true,
                    Err(message) => {
                        self.problem(message);
                        return false;
                    }
                };
                match self.submit(submission, &connection, &key).await {
                    Some(job) => job,
                    None => return true,
                }
            }
        };
        self.poll(job, &connection, &key).await;
        true
    }

    /// Saves the job, waits for the save, sends it and saves its provider id. `None` when it
    /// failed (or is of unknown outcome) and there is nothing to poll.
    async fn submit(
        &self,
        Submission { job, shape, body }: Submission,
        connection: &Connection,
        key: &ApiKey,
    ) -> Option<VideoJob> {
        let host = self.inner.host.clone();
        let lang = host.lang();
        // The connection's place first: a job is saved as sent only when it can leave at once.
        let permit = gate::for_connection(connection).acquire(0).await;
        if !self.put_job(job.clone()) {
            return None;
        }
        if let Err(message) = host.flush().await {
            self.fail(job, message);
            return None;
        }
        let submitted = video::submit(connection, key, shape, &body, None).await;
        drop(permit);
        match submitted {
            Ok(state) => {
                let job = VideoJob {
                    provider_job_id: Some(state.id),
                    status: state.status,
                    ..job
                };
                self.put_job(job.clone());
                // The id is stored before polling starts.
                if let Err(message) = host.flush().await {
                    self.problem(message);
                }
                Some(job)
            }
            Err(VideoError::Api(e)) if e.kind() == "network" => {
                let mut job = job;
                job.status = VideoJobStatus::Unknown;
                job.error = Some(e.message(lang));
                self.put_job(job);
                self.update(|v| v.report.failure());
                None
            }
            Err(e) => {
                self.fail(job, e.message(lang));
                None
            }
        }
    }

    /// Polls a submitted job until its clip is stored, it fails, or it is given up.
    async fn poll(&self, mut job: VideoJob, connection: &Connection, key: &ApiKey) {
        let host = self.inner.host.clone();
        let lang = host.lang();
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
                self.fail(job, given_up_message(&schedule, lang));
                return;
            };
            video::sleep(wait, None).await;
            attempt += 1;
            if !host.alive() {
                return; // The editor closed.
            }
            let permit = gate::for_connection(connection).acquire(0).await;
            let status = video::status(connection, key, shape, &id, None).await;
            drop(permit);
            let state = match status {
                Ok(state) => state,
                Err(e) if e.is_transient() => continue,
                Err(e) => {
                    self.fail(job, e.message(lang));
                    return;
                }
            };
            if let Some(p) = state.progress {
                let shot = job.shot_id.clone();
                self.update(|v| {
                    v.progress.insert(shot, p);
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
                    self.finish(job, blob, connection, submitted).await;
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

    /// Stores the clip, writes the ledger entry, then the completed job.
    async fn finish(
        &self,
        job: VideoJob,
        blob: web_sys::Blob,
        connection: &Connection,
        submitted: f64,
    ) {
        let host = self.inner.host.clone();
        let clip_ref = format!("{}:{}", host.project_id(), job.shot_id);
        if let Err(e) = video::store_clip(&clip_ref, &blob).await {
            self.fail(job, e.message(host.lang()));
            return;
        }
        let finished = tabs::now_ms();
        let resolution = Resolution::parse(&job.resolution).unwrap_or_default();
        let project = host.project_id();
        // The clip is billed: its ledger entry (seconds × the resolution's price, under the
        // connection's profile) for this project.
        let call = CallSummary {
            latency_ms: finished - submitted,
            ..clip_call(
                submitted,
                connection,
                &job.model,
                &project,
                (job.seconds, resolution),
            )
        };
        let entry = host.price(&call);
        let cost = host.clip_cost(connection, &job);
        // In the ledger before the job stops counting as in flight (the budget check of the
        // next clip counts one or the other).
        self.record(entry).await;
        let (seconds, shot_id) = (job.seconds, job.shot_id.clone());
        self.put_job(completed_job(job, clip_ref, cost, finished));
        let _ = host.flush().await;
        let url = video::object_url(&blob);
        self.update(|v| {
            if let Some(url) = url {
                v.clips.insert(shot_id, url);
            }
            v.report.success(finished - submitted, seconds, cost);
        });
    }

    async fn record(&self, entry: LedgerEntry) {
        let stored = async {
            idb::shared()
                .await?
                .append(LEDGER, &entry)
                .await
                .map(|_| ())
        };
        if let Err(e) = stored.await {
            self.host().storage_failed(e);
        }
        self.host().show_entry(entry);
    }

    fn schedule(&self) -> PollSchedule {
        self.host().schedule()
    }
}
