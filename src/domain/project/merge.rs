//! Reconciling two copies of one project edited in two tabs: per-shot last writer wins, with
//! the losing edit kept in the project's history.
//!
//! **Order of edits.** Two versions of a shot are ordered by [`edit_order`]: the higher
//! `version` wins; equal versions are broken by the later `updated_ms`, then by the greater tab
//! id, then by the content itself, so every pair has one winner whichever side it is seen from.
//! The project's header (name, settings, characters, episodes and scenes without their shots)
//! is settled the same way by its own `version`, as a whole: of two concurrent header edits
//! (say a rename in one tab and a new scene in another) one wins and the other is not kept,
//! except that shots of a scene the winner lacks go to the history.
//!
//! **Nothing is lost.** A losing shot edit goes to [`Project::history`] unless it says the same
//! as the winner or is the winner's ancestor ([`Shot::is_ancestor_of`]: an older edit by the
//! same tab, which builds each edit on its own latest state, or one in the winner's lineage). A shot edited in one tab while
//! another removed it is kept when its edit is newer than the removal, and otherwise goes to
//! the history too; so does a shot whose scene the winning header no longer has.
//!
//! ```
//! use duanju_studio::domain::project::Shot;
//! use duanju_studio::domain::project::merge::merge_shot;
//!
//! let mut mine = Shot::new("s1", "1A");
//! mine.touch(1_000.0, "tab-a");
//! mine.action = "她转身离开".into();
//! let mut theirs = Shot::new("s1", "1A");
//! theirs.touch(1_200.0, "tab-b");
//! theirs.action = "她愣在原地".into();
//! let (winner, loser) = merge_shot(&mine, &theirs);
//! assert_eq!(winner.action, "她愣在原地"); // Same version: the later edit wins…
//! assert_eq!(loser.unwrap().action, "她转身离开"); // …and the other is kept for history.
//! ```

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::project::{
    cap_front, HistoryEntry, Project, RemovedShot, Shot, HISTORY_CAP, REMOVED_CAP,
};

/// The total order of two versions of a shot: the greater is the winner.
pub fn edit_order(a: &Shot, b: &Shot) -> Ordering {
    a.version
        .cmp(&b.version)
        .then(a.updated_ms.total_cmp(&b.updated_ms))
        .then_with(|| a.updated_by.cmp(&b.updated_by))
        .then_with(|| content_order(a, b))
}

/// The last tie-break: equal values are equal (checked first, because serialising every
/// unchanged shot of a 564-shot series on each autosave is what made saves slow), others are
/// ordered by their JSON text.
fn content_order<T: PartialEq + serde::Serialize>(a: &T, b: &T) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let a = serde_json::to_string(a).unwrap_or_default();
    let b = serde_json::to_string(b).unwrap_or_default();
    a.cmp(&b)
}

/// Settles two versions of the same shot: returns the winner, and the loser when it is an edit
/// worth keeping in the history (see the module docs). The winner's lineage takes in the
/// loser's, so the same rival is not set aside twice.
pub fn merge_shot(local: &Shot, incoming: &Shot) -> (Shot, Option<Shot>) {
    let (winner, loser) = match edit_order(local, incoming) {
        Ordering::Less => (incoming, local),
        _ => (local, incoming),
    };
    let kept = !loser.same_content(winner) && !loser.is_ancestor_of(winner);
    let mut merged = winner.clone();
    for (tab, version) in &loser.lineage {
        merged.remember(tab, *version);
    }
    merged.remember(&loser.updated_by, loser.version);
    (merged, kept.then(|| loser.clone()))
}

/// The order of two project headers, like [`edit_order`] for shots.
fn header_order(a: &Project, b: &Project) -> Ordering {
    a.version
        .cmp(&b.version)
        .then(a.updated_ms.total_cmp(&b.updated_ms))
        .then_with(|| a.updated_by.cmp(&b.updated_by))
        .then_with(|| {
            // Which copy is the base only matters for what the merge does not settle shot by
            // shot; when that is the same, the two orders give the same merge.
            if same_apart_from_shot_edits(a, b) {
                Ordering::Equal
            } else {
                content_order(a, b)
            }
        })
}

