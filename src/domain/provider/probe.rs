//! The connection test's report: the steps a browser takes to call a provider, which one
//! failed, and what to do about it, in zh-CN and en.
//!
//! A page cannot watch a CORS preflight; it only sees a `fetch` that answers or is refused. The
//! test ([`crate::web::probe`] for the free steps, the executor for the paid one) therefore
//! infers each step from requests it can make:
//!
//! 1. [`Step::Preflight`]: `GET /models` with the key headers needs a preflight. Any HTTP answer
//!    proves the preflight passed. A refusal of a server that answers simple requests is a
//!    refused preflight ([`Problem::PreflightRefused`]), or, when the same request with fewer
//!    headers gets through, a refused header ([`Problem::HeaderRefused`]). A server that
//!    answers nothing is unreachable.
//! 2. [`Step::Models`]: the model list. 401/403 about the key stops the test (the key is the
//!    fix); 404/405/501 means the provider has no list, which is no failure.
//! 3. [`Step::Post`]: the preflight of the real `POST`. Refused, the `POST` is never sent and
//!    nothing is billed; after the `GET` passed, the same `POST` is retried with an empty JSON
//!    object (which providers refuse with a 400 before any generation) and fewer headers: a
//!    relay that blocks `POST` refuses even the key header alone ([`Problem::PostBlocked`]),
//!    otherwise the header only the `POST` carries is named. (No such check runs before the
//!    real request: its 400 would be one more failed request in every passing test.)
//! 4. [`Step::Completion`]: the real one-token request, through the executor and the ledger.
//!
//! The key never reaches a message: messages are built from fixed text, header names, model
//! ids, counts and [`ApiError`] messages (which are redacted before they are kept).

use crate::domain::cost::money::format_count;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::{classify, ApiError};
use crate::domain::provider::connection::{
    headers_for, validate_base_url, ApiKey, Connection, Preset, Protocol,
};
use crate::domain::provider::messages::messages_headers;
use crate::domain::provider::ratelimit::RateLimitHeaders;

/// The host of Gemini's OpenAI-compatible endpoint, which refuses calls from browsers.
pub const GEMINI_HOST: &str = "generativelanguage.googleapis.com";
/// The host of OpenRouter, which refuses the `OpenAI-Beta` header some SDKs add.
pub const OPENROUTER_HOST: &str = "openrouter.ai";

/// The body of the `POST`s that name a refused header: no model and no messages, so a provider
/// that lets one through answers 400 before generating anything.
pub const EMPTY_BODY: &str = "{}";

/// One step of the connection test, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The browser's CORS preflight for a request carrying the key.
    Preflight,
    /// `GET /models`.
    Models,
    /// The preflight of the `POST` (a refused one sends nothing).
    Post,
    /// The real one-token `POST`.
    Completion,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 4] = [Step::Preflight, Step::Models, Step::Post, Step::Completion];

    /// A stable name for tests and `data-step`.
    pub fn id(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::Models => "models",
            Step::Post => "post",
            Step::Completion => "completion",
        }
    }

    /// What the step is, for the list shown to the user.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Step::Preflight => lang.pick(
                "CORS 预检：浏览器先询问服务器是否允许本页带密钥调用",
                "CORS preflight: the browser asks whether this page may call with the key",
            ),
            Step::Models => lang.pick(
                "GET /models：读取模型列表（不计费）",
                "GET /models: the model list (free)",
            ),
            Step::Post => lang.pick(
                "POST 预检：浏览器询问是否允许发送 POST（被拒绝时请求不会发出，也不计费）",
                "POST preflight: whether the browser may send the POST (refused, nothing is \
                 sent or billed)",
            ),
            Step::Completion => lang.pick(
                "1 token 的真实请求（计入账本）",
                "A real one-token request (recorded in the ledger)",
            ),
        }
    }
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not run yet.
    Pending,
    /// Passed.
    Ok,
    /// Failed: the report's [`ProbeReport::failure`] says why.
    Failed,
    /// Not run (an earlier step failed), or nothing to check (no model list).
    Skipped,
}

