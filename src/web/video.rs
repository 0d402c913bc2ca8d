//! The video adapter: submit a job, read its state, download the finished clip, keep clips in
//! IndexedDB (`clips`) and play them from blob URLs. The pure half (shapes, bodies, paths, job
//! parsing, the polling schedule) is [`crate::domain::media::video_job`].
//!
//! Like the chat adapter, requests go only to the connection's base URL with `Authorization`
//! and `Content-Type`, never follow redirects and never send cookies; a `video_url` outside the
//! base URL (a CDN link) is fetched without the key. Error text is redacted before it is kept.
//! A clip is read chunk by chunk under [`CLIP_DOWNLOAD_CAP_BYTES`] ([`DownloadMeter`]): a
//! larger one fails with [`VideoError::TooLarge`] and nothing of it is kept.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, Headers, ReadableStreamDefaultReader, RequestCredentials, RequestInit,
    RequestMode, RequestRedirect, Response,
};

use crate::domain::i18n::Lang;
use crate::domain::media::video_job::{
    parse_job, ClipTooLarge, DownloadMeter, JobReadError, JobState, VideoShape,
    CLIP_DOWNLOAD_CAP_BYTES,
};
use crate::domain::provider::api_error::{classify, redact, ApiError};
use crate::domain::provider::connection::{
    endpoint, headers_for, may_send_key, validate_base_url, ApiKey, Connection,
};
use crate::domain::provider::ratelimit::RateLimitHeaders;
use crate::web::http::CancelHandle;
use crate::web::idb::{self, StorageError, CLIPS};
use crate::web::timer;

/// Why a video call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum VideoError {
    /// The HTTP call failed (status, network, cancel), with the provider's message redacted.
    Api(ApiError),
    /// The reply was not a job.
    Read(JobReadError),
    /// A completed job without a clip link.
    NoClip,
    /// The clip is larger than the download cap: stopped, nothing kept.
    TooLarge(ClipTooLarge),
}

impl VideoError {
    /// A stable identifier for `data-kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            VideoError::Api(error) => error.kind(),
            VideoError::Read(_) => "malformed_job",
            VideoError::NoClip => "no_clip",
            VideoError::TooLarge(_) => "clip_too_large",
        }
    }

    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            VideoError::Api(error) => error.message(lang),
            VideoError::Read(error) => error.message(lang),
            VideoError::NoClip => lang
                .pick(
                    "任务已完成，但接口没有给出视频地址。",
                    "The job completed but the API gave no link to the clip.",
                )
                .into(),
            VideoError::TooLarge(error) => error.message(lang),
        }
    }

    /// Whether checking the job again may help (a network blip, a rate limit, a 5xx).
    pub fn is_transient(&self) -> bool {
        matches!(self, VideoError::Api(error) if error.can_retry())
    }
}

/// Sends one request to `url`, with the key only when `url` is under the connection's base URL.
async fn send(
    conn: &Connection,
    key: &ApiKey,
    method: &str,
    url: &str,
    body: Option<&str>,
    cancel: Option<&CancelHandle>,
) -> Result<Response, VideoError> {
    let network = || VideoError::Api(ApiError::network(false));
    let window = web_sys::window().ok_or_else(network)?;
    let base = validate_base_url(&conn.base_url).map_err(|_| network())?;
    let headers = Headers::new().map_err(|_| network())?;
    if may_send_key(base.as_str(), url) {
        for (name, value) in headers_for(key) {
            headers
                .set(name, &value)
                .map_err(|_| VideoError::Api(ApiError::InvalidKey))?;
        }
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers_headers(&headers);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_redirect(RequestRedirect::Error);
    if let Some(cancel) = cancel {
        if cancel.is_cancelled() {
            return Err(VideoError::Api(ApiError::Cancelled));
        }
        init.set_signal(Some(&cancel.signal()));
    }
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| {
            if cancel.is_some_and(CancelHandle::is_cancelled) {
                VideoError::Api(ApiError::Cancelled)
            } else {
                network()
            }
        })?
        .unchecked_into::<Response>();
    if response.ok() {
        return Ok(response);
    }
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let error = classify(
        response.status(),
        &redact(&text, key.expose()),
        &RateLimitHeaders::default(),
    );
    Err(VideoError::Api(error.redacted(key.expose())))
}

/// Reads a job from a response.
async fn job_of(response: Response, key: &ApiKey) -> Result<JobState, VideoError> {
    let text = JsFuture::from(
        response
            .text()
            .map_err(|_| VideoError::Api(ApiError::network(false)))?,
    )
    .await
    .map_err(|_| VideoError::Api(ApiError::network(false)))?
    .as_string()
    .unwrap_or_default();
    parse_job(&text).map_err(|e| VideoError::Read(JobReadError(redact(&e.0, key.expose()))))
}

/// Submits a job: `POST {base}{shape.submit_path()}` with `body`.
pub async fn submit(
    conn: &Connection,
    key: &ApiKey,
    shape: VideoShape,
    body: &Value,
    cancel: Option<&CancelHandle>,
) -> Result<JobState, VideoError> {
    let url = endpoint(&conn.base_url, shape.submit_path());
    let response = send(conn, key, "POST", &url, Some(&body.to_string()), cancel).await?;
    job_of(response, key).await
}

