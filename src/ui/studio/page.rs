//! The Studio page: the projects (series drafts) and the open project's storyboard, then the
//! playground and the usage ledger.

use crate::domain::cost::ledger::LedgerEntry;
use crate::ui::common::ledger_view::{load_ledger, LedgerView, StudioLedger};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::ui::studio::batch_panel::{provide_batch_service, BatchPanel};
use crate::ui::studio::playground::Playground;
use crate::ui::studio::projects::ProjectsPanel;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Studio: keep the series' drafts and edit their storyboards, run a route in the playground
/// and see what every call cost in the ledger.
#[component]
pub fn StudioPage() -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let ledger = RwSignal::new(Vec::<LedgerEntry>::new());
    provide_context(StudioLedger(ledger));
    // Batches started here or by other features; unfinished ones resume once keys are loaded.
    provide_batch_service(ledger);
    spawn_local(async move {
        match load_ledger().await {
            Ok((entries, damaged)) => {
                // Calls recorded while the ledger was loading come after the stored ones.
                ledger.update(|current| {
                    let recent = std::mem::replace(current, entries);
                    current.extend(recent);
                });
                if let Some(e) = damaged {
                    state.storage_error.set(Some(e));
                }
            }
            Err(e) => state.storage_error.set(Some(e)),
        }
    });
    view! {
        <section class="ds-page" data-testid="page-studio">
            <h1>{t("工作室", "Studio")}</h1>
            <p class="ds-lead">{t(
                "在这里把剧本变成分镜、台词版本和视频片段：每一步都按任务路由到合适的模型，先报价再花钱，草稿保存在本机。现在可以先用试运行调用任一路由，并在账本中查看每次调用的用量与费用。",
                "Here a script becomes a storyboard, dialogue takes and video clips: each step is routed to the right model, quoted before it spends, and kept as a draft on this device. For now, run any route in the playground and see each call's usage and cost in the ledger.",
            )}</p>
            {move || state.storage_error.get().map(|e| view! {
                <div class="ds-alert ds-alert--error" role="alert" data-testid="storage-error">
                    {e.message(lang.get())}
                    " "
                    <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" on:click=move |_| state.storage_error.set(None)>
                        {t("知道了", "Dismiss")}
                    </button>
                </div>
            })}
            <ProjectsPanel/>
            <BatchPanel/>
            <Playground/>
            <LedgerView ledger/>
        </section>
    }
}
