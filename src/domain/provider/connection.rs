//! Connections to model APIs: presets, the protocol a connection speaks (OpenAI chat
//! completions or Anthropic Messages, [`Protocol`]), its model ids
//! ([`crate::domain::provider::model_map`]) and rate limits ([`ConnectionLimits`]), base-URL
//! validation, key hints, and the rule that a key is only ever sent to its own connection.
//!
//! A [`Connection`] is serializable and stored with the project; the key is not part of it. The
//! key is an [`ApiKey`], which lives in memory (or in an opt-in store when the user ticks
//! `remember_key`), is not `Serialize`, and prints as `sk-…(redacted)`. Fields added since the
//! first release (`protocol`, `model_ids`, `limits`) are optional in storage: a connection
//! stored before them loads with its preset's defaults.
//!
//! From a browser only the headers a protocol needs are sent: for OpenAI chat completions
//! `Authorization` and `Content-Type` ([`headers_for`]), since any other header triggers a CORS
//! preflight that many relays reject. Anthropic's own API also needs its opt-in header, and only
//! there ([`Connection::browser_headers`]).
//!
//! ```
//! use duanju_studio::domain::provider::connection::{endpoint, may_send_key, validate_base_url};
//!
//! let base = validate_base_url(" https://API.holysheep.ai/v1/ ").unwrap();
//! assert_eq!(base.as_str(), "https://api.holysheep.ai/v1");
//! let url = endpoint(base.as_str(), "/chat/completions");
//! assert_eq!(url, "https://api.holysheep.ai/v1/chat/completions");
//! assert!(may_send_key(base.as_str(), &url));
//! assert!(!may_send_key(base.as_str(), "https://cdn.example.com/clip.mp4"));
//! ```

use crate::domain::encoding::wire_names::wire_enum;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::i18n::Lang;
use crate::domain::provider::chat::{ChatMessage, ChatRequest};

wire_enum! {
    /// A known provider, or a custom endpoint. `ALL` is the menu order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Preset {
        /// The HolySheep AI relay of the seeds (¥1 per $1 of usage).
        HolySheep = "holy_sheep",
        /// OpenAI's own API.
        OpenAi = "open_ai",
        /// DeepSeek's own API.
        DeepSeek = "deep_seek",
        /// The OpenRouter router.
        OpenRouter = "open_router",
        /// Anthropic's own API, over its Messages protocol (`POST /v1/messages`).
        Anthropic = "anthropic",
        /// The native test server in `sandbox/`, on this machine.
        LocalSandbox = "local_sandbox",
        /// Any other endpoint (OpenAI-compatible unless the user picks Messages).
        Custom = "custom",
    }
}

wire_enum! {
    /// The wire protocol a connection speaks. `ALL` is the menu order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Protocol {
        /// OpenAI chat completions: `POST {base}/chat/completions`, `Authorization: Bearer`.
        OpenAiChat = "openai_chat",
        /// Anthropic Messages: `POST {base}/messages`, `x-api-key` and `anthropic-version`.
        AnthropicMessages = "anthropic_messages",
    }
}

/// Anthropic's opt-in for calls from a browser (without it, api.anthropic.com refuses the CORS
/// preflight; an organisation can also turn browser access off).
pub const ANTHROPIC_BROWSER_HEADER: (&str, &str) =
    ("anthropic-dangerous-direct-browser-access", "true");

/// The host of Anthropic's own API.
pub const ANTHROPIC_HOST: &str = "api.anthropic.com";

/// What the app knows about a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresetSpec {
    /// The preset described.
    pub preset: Preset,
    /// Display name in Chinese.
    pub name_zh: &'static str,
    /// Display name in English.
    pub name_en: &'static str,
    /// The base URL (empty for [`Preset::Custom`]).
    pub base_url: &'static str,
    /// How this provider's keys start, if they share a prefix.
    pub key_prefix: Option<&'static str>,
    /// The shortest plausible key.
    pub min_key_len: usize,
    /// A key to prefill: only the sandbox's, which is public test data.
    pub prefilled_key: Option<&'static str>,
    /// Extra headers a browser must send (only Anthropic's direct-browser-access opt-in). Sent
    /// only under the rule of [`Connection::browser_headers`].
    pub browser_headers: &'static [(&'static str, &'static str)],
    /// The protocol a new connection from this preset speaks.
    pub protocol: Protocol,
    /// Rate limits a new connection from this preset starts with (see each preset's comment for
    /// where the figures come from; `None` where nothing is published).
    pub limits: ConnectionLimits,
    /// The catalog model to test the connection with (a real one-token POST, since some relays
    /// allow `GET /models` but block `POST`). A catalog name, like a route's: the id sent is
    /// [`Connection::probe_model`], through the connection's mapping, so a user who remapped
    /// the model probes what a run will send.
    pub probe_model: &'static str,
}

/// The sandbox's public test key.
pub const SANDBOX_KEY: &str = "sk-sandbox-0123456789abcdef0123456789abcdef";

const PRESETS: [PresetSpec; 7] = [
    PresetSpec {
        preset: Preset::HolySheep,
        name_zh: "HolySheep 中转",
        name_en: "HolySheep relay",
        base_url: "https://api.holysheep.ai/v1",
        key_prefix: Some("hs_"),
        min_key_len: 32,
        prefilled_key: None,
        browser_headers: &[],
        probe_model: "deepseek-v3.2",
        protocol: Protocol::OpenAiChat,
        // The relay publishes no per-key limits.
        limits: ConnectionLimits::UNKNOWN,
    },
    PresetSpec {
        preset: Preset::OpenAi,
        name_zh: "OpenAI 官方",
        name_en: "OpenAI",
        base_url: "https://api.openai.com/v1",
        key_prefix: Some("sk-"),
        min_key_len: 20,
        prefilled_key: None,
        browser_headers: &[],
        probe_model: "gpt-4.1",
        protocol: Protocol::OpenAiChat,
        // OpenAI's usage tier 1 for gpt-4.1: 500 requests and 30,000 tokens per minute
        // (platform.openai.com/docs/models/gpt-4.1, read 2026-12); higher tiers allow more.
        limits: ConnectionLimits {
            rpm: Some(500),
            tpm: Some(30_000),
            concurrency: None,
        },
    },
    PresetSpec {
        preset: Preset::DeepSeek,
        name_zh: "DeepSeek 官方",
        name_en: "DeepSeek",
        base_url: "https://api.deepseek.com",
        key_prefix: Some("sk-"),
        min_key_len: 20,
        prefilled_key: None,
        browser_headers: &[],
        probe_model: "deepseek-v3.2",
        protocol: Protocol::OpenAiChat,
        // "DeepSeek API does NOT constrain user's rate limit" (api-docs.deepseek.com, "Rate
        // Limit", read 2026-12): it answers 429 or 503 under load instead.
        limits: ConnectionLimits::UNKNOWN,
    },
    PresetSpec {
        preset: Preset::OpenRouter,
        name_zh: "OpenRouter",
        name_en: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        key_prefix: Some("sk-or-"),
        min_key_len: 20,
        prefilled_key: None,
        browser_headers: &[],
        probe_model: "gemini-2.5-flash",
        protocol: Protocol::OpenAiChat,
        // OpenRouter publishes fixed limits only for `:free` variants (20 requests per minute);
        // paid models are limited per key by credits and by the upstream provider
        // (openrouter.ai/docs, "Limits", read 2026-12).
        limits: ConnectionLimits::UNKNOWN,
    },
    PresetSpec {
        preset: Preset::Anthropic,
        name_zh: "Anthropic 官方",
        name_en: "Anthropic",
        base_url: "https://api.anthropic.com/v1",
        key_prefix: Some("sk-ant-"),
        min_key_len: 20,
        prefilled_key: None,
        browser_headers: &[ANTHROPIC_BROWSER_HEADER],
        probe_model: "claude-sonnet-4.5",
        protocol: Protocol::AnthropicMessages,
        // Anthropic's usage tier 1 for Claude Sonnet 4.x: 50 requests per minute and 30,000
        // input tokens per minute, the lowest published figure (docs.anthropic.com, "Rate
        // limits", read 2026-12). The app counts input plus `max_tokens` against tpm, which
        // is stricter still.
        limits: ConnectionLimits {
            rpm: Some(50),
            tpm: Some(30_000),
            concurrency: None,
        },
    },
    PresetSpec {
        preset: Preset::LocalSandbox,
        name_zh: "本地沙盒",
        name_en: "Local sandbox",
        base_url: "http://127.0.0.1:8787/v1",
        key_prefix: None,
        min_key_len: 1,
        prefilled_key: Some(SANDBOX_KEY),
        browser_headers: &[],
        probe_model: "deepseek-v3.2",
        protocol: Protocol::OpenAiChat,
        // The sandbox's defaults: no rpm or tpm limit unless its config sets one
        // (sandbox/src/config.rs, `rpm: None`, `tpm: None`), and no concurrency limit.
        limits: ConnectionLimits::UNKNOWN,
    },
    PresetSpec {
        preset: Preset::Custom,
        name_zh: "自定义",
        name_en: "Custom",
        base_url: "",
        key_prefix: None,
        min_key_len: 1,
        prefilled_key: None,
        browser_headers: &[],
        probe_model: "deepseek-v3.2",
        protocol: Protocol::OpenAiChat,
        limits: ConnectionLimits::UNKNOWN,
    },
];

