//! The Estimate page: what a series costs, on which provider, in ¥ and $.

use crate::ui::i18n::t;
use leptos::prelude::*;

/// Estimate: a production plan in, spend per stage, model and profile out.
#[component]
pub fn EstimatePage() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="page-estimate">
            <h1>{t("成本估算", "Cost estimate")}</h1>
        </section>
    }
}
