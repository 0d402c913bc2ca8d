//! Picking a chat route: the Playground's and the batch panel's pickers.

use crate::domain::i18n::Lang;
use crate::domain::provider::routing::{Route, TaskType};
use crate::ui::i18n::use_lang;
use leptos::prelude::*;

/// A route as the picker lists it: "剧本初稿 · deepseek-v3.2".
pub(crate) fn route_label(route: &Route, lang: Lang) -> String {
    format!("{} · {}", route.task.label(lang), route.model)
}

/// The `<option>`s of a route picker: each of `routes` as "task · model", the route of `task`
/// selected.
#[component]
pub(crate) fn RouteOptions(
    /// The routes to offer.
    routes: Memo<Vec<Route>>,
    /// The chosen task.
    task: RwSignal<TaskType>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <For
            each=move || routes.get()
            key=|route| (route.task, route.model.clone())
            children=move |route| {
                let value = route.task;
                let label = move || route_label(&route, lang.get());
                view! {
                    <option value=value.as_str() selected=move || task.get() == value>{label}</option>
                }
            }
        />
    }
}
