//! The Playground: run any chat route of the book on the active connection with a prompt and
//! watch the reply arrive, then read its tokens, latency, first-token time and cost.
//!
//! The reply is rendered as text, never as HTML. The call runs through the executor
//! ([`crate::web::exec::once`], via the Studio's batch service): stored before it is sent, sent
//! once, and every call (answered, failed, cut short or cancelled) priced and appended to the
//! ledger; a cut or cancelled stream records the usage estimated from what arrived, flagged. Whatever
//! happens, the call ends with Run enabled again and Cancel disabled: a 429 never leaves the
//! panel stuck.

use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::format_count;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::ChatMessage;
use crate::domain::provider::routing::{Route, TaskType};
use crate::ui::common::ledger_view::{exact_amount, millis};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::ui::studio::batch_panel::{use_batch_service, BatchProblem, OnceCall};
use crate::ui::studio::route_picker::{route_label, RouteOptions};
use crate::web::exec::once::OnceOptions;
use crate::web::http::{CallOptions, CancelHandle, DEFAULT_TIMEOUT_MS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

/// The time limits offered, in milliseconds (0 for none), with their labels.
const TIMEOUTS: [(u32, &str, &str); 6] = [
    (15_000, "15 秒", "15 s"),
    (30_000, "30 秒", "30 s"),
    (DEFAULT_TIMEOUT_MS, "60 秒", "60 s"),
    (120_000, "2 分钟", "2 min"),
    (300_000, "5 分钟", "5 min"),
    (0, "不限", "None"),
];

/// Why a run did not start, or how it failed.
#[derive(Clone, Debug, PartialEq)]
enum RunProblem {
    /// No connection is active.
    NoConnection,
    /// The active connection has no key.
    NoKey,
    /// The prompt is empty.
    EmptyPrompt,
    /// The call failed.
    Api(ApiError),
    /// The call was not sent (not stored, or refused by the budget).
    NotSent(BatchProblem),
}

impl RunProblem {
    /// A stable identifier for `data-kind`.
    fn kind(&self) -> &'static str {
        match self {
            RunProblem::NoConnection => "no_connection",
            RunProblem::NoKey => "no_key",
            RunProblem::EmptyPrompt => "empty_prompt",
            RunProblem::Api(error) => error.kind(),
            RunProblem::NotSent(problem) => problem.kind(),
        }
    }

    /// The message for the user.
    fn message(&self, lang: Lang) -> String {
        match self {
            RunProblem::NoConnection => lang
                .pick(
                    "还没有连接。请先在「设置」中添加一个连接。",
                    "There is no connection yet. Add one in Settings first.",
                )
                .into(),
            RunProblem::NoKey => lang
                .pick(
                    "当前连接还没有填写 API 密钥。请在「设置」中粘贴密钥。",
                    "The active connection has no API key. Paste the key in Settings.",
                )
                .into(),
            RunProblem::EmptyPrompt => lang
                .pick("请先填写提示词。", "Enter a prompt first.")
                .into(),
            RunProblem::Api(error) => error.message(lang),
            RunProblem::NotSent(problem) => problem.message(lang),
        }
    }

    /// What the user can do next, when sending again may work.
    fn retry_hint(&self, lang: Lang) -> Option<String> {
        let RunProblem::Api(error) = self else {
            return None;
        };
        if error.may_be_billed() {
            return Some(
                lang.pick(
                    "结果未知：服务商可能已经生成并计费了这次回复，所以没有自动重发；账本按最坏情况（整段提示词加满 max_tokens）记下了它。再点「运行」会发出一次新的、同样计费的请求。",
                    "Outcome unknown: the provider may have generated and billed this reply, so it \
                     was not sent again; the ledger counts it at its worst case (the whole prompt \
                     and every max_tokens). Pressing Run sends a new request, billed again.",
                )
                .into(),
            );
        }
        if !error.can_retry() {
            return None;
        }
        Some(match (error.retry_after_ms(), lang) {
            (Some(ms), Lang::ZhCn) => {
                format!("可以重试：{} 秒后再点「运行」。", ms.div_ceil(1000).max(1))
            }
            (Some(ms), Lang::En) => format!(
                "You can retry in {}s: press Run again.",
                ms.div_ceil(1000).max(1)
            ),
            (None, Lang::ZhCn) => "可以重试：再点「运行」。注意重试是一次新的计费请求。".into(),
            (None, Lang::En) => {
                "You can retry: press Run again. A retry is a new, billed request.".into()
            }
        })
    }
}

/// What the last finished call recorded, shown under the output.
#[derive(Clone, Debug, PartialEq)]
struct RunReport {
    /// The ledger entry of the call (tokens, latency, cost, outcome).
    entry: LedgerEntry,
    /// Milliseconds to the first piece of text, when any arrived.
    first_token_ms: Option<f64>,
}

