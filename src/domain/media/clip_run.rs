//! A run of video clips over an episode, the pure half: what each shot is sent as, what a run
//! does with the job a shot already has, whether one more clip fits the project's budget, the
//! finished clip's job and ledger call, and the jobs a reopened project resumes. The executor's
//! job runner (`src/web/exec/jobs.rs`) does the IO.

use std::collections::HashSet;

use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
use crate::domain::cost::money::{Micros, Money};
use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;
use crate::domain::media::video_job::{
    bills_later, clip_fits_budget, plan_clip, shot_prompt, submit_body, ClipBudgetStop, ClipPlan,
    PollSchedule, VideoShape,
};
use crate::domain::project::{Budget, Project, VideoJob, VideoJobStatus};
use crate::domain::provider::connection::Connection;
use crate::domain::provider::routing::{Route, TaskType};

/// One shot as a run sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShotClip {
    /// The shot.
    pub id: String,
    /// "INT. 公寓 - 夜 · 1A".
    pub label: String,
    /// Duration, size and resolution it is sent with.
    pub plan: ClipPlan,
    /// The prompt.
    pub prompt: String,
}

/// The shots of `episode_id` (every episode with `None`) with what each is sent as on `route`
/// in `shape`. A shot without a duration takes the route's seconds per clip (5 without).
pub fn shot_clips(
    project: &Project,
    route: &Route,
    shape: VideoShape,
    episode_id: Option<&str>,
) -> Vec<ShotClip> {
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
                ShotClip {
                    id: shot.id.clone(),
                    label: format!("{} · {}", scene.heading, shot.number),
                    plan: plan_clip(shape, &route.model, seconds, ratio, resolution),
                    prompt: shot_prompt(shot, &scene.heading, &project.settings.style, ratio),
                }
            })
        })
        .collect()
}

/// What a run does with a shot, given the job it has.
#[derive(Clone, Debug, PartialEq)]
pub enum JobStep {
    /// Its clip is stored: nothing to do.
    Finished,
    /// Accepted by the provider and not over: poll it.
    Resume(Box<VideoJob>),
    /// Failed, of unknown outcome or saved unsent, and the run does not resubmit: leave it.
    Leave,
    /// Send it (no job yet, or resubmitting one that failed or is unknown).
    Submit,
}

/// The step for a shot whose job is `existing`; `resubmit` is the user's "retry failed".
pub fn job_step(existing: Option<&VideoJob>, resubmit: bool) -> JobStep {
    let Some(job) = existing else {
        return JobStep::Submit;
    };
    let over = matches!(job.status, VideoJobStatus::Failed | VideoJobStatus::Unknown);
    if job.status == VideoJobStatus::Completed && job.clip_ref.is_some() {
        JobStep::Finished
    } else if job.provider_job_id.is_some() && !over {
        JobStep::Resume(Box::new(job.clone()))
    } else if !resubmit && (over || job.status == VideoJobStatus::Pending) {
        JobStep::Leave
    } else {
        JobStep::Submit
    }
}

/// A clip as a call for the ledger: `seconds` at `resolution` of `model`, for `project`, on the
/// `video` route. The budget check prices clips through the same call.
pub fn clip_call<'a>(
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

/// What the project's budget has to hold besides one more clip.
#[derive(Clone, Copy, Debug)]
pub struct BudgetContext<'a> {
    /// The project's cap.
    pub budget: Budget,
    /// Every ledger entry (the project's spend is read from it).
    pub ledger: &'a [LedgerEntry],
    /// The shots this page's run is sending right now.
    pub sending: &'a HashSet<String>,
    /// What the project's running batches have at risk, in the budget's currency.
    pub batches_at_risk: Money,
}

/// Whether one more clip (`model`, `seconds` at `resolution`) fits `project`'s budget: what
/// the budget has left after the ledger's spend for the project must hold the clips that will
/// still bill (accepted, or being sent by this run), the project's running batches' requests
/// at their worst case, and this clip. `price` prices a clip as its ledger entry will
/// (`None` when unpriced).
pub fn clip_budget_check(
    context: BudgetContext<'_>,
    project: &Project,
    price: impl Fn(&str, u32, Resolution) -> Option<Money>,
    (model, seconds, resolution): (&str, u32, Resolution),
) -> Result<(), ClipBudgetStop> {
    let currency = context.budget.currency;
    let left = context.budget.remaining(context.ledger, &project.id);
    let clips = Money::sum(
        currency,
        project
            .video_jobs
            .iter()
            .filter(|j| bills_later(j.status, context.sending.contains(&j.shot_id)))
            .filter_map(|j| {
                price(
                    &j.model,
                    j.seconds,
                    Resolution::parse(&j.resolution).unwrap_or_default(),
                )
            }),
    );
    let in_flight = clips + context.batches_at_risk;
    clip_fits_budget(left, in_flight, price(model, seconds, resolution), model)
}

