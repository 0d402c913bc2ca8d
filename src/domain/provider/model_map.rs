//! Model ids per connection: a route names the model a task needs as the catalog knows it
//! (`gemini-2.5-flash`), and each connection sends its own id for it (`google/gemini-2.5-flash`
//! on OpenRouter, `deepseek-chat` for `deepseek-v3.2` on DeepSeek).
//!
//! The id a connection sends is [`Connection::model_id`]: the user's mapping
//! ([`Connection::model_ids`]), else the mapping this module ships for the connection's preset
//! ([`shipped_model_id`]), else the catalog name itself (right for the relays, which use the
//! catalog's names, and for the sandbox).
//!
//! Where the provider lists its models (`GET {base}/models`), [`parse_model_list`] reads the
//! reply (OpenAI / OpenRouter and Anthropic shapes), [`propose`] ranks the listed ids that name
//! a catalog model, and [`missing_models`] tells, before a run starts, which model a connection
//! lacks and what to pick instead.
//!
//! ```
//! use duanju_studio::domain::i18n::Lang;
//! use duanju_studio::domain::provider::connection::{Connection, Preset};
//! use duanju_studio::domain::provider::model_map::{missing_models, parse_model_list, propose};
//!
//! let body = r#"{"object":"list","data":[{"id":"google/gemini-2.5-flash-lite"},
//!               {"id":"google/gemini-2.5-flash"}]}"#;
//! let listed = parse_model_list(body).unwrap().ids();
//! assert_eq!(propose("gemini-2.5-flash", &listed), ["google/gemini-2.5-flash"]);
//!
//! let mut conn = Connection::from_preset("c1", Preset::Custom, "relay", Lang::En);
//! let missing = missing_models(&conn, &["gemini-2.5-flash"], Some(&listed));
//! assert_eq!(missing[0].fix(), Some("google/gemini-2.5-flash"));
//! conn.set_model_id("gemini-2.5-flash", "google/gemini-2.5-flash").unwrap();
//! assert!(missing_models(&conn, &["gemini-2.5-flash"], Some(&listed)).is_empty());
//! ```

use std::cmp::Reverse;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::domain::i18n::Lang;
use crate::domain::provider::connection::{Connection, Preset, Protocol};
use crate::domain::provider::routing::{RouteTable, TaskType};

/// The most models kept from a listing (OpenRouter lists a few hundred; a relay a few dozen).
pub const MAX_MODELS: usize = 20_000;
/// The longest model id (and display name) kept, in characters; longer ones are ignored.
pub const MAX_MODEL_ID_CHARS: usize = 200;
/// The largest listing body read, in bytes (OpenRouter's, with descriptions and prices, is
/// about 1–2 MB).
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;
/// The page size asked of Anthropic's `GET /v1/models` (its maximum).
pub const ANTHROPIC_PAGE_LIMIT: u32 = 1000;

/// The ids the presets' own APIs expect for the catalog models the shipped routes use
/// ([`RouteTable::seed_defaults`], [`RouteTable::official_rollback`]): `(preset, catalog model,
/// the preset's id)`. A catalog model without an entry is sent under its catalog name, which is
/// right for OpenAI (`gpt-4.1`), the HolySheep relay and the sandbox (the catalog uses their
/// names). `video-gen-2.1` is the relay's video model and has no counterpart elsewhere.
const SHIPPED: &[(Preset, &str, &str)] = &[
    // OpenRouter names models `vendor/model`, as its `GET /api/v1/models` lists them
    // (openrouter.ai/models, read 2026-12).
    (
        Preset::OpenRouter,
        "deepseek-v3.2",
        "deepseek/deepseek-v3.2",
    ),
    (
        Preset::OpenRouter,
        "claude-sonnet-4.5",
        "anthropic/claude-sonnet-4.5",
    ),
    (
        Preset::OpenRouter,
        "gemini-2.5-flash",
        "google/gemini-2.5-flash",
    ),
    (Preset::OpenRouter, "gpt-4.1", "openai/gpt-4.1"),
    // DeepSeek's API serves its current V3.x model as `deepseek-chat` (non-thinking mode) and
    // lists only `deepseek-chat` and `deepseek-reasoner` (api-docs.deepseek.com, "Models &
    // Pricing", read 2026-12). The preset's probe model is the same id.
    (Preset::DeepSeek, "deepseek-v3.2", "deepseek-chat"),
    // Anthropic's alias for the newest Claude Sonnet 4.5 snapshot (`claude-sonnet-4-5-20250929`
    // when read), docs.anthropic.com "Models overview", read 2026-12; the seeds' official
    // rollback and the preset's probe model use the same alias.
    (Preset::Anthropic, "claude-sonnet-4.5", "claude-sonnet-4-5"),
];

/// The id `preset`'s API expects for `catalog_model`, when the app ships one (see the module
/// docs); `None` means the catalog name is sent as it is.
pub fn shipped_model_id(preset: Preset, catalog_model: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(p, catalog, _)| *p == preset && *catalog == catalog_model)
        .map(|(_, _, id)| *id)
}

/// Every shipped mapping of `preset`, `(catalog model, id)`, in table order (for the settings
/// page, which shows them as the defaults).
pub fn shipped_model_ids(preset: Preset) -> impl Iterator<Item = (&'static str, &'static str)> {
    SHIPPED
        .iter()
        .filter(move |(p, _, _)| *p == preset)
        .map(|(_, catalog, id)| (*catalog, *id))
}

/// Why a model id cannot be stored as a connection's mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelIdError {
    /// Nothing was entered (for the catalog model or the id).
    Empty,
    /// Longer than [`MAX_MODEL_ID_CHARS`].
    TooLong,
    /// Spaces at either end, or control characters.
    InvalidCharacters,
}

