//! Asynchronous video jobs, in the two shapes video providers use.
//!
//! **OpenAI style** (the relay standard, e.g. new-api), Bearer key required:
//!
//! * `POST /v1/videos` with JSON `{model, prompt, seconds?, size?}` → the job;
//! * `GET /v1/videos` → `{"object":"list","data":[jobs, newest first]}`;
//! * `GET /v1/videos/{id}` → the job;
//! * `GET /v1/videos/{id}/content` → the MP4 (`video/mp4`) once completed.
//!
//! The job is `{"id":"video_…","object":"video","created_at","status","model",
//! "prompt","progress","seconds":"8","size":"720x1280","completed_at",
//! "expires_at","error","remixed_from_video_id"}` with `status` `queued`,
//! `in_progress`, `completed` or `failed`, and `error` `null` or
//! `{"code","message"}`. `seconds` may be sent as a string or a number and is
//! always returned as a string. Accepted durations depend on the model:
//! `sora*` takes 4, 8 or 12 seconds (default 4), `wan*` any whole number from
//! 5 to 15 (default 5), every other model 5 or 10 (default 5). Sizes (default
//! `720x1280`): 720x1280, 1280x720, 1024x1792, 1792x1024, 1080x1920,
//! 1920x1080. Anything else is a 400 `invalid_request_error` naming the allowed
//! values. Known chat models are refused; any other model name is accepted.
//! Only JSON bodies are read (not OpenAI's multipart form).
//!
//! Content before completion is a 404 with code `video_not_ready`, for a
//! failed job `video_failed`, after the link expired `video_expired`; an
//! unknown id is a 404 with code `video_not_found`.
//!
//! **The seeds' shape**, Bearer key required except for the file:
//!
//! * `POST /v1/video/generate` with JSON `{model, prompt, duration?,
//!   resolution?, style?, callback_url?}`: `duration` whole seconds from 5 to
//!   30 (default 5), `resolution` `720p`, `1080p` or `4k` (default `720p`).
//!   `callback_url` is accepted and ignored: a browser app cannot receive
//!   webhooks, so clients poll.
//! * `GET /v1/video/status/{id}` (also `GET /v1/video/generate/{id}`) → the job;
//! * `GET /v1/video/files/{id}.mp4` → the MP4, **without** a key, like a CDN
//!   link, until it expires.
//!
//! The job is `{"id":"vgen_…","object":"video.generation","status","progress",
//! "video_url","expires_at","model","duration","resolution","style",
//! "created_at","error"}` with `status` `queued`, `processing`, `completed` or
//! `failed`, and `video_url` `null` until completed, then
//! `http://HOST/v1/video/files/{id}.mp4` (HOST from the request's `Host`).
//!
//! **Timing.** A job's state is a function of the wall-clock time since it was
//! submitted, with the `video` configuration copied at submission: `queued`
//! for `queued_ms`, then rendering for `render_ms` with `progress` rising from
//! 0 to 99, then `completed` with progress 100. A job chosen to fail fails
//! halfway through rendering, its progress stopping at 50. Download links
//! expire `link_ttl_ms` after completion (`expires_at`, Unix seconds).
//!
//! **Failures** are decided at submission and are deterministic (see
//! [`VideoConfig`]): the prompt directive `[[sandbox:video=fail]]` (code
//! `video_generation_failed`) or `[[sandbox:video=moderation]]` (code
//! `moderation_blocked`), `fail_prompts_containing`, `fail_every` (job
//! sequence number) and `fail_rate` (seeded by `seed` and the sequence number).
//!
//! Both shapes are counted in the `video` object of `GET /_sandbox/stats`;
//! `POST /_sandbox/reset` deletes every job.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::chat::authorize;
use crate::config::VideoConfig;
use crate::error::ApiError;
use crate::models;
use crate::rng::{fnv1a, hash_json, SplitMix64};
use crate::state::AppState;
use crate::stats::{VideoCounts, VideoStats};