/// Whether two copies differ at most in the contents of shots both have, in the same places.
/// Floats are compared bit for bit, so "equal" here is also equal once serialised.
fn same_apart_from_shot_edits(a: &Project, b: &Project) -> bool {
    let bits = |x: f64| x.to_bits();
    a.schema_version == b.schema_version
        && a.id == b.id
        && a.name == b.name
        && bits(a.created_ms) == bits(b.created_ms)
        && bits(a.updated_ms) == bits(b.updated_ms)
        && bits(a.opened_ms) == bits(b.opened_ms)
        && a.deleted_ms.map(bits) == b.deleted_ms.map(bits)
        && a.settings == b.settings
        && a.characters == b.characters
        && a.video_jobs == b.video_jobs
        && a.history == b.history
        && a.removed_shots == b.removed_shots
        && a.applied_runs == b.applied_runs
        && a.episodes.len() == b.episodes.len()
        && a.episodes.iter().zip(&b.episodes).all(|(x, y)| {
            x.id == y.id
                && x.number == y.number
                && x.title == y.title
                && x.scenes.len() == y.scenes.len()
                && x.scenes.iter().zip(&y.scenes).all(|(s, t)| {
                    s.id == t.id
                        && s.heading == t.heading
                        && s.synopsis == t.synopsis
                        && s.script_text == t.script_text
                        && s.takes == t.takes
                        && s.picked_take == t.picked_take
                        && s.shots.len() == t.shots.len()
                        && s.shots.iter().zip(&t.shots).all(|(u, v)| u.id == v.id)
                })
        })
}

/// Merges `incoming` (the stored copy, or another tab's) into `project`, shot by shot. Lost
/// edits are stamped `lost_at_ms = now_ms`.
pub fn apply_remote(project: &mut Project, incoming: &Project, now_ms: f64) {
    *project = merge_projects(project, incoming, now_ms);
}

/// The merge of two copies of one project. The result does not depend on which copy is
/// `local` and which `incoming`, except for the order of the history.
pub fn merge_projects(local: &Project, incoming: &Project, now_ms: f64) -> Project {
    let (base, other) = match header_order(local, incoming) {
        Ordering::Less => (incoming, local),
        _ => (local, incoming),
    };
    let mut out = base.clone();
    out.opened_ms = local.opened_ms.max(incoming.opened_ms);
    out.updated_ms = local.updated_ms.max(incoming.updated_ms);
    out.removed_shots = union_removed(&local.removed_shots, &incoming.removed_shots);
    // Both copies' applied batch items: a reply that landed in either is not applied again.
    out.applied_runs = base.applied_runs.clone();
    for key in &other.applied_runs {
        out.mark_run_applied(key);
    }
    let mut lost: Vec<Shot> = Vec::new();

    // Shots on both sides: the winner of each pair.
    let other_shots: HashMap<&str, &Shot> = other.shots().map(|s| (s.id.as_str(), s)).collect();
    for shot in out
        .episodes
        .iter_mut()
        .flat_map(|e| e.scenes.iter_mut())
        .flat_map(|s| s.shots.iter_mut())
    {
        if let Some(theirs) = other_shots.get(shot.id.as_str()) {
            // The same shot on both sides (most of them, in an autosave): nothing to settle.
            if shot == *theirs && shot.duration_s.to_bits() == theirs.duration_s.to_bits() {
                continue;
            }
            let (winner, loser) = merge_shot(shot, theirs);
            *shot = winner;
            lost.extend(loser);
        }
    }

    // Shots only the other side has: placed in their scene after their nearest predecessor.
    // (The shots `out` has so far are the base's: settling a pair keeps its id.)
    let present: HashSet<&str> = base.shots().map(|s| s.id.as_str()).collect();
    for scene in other.episodes.iter().flat_map(|e| e.scenes.iter()) {
        for (index, shot) in scene.shots.iter().enumerate() {
            if present.contains(shot.id.as_str()) {
                continue;
            }
            let target = out
                .episodes
                .iter_mut()
                .flat_map(|e| e.scenes.iter_mut())
                .find(|s| s.id == scene.id);
            let Some(target) = target else {
                lost.push(shot.clone());
                continue;
            };
            let after = scene.shots[..index]
                .iter()
                .rev()
                .find_map(|prev| target.shots.iter().position(|s| s.id == prev.id));
            let at = after.map_or(0, |i| i + 1);
            target.shots.insert(at, shot.clone());
        }
    }

    // Removals: a removal newer than the shot's last edit takes it out.
    let removals: HashMap<&str, &RemovedShot> = out
        .removed_shots
        .iter()
        .map(|r| (r.shot_id.as_str(), r))
        .collect();
    let mut outlived: HashSet<String> = HashSet::new();
    for scene in out.episodes.iter_mut().flat_map(|e| e.scenes.iter_mut()) {
        scene
            .shots
            .retain(|shot| match removals.get(shot.id.as_str()) {
                None => true,
                Some(removal) if shot.version > removal.version => {
                    outlived.insert(shot.id.clone());
                    true
                }
                Some(removal) => {
                    if shot.version == removal.version {
                        lost.push(shot.clone());
                    }
                    false
                }
            });
    }
    out.removed_shots.retain(|r| !outlived.contains(&r.shot_id));

    // Video jobs: the header winner's, plus the other side's for shots it has no job for.
    let jobs: HashSet<String> = out.video_jobs.iter().map(|j| j.shot_id.clone()).collect();
    out.video_jobs.extend(
        other
            .video_jobs
            .iter()
            .filter(|j| !jobs.contains(&j.shot_id))
            .cloned(),
    );

    out.history = union_history(&local.history, &incoming.history, lost, now_ms);
    out
}