impl ModelIdError {
    /// The error text.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ModelIdError::Empty => lang
                .pick("模型 ID 不能为空。", "The model id must not be empty.")
                .to_string(),
            ModelIdError::TooLong => match lang {
                Lang::ZhCn => format!("模型 ID 最多 {MAX_MODEL_ID_CHARS} 个字符。"),
                Lang::En => format!("A model id has at most {MAX_MODEL_ID_CHARS} characters."),
            },
            ModelIdError::InvalidCharacters => lang
                .pick(
                    "模型 ID 首尾不能有空格，也不能含控制字符。",
                    "A model id must not start or end with a space or contain control \
                     characters.",
                )
                .to_string(),
        }
    }
}

/// Checks a model id (or a catalog model name) before it is stored.
pub fn validate_model_id(id: &str) -> Result<(), ModelIdError> {
    if id.trim().is_empty() {
        return Err(ModelIdError::Empty);
    }
    if id.chars().count() > MAX_MODEL_ID_CHARS {
        return Err(ModelIdError::TooLong);
    }
    if id.trim() != id || id.chars().any(char::is_control) {
        return Err(ModelIdError::InvalidCharacters);
    }
    Ok(())
}

impl Connection {
    /// The id this connection sends for `catalog_model`: the user's mapping, else the preset's
    /// shipped one ([`shipped_model_id`]), else the catalog name itself. An empty stored
    /// mapping counts as none.
    pub fn model_id<'a>(&'a self, catalog_model: &'a str) -> &'a str {
        self.model_ids
            .get(catalog_model)
            .map(String::as_str)
            .filter(|id| !id.trim().is_empty())
            .or_else(|| shipped_model_id(self.preset, catalog_model))
            .unwrap_or(catalog_model)
    }

    /// Maps `catalog_model` to `id` on this connection. A mapping equal to what would be sent
    /// anyway (the shipped id, or the catalog name) is removed instead of stored, so a later
    /// release's better default reaches it.
    pub fn set_model_id(&mut self, catalog_model: &str, id: &str) -> Result<(), ModelIdError> {
        validate_model_id(catalog_model)?;
        validate_model_id(id)?;
        let default = shipped_model_id(self.preset, catalog_model).unwrap_or(catalog_model);
        if id == default {
            self.model_ids.remove(catalog_model);
        } else {
            self.model_ids
                .insert(catalog_model.to_string(), id.to_string());
        }
        Ok(())
    }

    /// Forgets the user's mapping of `catalog_model` (the shipped one, if any, applies again).
    pub fn clear_model_id(&mut self, catalog_model: &str) {
        self.model_ids.remove(catalog_model);
    }
}

/// One model of a provider's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedModel {
    /// The id to send.
    pub id: String,
    /// The provider's display name (Anthropic's `display_name`, OpenRouter's `name`), if any.
    pub display_name: Option<String>,
}

/// One page of a provider's listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelList {
    /// The models, in the provider's order, without repeats.
    pub models: Vec<ListedModel>,
    /// Anthropic's `has_more`: another page follows (ask for it with [`next_page_path`]).
    pub has_more: bool,
    /// Anthropic's `last_id`: where the next page starts.
    pub last_id: Option<String>,
    /// Entries left out: over [`MAX_MODELS`], ids over [`MAX_MODEL_ID_CHARS`], ids that are
    /// empty or hold control characters, or entries without an id.
    pub skipped: usize,
}

impl ModelList {
    /// The ids, in order.
    pub fn ids(&self) -> Vec<String> {
        self.models.iter().map(|m| m.id.clone()).collect()
    }

    /// Appends the next page: its models not already listed (up to [`MAX_MODELS`] in all),
    /// and its paging state.
    pub fn append_page(&mut self, page: ModelList) {
        let mut seen: BTreeSet<String> = self.models.iter().map(|m| m.id.clone()).collect();
        self.skipped += page.skipped;
        for model in page.models {
            if self.models.len() >= MAX_MODELS {
                self.skipped += 1;
            } else if seen.insert(model.id.clone()) {
                self.models.push(model);
            }
        }
        self.has_more = page.has_more;
        self.last_id = page.last_id;
    }
}

/// Why a listing could not be read. The messages never quote the body (it may hold anything,
/// a key echoed by a misconfigured relay included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelListError {
    /// The body is not JSON (an HTML error page, a proxy's login page, an empty body).
    NotJson,
    /// JSON, but no list of models (`data` is missing or not an array).
    NoList,
    /// Larger than [`MAX_LIST_BYTES`].
    TooLarge,
}

impl ModelListError {
    /// The error text.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ModelListError::NotJson => lang
                .pick(
                    "模型列表（GET /models）返回的不是 JSON，可能是网页或代理的错误页。请检查 Base URL 是否填到 /v1 这一级；也可以直接手动填写模型 ID。",
                    "The model list (GET /models) did not answer JSON: probably a web page or a \
                     proxy's error page. Check that the base URL stops at the /v1 level, or \
                     enter the model ids by hand.",
                )
                .to_string(),
            ModelListError::NoList => lang
                .pick(
                    "模型列表（GET /models）的回复里没有模型清单（data）。这个服务可能不提供模型列表，请手动填写模型 ID。",
                    "The model list (GET /models) answered without a list of models (data). \
                     This provider may not offer one: enter the model ids by hand.",
                )
                .to_string(),
            ModelListError::TooLarge => match lang {
                Lang::ZhCn => format!(
                    "模型列表超过 {} MB，未读取。请手动填写模型 ID。",
                    MAX_LIST_BYTES / (1024 * 1024)
                ),
                Lang::En => format!(
                    "The model list is larger than {} MB and was not read. Enter the model ids \
                     by hand.",
                    MAX_LIST_BYTES / (1024 * 1024)
                ),
            },
        }
    }
}