impl Preset {
    /// This preset's facts.
    pub fn spec(self) -> &'static PresetSpec {
        // `PRESETS` lists every variant in declaration order.
        &PRESETS[self as usize]
    }

    /// The display name.
    pub fn name(self, lang: Lang) -> &'static str {
        let spec = self.spec();
        lang.pick(spec.name_zh, spec.name_en)
    }

    /// Extra headers a browser must send to this provider (empty for all but Anthropic).
    /// Requests should use [`Connection::browser_headers`], which also weighs the protocol and
    /// the host.
    pub fn extra_headers(self) -> &'static [(&'static str, &'static str)] {
        self.spec().browser_headers
    }

    /// The protocol a new connection from this preset speaks: Messages for Anthropic, OpenAI
    /// chat completions for every other.
    pub fn default_protocol(self) -> Protocol {
        self.spec().protocol
    }

    /// The rate limits a new connection from this preset starts with.
    pub fn default_limits(self) -> ConnectionLimits {
        self.spec().limits
    }
}

impl Protocol {
    /// The protocol's name in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Protocol::OpenAiChat => lang.pick(
                "OpenAI 兼容（Chat Completions）",
                "OpenAI-compatible (chat completions)",
            ),
            Protocol::AnthropicMessages => lang.pick("Anthropic Messages", "Anthropic Messages"),
        }
    }
}

/// A connection's rate limits. `None` in a dimension means unknown or unlimited there. Stored
/// with the connection ([`Connection::limits`]); the scheduler enforces them through the batch
/// limiter ([`Connection::batch_limits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionLimits {
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens per minute (estimated input tokens plus `max_tokens` of each request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// A limit outside its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitError {
    /// rpm is not within 1..=[`ConnectionLimits::MAX_RPM`].
    Rpm,
    /// tpm is not within 1..=[`ConnectionLimits::MAX_TPM`].
    Tpm,
    /// Concurrency is not within 1..=[`ConnectionLimits::MAX_CONCURRENCY`].
    Concurrency,
}

impl LimitError {
    /// The error text.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en, max) = match self {
            LimitError::Rpm => (
                "每分钟请求数（RPM）",
                "Requests per minute (RPM)",
                u64::from(ConnectionLimits::MAX_RPM),
            ),
            LimitError::Tpm => (
                "每分钟 token 数（TPM）",
                "Tokens per minute (TPM)",
                ConnectionLimits::MAX_TPM,
            ),
            LimitError::Concurrency => (
                "并发数",
                "Concurrency",
                u64::from(ConnectionLimits::MAX_CONCURRENCY),
            ),
        };
        match lang {
            Lang::ZhCn => format!("{zh}必须在 1 到 {max} 之间；留空表示不限制。"),
            Lang::En => format!("{en} must be between 1 and {max}; leave it empty for no limit."),
        }
    }
}

impl ConnectionLimits {
    /// No limit known in any dimension.
    pub const UNKNOWN: ConnectionLimits = ConnectionLimits {
        rpm: None,
        tpm: None,
        concurrency: None,
    };
    /// The highest rpm accepted.
    pub const MAX_RPM: u32 = 100_000;
    /// The highest tpm accepted.
    pub const MAX_TPM: u64 = 1_000_000_000;
    /// The highest concurrency accepted (a browser opens about 6 connections to one host over
    /// HTTP/1.1; HTTP/2 multiplexes more).
    pub const MAX_CONCURRENCY: u32 = 64;

    /// Every limit outside its range, in field order; empty when they can be stored.
    pub fn problems(&self) -> Vec<LimitError> {
        let mut problems = Vec::new();
        if self.rpm.is_some_and(|v| !(1..=Self::MAX_RPM).contains(&v)) {
            problems.push(LimitError::Rpm);
        }
        if self.tpm.is_some_and(|v| !(1..=Self::MAX_TPM).contains(&v)) {
            problems.push(LimitError::Tpm);
        }
        let concurrency = 1..=Self::MAX_CONCURRENCY;
        if self.concurrency.is_some_and(|v| !concurrency.contains(&v)) {
            problems.push(LimitError::Concurrency);
        }
        problems
    }

    /// The batch limiter's limits for a lane of this connection: the same rpm and tpm (a value
    /// above the limiter's `u32` range cannot pass [`Self::problems`] and is saturated), and
    /// the concurrency, or the limiter's default of
    /// [`Limits::DEFAULT_CONCURRENCY`](crate::domain::batch::Limits::DEFAULT_CONCURRENCY) when
    /// none is known.
    pub fn batch_limits(&self) -> crate::domain::batch::Limits {
        use crate::domain::batch::Limits;
        Limits {
            rpm: self.rpm,
            tpm: self.tpm.map(|tpm| u32::try_from(tpm).unwrap_or(u32::MAX)),
            max_concurrency: self.concurrency.unwrap_or(Limits::DEFAULT_CONCURRENCY),
        }
    }
}

