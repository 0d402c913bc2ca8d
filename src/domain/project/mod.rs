//! The series model: a [`Project`] is one short-drama series, with its settings, characters,
//! episodes, scenes, shots, dialogue takes and video jobs, as the studio keeps it in its drafts.
//!
//! The model is plain data with serde, versioned by [`PROJECT_SCHEMA_VERSION`]. Older shapes are
//! brought up to date by the explicit migrations of [`crate::domain::project::file`]; concurrent
//! edits from two tabs are reconciled by [`crate::domain::project::merge`]. Nothing here reads a
//! clock or a random source: every time is passed in as `now_ms` (milliseconds since the Unix
//! epoch) and every new id comes from an [`IdGen`] seeded by the caller.
//!
//! **Versions.** Each [`Shot`] carries its own `version`, bumped by every edit
//! ([`Project::edit_shot`]), with the time and the tab that made it. Everything else in a project
//! (name, settings, characters, episode and scene text, takes) is the project's *header*, with
//! one version of its own bumped by [`Project::edit`]. Two tabs that edit different shots never
//! conflict; two that edit the same shot are settled shot by shot, and the losing edit is kept in
//! [`Project::history`].
//!
//! **No secrets.** A project has no field for an API key or a connection: exporting one can
//! never leak a key.
//!
//! ```
//! use duanju_studio::domain::project::{IdGen, Project, Shot};
//!
//! let mut ids = IdGen::new("tab1");
//! let mut project = Project::new(ids.next_id("p"), "逆袭千金", 1_000.0, "tab1");
//! let scene = project.edit(1_500.0, "tab1", |p| {
//!     let episode = p.add_episode(&mut ids, "第1集");
//!     p.add_scene(&episode, &mut ids, "INT. 豪宅客厅 - 夜").unwrap()
//! });
//! let shot = project.add_shot(&scene, Shot::new(ids.next_id("shot"), "1A"), 2_000.0, "tab1");
//! assert!(project.edit_shot(&shot.unwrap(), 3_000.0, "tab1", |s| s.action = "推门而入".into()));
//! assert_eq!(project.shots().next().unwrap().version, 2);
//! ```

use serde::{Deserialize, Serialize};

use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::{Currency, DecimalError, Micros, Money};
use crate::domain::i18n::Lang;
use crate::domain::provider::routing::RouteTable;

/// The shape of a project this build reads and writes. Version 1 is described in
/// [`crate::domain::project::file::migrate_v1_to_v2`].
pub const PROJECT_SCHEMA_VERSION: u32 = 2;
/// The frame of a new project: vertical short drama.
pub const DEFAULT_ASPECT_RATIO: &str = "9:16";
/// How long a deleted project stays restorable in the trash.
pub const TRASH_RETENTION_MS: f64 = 30.0 * 24.0 * 60.0 * 60.0 * 1000.0;
/// How many lost shot edits a project keeps in its history (the oldest are dropped first).
pub const HISTORY_CAP: usize = 200;
/// How many removed-shot markers a project keeps.
pub const REMOVED_CAP: usize = 1_000;
/// The longest project name, in characters.
pub const NAME_MAX_CHARS: usize = 200;

/// One series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// The shape of this record: [`PROJECT_SCHEMA_VERSION`] once loaded.
    pub schema_version: u32,
    /// Stable id, the key of the project in storage.
    pub id: String,
    /// The series title shown in the projects list.
    pub name: String,
    /// When it was created (ms since the epoch).
    pub created_ms: f64,
    /// When it was last edited.
    pub updated_ms: f64,
    /// When it was last opened: the projects list shows the most recent first.
    #[serde(default)]
    pub opened_ms: f64,
    /// The header's version: bumped by every edit outside the shots.
    #[serde(default)]
    pub version: u64,
    /// The tab that made the header's last edit.
    #[serde(default)]
    pub updated_by: String,
    /// When it was moved to the trash; `None` while it is live.
    #[serde(default)]
    pub deleted_ms: Option<f64>,
    /// Frame, style, budget and routes.
    #[serde(default)]
    pub settings: ProjectSettings,
    /// The cast.
    #[serde(default)]
    pub characters: Vec<Character>,
    /// The episodes in order.
    #[serde(default)]
    pub episodes: Vec<Episode>,
    /// One video-generation job per shot that has been sent.
    #[serde(default)]
    pub video_jobs: Vec<VideoJob>,
    /// Shot edits that lost a concurrent merge, newest last, at most [`HISTORY_CAP`].
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Shots removed on purpose, so that a merge with an older copy does not bring them back.
    #[serde(default)]
    pub removed_shots: Vec<RemovedShot>,
    /// The pipeline batch items whose replies already landed here (`{batch id}#{index}`, at
    /// most [`APPLIED_RUNS_CAP`], oldest first): a page reloaded during a storyboard run
    /// resumes the batch and puts each reply in once, not twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_runs: Vec<String>,
}