/// The MP4 served for every completed job: 2 s, 144×256 (9:16), 12 fps,
/// H.264 Constrained Baseline, yuv420p, `moov` before `mdat` (faststart), no
/// audio, 2016 bytes; a red frame with a white square sliding across. Made once
/// with ffmpeg 5.1 (not needed to build or test):
///
/// ```text
/// ffmpeg -f lavfi -i "color=c=0xb3261e:s=144x256:d=2:r=12" \
///   -vf "drawbox=x='mod(t*60,124)':y=118:w=20:h=20:color=white:t=fill" \
///   -c:v libx264 -preset veryslow -crf 35 -tune stillimage -profile:v baseline \
///   -level 3.0 -pix_fmt yuv420p -g 24 -an -movflags +faststart -map_metadata -1 \
///   -fflags +bitexact -flags:v +bitexact sandbox/fixtures/clip.mp4
/// ```
pub const CLIP_MP4: &[u8] = include_bytes!("../fixtures/clip.mp4");

/// The sizes `POST /v1/videos` accepts.
pub const SIZES: [&str; 6] = [
    "720x1280",
    "1280x720",
    "1024x1792",
    "1792x1024",
    "1080x1920",
    "1920x1080",
];

/// The resolutions `POST /v1/video/generate` accepts.
pub const RESOLUTIONS: [&str; 3] = ["720p", "1080p", "4k"];

/// The durations `POST /v1/video/generate` accepts, in seconds (inclusive).
pub const GENERATE_DURATIONS: (u32, u32) = (5, 30);

/// The values of the `[[sandbox:video=…]]` prompt directive.
pub const DIRECTIVE_VALUES: [&str; 2] = ["fail", "moderation"];

/// The two API shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `/v1/videos`.
    OpenAi,
    /// `/v1/video/generate`.
    Generate,
}

impl Shape {
    /// The shape's name in the stats.
    pub fn name(self) -> &'static str {
        match self {
            Shape::OpenAi => "openai",
            Shape::Generate => "generate",
        }
    }
}

/// The durations a model accepts on `POST /v1/videos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durations {
    /// Exactly these values.
    List(&'static [u32]),
    /// Any whole number in this inclusive range.
    Range(u32, u32),
}

impl Durations {
    /// The durations `model` accepts: Sora 4/8/12, Wan 5–15, others 5/10.
    pub fn for_model(model: &str) -> Self {
        let model = model.to_ascii_lowercase();
        if model.starts_with("sora") {
            Durations::List(&[4, 8, 12])
        } else if model.starts_with("wan") {
            Durations::Range(5, 15)
        } else {
            Durations::List(&[5, 10])
        }
    }

    fn allows(self, seconds: u32) -> bool {
        match self {
            Durations::List(values) => values.contains(&seconds),
            Durations::Range(low, high) => (low..=high).contains(&seconds),
        }
    }

    fn default_seconds(self) -> u32 {
        match self {
            Durations::List(values) => values[0],
            Durations::Range(low, _) => low,
        }
    }

    fn describe(self) -> String {
        match self {
            Durations::List(values) => {
                let names: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
                match names.split_last() {
                    Some((last, [])) => last.clone(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
            Durations::Range(low, high) => format!("a whole number from {low} to {high}"),
        }
    }
}

/// Why a job fails.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    code: &'static str,
    message: String,
}

/// Where a job stands at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Queued,
    InProgress(u64),
    Completed,
    Failed(u64),
}

/// One submitted job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    id: String,
    shape: Shape,
    model: String,
    prompt: String,
    /// `seconds` or `duration`.
    seconds: u32,
    /// `size` or `resolution`.
    size: String,
    style: Option<String>,
    submitted: Instant,
    /// Unix time of submission, in milliseconds.
    created_unix_ms: u64,
    queued_ms: u64,
    render_ms: u64,
    link_ttl_ms: u64,
    failure: Option<Failure>,
}