/// Both sides' removal markers, one per shot (the highest version).
fn union_removed(a: &[RemovedShot], b: &[RemovedShot]) -> Vec<RemovedShot> {
    let mut out: Vec<RemovedShot> = Vec::new();
    for removal in a.iter().chain(b) {
        match out.iter_mut().find(|r| r.shot_id == removal.shot_id) {
            Some(existing) if removal_order(existing, removal) == Ordering::Less => {
                *existing = removal.clone()
            }
            Some(_) => {}
            None => out.push(removal.clone()),
        }
    }
    out.sort_by(|x, y| {
        x.removed_ms
            .total_cmp(&y.removed_ms)
            .then_with(|| x.shot_id.cmp(&y.shot_id))
    });
    cap_front(&mut out, REMOVED_CAP);
    out
}

fn removal_order(a: &RemovedShot, b: &RemovedShot) -> Ordering {
    a.version
        .cmp(&b.version)
        .then(a.removed_ms.total_cmp(&b.removed_ms))
        .then_with(|| a.removed_by.cmp(&b.removed_by))
}

/// Both histories and the newly lost edits, without repeats, oldest first, capped.
fn union_history(
    a: &[HistoryEntry],
    b: &[HistoryEntry],
    lost: Vec<Shot>,
    now_ms: f64,
) -> Vec<HistoryEntry> {
    let fresh = lost.into_iter().map(|shot| HistoryEntry {
        shot_id: shot.id.clone(),
        shot,
        lost_at_ms: now_ms,
    });
    let mut out: Vec<HistoryEntry> = Vec::new();
    for entry in a.iter().cloned().chain(b.iter().cloned()).chain(fresh) {
        let repeat = out.iter().any(|e| {
            e.shot_id == entry.shot_id
                && e.shot.version == entry.shot.version
                && e.shot.updated_by == entry.shot.updated_by
                && e.shot.same_content(&entry.shot)
        });
        if !repeat {
            out.push(entry);
        }
    }
    out.sort_by(|x, y| x.lost_at_ms.total_cmp(&y.lost_at_ms));
    cap_front(&mut out, HISTORY_CAP);
    out
}

/// What a tab tells the others after each save (sent on the `duanju-drafts` broadcast channel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedNotice {
    /// The saved project.
    pub project_id: String,
    /// The tab that saved it.
    pub tab_id: String,
    /// The project shape the saving tab writes ([`crate::domain::project::PROJECT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The storage schema the saving tab runs.
    pub db_version: u32,
    /// The header's version.
    pub header_version: u64,
    /// Every shot's id and version.
    pub shots: Vec<(String, u64)>,
    /// Whether the project is now in the trash.
    pub deleted: bool,
    /// When it was saved.
    pub saved_ms: f64,
}

impl SavedNotice {
    /// The notice for a project just saved by `tab_id`.
    pub fn of(project: &Project, tab_id: &str, db_version: u32, now_ms: f64) -> SavedNotice {
        SavedNotice {
            project_id: project.id.clone(),
            tab_id: tab_id.into(),
            schema_version: project.schema_version,
            db_version,
            header_version: project.version,
            shots: project.shots().map(|s| (s.id.clone(), s.version)).collect(),
            deleted: project.deleted_ms.is_some(),
            saved_ms: now_ms,
        }
    }

    /// Whether the saving tab runs a newer version than ours, so this tab must stop writing.
    pub fn is_from_newer_version(&self, schema_version: u32, db_version: u32) -> bool {
        self.schema_version > schema_version || self.db_version > db_version
    }

    /// Whether `local` lacks something the saved copy has (a newer header, a newer or an
    /// unknown shot): then the tab should load and merge.
    pub fn is_ahead_of(&self, local: &Project) -> bool {
        if self.project_id != local.id {
            return false;
        }
        if self.header_version > local.version || self.deleted != local.deleted_ms.is_some() {
            return true;
        }
        let mine: HashMap<&str, u64> = local.shots().map(|s| (s.id.as_str(), s.version)).collect();
        let removed: HashMap<&str, u64> = local
            .removed_shots
            .iter()
            .map(|r| (r.shot_id.as_str(), r.version))
            .collect();
        let theirs: HashSet<&str> = self.shots.iter().map(|(id, _)| id.as_str()).collect();
        self.shots
            .iter()
            .any(|(id, version)| match mine.get(id.as_str()) {
                Some(v) => version > v,
                None => removed.get(id.as_str()).is_none_or(|r| version >= r),
            })
            || mine.keys().any(|id| !theirs.contains(id))
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