/// How many applied batch items a project remembers (a run of a whole episode is one item per
/// scene; a season of reruns fits many times over).
pub const APPLIED_RUNS_CAP: usize = 512;

/// Per-project settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectSettings {
    /// The frame, `"9:16"` by default.
    #[serde(default = "default_aspect_ratio")]
    pub aspect_ratio: String,
    /// A free-text visual style passed to the storyboard and video prompts.
    #[serde(default)]
    pub style: String,
    /// A spending cap for the series, if the producer set one.
    #[serde(default)]
    pub budget: Option<Budget>,
    /// Routes that replace the workspace's routing table for this series.
    #[serde(default)]
    pub routes_override: Option<RouteTable>,
}

fn default_aspect_ratio() -> String {
    DEFAULT_ASPECT_RATIO.into()
}

impl Default for ProjectSettings {
    fn default() -> ProjectSettings {
        ProjectSettings {
            aspect_ratio: default_aspect_ratio(),
            style: String::new(),
            budget: None,
            routes_override: None,
        }
    }
}

/// A spending cap, exact to the millionth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The currency the cap is set in.
    pub currency: Currency,
    /// The amount, in whole units with up to six decimals (`500` is $500).
    pub amount: Micros,
}

impl Budget {
    /// Parses a cap typed by the user (`"500"`, `"12.5"`); an empty text means no cap.
    pub fn parse(currency: Currency, text: &str) -> Result<Option<Budget>, DecimalError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let amount = Micros::parse(text)?;
        Ok(Some(Budget { currency, amount }))
    }

    /// The cap as money.
    pub fn money(self) -> Money {
        self.amount.money(self.currency)
    }

    /// What is left once `entries` (the whole ledger) are charged to project `project_id`:
    /// the cap minus every call the ledger holds for that project, in the cap's currency.
    /// Negative when the project is already over its cap.
    pub fn remaining(self, entries: &[LedgerEntry], project_id: &str) -> Money {
        let spent = Money::sum(
            self.currency,
            entries
                .iter()
                .filter(|e| e.project.as_deref() == Some(project_id))
                .map(|e| e.cost().in_currency(self.currency)),
        );
        self.money() - spent
    }

    /// What one batch of the project may still commit (the engine's project remainder): what
    /// is left once the ledger is charged, with the batch's own billed answers added back (the
    /// ledger holds them and the engine counts them itself), less what the project's other work
    /// has at risk (requests and clips sent and not billed yet, at their worst case).
    pub fn remaining_for_batch(
        self,
        entries: &[LedgerEntry],
        project_id: &str,
        own_spent: Money,
        others_at_risk: Money,
    ) -> Money {
        self.remaining(entries, project_id) + own_spent - others_at_risk
    }
}

/// A character of the series: the bible entry reused in every prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Character {
    /// Stable id within the project.
    pub id: String,
    /// The name as it appears in dialogue cues.
    pub name: String,
    /// Who they are.
    #[serde(default)]
    pub description: String,
    /// How they sound.
    #[serde(default)]
    pub voice: String,
    /// How they look.
    #[serde(default)]
    pub look: String,
    /// Notes on reference images or casting.
    #[serde(default)]
    pub reference_notes: String,
}

/// One episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Stable id within the project.
    pub id: String,
    /// Episode number, from 1.
    pub number: u32,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Scenes in order.
    #[serde(default)]
    pub scenes: Vec<Scene>,
}

/// One scene: its script text, its shots and its dialogue takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Stable id within the project: from a Fountain scene number (`#12A#`) when the script
    /// has one, generated otherwise (see [`scene_id`]).
    pub id: String,
    /// The scene heading (`INT. 豪宅客厅 - 夜`).
    #[serde(default)]
    pub heading: String,
    /// A one-line summary.
    #[serde(default)]
    pub synopsis: String,
    /// The scene's script, as Fountain text.
    #[serde(default)]
    pub script_text: String,
    /// Shots in order.
    #[serde(default)]
    pub shots: Vec<Shot>,
    /// Dialogue variations of the scene.
    #[serde(default)]
    pub takes: Vec<Take>,
    /// The take the director picked, by id.
    #[serde(default)]
    pub picked_take: Option<String>,
}

/// Where a shot stands in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ShotStatus {
    /// Being written.
    #[default]
    Draft,
    /// Approved for generation.
    Ready,
    /// A clip is being generated.
    Generating,
    /// A clip exists.
    Done,
    /// Generation failed.
    Failed,
}

