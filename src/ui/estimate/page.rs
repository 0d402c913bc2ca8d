//! The Estimate page: what a series costs, on which provider, in ¥ and $.
//!
//! The plan lives in a signal of [`CheckedPlan`]s: each form field edits it through
//! [`with_field`], which sets that field by the same rules as a plan file and checks the plan
//! once, so a bad value shows an inline message and the last valid estimate stays on screen; the
//! estimate reads that check instead of repeating it. The plan is mirrored into the URL fragment
//! (bookmarkable, sendable) and into IndexedDB.

use crate::domain::cost::estimate::{estimate_checked, rollback_switch_checked, Estimate};
use crate::domain::cost::estimate_csv::estimate_to_csv;
use crate::domain::cost::money::{format_count, Currency};
use crate::domain::cost::plan::{
    seed_inventory_plan, CheckedPlan, FieldError, PlanError, ProductionPlan, Stage,
};
use crate::domain::cost::plan_edit::{field_text, with_every_stage, with_field, with_video};
use crate::domain::cost::plan_link::{plan_from_fragment, plan_to_fragment};
use crate::domain::cost::profile::Cost;
use crate::domain::cost::seed_figures::seed_corrections;
use crate::domain::cost::spend_chart::{bar_lengths, spend_by_profile, spend_by_stage, ChartSlice};
use crate::domain::i18n::Lang;
use crate::ui::estimate::catalog_editor::CatalogEditor;
use crate::ui::estimate::episode_media::EpisodeMediaEditor;
use crate::ui::estimate::profiles_editor::ProfilesEditor;
use crate::ui::estimate::routes_editor::RoutesEditor;
use crate::ui::i18n::{t, use_lang};
use crate::ui::lazy::{split_view, Deferred, Loader};
use crate::ui::state::{persist, use_app_state};
use crate::web::idb::KV;
use crate::web::{dom, files};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// Largest plan file the import reads.
const PLAN_FILE_CAP: f64 = 1024.0 * 1024.0;