/// A saved connection. The key is deliberately not a field: see [`ApiKey`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// A stable id.
    pub id: String,
    /// The preset it started from.
    pub preset: Preset,
    /// The user's name for it.
    pub name: String,
    /// The validated base URL (see [`validate_base_url`]).
    pub base_url: String,
    /// The price profile used for quotes on this connection.
    pub price_profile_id: String,
    /// Whether the user chose to keep the key in this browser's storage.
    #[serde(default)]
    pub remember_key: bool,
    /// The protocol the user chose; `None` speaks the preset's ([`Connection::protocol`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The user's model ids: catalog model → the id this connection sends
    /// ([`Connection::model_id`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_ids: BTreeMap<String, String>,
    /// The limits the user set; `None` uses the preset's ([`Connection::limits`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ConnectionLimits>,
}

impl Connection {
    /// A connection filled in from a preset, not remembering its key.
    pub fn from_preset(
        id: impl Into<String>,
        preset: Preset,
        price_profile_id: impl Into<String>,
        lang: Lang,
    ) -> Connection {
        Connection {
            id: id.into(),
            preset,
            name: preset.name(lang).to_string(),
            base_url: preset.spec().base_url.to_string(),
            price_profile_id: price_profile_id.into(),
            remember_key: false,
            protocol: None,
            model_ids: BTreeMap::new(),
            limits: None,
        }
    }

    /// The protocol this connection speaks: the user's choice, else its preset's.
    pub fn protocol(&self) -> Protocol {
        self.protocol
            .unwrap_or_else(|| self.preset.default_protocol())
    }

    /// Chooses the protocol; the preset's own is stored as no choice, so that a connection
    /// follows its preset.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = (protocol != self.preset.default_protocol()).then_some(protocol);
    }

    /// The extra headers a browser sends on this connection: Anthropic's opt-in
    /// ([`ANTHROPIC_BROWSER_HEADER`]) when it speaks Messages to Anthropic itself (the host is
    /// api.anthropic.com, or the preset is Anthropic's); none otherwise.
    ///
    /// Why not whenever it speaks Messages: a relay that speaks Messages (HolySheep's
    /// `/v1/messages`) does not need the header, and a non-standard header makes the browser
    /// send a CORS preflight that many relays answer without allowing it, so the call would
    /// fail before it is sent. And over OpenAI chat completions it is never needed.
    pub fn browser_headers(&self) -> &'static [(&'static str, &'static str)] {
        const OPT_IN: &[(&str, &str)] = &[ANTHROPIC_BROWSER_HEADER];
        let anthropic = self.preset == Preset::Anthropic
            || ParsedUrl::parse(&self.base_url, false).is_ok_and(|url| url.host == ANTHROPIC_HOST);
        if self.protocol() == Protocol::AnthropicMessages && anthropic {
            OPT_IN
        } else {
            &[]
        }
    }

    /// This connection's rate limits: the user's, else its preset's defaults. The stored
    /// limits replace the preset's as a whole (a dimension left `None` there is unlimited):
    /// an editor starts from this value and stores the whole of it.
    pub fn limits(&self) -> ConnectionLimits {
        self.limits.unwrap_or_else(|| self.preset.default_limits())
    }

    /// The batch limiter's limits for this connection's lane ([`ConnectionLimits::batch_limits`]
    /// of [`Connection::limits`]), for every call made on it.
    pub fn batch_limits(&self) -> crate::domain::batch::Limits {
        self.limits().batch_limits()
    }

    /// The same as a lane entry of a batch's configuration: this connection (its id is the
    /// lane), every model.
    pub fn lane_limits(&self) -> crate::domain::batch::LaneLimits {
        crate::domain::batch::LaneLimits {
            lane: self.id.clone(),
            model: None,
            limits: self.batch_limits(),
        }
    }

    /// The model id the connection test sends: the preset's probe model
    /// ([`PresetSpec::probe_model`], a catalog name) through [`Connection::model_id`].
    pub fn probe_model(&self) -> &str {
        self.model_id(self.preset.spec().probe_model)
    }

    /// Sets the limits, refused with every problem when one is out of range. Limits equal to
    /// the preset's defaults are stored as none, so a later release's corrected defaults reach
    /// them.
    pub fn set_limits(&mut self, limits: ConnectionLimits) -> Result<(), Vec<LimitError>> {
        let problems = limits.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        self.limits = (limits != self.preset.default_limits()).then_some(limits);
        Ok(())
    }

    /// The URL of `path` (`/messages`, `/models?limit=1000`) in this connection's API. An
    /// OpenAI-style base URL already holds its version (`…/v1`, DeepSeek's bare host); Anthropic's
    /// paths are below `/v1`, which a relay's base URL usually already ends in: it is added
    /// only when missing, so `https://relay/v1` never becomes `…/v1/v1/messages`.
    pub fn api_url(&self, path: &str) -> Result<String, UrlError> {
        let base = validate_base_url(&self.base_url)?;
        let base = base.as_str();
        Ok(match self.protocol() {
            Protocol::AnthropicMessages if !base.ends_with("/v1") => {
                endpoint(&format!("{base}/v1"), path)
            }
            _ => endpoint(base, path),
        })
    }

    /// The URL a chat call goes to: chat completions, or Messages.
    pub fn chat_url(&self) -> Result<String, UrlError> {
        match self.protocol() {
            Protocol::OpenAiChat => self.api_url("/chat/completions"),
            Protocol::AnthropicMessages => self.api_url("/messages"),
        }
    }

    /// Whether `key` may stay with this connection when its base URL becomes `new_base_url`:
    /// only on the same origin (see [`same_origin`]), or when it is the preset's public test
    /// key. A key pasted for one site is never carried over to another without asking.
    pub fn keeps_key(&self, new_base_url: &str, key: &ApiKey) -> bool {
        same_origin(&self.base_url, new_base_url)
            || self.preset.spec().prefilled_key == Some(key.expose())
    }
}

/// True when both base URLs are valid and have the same scheme, host and port (after
/// normalization: `https://API.x.com:443/v1/` and `https://api.x.com/v2` do).
pub fn same_origin(a: &str, b: &str) -> bool {
    match (validate_base_url(a), validate_base_url(b)) {
        (Ok(a), Ok(b)) => a.origin == b.origin,
        _ => false,
    }
}

/// A one-token request that tests the key, the model and CORS for `POST` in one go (some relays
/// allow `GET /models` from a browser but block `POST`).
pub fn probe_request(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![ChatMessage::user("ping")]).max_tokens(1)
}