impl Job {
    fn elapsed_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.submitted).as_millis() as u64
    }

    fn phase(&self, now: Instant) -> Phase {
        let elapsed = self.elapsed_ms(now);
        if elapsed < self.queued_ms {
            return Phase::Queued;
        }
        let rendering = elapsed - self.queued_ms;
        if self.failure.is_some() {
            let fail_at = self.render_ms / 2;
            return if rendering >= fail_at {
                Phase::Failed(percent(fail_at, self.render_ms))
            } else {
                Phase::InProgress(percent(rendering, self.render_ms))
            };
        }
        if rendering >= self.render_ms {
            Phase::Completed
        } else {
            Phase::InProgress(percent(rendering, self.render_ms).min(99))
        }
    }

    /// Milliseconds from submission to completion.
    fn done_ms(&self) -> u64 {
        self.queued_ms + self.render_ms
    }

    fn completed_at(&self) -> u64 {
        (self.created_unix_ms + self.done_ms()) / 1000
    }

    fn expires_at(&self) -> u64 {
        (self.created_unix_ms + self.done_ms() + self.link_ttl_ms) / 1000
    }

    fn expired(&self, now: Instant) -> bool {
        self.elapsed_ms(now) >= self.done_ms() + self.link_ttl_ms
    }

    fn error_json(&self, phase: Phase) -> Value {
        match (&self.failure, phase) {
            (Some(failure), Phase::Failed(_)) => {
                json!({"code": failure.code, "message": failure.message})
            }
            _ => Value::Null,
        }
    }

    /// The job object of `/v1/videos`.
    fn openai_json(&self, now: Instant) -> Value {
        let phase = self.phase(now);
        let (status, progress) = match phase {
            Phase::Queued => ("queued", 0),
            Phase::InProgress(p) => ("in_progress", p),
            Phase::Completed => ("completed", 100),
            Phase::Failed(p) => ("failed", p),
        };
        let completed = phase == Phase::Completed;
        json!({
            "id": self.id,
            "object": "video",
            "created_at": self.created_unix_ms / 1000,
            "status": status,
            "model": self.model,
            "prompt": self.prompt,
            "progress": progress,
            "seconds": self.seconds.to_string(),
            "size": self.size,
            "completed_at": completed.then(|| self.completed_at()),
            "expires_at": completed.then(|| self.expires_at()),
            "error": self.error_json(phase),
            "remixed_from_video_id": null,
        })
    }

    /// The job object of `/v1/video/generate`.
    fn generate_json(&self, now: Instant, base_url: &str) -> Value {
        let phase = self.phase(now);
        let (status, progress) = match phase {
            Phase::Queued => ("queued", 0),
            Phase::InProgress(p) => ("processing", p),
            Phase::Completed => ("completed", 100),
            Phase::Failed(p) => ("failed", p),
        };
        let completed = phase == Phase::Completed;
        json!({
            "id": self.id,
            "object": "video.generation",
            "status": status,
            "progress": progress,
            "video_url": completed.then(|| format!("{base_url}/v1/video/files/{}.mp4", self.id)),
            "expires_at": completed.then(|| self.expires_at()),
            "model": self.model,
            "duration": self.seconds,
            "resolution": self.size,
            "style": self.style,
            "created_at": self.created_unix_ms / 1000,
            "error": self.error_json(phase),
        })
    }
}

/// `part` of `whole` in whole percent (100 when `whole` is 0).
fn percent(part: u64, whole: u64) -> u64 {
    (part.min(whole) * 100).checked_div(whole).unwrap_or(100)
}

/// Counters kept per shape; the state counts are computed on reading.
#[derive(Clone, Debug, Default)]
struct Counters {
    duplicates: u64,
    polls: u64,
    downloads: u64,
}

/// Every job since start or the last reset.
#[derive(Debug, Default)]
pub(crate) struct VideoJobs {
    jobs: Vec<Job>,
    by_id: HashMap<String, usize>,
    /// Canonical hashes of accepted request bodies, per shape.
    bodies: HashSet<(Shape, u64)>,
    counters: HashMap<Shape, Counters>,
}

