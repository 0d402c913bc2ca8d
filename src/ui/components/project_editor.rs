//! The open project: its name and frame, its characters, its named versions, and its episodes,
//! scenes and shots, with the save status.
//!
//! **One copy, fine-grained views.** The [`EditorModel`] keeps the project in one stored value,
//! which every edit changes through the domain ([`Project::edit_shot`] for a shot,
//! [`Project::edit`] for everything else) with this tab's id, and then hands to the
//! [`Autosaver`]. The page reads two kinds of signals derived from it: one [`Header`] (names,
//! characters, episodes, scenes and the order of their shots) and one `RwSignal<Shot>` per
//! shot. A shot edit sets only its own signal, so one card re-renders, not 564; a merge from
//! another tab or a save sets only the signals whose value changed.
//!
//! **Other tabs.** When another tab saves the open project, the stored copy is merged into this
//! one ([`apply_remote`]): the other tab's edit appears here and an edit in progress here is
//! kept. When the tab turns read-only, every field is disabled (the body is a disabled
//! `<fieldset>`).

use std::collections::{HashMap, HashSet};

use crate::domain::cost::money::Currency;
use crate::domain::i18n::Lang;
use crate::domain::project::merge::{apply_remote, SavedNotice};
use crate::domain::project::{
    validate_name, Budget, Character, IdGen, Project, Scene, Shot, SnapshotMeta,
    DEFAULT_ASPECT_RATIO,
};
use crate::ui::components::batch_panel::BatchService;
use crate::ui::components::book_editing::{ConfirmButton, FieldError};
use crate::ui::components::ledger_view::{exact_amount, StudioLedger};
use crate::ui::components::projects::{format_time, perf_mark, perf_measure, Workspace};
use crate::ui::components::reveal::Reveal;
use crate::ui::components::shot_card::{css_aspect_ratio, ShotGrid};
use crate::ui::i18n::{t, use_lang};
use crate::web::drafts::{Autosaver, DraftError, Drafts, DraftsEvent, SaveStatus};
use crate::web::tabs;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The frames a project can be set to (the first is the default, vertical short drama).
const ASPECT_RATIOS: [(&str, &str, &str); 5] = [
    (DEFAULT_ASPECT_RATIO, "9:16 竖屏", "9:16 vertical"),
    ("3:4", "3:4 竖屏", "3:4 vertical"),
    ("1:1", "1:1 方形", "1:1 square"),
    ("4:3", "4:3 横屏", "4:3 landscape"),
    ("16:9", "16:9 横屏", "16:9 landscape"),
];

/// A scene as the editor lists it: its text and the order of its shots.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneHead {
    /// The scene id.
    pub id: String,
    /// The heading.
    pub heading: String,
    /// The one-line summary.
    pub synopsis: String,
    /// The Fountain text.
    pub script_text: String,
    /// Its shots' ids, in order.
    pub shot_ids: Vec<String>,
}

/// An episode as the editor lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeHead {
    /// The episode id.
    pub id: String,
    /// Its number, from 1.
    pub number: u32,
    /// Its title.
    pub title: String,
    /// Its scenes.
    pub scenes: Vec<SceneHead>,
}

/// Everything the editor shows of a project except the shots' own fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The series title.
    pub name: String,
    /// The frame setting (`9:16`).
    pub aspect_ratio: String,
    /// The visual style.
    pub style: String,
    /// The spending cap.
    pub budget: Option<Budget>,
    /// The cast.
    pub characters: Vec<Character>,
    /// The episodes.
    pub episodes: Vec<EpisodeHead>,
}

