//! The usage ledger in the Studio: totals by day, project, task, model or connection, a grand
//! total in $ and ¥, the latest calls, a CSV export and clearing with a confirmation.
//!
//! Calls get into the ledger through the executor (`crate::web::exec`), which stores each
//! entry and then shows it here through the Studio's ledger signal ([`StudioLedger`]).

use crate::domain::cost::ledger::{
    grand_total, ledger_to_csv, timestamp_utc, totals_by, Grouping, LedgerEntry, LedgerTotal,
};
use crate::domain::cost::money::{format_count, format_decimal, Money};
use crate::ui::common::book_editing::ConfirmButton;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::web::files;
use crate::web::idb::{self, StorageError, LEDGER};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The most entries the table lists (the totals and the export cover every entry).
pub const SHOWN_ENTRIES: usize = 200;

/// The Studio's ledger signal, provided by the Studio page so that panels which make calls can
/// show them in the ledger at once.
#[derive(Clone, Copy)]
pub struct StudioLedger(pub RwSignal<Vec<LedgerEntry>>);

/// Reads the whole ledger, oldest first. A damaged record is skipped and reported.
pub async fn load_ledger() -> Result<(Vec<LedgerEntry>, Option<StorageError>), StorageError> {
    let (entries, damaged) = idb::shared().await?.all::<LedgerEntry>(LEDGER).await?;
    Ok((entries, damaged.into_iter().next()))
}

/// An amount to the micro-unit, as the ledger keeps it: `$0.000084`, `¥12.5`.
pub fn exact_amount(money: Money) -> String {
    format!(
        "{}{}",
        money.currency().symbol(),
        format_decimal(money.micros(), 6)
    )
}

/// Milliseconds as a whole number: `812 ms`.
pub fn millis(ms: f64) -> String {
    format!("{} ms", format_count(ms.max(0.0).round() as u64))
}

/// The groupings offered, with their select values and labels.
const GROUPINGS: [(Grouping, &str, &str, &str); 5] = [
    (Grouping::Day, "day", "按日期（UTC）", "By day (UTC)"),
    (Grouping::Project, "project", "按项目", "By project"),
    (Grouping::Task, "task", "按任务", "By task"),
    (Grouping::Model, "model", "按模型", "By model"),
    (
        Grouping::Connection,
        "connection",
        "按连接",
        "By connection",
    ),
];

