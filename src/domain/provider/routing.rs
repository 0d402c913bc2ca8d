//! Smart model routing: which model, with which settings, serves each kind of task.
//!
//! A [`RouteTable`] holds one [`Route`] per [`TaskType`]. A task the table does not know (or a
//! task name it cannot parse) uses the default route, `script_draft`'s, explicitly. The shipped
//! table is the seeds' ([`RouteTable::seed_defaults`]); [`RouteTable::official_rollback`] is the
//! seeds' emergency switch back to official endpoints. What switching costs for a plan is
//! [`crate::domain::cost::estimate::route_switch`].

use crate::domain::encoding::wire_names::wire_enum;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::cost::money::{decimal_from_json, decimal_to_json_number, format_decimal};
use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;

wire_enum! {
    /// The kinds of work the studio sends to models. `ALL` is the table order; `as_str` is the
    /// name used in plans and requests (`script_draft`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum TaskType {
        /// First drafts of scripts: structure, cheap (also the default route).
        ScriptDraft = "script_draft",
        /// Dialogue with emotional nuance.
        DialogueEmotion = "dialogue_emotion",
        /// Subtitle timing: speed matters.
        SubtitleTiming = "subtitle_timing",
        /// Character voice and consistency.
        CharacterVoice = "character_voice",
        /// Narrative enhancement of a script.
        Narrative = "narrative",
        /// Storyboards as JSON shots.
        Storyboard = "storyboard",
        /// Video clip generation.
        Video = "video",
    }
}

impl TaskType {
    /// The task whose route serves unknown tasks.
    pub const DEFAULT: TaskType = TaskType::ScriptDraft;

    /// Parses a task name; unknown names are `None`.
    pub fn parse(name: &str) -> Option<TaskType> {
        TaskType::ALL
            .into_iter()
            .find(|task| task.as_str() == name.trim())
    }

    /// The task's name in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            TaskType::ScriptDraft => lang.pick("剧本初稿", "Script draft"),
            TaskType::DialogueEmotion => lang.pick("情感对白", "Dialogue emotion"),
            TaskType::SubtitleTiming => lang.pick("字幕时间轴", "Subtitle timing"),
            TaskType::CharacterVoice => lang.pick("角色声音", "Character voice"),
            TaskType::Narrative => lang.pick("剧情润色", "Narrative"),
            TaskType::Storyboard => lang.pick("分镜", "Storyboard"),
            TaskType::Video => lang.pick("视频生成", "Video"),
        }
    }
}

/// A sampling temperature, exact to a hundredth, between 0 and 2. Serialises as a number
/// (`0.85`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Temperature {
    hundredths: u16,
}

impl Temperature {
    /// The highest temperature APIs accept.
    pub const MAX: Temperature = Temperature { hundredths: 200 };

    /// A temperature in hundredths (`85` is 0.85), if it lies within 0–2.
    pub fn from_hundredths(hundredths: u16) -> Option<Temperature> {
        (hundredths <= Temperature::MAX.hundredths).then_some(Temperature { hundredths })
    }

    /// Parses `0.85`; more than two decimals or a value outside 0–2 is refused.
    pub fn parse(text: &str) -> Result<Temperature, RouteError> {
        let hundredths = crate::domain::cost::money::parse_decimal(text, 2)
            .map_err(|_| RouteError::TemperatureOutOfRange)?;
        u16::try_from(hundredths)
            .ok()
            .and_then(Temperature::from_hundredths)
            .ok_or(RouteError::TemperatureOutOfRange)
    }

    /// Hundredths.
    pub fn hundredths(self) -> u16 {
        self.hundredths
    }

    /// The value sent in a request.
    pub fn as_f64(self) -> f64 {
        decimal_to_json_number(i128::from(self.hundredths), 2)
    }
}

impl fmt::Display for Temperature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_decimal(i128::from(self.hundredths), 2))
    }
}

impl Serialize for Temperature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Temperature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Temperature, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        decimal_from_json(&value, 2)
            .ok()
            .and_then(|hundredths| u16::try_from(hundredths).ok())
            .and_then(Temperature::from_hundredths)
            .ok_or_else(|| {
                serde::de::Error::custom(RouteError::TemperatureOutOfRange.message(Lang::En))
            })
    }
}

