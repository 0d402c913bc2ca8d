//! Video jobs, the pure half: which API shape, what duration and size a shot is sent with, the
//! request body and paths, reading a job's state from either shape, the polling schedule, and
//! the per-episode report (counts, average latency, cost).
//!
//! The two shapes (PRODUCT.md, "Video APIs"):
//!
//! - [`VideoShape::OpenAi`]: `POST {base}/videos` `{model, prompt, seconds, size}`, then
//!   `GET {base}/videos/{id}` (`queued | in_progress | completed | failed`) and
//!   `GET {base}/videos/{id}/content` for the MP4;
//! - [`VideoShape::Generate`] (the seeds'): `POST {base}/video/generate` `{model, prompt,
//!   duration, resolution, style}`, then `GET {base}/video/status/{id}` (`queued | processing |
//!   completed | failed`) whose `video_url` is the MP4 once completed.
//!
//! Models accept fixed durations (Sora 4/8/12 s, Wan 5–15 s, Kling and Runway 5/10 s; the
//! seeds' endpoint 5–30 s): [`plan_clip`] maps a shot's duration to the nearest accepted one
//! (the longer on a tie, so a shot is not cut) and the frame and resolution to an accepted
//! size, and says what it changed ([`ClipPlan::notes`]).
//!
//! Polling backs off ([`PollSchedule`]): the first check after `first_ms` (5 s), each wait
//! `factor` times the last up to `max_interval_ms`, and the job is given up `give_up_ms`
//! (10 min) after it was submitted. A browser cannot receive webhooks, so polling is the design.
//!
//! A finished clip is downloaded under a byte cap ([`CLIP_DOWNLOAD_CAP_BYTES`], 512 MiB): the
//! declared size is checked before reading and every chunk is counted ([`DownloadMeter`]), so a
//! wrong link or a hostile server fails with [`ClipTooLarge`] instead of filling the memory.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::cost::money::Money;
use crate::domain::cost::pricing::{ModelPrice, Resolution, Usage};
use crate::domain::i18n::Lang;
use crate::domain::project::{Shot, VideoJobStatus};

/// Which video API a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoShape {
    /// `/v1/videos` (OpenAI style, the relay standard).
    #[default]
    #[serde(rename = "openai")]
    OpenAi,
    /// `/v1/video/generate` (the seeds' shape).
    Generate,
}

impl VideoShape {
    /// Both shapes.
    pub const ALL: [VideoShape; 2] = [VideoShape::OpenAi, VideoShape::Generate];

    /// `openai` or `generate`.
    pub fn as_str(self) -> &'static str {
        match self {
            VideoShape::OpenAi => "openai",
            VideoShape::Generate => "generate",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(text: &str) -> Option<VideoShape> {
        VideoShape::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The path, under the base URL, a job is submitted to.
    pub fn submit_path(self) -> &'static str {
        match self {
            VideoShape::OpenAi => "/videos",
            VideoShape::Generate => "/video/generate",
        }
    }

    /// The path of a job's status; `None` for an id that is not safe in a path.
    pub fn status_path(self, id: &str) -> Option<String> {
        safe_id(id).then(|| match self {
            VideoShape::OpenAi => format!("/videos/{id}"),
            VideoShape::Generate => format!("/video/status/{id}"),
        })
    }

    /// The path of the finished clip under the base URL (OpenAI style); the seeds' shape gives a
    /// `video_url` instead.
    pub fn content_path(self, id: &str) -> Option<String> {
        match self {
            VideoShape::OpenAi if safe_id(id) => Some(format!("/videos/{id}/content")),
            _ => None,
        }
    }
}

/// Whether a provider's job id can go into a URL path as it is.
pub fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && id != "."
        && id != ".."
}

/// The durations a model accepts, in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durations {
    /// Exactly these.
    List(&'static [u32]),
    /// Any whole number in this inclusive range.
    Range(u32, u32),
}

impl Durations {
    /// What `model` accepts on `shape`.
    pub fn for_model(shape: VideoShape, model: &str) -> Durations {
        if shape == VideoShape::Generate {
            return Durations::Range(5, 30);
        }
        let model = model.to_ascii_lowercase();
        if model.starts_with("sora") {
            Durations::List(&[4, 8, 12])
        } else if model.starts_with("wan") {
            Durations::Range(5, 15)
        } else {
            Durations::List(&[5, 10])
        }
    }