/// Reads a `GET /models` reply: OpenAI's and OpenRouter's `{"object":"list","data":[{"id":…}]}`,
/// Anthropic's `{"data":[{"type":"model","id":…,"display_name":…}],"has_more":…,"last_id":…}`,
/// and the bare array some relays answer. Extra fields are ignored; so are entries without a
/// usable id (see [`ModelList::skipped`]). Repeated ids are kept once.
pub fn parse_model_list(body: &str) -> Result<ModelList, ModelListError> {
    if body.len() > MAX_LIST_BYTES {
        return Err(ModelListError::TooLarge);
    }
    let value: Value = serde_json::from_str(body).map_err(|_| ModelListError::NotJson)?;
    let entries = match &value {
        Value::Array(entries) => entries,
        Value::Object(object) => match object.get("data") {
            Some(Value::Array(entries)) => entries,
            _ => return Err(ModelListError::NoList),
        },
        _ => return Err(ModelListError::NoList),
    };
    let mut list = ModelList {
        has_more: value.get("has_more").and_then(Value::as_bool) == Some(true),
        last_id: value
            .get("last_id")
            .and_then(Value::as_str)
            .filter(|id| usable(id))
            .map(str::to_string),
        ..ModelList::default()
    };
    let mut seen = BTreeSet::new();
    for entry in entries {
        let (id, display_name) = match entry {
            Value::String(id) => (Some(id.as_str()), None),
            Value::Object(object) => (
                object.get("id").and_then(Value::as_str),
                object
                    .get("display_name")
                    .or_else(|| object.get("name"))
                    .and_then(Value::as_str),
            ),
            _ => (None, None),
        };
        let Some(id) = id.filter(|id| usable(id)) else {
            list.skipped += 1;
            continue;
        };
        if list.models.len() >= MAX_MODELS {
            list.skipped += 1;
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        list.models.push(ListedModel {
            id: id.to_string(),
            display_name: display_name.filter(|name| usable(name)).map(str::to_string),
        });
    }
    Ok(list)
}

/// An id (or name) worth keeping: not empty, at most [`MAX_MODEL_ID_CHARS`] characters, no
/// control characters, no spaces at either end.
fn usable(id: &str) -> bool {
    validate_model_id(id).is_ok()
}

/// The path (below the base URL) of a listing page: `/models` for OpenAI-style providers, which
/// answer in one page; `/models?limit=1000` for Anthropic, and `&after_id=…` for the page after
/// `after_id` ([`ModelList::last_id`]).
pub fn list_models_path(protocol: Protocol, after_id: Option<&str>) -> String {
    match (protocol, after_id) {
        (Protocol::OpenAiChat, _) => "/models".to_string(),
        (Protocol::AnthropicMessages, None) => format!("/models?limit={ANTHROPIC_PAGE_LIMIT}"),
        (Protocol::AnthropicMessages, Some(after)) => format!(
            "/models?limit={ANTHROPIC_PAGE_LIMIT}&after_id={}",
            percent_encode(after)
        ),
    }
}

/// The path of the page after `list`, when it says more follow and where they start.
pub fn next_page_path(protocol: Protocol, list: &ModelList) -> Option<String> {
    let last = list.last_id.as_deref().filter(|_| list.has_more)?;
    Some(list_models_path(protocol, Some(last)))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// How closely a listed id names a catalog model; lower is closer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Closeness {
    /// The same id.
    Exact,
    /// The same but for case or a `vendor/` prefix (`google/gemini-2.5-flash`).
    Vendor,
    /// Also `.` and `-` alike (`claude-sonnet-4-5` for `claude-sonnet-4.5`).
    Separators,
    /// Also a trailing date or `-latest` (`claude-sonnet-4-5-20250929`).
    Dated,
}

/// Lower case, without a `vendor/` prefix.
fn vendorless(id: &str) -> String {
    let lower = id.to_lowercase();
    match lower.rsplit_once('/') {
        Some((_, rest)) => rest.to_string(),
        None => lower,
    }
}

/// `.` (and `_`) written as `-`.
fn unify_separators(id: &str) -> String {
    id.replace(['.', '_'], "-")
}

/// The trailing date of an id (`-20250929`, `-2025-09-29`, `@20250929`) as `20250929`, and
/// the id without it; or a trailing `-latest`, reported as the date `99999999` (newest).
fn split_date(id: &str) -> Option<(&str, String)> {
    if let Some(rest) = id.strip_suffix("-latest") {
        return Some((rest, "99999999".to_string()));
    }
    let plausible = |digits: &str| {
        let month: u32 = digits[4..6].parse().unwrap_or(0);
        let day: u32 = digits[6..8].parse().unwrap_or(0);
        digits.starts_with("20") && (1..=12).contains(&month) && (1..=31).contains(&day)
    };
    // Checked byte by byte before slicing: the separators are ASCII, so the slices fall on
    // character boundaries whatever precedes them.
    let b = id.as_bytes();
    let n = b.len();
    let sep = |i: usize| matches!(b[i], b'-' | b'@');
    let digits = |from: usize, to: usize| b[from..to].iter().all(u8::is_ascii_digit);
    // `-20250929` / `@20250929`.
    if n > 9 && sep(n - 9) && digits(n - 8, n) && plausible(&id[n - 8..]) {
        return Some((&id[..n - 9], id[n - 8..].to_string()));
    }
    // `-2025-09-29` / `@2025-09-29`.
    if n > 11
        && sep(n - 11)
        && digits(n - 10, n - 6)
        && b[n - 6] == b'-'
        && digits(n - 5, n - 3)
        && b[n - 3] == b'-'
        && digits(n - 2, n)
    {
        let date = format!(
            "{}{}{}",
            &id[n - 10..n - 6],
            &id[n - 5..n - 3],
            &id[n - 2..]
        );
        if plausible(&date) {
            return Some((&id[..n - 11], date));
        }
    }
    None
}

/// How `listed` compares with `catalog`, and the date it carries (for ordering), if it names
/// the same model at all.
fn closeness(catalog: &str, listed: &str) -> Option<(Closeness, String)> {
    if listed == catalog {
        return Some((Closeness::Exact, String::new()));
    }
    let (c1, l1) = (vendorless(catalog), vendorless(listed));
    if c1 == l1 {
        return Some((Closeness::Vendor, String::new()));
    }
    let (c2, l2) = (unify_separators(&c1), unify_separators(&l1));
    if c2 == l2 {
        return Some((Closeness::Separators, String::new()));
    }
    let c3 = split_date(&c2).map_or(c2.as_str(), |(head, _)| head);
    let (l3, date) = split_date(&l2).map_or((l2.as_str(), String::new()), |(h, d)| (h, d));
    (c3 == l3).then_some((Closeness::Dated, date))
}

/// The listed ids that name `catalog_model`, best first: the same id; then the same after
/// lower-casing and dropping a `vendor/` prefix; then also with `.` and `-` alike; then also
/// without a trailing date (`-20250929`, `-2025-09-29`, `@20250929`) or `-latest`. Among equals,
/// `-latest` and the newest date come first, then the shorter id. Empty when nothing plausible is
/// listed: a longer name (`google/gemini-2.5-flash-lite` for `gemini-2.5-flash`) is another
/// model and never proposed.
pub fn propose(catalog_model: &str, listed: &[String]) -> Vec<String> {
    let mut ranked: Vec<(Closeness, Reverse<String>, usize, &str)> = Vec::new();
    let mut seen = BTreeSet::new();
    for id in listed {
        if !seen.insert(id.as_str()) {
            continue;
        }
        if let Some((close, date)) = closeness(catalog_model, id) {
            ranked.push((close, Reverse(date), id.chars().count(), id.as_str()));
        }
    }
    ranked.sort();
    ranked
        .into_iter()
        .map(|(_, _, _, id)| id.to_string())
        .collect()
}

/// A model a run needs that the connection does not list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingModel {
    /// The connection's id.
    pub connection_id: String,
    /// The connection's name (for the message).
    pub connection_name: String,
    /// The catalog model the route names.
    pub catalog_model: String,
    /// The id the connection would send ([`Connection::model_id`]).
    pub sent_id: String,
    /// Listed ids that name the catalog model, best first ([`propose`]); may be empty.
    pub proposals: Vec<String>,
}

