//! The open project's model: one stored copy of the project and the signals the editor's panels
//! read from it ([`EditorModel`]).
//!
//! **One copy, fine-grained views.** Every edit changes the project through the domain
//! ([`Project::edit_shot`] for a shot, [`Project::edit`] for everything else) with this tab's id,
//! and then hands it to the [`Autosaver`]. The page reads two kinds of signals derived from it:
//! one [`Header`] (names, characters, episodes, scenes and the order of their shots) and one
//! `RwSignal<Shot>` per shot. A shot edit sets only its own signal, so one card re-renders, not
//! 564; a merge from another tab or a save sets only the signals whose value changed.
//!
//! It lives apart from the editor that mounts the panels, so every panel imports the model and
//! none imports the editor.

use std::collections::{HashMap, HashSet};

use crate::domain::i18n::Lang;
use crate::domain::project::merge::{apply_remote, SavedNotice};
use crate::domain::project::{next_shot_number, Budget, Character, IdGen, Project, Scene, Shot};
use crate::web::dom::{perf_mark, perf_measure};
use crate::web::drafts::{Autosaver, DraftError, Drafts, SaveStatus};
use crate::web::tabs;
use leptos::prelude::*;

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

    pub fn episode(&self, id: &str) -> Option<&EpisodeHead> {
        self.episodes.iter().find(|e| e.id == id)
    }

    pub(crate) fn scene(&self, id: &str) -> Option<&SceneHead> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .find(|s| s.id == id)
    }
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
    pub fn alive(&self) -> bool {
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

    /// The autosaver's handle, to reach it after the editor closed (`try_get_value`).
    pub fn autosaver_handle(&self) -> StoredValue<Autosaver, LocalStorage> {
        self.autosaver
    }

    /// Whether another tab's save is ahead of the copy open here.
    pub fn is_behind(&self, notice: &SavedNotice) -> bool {
        self.project.with_value(|p| notice.is_ahead_of(p))
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
        self.edit(|p, ids| p.scene_mut(scene_id).map(|scene| change(scene, ids)))
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
        let place = self.project.with_value(|p| p.shot_place(shot_id));
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
                    if let Some(scene) = p.scene_mut(&scene_id) {
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