    /// The accepted duration nearest to `seconds` (the longer on a tie).
    pub fn nearest(self, seconds: f64) -> u32 {
        let seconds = if seconds.is_finite() { seconds } else { 0.0 };
        match self {
            Durations::Range(low, high) => {
                let rounded = seconds.round().clamp(f64::from(low), f64::from(high));
                rounded as u32
            }
            Durations::List(values) => {
                let mut best = values[0];
                for &value in values {
                    let (d, b) = (
                        (f64::from(value) - seconds).abs(),
                        (f64::from(best) - seconds).abs(),
                    );
                    if d < b || (d == b && value > best) {
                        best = value;
                    }
                }
                best
            }
        }
    }

    /// "4, 8 or 12 s" / "5–30 s".
    pub fn describe(self, lang: Lang) -> String {
        let or = lang.pick("或", "or");
        match self {
            Durations::Range(low, high) => format!("{low}–{high} s"),
            Durations::List(values) => {
                let names: Vec<String> = values.iter().map(u32::to_string).collect();
                match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} {or} {last} s", rest.join(", "))
                    }
                    _ => format!("{} s", names.join("")),
                }
            }
        }
    }
}

/// What the shot is sent as.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipPlan {
    /// The shape.
    pub shape: VideoShape,
    /// Seconds sent.
    pub seconds: u32,
    /// The resolution billed (and sent, on the seeds' shape).
    pub resolution: Resolution,
    /// `720x1280`…, sent on the OpenAI shape.
    pub size: String,
    /// What was changed from the shot and the settings, for the UI.
    pub changes: Vec<ClipChange>,
}

/// One adjustment [`plan_clip`] made.
#[derive(Clone, Debug, PartialEq)]
pub enum ClipChange {
    /// The shot's duration is not accepted.
    Duration {
        /// The shot's duration.
        asked: f64,
        /// What is sent.
        sent: u32,
        /// What the model accepts.
        accepted: Durations,
    },
    /// The frame has no size on this API: the nearest is used.
    Frame {
        /// The project's frame.
        asked: String,
        /// The size sent.
        sent: String,
    },
    /// The resolution is not offered on this API.
    Resolution {
        /// The route's resolution.
        asked: Resolution,
        /// What is sent.
        sent: Resolution,
    },
}

impl ClipChange {
    /// The change in words.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                ClipChange::Duration {
                    asked,
                    sent,
                    accepted,
                },
                Lang::ZhCn,
            ) => format!(
                "镜头时长 {asked} 秒，模型只接受 {}，按 {sent} 秒生成。",
                accepted.describe(lang)
            ),
            (
                ClipChange::Duration {
                    asked,
                    sent,
                    accepted,
                },
                Lang::En,
            ) => format!(
                "The shot is {asked} s; the model accepts {}, so it is generated at {sent} s.",
                accepted.describe(lang)
            ),
            (ClipChange::Frame { asked, sent }, Lang::ZhCn) => {
                format!("画幅 {asked} 在此接口没有对应尺寸，使用 {sent}。")
            }
            (ClipChange::Frame { asked, sent }, Lang::En) => {
                format!("This API has no size for the {asked} frame; {sent} is used.")
            }
            (ClipChange::Resolution { asked, sent }, Lang::ZhCn) => format!(
                "此接口不提供 {}，按 {} 生成。",
                asked.as_str(),
                sent.as_str()
            ),
            (ClipChange::Resolution { asked, sent }, Lang::En) => format!(
                "This API does not offer {}; {} is used.",
                asked.as_str(),
                sent.as_str()
            ),
        }
    }
}

/// Maps a shot's duration, the project's frame and the route's resolution to what `model`
/// accepts on `shape`.
pub fn plan_clip(
    shape: VideoShape,
    model: &str,
    shot_seconds: f64,
    aspect_ratio: &str,
    resolution: Resolution,
) -> ClipPlan {
    let mut changes = Vec::new();
    let accepted = Durations::for_model(shape, model);
    let seconds = accepted.nearest(shot_seconds);
    if (f64::from(seconds) - shot_seconds).abs() > f64::EPSILON {
        changes.push(ClipChange::Duration {
            asked: shot_seconds,
            sent: seconds,
            accepted,
        });
    }
    let sent_resolution = match (shape, resolution) {
        (VideoShape::OpenAi, Resolution::P4k) => Resolution::P1080,
        (_, r) => r,
    };
    if sent_resolution != resolution {
        changes.push(ClipChange::Resolution {
            asked: resolution,
            sent: sent_resolution,
        });
    }
    let vertical = match aspect_ratio.split_once(':') {
        Some((w, h)) => match (w.trim().parse::<f64>(), h.trim().parse::<f64>()) {
            (Ok(w), Ok(h)) if w > 0.0 && h > 0.0 => w <= h,
            _ => true,
        },
        None => true,
    };
    let (short, long) = match sent_resolution {
        Resolution::P720 => (720, 1280),
        _ => (1080, 1920),
    };
    let size = if vertical {
        format!("{short}x{long}")
    } else {
        format!("{long}x{short}")
    };
    if shape == VideoShape::OpenAi && !matches!(aspect_ratio.trim(), "9:16" | "16:9") {
        changes.push(ClipChange::Frame {
            asked: aspect_ratio.trim().to_string(),
            sent: size.clone(),
        });
    }
    ClipPlan {
        shape,
        seconds,
        resolution: sent_resolution,
        size,
        changes,
    }
}