/// One shot of the storyboard, with its own version for merges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// Stable id, unique across projects (clips are stored by shot id).
    pub id: String,
    /// The shot number within its scene, `"1A"`.
    pub number: String,
    /// Shot size (`close-up`, `全景`…).
    #[serde(default)]
    pub shot_size: String,
    /// Camera angle.
    #[serde(default)]
    pub camera_angle: String,
    /// Camera movement.
    #[serde(default)]
    pub movement: String,
    /// Duration in seconds.
    #[serde(default)]
    pub duration_s: f64,
    /// What happens.
    #[serde(default)]
    pub action: String,
    /// Spoken lines.
    #[serde(default)]
    pub dialogue: String,
    /// The emotional tone.
    #[serde(default)]
    pub emotional_tone: String,
    /// Visual elements to show.
    #[serde(default)]
    pub visual_elements: Vec<String>,
    /// Characters in frame, by name.
    #[serde(default)]
    pub characters: Vec<String>,
    /// Free notes.
    #[serde(default)]
    pub notes: String,
    /// Production status.
    #[serde(default)]
    pub status: ShotStatus,
    /// Bumped by every edit; the higher version wins a merge.
    #[serde(default)]
    pub version: u64,
    /// When the last edit was made.
    #[serde(default)]
    pub updated_ms: f64,
    /// The tab that made the last edit.
    #[serde(default)]
    pub updated_by: String,
    /// The other tabs' edits this version was built on: for each tab, the highest version of
    /// its edits in this shot's past (the shot's own tab's earlier versions are implied). A merge
    /// uses it to tell an ancestor from a rival edit. At most [`LINEAGE_CAP`] tabs, the most
    /// recent; a forgotten ancestor is merely kept in the history once more, never lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<(String, u64)>,
}

/// How many tabs a shot's lineage remembers.
pub const LINEAGE_CAP: usize = 16;

impl Shot {
    /// A blank shot at version 1.
    pub fn new(id: impl Into<String>, number: impl Into<String>) -> Shot {
        Shot {
            id: id.into(),
            number: number.into(),
            shot_size: String::new(),
            camera_angle: String::new(),
            movement: String::new(),
            duration_s: 5.0,
            action: String::new(),
            dialogue: String::new(),
            emotional_tone: String::new(),
            visual_elements: Vec::new(),
            characters: Vec::new(),
            notes: String::new(),
            status: ShotStatus::Draft,
            version: 1,
            updated_ms: 0.0,
            updated_by: String::new(),
            lineage: Vec::new(),
        }
    }

    /// Whether two shots say the same thing, whatever their version stamps.
    pub fn same_content(&self, other: &Shot) -> bool {
        self.id == other.id
            && self.number == other.number
            && self.shot_size == other.shot_size
            && self.camera_angle == other.camera_angle
            && self.movement == other.movement
            && self.duration_s.to_bits() == other.duration_s.to_bits()
            && self.action == other.action
            && self.dialogue == other.dialogue
            && self.emotional_tone == other.emotional_tone
            && self.visual_elements == other.visual_elements
            && self.characters == other.characters
            && self.notes == other.notes
            && self.status == other.status
    }

    /// Records an edit: the next version, made now by `tab`, built on the current one.
    pub fn touch(&mut self, now_ms: f64, tab: &str) {
        let (by, version) = (std::mem::take(&mut self.updated_by), self.version);
        self.version += 1;
        self.updated_ms = now_ms;
        self.updated_by = tab.into();
        self.remember(&by, version);
    }

    /// Adds a tab's version to the lineage (keeping the higher one if the tab is there).
    pub(crate) fn remember(&mut self, tab: &str, version: u64) {
        if tab.is_empty() || tab == self.updated_by {
            return;
        }
        match self.lineage.iter_mut().find(|(t, _)| t == tab) {
            Some(entry) => entry.1 = entry.1.max(version),
            None => self.lineage.push((tab.to_owned(), version)),
        }
        self.lineage
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.lineage.truncate(LINEAGE_CAP);
    }

    /// Whether `self` is in the past of `later`: an earlier edit by the same tab, or one that
    /// `later`'s lineage records.
    pub fn is_ancestor_of(&self, later: &Shot) -> bool {
        self.version < later.version
            && (self.updated_by == later.updated_by
                || later
                    .lineage
                    .iter()
                    .any(|(tab, version)| *tab == self.updated_by && *version >= self.version))
    }
}

/// One dialogue variation of a scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Take {
    /// Stable id within the scene.
    pub id: String,
    /// The lines.
    #[serde(default)]
    pub dialogue: String,
    /// Stage direction.
    #[serde(default)]
    pub stage_direction: String,
    /// Emotional tone.
    #[serde(default)]
    pub emotional_tone: String,
    /// The model that wrote it.
    #[serde(default)]
    pub model: String,
    /// What it cost, in dollars.
    #[serde(default)]
    pub cost: Option<Micros>,
    /// A locked take is kept when the scene's takes are regenerated.
    #[serde(default)]
    pub locked: bool,
}

