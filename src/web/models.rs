//! A connection's model listing: read from the provider's `GET /models` (every page), kept in
//! IndexedDB (`kv`, `model_list:{connection id}`) so Settings and the pre-run check of every
//! later visit and tab see it, and read back from there.
//!
//! Listing models is free, so it does not go through the executor; it sends the key only to the
//! connection's own origin, like every call ([`crate::web::http`]).

use std::cell::RefCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::domain::provider::model_map::{
    list_models_path, next_page_path, parse_model_list, ModelListError, MAX_LIST_BYTES, MAX_MODELS,
};
use crate::web::http::get_text;
use crate::web::idb;

/// The time limit of one page, in milliseconds.
const PAGE_TIMEOUT_MS: u32 = 20_000;
/// The most pages read (Anthropic pages hold 1,000 models; no provider lists 50,000).
const MAX_PAGES: usize = 50;

/// Why the listing could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum ListModelsError {
    /// No key was entered.
    NoKey,
    /// The request failed (a wrong key, CORS, a provider without `GET /models`…).
    Api(ApiError),
    /// The reply was not a model list.
    List(ModelListError),
}

impl ListModelsError {
    /// A short machine-readable name (tests and `data-kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            ListModelsError::NoKey => "no_key",
            ListModelsError::Api(error) => error.kind(),
            ListModelsError::List(_) => "not_a_model_list",
        }
    }

    /// What happened and what to do, in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        let what = match self {
            ListModelsError::NoKey => {
                return lang
                    .pick("请先填写 API 密钥。", "Enter an API key first.")
                    .into()
            }
            ListModelsError::Api(error) => error.message(lang),
            ListModelsError::List(error) => error.message(lang),
        };
        match lang {
            Lang::ZhCn => format!("无法读取模型列表：{what} 仍可手动填写模型 ID。"),
            Lang::En => {
                format!("The model list could not be read: {what} Model ids can still be typed in.")
            }
        }
    }
}

/// The stored listing of one connection.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredListing {
    /// The base URL it was read from: a listing of another address is not this connection's.
    base_url: String,
    /// When it was read (milliseconds since the epoch).
    read_ms: f64,
    /// The model ids.
    ids: Vec<String>,
}

thread_local! {
    /// The listings this page has read or loaded: connection id → (base URL, ids). The check
    /// before a run is synchronous, so it reads them here ([`known_listing`]).
    static KNOWN: RefCell<HashMap<String, (String, Vec<String>)>> = RefCell::new(HashMap::new());
}

fn remember(conn: &Connection, ids: &[String]) {
    KNOWN.with(|known| {
        known
            .borrow_mut()
            .insert(conn.id.clone(), (conn.base_url.clone(), ids.to_vec()));
    });
}

/// The listing of `conn` this page knows (read, or loaded with [`listing_for`]), when it was
/// read from its current base URL.
pub fn known_listing(conn: &Connection) -> Option<Vec<String>> {
    KNOWN.with(|known| {
        known
            .borrow()
            .get(&conn.id)
            .filter(|(base_url, _)| *base_url == conn.base_url)
            .map(|(_, ids)| ids.clone())
    })
}

fn record_key(connection_id: &str) -> String {
    format!("model_list:{connection_id}")
}

/// Reads `conn`'s whole listing from the provider and stores it. Returns the ids.
pub async fn read_listing(conn: &Connection, key: &ApiKey) -> Result<Vec<String>, ListModelsError> {
    if key.is_empty() {
        return Err(ListModelsError::NoKey);
    }
    let protocol = conn.protocol();
    let mut path = Some(list_models_path(protocol, None));
    let mut list = None;
    for _ in 0..MAX_PAGES {
        let Some(next) = path.take() else { break };
        let url = conn
            .api_url(&next)
            .map_err(|_| ListModelsError::Api(ApiError::network(false)))?;
        let body = get_text(conn, key, &url, MAX_LIST_BYTES, PAGE_TIMEOUT_MS)
            .await
            .map_err(ListModelsError::Api)?;
        let page = parse_model_list(&body).map_err(ListModelsError::List)?;
        path = next_page_path(protocol, &page);
        match &mut list {
            None => list = Some(page),
            Some(list) => list.append_page(page),
        }
        if list.as_ref().is_some_and(|l| l.models.len() >= MAX_MODELS) {
            break;
        }
    }
    let ids = list.map(|l| l.ids()).unwrap_or_default();
    remember(conn, &ids);
    let stored = StoredListing {
        base_url: conn.base_url.clone(),
        read_ms: js_sys::Date::now(),
        ids: ids.clone(),
    };
    // A listing that cannot be stored is still shown; the next visit reads it again.
    if let Ok(db) = idb::shared().await {
        let _ = db.put(idb::KV, &record_key(&conn.id), &stored).await;
    }
    Ok(ids)
}

/// The listing stored for `conn`, when it was read from its current base URL.
pub async fn listing_for(conn: &Connection) -> Option<Vec<String>> {
    let db = idb::shared().await.ok()?;
    let stored = db
        .get::<StoredListing>(idb::KV, &record_key(&conn.id))
        .await
        .ok()??;
    if stored.base_url != conn.base_url {
        return None;
    }
    remember(conn, &stored.ids);
    Some(stored.ids)
}