/// The job to save before sending `clip` on `route` in `shape`, at `now_ms`.
pub fn pending_job(clip: &ShotClip, model: &str, now_ms: f64) -> VideoJob {
    VideoJob {
        shape: Some(clip.plan.shape.as_str().into()),
        model: model.to_owned(),
        seconds: clip.plan.seconds,
        resolution: clip.plan.resolution.as_str().into(),
        submitted_ms: Some(now_ms),
        ..VideoJob::pending(&clip.id)
    }
}

/// The request body of `clip` (see [`submit_body`]).
pub fn clip_body(clip: &ShotClip, model: &str, style: &str) -> serde_json::Value {
    submit_body(&clip.plan, model, &clip.prompt, style)
}

/// The job once its clip is stored under `clip_ref` at `finished_ms`, costing `cost`.
pub fn completed_job(
    job: VideoJob,
    clip_ref: String,
    cost: Option<Money>,
    finished_ms: f64,
) -> VideoJob {
    VideoJob {
        status: VideoJobStatus::Completed,
        clip_ref: Some(clip_ref),
        cost: cost.map(|c| Micros(i64::try_from(c.micros()).unwrap_or(i64::MAX))),
        error: None,
        finished_ms: Some(finished_ms),
        ..job
    }
}

/// The jobs of a project reopened: those saved but never answered (the tab closed while the
/// request was in flight) become of unknown outcome; those the provider accepted and that are
/// not over are resumed (their shot ids).
pub fn reopened_jobs(jobs: &[VideoJob]) -> (Vec<VideoJob>, Vec<String>) {
    let unknown = jobs
        .iter()
        .filter(|j| j.status == VideoJobStatus::Pending && j.provider_job_id.is_none())
        .map(|j| VideoJob {
            status: VideoJobStatus::Unknown,
            ..j.clone()
        })
        .collect();
    let resume = jobs
        .iter()
        .filter(|j| {
            j.provider_job_id.is_some()
                && matches!(
                    j.status,
                    VideoJobStatus::Queued | VideoJobStatus::InProgress | VideoJobStatus::Pending
                )
        })
        .map(|j| j.shot_id.clone())
        .collect();
    (unknown, resume)
}

/// Why polling stopped after `schedule`'s give-up time.
pub fn given_up_message(schedule: &PollSchedule, lang: Lang) -> String {
    let minutes = f64::from(schedule.give_up_ms) / 60_000.0;
    match lang {
        Lang::ZhCn => format!(
            "等待 {minutes:.1} 分钟后仍未完成，已放弃轮询（任务仍在服务商处，可重试查询）。"
        ),
        Lang::En => format!(
            "Not finished after {minutes:.1} min: polling gave up (the job may still finish at the provider)."
        ),
    }
}

