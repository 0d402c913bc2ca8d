//! The Studio page: projects, the production pipeline and the playground.

use crate::ui::i18n::t;
use leptos::prelude::*;
use leptos_router::components::A;

/// Studio: where a series goes from script to storyboard, takes and clips.
#[component]
pub fn StudioPage() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="page-studio">
            <h1>{t("工作室", "Studio")}</h1>
            <p class="ds-lead">{t(
                "在这里把剧本变成分镜、台词版本和视频片段：每一步都按任务路由到合适的模型，先报价再花钱，草稿保存在本机。",
                "Here a script becomes a storyboard, dialogue takes and video clips: each step is routed to the right model, quoted before it spends, and kept as a draft on this device.",
            )}</p>
            <p class="ds-note" data-testid="studio-not-yet">{t(
                "项目与制作流程尚未开放。现在可以先估算一部剧的成本，或在设置中配置连接。",
                "Projects and the production pipeline are not available yet. For now, estimate a series' cost or set up a connection.",
            )}</p>
            <p class="ds-actions">
                <A href="/" attr:class="ds-btn">{t("去估算成本", "Estimate a series")}</A>
                <A href="/settings" attr:class="ds-btn ds-btn--ghost">{t("配置连接", "Set up a connection")}</A>
            </p>
        </section>
    }
}