/// An API key. It is never serialized (the type does not implement `Serialize`), and `Debug` and
/// `Display` print only a masked form such as `sk-…(redacted)`; [`ApiKey::expose`] is the one way
/// to read it, for the `Authorization` header.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a pasted key, trimming surrounding whitespace.
    pub fn new(raw: &str) -> ApiKey {
        ApiKey(raw.trim().to_string())
    }

    /// The key itself. Call it only to build the request headers.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no key was entered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The masked form: the first three characters of a long key (its prefix, such as `sk-` or
    /// `hs_`), then `…(redacted)`.
    pub fn masked(&self) -> String {
        if self.0.chars().count() >= 16 {
            let prefix: String = self.0.chars().take(3).collect();
            format!("{prefix}…(redacted)")
        } else {
            "…(redacted)".to_string()
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The only headers sent with a key: `Authorization: Bearer …` and
/// `Content-Type: application/json`.
pub fn headers_for(key: &ApiKey) -> [(&'static str, String); 2] {
    [
        ("Authorization", format!("Bearer {}", key.expose())),
        ("Content-Type", "application/json".to_string()),
    ]
}

/// Something odd about a pasted key. A warning, never a block: providers change formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyWarning {
    /// Nothing was entered.
    Empty,
    /// The paste included `Bearer `, which the app adds itself.
    BearerPrefix,
    /// Spaces or line breaks inside the key (usually a bad copy).
    Whitespace,
    /// Characters that cannot go in an HTTP header (the browser would refuse to send it).
    NonAscii,
    /// The key does not look like this provider's keys.
    UnexpectedFormat {
        /// The preset whose format was expected.
        preset: Preset,
    },
}

impl KeyWarning {
    /// The warning text.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            KeyWarning::Empty => lang
                .pick("请填写 API 密钥。", "Enter an API key.")
                .to_string(),
            KeyWarning::BearerPrefix => lang
                .pick(
                    "请只粘贴密钥本身，不要包含「Bearer 」，应用会自动加上。",
                    "Paste only the key itself, without \"Bearer \": the app adds it.",
                )
                .to_string(),
            KeyWarning::Whitespace => lang
                .pick(
                    "密钥中间有空格或换行，可能复制得不完整。",
                    "The key contains spaces or line breaks; it may not have been copied cleanly.",
                )
                .to_string(),
            KeyWarning::NonAscii => lang
                .pick(
                    "密钥中含有中文或全角字符，浏览器无法发送。请重新复制。",
                    "The key contains non-ASCII characters, which a browser cannot send. Copy it \
                     again.",
                )
                .to_string(),
            KeyWarning::UnexpectedFormat { preset } => {
                let spec = preset.spec();
                let prefix = spec.key_prefix.unwrap_or("");
                let name = preset.name(lang);
                let len = spec.min_key_len;
                match lang {
                    Lang::ZhCn => format!(
                        "{name} 的密钥通常以 {prefix} 开头、至少 {len} 个字符。请确认复制完整、没有选错服务商；如确认无误，可忽略此提示。"
                    ),
                    Lang::En => format!(
                        "{name} keys usually start with {prefix} and are at least {len} \
                         characters long. Check that you copied the whole key and picked the \
                         right provider; if it is right, ignore this warning."
                    ),
                }
            }
        }
    }
}

/// Checks a pasted key against the general rules and the preset's usual format. Surrounding
/// whitespace is ignored ([`ApiKey::new`] trims it).
pub fn key_hint(preset: Preset, key: &str) -> Option<KeyWarning> {
    let key = key.trim();
    if key.is_empty() {
        return Some(KeyWarning::Empty);
    }
    if key
        .get(..7)
        .is_some_and(|start| start.eq_ignore_ascii_case("bearer "))
    {
        return Some(KeyWarning::BearerPrefix);
    }
    if key.chars().any(char::is_whitespace) {
        return Some(KeyWarning::Whitespace);
    }
    if !key.is_ascii() {
        return Some(KeyWarning::NonAscii);
    }
    let spec = preset.spec();
    let prefix_ok = spec.key_prefix.is_none_or(|prefix| key.starts_with(prefix));
    if !prefix_ok || key.len() < spec.min_key_len {
        return Some(KeyWarning::UnexpectedFormat { preset });
    }
    None
}

/// Why a base URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// Nothing was entered.
    Empty,
    /// Not `http://` or `https://`.
    NotHttp,
    /// Spaces, control characters or backslashes.
    InvalidCharacters,
    /// `user:password@` in the URL.
    Credentials,
    /// A `?query` or `#fragment` (a key in a URL leaks into logs and history).
    QueryOrFragment,
    /// The host is missing or not a host name.
    BadHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// `.` or `..` path segments, or percent-encoded dots or slashes.
    BadPath,
}

impl UrlError {
    /// The error text.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            UrlError::Empty => lang.pick("请填写 Base URL。", "Enter a base URL."),
            UrlError::NotHttp => lang.pick(
                "Base URL 必须以 https:// 开头（本机地址可用 http://），例如 https://api.holysheep.ai/v1。",
                "The base URL must start with https:// (http:// for this machine), for example \
                 https://api.holysheep.ai/v1.",
            ),
            UrlError::InvalidCharacters => lang.pick(
                "Base URL 中有空格、反斜杠或控制字符。",
                "The base URL contains spaces, backslashes or control characters.",
            ),
            UrlError::Credentials => lang.pick(
                "Base URL 不能包含用户名或密码；密钥请填在密钥栏。",
                "The base URL must not contain a user name or password; put the key in the key \
                 field.",
            ),
            UrlError::QueryOrFragment => lang.pick(
                "Base URL 不能带 ? 参数或 # 片段；密钥请勿放进网址。",
                "The base URL must not have a ?query or #fragment; never put a key in a URL.",
            ),
            UrlError::BadHost => lang.pick("Base URL 的主机名无效。", "The base URL's host is invalid."),
            UrlError::BadPort => lang.pick(
                "Base URL 的端口必须是 1–65535 之间的数字。",
                "The base URL's port must be a number from 1 to 65535.",
            ),
            UrlError::BadPath => lang.pick(
                "Base URL 的路径不能含有 . 或 .. 段或编码的斜杠。",
                "The base URL's path must not contain . or .. segments or encoded slashes.",
            ),
        }
    }
}

/// Something accepted but worth telling the user about a base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlWarning {
    /// `http://` to a host that is not this machine: the key travels unencrypted, and a page
    /// served over https cannot call it at all (mixed content).
    InsecureHttp,
    /// The URL ended in `/chat/completions`, which was removed: the base URL stops before it.
    EndpointStripped,
}

impl UrlWarning {
    /// The warning text.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            UrlWarning::InsecureHttp => lang.pick(
                "这是非本机的 http:// 地址：密钥会以明文传输，而且通过 https 打开的本应用无法调用它（混合内容被浏览器拦截）。请尽量使用 https://。",
                "This is an http:// address that is not on this machine: the key would travel \
                 unencrypted, and this app served over https cannot call it at all (the browser \
                 blocks mixed content). Use https:// if you can.",
            ),
            UrlWarning::EndpointStripped => lang.pick(
                "已去掉末尾的 /chat/completions：Base URL 只需填到 /v1 这一级。",
                "Removed the trailing /chat/completions: the base URL stops at the /v1 level.",
            ),
        }
    }
}

/// A validated base URL: lower-case scheme and host, no default port, no trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedUrl {
    url: String,
    origin: String,
    warnings: Vec<UrlWarning>,
}

impl NormalizedUrl {
    /// The normalized URL, e.g. `https://api.holysheep.ai/v1`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Its origin, e.g. `https://api.holysheep.ai` (what a `no-cors` reachability probe fetches).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Things to tell the user, if any.
    pub fn warnings(&self) -> &[UrlWarning] {
        &self.warnings
    }
}