/// Where a video job stands at its provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VideoJobStatus {
    /// Saved but not yet sent.
    #[default]
    Pending,
    /// Accepted by the provider, waiting.
    Queued,
    /// Rendering.
    InProgress,
    /// The clip is ready.
    Completed,
    /// The provider reported a failure.
    Failed,
    /// Sent, but the tab closed before the answer: the outcome is unknown.
    Unknown,
}

/// The video generation of one shot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoJob {
    /// The shot it renders.
    pub shot_id: String,
    /// The provider's job id, once accepted.
    #[serde(default)]
    pub provider_job_id: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: VideoJobStatus,
    /// The key of the clip in the `clips` store, once downloaded.
    #[serde(default)]
    pub clip_ref: Option<String>,
    /// What it cost, in dollars.
    #[serde(default)]
    pub cost: Option<Micros>,
    /// The provider's error message, if it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The API shape it was sent to (`openai` or `generate`), so polling resumes on the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// The model asked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// Seconds asked (after mapping to what the model accepts).
    #[serde(default)]
    pub seconds: u32,
    /// The resolution billed (`720p`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolution: String,
    /// When it was saved before sending (ms since the epoch); polling gives up counted from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_ms: Option<f64>,
    /// When the clip was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<f64>,
}

impl VideoJob {
    /// A job saved before it is sent.
    pub fn pending(shot_id: &str) -> VideoJob {
        VideoJob {
            shot_id: shot_id.into(),
            provider_job_id: None,
            status: VideoJobStatus::Pending,
            clip_ref: None,
            cost: None,
            error: None,
            shape: None,
            model: String::new(),
            seconds: 0,
            resolution: String::new(),
            submitted_ms: None,
            finished_ms: None,
        }
    }
}

/// A shot edit that lost a concurrent merge, kept so nobody's work disappears.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The shot it belongs to.
    pub shot_id: String,
    /// The losing version of the shot, as its author left it.
    pub shot: Shot,
    /// When the merge set it aside.
    pub lost_at_ms: f64,
}

/// A shot removed on purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemovedShot {
    /// The removed shot.
    pub shot_id: String,
    /// The version the removal counts as: one more than the shot's last.
    pub version: u64,
    /// When.
    pub removed_ms: f64,
    /// By which tab.
    pub removed_by: String,
}

/// Makes ids without a random source: a caller-chosen seed (random in the browser, fixed in
/// tests) and a counter. Ids from two generators with different seeds never collide.
#[derive(Clone, Debug)]
pub struct IdGen {
    seed: String,
    next: u64,
}

impl IdGen {
    /// A generator whose ids all contain `seed`.
    pub fn new(seed: &str) -> IdGen {
        IdGen {
            seed: seed.into(),
            next: 0,
        }
    }

    /// The next id, `{kind}-{seed}-{n}`.
    pub fn next_id(&mut self, kind: &str) -> String {
        self.next += 1;
        format!("{kind}-{}-{:x}", self.seed, self.next)
    }
}

/// A scene's id: from its Fountain scene number when it has one (`e3-s12A`), else from its
/// position (`e3-i4`). The two forms cannot collide.
pub fn scene_id(episode_number: u32, fountain_number: Option<&str>, index: usize) -> String {
    match fountain_number.map(str::trim).filter(|n| !n.is_empty()) {
        Some(number) => format!("e{episode_number}-s{number}"),
        None => format!("e{episode_number}-i{}", index + 1),
    }
}