/// The chosen route's settings in one line.
fn route_settings(route: &Route, lang: Lang) -> String {
    let Some(settings) = route.chat_settings() else {
        return String::new();
    };
    match lang {
        Lang::ZhCn => format!(
            "模型 {} · 温度 {} · 最大输出 {} tokens",
            route.model,
            settings.temperature,
            format_count(u64::from(settings.max_tokens))
        ),
        Lang::En => format!(
            "Model {} · temperature {} · up to {} output tokens",
            route.model,
            settings.temperature,
            format_count(u64::from(settings.max_tokens))
        ),
    }
}

/// The Playground panel: a route, a prompt, streaming on or off, a time limit; Run and Cancel;
/// the reply as it arrives; then its usage and cost, or the error with what to do next.
#[component]
pub fn Playground() -> impl IntoView {
    let state = use_app_state();
    let service = use_batch_service();
    let lang = use_lang();
    let task = RwSignal::new(TaskType::DEFAULT);
    let prompt = RwSignal::new(String::new());
    let stream = RwSignal::new(true);
    let timeout_ms = RwSignal::new(DEFAULT_TIMEOUT_MS);
    let running = RwSignal::new(false);
    let output = RwSignal::new(String::new());
    let report = RwSignal::new(None::<RunReport>);
    let problem = RwSignal::new(None::<RunProblem>);
    let cancel = StoredValue::new_local(None::<CancelHandle>);

    let routes = Memo::new(move |_| state.book.with(|book| book.routes.chat_routes()));
    let route = Memo::new(move |_| {
        state
            .book
            .with(|book| book.routes.route(task.get()).clone())
    });

    let run = move || {
        if running.get_untracked() {
            return;
        }
        let Some(active) = state.connection.get_untracked() else {
            problem.set(Some(RunProblem::NoConnection));
            return;
        };
        if active.key.is_empty() {
            problem.set(Some(RunProblem::NoKey));
            return;
        }
        let text = prompt.get_untracked();
        if text.trim().is_empty() {
            problem.set(Some(RunProblem::EmptyPrompt));
            return;
        }
        let route = route.get_untracked();
        let handle = CancelHandle::new();
        cancel.set_value(Some(handle.clone()));
        let options = OnceOptions {
            stream: stream.get_untracked(),
            call: CallOptions {
                timeout_ms: timeout_ms.get_untracked(),
                cancel: Some(handle),
            },
        };
        let streaming = options.stream;
        output.set(String::new());
        report.set(None);
        problem.set(None);
        running.set(true);
        let call = OnceCall {
            label: route_label(&route, Lang::En),
            messages: vec![ChatMessage::user(text)],
            route,
            project: None,
            project_budget: None,
        };
        spawn_local(async move {
            let on_delta = move |delta: &str| {
                output.try_update(|text| text.push_str(delta));
            };
            match service.call_once(call, options, on_delta).await {
                Ok(done) => {
                    if !streaming {
                        output.try_set(done.output.unwrap_or_default());
                    }
                    report.try_set(Some(RunReport {
                        entry: done.entry,
                        first_token_ms: done.first_token_ms,
                    }));
                    problem.try_set(done.error.map(RunProblem::Api));
                }
                Err(e) => {
                    problem.try_set(Some(RunProblem::NotSent(e)));
                }
            }
            cancel.try_set_value(None);
            running.try_set(false);
        });
    };
    let stop = move |_| {
        cancel.with_value(|handle| {
            if let Some(handle) = handle {
                handle.cancel();
            }
        });
    };
    let choose_route = move |ev| {
        if let Some(chosen) = TaskType::parse(&event_target_value(&ev)) {
            task.set(chosen);
        }
    };
    let choose_timeout = move |ev| {
        if let Ok(ms) = event_target_value(&ev).parse::<u32>() {
            timeout_ms.set(ms);
        }
    };

    let run_label = t("运行", "Run");
    let running_label = t("运行中…", "Running…");
    let connection_line = move || match state.connection.get() {
        Some(active) => view! {
            <p class="ds-field__hint" data-testid="play-connection">
                {t("调用连接：", "Calls go to: ")}
                <strong>{active.connection.name.clone()}</strong>
                " "
                <span class="ds-mono">{active.connection.base_url.clone()}</span>
            </p>
        }
        .into_any(),
        None => view! {
            <p class="ds-alert ds-alert--warn" data-testid="play-connection">
                {t("还没有连接。", "No connection yet. ")}
                <A href="/settings">{t("去设置添加", "Add one in Settings")}</A>
            </p>
        }
        .into_any(),
    };
    let usage = move || {
        report.get().map(|report| {
            let entry = report.entry;
            let first_token = report
                .first_token_ms
                .map(millis)
                .unwrap_or_else(|| "—".into());
            let cost = entry.cost();
            let estimated = entry.estimated;
            let unpriced = entry.unpriced;
            view! {
                <dl class="ds-play-usage" data-testid="play-usage" data-estimated=estimated.to_string()>
                    <div>
                        <dt>{t("输入 tokens", "Prompt tokens")}</dt>
                        <dd data-testid="play-prompt-tokens">{format_count(entry.prompt_tokens)}</dd>
                    </div>
                    <div>
                        <dt>{t("其中缓存", "Cached")}</dt>
                        <dd data-testid="play-cached-tokens">{format_count(entry.cached_tokens)}</dd>
                    </div>
                    <div>
                        <dt>{t("输出 tokens", "Completion tokens")}</dt>
                        <dd data-testid="play-completion-tokens">{format_count(entry.completion_tokens)}</dd>
                    </div>
                    <div>
                        <dt>{t("耗时", "Latency")}</dt>
                        <dd data-testid="play-latency">{millis(entry.latency_ms)}</dd>
                    </div>
                    <div>
                        <dt>{t("首字时间", "First token")}</dt>
                        <dd data-testid="play-first-token">{first_token}</dd>
                    </div>
                </dl>
                <p class="ds-play-cost" data-testid="play-cost">
                    {t("费用：", "Cost: ")}
                    <span data-testid="play-cost-usd">{exact_amount(cost.usd)}</span>
                    " · "
                    <span data-testid="play-cost-cny">{exact_amount(cost.cny)}</span>
                    <Show when=move || estimated>
                        " "<span class="ds-tag" data-testid="play-estimated">{t("用量为估算", "estimated usage")}</span>
                    </Show>
                    <Show when=move || unpriced>
                        " "<span class="ds-tag">{t("价格表中缺少此模型的价格", "no price for this model in the catalog")}</span>
                    </Show>
                </p>
            }
        })
    };
    let error = move || {
        problem.get().map(|problem| {
            let kind = problem.kind();
            let message = {
                let problem = problem.clone();
                move || problem.message(lang.get())
            };
            let unknown = matches!(&problem, RunProblem::Api(error) if error.may_be_billed());
            let hint = move || problem.retry_hint(lang.get());
            view! {
                <div class="ds-alert ds-alert--error" role="alert" data-testid="play-error" data-kind=kind data-outcome-unknown=unknown.to_string()>
                    <p class="ds-play-error__message">{message}</p>
                    {move || hint().map(|hint| view! {
                        <p class="ds-play-error__hint" data-testid="play-retry-hint">{hint}</p>
                    })}
                </div>
            }
        })
    };

    view! {
        <section class="ds-card ds-play-panel" data-testid="playground" aria-labelledby="play-title">
            <h2 id="play-title">{t("试运行", "Playground")}</h2>
            {connection_line}
            <div class="ds-play-controls">
                <div class="ds-field">
                    <label for="play-route">{t("路由（任务 · 模型）", "Route (task · model)")}</label>
                    <select id="play-route" data-testid="play-route" on:change=choose_route>
                        <RouteOptions routes task/>
                    </select>
                    <span class="ds-field__hint" data-testid="play-route-settings">
                        {move || route.with(|route| route_settings(route, lang.get()))}
                    </span>
                </div>
                <div class="ds-field">
                    <label for="play-timeout">{t("超时", "Timeout")}</label>
                    <select id="play-timeout" data-testid="play-timeout" on:change=choose_timeout>
                        {TIMEOUTS
                            .iter()
                            .map(|(ms, zh, en)| {
                                let ms = *ms;
                                view! {
                                    <option value=ms.to_string() selected=move || timeout_ms.get() == ms>{t(zh, en)}</option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <span class="ds-field__hint">{t(
                        "流式输出时，指等待下一段内容的最长时间。",
                        "When streaming, the longest wait for the next piece of the reply.",
                    )}</span>
                </div>
            </div>
            <div class="ds-field">
                <label for="play-prompt">{t("提示词", "Prompt")}</label>
                <textarea
                    id="play-prompt"
                    data-testid="play-prompt"
                    rows="5"
                    prop:value=move || prompt.get()
                    on:input=move |ev| prompt.set(event_target_value(&ev))
                ></textarea>
            </div>
            <div class="ds-play-actions">
                <label class="ds-check" for="play-stream">
                    <input
                        type="checkbox"
                        id="play-stream"
                        data-testid="play-stream"
                        prop:checked=move || stream.get()
                        on:change=move |ev| stream.set(event_target_checked(&ev))
                    />
                    {t("流式输出", "Stream the reply")}
                </label>
                <button
                    type="button"
                    class="ds-btn"
                    data-testid="play-run"
                    disabled=move || running.get()
                    on:click=move |_| run()
                >
                    {move || if running.get() { running_label() } else { run_label() }}
                </button>
                <button
                    type="button"
                    class="ds-btn ds-btn--ghost"
                    data-testid="play-cancel"
                    disabled=move || !running.get()
                    on:click=stop
                >
                    {t("取消", "Cancel")}
                </button>
            </div>
            {error}
            <h3 class="ds-play-output__title" id="play-output-title">{t("输出", "Output")}</h3>
            <pre
                class="ds-play-output"
                data-testid="play-output"
                data-running=move || running.get().to_string()
                aria-busy=move || running.get().to_string()
            >
                {move || output.get()}
            </pre>
            <div role="status" aria-live="polite">{usage}</div>
        </section>
    }
}