/// A poll schedule from the panel's settings: the first check after `first_s` seconds and
/// giving up after `give_up_min` minutes (clamped to 0.1 s – 10 min and 1 s – 1 day).
pub fn schedule_from(first_s: f64, give_up_min: f64) -> PollSchedule {
    let first = (first_s * 1000.0).clamp(100.0, 600_000.0) as u32;
    let give_up = (give_up_min * 60_000.0).clamp(1_000.0, 86_400_000.0) as u32;
    PollSchedule::with(first, give_up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::money::Currency;
    use crate::domain::cost::pricing::Resolution;

    fn job(status: VideoJobStatus, id: Option<&str>, clip: Option<&str>) -> VideoJob {
        VideoJob {
            status,
            provider_job_id: id.map(str::to_owned),
            clip_ref: clip.map(str::to_owned),
            model: "sora-2".into(),
            seconds: 8,
            resolution: "720p".into(),
            ..VideoJob::pending("s1")
        }
    }

    #[test]
    fn each_job_state_has_its_step() {
        use VideoJobStatus::*;
        assert_eq!(job_step(None, false), JobStep::Submit);
        assert_eq!(
            job_step(Some(&job(Completed, Some("v1"), Some("p:s1"))), true),
            JobStep::Finished
        );
        let queued = job(Queued, Some("v1"), None);
        assert_eq!(
            job_step(Some(&queued), false),
            JobStep::Resume(Box::new(queued.clone()))
        );
        for status in [Failed, Unknown] {
            assert_eq!(
                job_step(Some(&job(status, Some("v1"), None)), false),
                JobStep::Leave
            );
            assert_eq!(
                job_step(Some(&job(status, Some("v1"), None)), true),
                JobStep::Submit
            );
            assert_eq!(
                job_step(Some(&job(status, None, None)), true),
                JobStep::Submit
            );
        }
        assert_eq!(
            job_step(Some(&job(Pending, None, None)), false),
            JobStep::Leave
        );
        assert_eq!(
            job_step(Some(&job(Pending, None, None)), true),
            JobStep::Submit
        );
        // Completed without a stored clip (the download failed): sent again only on retry.
        assert_eq!(
            job_step(Some(&job(Completed, None, None)), true),
            JobStep::Submit
        );
    }

    #[test]
    fn reopening_marks_unsent_jobs_unknown_and_resumes_accepted_ones() {
        use VideoJobStatus::*;
        let jobs = [
            VideoJob {
                shot_id: "a".into(),
                ..job(Pending, None, None)
            },
            VideoJob {
                shot_id: "b".into(),
                ..job(InProgress, Some("v2"), None)
            },
            VideoJob {
                shot_id: "c".into(),
                ..job(Completed, Some("v3"), Some("p:c"))
            },
            VideoJob {
                shot_id: "d".into(),
                ..job(Pending, Some("v4"), None)
            },
        ];
        let (unknown, resume) = reopened_jobs(&jobs);
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].shot_id, "a");
        assert_eq!(unknown[0].status, Unknown);
        assert_eq!(resume, ["b", "d"]);
    }

    #[test]
    fn the_budget_holds_the_clips_that_will_bill_the_batches_and_this_clip() {
        let mut project = Project::new("p1", "剧", 0.0, "tab");
        project.video_jobs = vec![
            VideoJob {
                shot_id: "rendering".into(),
                ..job(VideoJobStatus::InProgress, Some("v1"), None)
            },
            VideoJob {
                shot_id: "sending".into(),
                ..job(VideoJobStatus::Pending, None, None)
            },
            VideoJob {
                shot_id: "failed".into(),
                ..job(VideoJobStatus::Failed, None, None)
            },
        ];
        // $0.10 a second: each 8 s clip $0.80.
        let price = |_: &str, seconds: u32, _: Resolution| {
            Some(Money::from_cents(Currency::Usd, 10 * i128::from(seconds)))
        };
        let sending: HashSet<String> = ["sending".to_string()].into();
        let context = |cents: i128| BudgetContext {
            budget: Budget {
                currency: Currency::Usd,
                amount: Micros(i64::try_from(cents).unwrap() * 10_000),
            },
            ledger: &[],
            sending: &sending,
            batches_at_risk: Money::from_cents(Currency::Usd, 40),
        };
        let clip = ("sora-2", 8, Resolution::P720);
        // In flight: 2 clips ($1.60) + batches ($0.40); this clip $0.80: $2.80 needed.
        assert_eq!(
            clip_budget_check(context(280), &project, price, clip),
            Ok(())
        );
        assert_eq!(
            clip_budget_check(context(279), &project, price, clip),
            Err(ClipBudgetStop::Reached {
                left: Money::from_cents(Currency::Usd, 279),
                in_flight: Money::from_cents(Currency::Usd, 200),
                clip: Money::from_cents(Currency::Usd, 80),
            })
        );
        assert_eq!(
            clip_budget_check(context(10_000), &project, |_, _, _| None, clip),
            Err(ClipBudgetStop::Unpriced {
                model: "sora-2".into()
            })
        );
    }

    #[test]
    fn a_completed_job_keeps_its_clip_and_cost_and_drops_its_error() {
        let failed_once = VideoJob {
            error: Some("busy".into()),
            ..job(VideoJobStatus::InProgress, Some("v1"), None)
        };
        let done = completed_job(
            failed_once,
            "p1:s1".into(),
            Some(Money::from_cents(Currency::Usd, 80)),
            9_000.0,
        );
        assert_eq!(done.status, VideoJobStatus::Completed);
        assert_eq!(done.clip_ref.as_deref(), Some("p1:s1"));
        assert_eq!(done.cost, Some(Micros(800_000)));
        assert_eq!(done.error, None);
        assert_eq!(done.finished_ms, Some(9_000.0));
        assert_eq!(done.provider_job_id.as_deref(), Some("v1"));
    }

    #[test]
    fn the_panels_settings_become_a_clamped_schedule() {
        let s = schedule_from(5.0, 10.0);
        assert_eq!((s.first_ms, s.give_up_ms), (5_000, 600_000));
        let s = schedule_from(0.0, 0.0);
        assert_eq!((s.first_ms, s.give_up_ms), (100, 1_000));
        assert_eq!(
            given_up_message(&PollSchedule::with(5_000, 90_000), Lang::En),
            "Not finished after 1.5 min: polling gave up (the job may still finish at the provider)."
        );
    }
}