/// The prompt a shot is rendered from: style, frame, camera and what happens. Plain text.
pub fn shot_prompt(shot: &Shot, heading: &str, style: &str, aspect_ratio: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut add = |label: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            parts.push(format!("{label}: {value}"));
        }
    };
    add("Scene", heading);
    // The shot number keeps two shots with the same fields from sending the same request.
    add("Shot", &shot.number);
    add("Frame", aspect_ratio);
    add("Style", style);
    add("Shot size", &shot.shot_size);
    add("Camera angle", &shot.camera_angle);
    add("Camera movement", &shot.movement);
    add("Action", &shot.action);
    add("Dialogue", &shot.dialogue);
    add("Tone", &shot.emotional_tone);
    add("Visual elements", &shot.visual_elements.join(", "));
    add("Characters", &shot.characters.join(", "));
    if parts.is_empty() {
        parts.push(format!("Shot {}", shot.number).trim_end().to_string());
    }
    parts.join("\n")
}

/// The JSON body that submits a job.
pub fn submit_body(plan: &ClipPlan, model: &str, prompt: &str, style: &str) -> Value {
    match plan.shape {
        VideoShape::OpenAi => json!({
            "model": model,
            "prompt": prompt,
            "seconds": plan.seconds.to_string(),
            "size": plan.size,
        }),
        VideoShape::Generate => {
            let mut body = json!({
                "model": model,
                "prompt": prompt,
                "duration": plan.seconds,
                "resolution": plan.resolution.as_str(),
            });
            if !style.trim().is_empty() {
                body["style"] = json!(style.trim());
            }
            body
        }
    }
}

/// A job as the provider reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobState {
    /// The provider's id.
    pub id: String,
    /// Where it stands.
    pub status: VideoJobStatus,
    /// 0–100, when reported.
    pub progress: Option<u32>,
    /// The provider's error message, when failed.
    pub error: Option<String>,
    /// The clip's link (the seeds' shape), once completed.
    pub video_url: Option<String>,
}

/// Why a job reply could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobReadError(pub String);

impl JobReadError {
    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!("视频接口的回复无法识别：{}", self.0),
            Lang::En => format!("The video API's reply could not be read: {}", self.0),
        }
    }
}

/// The largest clip a download reads: 512 MiB. A clip is at most ten minutes
/// ([`crate::domain::provider::routing::CLIP_SECONDS_CAP`]); at 1080p and ~7 Mbit/s that is
/// about 512 MiB, and a short-drama shot of 5–15 s is a few megabytes. Anything larger is a
/// wrong link or a hostile server, and reading it would fill the tab's memory.
pub const CLIP_DOWNLOAD_CAP_BYTES: u64 = 512 * 1024 * 1024;

/// A clip download stopped because it was larger than its cap; nothing of it was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClipTooLarge {
    /// The cap, in bytes.
    pub cap_bytes: u64,
    /// The size the server declared (`Content-Length`), when that is what gave it away.
    pub declared_bytes: Option<u64>,
}

impl ClipTooLarge {
    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        // Whole MiB, rounded up (integers: no float formatting).
        let mib = |bytes: u64| bytes.div_ceil(1024 * 1024);
        let cap = mib(self.cap_bytes);
        match (self.declared_bytes, lang) {
            (Some(size), Lang::ZhCn) => format!(
                "视频文件太大（{} MB，上限 {cap} MB）：未下载，也没有保存任何内容。",
                mib(size)
            ),
            (Some(size), Lang::En) => format!(
                "The clip is too large ({} MB, limit {cap} MB): it was not downloaded and nothing was kept.",
                mib(size)
            ),
            (None, Lang::ZhCn) => {
                format!("视频文件超过 {cap} MB 上限：下载已停止，没有保存任何内容。")
            }
            (None, Lang::En) => format!(
                "The clip is larger than the {cap} MB limit: the download was stopped and nothing was kept."
            ),
        }
    }
}

