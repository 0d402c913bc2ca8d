//! The models the sandbox serves, and `GET /v1/models`.
//!
//! A request that carries `x-api-key` or `anthropic-version` is answered in
//! Anthropic's shape (`{data:[{type:"model", id, display_name, created_at}],
//! has_more, first_id, last_id}`, its errors as for [`crate::messages`]);
//! any other in OpenAI's.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::chat::authorize;
use crate::error::ApiError;
use crate::limits::rfc3339;
use crate::messages::{self, MessagesError};
use crate::state::AppState;

/// One served model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    /// The model id clients send.
    pub id: &'static str,
    /// The `owned_by` field.
    pub owned_by: &'static str,
    /// The `created` field (a fixed Unix time).
    pub created: u64,
    /// Whether `POST /v1/chat/completions` accepts it.
    pub chat: bool,
}

/// The context window of every chat model, in tokens.
pub const CONTEXT_WINDOW: u64 = 128_000;

/// Every model the sandbox lists.
pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        id: "deepseek-v3.2",
        owned_by: "deepseek",
        created: 1_758_000_000,
        chat: true,
    },
    ModelInfo {
        id: "deepseek-chat",
        owned_by: "deepseek",
        created: 1_758_000_000,
        chat: true,
    },
    ModelInfo {
        id: "gemini-2.5-flash",
        owned_by: "google",
        created: 1_750_000_000,
        chat: true,
    },
    ModelInfo {
        id: "gpt-4.1",
        owned_by: "openai",
        created: 1_744_316_542,
        chat: true,
    },
    ModelInfo {
        id: "gpt-4.1-mini",
        owned_by: "openai",
        created: 1_744_318_173,
        chat: true,
    },
    ModelInfo {
        id: "claude-sonnet-4.5",
        owned_by: "anthropic",
        created: 1_759_104_000,
        chat: true,
    },
    ModelInfo {
        id: "claude-sonnet-4-5",
        owned_by: "anthropic",
        created: 1_759_104_000,
        chat: true,
    },
    ModelInfo {
        id: "claude-haiku-4-5",
        owned_by: "anthropic",
        created: 1_760_572_800,
        chat: true,
    },
    ModelInfo {
        id: "claude-opus-4-1",
        owned_by: "anthropic",
        created: 1_754_352_000,
        chat: true,
    },
    ModelInfo {
        id: "video-gen-2.1",
        owned_by: "sandbox",
        created: 1_760_000_000,
        chat: false,
    },
];

/// Looks a model up by id.
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|model| model.id == id)
}

fn model_json(model: &ModelInfo) -> serde_json::Value {
    json!({
        "id": model.id,
        "object": "model",
        "created": model.created,
        "owned_by": model.owned_by,
    })
}

/// Whether a request speaks Anthropic's API.
fn anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-key") || headers.contains_key("anthropic-version")
}

fn anthropic_json(model: &ModelInfo) -> serde_json::Value {
    json!({
        "type": "model",
        "id": model.id,
        "display_name": model.id,
        "created_at": rfc3339(model.created),
    })
}

/// `GET /v1/models`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if anthropic(&headers) {
        if let Err(error) = messages::authorize(&state, &headers) {
            return error.into_response();
        }
        let data: Vec<_> = MODELS.iter().map(anthropic_json).collect();
        let first = MODELS.first().map(|m| m.id);
        let last = MODELS.last().map(|m| m.id);
        return Json(json!({"data": data, "has_more": false, "first_id": first, "last_id": last}))
            .into_response();
    }
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let data: Vec<_> = MODELS.iter().map(model_json).collect();
    Json(json!({ "object": "list", "data": data })).into_response()
}

/// `GET /v1/models/{id}`.
pub async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if anthropic(&headers) {
        if let Err(error) = messages::authorize(&state, &headers) {
            return error.into_response();
        }
        return match find(&id) {
            Some(model) => Json(anthropic_json(model)).into_response(),
            None => MessagesError::model_not_found(&id).into_response(),
        };
    }
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    match find(&id) {
        Some(model) => Json(model_json(model)).into_response(),
        None => ApiError::model_not_found(&id).into_response(),
    }
}