impl Project {
    /// An empty project made now by `tab`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, now_ms: f64, tab: &str) -> Project {
        Project {
            schema_version: PROJECT_SCHEMA_VERSION,
            id: id.into(),
            name: name.into(),
            created_ms: now_ms,
            updated_ms: now_ms,
            opened_ms: now_ms,
            version: 1,
            updated_by: tab.into(),
            deleted_ms: None,
            settings: ProjectSettings::default(),
            characters: Vec::new(),
            episodes: Vec::new(),
            video_jobs: Vec::new(),
            history: Vec::new(),
            removed_shots: Vec::new(),
            applied_runs: Vec::new(),
        }
    }

    /// True when the reply of batch item `key` already landed in this project.
    pub fn run_applied(&self, key: &str) -> bool {
        self.applied_runs.iter().any(|k| k == key)
    }

    /// Records that the reply of batch item `key` landed; false when it already had (then the
    /// caller must not apply it again).
    pub fn mark_run_applied(&mut self, key: &str) -> bool {
        if self.run_applied(key) {
            return false;
        }
        self.applied_runs.push(key.to_string());
        cap_front(&mut self.applied_runs, APPLIED_RUNS_CAP);
        true
    }

    /// Edits the header (anything but the shots) and records the edit.
    pub fn edit<R>(&mut self, now_ms: f64, tab: &str, change: impl FnOnce(&mut Project) -> R) -> R {
        let result = change(self);
        self.version += 1;
        self.updated_ms = self.updated_ms.max(now_ms);
        self.updated_by = tab.into();
        result
    }

    /// Every shot, in episode, scene and shot order.
    pub fn shots(&self) -> impl Iterator<Item = &Shot> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .flat_map(|s| s.shots.iter())
    }

    /// The number of shots.
    pub fn shot_count(&self) -> usize {
        self.shots().count()
    }

    /// A shot by id.
    pub fn shot(&self, shot_id: &str) -> Option<&Shot> {
        self.shots().find(|s| s.id == shot_id)
    }

    fn shot_mut(&mut self, shot_id: &str) -> Option<&mut Shot> {
        self.episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .flat_map(|s| s.shots.iter_mut())
            .find(|s| s.id == shot_id)
    }

    /// A scene by id.
    pub fn scene(&self, scene_id: &str) -> Option<&Scene> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .find(|s| s.id == scene_id)
    }

    /// A scene by id, to change it.
    pub fn scene_mut(&mut self, scene_id: &str) -> Option<&mut Scene> {
        self.episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .find(|s| s.id == scene_id)
    }

    /// The scene holding a shot, the shot's position in it and the scene's shot count.
    pub fn shot_place(&self, shot_id: &str) -> Option<(String, usize, usize)> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .find_map(|scene| {
                let at = scene.shots.iter().position(|s| s.id == shot_id)?;
                Some((scene.id.clone(), at, scene.shots.len()))
            })
    }

    /// Edits one shot and bumps its version; `false` if there is no such shot.
    pub fn edit_shot(
        &mut self,
        shot_id: &str,
        now_ms: f64,
        tab: &str,
        change: impl FnOnce(&mut Shot),
    ) -> bool {
        let Some(shot) = self.shot_mut(shot_id) else {
            return false;
        };
        change(shot);
        shot.touch(now_ms, tab);
        self.updated_ms = self.updated_ms.max(now_ms);
        true
    }

    /// Appends an episode and returns its id. A header change: call it inside [`Project::edit`].
    pub fn add_episode(&mut self, ids: &mut IdGen, title: &str) -> String {
        let id = ids.next_id("ep");
        let number = self.episodes.iter().map(|e| e.number).max().unwrap_or(0) + 1;
        let episode = Episode {
            id: id.clone(),
            number,
            title: title.into(),
            scenes: Vec::new(),
        };
        self.episodes.push(episode);
        id
    }

    /// Appends a scene with a generated id to an episode; `None` without the episode. A header
    /// change: call it inside [`Project::edit`].
    pub fn add_scene(
        &mut self,
        episode_id: &str,
        ids: &mut IdGen,
        heading: &str,
    ) -> Option<String> {
        let episode = self.episodes.iter_mut().find(|e| e.id == episode_id)?;
        let id = format!("{}-{}", episode.id, ids.next_id("sc"));
        episode.scenes.push(Scene {
            id: id.clone(),
            heading: heading.into(),
            synopsis: String::new(),
            script_text: String::new(),
            shots: Vec::new(),
            takes: Vec::new(),
            picked_take: None,
        });
        Some(id)
    }

    /// Appends a shot to a scene, stamped as made now by `tab`. Returns its id, or `None` when
    /// the scene does not exist or the id is taken.
    pub fn add_shot(
        &mut self,
        scene_id: &str,
        mut shot: Shot,
        now_ms: f64,
        tab: &str,
    ) -> Option<String> {
        if self.shot(&shot.id).is_some() {
            return None;
        }
        let scene = self
            .episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .find(|s| s.id == scene_id)?;
        shot.version = shot.version.max(1);
        shot.updated_ms = now_ms;
        shot.updated_by = tab.into();
        let id = shot.id.clone();
        scene.shots.push(shot);
        self.updated_ms = self.updated_ms.max(now_ms);
        Some(id)
    }

    /// Removes a shot and remembers the removal so merges do not resurrect it.
    pub fn remove_shot(&mut self, shot_id: &str, now_ms: f64, tab: &str) -> Option<Shot> {
        for scene in self.episodes.iter_mut().flat_map(|e| e.scenes.iter_mut()) {
            if let Some(index) = scene.shots.iter().position(|s| s.id == shot_id) {
                let shot = scene.shots.remove(index);
                self.removed_shots.push(RemovedShot {
                    shot_id: shot.id.clone(),
                    version: shot.version + 1,
                    removed_ms: now_ms,
                    removed_by: tab.into(),
                });
                cap_front(&mut self.removed_shots, REMOVED_CAP);
                self.updated_ms = self.updated_ms.max(now_ms);
                return Some(shot);
            }
        }
        None
    }

    /// Whether the project is in the trash.
    pub fn is_in_trash(&self) -> bool {
        self.deleted_ms.is_some()
    }

    /// Whether a trashed project can still be restored at `now_ms` (within 30 days). A live
    /// project is trivially restorable.
    pub fn is_restorable(&self, now_ms: f64) -> bool {
        restorable(self.deleted_ms, now_ms)
    }

    /// The list entry of this project.
    pub fn meta(&self) -> ProjectMeta {
        let mut headings = Vec::new();
        let mut scenes = 0;
        for scene in self.episodes.iter().flat_map(|e| e.scenes.iter()) {
            scenes += 1;
            if !scene.heading.is_empty() && !headings.contains(&scene.heading) {
                headings.push(scene.heading.clone());
            }
        }
        ProjectMeta {
            id: self.id.clone(),
            name: self.name.clone(),
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            opened_ms: self.opened_ms,
            deleted_ms: self.deleted_ms,
            episodes: self.episodes.len(),
            scenes,
            shots: self.shot_count(),
            characters: self.characters.iter().map(|c| c.name.clone()).collect(),
            scene_headings: headings,
        }
    }

    /// A copy with a new project id and new shot and take ids (clips are stored by shot id, so
    /// two projects must never share one). Episode, scene and character ids are local to a
    /// project and kept. References (picked takes, video jobs, history) follow the new ids;
    /// the history and removal markers of the original are not copied.
    pub fn with_new_ids(&self, ids: &mut IdGen, now_ms: f64, tab: &str) -> Project {
        let mut copy = self.clone();
        copy.id = ids.next_id("p");
        copy.created_ms = now_ms;
        copy.updated_ms = now_ms;
        copy.opened_ms = now_ms;
        copy.version = 1;
        copy.updated_by = tab.into();
        copy.deleted_ms = None;
        copy.history.clear();
        copy.removed_shots.clear();
        copy.applied_runs.clear();
        let mut shot_ids = std::collections::HashMap::new();
        for scene in copy.episodes.iter_mut().flat_map(|e| e.scenes.iter_mut()) {
            for shot in &mut scene.shots {
                let new_id = ids.next_id("shot");
                shot_ids.insert(shot.id.clone(), new_id.clone());
                shot.id = new_id;
                shot.lineage.clear();
                shot.version = 1;
                shot.updated_ms = now_ms;
                shot.updated_by = tab.into();
            }
            let mut take_ids = std::collections::HashMap::new();
            for take in &mut scene.takes {
                let new_id = ids.next_id("take");
                take_ids.insert(take.id.clone(), new_id.clone());
                take.id = new_id;
            }
            scene.picked_take = scene
                .picked_take
                .as_ref()
                .and_then(|t| take_ids.get(t).cloned());
        }
        copy.video_jobs
            .retain_mut(|job| match shot_ids.get(&job.shot_id) {
                Some(new_id) => {
                    job.shot_id = new_id.clone();
                    true
                }
                None => false,
            });
        copy
    }

    /// This project replaced by `content` (a snapshot or an imported file) as a new edit made
    /// now by `tab`: the id, creation and trash state stay, every version is bumped above both
    /// sides so other tabs take the replacement, and shots that disappear are marked removed.
    pub fn replaced_by(&self, content: &Project, now_ms: f64, tab: &str) -> Project {
        let mut next = content.clone();
        next.schema_version = PROJECT_SCHEMA_VERSION;
        next.id = self.id.clone();
        next.created_ms = self.created_ms;
        next.opened_ms = self.opened_ms.max(content.opened_ms);
        next.deleted_ms = self.deleted_ms;
        next.version = self.version.max(content.version) + 1;
        next.updated_ms = now_ms;
        next.updated_by = tab.into();
        next.history = self.history.clone();
        next.removed_shots = self.removed_shots.clone();
        for shot in next
            .episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .flat_map(|s| s.shots.iter_mut())
        {
            let current = self.shot(&shot.id).map_or(0, |s| s.version);
            shot.version = shot.version.max(current) + 1;
            shot.updated_ms = now_ms;
            shot.updated_by = tab.into();
        }
        next.removed_shots
            .retain(|r| next_has_not(&next.episodes, &r.shot_id));
        let gone: Vec<&Shot> = self
            .shots()
            .filter(|s| next_has_not(&next.episodes, &s.id))
            .collect();
        for shot in gone {
            next.removed_shots.push(RemovedShot {
                shot_id: shot.id.clone(),
                version: shot.version + 1,
                removed_ms: now_ms,
                removed_by: tab.into(),
            });
        }
        cap_front(&mut next.removed_shots, REMOVED_CAP);
        next
    }
}