/// Counts a download against its cap: the size the server declares first, before reading,
/// then every chunk as it arrives (a server may declare nothing, or lie), so a download stops
/// as soon as it passes the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DownloadMeter {
    cap_bytes: u64,
    read_bytes: u64,
}

impl DownloadMeter {
    /// A meter for a download of at most `cap_bytes`.
    pub fn new(cap_bytes: u64) -> DownloadMeter {
        DownloadMeter {
            cap_bytes,
            read_bytes: 0,
        }
    }

    /// Checks the declared size, the `Content-Length` header's text, if any (a header that is
    /// not a number says nothing: the chunks are counted anyway).
    pub fn declared(&self, content_length: Option<&str>) -> Result<(), ClipTooLarge> {
        match content_length.and_then(|text| text.trim().parse::<u64>().ok()) {
            Some(size) if size > self.cap_bytes => Err(ClipTooLarge {
                cap_bytes: self.cap_bytes,
                declared_bytes: Some(size),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a chunk of `bytes`; an error once the total passes the cap.
    pub fn add(&mut self, bytes: u64) -> Result<(), ClipTooLarge> {
        self.read_bytes = self.read_bytes.saturating_add(bytes);
        if self.read_bytes > self.cap_bytes {
            return Err(ClipTooLarge {
                cap_bytes: self.cap_bytes,
                declared_bytes: None,
            });
        }
        Ok(())
    }

    /// The bytes counted so far.
    pub fn read_bytes(&self) -> u64 {
        self.read_bytes
    }
}

/// Reads a job object of either shape.
pub fn parse_job(body: &str) -> Result<JobState, JobReadError> {
    let value: Value =
        serde_json::from_str(body).map_err(|_| JobReadError("not JSON / 不是 JSON".into()))?;
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| safe_id(id))
        .ok_or_else(|| JobReadError("no usable `id` / 缺少可用的 id".into()))?
        .to_string();
    let status = match value.get("status").and_then(Value::as_str) {
        Some("queued" | "pending" | "submitted") => VideoJobStatus::Queued,
        Some("in_progress" | "processing" | "running") => VideoJobStatus::InProgress,
        Some("completed" | "succeeded" | "success") => VideoJobStatus::Completed,
        Some("failed" | "error" | "cancelled") => VideoJobStatus::Failed,
        Some(other) => return Err(JobReadError(format!("status `{other}`"))),
        None => return Err(JobReadError("no `status` / 缺少 status".into())),
    };
    let progress = value
        .get("progress")
        .and_then(Value::as_f64)
        .map(|p| p.clamp(0.0, 100.0) as u32);
    let error = match value.get("error") {
        Some(Value::Object(error)) => Some(
            error
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| error.get("code").and_then(Value::as_str))
                .unwrap_or("failed")
                .to_string(),
        ),
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        _ => None,
    }
    .or_else(|| (status == VideoJobStatus::Failed).then(|| "failed".to_string()));
    let video_url = value
        .get("video_url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string);
    Ok(JobState {
        id,
        status,
        progress,
        error,
        video_url,
    })
}

/// When to check a job again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PollSchedule {
    /// The first wait, in milliseconds.
    pub first_ms: u32,
    /// Each wait is the previous one times this (at least 1).
    pub factor: f64,
    /// The longest wait.
    pub max_interval_ms: u32,
    /// How long after submission the job is given up.
    pub give_up_ms: u32,
}

impl Default for PollSchedule {
    fn default() -> PollSchedule {
        PollSchedule {
            first_ms: 5_000,
            factor: 1.5,
            max_interval_ms: 30_000,
            give_up_ms: 600_000,
        }
    }
}

impl PollSchedule {
    /// A schedule with the given first wait and give-up time (the rest by default), each at
    /// least 100 ms.
    pub fn with(first_ms: u32, give_up_ms: u32) -> PollSchedule {
        let first_ms = first_ms.max(100);
        PollSchedule {
            first_ms,
            max_interval_ms: PollSchedule::default().max_interval_ms.max(first_ms),
            give_up_ms: give_up_ms.max(first_ms),
            ..PollSchedule::default()
        }
    }

    /// The wait before check number `attempt` (from 0), without the give-up.
    pub fn interval(&self, attempt: u32) -> u32 {
        let factor = if self.factor.is_finite() {
            self.factor.max(1.0)
        } else {
            1.0
        };
        let wait = f64::from(self.first_ms) * factor.powi(attempt.min(64) as i32);
        wait.min(f64::from(self.max_interval_ms.max(self.first_ms))) as u32
    }

    /// The wait before check `attempt`, `elapsed_ms` after the job was submitted; `None` once
    /// the job is to be given up. The last wait is shortened so the last check falls on the
    /// give-up time.
    pub fn next_wait(&self, attempt: u32, elapsed_ms: f64) -> Option<u32> {
        let left = f64::from(self.give_up_ms) - elapsed_ms.max(0.0);
        if left <= 0.0 {
            return None;
        }
        Some((f64::from(self.interval(attempt))).min(left).ceil() as u32)
    }
}

/// What a per-episode run reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClipReport {
    /// Clips finished and stored.
    pub succeeded: u32,
    /// Clips that failed (at the provider, on the network, or given up).
    pub failed: u32,
    /// Milliseconds from submission to stored clip, of the succeeded ones.
    pub latencies_ms: Vec<f64>,
    /// Seconds generated, of the succeeded clips.
    pub seconds: u64,
    /// What the succeeded clips cost, per the price catalog; `None` until one is priced.
    pub cost: Option<Money>,
    /// True when a clip's model or resolution had no price: that part counts as zero.
    pub unpriced: bool,
}

impl ClipReport {
    /// Counts a finished clip.
    pub fn success(&mut self, latency_ms: f64, seconds: u32, cost: Option<Money>) {
        self.succeeded += 1;
        self.latencies_ms.push(latency_ms);
        self.seconds += u64::from(seconds);
        match cost {
            Some(cost) => {
                self.cost = Some(match self.cost {
                    Some(sum) if sum.currency() == cost.currency() => {
                        Money::from_units(cost.currency(), sum.units() + cost.units())
                    }
                    _ => cost,
                })
            }
            None => self.unpriced = true,
        }
    }