impl VideoJobs {
    fn get(&self, shape: Shape, id: &str) -> Option<&Job> {
        let job = &self.jobs[*self.by_id.get(id)?];
        (job.shape == shape).then_some(job)
    }

    fn counters(&mut self, shape: Shape) -> &mut Counters {
        self.counters.entry(shape).or_default()
    }

    /// The counts reported by `GET /_sandbox/stats` at `now`.
    pub(crate) fn stats(&self, now: Instant) -> VideoStats {
        let mut by_shape: BTreeMap<String, VideoCounts> = BTreeMap::new();
        for shape in [Shape::OpenAi, Shape::Generate] {
            let counters = self.counters.get(&shape).cloned().unwrap_or_default();
            by_shape.insert(
                shape.name().to_owned(),
                VideoCounts {
                    duplicates: counters.duplicates,
                    polls: counters.polls,
                    downloads: counters.downloads,
                    ..VideoCounts::default()
                },
            );
        }
        for job in &self.jobs {
            let counts = by_shape
                .get_mut(job.shape.name())
                .expect("every shape is listed");
            counts.submitted += 1;
            match job.phase(now) {
                Phase::Queued => counts.queued += 1,
                Phase::InProgress(_) => counts.in_progress += 1,
                Phase::Completed => {
                    counts.completed += 1;
                    counts.completed_seconds += u64::from(job.seconds);
                }
                Phase::Failed(_) => counts.failed += 1,
            }
        }
        let mut totals = VideoCounts::default();
        for counts in by_shape.values() {
            totals.add(counts);
        }
        VideoStats { totals, by_shape }
    }
}

/// A validated submission, before it becomes a job.
struct Submission {
    model: String,
    prompt: String,
    seconds: u32,
    size: String,
    style: Option<String>,
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Reads the `[[sandbox:video=…]]` directive of a prompt; a later one wins.
/// Other `[[sandbox:…]]` settings are left to the chat route.
fn directive(prompt: &str) -> Result<Option<&'static str>, ApiError> {
    const OPEN: &str = "[[sandbox:";
    let mut found = None;
    let mut rest = prompt;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find("]]") else { break };
        for setting in after[..end].split(',') {
            let Some((key, value)) = setting.split_once('=') else {
                continue;
            };
            if key.trim() != "video" {
                continue;
            }
            let value = value.trim();
            found = Some(
                DIRECTIVE_VALUES
                    .into_iter()
                    .find(|known| *known == value)
                    .ok_or_else(|| {
                        ApiError::invalid_request(
                            format!(
                                "Invalid sandbox directive: video must be one of {}.",
                                DIRECTIVE_VALUES.join(", ")
                            ),
                            Some("prompt"),
                            None,
                        )
                    })?,
            );
        }
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// Decides whether job number `sequence` fails. The rules are checked in a
/// fixed order and the first that applies names the reason.
fn decide_failure(
    config: &VideoConfig,
    seed: u64,
    sequence: u64,
    prompt: &str,
) -> Result<Option<Failure>, ApiError> {
    let generation_failed = |why: String| Failure {
        code: "video_generation_failed",
        message: format!("Video generation failed ({why})."),
    };
    match directive(prompt)? {
        Some("moderation") => {
            return Ok(Some(Failure {
                code: "moderation_blocked",
                message: "Your request was blocked by the sandbox's moderation system \
                          ([[sandbox:video=moderation]])."
                    .into(),
            }))
        }
        Some(_) => {
            return Ok(Some(generation_failed(
                "sandbox directive [[sandbox:video=fail]]".into(),
            )))
        }
        None => {}
    }
    if let Some(needle) = &config.fail_prompts_containing {
        if prompt.contains(needle.as_str()) {
            return Ok(Some(generation_failed(format!(
                "sandbox: the prompt contains {needle:?}"
            ))));
        }
    }
    if let Some(every) = config.fail_every {
        if sequence.is_multiple_of(u64::from(every)) {
            return Ok(Some(generation_failed(format!(
                "sandbox: fail_every={every}, job #{sequence}"
            ))));
        }
    }
    if config.fail_rate > 0.0 {
        let mut rng = SplitMix64::new(seed ^ sequence.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if rng.next_f64() < config.fail_rate {
            return Ok(Some(generation_failed(format!(
                "sandbox: fail_rate={}, job #{sequence}",
                config.fail_rate
            ))));
        }
    }
    Ok(None)
}

/// Describes a JSON value's type the way OpenAI's validation messages do.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid(message: impl Into<String>, param: &'static str, code: &'static str) -> ApiError {
    ApiError::invalid_request(message, Some(param), Some(code))
}

/// Parses the body as a JSON object.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::invalid_request(
            "We could not parse the JSON body of your request. The sandbox's video APIs expect \
             a JSON payload (multipart forms are not supported).",
            None,
            None,
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::invalid_request(
            format!(
                "Invalid request body: expected an object, but got {} instead.",
                type_name(&other)
            ),
            None,
            None,
        )),
    }
}