impl Status {
    /// A stable name for tests and `data-status`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// What a step found, beside its status.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// The model list held this many models.
    Models(usize),
    /// The provider has no model list (this status), which does not stop calls.
    NoModelList(u16),
    /// The server answered with this status (not a CORS refusal; the next step tells more).
    Answered(u16),
    /// The one-token request was answered.
    Completed {
        /// Milliseconds it took.
        latency_ms: f64,
        /// The model that answered.
        model: String,
    },
}

impl Note {
    /// The note's text.
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (Note::Models(n), Lang::ZhCn) => format!("{} 个模型", format_count(*n as u64)),
            (Note::Models(n), Lang::En) => format!("{} models", format_count(*n as u64)),
            (Note::NoModelList(status), Lang::ZhCn) => {
                format!("该服务没有模型列表（{status}），不影响调用")
            }
            (Note::NoModelList(status), Lang::En) => {
                format!("no model list here ({status}); calls are not affected")
            }
            (Note::Answered(status), Lang::ZhCn) => format!("服务器已应答（{status}）"),
            (Note::Answered(status), Lang::En) => format!("the server answered ({status})"),
            (Note::Completed { latency_ms, model }, Lang::ZhCn) => {
                format!("{model}，{}", millis(*latency_ms))
            }
            (Note::Completed { latency_ms, model }, Lang::En) => {
                format!("{model}, {}", millis(*latency_ms))
            }
        }
    }
}

/// `1,234 ms`.
fn millis(ms: f64) -> String {
    format!("{} ms", format_count(ms.max(0.0).round() as u64))
}

/// Why the test failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// The server answers simple requests but refuses the preflight of any request carrying the
    /// key (Gemini's OpenAI-compatible endpoint refuses every preflight).
    PreflightRefused,
    /// The preflight is refused because of these request headers: the request without them
    /// gets through. Lower-case names, in the order sent.
    HeaderRefused {
        /// The refused headers.
        headers: Vec<String>,
    },
    /// `GET` gets through, `POST` does not, whatever its headers: a relay that allows reading
    /// the model list from a browser and blocks `POST`.
    PostBlocked,
    /// A failure with an HTTP answer or none at all ([`ApiError`]: a wrong key, an unreachable
    /// server, a rejected one-token request).
    Api(ApiError),
}

impl Problem {
    /// A stable name for tests and `data-kind`: the [`ApiError::kind`] for [`Problem::Api`].
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::PreflightRefused => "preflight_refused",
            Problem::HeaderRefused { .. } => "header_refused",
            Problem::PostBlocked => "post_blocked",
            Problem::Api(error) => error.kind(),
        }
    }

    /// True for the refusals CORS makes (where the provider hints apply).
    pub fn is_cors(&self) -> bool {
        matches!(
            self,
            Problem::PreflightRefused
                | Problem::HeaderRefused { .. }
                | Problem::PostBlocked
                | Problem::Api(ApiError::Network { .. })
        )
    }

    /// What went wrong and what to do.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Problem::PreflightRefused => lang
                .pick(
                    "CORS 预检被拒绝：服务器在线，但不允许网页带着密钥调用它，浏览器因此没有发出请求。这不是密钥的问题。请换用允许浏览器直接调用的中转服务，或请服务商在 CORS 设置中放行本站来源与密钥请求头。",
                    "The CORS preflight was refused: the server is up but does not let a web page \
                     call it with a key, so the browser never sent the request. The key is not \
                     the problem. Use a relay that allows calls from browsers, or ask the \
                     provider to allow this site's origin and the key header in its CORS \
                     settings.",
                )
                .to_string(),
            Problem::HeaderRefused { headers } => {
                let names = headers.join(", ");
                let fix = headers
                    .iter()
                    .map(|name| header_fix(name, lang))
                    .collect::<Vec<_>>()
                    .join(" ");
                match lang {
                    Lang::ZhCn => format!(
                        "服务器的 CORS 预检拒绝了请求头 {names}：不带它的同一请求可以通过。{fix}"
                    ),
                    Lang::En => format!(
                        "The server's CORS preflight refuses the request header {names}: the same \
                         request without it gets through. {fix}"
                    ),
                }
            }
            Problem::PostBlocked => lang
                .pick(
                    "GET 可以通过，POST 被拦截：该服务（多为中转）允许浏览器读取模型列表，却拒绝了 POST 的 CORS 预检，所以无法生成内容。请让中转在 Access-Control-Allow-Methods 中放行 POST，或换用其他中转。",
                    "GET gets through but POST is blocked: this service (usually a relay) lets a \
                     browser read the model list but refuses the CORS preflight for POST, so \
                     nothing can be generated. Ask the relay to allow POST in \
                     Access-Control-Allow-Methods, or use another relay.",
                )
                .to_string(),
            Problem::Api(error) => error.message(lang),
        }
    }
}