/// Estimate: a production plan in; spend per stage, model and profile out.
#[component]
pub fn EstimatePage() -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let notice = RwSignal::new(None::<PlanError>);

    // A plan in the link wins over the stored one; a damaged link is reported, not used.
    let (initial, load_stored) = match dom::fragment().map(|f| plan_from_fragment(&f)) {
        Some(Ok(plan)) => (plan, false),
        Some(Err(error)) => {
            notice.set(Some(error));
            (seed_inventory_plan(), true)
        }
        None => (seed_inventory_plan(), true),
    };
    let plan = RwSignal::new(CheckedPlan::new(with_every_stage(&initial)));
    persist(KV, "plan", plan, state.storage_error, load_stored);
    // Written once per change, for the URL and for the link's length.
    let fragment = Memo::new(move |_| plan.with(|p| plan_to_fragment(p.plan())));
    Effect::new(move |_| fragment.with(|f| dom::replace_fragment(f)));

    // Shared, not copied: the memo, the shown estimate and the results hold one estimate.
    let result = Memo::new(move |_| {
        plan.with(|p| state.book.with(|b| estimate_checked(p, b).map(Arc::new)))
    });
    let shown = RwSignal::new(result.with_untracked(|r| r.as_ref().ok().cloned()));
    provide_context(ShownEstimate(shown));
    let book_error = RwSignal::new(None::<PlanError>);
    Effect::new(move |_| match result.get() {
        Ok(e) => {
            shown.set(Some(e));
            book_error.set(None);
        }
        Err(e) => book_error.set(Some(e)),
    });

    view! {
        <section class="ds-page" data-testid="page-estimate">
            <h1>{t("成本估算", "Cost estimate")}</h1>
            <p class="ds-lead">{t(
                "填写制作方案：每一集的各阶段用量、视频片段与缓存命中率。右侧即时给出各服务商的 $ 与 ¥ 费用、节省和 ROI。方案保存在本机，也写在网址里，可收藏或发送。",
                "Fill in the production plan: usage per stage per episode, video clips and cache hits. The right side prices it at once on every provider in $ and ¥, with savings and ROI. The plan is kept on this device and in the page URL, to bookmark or send.",
            )}</p>
            {move || notice.get().map(|e| view! {
                <div class="ds-alert ds-alert--error" role="alert" data-testid="plan-link-error">
                    <strong>{t("链接中的方案无法读取，已改用保存的方案：", "The plan in this link could not be read; the saved plan is shown instead: ")}</strong>
                    <span class="ds-pre">{e.message(lang.get())}</span>
                </div>
            })}
            <StorageBanner/>
            <div class="ds-split">
                <PlanForm plan=plan notice=notice/>
                <div class="ds-results" aria-live="polite">
                    {move || book_error.get().map(|e| view! {
                        <div class="ds-alert ds-alert--warn" role="status" data-testid="estimate-stale">
                            {t("价格或配置有误，显示的是上一次有效的估算：", "Prices or profiles are invalid; showing the last valid estimate: ")}
                            <span class="ds-pre">{e.message(lang.get())}</span>
                        </div>
                    })}
                    {move || shown.get().map(|e| view! { <Results estimate=e plan=plan fragment=fragment/> })}
                    <FoldedSection testid="section-price-matrix" load=|| Box::pin(load_price_matrix())
                        summary=t("价格矩阵（每百万 tokens）", "Price matrix (per million tokens)")/>
                </div>
            </div>
            <FoldedSection testid="section-profiles" load=|| Box::pin(load_profiles_editor())
                summary=t("服务商配置与汇率", "Profiles and exchange rates")/>
            <FoldedSection testid="section-catalog" load=|| Box::pin(load_catalog_editor())
                summary=t("价格表（可编辑，支持 LiteLLM 导入导出）", "Price catalog (editable; LiteLLM import and export)")/>
            <FoldedSection testid="section-routes" load=|| Box::pin(load_routes_editor())
                summary=t("任务路由（模型、温度、最大 tokens、备用模型）", "Task routes (model, temperature, max tokens, fallbacks)")/>
            <FoldedSection testid="section-episode-media" load=|| Box::pin(load_episode_media())
                summary=t("一集的媒体费用：关键帧、视频、配音，每成片分钟", "An episode's media: keyframes, clips, dubbing, per finished minute")/>
            <FoldedSection testid="seed-corrections" load=|| Box::pin(load_seed_corrections())
                summary=t("种子文章中的计算错误与更正", "Where the seed articles' arithmetic is wrong")/>
        </section>
    }
}

/// The estimate on screen (the last valid one), for the folded sections built apart from it.
#[derive(Clone, Copy)]
struct ShownEstimate(RwSignal<Option<Arc<Estimate>>>);

// The sections below the estimate are folded away at first, so their code is loaded when one is
// first opened (ui::lazy): the first visit downloads less. The editors share one chunk, the two
// reference tables another.
split_view!(
    load_profiles_editor,
    estimate_editors,
    view! { <ProfilesEditor/> }
);
split_view!(
    load_catalog_editor,
    estimate_editors,
    view! { <CatalogEditor/> }
);
split_view!(
    load_routes_editor,
    estimate_editors,
    view! { <RoutesEditor/> }
);
split_view!(load_price_matrix, estimate_tables, view! { <PriceMatrix/> });
split_view!(
    load_episode_media,
    estimate_media,
    view! { <EpisodeMediaEditor/> }
);
split_view!(
    load_seed_corrections,
    estimate_tables,
    view! { <SeedCorrections/> }
);

/// A folded section whose content is built (and, in a split build, downloaded) when it is first
/// opened; closing it again keeps the content as it is.
#[component]
fn FoldedSection(
    testid: &'static str,
    summary: impl IntoView + 'static,
    load: Loader,
) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="ds-card" data-testid=testid
            on:toggle=move |ev| {
                if event_target::<web_sys::Element>(&ev).has_attribute("open") {
                    opened.set(true);
                }
            }>
            <summary>{summary}</summary>
            <Show when=move || opened.get()>
                <Deferred load=load/>
            </Show>
        </details>
    }
}