/// A required, non-empty string parameter.
fn required_string(body: &Map<String, Value>, name: &'static str) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(invalid(
            format!("Missing required parameter: '{name}'."),
            name,
            "missing_required_parameter",
        )),
        Some(other) => Err(invalid(
            format!(
                "Invalid type for '{name}': expected a string, but got {} instead.",
                type_name(other)
            ),
            name,
            "invalid_type",
        )),
    }
}

/// An optional string parameter.
fn optional_string(
    body: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(invalid(
            format!(
                "Invalid type for '{name}': expected a string, but got {} instead.",
                type_name(other)
            ),
            name,
            "invalid_type",
        )),
    }
}

/// An optional whole number of seconds, sent as a number or a string.
/// `Err(None)` means the value is not a whole number.
fn whole_seconds(value: Option<&Value>) -> Result<Option<u32>, Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let whole = n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            });
            match whole.and_then(|w| u32::try_from(w).ok()) {
                Some(w) => Ok(Some(w)),
                None => Err(Some(n.to_string())),
            }
        }
        Some(Value::String(text)) => match text.trim().parse::<u32>() {
            Ok(w) => Ok(Some(w)),
            Err(_) => Err(Some(format!("'{text}'"))),
        },
        Some(other) => Err(Some(type_name(other).to_owned())),
    }
}

/// Refuses the chat models the sandbox knows: they cannot make videos.
fn video_model(model: &str) -> Result<(), ApiError> {
    match models::find(model) {
        Some(info) if info.chat => Err(invalid(
            format!("The model `{model}` is a chat model and cannot generate videos."),
            "model",
            "invalid_value",
        )),
        _ => Ok(()),
    }
}

fn parse_openai(body: &[u8]) -> Result<(Submission, Value), ApiError> {
    let map = parse_object(body)?;
    let model = required_string(&map, "model")?;
    video_model(&model)?;
    let prompt = required_string(&map, "prompt")?;
    let durations = Durations::for_model(&model);
    let seconds = match whole_seconds(map.get("seconds")) {
        Ok(None) => durations.default_seconds(),
        Ok(Some(s)) if durations.allows(s) => s,
        Ok(Some(s)) => return Err(bad_seconds(&model, durations, &s.to_string())),
        Err(got) => return Err(bad_seconds(&model, durations, &got.unwrap_or_default())),
    };
    let size = match optional_string(&map, "size")? {
        None => SIZES[0].to_owned(),
        Some(size) if SIZES.contains(&size.trim()) => size.trim().to_owned(),
        Some(size) => {
            return Err(invalid(
                format!(
                    "Invalid 'size': '{size}'. Supported values are: {}.",
                    SIZES.map(|s| format!("'{s}'")).join(", ")
                ),
                "size",
                "invalid_value",
            ))
        }
    };
    let submission = Submission {
        model,
        prompt,
        seconds,
        size,
        style: None,
    };
    Ok((submission, Value::Object(map)))
}

