//! The request log, `GET /_sandbox/log`: every provider request in arrival order, with the time
//! it arrived (before its handler ran), its status, its redacted key, its model and its token
//! cost; the control token is required, `POST /_sandbox/reset` empties it, and neither control
//! routes nor preflights are logged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

mod common;
use common::{app_with, send, with_control, Reply, CONTROL_TOKEN, KEY, OTHER_KEY, WRONG_KEY};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn chat_request(key: &str, body: &Value) -> Request<Body> {
    Request::post("/v1/chat/completions")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn chat_body(prompt: &str, max_tokens: u64) -> Value {
    json!({
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
    })
}

async fn control(app: &Router, method: Method, path: &str) -> Reply {
    let builder = with_control(Request::builder().method(method).uri(path), path);
    send(app, builder.body(Body::empty()).unwrap()).await
}

async fn log(app: &Router) -> Value {
    let reply = control(app, Method::GET, "/_sandbox/log").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

#[tokio::test]
async fn the_log_keeps_arrival_times_and_order_while_replies_take_their_time() {
    // Every chat reply takes 300 ms; a model listing, sent 100 ms later, is answered at once. An
    // entry logged when its reply ended would carry the wrong time, and come second.
    let app = app_with(&json!({"latency_ms": {"min": 300, "max": 300}}));
    let start = now_ms();
    let first = tokio::spawn(send_owned(
        app.clone(),
        chat_request(KEY, &chat_body("one", 7)),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let models = Request::get("/v1/models")
        .header("authorization", format!("Bearer {OTHER_KEY}"))
        .body(Body::empty())
        .unwrap();
    let second = send(&app, models).await;
    assert_eq!(second.status, StatusCode::OK);

    // The chat call is under way: logged first, with no status yet; the listing after it.
    let during = log(&app).await;
    let requests = during["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{during}");
    assert!(requests[0]["status"].is_null(), "{during}");
    assert_eq!(requests[1]["status"], 200, "{during}");

    let first = first.await.unwrap();
    let end = now_ms();
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());

    let after = log(&app).await;
    assert_eq!(after["dropped"], 0);
    let requests = after["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{after}");
    let (a, b) = (&requests[0], &requests[1]);
    assert_eq!(a["method"], "POST");
    assert_eq!(a["path"], "/v1/chat/completions");
    assert_eq!(a["status"], 200);
    assert_eq!(a["key"], "sk-…cdef");
    assert_eq!(a["model"], "gpt-4.1-mini");
    assert_eq!(b["method"], "GET");
    assert_eq!(b["path"], "/v1/models");
    assert_eq!(b["key"], "sk-…9876");
    assert!(b["model"].is_null() && b["tokens"].is_null(), "{b}");
    let (at_a, at_b) = (a["at_ms"].as_u64().unwrap(), b["at_ms"].as_u64().unwrap());
    // Arrival, not completion: the chat call was logged at the start, well before its 300 ms
    // reply ended, and the listing about 100 ms later.
    assert!(
        at_a >= start && at_a < start + 150,
        "{at_a} vs start {start}"
    );
    assert!(
        (at_a + 90..at_a + 250).contains(&at_b),
        "{at_b} vs first {at_a}"
    );
    assert!(end >= at_a + 300, "the reply took its 300 ms");

    // The token cost is the prompt tokens (as billed) plus max_tokens.
    let stats = control(&app, Method::GET, "/_sandbox/stats").await.json();
    let prompt = stats["billed"]["by_key"]["sk-…cdef"]["prompt_tokens"]
        .as_u64()
        .unwrap();
    assert!(prompt > 0);
    assert_eq!(a["tokens"].as_u64().unwrap(), prompt + 7);
}

async fn send_owned(app: Router, request: Request<Body>) -> Reply {
    send(&app, request).await
}

#[tokio::test]
async fn refused_requests_are_logged_but_not_control_routes_or_preflights() {
    let app = app_with(&json!({}));
    let wrong = send(&app, chat_request(WRONG_KEY, &chat_body("hi", 5))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/chat/completions")
        .header("origin", "http://localhost:8080")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    assert!(send(&app, preflight).await.status.is_success());
    let models = Request::get("/v1/models")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, models).await.status, StatusCode::OK);
    let video = Request::post("/v1/videos")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"model": "sora-2", "prompt": "a cat", "seconds": "4"}).to_string(),
        ))
        .unwrap();
    let video = send(&app, video).await;
    let _ = control(&app, Method::GET, "/_sandbox/stats").await;

    let log = log(&app).await;
    let requests = log["requests"].as_array().unwrap();
    let summary: Vec<_> = requests
        .iter()
        .map(|entry| {
            (
                entry["method"].as_str().unwrap().to_owned(),
                entry["path"].as_str().unwrap().to_owned(),
                entry["status"].as_u64(),
                entry["key"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let key = Some("sk-…cdef".to_owned());
    assert_eq!(
        summary,
        vec![
            (
                "POST".into(),
                "/v1/chat/completions".into(),
                Some(401),
                None
            ),
            ("GET".into(), "/v1/models".into(), Some(200), key.clone()),
            (
                "POST".into(),
                "/v1/videos".into(),
                Some(video.status.as_u16() as u64),
                key
            ),
        ],
        "{log}"
    );
    // The wrong key is neither logged nor hinted at.
    let text = log.to_string();
    assert!(!text.contains("y-42") && !text.contains("wrong"), "{log}");
    assert_eq!(requests[2]["model"], "sora-2");
    assert!(requests[2]["tokens"].is_null());
    assert!(requests[1]["model"].is_null());
}

#[tokio::test]
async fn the_log_needs_the_control_token_and_reset_empties_it() {
    let app = app_with(&json!({}));
    let reply = send(&app, chat_request(KEY, &chat_body("hello", 5))).await;
    assert_eq!(reply.status, StatusCode::OK);

    let anonymous = send(
        &app,
        Request::get("/_sandbox/log").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert!(!anonymous.text().contains("requests"));
    let wrong = Request::get("/_sandbox/log")
        .header("x-sandbox-control", format!("{CONTROL_TOKEN}x"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, wrong).await.status, StatusCode::FORBIDDEN);
    // With a key but no token: still refused.
    let with_key = Request::get("/_sandbox/log")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, with_key).await.status, StatusCode::FORBIDDEN);

    assert_eq!(log(&app).await["requests"].as_array().unwrap().len(), 1);
    let reset = control(&app, Method::POST, "/_sandbox/reset").await;
    assert_eq!(reset.status, StatusCode::OK);
    assert!(
        reset.json().get("log").is_none(),
        "the stats do not carry the log"
    );
    let empty = log(&app).await;
    assert_eq!(empty, json!({"requests": [], "dropped": 0}));

    let reply = send(&app, chat_request(KEY, &chat_body("again", 5))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let again = log(&app).await;
    assert_eq!(again["requests"].as_array().unwrap().len(), 1);
    assert_eq!(again["requests"][0]["status"], 200);
}

#[tokio::test]
async fn a_request_under_way_at_a_reset_does_not_write_into_the_new_log() {
    let app = app_with(&json!({"latency_ms": {"min": 200, "max": 200}}));
    let slow = tokio::spawn(send_owned(
        app.clone(),
        chat_request(KEY, &chat_body("slow", 5)),
    ));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        control(&app, Method::POST, "/_sandbox/reset").await.status,
        StatusCode::OK
    );
    // The first entry of the new log, refused (401), where the slow request's 200 would land
    // if it still wrote into the log.
    let models = Request::get("/v1/models")
        .header("authorization", format!("Bearer {WRONG_KEY}"))
        .body(Body::empty())
        .unwrap();
    let fast = tokio::spawn(send_owned(app.clone(), models));
    assert_eq!(fast.await.unwrap().status, StatusCode::UNAUTHORIZED);
    assert_eq!(slow.await.unwrap().status, StatusCode::OK);
    let log = log(&app).await;
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{log}");
    assert_eq!(requests[0]["path"], "/v1/models");
    assert_eq!(requests[0]["status"], 401);
}

#[tokio::test]
async fn a_body_cut_short_is_logged_with_its_refusal() {
    use tokio::io::AsyncWriteExt;
    let server = common::TcpServer::start(json!({}), sandbox::BillingMode::Complete).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"model\":",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = server.state.stats().log;
        if let Some(entry) = log.requests.front().filter(|e| e.status.is_some()) {
            assert_eq!(log.requests.len(), 1);
            assert_eq!(entry.status, Some(400));
            assert_eq!(entry.key.as_deref(), Some("sk-…cdef"));
            assert_eq!(entry.model, None);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never logged: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.stats()["status"]["400"],
        1,
        "counted in the stats too"
    );
}