impl Header {
    /// The header of a project.
    pub fn of(project: &Project) -> Header {
        Header {
            name: project.name.clone(),
            aspect_ratio: project.settings.aspect_ratio.clone(),
            style: project.settings.style.clone(),
            budget: project.settings.budget,
            characters: project.characters.clone(),
            episodes: project
                .episodes
                .iter()
                .map(|e| EpisodeHead {
                    id: e.id.clone(),
                    number: e.number,
                    title: e.title.clone(),
                    scenes: e
                        .scenes
                        .iter()
                        .map(|s| SceneHead {
                            id: s.id.clone(),
                            heading: s.heading.clone(),
                            synopsis: s.synopsis.clone(),
                            script_text: s.script_text.clone(),
                            shot_ids: s.shots.iter().map(|k| k.id.clone()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn episode(&self, id: &str) -> Option<&EpisodeHead> {
        self.episodes.iter().find(|e| e.id == id)
    }

    pub(crate) fn scene(&self, id: &str) -> Option<&SceneHead> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .find(|s| s.id == id)
    }
}

/// A scene of a project, to change it.
fn scene_mut<'a>(project: &'a mut Project, scene_id: &str) -> Option<&'a mut Scene> {
    project
        .episodes
        .iter_mut()
        .flat_map(|e| e.scenes.iter_mut())
        .find(|s| s.id == scene_id)
}

/// The scene holding a shot and the shot's position in it.
fn shot_place(project: &Project, shot_id: &str) -> Option<(String, usize, usize)> {
    project
        .episodes
        .iter()
        .flat_map(|e| e.scenes.iter())
        .find_map(|scene| {
            let at = scene.shots.iter().position(|s| s.id == shot_id)?;
            Some((scene.id.clone(), at, scene.shots.len()))
        })
}

/// The number of a new shot at the end of a scene: the scene's place in its episode and the
/// next letter (`3A`, `3B`, …, `3Z`, `3AA`), skipping numbers already used in the scene.
pub fn next_shot_number(project: &Project, scene_id: &str) -> String {
    let place = project.episodes.iter().find_map(|e| {
        let index = e.scenes.iter().position(|s| s.id == scene_id)?;
        Some((index + 1, &e.scenes[index]))
    });
    let Some((scene_number, scene)) = place else {
        return "1A".into();
    };
    let letters = |mut n: usize| {
        let mut out = Vec::new();
        loop {
            out.push(b'A' + (n % 26) as u8);
            if n < 26 {
                break;
            }
            n = n / 26 - 1;
        }
        out.reverse();
        String::from_utf8(out).unwrap_or_default()
    };
    (scene.shots.len()..)
        .map(|n| format!("{scene_number}{}", letters(n)))
        .find(|number| !scene.shots.iter().any(|s| &s.number == number))
        .unwrap_or_default()
}

/// The open project and the signals the page reads from it. Cheap to copy: every part is a
/// handle owned by the editor, disposed when it closes.
#[derive(Clone, Copy)]
pub struct EditorModel {
    project: StoredValue<Project>,
    /// What the page shows outside the cards.
    pub header: RwSignal<Header>,
    shots: StoredValue<HashMap<String, RwSignal<Shot>>>,
    owner: StoredValue<Option<Owner>, LocalStorage>,
    drafts: StoredValue<Drafts, LocalStorage>,
    autosaver: StoredValue<Autosaver, LocalStorage>,
    ids: StoredValue<IdGen>,
    /// The autosave's state.
    pub status: RwSignal<SaveStatus>,
    /// Set when this tab stopped writing: every edit is refused.
    pub read_only: Signal<bool>,
    /// The last reordering, for the live region.
    pub announcement: RwSignal<String>,
    /// Bumped when the project's named versions changed outside the versions panel (an import
    /// that replaced the project keeps the state before as a version).
    pub versions_changed: RwSignal<u32>,
}

impl EditorModel {
    /// The editor of `project`, saving through `drafts`. Its signals belong to the current
    /// owner.
    pub fn new(project: Project, drafts: Drafts, read_only: Signal<bool>) -> EditorModel {
        let seed = format!("{}.ui", drafts.tab_id().trim_start_matches("tab-"));
        let autosaver = Autosaver::new(drafts.clone());
        let header = Header::of(&project);
        let shots = project
            .shots()
            .map(|s| (s.id.clone(), RwSignal::new(s.clone())))
            .collect();
        let model = EditorModel {
            project: StoredValue::new(project),
            header: RwSignal::new(header),
            shots: StoredValue::new(shots),
            owner: StoredValue::new_local(Owner::current()),
            drafts: StoredValue::new_local(drafts),
            autosaver: StoredValue::new_local(autosaver.clone()),
            ids: StoredValue::new(IdGen::new(&seed)),
            status: RwSignal::new(SaveStatus::Idle),
            read_only,
            announcement: RwSignal::new(String::new()),
            versions_changed: RwSignal::new(0),
        };
        autosaver.on_status(move |status| {
            match status {
                SaveStatus::Saving => perf_mark("duanju:save-start"),
                SaveStatus::Saved { .. } => perf_measure("duanju:save", "duanju:save-start"),
                _ => {}
            }
            model.status.try_set(status.clone());
        });
        // A save returns the stored copy merged with ours: take in what it adds (another
        // tab's edits), and skip the merge when it adds nothing, which is the usual case.
        autosaver.on_saved(move |merged| {
            if model.alive() && model.lacks_something_in(merged) {
                model.adopt(merged);
            }
        });
        model
    }

    /// Whether the editor is still open (its values not yet disposed).
    fn alive(&self) -> bool {
        !self.project.is_disposed()
    }

    /// The project's id.
    pub fn id(&self) -> String {
        self.project.with_value(|p| p.id.clone())
    }

    /// A copy of the project as it stands.
    pub fn project(&self) -> Project {
        self.project.get_value()
    }

    /// The signal of a shot.
    pub fn shot_signal(&self, shot_id: &str) -> Option<RwSignal<Shot>> {
        self.shots.with_value(|map| map.get(shot_id).copied())
    }

    fn tab(&self) -> String {
        self.drafts.with_value(|d| d.tab_id().to_owned())
    }

    /// The drafts the editor saves through.
    pub fn drafts(&self) -> Drafts {
        self.drafts.get_value()
    }

    /// The autosaver of the open project.
    pub fn autosaver(&self) -> Autosaver {
        self.autosaver.get_value()
    }

    fn writable(&self) -> bool {
        self.alive() && !self.read_only.get_untracked()
    }

    /// Hands the project to the autosaver.
    fn schedule(&self) {
        let project = self.project.get_value();
        self.autosaver.with_value(|a| a.schedule(project));
    }

    /// Edits one shot (its version is bumped) and schedules the save.
    pub fn edit_shot(&self, shot_id: &str, change: impl FnOnce(&mut Shot)) {
        if !self.writable() {
            return;
        }
        let (now, tab) = (tabs::now_ms(), self.tab());
        let edited = self
            .project
            .try_update_value(|p| {
                p.edit_shot(shot_id, now, &tab, change)
                    .then(|| p.shot(shot_id).cloned())
                    .flatten()
            })
            .flatten();
        let Some(shot) = edited else {
            return;
        };
        if let Some(signal) = self.shot_signal(shot_id) {
            signal.set(shot);
        }
        self.schedule();
    }

    /// Edits the header (anything but a shot's fields) and schedules the save.
    pub fn edit<R>(&self, change: impl FnOnce(&mut Project, &mut IdGen) -> R) -> Option<R> {
        if !self.writable() {
            return None;
        }
        let (now, tab) = (tabs::now_ms(), self.tab());
        let ids = self.ids;
        let result = self.project.try_update_value(|p| {
            p.edit(now, &tab, |p| {
                ids.try_update_value(|ids| change(p, ids))
                    .expect("the editor's ids live as long as its project")
            })
        })?;
        self.sync();
        self.schedule();
        Some(result)
    }

    /// Whether `other` has an edit the open project lacks (a newer header, a newer, unknown
    /// or removed shot).
    pub fn lacks_something_in(&self, other: &Project) -> bool {
        let notice = SavedNotice::of(other, "", 0, 0.0);
        self.project
            .try_with_value(|p| notice.is_ahead_of(p))
            .unwrap_or(false)
    }

    /// Merges a copy of the project (a save's result, another tab's save, a restored version)
    /// into the open one, and updates what changed on the page.
    pub fn adopt(&self, incoming: &Project) {
        if !self.alive() {
            return;
        }
        let now = tabs::now_ms();
        self.project
            .update_value(|p| apply_remote(p, incoming, now));
        self.sync();
    }

    /// Brings the signals in line with the project: new shots get a signal, changed shots a
    /// new value, the header a new value if it changed.
    fn sync(&self) {
        let mut changed: Vec<(RwSignal<Shot>, Shot)> = Vec::new();
        let owner = self.owner.get_value();
        self.project.with_value(|p| {
            self.shots.update_value(|map| {
                let mut present = HashSet::new();
                for shot in p.shots() {
                    present.insert(shot.id.as_str());
                    match map.get(&shot.id) {
                        Some(signal) => {
                            if signal.with_untracked(|s| s != shot) {
                                changed.push((*signal, shot.clone()));
                            }
                        }
                        None => {
                            let make = || RwSignal::new(shot.clone());
                            let signal = match &owner {
                                Some(owner) => owner.with(make),
                                None => make(),
                            };
                            map.insert(shot.id.clone(), signal);
                        }
                    }
                }
                // A removed shot's signal stays alive until its card is gone (it is owned by
                // the editor); it only leaves the index.
                map.retain(|id, _| present.contains(id.as_str()));
            })
        });
        for (signal, shot) in changed {
            signal.set(shot);
        }
        let header = self.project.with_value(Header::of);
        if self.header.with_untracked(|h| *h != header) {
            self.header.set(header);
        }
    }

    /// Appends a new shot to a scene and returns its id.
    pub fn add_shot(&self, scene_id: &str) -> Option<String> {
        if !self.writable() {
            return None;
        }
        let (now, tab) = (tabs::now_ms(), self.tab());
        let number = self.project.with_value(|p| next_shot_number(p, scene_id));
        let id = self.ids.try_update_value(|ids| ids.next_id("shot"))?;
        let added = self
            .project
            .try_update_value(|p| p.add_shot(scene_id, Shot::new(id, number), now, &tab))
            .flatten()?;
        self.sync();
        self.schedule();
        Some(added)
    }

    /// Adds `shots` at the end of a scene, each with a fresh id and the scene's next number
    /// (their own are replaced); with `replace`, the scene's shots are removed first. Returns
    /// the new ids.
    pub fn add_shots(&self, scene_id: &str, shots: Vec<Shot>, replace: bool) -> Vec<String> {
        if !self.writable() {
            return Vec::new();
        }
        let (now, tab) = (tabs::now_ms(), self.tab());
        if replace {
            self.project.update_value(|p| {
                let old: Vec<String> = p
                    .scene(scene_id)
                    .map(|s| s.shots.iter().map(|k| k.id.clone()).collect())
                    .unwrap_or_default();
                for id in old {
                    p.remove_shot(&id, now, &tab);
                }
            });
        }
        let mut added = Vec::new();
        for mut shot in shots {
            let Some(id) = self.ids.try_update_value(|ids| ids.next_id("shot")) else {
                break;
            };
            shot.id = id;
            shot.number = self.project.with_value(|p| next_shot_number(p, scene_id));
            let stored = self
                .project
                .try_update_value(|p| p.add_shot(scene_id, shot, now, &tab))
                .flatten();
            added.extend(stored);
        }
        self.sync();
        self.schedule();
        added
    }

    /// Edits one scene's own fields (its takes, its pick) as a header change; `None` when the
    /// editor is read-only or there is no such scene.
    pub fn edit_scene<R>(
        &self,
        scene_id: &str,
        change: impl FnOnce(&mut Scene, &mut IdGen) -> R,
    ) -> Option<R> {
        self.edit(|p, ids| scene_mut(p, scene_id).map(|scene| change(scene, ids)))
            .flatten()
    }

    /// Removes a shot (other tabs remove it too on their next merge).
    pub fn remove_shot(&self, shot_id: &str) {
        if !self.writable() {
            return;
        }
        let (now, tab) = (tabs::now_ms(), self.tab());
        let removed = self
            .project
            .try_update_value(|p| p.remove_shot(shot_id, now, &tab))
            .flatten();
        if removed.is_some() {
            self.sync();
            self.schedule();
        }
    }

    /// Moves a shot one place up or down in its scene and announces where it went.
    pub fn move_shot(&self, shot_id: &str, up: bool, lang: Lang) {
        let place = self.project.with_value(|p| shot_place(p, shot_id));
        let Some((scene_id, at, len)) = place else {
            return;
        };
        let to = if up { at.checked_sub(1) } else { Some(at + 1) }.filter(|to| *to < len);
        let number = self
            .project
            .with_value(|p| p.shot(shot_id).map(|s| s.number.clone()))
            .unwrap_or_default();
        let message = match to {
            Some(to) => {
                let moved = self.edit(|p, _| {
                    if let Some(scene) = scene_mut(p, &scene_id) {
                        scene.shots.swap(at, to);
                    }
                });
                if moved.is_none() {
                    return;
                }
                match lang {
                    Lang::ZhCn => format!("镜头 {number} 已移到第 {} 位（共 {len} 个）。", to + 1),
                    Lang::En => format!("Shot {number} moved to position {} of {len}.", to + 1),
                }
            }
            None => match (up, lang) {
                (true, Lang::ZhCn) => format!("镜头 {number} 已经是本场第一个。"),
                (true, Lang::En) => format!("Shot {number} is already first in its scene."),
                (false, Lang::ZhCn) => format!("镜头 {number} 已经是本场最后一个。"),
                (false, Lang::En) => format!("Shot {number} is already last in its scene."),
            },
        };
        self.announce(message);
    }

    /// Says something in the live region (cleared first, so a repeat is announced again).
    pub fn announce(&self, message: String) {
        let announcement = self.announcement;
        announcement.set(String::new());
        request_animation_frame(move || {
            announcement.try_set(message);
        });
    }

    /// Saves now whatever waits for the debounce.
    pub async fn flush(&self) -> Result<(), DraftError> {
        if !self.alive() {
            return Ok(());
        }
        self.autosaver().flush().await.map(|_| ())
    }
}

/// The save indicator: "已保存 / Saved", "正在保存… / Saving…", or the failure with its full
/// message and a retry (the edit stays in memory until a save succeeds).
#[component]
fn SaveIndicator(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let state = move || match model.status.get() {
        SaveStatus::Idle => "idle",
        SaveStatus::Pending => "pending",
        SaveStatus::Saving => "saving",
        SaveStatus::Saved { .. } => "saved",
        SaveStatus::Error(_) => "error",
    };
    let label = move || match model.status.get() {
        SaveStatus::Idle => lang.get().pick("已保存", "Saved").to_owned(),
        status => status.label(lang.get()),
    };
    let failed = move || matches!(model.status.get(), SaveStatus::Error(_));
    let retry = move |_| {
        spawn_local(async move {
            let _ = model.flush().await;
        });
    };
    view! {
        <div class="ds-proj-status">
            <p
                class="ds-proj-status__text"
                class:ds-proj-status__text--error=failed
                data-testid="save-status"
                data-state=state
                role="status"
            >
                {label}
            </p>
            <Show when=failed>
                <button
                    type="button"
                    class="ds-btn ds-btn--small"
                    data-testid="save-retry"
                    on:click=retry
                >
                    {t("重试保存", "Retry saving")}
                </button>
            </Show>
        </div>
    }
}

/// How many lines a header field takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// A labelled text field (an input, or a textarea for [`Lines::Many`]) bound to one string of
/// the header.
fn header_field(
    model: EditorModel,
    lines: Lines,
    label: impl Fn() -> &'static str + Send + Sync + Copy + 'static,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(&mut Project, String) + Copy + 'static,
) -> impl IntoView {
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        model.edit(move |p, _| commit(p, text));
    };
    let control = match lines {
        Lines::One => view! {
            <input type="text" data-testid=testid autocomplete="off" prop:value=value on:input=on_input/>
        }
        .into_any(),
        Lines::Many => view! {
            <textarea rows="6" data-testid=testid prop:value=value on:input=on_input></textarea>
        }
        .into_any(),
    };
    view! {
        <label class="ds-field">
            <span class="ds-field__label">{label}</span>
            {control}
        </label>
    }
}

/// A labelled one-line text input bound to one string of the header.
fn header_input(
    model: EditorModel,
    label: impl Fn() -> &'static str + Send + Sync + Copy + 'static,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(&mut Project, String) + Copy + 'static,
) -> impl IntoView {
    header_field(model, Lines::One, label, testid, value, commit)
}

/// The project's spending cap: an amount and its currency. Every pipeline batch of the project
/// stops before the project's ledger total could pass it; what is left is shown here.
#[component]
fn ProjectBudget(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let ledger = use_context::<StudioLedger>();
    let service = use_context::<BatchService>();
    let initial = header.with_untracked(|h| h.budget);
    let text = RwSignal::new(initial.map(|b| b.amount.to_decimal()).unwrap_or_default());
    let currency = RwSignal::new(initial.map_or(Currency::Usd, |b| b.currency));
    let error = RwSignal::new(None::<FieldError>);
    let commit = move || match Budget::parse(currency.get_untracked(), &text.get_untracked()) {
        Ok(budget) => {
            error.set(None);
            model.edit(move |p, _| p.settings.budget = budget);
            if let Some(service) = service {
                service.project_budget_changed(&model.id(), budget);
            }
        }
        Err(e) => error.set(Some(FieldError::new(|l| {
            format!(
                "{}{}",
                l.pick(
                    "预算格式不对，例如 500 或 12.5：",
                    "The budget is not an amount, e.g. 500 or 12.5: "
                ),
                e.message(l)
            )
        }))),
    };
    let left = move || {
        let budget = header.with(|h| h.budget)?;
        let project = model.id();
        let remaining = match ledger {
            Some(StudioLedger(all)) => all.with(|all| budget.remaining(all, &project)),
            None => budget.money(),
        };
        let (remaining, cap) = (exact_amount(remaining), exact_amount(budget.money()));
        Some(match lang.get() {
            Lang::ZhCn => format!("剩余 {remaining} / 预算 {cap}（按本项目在账本中的花费计算）"),
            Lang::En => format!("{remaining} left of {cap} (the project's spend in the ledger)"),
        })
    };
    view! {
        <div class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
            <label for="proj-editor-budget">{t("项目预算（可空）", "Project budget (optional)")}</label>
            <div class="ds-budget-row">
                <input
                    id="proj-editor-budget"
                    type="text"
                    inputmode="decimal"
                    data-testid="editor-budget"
                    autocomplete="off"
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby="proj-editor-budget-help"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        commit();
                    }
                />
                <select
                    data-testid="editor-budget-currency"
                    aria-label=move || lang.get().pick("预算币种", "Budget currency")
                    on:change=move |ev| {
                        currency.set(if event_target_value(&ev) == "CNY" { Currency::Cny } else { Currency::Usd });
                        commit();
                    }
                >
                    <option value="USD" selected=move || currency.get() == Currency::Usd>"USD $"</option>
                    <option value="CNY" selected=move || currency.get() == Currency::Cny>"CNY ¥"</option>
                </select>
            </div>
            <span class="ds-field__hint" class:ds-field__error=move || error.with(Option::is_some) id="proj-editor-budget-help" data-testid="editor-budget-left" aria-live="polite">
                {move || match error.get() {
                    Some(e) => e.message(lang.get()).to_owned(),
                    None => left().unwrap_or_else(|| lang.get().pick(
                        "不设上限。设置后，本项目的批量任务会在可能超出预算前停止。",
                        "No cap. With one, this project's batches stop before they could pass it.",
                    ).to_owned()),
                }}
            </span>
        </div>
    }
}

/// The project's name (checked as it is typed), frame and style.
#[component]
fn ProjectSettings(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let name_error = RwSignal::new(None::<FieldError>);
    let header = model.header;
    let on_name = move |ev| match validate_name(&event_target_value(&ev)) {
        Ok(name) => {
            name_error.set(None);
            model.edit(move |p, _| p.name = name);
        }
        Err(e) => name_error.set(Some(FieldError::new(|l| e.message(l)))),
    };
    view! {
        <div class="ds-proj-settings">
            <div class="ds-field" class:ds-field--invalid=move || name_error.with(Option::is_some)>
                <label for="proj-editor-name">{t("项目名称", "Project name")}</label>
                <input
                    id="proj-editor-name"
                    type="text"
                    data-testid="editor-name"
                    autocomplete="off"
                    aria-invalid=move || name_error.with(Option::is_some).then_some("true")
                    aria-describedby=move || {
                        name_error.with(Option::is_some).then_some("proj-editor-name-error")
                    }
                    prop:value=move || header.with(|h| h.name.clone())
                    on:input=on_name
                />
                {move || name_error.get().map(|e| view! {
                    <span class="ds-field__error" id="proj-editor-name-error" data-testid="editor-name-error">
                        {move || e.message(lang.get()).to_owned()}
                    </span>
                })}
            </div>
            <label class="ds-field">
                <span class="ds-field__label">{t("画幅", "Frame")}</span>
                <select
                    data-testid="editor-aspect"
                    prop:value=move || header.with(|h| h.aspect_ratio.clone())
                    on:change=move |ev| {
                        let ratio = event_target_value(&ev);
                        model.edit(move |p, _| p.settings.aspect_ratio = ratio);
                    }
                >
                    {move || {
                        let current = header.with_untracked(|h| h.aspect_ratio.clone());
                        let known = ASPECT_RATIOS.iter().any(|(v, ..)| *v == current);
                        let custom = (!known).then(|| view! {
                            <option value=current.clone() selected=true>{current.clone()}</option>
                        });
                        let options = ASPECT_RATIOS
                            .iter()
                            .map(|(value, zh, en)| view! {
                                <option value=*value selected=current == *value>
                                    {lang.get().pick(zh, en)}
                                </option>
                            })
                            .collect_view();
                        (custom, options)
                    }}
                </select>
            </label>
            {header_input(
                model,
                t("画面风格", "Visual style"),
                "editor-style",
                move || header.with(|h| h.style.clone()),
                |p, v| p.settings.style = v,
            )}
            <ProjectBudget model=model/>
        </div>
    }
}

/// The cast: one card per character, and a button to add one.
#[component]
fn CharacterList(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let header = model.header;
    let ids = move || {
        header.with(|h| {
            h.characters
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        })
    };
    let add = move |_| {
        model.edit(|p, ids| {
            p.characters.push(Character {
                id: ids.next_id("c"),
                name: String::new(),
                description: String::new(),
                voice: String::new(),
                look: String::new(),
                reference_notes: String::new(),
            })
        });
    };
    view! {
        <section class="ds-proj-section" aria-labelledby="proj-cast-title">
            <h3 id="proj-cast-title">{t("角色", "Characters")}</h3>
            <Show when=move || header.with(|h| h.characters.is_empty())>
                <p class="ds-field__hint">{t("还没有角色。", "No characters yet.")}</p>
            </Show>
            <div class="ds-proj-cast">
                <For each=ids key=|id| id.clone() let:id>
                    <CharacterCard model id/>
                </For>
            </div>
            <button type="button" class="ds-btn ds-btn--ghost" data-testid="char-add" on:click=add>
                {t("添加角色", "Add character")}
            </button>
        </section>
    }
}

/// One character: name, description, voice, look and reference notes.
#[component]
fn CharacterCard(
    /// The open project.
    model: EditorModel,
    /// The character's id.
    id: String,
) -> impl IntoView {
    let header = model.header;
    let key = StoredValue::new(id);
    let character = Memo::new(move |_| {
        key.with_value(|id| header.with(|h| h.characters.iter().find(|c| &c.id == id).cloned()))
    });
    let field = move |get: fn(&Character) -> &str| {
        move || {
            character
                .with(|c| c.as_ref().map(|c| get(c).to_owned()))
                .unwrap_or_default()
        }
    };
    let set = move |set: fn(&mut Character, String)| {
        move |p: &mut Project, text: String| {
            let id = key.get_value();
            if let Some(c) = p.characters.iter_mut().find(|c| c.id == id) {
                set(c, text);
            }
        }
    };
    let remove = Callback::new(move |()| {
        let id = key.get_value();
        model.edit(move |p, _| p.characters.retain(|c| c.id != id));
    });
    view! {
        <div class="ds-proj-character" data-testid="char-item">
            {header_input(model, t("名字", "Name"), "char-name", field(|c| &c.name), set(|c, v| c.name = v))}
            {header_input(model, t("人物简介", "Description"), "char-description", field(|c| &c.description), set(|c, v| c.description = v))}
            {header_input(model, t("声音", "Voice"), "char-voice", field(|c| &c.voice), set(|c, v| c.voice = v))}
            {header_input(model, t("外形", "Look"), "char-look", field(|c| &c.look), set(|c, v| c.look = v))}
            {header_input(model, t("参考图备注", "Reference notes"), "char-notes", field(|c| &c.reference_notes), set(|c, v| c.reference_notes = v))}
            <ConfirmButton testid="char-remove" label=Signal::derive(t("删除角色", "Remove character")) on_confirm=remove/>
        </div>
    }
}

/// Named versions: take one, list them, restore one (the state before is kept as a version).
#[component]
fn Snapshots(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let list = RwSignal::new(Vec::<SnapshotMeta>::new());
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<FieldError>);
    let busy = RwSignal::new(false);
    let report = move |e: DraftError| problem.set(Some(FieldError::new(|l| e.message(l))));
    let refresh = move || {
        spawn_local(async move {
            if !model.alive() {
                return;
            }
            match model.drafts().snapshots(&model.id()).await {
                Ok(items) => list.set(items),
                Err(e) => report(e),
            }
        })
    };
    Effect::new(move |_| {
        model.versions_changed.track();
        refresh();
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = name.get_untracked();
        let label = if typed.trim().is_empty() {
            format!(
                "{} {}",
                lang.get_untracked().pick("版本", "Version"),
                format_time(tabs::now_ms(), lang.get_untracked())
            )
        } else {
            typed
        };
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let result = async {
                model.flush().await?;
                model.drafts().create_snapshot(&model.id(), &label).await
            }
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    name.set(String::new());
                    refresh();
                }
                Err(e) => report(e),
            }
        });
    };
    let restore = move |snapshot_id: String| {
        Callback::new(move |()| {
            let snapshot_id = snapshot_id.clone();
            problem.set(None);
            spawn_local(async move {
                let result = async {
                    model.flush().await?;
                    model
                        .drafts()
                        .restore_snapshot(&snapshot_id, lang.get_untracked())
                        .await
                }
                .await;
                match result {
                    Ok(project) => {
                        model.adopt(&project);
                        refresh();
                    }
                    Err(e) => report(e),
                }
            });
        })
    };
    view! {
        <section class="ds-proj-section" aria-labelledby="proj-snapshots-title">
            <h3 id="proj-snapshots-title">{t("版本快照", "Named versions")}</h3>
            <form class="ds-proj-inline" on:submit=create>
                <label class="ds-field">
                    <span class="ds-field__label">{t("版本名称（可留空）", "Version name (optional)")}</span>
                    <input
                        type="text"
                        data-testid="snapshot-name"
                        autocomplete="off"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="ds-btn" data-testid="snapshot-create" disabled=move || busy.get()>
                    {t("保存为版本", "Save as version")}
                </button>
            </form>
            {move || problem.get().map(|e| view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="snapshot-error">
                    {move || e.message(lang.get()).to_owned()}
                </p>
            })}
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=|| view! { <p class="ds-field__hint">{t("还没有保存的版本。", "No saved versions yet.")}</p> }
            >
                <ul class="ds-proj-snapshots">
                    <For each=move || list.get() key=|s| s.id.clone() let:snapshot>
                        <li class="ds-proj-snapshot" data-testid="snapshot-item" data-id=snapshot.id.clone()>
                            <span class="ds-proj-snapshot__name">{snapshot.name.clone()}</span>
                            <span class="ds-field__hint">
                                {move || format_time(snapshot.created_ms, lang.get())}
                            </span>
                            <ConfirmButton
                                testid="snapshot-restore"
                                label=Signal::derive(t("恢复此版本", "Restore this version"))
                                on_confirm=restore(snapshot.id.clone())
                            />
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// One scene: heading, synopsis, script text (shown on demand), and its shots as cards.
#[component]
fn SceneView(
    /// The open project.
    model: EditorModel,
    /// The scene's id.
    id: String,
    /// Its place in the episode, from 1.
    number: usize,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let key = StoredValue::new(id);
    let scene = Memo::new(move |_| key.with_value(|id| header.with(|h| h.scene(id).cloned())));
    let text = move |get: fn(&SceneHead) -> &str| {
        move || {
            scene
                .with(|s| s.as_ref().map(|s| get(s).to_owned()))
                .unwrap_or_default()
        }
    };
    let set = move |set: fn(&mut Scene, String)| {
        move |p: &mut Project, value: String| {
            let id = key.get_value();
            if let Some(scene) = scene_mut(p, &id) {
                set(scene, value);
            }
        }
    };
    let shot_ids = move || {
        scene
            .with(|s| s.as_ref().map(|s| s.shot_ids.clone()))
            .unwrap_or_default()
    };
    let script_open = RwSignal::new(false);
    // Built in its turn (a long storyboard is built a slice at a time: see `reveal`).
    let shots = scene.with_untracked(|s| s.as_ref().map_or(0, |s| s.shot_ids.len()));
    let shown = use_context::<Reveal>().map_or_else(|| RwSignal::new(true), |r| r.admit(shots));
    let add = move |_| {
        if let Some(id) = model.add_shot(&key.get_value()) {
            // Put the cursor in the new shot's action.
            request_animation_frame(move || focus_shot_field(&id, "shot-action"));
        }
    };
    let title = move || match lang.get() {
        Lang::ZhCn => format!("第 {number} 场 {}", text(|s| &s.heading)()),
        Lang::En => format!("Scene {number} {}", text(|s| &s.heading)()),
    };
    view! {
        <section class="ds-proj-scene" data-testid="scene" data-id=key.get_value()
            aria-busy=move || (!shown.get()).then_some("true")>
            <h4 class="ds-proj-scene__title">{title}</h4>
            <Show when=move || shown.get() fallback=move || view! {
                // About the height of the scene's cards (four to a row on a laptop).
                <div class="ds-proj-scene__pending" style:--ds-pending-rows=shots.div_ceil(4).max(1).to_string()></div>
            }>
            <div class="ds-proj-scene__fields">
                {header_input(model, t("场景标题", "Scene heading"), "scene-heading", text(|s| &s.heading), set(|s, v| s.heading = v))}
                {header_input(model, t("梗概", "Synopsis"), "scene-synopsis", text(|s| &s.synopsis), set(|s, v| s.synopsis = v))}
            </div>
            <details class="ds-proj-scene__script" on:toggle=move |ev| {
                let open = ev
                    .target()
                    .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
                    .and_then(|open| open.as_bool())
                    .unwrap_or(false);
                script_open.set(open);
            }>
                <summary>{t("剧本", "Script")}</summary>
                <Show when=move || script_open.get()>
                    {header_field(model, Lines::Many, t("剧本文本（Fountain）", "Script text (Fountain)"), "scene-script", text(|s| &s.script_text), set(|s, v| s.script_text = v))}
                </Show>
            </details>
            <ShotGrid model shot_ids=Signal::derive(shot_ids)/>
            <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="shot-add" on:click=add>
                {t("添加镜头", "Add shot")}
            </button>
            </Show>
        </section>
    }
}