fn bad_seconds(model: &str, durations: Durations, got: &str) -> ApiError {
    invalid(
        format!(
            "Invalid 'seconds': {got}. The model `{model}` accepts {} seconds.",
            durations.describe()
        ),
        "seconds",
        "invalid_value",
    )
}

fn parse_generate(body: &[u8]) -> Result<(Submission, Value), ApiError> {
    let map = parse_object(body)?;
    let model = required_string(&map, "model")?;
    video_model(&model)?;
    let prompt = required_string(&map, "prompt")?;
    let (low, high) = GENERATE_DURATIONS;
    let bad_duration = |got: String| {
        invalid(
            format!(
                "Invalid 'duration': {got}. Expected a whole number of seconds from {low} to {high}."
            ),
            "duration",
            "invalid_value",
        )
    };
    let seconds = match whole_seconds(map.get("duration")) {
        Ok(None) => low,
        Ok(Some(d)) if (low..=high).contains(&d) => d,
        Ok(Some(d)) => return Err(bad_duration(d.to_string())),
        Err(got) => return Err(bad_duration(got.unwrap_or_default())),
    };
    let size = match optional_string(&map, "resolution")? {
        None => RESOLUTIONS[0].to_owned(),
        Some(resolution) => {
            let normal = resolution.trim().to_ascii_lowercase();
            if !RESOLUTIONS.contains(&normal.as_str()) {
                return Err(invalid(
                    format!(
                        "Invalid 'resolution': '{resolution}'. Supported values are: {}.",
                        RESOLUTIONS.map(|s| format!("'{s}'")).join(", ")
                    ),
                    "resolution",
                    "invalid_value",
                ));
            }
            normal
        }
    };
    let style = optional_string(&map, "style")?;
    // `callback_url` is read only to check its type; no webhook is ever sent.
    optional_string(&map, "callback_url")?;
    let submission = Submission {
        model,
        prompt,
        seconds,
        size,
        style,
    };
    Ok((submission, Value::Object(map)))
}

/// Validates nothing more: records the job and returns it.
fn submit(
    state: &AppState,
    shape: Shape,
    submission: Submission,
    canonical: &Value,
) -> Result<Job, ApiError> {
    let body_hash = hash_json(canonical);
    let mut shared = state.lock();
    let config = shared.config.video.clone();
    let seed = shared.config.seed;
    let sequence = shared.videos.jobs.len() as u64 + 1;
    let failure = decide_failure(&config, seed, sequence, &submission.prompt)?;
    let created_unix_ms = unix_now_ms();
    let mut id_seed = body_hash.to_le_bytes().to_vec();
    id_seed.extend_from_slice(&sequence.to_le_bytes());
    id_seed.extend_from_slice(&created_unix_ms.to_le_bytes());
    let prefix = match shape {
        Shape::OpenAi => "video",
        Shape::Generate => "vgen",
    };
    let id = format!("{prefix}_{:016x}{:08x}", fnv1a(&id_seed), sequence as u32);
    let job = Job {
        id: id.clone(),
        shape,
        model: submission.model,
        prompt: submission.prompt,
        seconds: submission.seconds,
        size: submission.size,
        style: submission.style,
        submitted: Instant::now(),
        created_unix_ms,
        queued_ms: config.queued_ms,
        render_ms: config.render_ms,
        link_ttl_ms: config.link_ttl_ms,
        failure,
    };
    let videos = &mut shared.videos;
    if !videos.bodies.insert((shape, body_hash)) {
        videos.counters(shape).duplicates += 1;
    }
    videos.by_id.insert(id, videos.jobs.len());
    videos.jobs.push(job.clone());
    Ok(job)
}