/// Validates and normalizes a base URL: http(s) only, no credentials, no query or fragment,
/// trailing slashes (and a pasted `/chat/completions`) trimmed; `http://` is accepted everywhere
/// but warned about unless the host is this machine.
pub fn validate_base_url(input: &str) -> Result<NormalizedUrl, UrlError> {
    let parsed = ParsedUrl::parse(input, false)?;
    let mut warnings = Vec::new();
    let mut path = parsed.path.clone();
    if let Some(stripped) = path.strip_suffix("/chat/completions") {
        path = stripped.trim_end_matches('/').to_string();
        warnings.push(UrlWarning::EndpointStripped);
    }
    if parsed.scheme == "http" && !parsed.is_local() {
        warnings.push(UrlWarning::InsecureHttp);
    }
    let origin = parsed.origin();
    Ok(NormalizedUrl {
        url: format!("{origin}{path}"),
        origin,
        warnings,
    })
}

/// Joins a base URL and an API path with exactly one slash:
/// `endpoint("https://api.deepseek.com/", "/chat/completions")` is
/// `https://api.deepseek.com/chat/completions`.
pub fn endpoint(base_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base_url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// True only when `request_url` is under `base_url`: same scheme, host and port, and a path
/// equal to the base path or below it. The adapter checks this before attaching a key, so a
/// key never goes to a CDN link, a redirect target, or another connection.
pub fn may_send_key(base_url: &str, request_url: &str) -> bool {
    let (Ok(base), Ok(request)) = (
        validate_base_url(base_url),
        ParsedUrl::parse(request_url, true),
    ) else {
        return false;
    };
    let Some(base_path) = base.url.strip_prefix(&base.origin) else {
        return false;
    };
    request.origin() == base.origin
        && (request.path == base_path
            || request
                .path
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// A URL split into the parts this module compares.
#[derive(Debug)]
struct ParsedUrl {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    /// Without trailing slashes; empty for the root.
    path: String,
}

impl ParsedUrl {
    /// Parses an absolute http(s) URL. With `allow_query`, a query or fragment is dropped
    /// instead of refused.
    fn parse(input: &str, allow_query: bool) -> Result<ParsedUrl, UrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        if input
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(UrlError::InvalidCharacters);
        }
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::NotHttp)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => "https",
            "http" => "http",
            _ => return Err(UrlError::NotHttp),
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let path = match rest.find(['?', '#']) {
            Some(_) if !allow_query => return Err(UrlError::QueryOrFragment),
            Some(at) => &rest[..at],
            None => rest,
        };
        let (host, port) = split_host_port(authority)?;
        let port = port.filter(|p| !matches!((scheme, *p), ("https", 443) | ("http", 80)));
        let path = path.trim_end_matches('/');
        let lower = path.to_ascii_lowercase();
        if path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
            || ["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e))
        {
            return Err(UrlError::BadPath);
        }
        Ok(ParsedUrl {
            scheme,
            host,
            port,
            path: path.to_string(),
        })
    }

    fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// True for this machine: `localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`.
    fn is_local(&self) -> bool {
        let loopback_v4 = self.host.starts_with("127.")
            && self.host.split('.').count() == 4
            && self.host.split('.').all(|p| p.parse::<u8>().is_ok());
        loopback_v4
            || self.host == "localhost"
            || self.host.ends_with(".localhost")
            || self.host == "[::1]"
    }
}

/// Splits `host[:port]` (or `[v6]:port`), lower-casing the host.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlError::BadHost)?;
        let (host, rest) = authority.split_at(close + 1);
        let valid = host[1..close]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !valid || close == 1 {
            return Err(UrlError::BadHost);
        }
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':').ok_or(UrlError::BadPort)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'));
    if !host_ok || host.starts_with('.') || host.contains("..") {
        return Err(UrlError::BadHost);
    }
    let port = match port {
        None => None,
        Some(digits) => Some(
            digits
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(UrlError::BadPort)?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<(&str, &[UrlWarning]), UrlError>) {
        let actual = validate_base_url(input);
        let actual = actual
            .as_ref()
            .map(|url| (url.as_str(), url.warnings()))
            .map_err(|e| *e);
        assert_eq!(actual, expect, "{input:?}");
    }

    #[test]
    fn base_urls() {
        use UrlWarning::*;
        check(
            "https://api.holysheep.ai/v1",
            Ok(("https://api.holysheep.ai/v1", &[])),
        );
        check(
            " HTTPS://API.OpenAI.com/v1/// ",
            Ok(("https://api.openai.com/v1", &[])),
        );
        check(
            "https://api.deepseek.com",
            Ok(("https://api.deepseek.com", &[])),
        );
        check(
            "https://api.deepseek.com/",
            Ok(("https://api.deepseek.com", &[])),
        );
        check(
            "https://api.openai.com:443/v1",
            Ok(("https://api.openai.com/v1", &[])),
        );
        check(
            "https://relay.example:8443/v1",
            Ok(("https://relay.example:8443/v1", &[])),
        );
        check(
            "https://api.holysheep.ai/v1/chat/completions",
            Ok(("https://api.holysheep.ai/v1", &[EndpointStripped])),
        );
        check(
            "http://127.0.0.1:8787/v1",
            Ok(("http://127.0.0.1:8787/v1", &[])),
        );
        check(
            "http://localhost:3000/v1",
            Ok(("http://localhost:3000/v1", &[])),
        );
        check("http://[::1]:8787/v1", Ok(("http://[::1]:8787/v1", &[])));
        check(
            "http://192.168.1.10:3000/v1",
            Ok(("http://192.168.1.10:3000/v1", &[InsecureHttp])),
        );
        check(
            "http://127.evil.com/v1",
            Ok(("http://127.evil.com/v1", &[InsecureHttp])),
        );
        check("", Err(UrlError::Empty));
        check("api.openai.com/v1", Err(UrlError::NotHttp));
        check("ftp://api.openai.com", Err(UrlError::NotHttp));
        check("javascript://alert(1)", Err(UrlError::NotHttp));
        check(
            "https://user:pw@api.openai.com/v1",
            Err(UrlError::Credentials),
        );
        check(
            "https://api.openai.com/v1?key=sk-123",
            Err(UrlError::QueryOrFragment),
        );
        check(
            "https://api.openai.com/v1#x",
            Err(UrlError::QueryOrFragment),
        );
        check(
            "https://api.open ai.com/v1",
            Err(UrlError::InvalidCharacters),
        );
        check(
            "https://api.openai.com\\v1",
            Err(UrlError::InvalidCharacters),
        );
        check("https:///v1", Err(UrlError::BadHost));
        check("https://api..com/v1", Err(UrlError::BadHost));
        check("https://api.openai.com:99999/v1", Err(UrlError::BadPort));
        check("https://api.openai.com:/v1", Err(UrlError::BadPort));
        check("https://api.openai.com/v1/../admin", Err(UrlError::BadPath));
        check(
            "https://api.openai.com/%2e%2e/admin",
            Err(UrlError::BadPath),
        );
        for error in [UrlError::NotHttp, UrlError::QueryOrFragment] {
            assert_ne!(error.message(Lang::ZhCn), error.message(Lang::En));
        }
    }

    #[test]
    fn every_preset_base_url_is_valid() {
        for preset in Preset::ALL {
            assert_eq!(preset.spec().preset, preset);
            let base = preset.spec().base_url;
            if preset == Preset::Custom {
                assert_eq!(validate_base_url(base), Err(UrlError::Empty));
                continue;
            }
            let url = validate_base_url(base).unwrap();
            assert_eq!(url.as_str(), base, "{preset:?}");
            assert!(url.warnings().is_empty(), "{preset:?}");
        }
        assert_eq!(
            validate_base_url(Preset::LocalSandbox.spec().base_url)
                .unwrap()
                .origin(),
            "http://127.0.0.1:8787"
        );
    }

    #[test]
    fn endpoints() {
        let cases = [
            (
                "https://api.deepseek.com",
                "/chat/completions",
                "https://api.deepseek.com/chat/completions",
            ),
            (
                "https://api.deepseek.com/",
                "chat/completions",
                "https://api.deepseek.com/chat/completions",
            ),
            (
                "https://openrouter.ai/api/v1",
                "/videos/abc/content",
                "https://openrouter.ai/api/v1/videos/abc/content",
            ),
        ];
        for (base, path, expect) in cases {
            assert_eq!(endpoint(base, path), expect);
        }
        let connection = Connection::from_preset("c1", Preset::HolySheep, "relay", Lang::ZhCn);
        assert_eq!(
            connection.chat_url(),
            Ok("https://api.holysheep.ai/v1/chat/completions".to_string())
        );
        assert_eq!(connection.name, "HolySheep 中转");
        assert!(!connection.remember_key);
        let probe = probe_request(Preset::HolySheep.spec().probe_model);
        assert_eq!(probe.max_tokens, Some(1));
    }

    #[test]
    fn a_key_stays_only_on_the_same_origin() {
        let base = "https://api.holysheep.ai/v1";
        let cases = [
            ("https://api.holysheep.ai/v2", true),
            ("https://api.holysheep.ai/v1/", true),
            ("https://API.holysheep.ai:443/v1", true),
            ("https://api.holysheep.ai", true),
            ("https://relay.example.com/v1", false),
            ("https://api.holysheep.ai.evil.com/v1", false),
            ("https://api.holysheep.ai:8443/v1", false),
            ("http://api.holysheep.ai/v1", false),
            ("ftp://api.holysheep.ai/v1", false),
            ("", false),
        ];
        for (other, expect) in cases {
            assert_eq!(same_origin(base, other), expect, "{other}");
            assert_eq!(same_origin(other, base), expect, "{other}");
        }
        assert!(!same_origin("", ""), "no URL is no origin");
        assert!(same_origin("http://127.0.0.1:80/v1", "http://127.0.0.1/x"));

        let key = ApiKey::new("hs_0123456789abcdef0123456789abcdef");
        let relay = Connection::from_preset("c1", Preset::HolySheep, "relay", Lang::En);
        assert!(relay.keeps_key("https://api.holysheep.ai/v2/", &key));
        assert!(!relay.keeps_key("https://a", &key));
        assert!(!relay.keeps_key("http://api.holysheep.ai/v1", &key));
        // The sandbox's key is public test data: it follows the sandbox to another port.
        let sandbox = Connection::from_preset("c2", Preset::LocalSandbox, "relay", Lang::En);
        assert!(sandbox.keeps_key("http://127.0.0.1:18787/v1", &ApiKey::new(SANDBOX_KEY)));
        assert!(!sandbox.keeps_key("http://127.0.0.1:18787/v1", &key));
        assert!(sandbox.keeps_key("http://127.0.0.1:8787/v2", &key));
    }

    #[test]
    fn keys_go_only_to_their_own_base_url() {
        let base = "https://api.holysheep.ai/v1";
        let cases = [
            ("https://api.holysheep.ai/v1/chat/completions", true),
            ("https://API.holysheep.ai:443/v1/videos/v_1?x=1", true),
            ("https://api.holysheep.ai/v1", true),
            ("https://api.holysheep.ai/v2/chat/completions", false),
            ("https://api.holysheep.ai/v1x/chat/completions", false),
            ("https://api.holysheep.ai/chat/completions", false),
            ("http://api.holysheep.ai/v1/chat/completions", false),
            ("https://api.holysheep.ai:8443/v1/chat/completions", false),
            (
                "https://api.holysheep.ai.evil.com/v1/chat/completions",
                false,
            ),
            (
                "https://evil.com/api.holysheep.ai/v1/chat/completions",
                false,
            ),
            ("https://user@api.holysheep.ai/v1/chat/completions", false),
            ("https://api.holysheep.ai/v1/../admin", false),
            ("https://api.holysheep.ai/v1/%2e%2e/admin", false),
            ("https://api.holysheep.ai/v1\\..\\admin", false),
            ("https://cdn.holysheep.ai/v1/clip.mp4", false),
            ("not a url", false),
        ];
        for (request, expect) in cases {
            assert_eq!(may_send_key(base, request), expect, "{request}");
        }
        // A base at the origin's root covers the whole origin, and nothing else.
        assert!(may_send_key(
            "https://api.deepseek.com",
            "https://api.deepseek.com/chat/completions"
        ));
        assert!(!may_send_key(
            "https://api.deepseek.com",
            "https://api.deepseek.com.cn/chat/completions"
        ));
        // An invalid base never receives a key.
        assert!(!may_send_key("ftp://x", "ftp://x/chat"));
    }

    fn check_key(preset: Preset, key: &str, expect: Option<KeyWarning>) {
        assert_eq!(key_hint(preset, key), expect, "{preset:?} {key:?}");
    }

    #[test]
    fn key_hints() {
        let relay_key = "hs_0123456789abcdef0123456789abcdef";
        check_key(Preset::HolySheep, relay_key, None);
        check_key(Preset::HolySheep, &format!(" {relay_key}\n"), None);
        let warning = KeyWarning::UnexpectedFormat {
            preset: Preset::HolySheep,
        };
        let wrong = Some(warning);
        check_key(Preset::HolySheep, "hs_short", wrong);
        check_key(
            Preset::HolySheep,
            "sk-0123456789abcdef0123456789abcdef",
            wrong,
        );
        check_key(Preset::OpenAi, "sk-proj-0123456789abcdefghij", None);
        check_key(
            Preset::OpenAi,
            "hs_0123456789abcdef0123456789abcdef",
            Some(KeyWarning::UnexpectedFormat {
                preset: Preset::OpenAi,
            }),
        );
        check_key(
            Preset::DeepSeek,
            "sk-0123456789abcdef0123456789abcdef",
            None,
        );
        check_key(Preset::OpenRouter, "sk-or-v1-0123456789abcdef", None);
        check_key(
            Preset::OpenRouter,
            "sk-0123456789abcdef0123456789",
            Some(KeyWarning::UnexpectedFormat {
                preset: Preset::OpenRouter,
            }),
        );
        check_key(Preset::Anthropic, "sk-ant-api03-0123456789abcdef", None);
        check_key(Preset::LocalSandbox, SANDBOX_KEY, None);
        check_key(Preset::Custom, "anything", None);
        check_key(Preset::Custom, "  ", Some(KeyWarning::Empty));
        check_key(
            Preset::OpenAi,
            "Bearer sk-proj-0123456789abcdefghij",
            Some(KeyWarning::BearerPrefix),
        );
        check_key(Preset::Custom, "abc def", Some(KeyWarning::Whitespace));
        check_key(Preset::Custom, "sk-密钥", Some(KeyWarning::NonAscii));
        check_key(Preset::Custom, "ｓｋ-abc", Some(KeyWarning::NonAscii));

        let en = warning.message(Lang::En);
        assert!(en.contains("hs_") && en.contains("32"), "{en}");
        let zh = warning.message(Lang::ZhCn);
        assert!(zh.contains("hs_") && zh.contains("32"), "{zh}");
        assert_eq!(Preset::LocalSandbox.spec().prefilled_key, Some(SANDBOX_KEY));
    }

    #[test]
    fn keys_print_masked() {
        let key = ApiKey::new("  sk-proj-0123456789abcdefghij\n");
        assert_eq!(key.expose(), "sk-proj-0123456789abcdefghij");
        assert_eq!(format!("{key}"), "sk-…(redacted)");
        assert_eq!(format!("{key:?}"), "ApiKey(sk-…(redacted))");
        assert_eq!(ApiKey::new("short").masked(), "…(redacted)");
        assert!(ApiKey::new(" ").is_empty());
        // A struct holding a key does not leak it through `{:?}` either.
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: ApiKey,
        }
        let debug = format!("{:?}", Holder { key: key.clone() });
        assert!(!debug.contains("0123456789"), "{debug}");
    }

    #[test]
    fn api_key_is_not_serializable() {
        use std::marker::PhantomData;
        // Method resolution prefers the inherent method, which exists only for `Serialize`
        // types, and falls back to the trait's `false` otherwise.
        struct Probe<T>(PhantomData<T>);
        trait Fallback {
            fn is_serialize(&self) -> bool {
                false
            }
        }
        impl<T> Fallback for Probe<T> {}
        impl<T: Serialize> Probe<T> {
            fn is_serialize(&self) -> bool {
                true
            }
        }
        assert!(!Probe::<ApiKey>(PhantomData).is_serialize());
        assert!(Probe::<Connection>(PhantomData).is_serialize());
        // And a serialized connection has no key-like field.
        let connection = Connection::from_preset("c1", Preset::OpenAi, "official", Lang::En);
        let json = serde_json::to_string(&connection).unwrap();
        assert!(
            !json.contains("key\":\"") && !json.contains("sk-"),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<Connection>(&json).unwrap(),
            connection
        );
    }

    #[test]
    fn exactly_two_headers() {
        let key = ApiKey::new(SANDBOX_KEY);
        let headers = headers_for(&key);
        assert_eq!(
            headers[0],
            ("Authorization", format!("Bearer {SANDBOX_KEY}"))
        );
        assert_eq!(headers[1], ("Content-Type", "application/json".to_string()));
        assert_eq!(
            Preset::Anthropic.extra_headers(),
            &[("anthropic-dangerous-direct-browser-access", "true")]
        );
        for preset in Preset::ALL {
            if preset != Preset::Anthropic {
                assert!(preset.extra_headers().is_empty(), "{preset:?}");
            }
        }
    }

    #[test]
    fn protocols_default_to_the_presets() {
        for preset in Preset::ALL {
            let expect = if preset == Preset::Anthropic {
                Protocol::AnthropicMessages
            } else {
                Protocol::OpenAiChat
            };
            assert_eq!(preset.default_protocol(), expect, "{preset:?}");
            let c = Connection::from_preset("c", preset, "relay", Lang::En);
            assert_eq!(c.protocol(), expect, "{preset:?}");
        }
        assert_eq!(
            serde_json::to_string(&Protocol::AnthropicMessages).unwrap(),
            r#""anthropic_messages""#
        );
        assert_eq!(
            Protocol::ALL.map(Protocol::as_str),
            ["openai_chat", "anthropic_messages"]
        );
        // A relay switched to Messages stores the choice; switching back stores none.
        let mut relay = Connection::from_preset("c", Preset::HolySheep, "relay", Lang::En);
        relay.set_protocol(Protocol::AnthropicMessages);
        assert_eq!(relay.protocol, Some(Protocol::AnthropicMessages));
        assert_eq!(relay.protocol(), Protocol::AnthropicMessages);
        let json = serde_json::to_string(&relay).unwrap();
        assert!(
            json.contains(r#""protocol":"anthropic_messages""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Connection>(&json).unwrap(), relay);
        relay.set_protocol(Protocol::OpenAiChat);
        assert_eq!(relay.protocol, None);
        assert_ne!(
            Protocol::OpenAiChat.label(Lang::ZhCn),
            Protocol::OpenAiChat.label(Lang::En)
        );
    }

    #[test]
    fn connections_stored_before_protocols_and_limits_still_load() {
        let old = r#"{"id":"a1","preset":"anthropic","name":"Claude","base_url":"https://api.anthropic.com/v1","price_profile_id":"official"}"#;
        let c: Connection = serde_json::from_str(old).unwrap();
        assert_eq!(c.protocol, None);
        assert_eq!(c.protocol(), Protocol::AnthropicMessages);
        assert!(c.model_ids.is_empty());
        assert_eq!(c.model_id("claude-sonnet-4.5"), "claude-sonnet-4-5");
        assert_eq!(c.limits, None);
        assert_eq!(c.limits().rpm, Some(50));
        assert!(!c.remember_key);
        // And a fresh connection writes none of the new fields.
        let json = serde_json::to_string(&c).unwrap();
        for field in ["protocol", "model_ids", "limits"] {
            assert!(!json.contains(field), "{json}");
        }
        let unknown = old.replace(
            r#""preset":"anthropic""#,
            r#""preset":"anthropic","protocol":"grpc""#,
        );
        assert!(serde_json::from_str::<Connection>(&unknown).is_err());
    }

    #[test]
    fn the_anthropic_opt_in_goes_only_to_anthropic_over_messages() {
        let opt_in: &[(&str, &str)] = &[("anthropic-dangerous-direct-browser-access", "true")];
        let anthropic = Connection::from_preset("a", Preset::Anthropic, "official", Lang::En);
        assert_eq!(anthropic.browser_headers(), opt_in);
        // Anthropic's preset switched to chat completions: no opt-in.
        let mut chat = anthropic.clone();
        chat.set_protocol(Protocol::OpenAiChat);
        assert!(chat.browser_headers().is_empty());
        // A custom connection to Anthropic's host over Messages needs it too (any case, any path).
        let mut custom = Connection::from_preset("c", Preset::Custom, "official", Lang::En);
        custom.base_url = "https://API.anthropic.com/v1/".into();
        assert!(custom.browser_headers().is_empty(), "chat completions");
        custom.set_protocol(Protocol::AnthropicMessages);
        assert_eq!(custom.browser_headers(), opt_in);
        // A relay speaking Messages does not: the header would only risk its preflight.
        let mut relay = Connection::from_preset("r", Preset::HolySheep, "relay", Lang::En);
        relay.set_protocol(Protocol::AnthropicMessages);
        assert!(relay.browser_headers().is_empty());
        for host in [
            "https://api.anthropic.com.evil.com/v1",
            "https://relay.example/api.anthropic.com/v1",
            "not a url",
        ] {
            custom.base_url = host.into();
            assert!(custom.browser_headers().is_empty(), "{host}");
        }
        // Every other preset, on its own protocol: none.
        for preset in Preset::ALL {
            let c = Connection::from_preset("p", preset, "relay", Lang::En);
            assert_eq!(
                c.browser_headers().is_empty(),
                preset != Preset::Anthropic,
                "{preset:?}"
            );
        }
    }

    #[test]
    fn limits_come_from_the_preset_until_the_user_sets_them() {
        let openai = Connection::from_preset("o", Preset::OpenAi, "official", Lang::En);
        assert_eq!(
            openai.limits(),
            ConnectionLimits {
                rpm: Some(500),
                tpm: Some(30_000),
                concurrency: None
            }
        );
        let anthropic = Connection::from_preset("a", Preset::Anthropic, "official", Lang::En);
        assert_eq!(
            (anthropic.limits().rpm, anthropic.limits().tpm),
            (Some(50), Some(30_000))
        );
        for preset in [
            Preset::HolySheep,
            Preset::DeepSeek,
            Preset::OpenRouter,
            Preset::LocalSandbox,
            Preset::Custom,
        ] {
            assert_eq!(
                preset.default_limits(),
                ConnectionLimits::UNKNOWN,
                "{preset:?}"
            );
        }
        for preset in Preset::ALL {
            assert!(preset.default_limits().problems().is_empty(), "{preset:?}");
        }

        let mut sandbox = Connection::from_preset("s", Preset::LocalSandbox, "relay", Lang::En);
        let mine = ConnectionLimits {
            rpm: Some(60),
            tpm: Some(6_000),
            concurrency: Some(2),
        };
        sandbox.set_limits(mine).unwrap();
        assert_eq!(sandbox.limits(), mine);
        let json = serde_json::to_string(&sandbox).unwrap();
        assert!(
            json.contains(r#""limits":{"rpm":60,"tpm":6000,"concurrency":2}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Connection>(&json).unwrap(), sandbox);
        // Partial stored limits read back with the rest unlimited.
        let partial: ConnectionLimits = serde_json::from_str(r#"{"rpm":30}"#).unwrap();
        assert_eq!(
            partial,
            ConnectionLimits {
                rpm: Some(30),
                ..ConnectionLimits::UNKNOWN
            }
        );
        // Back to the preset's defaults: nothing stored.
        sandbox.set_limits(ConnectionLimits::UNKNOWN).unwrap();
        assert_eq!(sandbox.limits, None);
        // The whole stored value replaces the preset's: unlimited rpm on OpenAI is a choice.
        let mut unlimited = openai.clone();
        unlimited.set_limits(ConnectionLimits::UNKNOWN).unwrap();
        assert_eq!(unlimited.limits(), ConnectionLimits::UNKNOWN);
        assert_eq!(unlimited.limits, Some(ConnectionLimits::UNKNOWN));
    }

    #[test]
    fn limits_are_validated() {
        let ok = |rpm, tpm, concurrency| {
            ConnectionLimits {
                rpm,
                tpm,
                concurrency,
            }
            .problems()
        };
        assert!(ok(Some(1), Some(1), Some(1)).is_empty());
        assert!(ok(Some(100_000), Some(1_000_000_000), Some(64)).is_empty());
        assert!(ok(None, None, None).is_empty());
        assert_eq!(ok(Some(0), None, None), [LimitError::Rpm]);
        assert_eq!(ok(Some(100_001), None, None), [LimitError::Rpm]);
        assert_eq!(ok(None, Some(0), None), [LimitError::Tpm]);
        assert_eq!(ok(None, Some(1_000_000_001), None), [LimitError::Tpm]);
        assert_eq!(ok(None, None, Some(0)), [LimitError::Concurrency]);
        assert_eq!(ok(None, None, Some(65)), [LimitError::Concurrency]);
        assert_eq!(
            ok(Some(0), Some(0), Some(0)),
            [LimitError::Rpm, LimitError::Tpm, LimitError::Concurrency]
        );
        let mut c = Connection::from_preset("c", Preset::Custom, "relay", Lang::En);
        let bad = ConnectionLimits {
            rpm: Some(0),
            ..ConnectionLimits::UNKNOWN
        };
        assert_eq!(c.set_limits(bad), Err(vec![LimitError::Rpm]));
        assert_eq!(c.limits, None, "a refused value is not stored");
        assert_eq!(
            LimitError::Rpm.message(Lang::En),
            "Requests per minute (RPM) must be between 1 and 100000; leave it empty for no limit."
        );
        assert_eq!(
            LimitError::Concurrency.message(Lang::ZhCn),
            "并发数必须在 1 到 64 之间；留空表示不限制。"
        );
        assert!(LimitError::Tpm.message(Lang::ZhCn).contains("1000000000"));
    }

    #[test]
    fn limits_feed_the_batch_limiter() {
        use crate::domain::batch::Limits;
        let limits = ConnectionLimits {
            rpm: Some(60),
            tpm: Some(6_000),
            concurrency: Some(2),
        };
        assert_eq!(
            limits.batch_limits(),
            Limits {
                rpm: Some(60),
                tpm: Some(6_000),
                max_concurrency: 2
            }
        );
        assert_eq!(ConnectionLimits::UNKNOWN.batch_limits(), Limits::default());
        let huge = ConnectionLimits {
            tpm: Some(u64::MAX),
            ..ConnectionLimits::UNKNOWN
        };
        assert_eq!(huge.batch_limits().tpm, Some(u32::MAX));
        // A connection's lane: its stored limits, else its preset's.
        let mut sandbox = Connection::from_preset("s1", Preset::LocalSandbox, "relay", Lang::En);
        assert_eq!(sandbox.batch_limits(), Limits::default());
        sandbox.set_limits(limits).unwrap();
        let lane = sandbox.lane_limits();
        assert_eq!((lane.lane.as_str(), lane.model.as_deref()), ("s1", None));
        assert_eq!(
            lane.limits,
            Limits {
                rpm: Some(60),
                tpm: Some(6_000),
                max_concurrency: 2
            }
        );
        let anthropic = Connection::from_preset("a", Preset::Anthropic, "official", Lang::En);
        assert_eq!(
            anthropic.batch_limits(),
            Limits {
                rpm: Some(50),
                tpm: Some(30_000),
                max_concurrency: Limits::DEFAULT_CONCURRENCY
            }
        );
    }

    #[test]
    fn a_messages_base_gets_v1_once_and_chat_keeps_its_base() {
        let mut conn = Connection::from_preset("a", Preset::Anthropic, "p", Lang::En);
        assert_eq!(
            conn.chat_url().unwrap(),
            "https://api.anthropic.com/v1/messages"
        );
        conn.base_url = "https://api.anthropic.com".into();
        assert_eq!(
            conn.chat_url().unwrap(),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            conn.api_url("/models?limit=1000").unwrap(),
            "https://api.anthropic.com/v1/models?limit=1000"
        );
        let mut relay = Connection::from_preset("h", Preset::HolySheep, "p", Lang::En);
        assert_eq!(
            relay.chat_url().unwrap(),
            "https://api.holysheep.ai/v1/chat/completions"
        );
        relay.set_protocol(Protocol::AnthropicMessages);
        assert_eq!(
            relay.chat_url().unwrap(),
            "https://api.holysheep.ai/v1/messages"
        );
        let deepseek = Connection::from_preset("d", Preset::DeepSeek, "p", Lang::En);
        assert_eq!(
            deepseek.chat_url().unwrap(),
            "https://api.deepseek.com/chat/completions"
        );
    }
}