fn next_has_not(episodes: &[Episode], shot_id: &str) -> bool {
    !episodes
        .iter()
        .flat_map(|e| e.scenes.iter())
        .flat_map(|s| s.shots.iter())
        .any(|s| s.id == shot_id)
}

/// Drops the oldest entries so at most `cap` remain.
pub(crate) fn cap_front<T>(list: &mut Vec<T>, cap: usize) {
    if list.len() > cap {
        let excess = list.len() - cap;
        list.drain(..excess);
    }
}

fn restorable(deleted_ms: Option<f64>, now_ms: f64) -> bool {
    match deleted_ms {
        None => true,
        Some(deleted) => now_ms - deleted <= TRASH_RETENTION_MS,
    }
}

/// What the projects list shows of a project, kept beside it in storage so the list never
/// loads whole series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectMeta {
    /// The project's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Created.
    pub created_ms: f64,
    /// Last edited.
    pub updated_ms: f64,
    /// Last opened.
    pub opened_ms: f64,
    /// In the trash since.
    #[serde(default)]
    pub deleted_ms: Option<f64>,
    /// Number of episodes.
    pub episodes: usize,
    /// Number of scenes.
    pub scenes: usize,
    /// Number of shots.
    pub shots: usize,
    /// Character names, for search.
    #[serde(default)]
    pub characters: Vec<String>,
    /// Distinct scene headings, for search.
    #[serde(default)]
    pub scene_headings: Vec<String>,
}

