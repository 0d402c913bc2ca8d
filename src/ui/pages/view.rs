//! The shared-storyboard viewer (`/view#…`).

use crate::ui::i18n::t;
use leptos::prelude::*;
use leptos_router::components::A;

/// Opens a storyboard a collaborator shared by link, read-only, with no key and no account.
#[component]
pub fn SharedViewPage() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="page-view">
            <h1>{t("分镜查看", "Shared storyboard")}</h1>
            <p class="ds-lead">{t(
                "导演或编剧打开同事发来的分镜链接，无需安装、账号或密钥即可阅读。",
                "A director or writer opens a storyboard link from a colleague and reads it with no install, account or key.",
            )}</p>
            <p class="ds-note" data-testid="view-not-yet">{t(
                "分享链接尚未开放：这个链接里没有可显示的分镜。",
                "Share links are not available yet: there is no storyboard in this link to show.",
            )}</p>
            <p class="ds-actions"><A href="/" attr:class="ds-btn">{t("打开工作室首页", "Open Duanju Studio")}</A></p>
        </section>
    }
}
