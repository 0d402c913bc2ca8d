//! Tests of the video job APIs (both shapes), run in process with
//! `tower::ServiceExt::oneshot`. Jobs are timed in wall-clock milliseconds, so
//! the tests use short but not tiny phases and poll until a deadline.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

mod common;
use common::{app_with, send, with_control, Reply, KEY, WRONG_KEY};
const HOST: &str = "sandbox.test:8787";

/// Long enough that a 10 ms poll sees every phase even on a busy machine.
const QUEUED_MS: u64 = 60;
const RENDER_MS: u64 = 300;

fn server_with(video: Value) -> Router {
    let config = json!({"stream_chunk_delay_ms": 0, "video": video});
    app_with(&config)
}

fn server() -> Router {
    server_with(json!({"queued_ms": QUEUED_MS, "render_ms": RENDER_MS}))
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut builder = with_control(Request::get(path), path).header("host", HOST);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    builder.body(Body::empty()).unwrap()
}

fn post_raw(path: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = with_control(Request::post(path), path)
        .header("content-type", "application/json")
        .header("host", HOST);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    builder.body(body.into()).unwrap()
}

async fn post(app: &Router, path: &str, body: Value) -> Reply {
    send(app, post_raw(path, Some(KEY), body.to_string())).await
}

async fn stats(app: &Router) -> Value {
    send(app, get("/_sandbox/stats", None)).await.json()
}

fn sora(prompt: &str) -> Value {
    json!({"model": "sora-2", "prompt": prompt, "seconds": "8", "size": "720x1280"})
}

fn seeds(prompt: &str) -> Value {
    json!({"model": "video-gen-2.1", "prompt": prompt, "duration": 10, "resolution": "1080p",
           "style": "noir", "callback_url": "https://example.com/hook"})
}

/// Rank of a status in the job life cycle, for monotonicity checks.
fn rank(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "in_progress" | "processing" => 1,
        "completed" | "failed" => 2,
        other => panic!("unknown status {other}"),
    }
}