/// How the model must shape its answer (`response_format`).
///
/// Stored internally tagged (`{"type": "json_schema", "name": …}`). It is read through
/// [`FormatRecord`] rather than serde's internally tagged reader, which buffers every value
/// and doubles the reading code in the start-up module (ARCHITECTURE.md, "Bundle size").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "FormatRecord")]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// Any JSON object (the only structured mode DeepSeek supports; the prompt must say "json").
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema's name.
        name: String,
        /// The JSON Schema.
        schema: serde_json::Value,
        /// Whether the provider must follow the schema strictly (when absent: yes).
        strict: bool,
    },
}

/// The stored shape of a [`ResponseFormat`], every variant's fields side by side.
#[derive(Deserialize)]
struct FormatRecord {
    #[serde(rename = "type")]
    kind: FormatKind,
    name: Option<String>,
    schema: Option<serde_json::Value>,
    strict: Option<bool>,
}

wire_enum! {
    /// [`FormatRecord`]'s tag.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(crate) enum FormatKind {
        Text = "text",
        JsonObject = "json_object",
        JsonSchema = "json_schema",
    }
}

impl TryFrom<FormatRecord> for ResponseFormat {
    type Error = String;

    fn try_from(record: FormatRecord) -> Result<ResponseFormat, String> {
        Ok(match record.kind {
            FormatKind::Text => ResponseFormat::Text,
            FormatKind::JsonObject => ResponseFormat::JsonObject,
            FormatKind::JsonSchema => ResponseFormat::JsonSchema {
                name: record.name.ok_or_else(|| missing_field("name"))?,
                schema: record.schema.ok_or_else(|| missing_field("schema"))?,
                strict: record.strict.unwrap_or(true),
            },
        })
    }
}

/// serde's own wording for a missing field.
fn missing_field(name: &str) -> String {
    format!("missing field `{name}`")
}

impl ResponseFormat {
    /// The `response_format` value of a chat-completions request, or `None` for plain text
    /// (which is the APIs' default and needs no field).
    pub fn to_request_json(&self) -> Option<serde_json::Value> {
        match self {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(serde_json::json!({ "type": "json_object" })),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => Some(serde_json::json!({
                "type": "json_schema",
                "json_schema": { "name": name, "schema": schema, "strict": strict },
            })),
        }
    }
}

/// Settings of a chat route (read as part of [`RouteSettings`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChatSettings {
    /// Sampling temperature.
    pub temperature: Temperature,
    /// The answer's token limit.
    pub max_tokens: u32,
    /// The answer's shape (when absent: text).
    pub response_format: ResponseFormat,
}

/// Settings of a video route (read as part of [`RouteSettings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VideoSettings {
    /// Length of each clip in seconds.
    pub seconds_per_clip: u32,
    /// Resolution of each clip.
    pub resolution: Resolution,
}

/// A route's settings: a chat completion or a video generation.
///
/// Stored internally tagged (`{"kind": "chat", "temperature": …}`) and read through
/// [`SettingsRecord`], as [`ResponseFormat`] is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "SettingsRecord")]
pub enum RouteSettings {
    /// A chat completion.
    Chat(ChatSettings),
    /// A video generation.
    Video(VideoSettings),
}

/// The stored shape of [`RouteSettings`], both variants' fields side by side.
#[derive(Deserialize)]
struct SettingsRecord {
    kind: SettingsKind,
    temperature: Option<Temperature>,
    max_tokens: Option<u32>,
    response_format: Option<ResponseFormat>,
    seconds_per_clip: Option<u32>,
    resolution: Option<Resolution>,
}

wire_enum! {
    /// [`SettingsRecord`]'s tag.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(crate) enum SettingsKind {
        Chat = "chat",
        Video = "video",
    }
}

impl TryFrom<SettingsRecord> for RouteSettings {
    type Error = String;

    fn try_from(record: SettingsRecord) -> Result<RouteSettings, String> {
        Ok(match record.kind {
            SettingsKind::Chat => RouteSettings::Chat(ChatSettings {
                temperature: record
                    .temperature
                    .ok_or_else(|| missing_field("temperature"))?,
                max_tokens: record
                    .max_tokens
                    .ok_or_else(|| missing_field("max_tokens"))?,
                response_format: record.response_format.unwrap_or_default(),
            }),
            SettingsKind::Video => RouteSettings::Video(VideoSettings {
                seconds_per_clip: record
                    .seconds_per_clip
                    .ok_or_else(|| missing_field("seconds_per_clip"))?,
                resolution: record
                    .resolution
                    .ok_or_else(|| missing_field("resolution"))?,
            }),
        })
    }
}