/// Looks a job up and counts the poll.
fn poll(state: &AppState, shape: Shape, id: &str) -> Result<(Job, Instant), ApiError> {
    let mut shared = state.lock();
    let now = Instant::now();
    let job = shared
        .videos
        .get(shape, id)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    shared.videos.counters(shape).polls += 1;
    Ok((job, now))
}

fn not_found(id: &str) -> ApiError {
    let id: String = id.chars().take(100).collect();
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("Video with id '{id}' not found."),
        "invalid_request_error",
        Some("video_id"),
        Some("video_not_found"),
    )
}

/// The MP4 of a completed job, or the 404 saying why not; counts the download.
fn download(state: &AppState, shape: Shape, id: &str) -> Response {
    let mut shared = state.lock();
    let now = Instant::now();
    let Some(job) = shared.videos.get(shape, id).cloned() else {
        return not_found(id).into_response();
    };
    let unavailable = |message: String, code: &'static str| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            message,
            "invalid_request_error",
            Some("video_id"),
            Some(code),
        )
        .into_response()
    };
    match job.phase(now) {
        Phase::Queued | Phase::InProgress(_) => {
            let status = match shape {
                Shape::OpenAi => format!("GET /v1/videos/{}", job.id),
                Shape::Generate => format!("GET /v1/video/status/{}", job.id),
            };
            return unavailable(
                format!(
                    "Video '{}' is not ready yet; poll {status} until its status is completed.",
                    job.id
                ),
                "video_not_ready",
            );
        }
        Phase::Failed(_) => {
            return unavailable(
                format!("Video '{}' failed and has no content.", job.id),
                "video_failed",
            )
        }
        Phase::Completed if job.expired(now) => {
            return unavailable(
                format!(
                    "The content of video '{}' has expired; it was available until {} (Unix time).",
                    job.id,
                    job.expires_at()
                ),
                "video_expired",
            )
        }
        Phase::Completed => {}
    }
    shared.videos.counters(shape).downloads += 1;
    drop(shared);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"{}.mp4\"", job.id))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    (StatusCode::OK, headers, Bytes::from_static(CLIP_MP4)).into_response()
}