/// Shows the last storage failure, if any.
#[component]
fn StorageBanner() -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    move || {
        state.storage_error.get().map(|e| {
            view! {
                <div class="ds-alert ds-alert--error" role="alert" data-testid="storage-error">
                    {e.message(lang.get())}
                    " "
                    <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" on:click=move |_| state.storage_error.set(None)>
                        {t("知道了", "Dismiss")}
                    </button>
                </div>
            }
        })
    }
}

/// One text field of the plan, validated by the domain on every keystroke.
#[component]
fn PlanField(
    plan: RwSignal<CheckedPlan>,
    /// The field's path in the plan JSON, e.g. `stages[0].output_tokens`.
    #[prop(into)]
    path: String,
    zh: &'static str,
    en: &'static str,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let lang = use_lang();
    let error = RwSignal::new(None::<FieldError>);
    let id = format!("plan-{}", path.replace(['[', '.'], "-").replace(']', ""));
    let error_id = format!("{id}-error");
    let read_path = path.clone();
    let current = Memo::new(move |_| plan.with(|p| field_text(p.plan(), &read_path)));
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        match plan.with_untracked(|p| with_field(p.plan(), &path, &text)) {
            Ok(next) => {
                error.set(None);
                plan.set(next);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let described = error_id.clone();
    view! {
        <div class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{t(zh, en)}</label>
            <input
                id=id.clone()
                type="text"
                inputmode=if numeric { "decimal" } else { "text" }
                autocomplete="off"
                data-testid=id
                prop:value=move || current.get()
                on:input=on_input
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=move || error.with(|e| e.as_ref().map(|_| described.clone()))
            />
            {move || error.get().map(|e| view! {
                <span class="ds-field__error" id=error_id.clone() role="alert">{e.message(lang.get())}</span>
            })}
        </div>
    }
}

/// A choice field of the plan (period, resolution).
#[component]
fn PlanSelect(
    plan: RwSignal<CheckedPlan>,
    #[prop(into)] path: String,
    zh: &'static str,
    en: &'static str,
    /// (value, zh label, en label)
    options: Vec<(&'static str, &'static str, &'static str)>,
) -> impl IntoView {
    let lang = use_lang();
    let id = format!("plan-{}", path.replace(['[', '.'], "-").replace(']', ""));
    let read_path = path.clone();
    let current = Memo::new(move |_| plan.with(|p| field_text(p.plan(), &read_path)));
    let on_change = move |ev| {
        if let Ok(next) =
            plan.with_untracked(|p| with_field(p.plan(), &path, &event_target_value(&ev)))
        {
            plan.set(next);
        }
    };
    view! {
        <div class="ds-field">
            <label for=id.clone()>{t(zh, en)}</label>
            <select id=id.clone() data-testid=id on:change=on_change prop:value=move || current.get()>
                {options.into_iter().map(|(value, zh, en)| view! {
                    <option value=value selected=move || current.get() == value>{move || lang.get().pick(zh, en)}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// The plan form: volumes, stages, video, cache share, period; import, export and reset.
#[component]
fn PlanForm(plan: RwSignal<CheckedPlan>, notice: RwSignal<Option<PlanError>>) -> impl IntoView {
    let lang = use_lang();
    let video_on = Memo::new(move |_| plan.with(|p| p.plan().video.is_some()));
    let stage_rows = move || {
        plan.with(|p| {
            p.plan()
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.stage, s.per))
                .collect::<Vec<_>>()
        })
    };
    let import = move |ev: leptos::ev::Event| {
        let Some(file) = files::picked_file(&ev) else {
            return;
        };
        spawn_local(async move {
            match files::read_text(&file, PLAN_FILE_CAP).await {
                Ok(text) => match ProductionPlan::from_json(&text) {
                    Ok(next) => {
                        notice.set(None);
                        plan.set(CheckedPlan::new(with_every_stage(&next)));
                    }
                    Err(e) => notice.set(Some(e)),
                },
                Err(e) => notice.set(Some(PlanError::NotJson(e.message(lang.get_untracked())))),
            }
        });
    };
    let export = move |_| {
        let json = plan.with_untracked(|p| p.plan().to_json());
        let _ = files::download_text("duanju-plan.json", "application/json", &json);
    };
    view! {
        <form class="ds-card ds-plan" aria-labelledby="plan-heading" on:submit=|ev| ev.prevent_default()>
            <h2 id="plan-heading">{t("制作方案", "Production plan")}</h2>
            <PlanField plan=plan path="name" zh="方案名称" en="Plan name"/>
            <PlanSelect plan=plan path="period" zh="用量周期" en="Period of these volumes" options=vec![
                ("month", "每月", "Month"), ("quarter", "每季度", "Quarter"), ("year", "每年", "Year"),
            ]/>
            <fieldset class="ds-fieldset">
                <legend>{t("规模", "Scale")}</legend>
                <div class="ds-row">
                    <PlanField plan=plan path="studios" zh="工作室数" en="Studios" numeric=true/>
                    <PlanField plan=plan path="series_per_studio" zh="每个工作室的剧数" en="Series per studio" numeric=true/>
                    <PlanField plan=plan path="episodes_per_series" zh="每部剧的集数" en="Episodes per series" numeric=true/>
                    <PlanField plan=plan path="scenes_per_episode" zh="每集场景数" en="Scenes per episode" numeric=true/>
                    <PlanField plan=plan path="clips_per_episode" zh="每集镜头/片段数" en="Clips per episode" numeric=true/>
                    <PlanField plan=plan path="cache_hit_percent" zh="缓存命中率 %" en="Cache-hit share %" numeric=true/>
                </div>
            </fieldset>
            <fieldset class="ds-fieldset">
                <legend>{t("各阶段 tokens（输入 / 输出）", "Tokens per stage (input / output)")}</legend>
                {move || stage_rows().into_iter().map(|(i, stage, per)| {
                    let per_label = move || per_label(per, lang.get());
                    view! {
                        <div class="ds-stage">
                            <div class="ds-field__label">{move || stage_label(stage, lang.get())} " · " {per_label}</div>
                            <div class="ds-row">
                                <PlanField plan=plan path=format!("stages[{i}].input_tokens") zh="输入" en="Input" numeric=true/>
                                <PlanField plan=plan path=format!("stages[{i}].output_tokens") zh="输出" en="Output" numeric=true/>
                            </div>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset class="ds-fieldset">
                <legend>{t("视频", "Video")}</legend>
                <label class="ds-check">
                    <input type="checkbox" data-testid="plan-video-enabled"
                        prop:checked=move || video_on.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); plan.update(|p| *p = CheckedPlan::new(with_video(p.plan(), on))); }/>
                    {t("为每个镜头生成视频片段", "Generate a clip for every shot")}
                </label>
                <Show when=move || video_on.get()>
                    <div class="ds-row">
                        <PlanField plan=plan path="video.takes_per_shot" zh="每镜头生成次数" en="Takes per shot" numeric=true/>
                        <PlanField plan=plan path="video.seconds_per_clip" zh="每片段秒数" en="Seconds per clip" numeric=true/>
                    </div>
                    <PlanSelect plan=plan path="video.resolution" zh="分辨率" en="Resolution" options=vec![
                        ("", "按路由默认（1080p）", "Route default (1080p)"), ("720p", "720p", "720p"), ("1080p", "1080p", "1080p"), ("4k", "4K", "4K"),
                    ]/>
                </Show>
            </fieldset>
            <PlanField plan=plan path="roi_months" zh="ROI 报告月数" en="ROI report months" numeric=true/>
            <LinesSummary plan=plan/>
            <div class="ds-actions">
                <label class="ds-btn ds-btn--ghost ds-btn--small">
                    {t("导入方案 JSON", "Import plan JSON")}
                    <input type="file" accept=".json,application/json" class="ds-visually-hidden" data-testid="plan-import" on:change=import/>
                </label>
                <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="plan-export" on:click=export>
                    {t("导出方案 JSON", "Export plan JSON")}
                </button>
                <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="plan-reset"
                    on:click=move |_| { notice.set(None); plan.set(CheckedPlan::new(with_every_stage(&seed_inventory_plan()))); }>
                    {t("恢复种子方案", "Reset to the seed plan")}
                </button>
            </div>
        </form>
    }
}

fn stage_label(stage: Stage, lang: Lang) -> &'static str {
    stage.label(lang)
}

fn per_label(per: crate::domain::cost::plan::PerUnit, lang: Lang) -> &'static str {
    use crate::domain::cost::plan::PerUnit;
    match per {
        PerUnit::Episode => lang.pick("每集", "per episode"),
        PerUnit::Scene => lang.pick("每场景", "per scene"),
        PerUnit::Clip => lang.pick("每片段", "per clip"),
    }
}

/// Explicit volume lines (from an imported plan), listed with a remove button.
#[component]
fn LinesSummary(plan: RwSignal<CheckedPlan>) -> impl IntoView {
    let has_lines = Memo::new(move |_| plan.with(|p| !p.plan().lines.is_empty()));
    view! {
        <Show when=move || has_lines.get()>
            <fieldset class="ds-fieldset" data-testid="plan-lines">
                <legend>{t("固定用量（来自导入的方案）", "Fixed volumes (from an imported plan)")}</legend>
                <ul class="ds-lines">
                    {move || plan.with(|p| p.plan().lines.iter().enumerate().map(|(i, line)| {
                        let name = if line.label.is_empty() { line.model.clone().unwrap_or_default() } else { line.label.clone() };
                        view! {
                            <li>
                                <span>{name}</span>
                                " "
                                <button type="button" class="ds-btn ds-btn--ghost ds-btn--small"
                                    on:click=move |_| plan.update(|p| remove_line(p, i))>
                                    {t("移除", "Remove")}
                                </button>
                            </li>
                        }
                    }).collect_view())}
                </ul>
            </fieldset>
        </Show>
    }
}

/// Removes the plan's line `index`, if it has one, and checks the plan again.
fn remove_line(plan: &mut CheckedPlan, index: usize) {
    if index < plan.plan().lines.len() {
        let mut next = plan.plan().clone();
        next.lines.remove(index);
        *plan = CheckedPlan::new(next);
    }
}

/// "$1.00 · ¥7.30" for a cost.
fn both(cost: &Cost) -> (String, String) {
    (cost.usd.display(), cost.cny.display())
}

/// Every figure of an estimate: totals, comparison, breakdowns, charts, ROI, prices.
#[component]
fn Results(
    estimate: Arc<Estimate>,
    plan: RwSignal<CheckedPlan>,
    fragment: Memo<String>,
) -> impl IntoView {
    let lang = use_lang();
    let state = use_app_state();
    let first = estimate
        .profiles
        .iter()
        .find(|p| p.profile_id == estimate.baseline_profile)
        .or(estimate.profiles.first())
        .map(|p| p.profile_id.clone())
        .unwrap_or_default();
    let focus = RwSignal::new(first);
    let est = StoredValue::new(estimate);
    let period = est.with_value(|e| e.period);

    let csv = move |_| {
        let text = est.with_value(|e| estimate_to_csv(e, lang.get_untracked()));
        let _ = files::download_text("duanju-estimate.csv", "text/csv;charset=utf-8", &text);
    };
    let switch =
        Memo::new(move |_| plan.with(|p| state.book.with(|b| rollback_switch_checked(p, b).ok())));

    view! {
        <div class="ds-card" data-testid="totals">
            <h2>{t("总费用", "Total spend")} " · " {move || period.label(lang.get())}</h2>
            <div class="ds-grid">
                {est.with_value(|e| e.comparison.iter().map(|c| {
                    let (usd, cny) = both(&c.total);
                    let (year_usd, year_cny) = both(&c.total_per_year);
                    let id = c.profile_id.clone();
                    let is_base = c.profile_id == e.baseline_profile;
                    // A negative saving is an extra cost: say so instead of printing "saves -¥…".
                    let saving = (!is_base).then(|| {
                        let shown = c.saving_shown();
                        let (s_usd, s_cny) = both(&shown.amount);
                        let pct = shown.percent.map(|p| p.display()).unwrap_or_else(|| "—".into());
                        (shown.costs_more, s_usd, s_cny, pct)
                    });
                    view! {
                        <div class="ds-total-card" data-testid=format!("total-{id}")>
                            <div class="ds-total-card__name">{c.profile_name.clone()}
                                {is_base.then(|| view! { " " <span class="ds-tag">{t("基准", "baseline")}</span> })}
                            </div>
                            <div class="ds-total__figure" data-testid=format!("total-usd-{id}")>{usd}</div>
                            <div class="ds-total__alt" data-testid=format!("total-cny-{id}")>{cny}</div>
                            <div class="ds-field__hint">{t("每年", "Per year")} " " {year_usd} " · " {year_cny}</div>
                            {saving.map(|(more, s_usd, s_cny, pct)| view! {
                                <div class="ds-saving" class:ds-saving--more=more data-testid=format!("saving-{id}")>
                                    {if more { t("比基准多花", "Costs more than baseline") } else { t("比基准节省", "Saves vs baseline") }} " " {s_usd} " · " {s_cny} " (" {pct} ")"
                                </div>
                            })}
                        </div>
                    }
                }).collect_view())}
            </div>
            {move || switch.get().map(|s| view! { <p class="ds-field__hint" data-testid="rollback-statement">{s.statement(lang.get())}</p> })}
            {est.with_value(|e| (!e.warnings.is_empty()).then(|| {
                let warnings = e.warnings.clone();
                view! {
                    <ul class="ds-alert ds-alert--warn" data-testid="estimate-warnings">
                        {warnings.into_iter().map(|w| view! { <li>{move || w.message(lang.get())}</li> }).collect_view()}
                    </ul>
                }
            }))}
            <p class="ds-actions">
                <button type="button" class="ds-btn ds-btn--small" data-testid="export-csv" on:click=csv>{t("导出 CSV", "Export CSV")}</button>
                <ShareLinkInfo fragment=fragment/>
            </p>
        </div>

        <div class="ds-card">
            <h2>{t("各服务商对比", "Provider comparison")}</h2>
            <table class="ds-table" data-testid="comparison">
                <thead><tr>
                    <th scope="col">{t("配置", "Profile")}</th>
                    <th scope="col">"$"</th><th scope="col">"¥"</th>
                    <th scope="col">{t("每年 ¥", "Per year ¥")}</th>
                    <th scope="col">{t("节省 ¥", "Saving ¥")}</th>
                    <th scope="col">{t("节省 %", "Saving %")}</th>
                </tr></thead>
                <tbody>
                    {est.with_value(|e| e.comparison.iter().map(|c| view! {
                        <tr>
                            <th scope="row">{c.profile_name.clone()}</th>
                            <td>{c.total.usd.display()}</td>
                            <td>{c.total.cny.display()}</td>
                            <td>{c.total_per_year.cny.display()}</td>
                            <td>{c.saving.cny.display()}</td>
                            <td>{c.saving_percent.cny.map(|p| p.display()).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view())}
                </tbody>
            </table>
            <BarChart slices=Signal::derive(move || est.with_value(|e| spend_by_profile(e, Currency::Cny))) title_zh="各配置费用（¥）" title_en="Spend by profile (¥)" testid="chart-profiles"/>
        </div>

        <div class="ds-card">
            <div class="ds-heading-row">
                <h2>{t("按阶段与模型", "By stage and model")}</h2>
                <div class="ds-field">
                    <label for="focus-profile">{t("查看配置", "Profile shown")}</label>
                    <select id="focus-profile" data-testid="focus-profile" on:change=move |ev| focus.set(event_target_value(&ev))>
                        {est.with_value(|e| e.profiles.iter().map(|p| {
                            let id = p.profile_id.clone();
                            let selected = id == focus.get_untracked();
                            view! { <option value=id selected=selected>{p.profile_name.clone()}</option> }
                        }).collect_view())}
                    </select>
                </div>
            </div>
            {move || {
                let id = focus.get();
                est.with_value(|e| e.profile(&id).cloned()).map(|p| view! {
                    <table class="ds-table" data-testid="by-stage">
                        <thead><tr>
                            <th scope="col">{t("阶段", "Stage")}</th><th scope="col">{t("模型", "Model")}</th>
                            <th scope="col">"Tokens"</th><th scope="col">"$"</th><th scope="col">"¥"</th>
                        </tr></thead>
                        <tbody>
                            {p.by_stage.iter().map(|line| {
                                let source = line.source.clone();
                                view! {
                                    <tr>
                                        <th scope="row">{move || source.label(lang.get())}</th>
                                        <td class="ds-mono">{line.model.clone()}</td>
                                        <td>{format_count(line.volume.tokens)}</td>
                                        <td>{line.cost.usd.display()}</td>
                                        <td>{line.cost.cny.display()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                        <tfoot><tr>
                            <td>{t("合计", "Total")}</td><td></td>
                            <td>{format_count(p.volume.tokens)}</td>
                            <td>{p.total.usd.display()}</td><td>{p.total.cny.display()}</td>
                        </tr></tfoot>
                    </table>
                    <table class="ds-table" data-testid="by-model">
                        <thead><tr>
                            <th scope="col">{t("模型", "Model")}</th><th scope="col">"Tokens"</th>
                            <th scope="col">{t("视频片段", "Clips")}</th><th scope="col">"$"</th><th scope="col">"¥"</th>
                        </tr></thead>
                        <tbody>
                            {p.by_model.iter().map(|m| view! {
                                <tr>
                                    <th scope="row" class="ds-mono">{m.model.clone()}</th>
                                    <td>{format_count(m.volume.tokens)}</td>
                                    <td>{format_count(m.volume.videos)}</td>
                                    <td>{m.cost.usd.display()}</td>
                                    <td>{m.cost.cny.display()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })
            }}
            <BarChart slices=Signal::derive(move || { let id = focus.get(); let l = lang.get(); est.with_value(|e| spend_by_stage(e, &id, Currency::Cny, l)) })
                title_zh="各阶段费用（¥）" title_en="Spend by stage (¥)" testid="chart-stages"/>
        </div>

        <div class="ds-card">
            <h2>{move || est.with_value(|e| match lang.get() {
                Lang::ZhCn => format!("ROI 报告 · {} 个月", e.roi.months),
                Lang::En => format!("ROI report · {} months", e.roi.months),
            })}</h2>
            <table class="ds-table" data-testid="roi">
                <thead><tr>
                    <th scope="col">{t("配置", "Profile")}</th>
                    <th scope="col">{t("集数", "Episodes")}</th>
                    <th scope="col">"Tokens"</th>
                    <th scope="col">{t("视频", "Videos")}</th>
                    <th scope="col">"$"</th><th scope="col">"¥"</th>
                    <th scope="col">{t("节省 ¥", "Saving ¥")}</th>
                    <th scope="col">{t("节省 %", "Saving %")}</th>
                </tr></thead>
                <tbody>
                    {est.with_value(|e| e.roi.rows.iter().map(|r| view! {
                        <tr>
                            <th scope="row">{r.profile_name.clone()}</th>
                            <td>{format_count(r.volume.episodes)}</td>
                            <td>{format_count(r.volume.tokens)}</td>
                            <td>{format_count(r.volume.videos)}</td>
                            <td>{r.cost.usd.display()}</td>
                            <td>{r.cost.cny.display()}</td>
                            <td>{r.saving.cny.display()}</td>
                            <td>{r.saving_percent.cny.map(|p| p.display()).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view())}
                </tbody>
            </table>
        </div>

    }
}

/// The price of every model on every profile, per million tokens, of the estimate on screen.
#[component]
fn PriceMatrix() -> impl IntoView {
    let shown = expect_context::<ShownEstimate>().0;
    move || {
        shown.with(|e| {
            e.as_ref().map(|e| {
                view! {
                    <table class="ds-table" data-testid="price-matrix">
                        <thead><tr>
                            <th scope="col">{t("模型", "Model")}</th><th scope="col">{t("配置", "Profile")}</th>
                            <th scope="col">{t("输入", "Input")}</th><th scope="col">{t("输出", "Output")}</th>
                            <th scope="col">{t("缓存读", "Cached in")}</th><th scope="col">{t("视频", "Video")}</th>
                        </tr></thead>
                        <tbody>
                            {e.price_matrix.iter().map(|row| {
                                let cell = |c: &Option<Cost>| c.as_ref().map(|c| format!("{} · {}", c.usd.display(), c.cny.display())).unwrap_or_else(|| "—".into());
                                let video = row.video.as_ref().map(|v| format!("{} · {} / {} {}", v.price.usd.display(), v.price.cny.display(), match v.unit { crate::domain::cost::pricing::VideoUnit::PerSecond => "s", crate::domain::cost::pricing::VideoUnit::PerClip => "clip" }, v.resolution.as_str())).unwrap_or_else(|| "—".into());
                                view! {
                                    <tr>
                                        <th scope="row" class="ds-mono">{row.model.clone()}</th>
                                        <td>{row.profile_id.clone()}</td>
                                        <td>{cell(&row.input_per_mtok)}</td>
                                        <td>{cell(&row.output_per_mtok)}</td>
                                        <td>{cell(&row.cached_input_per_mtok)}</td>
                                        <td>{video}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })
        })
    }
}

/// The share link's length (the link is the page URL itself).
#[component]
fn ShareLinkInfo(fragment: Memo<String>) -> impl IntoView {
    let lang = use_lang();
    let length = Memo::new(move |_| {
        let href = dom::href();
        let base = href.split('#').next().unwrap_or("").len();
        base + 1 + fragment.with(String::len)
    });
    view! {
        <span class="ds-field__hint" data-testid="link-length">
            {move || match lang.get() {
                Lang::ZhCn => format!("本页网址即是此估算的链接（{} 个字符），可收藏或发送。", length.get()),
                Lang::En => format!("This page's URL is the link to this estimate ({} characters): bookmark or send it.", length.get()),
            }}
        </span>
    }
}

/// A labelled horizontal bar chart as inline SVG.
#[component]
fn BarChart(
    slices: Signal<Vec<ChartSlice>>,
    title_zh: &'static str,
    title_en: &'static str,
    testid: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    move || {
        let slices = slices.get();
        let bars = bar_lengths(&slices);
        let row = 36u32;
        let height = row * slices.len().max(1) as u32 + 8;
        let title = lang.get().pick(title_zh, title_en);
        view! {
            <svg class="ds-chart" data-testid=testid role="img" aria-label=title
                viewBox=format!("0 0 1000 {height}") preserveAspectRatio="xMinYMin meet">
                <title>{title}</title>
                {slices.iter().zip(bars).enumerate().map(|(i, (slice, bar))| {
                    let y = i as u32 * row + 4;
                    // Labels take the left 260 units; bars the next 520; the amount the rest.
                    let width = bar.width * 520 / 1000;
                    view! {
                        <g>
                            <text x="0" y=y + 22>{slice.label.clone()}</text>
                            <rect class="ds-chart__bar" x="260" y=y + 3 width=width.max(1) height="24" rx="3"></rect>
                            <text x=270 + width y=y + 22>{format!("{} · {}", slice.display, slice.share.display())}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        }
    }
}

/// Where the seeds' own arithmetic is wrong, and the corrected figures the page uses.
#[component]
fn SeedCorrections() -> impl IntoView {
    let lang = use_lang();
    view! {
        <table class="ds-table" data-testid="seed-corrections-table">
            <thead><tr>
                <th scope="col">{t("数字", "Figure")}</th>
                <th scope="col">{t("原文", "Seed says")}</th>
                <th scope="col">{t("正确", "Correct")}</th>
            </tr></thead>
            <tbody>
                {seed_corrections().into_iter().map(|c| {
                    let (claimed, corrected) = (c.claimed.display(), c.corrected.display());
                    let (case, figure, why) = (c.case, c.clone(), c);
                    view! {
                        <tr>
                            <th scope="row">{case} " " {move || figure.figure(lang.get())}
                                <div class="ds-field__hint">{move || why.explanation(lang.get())}</div>
                            </th>
                            <td><s>{claimed}</s></td>
                            <td><strong>{corrected}</strong></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