/// What to do about one refused header.
fn header_fix(name: &str, lang: Lang) -> &'static str {
    match name {
        "anthropic-dangerous-direct-browser-access" => lang.pick(
            "这是 Anthropic 的浏览器直连许可头：若连的是 Anthropic 官方，你的组织可能关闭了浏览器访问，请在 Anthropic 控制台开启；若连的是中转，请改用「自定义」预设并选 Anthropic Messages 协议，这样不会发送此头。",
            "It is Anthropic's opt-in for calls from browsers: on Anthropic's own API your \
             organisation may have turned browser access off (turn it on in the Anthropic \
             console); for a relay, use the Custom preset with the Anthropic Messages protocol, \
             which does not send it.",
        ),
        "anthropic-version" => lang.pick(
            "Anthropic Messages 协议必须带此头：该服务不接受浏览器以 Messages 协议调用，请把协议改为 OpenAI 兼容，或换用其他中转。",
            "The Anthropic Messages protocol needs it: this service does not take Messages calls \
             from browsers. Switch the protocol to OpenAI-compatible, or use another relay.",
        ),
        "openai-beta" => lang.pick(
            "OpenRouter 等服务拒绝 OpenAI-Beta 请求头；本应用从不发送它，可能是浏览器扩展或代理加上的，请关闭它们再试。",
            "OpenRouter and others refuse the OpenAI-Beta header. This app never sends it: a \
             browser extension or proxy may add it, so turn those off and try again.",
        ),
        _ => lang.pick(
            "请让服务商在 Access-Control-Allow-Headers 中放行它，或换用其他中转。",
            "Ask the provider to allow it in Access-Control-Allow-Headers, or use another relay.",
        ),
    }
}

/// A provider whose browser rules are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderHint {
    /// Gemini's OpenAI-compatible endpoint refuses every preflight.
    Gemini,
    /// OpenRouter refuses `OpenAI-Beta` (which this app never sends).
    OpenRouter,
}

impl ProviderHint {
    /// The hint for `conn`, from its preset or its host.
    pub fn of(conn: &Connection) -> Option<ProviderHint> {
        let host = validate_base_url(&conn.base_url).ok().map(|url| {
            let origin = url.origin();
            let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            rest.split(':').next().unwrap_or(rest).to_string()
        });
        let on = |wanted: &str| {
            host.as_deref()
                .is_some_and(|host| host == wanted || host.ends_with(&format!(".{wanted}")))
        };
        if on(GEMINI_HOST) {
            Some(ProviderHint::Gemini)
        } else if conn.preset == Preset::OpenRouter || on(OPENROUTER_HOST) {
            Some(ProviderHint::OpenRouter)
        } else {
            None
        }
    }

    /// The hint's text.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            ProviderHint::Gemini => lang.pick(
                "提示：Gemini 的 OpenAI 兼容端点（generativelanguage.googleapis.com）不接受浏览器直接调用，请通过允许浏览器调用的中转使用 Gemini。",
                "Note: Gemini's OpenAI-compatible endpoint (generativelanguage.googleapis.com) \
                 refuses calls from browsers: reach Gemini through a relay that allows them.",
            ),
            ProviderHint::OpenRouter => lang.pick(
                "提示：OpenRouter 拒绝带 OpenAI-Beta 请求头的浏览器请求（一些 SDK 会加上它）；本应用只发送协议需要的请求头，从不发送它。",
                "Note: OpenRouter refuses browser requests with the OpenAI-Beta header (some SDKs \
                 add it); this app sends only the headers the protocol needs, never that one.",
            ),
        }
    }
}