/// Moves the focus to one field of a shot's card.
fn focus_shot_field(shot_id: &str, testid: &str) {
    use wasm_bindgen::JsCast;
    let selector =
        format!("[data-testid=\"shot-card\"][data-id=\"{shot_id}\"] [data-testid=\"{testid}\"]");
    let field = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(field) = field {
        let _ = field.focus();
    }
}

/// One episode: its title, its scenes and a button to add one.
#[component]
fn EpisodeView(
    /// The open project.
    model: EditorModel,
    /// The episode's id.
    id: String,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let key = StoredValue::new(id);
    let number = move || {
        key.with_value(|id| header.with(|h| h.episode(id).map(|e| e.number)))
            .unwrap_or(0)
    };
    let scene_ids = move || {
        key.with_value(|id| {
            header.with(|h| {
                h.episode(id)
                    .map(|e| {
                        e.scenes
                            .iter()
                            .enumerate()
                            .map(|(i, s)| (i + 1, s.id.clone()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        })
    };
    let title_value = move || {
        key.with_value(|id| header.with(|h| h.episode(id).map(|e| e.title.clone())))
            .unwrap_or_default()
    };
    let set_title = move |p: &mut Project, title: String| {
        let id = key.get_value();
        if let Some(e) = p.episodes.iter_mut().find(|e| e.id == id) {
            e.title = title;
        }
    };
    let add_scene = move |_| {
        let id = key.get_value();
        model.edit(move |p, ids| p.add_scene(&id, ids, ""));
    };
    view! {
        <section class="ds-proj-episode" data-testid="episode" data-id=key.get_value()>
            <h3 class="ds-proj-episode__title">
                {move || match lang.get() {
                    Lang::ZhCn => format!("第 {} 集", number()),
                    Lang::En => format!("Episode {}", number()),
                }}
            </h3>
            {header_input(model, t("本集标题", "Episode title"), "episode-title", title_value, set_title)}
            <For each=scene_ids key=|(n, id)| (*n, id.clone()) let:((number, id))>
                <SceneView model id number/>
            </For>
            <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="scene-add" on:click=add_scene>
                {t("添加一场", "Add scene")}
            </button>
        </section>
    }
}

/// The editor of the open project.
///
/// Test ids: `project-editor` (with `data-id` and `data-rendered` once the cards are in the
/// page), `save-status` (`data-state`: idle, pending, saving, saved, error), `editor-name`,
/// `editor-aspect`, `editor-style`, `char-*`, `snapshot-*`, `episode-add`, `scene-add`,
/// `shot-add`, `proj-close`, and the cards' ids (see [`ShotCard`]).
#[component]
pub fn ProjectEditor(
    /// The open project.
    model: EditorModel,
    /// The projects list it was opened from.
    workspace: Workspace,
) -> impl IntoView {
    let header = model.header;
    let rendered = RwSignal::new(false);
    // The scenes are built in turn (see `reveal`); the last one ends the full render's measure.
    let reveal = Reveal::new(Callback::new(|()| {
        perf_measure("duanju:render-all", "duanju:render-start");
    }));
    provide_context(reveal);
    // Runs once the first render is in the page: the render benchmark's end mark.
    Effect::new(move |_| {
        perf_measure("duanju:render", "duanju:render-start");
        perf_measure("duanju:open-to-render", "duanju:open");
        rendered.set(true);
        reveal.settle();
    });
    // Another tab saved the open project: merge the stored copy into this one. The copy is
    // read first and merged after, so edits made here meanwhile are kept.
    let drafts = model.drafts();
    let listener = drafts.on_event(move |event| {
        let DraftsEvent::RemoteSaved(notice) = event else {
            return;
        };
        if !model.alive() || notice.project_id != model.id() {
            return;
        }
        let ahead = model.project.with_value(|p| notice.is_ahead_of(p));
        if !ahead {
            return;
        }
        spawn_local(async move {
            if !model.alive() {
                return;
            }
            match model.drafts().load(&model.id()).await {
                Ok(stored) => {
                    model.adopt(&stored);
                    if stored.deleted_ms.is_some() {
                        workspace.closed_elsewhere();
                    }
                }
                Err(e) => model.status.set(SaveStatus::Error(e)),
            }
        });
    });
    // Keep the projects list's entry (counts, names for search) in step with each save.
    model
        .autosaver()
        .on_saved(move |merged| workspace.saved(merged.meta()));
    let listener_owner = StoredValue::new_local(drafts);
    let autosaver = model.autosaver;
    on_cleanup(move || {
        if let Some(drafts) = listener_owner.try_get_value() {
            drafts.remove_listener(listener);
        }
        // Leaving the page with an edit pending: write it (the autosaver outlives the editor
        // until the save ends).
        if let Some(saver) = autosaver.try_get_value() {
            if saver.has_unsaved() {
                spawn_local(async move {
                    let _ = saver.flush().await;
                });
            }
        }
    });
    let ratio = move || header.with(|h| css_aspect_ratio(&h.aspect_ratio));
    let episode_ids =
        move || header.with(|h| h.episodes.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
    let add_episode = move |_| {
        model.edit(|p, ids| p.add_episode(ids, ""));
    };
    let close = move |_| workspace.close();
    view! {
        <section
            class="ds-card ds-proj-editor"
            aria-labelledby="proj-editor-title"
            data-testid="project-editor"
            data-id=model.id()
            data-rendered=move || rendered.get().to_string()
            data-complete=move || reveal.complete.get().to_string()
        >
            <div class="ds-proj-editor__top">
                <h2 id="proj-editor-title">{move || header.with(|h| h.name.clone())}</h2>
                <SaveIndicator model/>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="proj-close" on:click=close>
                    {t("关闭项目", "Close project")}
                </button>
            </div>
            <fieldset class="ds-proj-editor__body" disabled=move || model.read_only.get()>
                <legend class="ds-visually-hidden">{t("编辑项目", "Edit the project")}</legend>
                <ProjectSettings model/>
                <CharacterList model/>
                <Snapshots model/>
                <crate::ui::components::script_panel::ScriptPanel model/>
                <crate::ui::components::storyboard_panel::StoryboardPanel model/>
                <crate::ui::components::takes_panel::TakesPanel model/>
                <crate::ui::components::clips_panel::ClipsPanel model/>
                <section class="ds-proj-section" aria-labelledby="proj-board-title">
                    <h3 id="proj-board-title">{t("分集与分镜", "Episodes and storyboard")}</h3>
                    <div class="ds-proj-board" style:--ds-shot-ratio=ratio>
                        <For each=episode_ids key=|id| id.clone() let:id>
                            <EpisodeView model id/>
                        </For>
                    </div>
                    <button type="button" class="ds-btn ds-btn--ghost" data-testid="episode-add" on:click=add_episode>
                        {t("添加一集", "Add episode")}
                    </button>
                </section>
            </fieldset>
            <p class="ds-visually-hidden" aria-live="polite" data-testid="shot-announce">
                {move || model.announcement.get()}
            </p>
        </section>
    }
}