/// The ledger panel: grand total, totals per group, the latest [`SHOWN_ENTRIES`] calls (most
/// recent first), CSV export and clear.
#[component]
pub fn LedgerView(
    /// Every ledger entry, oldest first; the Studio page loads it and the Playground appends.
    ledger: RwSignal<Vec<LedgerEntry>>,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let grouping = RwSignal::new(Grouping::Day);
    let total = Memo::new(move |_| ledger.with(|entries| grand_total(entries)));
    let groups = Memo::new(move |_| ledger.with(|entries| totals_by(entries, grouping.get())));
    let recent = Memo::new(move |_| {
        ledger.with(|entries| {
            entries
                .iter()
                .rev()
                .take(SHOWN_ENTRIES)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let more = Memo::new(move |_| ledger.with(|entries| entries.len() > SHOWN_ENTRIES));
    let export_error = RwSignal::new(false);

    let choose_grouping = move |ev| {
        let value = event_target_value(&ev);
        if let Some((chosen, ..)) = GROUPINGS.iter().find(|(_, v, ..)| *v == value) {
            grouping.set(*chosen);
        }
    };
    let export = move |_| {
        let csv = ledger.with(|entries| ledger_to_csv(entries, lang.get_untracked()));
        let failed = files::download_text("duanju-ledger.csv", "text/csv;charset=utf-8", &csv);
        export_error.set(failed.is_err());
    };
    let clear = move |()| {
        spawn_local(async move {
            let result = match idb::shared().await {
                Ok(db) => db.clear(LEDGER).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => ledger.set(Vec::new()),
                Err(e) => state.storage_error.set(Some(e)),
            }
        });
    };
    let figure = move |read: fn(&LedgerTotal) -> String| move || total.with(read);

    view! {
        <section class="ds-card ds-ledger-panel" data-testid="ledger" aria-labelledby="ledger-title">
            <div class="ds-heading-row">
                <h2 id="ledger-title">{t("用量账本", "Usage ledger")}</h2>
                <div class="ds-actions">
                    <button type="button" class="ds-btn ds-btn--small" data-testid="ledger-export" on:click=export>
                        {t("导出 CSV", "Export CSV")}
                    </button>
                    <ConfirmButton
                        testid="ledger-clear"
                        label=Signal::derive(t("清空账本", "Clear the ledger"))
                        on_confirm=clear
                    />
                </div>
            </div>
            <p class="ds-field__hint">{t(
                "每次调用（成功、失败、中断或取消）都会记入本机账本；估算的用量会标明。费用按连接所关联的价格配置计算。",
                "Every call (successful, failed, cut short or cancelled) is recorded on this device; estimated usage is marked. Costs use the price profile linked to the connection.",
            )}</p>
            <Show when=move || export_error.get()>
                <p class="ds-alert ds-alert--error" role="alert">{t("导出失败。", "The export failed.")}</p>
            </Show>
            <dl class="ds-ledger-totals" data-testid="ledger-totals">
                <div>
                    <dt>{t("调用次数", "Calls")}</dt>
                    <dd data-testid="ledger-total-calls">{figure(|t| format_count(t.calls))}</dd>
                </div>
                <div>
                    <dt>{t("总 tokens", "Total tokens")}</dt>
                    <dd data-testid="ledger-total-tokens">{figure(|t| format_count(t.total_tokens))}</dd>
                </div>
                <div>
                    <dt>{t("费用（$）", "Cost ($)")}</dt>
                    <dd data-testid="ledger-total-usd">{figure(|t| exact_amount(t.cost_usd))}</dd>
                </div>
                <div>
                    <dt>{t("费用（¥）", "Cost (¥)")}</dt>
                    <dd data-testid="ledger-total-cny">{figure(|t| exact_amount(t.cost_cny))}</dd>
                </div>
                <div>
                    <dt>{t("失败 / 估算", "Failed / estimated")}</dt>
                    <dd data-testid="ledger-total-flags">
                        {figure(|t| format!("{} / {}", format_count(t.failed_calls), format_count(t.estimated_calls)))}
                    </dd>
                </div>
            </dl>
            <div class="ds-field ds-ledger-grouping">
                <label for="ledger-grouping">{t("汇总方式", "Totals")}</label>
                <select id="ledger-grouping" data-testid="ledger-grouping" on:change=choose_grouping>
                    {GROUPINGS
                        .iter()
                        .map(|(value, key, zh, en)| {
                            let value = *value;
                            view! {
                                <option value=*key selected=move || grouping.get() == value>
                                    {t(zh, en)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="ds-ledger-scroll" role="region" tabindex="0" aria-label=t("分组汇总", "Totals per group")>
                <table class="ds-table" data-testid="ledger-groups">
                    <caption class="ds-visually-hidden">{t("分组汇总", "Totals per group")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("分组", "Group")}</th>
                            <th scope="col">{t("调用", "Calls")}</th>
                            <th scope="col">{t("输入", "Prompt")}</th>
                            <th scope="col">{t("缓存", "Cached")}</th>
                            <th scope="col">{t("输出", "Completion")}</th>
                            <th scope="col">"$"</th>
                            <th scope="col">"¥"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || groups.get().into_iter().map(|group| view! { <GroupRow group/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h3>{t("最近的调用", "Recent calls")}</h3>
            <Show when=move || more.get()>
                <p class="ds-field__hint" data-testid="ledger-capped">{t(
                    "只列出最近 200 次；汇总与导出包含全部记录。",
                    "Only the latest 200 calls are listed; the totals and the export cover every call.",
                )}</p>
            </Show>
            <div class="ds-ledger-scroll" role="region" tabindex="0" aria-label=t("调用记录", "Calls")>
                <table class="ds-table ds-ledger-entries" data-testid="ledger-entries">
                    <caption class="ds-visually-hidden">{t("调用记录", "Calls")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("时间（UTC）", "Time (UTC)")}</th>
                            <th scope="col">{t("连接", "Connection")}</th>
                            <th scope="col">{t("模型", "Model")}</th>
                            <th scope="col">{t("任务", "Task")}</th>
                            <th scope="col">{t("结果", "Outcome")}</th>
                            <th scope="col">{t("输入 / 缓存 / 输出", "Prompt / cached / completion")}</th>
                            <th scope="col">{t("耗时", "Latency")}</th>
                            <th scope="col">"$"</th>
                            <th scope="col">"¥"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || recent.get().into_iter().map(|entry| view! { <EntryRow entry/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// One group's totals.
#[component]
fn GroupRow(
    /// The group's totals.
    group: LedgerTotal,
) -> impl IntoView {
    let lang = use_lang();
    let name = group.key.clone();
    // Calls without a project share the empty key.
    let key = move || {
        if name.is_empty() {
            lang.get().pick("（无）", "(none)").to_string()
        } else {
            name.clone()
        }
    };
    view! {
        <tr data-testid="ledger-group" data-key=group.key.clone()>
            <th scope="row">{key}</th>
            <td>{format_count(group.calls)}</td>
            <td>{format_count(group.prompt)}</td>
            <td>{format_count(group.cached)}</td>
            <td>{format_count(group.completion)}</td>
            <td>{exact_amount(group.cost_usd)}</td>
            <td>{exact_amount(group.cost_cny)}</td>
        </tr>
    }
}

/// One call in the table.
#[component]
fn EntryRow(
    /// The recorded call.
    entry: LedgerEntry,
) -> impl IntoView {
    let cost = entry.cost();
    let tokens = format!(
        "{} / {} / {}",
        format_count(entry.prompt_tokens),
        format_count(entry.cached_tokens),
        format_count(entry.completion_tokens)
    );
    // A reply that stated its cost: the stated figure is shown, ours and the gap beside it.
    let stated = entry
        .computed_usd_units
        .zip(entry.stated_difference())
        .map(|(computed, gap)| {
            (
                exact_amount(Money::from_units(cost.usd.currency(), computed)),
                exact_amount(gap),
            )
        });
    let outcome_class = if entry.is_ok() {
        "ds-ledger-outcome ds-ledger-outcome--ok"
    } else {
        "ds-ledger-outcome ds-ledger-outcome--failed"
    };
    view! {
        <tr data-testid="ledger-entry" data-outcome=entry.outcome.clone() data-estimated=entry.estimated.to_string() data-worst-case=entry.worst_case.to_string()>
            <td class="ds-mono">{timestamp_utc(entry.at_ms)}</td>
            <td>{entry.connection_name.clone()}</td>
            <td class="ds-mono">{entry.model.clone()}</td>
            <td>{entry.task.clone()}</td>
            <td><span class=outcome_class>{entry.outcome.clone()}</span></td>
            <td>
                {tokens}
                <Show when=move || entry.estimated && !entry.worst_case>
                    " "<span class="ds-tag">{t("估算", "estimate")}</span>
                </Show>
                <Show when=move || entry.worst_case>
                    " "<span class="ds-tag" title=t("结果未知：按最坏情况计", "outcome unknown: counted at its worst case")>
                        {t("最坏情况", "worst case")}
                    </span>
                </Show>
            </td>
            <td>{millis(entry.latency_ms)}</td>
            <td>
                {exact_amount(cost.usd)}
                {stated.map(|(computed, difference)| view! {
                    " "<span class="ds-tag" data-testid="ledger-stated-cost"
                        data-computed=computed.clone() data-difference=difference.clone()
                        title=move || format!("{} {computed} · {} {difference}",
                            t("按价格表计算", "computed from the price set")(), t("差额", "difference")())>
                        {t("服务商报价", "stated by provider")}
                    </span>
                })}
            </td>
            <td>{exact_amount(cost.cny)}</td>
        </tr>
    }
}