impl MissingModel {
    /// The id to map the catalog model to, if one was found.
    pub fn fix(&self) -> Option<&str> {
        self.proposals.first().map(String::as_str)
    }

    /// What is missing where, and the fix.
    pub fn message(&self, lang: Lang) -> String {
        let MissingModel {
            connection_name: name,
            catalog_model: catalog,
            sent_id: sent,
            ..
        } = self;
        let what = match (lang, sent == catalog) {
            (Lang::ZhCn, true) => format!("连接「{name}」的模型列表里没有 {sent}。"),
            (Lang::ZhCn, false) => {
                format!("连接「{name}」的模型列表里没有 {sent}（任务需要的 {catalog}）。")
            }
            (Lang::En, true) => format!("The connection “{name}” does not list {sent}."),
            (Lang::En, false) => {
                format!("The connection “{name}” does not list {sent} (used for {catalog}).")
            }
        };
        let fix = match (lang, self.fix()) {
            (Lang::ZhCn, Some(id)) => {
                format!("建议改用 {id}：在「设置 → 连接」中确认 {catalog} 对应 {id}。")
            }
            (Lang::ZhCn, None) => {
                format!("请在「设置 → 连接」中为 {catalog} 从该连接的模型列表里选一个模型。")
            }
            (Lang::En, Some(id)) => {
                format!("Use {id} instead: accept {catalog} → {id} in Settings → Connections.")
            }
            (Lang::En, None) => {
                format!("Pick one of its models for {catalog} in Settings → Connections.")
            }
        };
        format!("{what}{}{fix}", lang.pick("", " "))
    }
}

/// Whether `sent` is available in `listed`: listed as it is, or — on a Messages connection —
/// an alias of a listed dated snapshot (Anthropic's `GET /v1/models` lists
/// `claude-sonnet-4-5-20250929` but accepts the alias `claude-sonnet-4-5`, which it does not
/// list). OpenAI-style providers list their aliases (`gpt-4.1` beside `gpt-4.1-2025-04-14`), so
/// there an unlisted alias is missing.
fn is_listed(protocol: Protocol, sent: &str, listed: &[String]) -> bool {
    listed.iter().any(|id| {
        id == sent
            || (protocol == Protocol::AnthropicMessages
                && split_date(id).is_some_and(|(head, _)| head == sent))
    })
}

/// For each catalog model a run needs (`needed`, e.g. from [`needed_models`]), the id `conn`
/// will send, and whether its listing has it: one [`MissingModel`] per model it lacks, in the
/// order of `needed` (repeats once).
///
/// With no listing (`None`: the provider offers no `GET /models`, it failed, or it was not read
/// yet) or an empty one (some relays answer `[]` rather than refuse), nothing is reported:
/// whether the model exists cannot be known before the call, and a run must not be blocked on a
/// guess. The provider's `model_not_found` then says so after the first request.
pub fn missing_models(
    conn: &Connection,
    needed: &[&str],
    listed: Option<&[String]>,
) -> Vec<MissingModel> {
    let Some(listed) = listed.filter(|listed| !listed.is_empty()) else {
        return Vec::new();
    };
    let protocol = conn.protocol();
    let mut seen = BTreeSet::new();
    let mut missing = Vec::new();
    for &catalog in needed {
        if !seen.insert(catalog) {
            continue;
        }
        let sent = conn.model_id(catalog);
        if is_listed(protocol, sent, listed) {
            continue;
        }
        let mut proposals = propose(catalog, listed);
        if sent != catalog {
            for id in propose(sent, listed) {
                if !proposals.contains(&id) {
                    proposals.push(id);
                }
            }
        }
        proposals.retain(|id| id != sent);
        missing.push(MissingModel {
            connection_id: conn.id.clone(),
            connection_name: conn.name.clone(),
            catalog_model: catalog.to_string(),
            sent_id: sent.to_string(),
            proposals,
        });
    }
    missing
}