    /// Counts a failed clip.
    pub fn failure(&mut self) {
        self.failed += 1;
    }

    /// The average latency of the succeeded clips.
    pub fn average_latency_ms(&self) -> Option<f64> {
        (!self.latencies_ms.is_empty())
            .then(|| self.latencies_ms.iter().sum::<f64>() / self.latencies_ms.len() as f64)
    }
}

/// A clip's cost: seconds × the price at its resolution (or per clip), from the catalog entry.
/// `None` without a video price at that resolution.
pub fn clip_cost(price: &ModelPrice, seconds: u32, resolution: Resolution) -> Option<Money> {
    let (money, missing) = price.cost_of(&Usage {
        clips: 1,
        seconds_per_clip: u64::from(seconds),
        resolution,
        ..Usage::default()
    });
    missing.is_empty().then_some(money)
}

/// Why a clip was not sent: the project's budget could not hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClipBudgetStop {
    /// `left` is what the budget holds after the ledger's spend for the project, `in_flight`
    /// what the project's work sent and not yet billed may still cost (clips, and batch
    /// requests at their worst case), `clip` this clip's price.
    Reached {
        left: Money,
        in_flight: Money,
        clip: Money,
    },
    /// The catalog has no price for the model, so the budget cannot be checked.
    Unpriced { model: String },
}

impl ClipBudgetStop {
    /// What the user is told.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Reached { left, in_flight, clip }, Lang::ZhCn) => format!(
                "已停止生成片段：项目预算只剩 {left}，进行中的片段和批量请求还可能计费 {in_flight}，下一个片段需 {clip}，会超出项目预算。在项目设置中提高预算后再点击生成；未生成的镜头不受影响。"
            ),
            (Self::Reached { left, in_flight, clip }, Lang::En) => format!(
                "Clip generation stopped: {left} is left of the project's budget, the work in \
                 progress (clips, batch requests) may still bill {in_flight}, and the next clip \
                 costs {clip}, which would exceed it. Raise the project's budget in its settings, then generate again; the \
                 shots not yet made are untouched."
            ),
            (Self::Unpriced { model }, Lang::ZhCn) => format!(
                "已停止生成片段：项目设置了预算，但价格表中没有 {model} 的视频价格，无法核对预算。请在价格表中补充后再生成。"
            ),
            (Self::Unpriced { model }, Lang::En) => format!(
                "Clip generation stopped: the project has a budget but the catalog has no video \
                 price for {model}, so the budget cannot be checked. Add its price, then \
                 generate again."
            ),
        }
    }
}