/// The headers the test sends on `conn`: for a `GET` (`post` false) no `Content-Type` (it has
/// no body), for a `POST` the chat call's headers. Names are lower-case.
pub fn probe_headers(conn: &Connection, key: &ApiKey, post: bool) -> Vec<(&'static str, String)> {
    let mut headers: Vec<(&'static str, String)> = match conn.protocol() {
        Protocol::OpenAiChat => headers_for(key)
            .into_iter()
            .map(|(name, value)| (lower(name), value))
            .collect(),
        Protocol::AnthropicMessages => messages_headers(key)
            .into_iter()
            .map(|(name, value)| (lower(name), value))
            .collect(),
    };
    headers.extend(
        conn.browser_headers()
            .iter()
            .map(|(name, value)| (lower(name), value.to_string())),
    );
    if !post {
        headers.retain(|(name, _)| *name != "content-type");
    }
    headers
}

/// The header that carries the key: the one a request cannot do without.
pub fn is_key_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-api-key")
}

/// The lower-case spelling of the few header names the app sends.
fn lower(name: &'static str) -> &'static str {
    match name {
        "Authorization" => "authorization",
        "Content-Type" => "content-type",
        other => other,
    }
}

/// What a refused request with all its headers says, given whether the same request with only
/// the key header got through (`minimal_passed`) and which headers, added alone to it, were
/// refused.
pub fn diagnose_refusal(post: bool, minimal_passed: bool, refused: Vec<String>) -> Problem {
    match (minimal_passed, refused.is_empty(), post) {
        (true, false, _) => Problem::HeaderRefused { headers: refused },
        (_, _, true) => Problem::PostBlocked,
        (_, _, false) => Problem::PreflightRefused,
    }
}

/// What the model list's answer means.
#[derive(Clone, Debug, PartialEq)]
pub enum ListingVerdict {
    /// A list (of this many models, when it parsed).
    Listed(Option<usize>),
    /// No list on this provider: go on.
    NoList(u16),
    /// Another answer (rate limit, server error): not a CORS refusal; go on.
    Answered(u16),
    /// The key was refused: stop.
    Failed(ApiError),
}

/// Classifies the answer to `GET /models`: `status`, and the body already redacted of the key.
pub fn classify_listing(status: u16, body: &str) -> ListingVerdict {
    if (200..300).contains(&status) {
        let count = crate::domain::provider::model_map::parse_model_list(body)
            .ok()
            .map(|list| list.models.len());
        return ListingVerdict::Listed(count);
    }
    if matches!(status, 404 | 405 | 501) {
        return ListingVerdict::NoList(status);
    }
    match classify(status, body, &RateLimitHeaders::default()) {
        ApiError::InvalidKey => ListingVerdict::Failed(ApiError::InvalidKey),
        _ => ListingVerdict::Answered(status),
    }
}

/// Whether the real request's failure is one with no answer at all: after the `GET` passed,
/// its preflight was refused (or the server went away), so it was never sent.
pub fn refused_before_sending(error: &ApiError) -> bool {
    matches!(error, ApiError::Network { .. })
}

/// One step's line in the report.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// Where it stands.
    pub status: Status,
    /// What it found.
    pub note: Option<Note>,
}

/// The connection test's report: every step in order, the failure if one failed, and the
/// provider hint.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeReport {
    steps: Vec<StepReport>,
    failure: Option<(Step, Problem)>,
    hint: Option<ProviderHint>,
}

impl ProbeReport {
    /// A report for `conn` with every step pending.
    pub fn new(conn: &Connection) -> ProbeReport {
        ProbeReport {
            steps: Step::ALL
                .into_iter()
                .map(|step| StepReport {
                    step,
                    status: Status::Pending,
                    note: None,
                })
                .collect(),
            failure: None,
            hint: ProviderHint::of(conn),
        }
    }

    fn set(&mut self, step: Step, status: Status, note: Option<Note>) {
        if let Some(line) = self.steps.iter_mut().find(|line| line.step == step) {
            line.status = status;
            line.note = note;
        }
    }

    /// Marks `step` passed.
    pub fn pass(&mut self, step: Step, note: Option<Note>) {
        self.set(step, Status::Ok, note);
    }

    /// Marks `step` as having nothing to check.
    pub fn skip(&mut self, step: Step, note: Option<Note>) {
        self.set(step, Status::Skipped, note);
    }