/// The catalog models a run of `tasks` asks first, in task order, each once. Fallback models
/// are left out: a missing fallback turns a transient failure into `model_not_found`, worth a
/// warning, but it does not stop a run from starting.
pub fn needed_models(table: &RouteTable, tasks: &[TaskType]) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    for &task in tasks {
        let model = &table.route(task).model;
        if !models.contains(model) {
            models.push(model.clone());
        }
    }
    models
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provider::connection::Preset;

    fn strings(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn conn(preset: Preset) -> Connection {
        Connection::from_preset("c1", preset, "relay", Lang::En)
    }

    /// Every catalog model the shipped routes (and the rollback) ask for.
    fn route_models() -> Vec<String> {
        let mut models = needed_models(&RouteTable::seed_defaults(), &TaskType::ALL);
        for model in needed_models(&RouteTable::official_rollback(), &TaskType::ALL) {
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models
    }

    #[test]
    fn shipped_mappings_per_preset() {
        let cases: [(Preset, [&str; 4]); 6] = [
            (
                Preset::OpenRouter,
                [
                    "deepseek/deepseek-v3.2",
                    "anthropic/claude-sonnet-4.5",
                    "google/gemini-2.5-flash",
                    "openai/gpt-4.1",
                ],
            ),
            (
                Preset::DeepSeek,
                [
                    "deepseek-chat",
                    "claude-sonnet-4.5",
                    "gemini-2.5-flash",
                    "gpt-4.1",
                ],
            ),
            (
                Preset::Anthropic,
                [
                    "deepseek-v3.2",
                    "claude-sonnet-4-5",
                    "gemini-2.5-flash",
                    "gpt-4.1",
                ],
            ),
            (
                Preset::OpenAi,
                [
                    "deepseek-v3.2",
                    "claude-sonnet-4.5",
                    "gemini-2.5-flash",
                    "gpt-4.1",
                ],
            ),
            (
                Preset::HolySheep,
                [
                    "deepseek-v3.2",
                    "claude-sonnet-4.5",
                    "gemini-2.5-flash",
                    "gpt-4.1",
                ],
            ),
            (
                Preset::LocalSandbox,
                [
                    "deepseek-v3.2",
                    "claude-sonnet-4.5",
                    "gemini-2.5-flash",
                    "gpt-4.1",
                ],
            ),
        ];
        let catalog = [
            "deepseek-v3.2",
            "claude-sonnet-4.5",
            "gemini-2.5-flash",
            "gpt-4.1",
        ];
        for (preset, expect) in cases {
            let c = conn(preset);
            for (model, id) in catalog.iter().zip(expect) {
                assert_eq!(c.model_id(model), id, "{preset:?} {model}");
            }
            assert_eq!(c.model_id("video-gen-2.1"), "video-gen-2.1", "{preset:?}");
        }
        // The route table uses exactly these catalog names.
        assert_eq!(
            route_models(),
            [
                "deepseek-v3.2",
                "claude-sonnet-4.5",
                "gemini-2.5-flash",
                "gpt-4.1",
                "video-gen-2.1",
                "claude-sonnet-4-5",
                "video-official-openai",
            ]
        );
        // Every shipped entry maps a catalog model some route uses, and is a valid id.
        for (preset, catalog, id) in SHIPPED {
            assert!(route_models().iter().any(|m| m == catalog), "{catalog}");
            assert_eq!(validate_model_id(id), Ok(()), "{preset:?} {id}");
        }
        assert_eq!(shipped_model_ids(Preset::OpenRouter).count(), 4);
        assert_eq!(
            shipped_model_ids(Preset::DeepSeek).collect::<Vec<_>>(),
            [("deepseek-v3.2", "deepseek-chat")]
        );
        assert_eq!(shipped_model_ids(Preset::HolySheep).count(), 0);
        // The probes send each preset's own id for its probe model.
        let probes: Vec<(Preset, String)> = Preset::ALL
            .into_iter()
            .map(|p| (p, conn(p).probe_model().to_string()))
            .collect();
        let expect = [
            (Preset::HolySheep, "deepseek-v3.2"),
            (Preset::OpenAi, "gpt-4.1"),
            (Preset::DeepSeek, "deepseek-chat"),
            (Preset::OpenRouter, "google/gemini-2.5-flash"),
            (Preset::Anthropic, "claude-sonnet-4-5"),
            (Preset::LocalSandbox, "deepseek-v3.2"),
            (Preset::Custom, "deepseek-v3.2"),
        ]
        .map(|(p, id)| (p, id.to_string()));
        assert_eq!(probes, expect);
        // Every probe model is a catalog model a route uses; a user's mapping reaches the probe.
        for preset in Preset::ALL {
            let model = preset.spec().probe_model;
            assert!(
                route_models().iter().any(|m| m == model),
                "{preset:?} {model}"
            );
        }
        let mut custom = conn(Preset::Custom);
        custom
            .set_model_id("deepseek-v3.2", "deepseek/deepseek-v3.2")
            .unwrap();
        assert_eq!(custom.probe_model(), "deepseek/deepseek-v3.2");
    }

    #[test]
    fn the_users_mapping_wins_and_defaults_are_not_stored() {
        let mut c = conn(Preset::OpenRouter);
        c.set_model_id("gemini-2.5-flash", "google/gemini-2.5-pro")
            .unwrap();
        assert_eq!(c.model_id("gemini-2.5-flash"), "google/gemini-2.5-pro");
        // Back to the shipped id: the entry goes.
        c.set_model_id("gemini-2.5-flash", "google/gemini-2.5-flash")
            .unwrap();
        assert!(c.model_ids.is_empty());
        assert_eq!(c.model_id("gemini-2.5-flash"), "google/gemini-2.5-flash");
        // On a relay, mapping to the catalog name itself stores nothing either.
        let mut relay = conn(Preset::HolySheep);
        relay.set_model_id("gpt-4.1", "gpt-4.1").unwrap();
        assert!(relay.model_ids.is_empty());
        relay.set_model_id("gpt-4.1", "gpt-4.1-2025-04-14").unwrap();
        assert_eq!(relay.model_id("gpt-4.1"), "gpt-4.1-2025-04-14");
        relay.clear_model_id("gpt-4.1");
        assert_eq!(relay.model_id("gpt-4.1"), "gpt-4.1");
        // An empty stored mapping (a hand-edited record) counts as none.
        relay.model_ids.insert("gpt-4.1".into(), " ".into());
        assert_eq!(relay.model_id("gpt-4.1"), "gpt-4.1");
        // Bad ids are refused and change nothing.
        let mut c = conn(Preset::OpenRouter);
        assert_eq!(c.set_model_id("gpt-4.1", ""), Err(ModelIdError::Empty));
        assert_eq!(
            c.set_model_id("gpt-4.1", " openai/gpt-4.1"),
            Err(ModelIdError::InvalidCharacters)
        );
        assert_eq!(
            c.set_model_id("gpt-4.1", "a\u{7}b"),
            Err(ModelIdError::InvalidCharacters)
        );
        assert_eq!(
            c.set_model_id("gpt-4.1", &"x".repeat(201)),
            Err(ModelIdError::TooLong)
        );
        assert_eq!(c.set_model_id("", "x"), Err(ModelIdError::Empty));
        assert!(c.model_ids.is_empty());
        c.set_model_id("gpt-4.1", &"x".repeat(200)).unwrap();
        for error in [
            ModelIdError::Empty,
            ModelIdError::TooLong,
            ModelIdError::InvalidCharacters,
        ] {
            assert_ne!(error.message(Lang::ZhCn), error.message(Lang::En));
        }
        assert!(ModelIdError::TooLong.message(Lang::En).contains("200"));
    }

    #[test]
    fn mappings_round_trip_and_old_records_load() {
        let mut c = conn(Preset::OpenRouter);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("model_ids"), "{json}");
        c.set_model_id("gpt-4.1", "openai/gpt-4.1-mini").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.contains(r#""model_ids":{"gpt-4.1":"openai/gpt-4.1-mini"}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Connection>(&json).unwrap(), c);
    }

    #[test]
    fn reads_openai_and_openrouter_listings() {
        let body = r#"{"object":"list","data":[
            {"id":"gpt-4.1","object":"model","created":1744316542,"owned_by":"system"},
            {"id":"gpt-4.1-2025-04-14","object":"model"},
            {"id":"gpt-4.1","object":"model"},
            {"id":"google/gemini-2.5-flash","name":"Google: Gemini 2.5 Flash",
             "pricing":{"prompt":"0.0000003"},"context_length":1048576},
            {"id":""},
            {"id":42},
            {"object":"model"},
            "deepseek-v3.2",
            7
        ]}"#;
        let list = parse_model_list(body).unwrap();
        assert_eq!(
            list.ids(),
            [
                "gpt-4.1",
                "gpt-4.1-2025-04-14",
                "google/gemini-2.5-flash",
                "deepseek-v3.2"
            ]
        );
        assert_eq!(
            list.models[2].display_name.as_deref(),
            Some("Google: Gemini 2.5 Flash")
        );
        assert_eq!(list.models[0].display_name, None);
        assert_eq!(list.skipped, 4);
        assert!(!list.has_more);
        assert_eq!(list.last_id, None);
        // A bare array, as some relays answer.
        let bare = parse_model_list(r#"[{"id":"a"},{"id":"b"}]"#).unwrap();
        assert_eq!(bare.ids(), ["a", "b"]);
        // An empty list is a list.
        assert!(parse_model_list(r#"{"data":[]}"#)
            .unwrap()
            .models
            .is_empty());
    }

    #[test]
    fn reads_anthropic_listings_and_pages() {
        let body = r#"{"data":[
            {"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5",
             "created_at":"2025-09-29T00:00:00Z"},
            {"type":"model","id":"claude-haiku-4-5-20251001","display_name":"Claude Haiku 4.5"}
        ],"has_more":true,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-haiku-4-5-20251001"}"#;
        let mut list = parse_model_list(body).unwrap();
        assert_eq!(
            list.ids(),
            ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
        );
        assert_eq!(
            list.models[0].display_name.as_deref(),
            Some("Claude Sonnet 4.5")
        );
        assert!(list.has_more);
        assert_eq!(list.last_id.as_deref(), Some("claude-haiku-4-5-20251001"));
        let messages = Protocol::AnthropicMessages;
        assert_eq!(list_models_path(messages, None), "/models?limit=1000");
        assert_eq!(
            next_page_path(messages, &list).as_deref(),
            Some("/models?limit=1000&after_id=claude-haiku-4-5-20251001")
        );
        assert_eq!(
            list_models_path(messages, Some("a b/c")),
            "/models?limit=1000&after_id=a%20b%2Fc"
        );
        assert_eq!(list_models_path(Protocol::OpenAiChat, Some("x")), "/models");
        let page = parse_model_list(
            r#"{"data":[{"type":"model","id":"claude-haiku-4-5-20251001"},
                        {"type":"model","id":"claude-opus-4-1-20250805"}],
                "has_more":false,"last_id":"claude-opus-4-1-20250805"}"#,
        )
        .unwrap();
        list.append_page(page);
        assert_eq!(list.models.len(), 3);
        assert!(!list.has_more);
        assert_eq!(next_page_path(messages, &list), None);
    }

    #[test]
    fn listings_are_capped_and_errors_never_echo_the_body() {
        let long = "m".repeat(201);
        let body = format!(r#"{{"data":[{{"id":"{long}"}},{{"id":"ok"}}]}}"#);
        let list = parse_model_list(&body).unwrap();
        assert_eq!(list.ids(), ["ok"]);
        assert_eq!(list.skipped, 1);
        let many: Vec<String> = (0..MAX_MODELS + 5)
            .map(|i| format!(r#"{{"id":"m{i}"}}"#))
            .collect();
        let body = format!(r#"{{"data":[{}]}}"#, many.join(","));
        let list = parse_model_list(&body).unwrap();
        assert_eq!(list.models.len(), MAX_MODELS);
        assert_eq!(list.skipped, 5);
        let mut full = list.clone();
        full.append_page(ModelList {
            models: vec![ListedModel {
                id: "extra".into(),
                display_name: None,
            }],
            ..ModelList::default()
        });
        assert_eq!(full.models.len(), MAX_MODELS);
        assert_eq!(full.skipped, 6);

        let secret = "<html>sk-secret-0123456789 login</html>";
        assert_eq!(parse_model_list(secret), Err(ModelListError::NotJson));
        assert_eq!(parse_model_list(""), Err(ModelListError::NotJson));
        assert_eq!(
            parse_model_list(r#"{"error":{"message":"sk-secret-0123456789"}}"#),
            Err(ModelListError::NoList)
        );
        assert_eq!(
            parse_model_list(r#"{"data":{"id":"x"}}"#),
            Err(ModelListError::NoList)
        );
        assert_eq!(parse_model_list("3"), Err(ModelListError::NoList));
        let huge = " ".repeat(MAX_LIST_BYTES + 1);
        assert_eq!(parse_model_list(&huge), Err(ModelListError::TooLarge));
        for error in [
            ModelListError::NotJson,
            ModelListError::NoList,
            ModelListError::TooLarge,
        ] {
            for lang in [Lang::ZhCn, Lang::En] {
                let text = error.message(lang);
                assert!(!text.contains("sk-secret"), "{text}");
            }
            assert_ne!(error.message(Lang::ZhCn), error.message(Lang::En));
        }
        assert!(ModelListError::TooLarge.message(Lang::En).contains("16 MB"));
    }

    #[test]
    fn proposals_rank_the_same_model_first() {
        let openrouter = strings(&[
            "google/gemini-2.5-flash-lite",
            "google/gemini-2.5-pro",
            "google/gemini-2.5-flash",
            "google/gemini-2.5-flash:free",
            "openai/gpt-4.1-mini",
            "openai/gpt-4.1",
            "anthropic/claude-sonnet-4.5",
        ]);
        assert_eq!(
            propose("gemini-2.5-flash", &openrouter),
            ["google/gemini-2.5-flash"]
        );
        assert_eq!(propose("gpt-4.1", &openrouter), ["openai/gpt-4.1"]);
        assert_eq!(
            propose("claude-sonnet-4.5", &openrouter),
            ["anthropic/claude-sonnet-4.5"]
        );
        assert!(propose("deepseek-v3.2", &openrouter).is_empty());

        let anthropic = strings(&[
            "claude-opus-4-1-20250805",
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-5",
        ]);
        assert_eq!(
            propose("claude-sonnet-4.5", &anthropic),
            ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"]
        );
        // The exact id beats everything, case and vendor next, then separators, then dates.
        let mixed = strings(&[
            "claude-sonnet-4-5@20250929",
            "Claude-Sonnet-4.5",
            "claude-sonnet-4-5-2025-09-29",
            "claude-sonnet-4-5-latest",
            "claude-sonnet-4.5",
            "claude-sonnet-4-5-20251201",
            "claude-sonnet-4_5",
        ]);
        assert_eq!(
            propose("claude-sonnet-4.5", &mixed),
            [
                "claude-sonnet-4.5",
                "Claude-Sonnet-4.5",
                "claude-sonnet-4_5",
                "claude-sonnet-4-5-latest",
                "claude-sonnet-4-5-20251201",
                "claude-sonnet-4-5@20250929",
                "claude-sonnet-4-5-2025-09-29",
            ]
        );
        // Dated OpenAI snapshots count; numbers that are not dates do not.
        let openai = strings(&[
            "gpt-4.1-2025-04-14",
            "gpt-4-1106-preview",
            "gpt-4.1-12345678",
        ]);
        assert_eq!(propose("gpt-4.1", &openai), ["gpt-4.1-2025-04-14"]);
        // A dated catalog name finds its alias.
        assert_eq!(
            propose(
                "claude-sonnet-4-5-20250929",
                &strings(&["claude-sonnet-4-5"])
            ),
            ["claude-sonnet-4-5"]
        );
        // Gemini's OpenAI-compatible endpoint lists `models/…`.
        assert_eq!(
            propose("gemini-2.5-flash", &strings(&["models/gemini-2.5-flash"])),
            ["models/gemini-2.5-flash"]
        );
        assert!(propose("gpt-4.1", &[]).is_empty());
        assert_eq!(
            propose("gpt-4.1", &strings(&["gpt-4.1", "gpt-4.1"])),
            ["gpt-4.1"]
        );
    }

    #[test]
    fn dates_are_recognised_strictly() {
        assert_eq!(
            split_date("claude-sonnet-4-5-20250929"),
            Some(("claude-sonnet-4-5", "20250929".to_string()))
        );
        assert_eq!(
            split_date("gpt-4.1-2025-04-14"),
            Some(("gpt-4.1", "20250414".to_string()))
        );
        assert_eq!(
            split_date("claude-sonnet-4-5@20250929"),
            Some(("claude-sonnet-4-5", "20250929".to_string()))
        );
        assert_eq!(
            split_date("chatgpt-4o-latest"),
            Some(("chatgpt-4o", "99999999".to_string()))
        );
        for not_dated in [
            "gpt-4.1",
            "m-20251329",
            "m-20250900",
            "m-19990101",
            "m-2025-13-01",
            "m20250929",
            "-20250929",
            "gpt-4-0613",
            "模a模模",
            "模a模模模a模",
        ] {
            assert_eq!(split_date(not_dated), None, "{not_dated}");
        }
        assert_eq!(
            split_date("模型-20250929"),
            Some(("模型", "20250929".to_string()))
        );
    }

    #[test]
    fn missing_models_are_told_before_a_run() {
        let openrouter = strings(&["google/gemini-2.5-flash", "openai/gpt-4.1"]);
        // OpenRouter's shipped ids are listed: nothing missing but DeepSeek's model.
        let c = conn(Preset::OpenRouter);
        let needed = ["gemini-2.5-flash", "gpt-4.1", "deepseek-v3.2", "gpt-4.1"];
        let missing = missing_models(&c, &needed, Some(&openrouter));
        assert_eq!(missing.len(), 1);
        let m = &missing[0];
        assert_eq!(
            (m.catalog_model.as_str(), m.sent_id.as_str()),
            ("deepseek-v3.2", "deepseek/deepseek-v3.2")
        );
        assert!(m.proposals.is_empty());
        assert_eq!(m.fix(), None);
        assert_eq!(
            m.message(Lang::En),
            "The connection “OpenRouter” does not list deepseek/deepseek-v3.2 (used for \
             deepseek-v3.2). Pick one of its models for deepseek-v3.2 in Settings → Connections."
        );
        assert_eq!(
            m.message(Lang::ZhCn),
            "连接「OpenRouter」的模型列表里没有 deepseek/deepseek-v3.2（任务需要的 deepseek-v3.2）。请在「设置 → 连接」中为 deepseek-v3.2 从该连接的模型列表里选一个模型。"
        );

        // A custom OpenRouter-style connection sends catalog names: each gets its proposal.
        let mut custom = conn(Preset::Custom);
        custom.name = "My router".into();
        let missing = missing_models(&custom, &["gemini-2.5-flash"], Some(&openrouter));
        assert_eq!(missing[0].sent_id, "gemini-2.5-flash");
        assert_eq!(missing[0].fix(), Some("google/gemini-2.5-flash"));
        assert_eq!(
            missing[0].message(Lang::En),
            "The connection “My router” does not list gemini-2.5-flash. Use \
             google/gemini-2.5-flash instead: accept gemini-2.5-flash → google/gemini-2.5-flash \
             in Settings → Connections."
        );
        assert_eq!(
            missing[0].message(Lang::ZhCn),
            "连接「My router」的模型列表里没有 gemini-2.5-flash。建议改用 google/gemini-2.5-flash：在「设置 → 连接」中确认 gemini-2.5-flash 对应 google/gemini-2.5-flash。"
        );
        // Accepting it clears the report.
        custom
            .set_model_id("gemini-2.5-flash", missing[0].fix().unwrap())
            .unwrap();
        assert!(missing_models(&custom, &["gemini-2.5-flash"], Some(&openrouter)).is_empty());

        // No listing, or an empty one: nothing can be known, nothing is reported.
        assert!(missing_models(&custom, &["deepseek-v3.2"], None).is_empty());
        assert!(missing_models(&custom, &["deepseek-v3.2"], Some(&[])).is_empty());

        // A user's mapping to an unlisted id: proposals for the catalog model, then for the id.
        let mut typo = conn(Preset::OpenRouter);
        typo.set_model_id("gpt-4.1", "OpenAI/GPT-4.1").unwrap();
        let missing = missing_models(&typo, &["gpt-4.1"], Some(&openrouter));
        assert_eq!(missing[0].sent_id, "OpenAI/GPT-4.1");
        assert_eq!(missing[0].proposals, ["openai/gpt-4.1"]);
    }

    #[test]
    fn anthropic_aliases_of_listed_snapshots_are_not_missing() {
        // Anthropic lists dated snapshots only; its alias is accepted on the Messages protocol.
        let listed = strings(&["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]);
        let c = conn(Preset::Anthropic);
        assert_eq!(c.protocol(), Protocol::AnthropicMessages);
        assert!(missing_models(&c, &["claude-sonnet-4.5"], Some(&listed)).is_empty());
        let missing = missing_models(&c, &["claude-opus-4.1"], Some(&listed));
        assert_eq!(missing[0].sent_id, "claude-opus-4.1");
        assert!(missing[0].proposals.is_empty());
        // An OpenAI-style connection must list the id itself.
        let mut relay = conn(Preset::HolySheep);
        relay
            .set_model_id("claude-sonnet-4.5", "claude-sonnet-4-5")
            .unwrap();
        let missing = missing_models(&relay, &["claude-sonnet-4.5"], Some(&listed));
        assert_eq!(missing[0].sent_id, "claude-sonnet-4-5");
        assert_eq!(missing[0].proposals, ["claude-sonnet-4-5-20250929"]);
    }

    #[test]
    fn needed_models_are_the_routes_first_choices() {
        let table = RouteTable::seed_defaults();
        assert_eq!(
            needed_models(
                &table,
                &[
                    TaskType::Storyboard,
                    TaskType::SubtitleTiming,
                    TaskType::Video
                ]
            ),
            ["gemini-2.5-flash", "video-gen-2.1"]
        );
        assert!(needed_models(&table, &[]).is_empty());
    }
}