impl ProjectMeta {
    /// Whether it can still be restored from the trash at `now_ms`.
    pub fn is_restorable(&self, now_ms: f64) -> bool {
        restorable(self.deleted_ms, now_ms)
    }

    /// When it leaves the trash for good, if it is in it.
    pub fn purge_at_ms(&self) -> Option<f64> {
        self.deleted_ms.map(|d| d + TRASH_RETENTION_MS)
    }
}

/// Sorts the list most recently opened first (then most recently edited, then by id, so the
/// order is total).
pub fn sort_recent(list: &mut [ProjectMeta]) {
    list.sort_by(|a, b| {
        b.opened_ms
            .total_cmp(&a.opened_ms)
            .then(b.updated_ms.total_cmp(&a.updated_ms))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// What a sweep of the trash found ([`purge_expired`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrashSweep {
    /// The trashed projects whose 30 days are over: the caller deletes them from storage.
    pub expired: Vec<ProjectMeta>,
    /// The trashed projects deleted "in the future" (see [`settled_deletion_ms`]), whose
    /// deletion time was set to now in the list: the caller stores the new time.
    pub clock_settled: Vec<ProjectMeta>,
}

/// When a project trashed at `deleted_ms` counts as deleted, read at `now_ms`: `deleted_ms`
/// itself, or `now_ms` when that lies in the future. A deletion time after now means the clock
/// was set back since (or was ahead when the project was deleted); left as it is, the project
/// would stay in the trash until the clock caught up, which may be years. Counting its 30 days
/// from now keeps it restorable for the full time and then purges it.
pub fn settled_deletion_ms(deleted_ms: f64, now_ms: f64) -> f64 {
    // A deletion time that is not a number is no time at all: it counts from now too.
    let in_the_future = deleted_ms > now_ms || deleted_ms.is_nan();
    if in_the_future && now_ms.is_finite() {
        now_ms
    } else {
        deleted_ms
    }
}

/// Sweeps the trash of `list` at `now_ms`: removes the projects whose 30 days are over and
/// returns them in [`TrashSweep::expired`]; a project whose deletion time lies after `now_ms`
/// is never purged: its deletion time becomes `now_ms` ([`settled_deletion_ms`]) and it is
/// returned in [`TrashSweep::clock_settled`] for the caller to store, so a clock set back
/// neither purges the trash early nor keeps a project in it for ever.
pub fn purge_expired(list: &mut Vec<ProjectMeta>, now_ms: f64) -> TrashSweep {
    let mut sweep = TrashSweep::default();
    for meta in list.iter_mut() {
        if let Some(deleted) = meta.deleted_ms {
            let settled = settled_deletion_ms(deleted, now_ms);
            if settled.to_bits() != deleted.to_bits() {
                meta.deleted_ms = Some(settled);
                sweep.clock_settled.push(meta.clone());
            }
        }
    }
    let (expired, kept) = std::mem::take(list)
        .into_iter()
        .partition(|m| !m.is_restorable(now_ms));
    *list = kept;
    sweep.expired = expired;
    sweep
}

/// Folds text for search: lower case, full-width Latin letters and digits to ASCII, and the
/// ideographic space to a space. Chinese, Japanese and Korean text is matched as it is, by
/// substring, since it has no word breaks.
pub fn fold_for_search(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a project matches a search: every whitespace-separated term of `query` is found in
/// its name, a character's name or a scene heading (case-insensitive; full-width and half-width
/// Latin alike). An empty query matches everything.
pub fn matches_search(meta: &ProjectMeta, query: &str) -> bool {
    let query = fold_for_search(query);
    let haystack: Vec<String> = std::iter::once(&meta.name)
        .chain(meta.characters.iter())
        .chain(meta.scene_headings.iter())
        .map(|t| fold_for_search(t))
        .collect();
    query
        .split_whitespace()
        .all(|term| haystack.iter().any(|h| h.contains(term)))
}

/// The projects of `list` that match `query`, in the list's order.
pub fn search<'a>(list: &'a [ProjectMeta], query: &str) -> Vec<&'a ProjectMeta> {
    list.iter().filter(|m| matches_search(m, query)).collect()
}

/// Why a project name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Empty or only spaces.
    Empty,
    /// Longer than [`NAME_MAX_CHARS`] characters.
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
}