/// Polls `path` every 10 ms until the job is completed or failed, checking
/// that status and progress never go backwards. Returns every observation.
async fn poll_to_end(app: &Router, path: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let reply = send(app, get(path, Some(KEY))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
        let job = reply.json();
        if let Some(last) = seen.last() {
            let (before, now) = (
                last["status"].as_str().unwrap(),
                job["status"].as_str().unwrap(),
            );
            assert!(rank(before) <= rank(now), "{before} then {now}");
            assert!(
                last["progress"].as_u64().unwrap() <= job["progress"].as_u64().unwrap(),
                "progress went back: {last} then {job}"
            );
        }
        let done = matches!(job["status"].as_str(), Some("completed" | "failed"));
        seen.push(job);
        if done {
            return seen;
        }
        assert!(Instant::now() < deadline, "job never finished: {seen:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn statuses(seen: &[Value]) -> Vec<&str> {
    let mut list: Vec<&str> = seen.iter().map(|j| j["status"].as_str().unwrap()).collect();
    list.dedup();
    list
}

/// Checks that the bytes start with an ISO BMFF `ftyp` box and hold a movie.
fn assert_mp4(body: &[u8]) {
    assert!(
        body.len() > 1000 && body.len() < 20 * 1024,
        "{} bytes",
        body.len()
    );
    let size = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
    assert_eq!(&body[4..8], b"ftyp");
    assert!((16..=body.len()).contains(&size));
    let has = |tag: &[u8]| body.windows(4).any(|w| w == tag);
    assert!(has(b"moov") && has(b"mdat"));
}

#[tokio::test]
async fn openai_job_advances_and_serves_the_mp4() {
    let app = server();
    let created = post(&app, "/v1/videos", sora("A red door opens")).await;
    assert_eq!(created.status, StatusCode::OK);
    let job = created.json();
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("video_") && id.len() > 20, "{id}");
    assert!(id[6..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_eq!(job["object"], "video");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["progress"], 0);
    assert_eq!(job["model"], "sora-2");
    assert_eq!(job["seconds"], "8");
    assert_eq!(job["size"], "720x1280");
    assert_eq!(job["error"], Value::Null);
    assert_eq!(job["completed_at"], Value::Null);
    assert!(job["created_at"].as_u64().unwrap() > 1_700_000_000);

    // No content before completion.
    let early = send(&app, get(&format!("/v1/videos/{id}/content"), Some(KEY))).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    assert_eq!(early.json()["error"]["code"], "video_not_ready");

    let seen = poll_to_end(&app, &format!("/v1/videos/{id}")).await;
    assert_eq!(statuses(&seen), ["queued", "in_progress", "completed"]);
    let rising: Vec<u64> = seen
        .iter()
        .filter(|j| j["status"] == "in_progress")
        .map(|j| j["progress"].as_u64().unwrap())
        .collect();
    assert!(rising.iter().all(|p| *p < 100), "{rising:?}");
    assert!(
        rising.first() < rising.last(),
        "progress should rise: {rising:?}"
    );
    let done = seen.last().unwrap();
    assert_eq!(done["progress"], 100);
    assert_eq!(done["id"], id.as_str());
    let completed_at = done["completed_at"].as_u64().unwrap();
    let expires_at = done["expires_at"].as_u64().unwrap();
    assert!((3599..=3601).contains(&(expires_at - completed_at)));

    let content = send(&app, get(&format!("/v1/videos/{id}/content"), Some(KEY))).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.header("content-type"), Some("video/mp4"));
    assert_mp4(&content.body);
    let variant = send(
        &app,
        get(&format!("/v1/videos/{id}/content?variant=video"), Some(KEY)),
    )
    .await;
    assert_eq!(variant.status, StatusCode::OK);
    assert_eq!(variant.body, content.body);

    let list = send(&app, get("/v1/videos", Some(KEY))).await.json();
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"][0]["id"], id.as_str());

    let video = stats(&app).await["video"].clone();
    assert_eq!(video["submitted"], 1);
    assert_eq!(video["completed"], 1);
    assert_eq!(video["completed_seconds"], 8);
    assert_eq!(video["downloads"], 2);
    assert_eq!(video["by_shape"]["openai"]["submitted"], 1);
    assert_eq!(video["by_shape"]["generate"]["submitted"], 0);
    assert!(video["polls"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn generate_job_advances_and_serves_a_keyless_file() {
    let app = server();
    let created = post(&app, "/v1/video/generate", seeds("Rain on a window")).await;
    assert_eq!(created.status, StatusCode::OK);
    let job = created.json();
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("vgen_"), "{id}");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["video_url"], Value::Null);
    assert_eq!(job["expires_at"], Value::Null);
    assert_eq!(job["duration"], 10);
    assert_eq!(job["resolution"], "1080p");
    assert_eq!(job["style"], "noir");

    let file_path = format!("/v1/video/files/{id}.mp4");
    let early = send(&app, get(&file_path, None)).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    assert_eq!(early.json()["error"]["code"], "video_not_ready");

    let seen = poll_to_end(&app, &format!("/v1/video/status/{id}")).await;
    assert_eq!(statuses(&seen), ["queued", "processing", "completed"]);
    assert!(seen
        .iter()
        .filter(|j| j["status"] != "completed")
        .all(|j| j["video_url"].is_null()));
    let done = seen.last().unwrap();
    assert_eq!(done["progress"], 100);
    assert_eq!(
        done["video_url"],
        format!("http://{HOST}/v1/video/files/{id}.mp4")
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires_at = done["expires_at"].as_u64().unwrap();
    assert!(
        (now + 3500..=now + 3700).contains(&expires_at),
        "{expires_at}"
    );

    // The alias path gives the same job.
    let alias = send(&app, get(&format!("/v1/video/generate/{id}"), Some(KEY))).await;
    assert_eq!(alias.status, StatusCode::OK);
    assert_eq!(alias.json()["video_url"], done["video_url"]);

    // The file needs no key, like a CDN link.
    let file = send(&app, get(&file_path, None)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("video/mp4"));
    assert_mp4(&file.body);
    // The seeds' jobs are not visible on the OpenAI routes, nor the reverse.
    let cross = send(&app, get(&format!("/v1/videos/{id}"), Some(KEY))).await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    let missing = send(&app, get("/v1/video/files/vgen_nope.mp4", None)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["code"], "video_not_found");

    let video = stats(&app).await["video"].clone();
    assert_eq!(video["by_shape"]["generate"]["completed"], 1);
    assert_eq!(video["by_shape"]["generate"]["completed_seconds"], 10);
    assert_eq!(video["by_shape"]["generate"]["downloads"], 1);
}

#[tokio::test]
async fn failures_are_deterministic() {
    let app = server_with(json!({
        "queued_ms": 20, "render_ms": 60, "fail_every": 3,
        "fail_prompts_containing": "EXPLODE"
    }));
    // Jobs 1..=6 across both shapes: #3 and #6 fail by sequence, #1 by its
    // prompt text, #4 by directive; #2 and #5 complete.
    let mut ids = Vec::new();
    let prompts = [
        "the EXPLODE shot",
        "calm",
        "calm again",
        "dark [[sandbox:video=fail]]",
        "sunrise",
        "sunset",
    ];
    for (n, prompt) in prompts.iter().enumerate() {
        let (path, body) = if n % 2 == 0 {
            ("/v1/videos", sora(prompt))
        } else {
            ("/v1/video/generate", seeds(prompt))
        };
        let reply = post(&app, path, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        let status_path = if n % 2 == 0 {
            format!("/v1/videos/{id}")
        } else {
            format!("/v1/video/status/{id}")
        };
        ids.push((id, status_path));
    }
    let mut outcome = Vec::new();
    for (id, path) in &ids {
        let seen = poll_to_end(&app, path).await;
        let last = seen.last().unwrap().clone();
        if last["status"] == "failed" {
            assert_eq!(last["progress"], 50);
            assert!(last["error"]["message"].as_str().unwrap().len() > 10);
            assert_eq!(last["error"]["code"], "video_generation_failed");
            let content_path = if id.starts_with("video_") {
                format!("/v1/videos/{id}/content")
            } else {
                format!("/v1/video/files/{id}.mp4")
            };
            let content = send(&app, get(&content_path, Some(KEY))).await;
            assert_eq!(content.status, StatusCode::NOT_FOUND);
            assert_eq!(content.json()["error"]["code"], "video_failed");
        } else {
            assert_eq!(last["error"], Value::Null);
        }
        outcome.push(last["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        outcome,
        [
            "failed",
            "completed",
            "failed",
            "failed",
            "completed",
            "failed"
        ]
    );
    let video = stats(&app).await["video"].clone();
    assert_eq!(video["submitted"], 6);
    assert_eq!(video["completed"], 2);
    assert_eq!(video["failed"], 4);

    // A moderation directive fails with its own code; a bad directive is a 400.
    let moderated = post(&app, "/v1/videos", sora("[[sandbox:video=moderation]]")).await;
    let id = moderated.json()["id"].as_str().unwrap().to_owned();
    let seen = poll_to_end(&app, &format!("/v1/videos/{id}")).await;
    assert_eq!(seen.last().unwrap()["error"]["code"], "moderation_blocked");
    let bad = post(&app, "/v1/videos", sora("[[sandbox:video=explode]]")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // fail_rate draws from the seed: two servers make the same choices.
    let outcomes = |app: Router| async move {
        let mut ids = Vec::new();
        for n in 0..12 {
            let reply = post(&app, "/v1/videos", sora(&format!("shot {n}"))).await;
            ids.push(reply.json()["id"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut result = Vec::new();
        for id in ids {
            let job = send(&app, get(&format!("/v1/videos/{id}"), Some(KEY))).await;
            result.push(job.json()["status"].as_str().unwrap().to_owned());
        }
        result
    };
    let rate = json!({"queued_ms": 10, "render_ms": 40, "fail_rate": 0.5});
    let first = outcomes(server_with(rate.clone())).await;
    assert_eq!(first, outcomes(server_with(rate)).await);
    assert!(first.iter().any(|s| s == "failed") && first.iter().any(|s| s == "completed"));
}

#[tokio::test]
async fn duplicate_bodies_are_counted_and_reset_clears_jobs() {
    // Jobs stay queued for the whole test.
    let app = server_with(json!({"queued_ms": 60_000}));
    let body = sora("Shot 1A");
    let first = post(&app, "/v1/videos", body.clone()).await.json();
    // Same fields in another order: still the same job.
    let reordered = r#"{"size":"720x1280","seconds":"8","prompt":"Shot 1A","model":"sora-2"}"#;
    let second = send(&app, post_raw("/v1/videos", Some(KEY), reordered)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(first["id"], second.json()["id"], "each POST is a new job");
    post(&app, "/v1/videos", sora("Shot 1B")).await;
    // The seeds' shape keeps its own record.
    post(&app, "/v1/video/generate", seeds("Shot 1A")).await;
    post(&app, "/v1/video/generate", seeds("Shot 1A")).await;
    // Rejected requests are not jobs.
    let bad = post(
        &app,
        "/v1/videos",
        json!({"model": "sora-2", "prompt": "x", "seconds": 7}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let before = stats(&app).await;
    let video = &before["video"];
    assert_eq!(video["submitted"], 5);
    assert_eq!(video["duplicates"], 2);
    assert_eq!(video["by_shape"]["openai"]["submitted"], 3);
    assert_eq!(video["by_shape"]["openai"]["duplicates"], 1);
    assert_eq!(video["by_shape"]["generate"]["duplicates"], 1);
    assert_eq!(video["queued"], 5);
    // Existing keys are untouched.
    assert_eq!(before["duplicates"], 0);
    assert_eq!(before["requests"]["POST /v1/videos"], 4);
    assert_eq!(before["status"]["400"], 1);

    let reset = send(&app, post_raw("/_sandbox/reset", None, ""))
        .await
        .json();
    assert_eq!(reset["video"]["submitted"], 0);
    assert_eq!(reset["video"]["duplicates"], 0);
    let id = first["id"].as_str().unwrap();
    let gone = send(&app, get(&format!("/v1/videos/{id}"), Some(KEY))).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["error"]["code"], "video_not_found");
    // After a reset the same body is no longer a duplicate.
    post(&app, "/v1/videos", body).await;
    assert_eq!(stats(&app).await["video"]["duplicates"], 0);
}

#[tokio::test]
async fn invalid_submissions_are_400_naming_the_allowed_values() {
    let app = server();
    let expect = |reply: Reply, param: &str, mentions: &[&str]| {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json());
        let body = reply.json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], param, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        for word in mentions {
            assert!(message.contains(word), "{message:?} lacks {word:?}");
        }
    };
    let openai = |model: &str, seconds: Value, size: &str| json!({"model": model, "prompt": "p", "seconds": seconds, "size": size});
    expect(
        post(&app, "/v1/videos", openai("sora-2", json!("6"), "720x1280")).await,
        "seconds",
        &["'4', '8' or '12'"],
    );
    expect(
        post(
            &app,
            "/v1/videos",
            openai("video-gen-2.1", json!(8), "720x1280"),
        )
        .await,
        "seconds",
        &["'5' or '10'"],
    );
    expect(
        post(
            &app,
            "/v1/videos",
            openai("sora-2", json!("eight"), "720x1280"),
        )
        .await,
        "seconds",
        &["'4', '8' or '12'"],
    );
    expect(
        post(&app, "/v1/videos", openai("sora-2", json!(4), "640x480")).await,
        "size",
        &["720x1280", "1280x720", "1024x1792"],
    );
    expect(
        post(&app, "/v1/videos", json!({"model": "sora-2"})).await,
        "prompt",
        &["prompt"],
    );
    expect(
        post(
            &app,
            "/v1/videos",
            json!({"model": "gpt-4.1", "prompt": "p"}),
        )
        .await,
        "model",
        &["chat model"],
    );
    let not_json = send(&app, post_raw("/v1/videos", Some(KEY), "{oops")).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

    let generate = |duration: Value, resolution: &str| json!({"model": "video-gen-2.1", "prompt": "p", "duration": duration, "resolution": resolution});
    expect(
        post(&app, "/v1/video/generate", generate(json!(40), "720p")).await,
        "duration",
        &["5", "30"],
    );
    expect(
        post(&app, "/v1/video/generate", generate(json!(4), "720p")).await,
        "duration",
        &["5", "30"],
    );
    expect(
        post(&app, "/v1/video/generate", generate(json!(10), "8k")).await,
        "resolution",
        &["720p", "1080p", "4k"],
    );

    // Accepted forms: numbers or strings, per-model durations, defaults.
    for body in [
        openai("sora-2", json!(12), "1280x720"),
        openai("sora-2-pro", json!("4"), "1024x1792"),
        openai("video-gen-2.1", json!("10"), "1080x1920"),
        openai("wan2.2-t2v", json!(7), "720x1280"),
        json!({"model": "kling-v2.1", "prompt": "p"}),
    ] {
        let reply = post(&app, "/v1/videos", body.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{body}: {}", reply.json());
        if let Some(seconds) = body.get("seconds") {
            assert_eq!(
                reply.json()["seconds"],
                seconds.to_string().trim_matches('"')
            );
        } else {
            assert_eq!(reply.json()["seconds"], "5");
            assert_eq!(reply.json()["size"], "720x1280");
        }
    }
    let defaults = post(
        &app,
        "/v1/video/generate",
        json!({"model": "m", "prompt": "p"}),
    )
    .await;
    assert_eq!(defaults.status, StatusCode::OK);
    assert_eq!(defaults.json()["duration"], 5);
    assert_eq!(defaults.json()["resolution"], "720p");
    let upper = post(&app, "/v1/video/generate", generate(json!("30"), "4K")).await;
    assert_eq!(upper.json()["resolution"], "4k");
    assert_eq!(upper.json()["duration"], 30);

    for path in ["/v1/videos/video_nope", "/v1/video/status/vgen_nope"] {
        let missing = send(&app, get(path, Some(KEY))).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.json()["error"]["code"], "video_not_found");
    }
}

#[tokio::test]
async fn keys_are_required_except_for_file_links() {
    let app = server();
    let expected = json!({"error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": null,
        "code": "invalid_api_key"
    }});
    let id = post(&app, "/v1/videos", sora("x")).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gen_id = post(&app, "/v1/video/generate", seeds("x")).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for key in [None, Some(WRONG_KEY)] {
        for request in [
            post_raw("/v1/videos", key, sora("y").to_string()),
            post_raw("/v1/video/generate", key, seeds("y").to_string()),
            get("/v1/videos", key),
            get(&format!("/v1/videos/{id}"), key),
            get(&format!("/v1/videos/{id}/content"), key),
            get(&format!("/v1/video/status/{gen_id}"), key),
            get(&format!("/v1/video/generate/{gen_id}"), key),
        ] {
            let reply = send(&app, request).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            assert_eq!(reply.json(), expected);
        }
    }
    assert_eq!(stats(&app).await["video"]["submitted"], 2);
}

#[tokio::test]
async fn cors_preflight_and_headers_on_video_routes() {
    let app = server();
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/videos")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(reply
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let allowed = reply
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    assert!(stats(&app).await["requests"]
        .as_object()
        .unwrap()
        .is_empty());

    let request = Request::post("/v1/videos")
        .header("origin", "http://localhost:5173")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(Body::from(sora("cors").to_string()))
        .unwrap();
    let created = send(&app, request).await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn video_timing_is_configurable_and_fixed_per_job() {
    let app = server_with(json!({"queued_ms": 5000, "render_ms": 5000}));
    let config = send(&app, get("/_sandbox/config", None)).await.json();
    assert_eq!(config["video"]["queued_ms"], 5000);
    assert_eq!(config["video"]["fail_rate"], 0.0);
    assert_eq!(config["video"]["fail_every"], Value::Null);
    assert_eq!(config["video"]["link_ttl_ms"], 3_600_000);
    let slow = post(&app, "/v1/videos", sora("slow")).await.json();

    // Links can be made to expire quickly; the old job keeps its timing.
    let set = send(
        &app,
        post_raw(
            "/_sandbox/config",
            None,
            json!({"video": {"queued_ms": 0, "render_ms": 20, "link_ttl_ms": 400}}).to_string(),
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.json()["video"]["render_ms"], 20);
    let bad = send(
        &app,
        post_raw("/_sandbox/config", None, r#"{"video":{"fail_every":0}}"#),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let quick = post(&app, "/v1/video/generate", seeds("quick"))
        .await
        .json();
    let quick_id = quick["id"].as_str().unwrap();
    let seen = poll_to_end(&app, &format!("/v1/video/status/{quick_id}")).await;
    assert_eq!(seen.last().unwrap()["status"], "completed");
    let file = send(&app, get(&format!("/v1/video/files/{quick_id}.mp4"), None)).await;
    assert_eq!(file.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let expired = send(&app, get(&format!("/v1/video/files/{quick_id}.mp4"), None)).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert_eq!(expired.json()["error"]["code"], "video_expired");

    let slow_id = slow["id"].as_str().unwrap();
    let still = send(&app, get(&format!("/v1/videos/{slow_id}"), Some(KEY))).await;
    assert_eq!(still.json()["status"], "queued");
}