/// Where one task type goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The task this route serves.
    pub task: TaskType,
    /// The model asked first.
    pub model: String,
    /// Models to try in order when the first fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// A base URL for this route only (the rollback sends Claude to Anthropic); `None` uses the
    /// profile's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Chat or video settings.
    pub settings: RouteSettings,
}

/// The longest answer limit a route may ask for.
pub const MAX_TOKENS_CAP: u32 = 1_000_000;
/// The longest clip a route may ask for, in seconds.
pub const CLIP_SECONDS_CAP: u32 = 600;

impl Route {
    /// A chat route.
    pub fn chat(
        task: TaskType,
        model: &str,
        temperature_hundredths: u16,
        max_tokens: u32,
    ) -> Route {
        Route {
            task,
            model: model.into(),
            fallbacks: Vec::new(),
            endpoint: None,
            settings: RouteSettings::Chat(ChatSettings {
                temperature: Temperature::from_hundredths(temperature_hundredths.min(200))
                    .unwrap_or(Temperature::MAX),
                max_tokens,
                response_format: ResponseFormat::Text,
            }),
        }
    }

    /// The models to try, first the route's own, then the fallbacks in order.
    pub fn models(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.model.as_str()).chain(self.fallbacks.iter().map(String::as_str))
    }

    /// The chat settings, if this is a chat route.
    pub fn chat_settings(&self) -> Option<&ChatSettings> {
        match &self.settings {
            RouteSettings::Chat(settings) => Some(settings),
            RouteSettings::Video(_) => None,
        }
    }

    /// The video settings, if this is a video route.
    pub fn video_settings(&self) -> Option<VideoSettings> {
        match self.settings {
            RouteSettings::Video(settings) => Some(settings),
            RouteSettings::Chat(_) => None,
        }
    }

    /// Every problem with this route; empty when it can be used.
    pub fn problems(&self) -> Vec<RouteError> {
        let mut problems = Vec::new();
        if self.model.trim().is_empty() {
            problems.push(RouteError::EmptyModel(self.task));
        }
        if self.fallbacks.iter().any(|model| model.trim().is_empty()) {
            problems.push(RouteError::EmptyFallback(self.task));
        }
        if let Some(endpoint) = &self.endpoint {
            if !endpoint.starts_with("https://") && !endpoint.starts_with("http://") {
                problems.push(RouteError::BadEndpoint(self.task));
            }
        }
        match &self.settings {
            RouteSettings::Chat(chat) => {
                if chat.temperature > Temperature::MAX {
                    problems.push(RouteError::TemperatureOutOfRange);
                }
                if chat.max_tokens == 0 || chat.max_tokens > MAX_TOKENS_CAP {
                    problems.push(RouteError::MaxTokensOutOfRange(self.task));
                }
                if let ResponseFormat::JsonSchema { name, .. } = &chat.response_format {
                    if name.trim().is_empty() {
                        problems.push(RouteError::EmptySchemaName(self.task));
                    }
                }
            }
            RouteSettings::Video(video) => {
                if video.seconds_per_clip == 0 || video.seconds_per_clip > CLIP_SECONDS_CAP {
                    problems.push(RouteError::ClipSecondsOutOfRange(self.task));
                }
            }
        }
        problems
    }
}

/// Why a route or a route table cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// The model is empty.
    EmptyModel(TaskType),
    /// A fallback model is empty.
    EmptyFallback(TaskType),
    /// The endpoint is not an http(s) URL.
    BadEndpoint(TaskType),
    /// The temperature is not a number between 0 and 2 with at most two decimals.
    TemperatureOutOfRange,
    /// `max_tokens` is zero or above the cap.
    MaxTokensOutOfRange(TaskType),
    /// A JSON schema has no name.
    EmptySchemaName(TaskType),
    /// A clip length is zero or above the cap.
    ClipSecondsOutOfRange(TaskType),
    /// The table has no route for the default task.
    MissingDefault,
    /// Two routes serve the same task.
    DuplicateTask(TaskType),
}