/// `http://HOST` (or `https://` behind a proxy saying so) for file links. A
/// missing or odd `Host` header gives `http://localhost`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
    {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// `POST /v1/videos`.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let result = parse_openai(&body)
        .and_then(|(submission, canonical)| submit(&state, Shape::OpenAi, submission, &canonical));
    match result {
        Ok(job) => Json(job.openai_json(Instant::now())).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/videos`: every OpenAI-style job, newest first.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let shared = state.lock();
    let now = Instant::now();
    let data: Vec<Value> = shared
        .videos
        .jobs
        .iter()
        .rev()
        .filter(|job| job.shape == Shape::OpenAi)
        .map(|job| job.openai_json(now))
        .collect();
    drop(shared);
    let first_id = data.first().map(|job| job["id"].clone());
    let last_id = data.last().map(|job| job["id"].clone());
    Json(json!({
        "object": "list",
        "data": data,
        "first_id": first_id,
        "last_id": last_id,
        "has_more": false,
    }))
    .into_response()
}

/// `GET /v1/videos/{id}`.
pub async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    match poll(&state, Shape::OpenAi, &id) {
        Ok((job, now)) => Json(job.openai_json(now)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/videos/{id}/content[?variant=video]`.
pub async fn content(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let variant = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("variant="));
    match variant {
        None | Some("video") => download(&state, Shape::OpenAi, &id),
        Some(_) => invalid(
            "Invalid 'variant': the sandbox serves only 'video'.",
            "variant",
            "invalid_value",
        )
        .into_response(),
    }
}

/// `POST /v1/video/generate`.
pub async fn generate(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let result = parse_generate(&body).and_then(|(submission, canonical)| {
        submit(&state, Shape::Generate, submission, &canonical)
    });
    match result {
        Ok(job) => Json(job.generate_json(Instant::now(), &base_url(&headers))).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/video/status/{id}` and `GET /v1/video/generate/{id}`.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    match poll(&state, Shape::Generate, &id) {
        Ok((job, now)) => Json(job.generate_json(now, &base_url(&headers))).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/video/files/{id}.mp4`: no key needed, like a CDN link.
pub async fn file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match file.strip_suffix(".mp4") {
        Some(id) => download(&state, Shape::Generate, id),
        None => not_found(&file).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_is_an_iso_bmff_file() {
        assert!(CLIP_MP4.len() > 1000 && CLIP_MP4.len() < 20 * 1024);
        assert_eq!(&CLIP_MP4[4..8], b"ftyp");
        // faststart: the movie header comes before the media data.
        let find = |tag: &[u8]| CLIP_MP4.windows(4).position(|w| w == tag);
        assert!(find(b"moov").unwrap() < find(b"mdat").unwrap());
        assert!(find(b"avc1").is_some());
    }

    #[test]
    fn durations_per_model() {
        assert!(Durations::for_model("sora-2").allows(12));
        assert!(!Durations::for_model("sora-2-pro").allows(10));
        assert!(Durations::for_model("wan2.2-t2v").allows(7));
        assert!(Durations::for_model("kling-v2.1").allows(10));
        assert!(!Durations::for_model("video-gen-2.1").allows(8));
        assert_eq!(
            Durations::for_model("sora-2").describe(),
            "'4', '8' or '12'"
        );
        assert_eq!(Durations::for_model("sora-2").default_seconds(), 4);
    }

    #[test]
    fn directives_and_failure_rules() {
        assert_eq!(
            directive("a [[sandbox:video=fail]] b").unwrap(),
            Some("fail")
        );
        assert_eq!(
            directive("[[sandbox:tokens=5, video = moderation]]").unwrap(),
            Some("moderation")
        );
        assert_eq!(directive("[[sandbox:tokens=5]]").unwrap(), None);
        assert!(directive("[[sandbox:video=explode]]").is_err());

        let config = VideoConfig {
            fail_every: Some(3),
            ..VideoConfig::default()
        };
        let fails: Vec<bool> = (1..=6)
            .map(|n| decide_failure(&config, 1, n, "x").unwrap().is_some())
            .collect();
        assert_eq!(fails, [false, false, true, false, false, true]);

        let config = VideoConfig {
            fail_rate: 0.5,
            ..VideoConfig::default()
        };
        let draw = |seed| {
            (1..=200)
                .map(|n| decide_failure(&config, seed, n, "x").unwrap().is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        let failed = draw(1).iter().filter(|f| **f).count();
        assert!((60..140).contains(&failed), "{failed} of 200");
    }

    #[test]
    fn phases_follow_the_clock() {
        let start = Instant::now();
        let job = Job {
            id: "video_x".into(),
            shape: Shape::OpenAi,
            model: "sora-2".into(),
            prompt: "p".into(),
            seconds: 4,
            size: "720x1280".into(),
            style: None,
            submitted: start,
            created_unix_ms: 0,
            queued_ms: 100,
            render_ms: 200,
            link_ttl_ms: 1000,
            failure: None,
        };
        let at = |ms| job.phase(start + std::time::Duration::from_millis(ms));
        assert_eq!(at(0), Phase::Queued);
        assert_eq!(at(100), Phase::InProgress(0));
        assert_eq!(at(200), Phase::InProgress(50));
        assert_eq!(at(299), Phase::InProgress(99));
        assert_eq!(at(300), Phase::Completed);
        let failing = Job {
            failure: Some(Failure {
                code: "video_generation_failed",
                message: "m".into(),
            }),
            ..job.clone()
        };
        let at = |ms| failing.phase(start + std::time::Duration::from_millis(ms));
        assert_eq!(at(150), Phase::InProgress(25));
        assert_eq!(at(200), Phase::Failed(50));
        assert_eq!(at(10_000), Phase::Failed(50));
    }
}