/// Reads a job's state.
pub async fn status(
    conn: &Connection,
    key: &ApiKey,
    shape: VideoShape,
    id: &str,
    cancel: Option<&CancelHandle>,
) -> Result<JobState, VideoError> {
    let path = shape
        .status_path(id)
        .ok_or_else(|| VideoError::Read(JobReadError(format!("id `{id}`"))))?;
    let response = send(
        conn,
        key,
        "GET",
        &endpoint(&conn.base_url, &path),
        None,
        cancel,
    )
    .await?;
    job_of(response, key).await
}

/// Downloads a completed job's clip, at most [`CLIP_DOWNLOAD_CAP_BYTES`].
pub async fn download(
    conn: &Connection,
    key: &ApiKey,
    shape: VideoShape,
    job: &JobState,
    cancel: Option<&CancelHandle>,
) -> Result<Blob, VideoError> {
    download_capped(conn, key, shape, job, cancel, CLIP_DOWNLOAD_CAP_BYTES).await
}

/// Downloads a completed job's clip, refusing one larger than `cap_bytes`: the declared size
/// (`Content-Length`) is checked before reading, then every chunk is counted and the download
/// is cancelled as soon as the total passes the cap. The chunks stay in JavaScript memory
/// until they become the Blob (the wasm memory, which never shrinks, holds none of them).
pub async fn download_capped(
    conn: &Connection,
    key: &ApiKey,
    shape: VideoShape,
    job: &JobState,
    cancel: Option<&CancelHandle>,
    cap_bytes: u64,
) -> Result<Blob, VideoError> {
    let url = match (shape.content_path(&job.id), &job.video_url) {
        (Some(path), _) => endpoint(&conn.base_url, &path),
        (None, Some(url)) => url.clone(),
        (None, None) => return Err(VideoError::NoClip),
    };
    let response = send(conn, key, "GET", &url, None, cancel).await?;
    let network = || VideoError::Api(ApiError::network(false));
    let interrupted = || {
        if cancel.is_some_and(CancelHandle::is_cancelled) {
            VideoError::Api(ApiError::Cancelled)
        } else {
            network()
        }
    };
    let headers = response.headers();
    let mut meter = DownloadMeter::new(cap_bytes);
    let Some(body) = response.body() else {
        return Err(VideoError::Api(ApiError::malformed("no clip in the reply")));
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    if let Err(too_large) = meter.declared(headers.get("content-length").ok().flatten().as_deref())
    {
        // Let the connection go without reading the body.
        let _ = JsFuture::from(reader.cancel()).await;
        return Err(VideoError::TooLarge(too_large));
    }
    let chunks = js_sys::Array::new();
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|_| interrupted())?;
        let Some(chunk) = chunk_of(&result) else {
            break;
        };
        if let Err(too_large) = meter.add(u64::from(chunk.length())) {
            let _ = JsFuture::from(reader.cancel()).await;
            return Err(VideoError::TooLarge(too_large));
        }
        chunks.push(&chunk);
    }
    let options = BlobPropertyBag::new();
    if let Some(kind) = headers.get("content-type").ok().flatten() {
        options.set_type(&kind);
    }
    // `new Blob(parts, options)` takes any sequence of parts: web-sys's `str_sequence` binding
    // is that same call, already used by `files.rs`, and a second binding would add its shim
    // to the start-up JS.
    Blob::new_with_str_sequence_and_options(&chunks, &options)
        .map_err(|_| VideoError::Api(ApiError::malformed("not a file")))
}

/// The bytes of one `ReadableStreamDefaultReader.read()` result, `None` once the body ended.
fn chunk_of(result: &JsValue) -> Option<js_sys::Uint8Array> {
    let done = js_sys::Reflect::get(result, &"done".into())
        .ok()
        .and_then(|done| done.as_bool())
        .unwrap_or(true);
    if done {
        return None;
    }
    js_sys::Reflect::get(result, &"value".into())
        .ok()?
        .dyn_into()
        .ok()
}

/// Keeps a clip in the `clips` store under `clip_ref` (provider links expire).
pub async fn store_clip(clip_ref: &str, blob: &Blob) -> Result<(), StorageError> {
    idb::shared().await?.put_raw(CLIPS, clip_ref, blob).await
}

/// A stored clip.
pub async fn load_clip(clip_ref: &str) -> Result<Option<Blob>, StorageError> {
    let value = idb::shared().await?.get_raw(CLIPS, clip_ref).await?;
    Ok(value.and_then(|v| v.dyn_into::<Blob>().ok()))
}

/// A URL the page can play a blob from (revoke it with `Url::revoke_object_url` when done).
pub fn object_url(blob: &Blob) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(blob).ok()
}

/// Waits `ms` milliseconds, or less when `cancel` fires ([`timer::sleep`]).
pub async fn sleep(ms: u32, cancel: Option<&CancelHandle>) {
    timer::sleep(ms, cancel.map(CancelHandle::signal).as_ref()).await;
}