impl RouteError {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        let task = |task: &TaskType| task.label(lang);
        match (self, lang) {
            (RouteError::EmptyModel(t), Lang::ZhCn) => format!("{}：模型不能为空", task(t)),
            (RouteError::EmptyModel(t), Lang::En) => {
                format!("{}: the model must not be empty", task(t))
            }
            (RouteError::EmptyFallback(t), Lang::ZhCn) => format!("{}：备用模型不能为空", task(t)),
            (RouteError::EmptyFallback(t), Lang::En) => {
                format!("{}: a fallback model is empty", task(t))
            }
            (RouteError::BadEndpoint(t), Lang::ZhCn) => {
                format!("{}：接口地址必须以 https:// 或 http:// 开头", task(t))
            }
            (RouteError::BadEndpoint(t), Lang::En) => {
                format!(
                    "{}: the endpoint must start with https:// or http://",
                    task(t)
                )
            }
            (RouteError::TemperatureOutOfRange, Lang::ZhCn) => {
                "温度必须在 0 到 2 之间（最多两位小数）".into()
            }
            (RouteError::TemperatureOutOfRange, Lang::En) => {
                "the temperature must be between 0 and 2 (at most two decimals)".into()
            }
            (RouteError::MaxTokensOutOfRange(t), Lang::ZhCn) => {
                format!("{}：max_tokens 必须在 1 到 {MAX_TOKENS_CAP} 之间", task(t))
            }
            (RouteError::MaxTokensOutOfRange(t), Lang::En) => {
                format!(
                    "{}: max_tokens must be between 1 and {MAX_TOKENS_CAP}",
                    task(t)
                )
            }
            (RouteError::EmptySchemaName(t), Lang::ZhCn) => {
                format!("{}：JSON Schema 需要名称", task(t))
            }
            (RouteError::EmptySchemaName(t), Lang::En) => {
                format!("{}: the JSON schema needs a name", task(t))
            }
            (RouteError::ClipSecondsOutOfRange(t), Lang::ZhCn) => {
                format!("{}：片段时长必须在 1 到 {CLIP_SECONDS_CAP} 秒之间", task(t))
            }
            (RouteError::ClipSecondsOutOfRange(t), Lang::En) => {
                format!(
                    "{}: the clip length must be between 1 and {CLIP_SECONDS_CAP} seconds",
                    task(t)
                )
            }
            (RouteError::MissingDefault, Lang::ZhCn) => "路由表缺少默认路由（script_draft）".into(),
            (RouteError::MissingDefault, Lang::En) => {
                "the route table lacks the default route (script_draft)".into()
            }
            (RouteError::DuplicateTask(t), Lang::ZhCn) => format!("{} 有两条路由", task(t)),
            (RouteError::DuplicateTask(t), Lang::En) => format!("{} has two routes", task(t)),
        }
    }
}