    /// Marks `step` failed with `problem`; the steps still pending are skipped.
    pub fn fail(&mut self, step: Step, problem: Problem) {
        self.set(step, Status::Failed, None);
        self.skip_rest();
        self.failure = Some((step, problem));
    }

    /// Records the one-token request's outcome: `(latency, model)`, or its error. Any answer
    /// means its preflight passed. An error without one ([`refused_before_sending`]) fails the
    /// `POST`'s preflight; the caller names the reason with [`Self::fail`] when it can.
    pub fn complete(&mut self, outcome: Result<(f64, String), ApiError>) {
        match outcome {
            Ok((latency_ms, model)) => {
                self.pass(Step::Post, None);
                self.pass(
                    Step::Completion,
                    Some(Note::Completed { latency_ms, model }),
                );
            }
            Err(error) if refused_before_sending(&error) => {
                self.fail(Step::Post, Problem::Api(error));
            }
            Err(error) => {
                self.pass(Step::Post, None);
                self.fail(Step::Completion, Problem::Api(error));
            }
        }
    }

    /// Marks every step still pending as not run (the test stopped without a verdict).
    pub fn skip_rest(&mut self) {
        for line in &mut self.steps {
            if line.status == Status::Pending {
                line.status = Status::Skipped;
            }
        }
    }

    /// Every step, in order.
    pub fn steps(&self) -> &[StepReport] {
        &self.steps
    }

    /// The status of `step`.
    pub fn status(&self, step: Step) -> Status {
        self.steps
            .iter()
            .find(|line| line.step == step)
            .map_or(Status::Pending, |line| line.status)
    }

    /// The failed step and why.
    pub fn failure(&self) -> Option<(Step, &Problem)> {
        self.failure
            .as_ref()
            .map(|(step, problem)| (*step, problem))
    }

    /// True while nothing failed (the paid step may run once the free ones passed).
    pub fn is_clear(&self) -> bool {
        self.failure.is_none()
    }