/// Whether one more clip fits a project's budget: `left` (the cap less the ledger's spend for
/// the project) must hold the work in flight (clips and batch requests sent, not yet billed)
/// and this clip (`clip`, priced as its ledger entry will be; `None` when the catalog has no
/// price for `model`).
pub fn clip_fits_budget(
    left: Money,
    in_flight: Money,
    clip: Option<Money>,
    model: &str,
) -> Result<(), ClipBudgetStop> {
    let Some(clip) = clip else {
        return Err(ClipBudgetStop::Unpriced {
            model: model.to_owned(),
        });
    };
    if in_flight + clip > left {
        return Err(ClipBudgetStop::Reached {
            left,
            in_flight,
            clip,
        });
    }
    Ok(())
}

/// Whether a job will still be billed: accepted by the provider and not finished, or being
/// sent right now (`sending`: this page's run is submitting it).
pub fn bills_later(status: VideoJobStatus, sending: bool) -> bool {
    match status {
        VideoJobStatus::Queued | VideoJobStatus::InProgress => true,
        VideoJobStatus::Pending => sending,
        VideoJobStatus::Completed | VideoJobStatus::Failed | VideoJobStatus::Unknown => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::money::Currency;
    use crate::domain::cost::pricing::PriceSet;

    #[test]
    fn a_download_stops_at_its_cap() {
        let meter = DownloadMeter::new(1_000);
        // The declared size first: refused before a byte is read.
        let declared = meter.declared(Some(" 1001 ")).unwrap_err();
        assert_eq!(
            declared,
            ClipTooLarge {
                cap_bytes: 1_000,
                declared_bytes: Some(1_001)
            }
        );
        assert_eq!(meter.declared(Some("1000")), Ok(()));
        assert_eq!(
            meter.declared(Some("a lot")),
            Ok(()),
            "not a number: counted"
        );
        assert_eq!(meter.declared(None), Ok(()));
        // Then the chunks: a server that declares nothing (or lies) is stopped at the cap.
        let mut meter = DownloadMeter::new(1_000);
        for _ in 0..10 {
            assert_eq!(meter.add(100), Ok(()));
        }
        assert_eq!(meter.read_bytes(), 1_000);
        assert_eq!(
            meter.add(1),
            Err(ClipTooLarge {
                cap_bytes: 1_000,
                declared_bytes: None
            })
        );
        assert!(DownloadMeter::new(u64::MAX).add(u64::MAX).is_ok());
        // The product's cap, and what the user reads.
        assert_eq!(CLIP_DOWNLOAD_CAP_BYTES, 512 << 20);
        let big = ClipTooLarge {
            cap_bytes: CLIP_DOWNLOAD_CAP_BYTES,
            declared_bytes: Some(3 << 30),
        };
        assert!(big.message(Lang::En).contains("3072 MB, limit 512 MB"));
        assert!(big.message(Lang::ZhCn).contains("上限 512 MB"));
        let counted = ClipTooLarge {
            declared_bytes: None,
            ..big
        };
        assert!(counted.message(Lang::En).contains("download was stopped"));
        assert!(counted.message(Lang::ZhCn).contains("下载已停止"));
    }

    #[test]
    fn a_clip_is_sent_only_when_the_budget_holds_it_and_the_clips_in_flight() {
        let usd = |cents: i128| Money::from_micros(Currency::Usd, cents * 10_000);
        // $1 left, $0.50 in flight: a $0.50 clip fits exactly, a $0.51 one does not.
        assert_eq!(
            clip_fits_budget(usd(100), usd(50), Some(usd(50)), "sora-2"),
            Ok(())
        );
        let stop = clip_fits_budget(usd(100), usd(50), Some(usd(51)), "sora-2").unwrap_err();
        assert_eq!(
            stop,
            ClipBudgetStop::Reached {
                left: usd(100),
                in_flight: usd(50),
                clip: usd(51)
            }
        );
        assert!(stop
            .message(Lang::En)
            .contains("$1.00 is left of the project's budget"));
        assert!(stop.message(Lang::En).contains("the next clip costs $0.51"));
        assert!(stop.message(Lang::ZhCn).contains("项目预算只剩 $1.00"));
        // Over the cap already (negative left): nothing fits.
        assert!(clip_fits_budget(usd(-5), usd(0), Some(usd(1)), "m").is_err());
        // No price: the budget cannot be checked, so nothing is sent.
        let unpriced = clip_fits_budget(usd(100), usd(0), None, "kling-v2").unwrap_err();
        assert!(unpriced
            .message(Lang::En)
            .contains("no video price for kling-v2"));
        assert!(unpriced.message(Lang::ZhCn).contains("kling-v2"));
    }

    #[test]
    fn jobs_accepted_or_being_sent_will_bill() {
        assert!(bills_later(VideoJobStatus::Queued, false));
        assert!(bills_later(VideoJobStatus::InProgress, false));
        assert!(bills_later(VideoJobStatus::Pending, true));
        assert!(!bills_later(VideoJobStatus::Pending, false));
        for done in [
            VideoJobStatus::Completed,
            VideoJobStatus::Failed,
            VideoJobStatus::Unknown,
        ] {
            assert!(!bills_later(done, true));
        }
    }

    #[test]
    fn durations_map_to_what_the_model_accepts() {
        let sora = Durations::for_model(VideoShape::OpenAi, "sora-2");
        assert_eq!(sora.nearest(5.0), 4);
        assert_eq!(sora.nearest(6.0), 8, "a tie goes to the longer");
        assert_eq!(sora.nearest(30.0), 12);
        let kling = Durations::for_model(VideoShape::OpenAi, "video-gen-2.1");
        assert_eq!(kling.nearest(7.4), 5);
        assert_eq!(kling.nearest(7.5), 10);
        let wan = Durations::for_model(VideoShape::OpenAi, "wan-2.2");
        assert_eq!(
            (wan.nearest(3.0), wan.nearest(7.4), wan.nearest(99.0)),
            (5, 7, 15)
        );
        let generate = Durations::for_model(VideoShape::Generate, "sora-2");
        assert_eq!(
            (
                generate.nearest(2.0),
                generate.nearest(12.0),
                generate.nearest(f64::NAN)
            ),
            (5, 12, 5)
        );
        assert_eq!(sora.describe(Lang::En), "4, 8 or 12 s");
        assert_eq!(generate.describe(Lang::ZhCn), "5–30 s");
    }

    #[test]
    fn plans_say_what_they_changed() {
        let plan = plan_clip(VideoShape::OpenAi, "sora-2", 5.0, "9:16", Resolution::P4k);
        assert_eq!(
            (plan.seconds, plan.size.as_str(), plan.resolution),
            (4, "1080x1920", Resolution::P1080)
        );
        assert_eq!(plan.changes.len(), 2);
        assert!(plan.changes[0]
            .message(Lang::En)
            .contains("generated at 4 s"));
        assert!(plan.changes[1].message(Lang::ZhCn).contains("4k"));
        let exact = plan_clip(
            VideoShape::OpenAi,
            "video-gen-2.1",
            5.0,
            "16:9",
            Resolution::P720,
        );
        assert_eq!((exact.size.as_str(), exact.changes.len()), ("1280x720", 0));
        let square = plan_clip(
            VideoShape::OpenAi,
            "video-gen-2.1",
            5.0,
            "1:1",
            Resolution::P720,
        );
        assert!(matches!(square.changes[0], ClipChange::Frame { .. }));
        let seeds = plan_clip(
            VideoShape::Generate,
            "video-gen-2.1",
            5.0,
            "1:1",
            Resolution::P4k,
        );
        assert!(seeds.changes.is_empty());
        let body = submit_body(&seeds, "video-gen-2.1", "p", "noir");
        assert_eq!(
            body,
            json!({"model":"video-gen-2.1","prompt":"p","duration":5,"resolution":"4k","style":"noir"})
        );
        let body = submit_body(&exact, "video-gen-2.1", "p", "noir");
        assert_eq!(
            body,
            json!({"model":"video-gen-2.1","prompt":"p","seconds":"5","size":"1280x720"})
        );
    }

    #[test]
    fn paths_refuse_unsafe_ids() {
        assert_eq!(
            VideoShape::OpenAi.status_path("video_1").unwrap(),
            "/videos/video_1"
        );
        assert_eq!(
            VideoShape::Generate.status_path("vgen_1").unwrap(),
            "/video/status/vgen_1"
        );
        assert_eq!(
            VideoShape::OpenAi.content_path("video_1").unwrap(),
            "/videos/video_1/content"
        );
        assert_eq!(VideoShape::Generate.content_path("vgen_1"), None);
        for bad in ["", "..", "a/b", "a?key=1", "a b", "%2e"] {
            assert_eq!(VideoShape::OpenAi.status_path(bad), None, "{bad}");
        }
        assert_eq!(VideoShape::parse("generate"), Some(VideoShape::Generate));
    }

    #[test]
    fn jobs_of_both_shapes_are_read() {
        let openai = r#"{"id":"video_1","object":"video","status":"in_progress","progress":40,"error":null}"#;
        let job = parse_job(openai).unwrap();
        assert_eq!(
            (job.status, job.progress),
            (VideoJobStatus::InProgress, Some(40))
        );
        let seeds = r#"{"id":"vgen_1","status":"completed","video_url":"http://127.0.0.1/v1/video/files/vgen_1.mp4"}"#;
        let job = parse_job(seeds).unwrap();
        assert_eq!(job.status, VideoJobStatus::Completed);
        assert!(job.video_url.unwrap().ends_with("vgen_1.mp4"));
        let failed = r#"{"id":"video_2","status":"failed","error":{"code":"video_generation_failed","message":"boom"}}"#;
        assert_eq!(parse_job(failed).unwrap().error.as_deref(), Some("boom"));
        let processing =
            r#"{"id":"vgen_2","status":"processing","video_url":"javascript:alert(1)"}"#;
        let job = parse_job(processing).unwrap();
        assert_eq!(
            (job.status, job.video_url),
            (VideoJobStatus::InProgress, None)
        );
        assert!(parse_job("<html>").is_err());
        assert!(parse_job(r#"{"id":"../x","status":"queued"}"#).is_err());
        assert!(parse_job(r#"{"id":"v","status":"weird"}"#)
            .unwrap_err()
            .message(Lang::En)
            .contains("weird"));
    }

    #[test]
    fn polling_backs_off_and_gives_up() {
        let s = PollSchedule::default();
        let waits: Vec<u32> = (0..8).map(|a| s.interval(a)).collect();
        assert_eq!(
            waits,
            vec![5_000, 7_500, 11_250, 16_875, 25_312, 30_000, 30_000, 30_000]
        );
        assert_eq!(s.next_wait(0, 0.0), Some(5_000));
        assert_eq!(
            s.next_wait(9, 590_000.0),
            Some(10_000),
            "the last wait lands on the give-up"
        );
        assert_eq!(s.next_wait(9, 600_000.0), None);
        // Total checks before giving up stay modest (not the seeds' 2 s × 60 = 2 min).
        let (mut elapsed, mut checks) = (0.0, 0);
        while let Some(wait) = s.next_wait(checks, elapsed) {
            elapsed += f64::from(wait);
            checks += 1;
        }
        assert_eq!(elapsed, 600_000.0);
        assert!(checks < 30, "{checks}");
        let fast = PollSchedule::with(10, 50);
        assert_eq!((fast.first_ms, fast.give_up_ms), (100, 100));
    }

    #[test]
    fn reports_count_average_and_price() {
        let seed = PriceSet::seed();
        let price = seed.get("video-gen-2.1").unwrap();
        let cost = clip_cost(price, 5, Resolution::P1080).unwrap();
        assert_eq!(
            (cost.currency(), cost.display()),
            (Currency::Usd, "$0.25".to_string())
        );
        let mut report = ClipReport::default();
        assert_eq!(report.average_latency_ms(), None);
        report.success(1_000.0, 5, Some(cost));
        report.success(3_000.0, 5, Some(cost));
        report.failure();
        assert_eq!(
            (report.succeeded, report.failed, report.seconds),
            (2, 1, 10)
        );
        assert_eq!(report.average_latency_ms(), Some(2_000.0));
        assert_eq!(report.cost.unwrap().display(), "$0.50");
    }

    #[test]
    fn prompts_are_plain_text_from_the_shot() {
        let mut shot = Shot::new("s", "1A");
        shot.action = "林梅推门而入".into();
        shot.camera_angle = "low".into();
        let prompt = shot_prompt(&shot, "INT. 客厅", "noir", "9:16");
        assert!(prompt.contains("Action: 林梅推门而入") && prompt.contains("Frame: 9:16"));
        assert_eq!(shot_prompt(&Shot::new("s", "2"), "", "", ""), "Shot: 2");
        assert_eq!(shot_prompt(&Shot::new("s", ""), "", "", ""), "Shot");
    }
}