impl NameError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (NameError::Empty, Lang::ZhCn) => "项目名称不能为空。".into(),
            (NameError::Empty, Lang::En) => "The project name cannot be empty.".into(),
            (NameError::TooLong { chars }, Lang::ZhCn) => {
                format!("项目名称太长（{chars} 个字符，最多 {NAME_MAX_CHARS} 个）。")
            }
            (NameError::TooLong { chars }, Lang::En) => {
                format!(
                    "The project name is too long ({chars} characters, at most {NAME_MAX_CHARS})."
                )
            }
        }
    }
}

/// Checks a name typed by the user and returns it trimmed.
pub fn validate_name(name: &str) -> Result<String, NameError> {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        Err(NameError::Empty)
    } else if chars > NAME_MAX_CHARS {
        Err(NameError::TooLong { chars })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// The name of a duplicate: `逆袭千金 (副本)` / `Rise (copy)`, shortened so it stays valid.
pub fn duplicate_name(name: &str, lang: Lang) -> String {
    let suffix = lang.pick(" (副本)", " (copy)");
    let room = NAME_MAX_CHARS - suffix.chars().count();
    let base: String = name.trim().chars().take(room).collect();
    format!("{base}{suffix}")
}

/// A named version of a project, kept to restore later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Stable id; starts with the project id and `~` so one project's snapshots sort together.
    pub id: String,
    /// The project it is a version of.
    pub project_id: String,
    /// The name the producer gave it.
    pub name: String,
    /// When it was taken.
    pub created_ms: f64,
    /// The project as it was.
    pub project: Project,
}

/// A snapshot without its project, for lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// The snapshot's id.
    pub id: String,
    /// The project it is a version of.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// When it was taken.
    pub created_ms: f64,
}

impl Snapshot {
    /// A snapshot of `project` taken now, with an id from `ids`.
    pub fn take(project: &Project, name: &str, now_ms: f64, ids: &mut IdGen) -> Snapshot {
        Snapshot {
            id: snapshot_id(&project.id, ids),
            project_id: project.id.clone(),
            name: name.trim().into(),
            created_ms: now_ms,
            project: project.clone(),
        }
    }

    /// Its list entry.
    pub fn meta(&self) -> SnapshotMeta {
        SnapshotMeta {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            name: self.name.clone(),
            created_ms: self.created_ms,
        }
    }
}

/// A snapshot id for a project: `{project_id}~{unique}`. Every snapshot key of one project
/// lies between `{project_id}~` and `{project_id}~\u{FFFF}`.
pub fn snapshot_id(project_id: &str, ids: &mut IdGen) -> String {
    format!("{project_id}~{}", ids.next_id("snap"))
}

/// The automatic name of the snapshot taken before a restore.
pub fn before_restore_name(snapshot_name: &str, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("恢复「{snapshot_name}」之前"),
        Lang::En => format!("Before restoring “{snapshot_name}”"),
    }
}

/// The automatic name of the snapshot taken before an import replaces a project.
pub fn before_import_name(lang: Lang) -> String {
    lang.pick("导入替换之前", "Before import replaced it")
        .into()
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

/// The CSS `aspect-ratio` of a project's frame setting (`"9:16"` → `"9 / 16"`); anything that
/// is not two positive numbers falls back to 9 / 16.
pub fn css_aspect_ratio(setting: &str) -> String {
    let parsed = setting.split_once([':', '/', 'x', '×']).and_then(|(w, h)| {
        let w = w.trim().parse::<f64>().ok()?;
        let h = h.trim().parse::<f64>().ok()?;
        (w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0).then_some((w, h))
    });
    match parsed {
        Some((w, h)) => format!("{w} / {h}"),
        None => "9 / 16".into(),
    }
}

#[cfg(test)]
mod tests;

pub mod file;
pub mod limits;
pub mod merge;
pub mod sample;