    /// `ok` when every step is done and none failed, the failure's [`Problem::kind`], or
    /// `pending`.
    pub fn kind(&self) -> &'static str {
        match &self.failure {
            Some((_, problem)) => problem.kind(),
            None if self.status(Step::Completion) == Status::Ok => "ok",
            None => "pending",
        }
    }

    /// The provider hint shown with this report: only with a CORS refusal.
    pub fn hint(&self) -> Option<ProviderHint> {
        self.hint
            .filter(|_| self.failure().is_some_and(|(_, problem)| problem.is_cors()))
    }

    /// The summary: the failed step, what went wrong and what to do (with the provider hint);
    /// or that the connection works.
    pub fn message(&self, lang: Lang) -> String {
        let Some((step, problem)) = self.failure() else {
            return match self.steps.iter().find_map(|line| match &line.note {
                Some(Note::Completed { latency_ms, model }) => Some((latency_ms, model)),
                _ => None,
            }) {
                Some((latency_ms, model)) => match lang {
                    Lang::ZhCn => format!(
                        "连接正常：{model} 在 {} 内完成了一次 1 token 的请求。",
                        millis(*latency_ms)
                    ),
                    Lang::En => format!(
                        "Connection OK: {model} answered a one-token request in {}.",
                        millis(*latency_ms)
                    ),
                },
                None => lang.pick("正在测试…", "Testing…").to_string(),
            };
        };
        let mut text = match lang {
            Lang::ZhCn => format!(
                "失败的步骤：{}。{}",
                step.label(lang),
                problem.message(lang)
            ),
            Lang::En => format!(
                "Failed step: {}. {}",
                step.label(lang),
                problem.message(lang)
            ),
        };
        if let Some(hint) = self.hint() {
            text.push(' ');
            text.push_str(hint.message(lang));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provider::api_error::NetworkFailure;
    use crate::domain::provider::connection::SANDBOX_KEY;

    const KEY: &str = "sk-test-0123456789abcdef0123456789abcdef";

    fn conn(preset: Preset, base_url: &str) -> Connection {
        Connection {
            base_url: base_url.to_string(),
            ..Connection::from_preset("c", preset, "relay", Lang::ZhCn)
        }
    }

    fn both(report: &ProbeReport) -> (String, String) {
        (report.message(Lang::ZhCn), report.message(Lang::En))
    }

    fn assert_messages(report: &ProbeReport, zh_fix: &str, en_fix: &str) {
        let (zh, en) = both(report);
        assert!(!zh.is_empty() && !en.is_empty());
        assert_ne!(zh, en);
        assert!(zh.contains(zh_fix), "{zh}");
        assert!(en.contains(en_fix), "{en}");
        for text in [&zh, &en] {
            assert!(!text.contains(KEY) && !text.contains(SANDBOX_KEY), "{text}");
        }
    }

    fn failed_at(step: Step, problem: Problem) -> ProbeReport {
        let mut report = ProbeReport::new(&conn(Preset::Custom, "https://relay.example.com/v1"));
        for earlier in Step::ALL.into_iter().take_while(|s| *s != step) {
            report.pass(earlier, None);
        }
        report.fail(step, problem);
        report
    }

    #[test]
    fn steps_start_pending_and_a_failure_skips_the_rest() {
        let report = failed_at(Step::Models, Problem::Api(ApiError::InvalidKey));
        let statuses: Vec<_> = report.steps().iter().map(|l| l.status.id()).collect();
        assert_eq!(statuses, ["ok", "failed", "skipped", "skipped"]);
        assert_eq!(report.failure().map(|(s, _)| s), Some(Step::Models));
        assert_eq!(report.kind(), "invalid_key");
        assert!(!report.is_clear());
        let fresh = ProbeReport::new(&conn(Preset::Custom, "https://relay.example.com/v1"));
        assert!(fresh.steps().iter().all(|l| l.status == Status::Pending));
        assert_eq!(fresh.kind(), "pending");
    }

    #[test]
    fn each_failure_names_its_step_and_fix_in_both_languages() {
        let report = failed_at(Step::Preflight, Problem::PreflightRefused);
        assert_eq!(report.kind(), "preflight_refused");
        assert_messages(&report, "中转", "relay");
        assert!(report.message(Lang::ZhCn).contains("CORS 预检"));

        let report = failed_at(Step::Post, Problem::PostBlocked);
        assert_eq!(report.kind(), "post_blocked");
        assert_messages(&report, "放行 POST", "allow POST");

        let header = Problem::HeaderRefused {
            headers: vec!["anthropic-dangerous-direct-browser-access".into()],
        };
        let report = failed_at(Step::Preflight, header);
        assert_eq!(report.kind(), "header_refused");
        assert_messages(
            &report,
            "anthropic-dangerous-direct-browser-access",
            "anthropic-dangerous-direct-browser-access",
        );
        assert_messages(&report, "自定义", "Custom preset");

        let report = failed_at(Step::Models, Problem::Api(ApiError::InvalidKey));
        assert_messages(&report, "重新粘贴密钥", "Paste the key again");

        let report = failed_at(Step::Preflight, Problem::Api(ApiError::network(false)));
        assert_eq!(report.kind(), "unreachable");
        assert_messages(&report, "Base URL", "base URL");
    }

    #[test]
    fn a_passing_report_says_ok_with_the_model_and_latency() {
        let mut report = ProbeReport::new(&conn(Preset::LocalSandbox, "http://127.0.0.1:8787/v1"));
        report.pass(Step::Preflight, None);
        report.pass(Step::Models, Some(Note::Models(12)));
        assert!(report.is_clear());
        assert_eq!(report.kind(), "pending");
        report.complete(Ok((1234.4, "deepseek-v3.2".into())));
        assert_eq!(report.kind(), "ok");
        assert_eq!(report.status(Step::Post), Status::Ok);
        let (zh, en) = both(&report);
        assert_eq!(
            zh,
            "连接正常：deepseek-v3.2 在 1,234 ms 内完成了一次 1 token 的请求。"
        );
        assert!(en.starts_with("Connection OK: deepseek-v3.2"), "{en}");
        assert_eq!(
            report.steps()[1].note.as_ref().unwrap().text(Lang::En),
            "12 models"
        );
    }

    #[test]
    fn status_codes_are_classified() {
        assert_eq!(
            classify_listing(200, r#"{"data":[{"id":"a"},{"id":"b"}]}"#),
            ListingVerdict::Listed(Some(2))
        );
        assert_eq!(
            classify_listing(200, "<html>"),
            ListingVerdict::Listed(None)
        );
        assert_eq!(classify_listing(404, ""), ListingVerdict::NoList(404));
        assert_eq!(classify_listing(405, ""), ListingVerdict::NoList(405));
        let wrong =
            r#"{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"#;
        assert_eq!(
            classify_listing(401, wrong),
            ListingVerdict::Failed(ApiError::InvalidKey)
        );
        assert_eq!(classify_listing(503, ""), ListingVerdict::Answered(503));
    }

    #[test]
    fn the_real_request_fails_the_post_preflight_only_without_an_answer() {
        let fresh = || ProbeReport::new(&conn(Preset::Custom, "https://relay.example.com/v1"));
        let mut refused = fresh();
        refused.complete(Err(ApiError::network(true)));
        assert_eq!(refused.failure().map(|(s, _)| s), Some(Step::Post));
        assert_eq!(refused.status(Step::Completion), Status::Skipped);
        let mut rejected = fresh();
        rejected.complete(Err(ApiError::ModelNotFound));
        assert_eq!(rejected.status(Step::Post), Status::Ok);
        assert_eq!(rejected.failure().map(|(s, _)| s), Some(Step::Completion));
        assert_eq!(rejected.kind(), "model_not_found");
    }

    #[test]
    fn refusals_are_diagnosed_from_the_retries() {
        assert_eq!(
            diagnose_refusal(false, false, vec![]),
            Problem::PreflightRefused
        );
        assert_eq!(diagnose_refusal(true, false, vec![]), Problem::PostBlocked);
        assert_eq!(
            diagnose_refusal(true, true, vec!["content-type".into()]),
            Problem::HeaderRefused {
                headers: vec!["content-type".into()]
            }
        );
        assert_eq!(
            diagnose_refusal(false, true, vec![]),
            Problem::PreflightRefused
        );
    }

    #[test]
    fn only_the_headers_a_protocol_needs_are_sent() {
        let key = ApiKey::new(KEY);
        let names = |c: &Connection, post: bool| -> Vec<&str> {
            probe_headers(c, &key, post)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        let relay = conn(Preset::OpenRouter, "https://openrouter.ai/api/v1");
        assert_eq!(names(&relay, false), ["authorization"]);
        assert_eq!(names(&relay, true), ["authorization", "content-type"]);
        let anthropic = conn(Preset::Anthropic, "https://api.anthropic.com/v1");
        assert_eq!(
            names(&anthropic, true),
            [
                "x-api-key",
                "anthropic-version",
                "content-type",
                "anthropic-dangerous-direct-browser-access"
            ]
        );
        assert!(names(&relay, true).iter().all(|n| *n != "openai-beta"));
        assert!(is_key_header("x-api-key") && is_key_header("Authorization"));
        assert!(!is_key_header("content-type"));
    }

    #[test]
    fn provider_hints_come_with_cors_refusals_only() {
        let gemini = conn(
            Preset::Custom,
            "https://generativelanguage.googleapis.com/v1beta/openai",
        );
        assert_eq!(ProviderHint::of(&gemini), Some(ProviderHint::Gemini));
        let mut report = ProbeReport::new(&gemini);
        report.fail(Step::Preflight, Problem::PreflightRefused);
        assert_eq!(report.hint(), Some(ProviderHint::Gemini));
        assert!(report.message(Lang::ZhCn).contains("Gemini"));
        assert!(report
            .message(Lang::En)
            .contains("reach Gemini through a relay"));

        let router = conn(Preset::OpenRouter, "https://openrouter.ai/api/v1");
        let mut report = ProbeReport::new(&router);
        report.fail(
            Step::Preflight,
            Problem::Api(ApiError::Network {
                failure: NetworkFailure::CorsBlocked,
            }),
        );
        assert!(report.message(Lang::En).contains("OpenAI-Beta"));
        let mut report = ProbeReport::new(&router);
        report.fail(Step::Models, Problem::Api(ApiError::InvalidKey));
        assert_eq!(report.hint(), None, "a wrong key is not a CORS matter");
        let plain = conn(Preset::Custom, "https://relay.example.com/v1");
        assert_eq!(ProviderHint::of(&plain), None);
    }
}
