//! The models the sandbox serves, and `GET /v1/models`.
//!
//! A request that carries `x-api-key` or `anthropic-version` is answered in
//! Anthropic's shape (`{data:[{type:"model", id, display_name, created_at}],
//! has_more, first_id, last_id}`, its errors as for [`crate::messages`]);
//! any other in OpenAI's.
//!
//! The configuration's `model_ids` ([`ModelIds`]) names the models: under
//! `catalog` (the default) as [`MODELS`] does, under `openrouter` as
//! `{owned_by}/{id}` (`google/gemini-2.5-flash`) in the listing, in
//! `GET /v1/models/{id}` and in the `model` chat completions and Messages
//! accept ([`resolve`]); a bare catalog name is then not found, and a
//! prefixed id is billed (`billed.by_model`) under its catalog name. (Under
//! `openrouter`, `GET /v1/models/{id}` has no route for an id with a slash,
//! so it finds nothing, as OpenRouter serves no such route.) Chat replies to a
//! `vendor/model` id state their cost in `usage.cost`, as OpenRouter does.

use std::borrow::Cow;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::chat::authorize;
use crate::config::ModelIds;
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

/// Looks a model up by its catalog id.
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|model| model.id == id)
}

impl ModelInfo {
    /// The id the sandbox lists and accepts for this model under `ids`.
    pub fn served_id(&self, ids: ModelIds) -> Cow<'static, str> {
        match ids {
            ModelIds::Catalog => Cow::Borrowed(self.id),
            ModelIds::Openrouter => Cow::Owned(format!("{}/{}", self.owned_by, self.id)),
        }
    }
}

/// The model a request's `model` names under `ids`: under
/// [`ModelIds::Catalog`] a catalog id, under [`ModelIds::Openrouter`] only
/// `{owned_by}/{catalog id}` (the vendor compared exactly, as OpenRouter
/// does). `None` when no served id matches.
pub fn resolve(ids: ModelIds, requested: &str) -> Option<&'static ModelInfo> {
    match ids {
        ModelIds::Catalog => find(requested),
        ModelIds::Openrouter => {
            let (vendor, id) = requested.split_once('/')?;
            find(id).filter(|model| model.owned_by == vendor)
        }
    }
}

/// [`resolve`] under the configuration in force.
pub fn resolve_served(state: &AppState, requested: &str) -> Option<&'static ModelInfo> {
    let ids = state.lock().config.model_ids;
    resolve(ids, requested)
}

fn model_json(model: &ModelInfo, ids: ModelIds) -> serde_json::Value {
    json!({
        "id": model.served_id(ids),
        "object": "model",
        "created": model.created,
        "owned_by": model.owned_by,
    })
}

/// Whether a request speaks Anthropic's API.
fn anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-key") || headers.contains_key("anthropic-version")
}

fn anthropic_json(model: &ModelInfo, ids: ModelIds) -> serde_json::Value {
    let id = model.served_id(ids);
    json!({
        "type": "model",
        "id": id,
        "display_name": id,
        "created_at": rfc3339(model.created),
    })
}

/// `GET /v1/models`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if anthropic(&headers) {
        if let Err(error) = messages::authorize(&state, &headers) {
            return error.into_response();
        }
        let ids = state.lock().config.model_ids;
        let data: Vec<_> = MODELS.iter().map(|m| anthropic_json(m, ids)).collect();
        let first = MODELS.first().map(|m| m.served_id(ids));
        let last = MODELS.last().map(|m| m.served_id(ids));
        return Json(json!({"data": data, "has_more": false, "first_id": first, "last_id": last}))
            .into_response();
    }
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let ids = state.lock().config.model_ids;
    let data: Vec<_> = MODELS.iter().map(|m| model_json(m, ids)).collect();
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
        let ids = state.lock().config.model_ids;
        return match resolve(ids, &id) {
            Some(model) => Json(anthropic_json(model, ids)).into_response(),
            None => MessagesError::model_not_found(&id).into_response(),
        };
    }
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let ids = state.lock().config.model_ids;
    match resolve(ids, &id) {
        Some(model) => Json(model_json(model, ids)).into_response(),
        None => ApiError::model_not_found(&id).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_resolve_only_bare() {
        for model in MODELS {
            assert_eq!(model.served_id(ModelIds::Catalog), model.id);
            assert_eq!(resolve(ModelIds::Catalog, model.id), Some(model));
        }
        assert_eq!(resolve(ModelIds::Catalog, "google/gemini-2.5-flash"), None);
        assert_eq!(resolve(ModelIds::Catalog, "nope"), None);
    }

    #[test]
    fn openrouter_ids_are_vendor_prefixed_and_only_those_resolve() {
        let or = ModelIds::Openrouter;
        let served: Vec<_> = MODELS.iter().map(|m| m.served_id(or)).collect();
        for id in [
            "google/gemini-2.5-flash",
            "deepseek/deepseek-v3.2",
            "anthropic/claude-sonnet-4.5",
            "openai/gpt-4.1",
        ] {
            assert!(served.iter().any(|s| s == id), "{id} in {served:?}");
        }
        for model in MODELS {
            let id = model.served_id(or);
            assert_eq!(resolve(or, &id), Some(model), "{id}");
            // The bare catalog name is not served any more.
            assert_eq!(resolve(or, model.id), None, "{}", model.id);
        }
        // The vendor must be the model's own, compared exactly.
        assert_eq!(resolve(or, "openai/gemini-2.5-flash"), None);
        assert_eq!(resolve(or, "Google/gemini-2.5-flash"), None);
        assert_eq!(resolve(or, "google/"), None);
        assert_eq!(resolve(or, "/gemini-2.5-flash"), None);
        assert_eq!(resolve(or, "google/gemini-2.5-flash/x"), None);
    }
}