/// One route per task type, always including the default task's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Route>", into = "Vec<Route>")]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl TryFrom<Vec<Route>> for RouteTable {
    type Error = String;

    fn try_from(routes: Vec<Route>) -> Result<RouteTable, String> {
        RouteTable::new(routes).map_err(|problems| {
            problems
                .iter()
                .map(|problem| problem.message(Lang::En))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl From<RouteTable> for Vec<Route> {
    fn from(table: RouteTable) -> Vec<Route> {
        table.routes
    }
}

impl RouteTable {
    /// A table from routes; refused with every problem found if a route is invalid, a task has
    /// two routes, or the default task has none.
    pub fn new(routes: Vec<Route>) -> Result<RouteTable, Vec<RouteError>> {
        let mut problems: Vec<RouteError> = routes.iter().flat_map(Route::problems).collect();
        for (index, route) in routes.iter().enumerate() {
            if routes[..index]
                .iter()
                .any(|earlier| earlier.task == route.task)
            {
                problems.push(RouteError::DuplicateTask(route.task));
            }
        }
        if !routes.iter().any(|route| route.task == TaskType::DEFAULT) {
            problems.push(RouteError::MissingDefault);
        }
        if problems.is_empty() {
            Ok(RouteTable { routes })
        } else {
            Err(problems)
        }
    }

    /// The seeds' routing table.
    pub fn seed_defaults() -> RouteTable {
        let mut storyboard = Route::chat(TaskType::Storyboard, "gemini-2.5-flash", 30, 1500);
        if let RouteSettings::Chat(chat) = &mut storyboard.settings {
            chat.response_format = ResponseFormat::JsonObject;
        }
        let routes = vec![
            Route::chat(TaskType::ScriptDraft, "deepseek-v3.2", 70, 8000),
            Route::chat(TaskType::DialogueEmotion, "claude-sonnet-4.5", 85, 2048),
            Route::chat(TaskType::SubtitleTiming, "gemini-2.5-flash", 30, 4096),
            Route::chat(TaskType::CharacterVoice, "gpt-4.1", 50, 3072),
            Route::chat(TaskType::Narrative, "deepseek-v3.2", 70, 2000),
            storyboard,
            Route {
                task: TaskType::Video,
                model: "video-gen-2.1".into(),
                fallbacks: Vec::new(),
                endpoint: None,
                settings: RouteSettings::Video(VideoSettings {
                    seconds_per_clip: 5,
                    resolution: Resolution::P1080,
                }),
            },
        ];
        RouteTable::new(routes).expect("the seed routes are valid")
    }

    /// The seeds' emergency rollback to official endpoints: Claude's task goes to
    /// `claude-sonnet-4-5` at api.anthropic.com, every other chat task to `gpt-4.1` at
    /// api.openai.com, and video to the official per-clip price. Settings are kept.
    pub fn official_rollback() -> RouteTable {
        let seed = RouteTable::seed_defaults();
        let routes = seed
            .routes
            .into_iter()
            .map(|route| {
                let (model, endpoint) = match route.task {
                    TaskType::DialogueEmotion => {
                        ("claude-sonnet-4-5", "https://api.anthropic.com/v1")
                    }
                    TaskType::Video => ("video-official-openai", "https://api.openai.com/v1"),
                    _ => ("gpt-4.1", "https://api.openai.com/v1"),
                };
                Route {
                    model: model.into(),
                    endpoint: Some(endpoint.into()),
                    fallbacks: Vec::new(),
                    ..route
                }
            })
            .collect();
        RouteTable::new(routes).expect("the rollback routes are valid")
    }

    /// The routes, in table order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The routes that answer a prompt with text (a video route does not).
    pub fn chat_routes(&self) -> Vec<Route> {
        self.routes
            .iter()
            .filter(|route| route.chat_settings().is_some())
            .cloned()
            .collect()
    }

    /// The route for `task`, or the default route when the table has none for it.
    pub fn route(&self, task: TaskType) -> &Route {
        self.routes
            .iter()
            .find(|route| route.task == task)
            .unwrap_or_else(|| self.default_route())
    }

    /// The route for a task named in a request; unknown names get the default route.
    pub fn route_for_name(&self, task: &str) -> &Route {
        match TaskType::parse(task) {
            Some(task) => self.route(task),
            None => self.default_route(),
        }
    }

    /// The route unknown tasks use: `script_draft`'s.
    pub fn default_route(&self) -> &Route {
        self.routes
            .iter()
            .find(|route| route.task == TaskType::DEFAULT)
            .expect("a route table always has the default route")
    }

    /// Adds or replaces the route of `route.task`; refused if the route is invalid.
    pub fn set_route(&mut self, route: Route) -> Result<(), Vec<RouteError>> {
        let problems = route.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        match self
            .routes
            .iter_mut()
            .find(|existing| existing.task == route.task)
        {
            Some(existing) => *existing = route,
            None => self.routes.push(route),
        }
        Ok(())
    }

    /// Removes the route of `task` (which then uses the default route); the default route
    /// itself cannot be removed.
    pub fn remove_route(&mut self, task: TaskType) -> Result<Option<Route>, RouteError> {
        if task == TaskType::DEFAULT {
            return Err(RouteError::MissingDefault);
        }
        let index = self.routes.iter().position(|route| route.task == task);
        Ok(index.map(|index| self.routes.remove(index)))
    }
}

impl Default for RouteTable {
    fn default() -> RouteTable {
        RouteTable::seed_defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(table: &RouteTable, task: &str, model: &str, temperature: &str, max_tokens: u32) {
        let route = table.route_for_name(task);
        assert_eq!(route.model, model, "{task}");
        let chat = route.chat_settings().unwrap();
        assert_eq!(chat.temperature.to_string(), temperature, "{task}");
        assert_eq!(chat.max_tokens, max_tokens, "{task}");
    }

    #[test]
    fn seed_table() {
        let table = RouteTable::seed_defaults();
        check(&table, "script_draft", "deepseek-v3.2", "0.7", 8000);
        check(
            &table,
            "dialogue_emotion",
            "claude-sonnet-4.5",
            "0.85",
            2048,
        );
        check(&table, "subtitle_timing", "gemini-2.5-flash", "0.3", 4096);
        check(&table, "character_voice", "gpt-4.1", "0.5", 3072);
        check(&table, "narrative", "deepseek-v3.2", "0.7", 2000);
        check(&table, "storyboard", "gemini-2.5-flash", "0.3", 1500);
        check(&table, "something_new", "deepseek-v3.2", "0.7", 8000);
        let storyboard = table.route(TaskType::Storyboard).chat_settings().unwrap();
        assert_eq!(
            storyboard.response_format.to_request_json(),
            Some(serde_json::json!({"type": "json_object"}))
        );
        let video = table.route(TaskType::Video).video_settings().unwrap();
        assert_eq!(
            (video.seconds_per_clip, video.resolution),
            (5, Resolution::P1080)
        );
    }

    #[test]
    fn rollback_table() {
        let table = RouteTable::official_rollback();
        let claude = table.route(TaskType::DialogueEmotion);
        assert_eq!(claude.model, "claude-sonnet-4-5");
        assert_eq!(
            claude.endpoint.as_deref(),
            Some("https://api.anthropic.com/v1")
        );
        let script = table.route(TaskType::ScriptDraft);
        assert_eq!(
            (script.model.as_str(), script.endpoint.as_deref()),
            ("gpt-4.1", Some("https://api.openai.com/v1"))
        );
    }

    #[test]
    fn edits_are_validated() {
        let mut table = RouteTable::seed_defaults();
        assert_eq!(
            Temperature::parse("2.01"),
            Err(RouteError::TemperatureOutOfRange)
        );
        assert_eq!(
            Temperature::parse("-0.1"),
            Err(RouteError::TemperatureOutOfRange)
        );
        assert_eq!(
            Temperature::parse("0.855"),
            Err(RouteError::TemperatureOutOfRange)
        );
        assert_eq!(Temperature::parse("2").unwrap().hundredths(), 200);

        let mut bad = Route::chat(TaskType::Narrative, " ", 70, 0);
        bad.fallbacks.push(String::new());
        assert_eq!(
            table.set_route(bad),
            Err(vec![
                RouteError::EmptyModel(TaskType::Narrative),
                RouteError::EmptyFallback(TaskType::Narrative),
                RouteError::MaxTokensOutOfRange(TaskType::Narrative),
            ])
        );
        let mut good = Route::chat(TaskType::Narrative, "qwen-max", 90, 4000);
        good.fallbacks = vec!["deepseek-v3.2".into(), "gpt-4.1".into()];
        table.set_route(good).unwrap();
        assert_eq!(
            table
                .route(TaskType::Narrative)
                .models()
                .collect::<Vec<_>>(),
            ["qwen-max", "deepseek-v3.2", "gpt-4.1"]
        );
        assert_eq!(
            table.remove_route(TaskType::ScriptDraft),
            Err(RouteError::MissingDefault)
        );
        table.remove_route(TaskType::Narrative).unwrap();
        assert_eq!(table.route(TaskType::Narrative).task, TaskType::ScriptDraft);
    }

    #[test]
    fn tables_round_trip_and_refuse_bad_json() {
        let table = RouteTable::seed_defaults();
        let json = serde_json::to_string(&table).unwrap();
        assert!(json.contains(r#""temperature":0.85"#), "{json}");
        assert_eq!(serde_json::from_str::<RouteTable>(&json).unwrap(), table);
        let no_default = r#"[{"task":"video","model":"v","settings":{"kind":"video","seconds_per_clip":5,"resolution":"1080p"}}]"#;
        let error = serde_json::from_str::<RouteTable>(no_default)
            .unwrap_err()
            .to_string();
        assert!(error.contains("default route"), "{error}");
        let hot = r#"[{"task":"script_draft","model":"m","settings":{"kind":"chat","temperature":2.5,"max_tokens":10}}]"#;
        assert!(serde_json::from_str::<RouteTable>(hot).is_err());
    }

    #[test]
    fn settings_read_their_tagged_shape() {
        let read = |json: &str| serde_json::from_str::<RouteSettings>(json);
        // A chat route: response_format is optional (text), a schema is strict unless it says not.
        assert_eq!(
            read(r#"{"kind":"chat","temperature":0.3,"max_tokens":20}"#).unwrap(),
            RouteSettings::Chat(ChatSettings {
                temperature: Temperature::from_hundredths(30).unwrap(),
                max_tokens: 20,
                response_format: ResponseFormat::Text,
            })
        );
        let schema = r#"{"kind":"chat","temperature":0,"max_tokens":5,"response_format":{"type":"json_schema","name":"s","schema":{"type":"object"}}}"#;
        let RouteSettings::Chat(chat) = read(schema).unwrap() else {
            panic!("a chat route");
        };
        assert_eq!(
            chat.response_format,
            ResponseFormat::JsonSchema {
                name: "s".into(),
                schema: serde_json::json!({"type": "object"}),
                strict: true,
            }
        );
        let loose = schema.replace(r#""name":"s""#, r#""name":"s","strict":false"#);
        let RouteSettings::Chat(chat) = read(&loose).unwrap() else {
            panic!("a chat route");
        };
        assert!(matches!(
            chat.response_format,
            ResponseFormat::JsonSchema { strict: false, .. }
        ));
        // What is written reads back, for every variant.
        for settings in [
            RouteSettings::Chat(chat),
            RouteSettings::Video(VideoSettings {
                seconds_per_clip: 5,
                resolution: Resolution::P1080,
            }),
        ] {
            let json = serde_json::to_string(&settings).unwrap();
            assert_eq!(read(&json).unwrap(), settings, "{json}");
        }
        // Missing or unknown parts are named.
        let error = |json: &str| read(json).unwrap_err().to_string();
        assert!(error(r#"{"kind":"chat","max_tokens":5}"#).contains("missing field `temperature`"));
        assert!(error(r#"{"kind":"video","seconds_per_clip":5}"#).contains("`resolution`"));
        assert!(error(r#"{"temperature":0.3,"max_tokens":5}"#).contains("`kind`"));
        assert!(error(r#"{"kind":"audio"}"#).contains("unknown variant `audio`"));
        assert!(error(
            r#"{"kind":"chat","temperature":0,"max_tokens":5,"response_format":{"type":"json_schema","schema":{}}}"#
        )
        .contains("missing field `name`"));
        assert!(error(
            r#"{"kind":"chat","temperature":0,"max_tokens":5,"response_format":{"type":"xml"}}"#
        )
        .contains("unknown variant `xml`"));
    }

    #[test]
    fn every_error_speaks_both_languages() {
        let errors = [
            RouteError::EmptyModel(TaskType::Video),
            RouteError::EmptyFallback(TaskType::Video),
            RouteError::BadEndpoint(TaskType::Video),
            RouteError::TemperatureOutOfRange,
            RouteError::MaxTokensOutOfRange(TaskType::Video),
            RouteError::EmptySchemaName(TaskType::Video),
            RouteError::ClipSecondsOutOfRange(TaskType::Video),
            RouteError::MissingDefault,
            RouteError::DuplicateTask(TaskType::Video),
        ];
        for error in errors {
            assert_ne!(error.message(Lang::ZhCn), error.message(Lang::En));
        }
        let schema = ResponseFormat::JsonSchema {
            name: "shots".into(),
            schema: serde_json::json!({"type": "object"}),
            strict: true,
        };
        assert_eq!(
            schema.to_request_json().unwrap()["json_schema"]["strict"],
            true
        );
    }

    #[test]
    fn the_chat_routes_leave_out_the_video_route() {
        let table = RouteTable::seed_defaults();
        let chat: Vec<TaskType> = table.chat_routes().iter().map(|r| r.task).collect();
        assert!(!chat.is_empty());
        assert!(!chat.contains(&TaskType::Video));
        assert_eq!(
            chat.len() + 1,
            table.routes().len(),
            "every route but video"
        );
    }
}
