//! The video adapter against the real sandbox on 127.0.0.1:18787: a finished clip is
//! downloaded whole under the cap, and refused, with nothing kept, when it is larger. Only the
//! API routes are used (no sandbox control route): the sandbox's default video timing renders
//! a job in about 5 s and serves a 2,016-byte MP4.

use crate::support::sleep;
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::media::video_job::{
    ClipTooLarge, JobState, VideoShape, CLIP_DOWNLOAD_CAP_BYTES,
};
use duanju_studio::domain::project::VideoJobStatus;
use duanju_studio::domain::provider::connection::{ApiKey, Connection, Preset, SANDBOX_KEY};
use duanju_studio::web::video::{self, VideoError};
use serde_json::json;
use wasm_bindgen_test::*;

const SANDBOX: &str = "http://127.0.0.1:18787";
/// The size of the sandbox's clip (`sandbox/fixtures/clip.mp4`).
const CLIP_BYTES: u64 = 2_016;

fn sandbox() -> Connection {
    Connection {
        base_url: format!("{SANDBOX}/v1"),
        ..Connection::from_preset("sandbox", Preset::LocalSandbox, "relay", Lang::ZhCn)
    }
}

/// Submits a job in `shape` and polls it until its clip is ready.
async fn finished_job(shape: VideoShape) -> JobState {
    let (conn, key) = (sandbox(), ApiKey::new(SANDBOX_KEY));
    let body = match shape {
        VideoShape::OpenAi => {
            json!({"model": "sora-2", "prompt": "雨夜，推门而入", "seconds": "4"})
        }
        VideoShape::Generate => {
            json!({"model": "kling-v2", "prompt": "雨夜，推门而入", "duration": 5})
        }
    };
    let job = video::submit(&conn, &key, shape, &body, None)
        .await
        .expect("the sandbox takes the job");
    for _ in 0..60 {
        let state = video::status(&conn, &key, shape, &job.id, None)
            .await
            .expect("the job can be read");
        if state.status == VideoJobStatus::Completed {
            return state;
        }
        sleep(250).await;
    }
    panic!("the job did not finish");
}

#[wasm_bindgen_test]
async fn a_clip_is_downloaded_whole_under_the_cap() {
    let (conn, key) = (sandbox(), ApiKey::new(SANDBOX_KEY));
    let job = finished_job(VideoShape::OpenAi).await;
    let blob = video::download(&conn, &key, VideoShape::OpenAi, &job, None)
        .await
        .expect("the clip downloads");
    assert_eq!(blob.size() as u64, CLIP_BYTES);
    assert_eq!(blob.type_(), "video/mp4");
    // Exactly at the cap is still whole.
    let exact = video::download_capped(&conn, &key, VideoShape::OpenAi, &job, None, CLIP_BYTES)
        .await
        .expect("a clip of exactly the cap downloads");
    assert_eq!(exact.size() as u64, CLIP_BYTES);
}

// The real cap holds the sandbox's clip by far.
const _: () = assert!(CLIP_DOWNLOAD_CAP_BYTES > CLIP_BYTES);

#[wasm_bindgen_test]
async fn a_clip_larger_than_the_cap_fails_clearly_and_nothing_is_kept() {
    let (conn, key) = (sandbox(), ApiKey::new(SANDBOX_KEY));
    for shape in [VideoShape::OpenAi, VideoShape::Generate] {
        let job = finished_job(shape).await;
        let error = video::download_capped(&conn, &key, shape, &job, None, 1_000)
            .await
            .expect_err("over the cap");
        // The sandbox declares the size: refused before the body is read.
        assert_eq!(
            error,
            VideoError::TooLarge(ClipTooLarge {
                cap_bytes: 1_000,
                declared_bytes: Some(CLIP_BYTES),
            }),
            "{shape:?}"
        );
        assert_eq!(error.kind(), "clip_too_large");
        assert!(!error.is_transient(), "trying again cannot help");
        assert!(error.message(Lang::ZhCn).contains("太大"));
        assert!(error.message(Lang::En).contains("too large"));
        // The connection was let go: the clip still downloads with room for it.
        let blob = video::download_capped(&conn, &key, shape, &job, None, CLIP_BYTES)
            .await
            .expect("the clip downloads under a cap that holds it");
        assert_eq!(blob.size() as u64, CLIP_BYTES);
    }
}
