//! The payload: what a shared storyboard contains — its scope, the cast, the episodes, scenes
//! and shots in that scope with each scene's picked take, the comments and edits a review adds —
//! how it is made from a project and saved back as one, and the rules serde cannot express
//! ([`validate`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::codec::{ShareError, SHARE_FORMAT, SHARE_VERSION};
use super::review::{FieldEdit, FieldValue, ShotComment, ShotField};
use crate::domain::i18n::Lang;
use crate::domain::project::file::export_project;
use crate::domain::project::limits::{
    check_count, check_id, check_label, check_list, check_required, check_seconds, check_shot,
    check_text, check_time, check_unique_id, Rule, ShotFields, Violation, MAX_CHARACTERS,
    MAX_SCRIPT_CHARS,
};
use crate::domain::project::{Character, Episode, Project, Scene, Shot, ShotStatus, Take};

pub use crate::domain::project::limits::{
    MAX_ID_CHARS, MAX_LIST_ITEMS, MAX_SCENES, MAX_SHOTS, MAX_SHOT_SECONDS, MAX_TEXT_CHARS,
};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// The longest author name, in characters.
pub const MAX_AUTHOR_CHARS: usize = 100;
/// The most comments in one payload.
pub const MAX_COMMENTS: usize = 10_000;

/// What part of a project a link shares.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShareScope {
    /// The whole storyboard.
    Project,
    /// One episode.
    Episode {
        /// The episode's id.
        id: String,
    },
    /// One scene.
    Scene {
        /// The scene's id.
        id: String,
    },
}

impl ShareScope {
    /// The scopes offered for a selection: the scene, its episode and the whole storyboard;
    /// an episode and the whole; or the whole alone. Unknown ids fall back to the whole.
    pub fn choices(project: &Project, selected: &ShareScope) -> Vec<ShareScope> {
        let mut out = Vec::new();
        match selected {
            ShareScope::Scene { id } => {
                if let Some(episode) = project
                    .episodes
                    .iter()
                    .find(|e| e.scenes.iter().any(|s| s.id == *id))
                {
                    out.push(selected.clone());
                    out.push(ShareScope::Episode {
                        id: episode.id.clone(),
                    });
                }
            }
            ShareScope::Episode { id } => {
                if project.episodes.iter().any(|e| e.id == *id) {
                    out.push(selected.clone());
                }
            }
            ShareScope::Project => {}
        }
        out.push(ShareScope::Project);
        out
    }

    /// A short description: `第1集 · INT. 客厅 - 夜` / `Episode 1 · INT. …`.
    pub fn describe(&self, project_name: &str, episodes: &[SharedEpisode], lang: Lang) -> String {
        let episode_label = |e: &SharedEpisode| match lang {
            Lang::ZhCn => format!("第{}集", e.number),
            Lang::En => format!("Episode {}", e.number),
        };
        match self {
            ShareScope::Project => match lang {
                Lang::ZhCn => format!("《{project_name}》整个分镜"),
                Lang::En => format!("“{project_name}”, whole storyboard"),
            },
            ShareScope::Episode { .. } => episodes.first().map(episode_label).unwrap_or_default(),
            ShareScope::Scene { id } => episodes
                .iter()
                .find_map(|e| {
                    e.scenes
                        .iter()
                        .find(|s| s.id == *id)
                        .map(|s| format!("{} · {}", episode_label(e), s.heading))
                })
                .unwrap_or_default(),
        }
    }
}

/// Whether a payload is a storyboard shared out, or a review sent back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    /// A storyboard shared for reading.
    Storyboard,
    /// A collaborator's copy sent back, with their edits and comments.
    Review,
}

/// What one link or share file carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharePayload {
    /// Always [`SHARE_FORMAT`].
    pub format: String,
    /// [`SHARE_VERSION`].
    pub version: u32,
    /// Shared out or sent back.
    pub kind: ShareKind,
    /// What part of the project it covers.
    pub scope: ShareScope,
    /// When the link was made (ms since the epoch).
    pub sent_ms: f64,
    /// Who sent it, as they typed their name (may be empty for a storyboard).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// The storyboard.
    pub storyboard: Storyboard,
    /// Comments on shots, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<ShotComment>,
    /// For a review: the fields the collaborator changed and their values before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<FieldEdit>,
}

/// The shareable part of a project, in one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storyboard {
    /// The project it comes from: a link of a project you have offers a merge.
    pub project_id: String,
    /// The series title.
    pub name: String,
    /// The frame, `9:16` by default.
    pub aspect_ratio: String,
    /// The visual style.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
    /// The cast.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub characters: Vec<SharedCharacter>,
    /// The episodes in the scope, in order.
    pub episodes: Vec<SharedEpisode>,
}

/// A character as shared: who they are, no reference files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedCharacter {
    /// The name used in cues.
    pub name: String,
    /// Who they are.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How they sound.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub voice: String,
    /// How they look.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub look: String,
}

/// An episode as shared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedEpisode {
    /// The episode's id in the project.
    pub id: String,
    /// Its number, from 1.
    pub number: u32,
    /// Its title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Its scenes in the scope, in order.
    pub scenes: Vec<SharedScene>,
}

/// A scene as shared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedScene {
    /// The scene's id in the project.
    pub id: String,
    /// The scene heading.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub heading: String,
    /// A one-line summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub synopsis: String,
    /// The scene's script as Fountain text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub script_text: String,
    /// Its shots in order.
    pub shots: Vec<SharedShot>,
    /// The dialogue take the director picked, without its model or cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picked_take: Option<SharedTake>,
}

/// A picked dialogue take as shared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedTake {
    /// The lines.
    pub dialogue: String,
    /// Stage direction.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stage_direction: String,
    /// Emotional tone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub emotional_tone: String,
}

/// A shot as shared: every storyboard field, and its version for merges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedShot {
    /// The shot's id in the project (merges match shots by it).
    pub id: String,
    /// The shot number, `1A`.
    pub number: String,
    /// Shot size.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub shot_size: String,
    /// Camera angle.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub camera_angle: String,
    /// Camera movement.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub movement: String,
    /// Duration in seconds.
    pub duration_s: f64,
    /// What happens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// Spoken lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dialogue: String,
    /// Emotional tone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub emotional_tone: String,
    /// Visual elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visual_elements: Vec<String>,
    /// Characters in frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub characters: Vec<String>,
    /// Notes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Production status.
    #[serde(default)]
    pub status: ShotStatus,
    /// The shot's version when it was shared.
    #[serde(default)]
    pub version: u64,
}

impl SharedShot {
    /// The shareable fields of a project's shot.
    pub fn of(shot: &Shot) -> SharedShot {
        SharedShot {
            id: shot.id.clone(),
            number: shot.number.clone(),
            shot_size: shot.shot_size.clone(),
            camera_angle: shot.camera_angle.clone(),
            movement: shot.movement.clone(),
            duration_s: shot.duration_s,
            action: shot.action.clone(),
            dialogue: shot.dialogue.clone(),
            emotional_tone: shot.emotional_tone.clone(),
            visual_elements: shot.visual_elements.clone(),
            characters: shot.characters.clone(),
            notes: shot.notes.clone(),
            status: shot.status,
            version: shot.version,
        }
    }

    /// Writes these fields into a project's shot (its id and version stamps stay).
    pub fn write_into(&self, shot: &mut Shot) {
        shot.number = self.number.clone();
        shot.shot_size = self.shot_size.clone();
        shot.camera_angle = self.camera_angle.clone();
        shot.movement = self.movement.clone();
        shot.duration_s = self.duration_s;
        shot.action = self.action.clone();
        shot.dialogue = self.dialogue.clone();
        shot.emotional_tone = self.emotional_tone.clone();
        shot.visual_elements = self.visual_elements.clone();
        shot.characters = self.characters.clone();
        shot.notes = self.notes.clone();
        shot.status = self.status;
    }

    /// A project shot with these fields, at this version.
    pub fn to_shot(&self) -> Shot {
        let mut shot = Shot::new(self.id.clone(), self.number.clone());
        self.write_into(&mut shot);
        shot.version = self.version.max(1);
        shot
    }
}

impl Storyboard {
    /// The shareable part of `project` in `scope`, or [`ShareError::ScopeNotFound`].
    pub fn of(project: &Project, scope: &ShareScope) -> Result<Storyboard, ShareError> {
        let episodes: Vec<SharedEpisode> = match scope {
            ShareScope::Project => project.episodes.iter().map(|e| episode(e, None)).collect(),
            ShareScope::Episode { id } => project
                .episodes
                .iter()
                .filter(|e| e.id == *id)
                .map(|e| episode(e, None))
                .collect(),
            ShareScope::Scene { id } => project
                .episodes
                .iter()
                .filter(|e| e.scenes.iter().any(|s| s.id == *id))
                .map(|e| episode(e, Some(id)))
                .collect(),
        };
        if episodes.is_empty() && *scope != ShareScope::Project {
            return Err(ShareError::ScopeNotFound);
        }
        Ok(Storyboard {
            project_id: project.id.clone(),
            name: project.name.clone(),
            aspect_ratio: project.settings.aspect_ratio.clone(),
            style: project.settings.style.clone(),
            characters: project
                .characters
                .iter()
                .map(|c| SharedCharacter {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    voice: c.voice.clone(),
                    look: c.look.clone(),
                })
                .collect(),
            episodes,
        })
    }

    /// Every shot, in episode, scene and shot order.
    pub fn shots(&self) -> impl Iterator<Item = &SharedShot> {
        self.episodes
            .iter()
            .flat_map(|e| e.scenes.iter())
            .flat_map(|s| s.shots.iter())
    }

    /// A shot by id.
    pub fn shot(&self, shot_id: &str) -> Option<&SharedShot> {
        self.shots().find(|s| s.id == shot_id)
    }

    /// A shot by id, to edit.
    pub fn shot_mut(&mut self, shot_id: &str) -> Option<&mut SharedShot> {
        self.episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .flat_map(|s| s.shots.iter_mut())
            .find(|s| s.id == shot_id)
    }

    /// The number of scenes.
    pub fn scene_count(&self) -> usize {
        self.episodes.iter().map(|e| e.scenes.len()).sum()
    }

    /// A project made of this storyboard, to save as a draft: the picked take becomes the
    /// scene's only take, picked; there are no video jobs. Ids are the storyboard's (a copy
    /// imported into drafts gets new ones).
    pub fn to_project(&self, now_ms: f64, tab: &str) -> Project {
        let mut project = Project::new(self.project_id.clone(), self.name.clone(), now_ms, tab);
        project.settings.aspect_ratio = self.aspect_ratio.clone();
        project.settings.style = self.style.clone();
        project.characters = self
            .characters
            .iter()
            .enumerate()
            .map(|(i, c)| Character {
                id: format!("c{}", i + 1),
                name: c.name.clone(),
                description: c.description.clone(),
                voice: c.voice.clone(),
                look: c.look.clone(),
                reference_notes: String::new(),
            })
            .collect();
        project.episodes = self
            .episodes
            .iter()
            .map(|e| Episode {
                id: e.id.clone(),
                number: e.number,
                title: e.title.clone(),
                scenes: e
                    .scenes
                    .iter()
                    .map(|s| {
                        let take_id = format!("{}-picked", s.id);
                        Scene {
                            id: s.id.clone(),
                            heading: s.heading.clone(),
                            synopsis: s.synopsis.clone(),
                            script_text: s.script_text.clone(),
                            shots: s
                                .shots
                                .iter()
                                .map(|shot| {
                                    let mut shot = shot.to_shot();
                                    shot.updated_ms = now_ms;
                                    shot.updated_by = tab.into();
                                    shot
                                })
                                .collect(),
                            takes: s
                                .picked_take
                                .iter()
                                .map(|t| Take {
                                    id: take_id.clone(),
                                    dialogue: t.dialogue.clone(),
                                    stage_direction: t.stage_direction.clone(),
                                    emotional_tone: t.emotional_tone.clone(),
                                    model: String::new(),
                                    cost: None,
                                    locked: false,
                                })
                                .collect(),
                            picked_take: s.picked_take.as_ref().map(|_| take_id),
                        }
                    })
                    .collect(),
            })
            .collect();
        project
    }

    /// This storyboard as a project export file, the text `Drafts::import` takes.
    pub fn project_file_text(&self, now_ms: f64, tab: &str) -> String {
        export_project(&self.to_project(now_ms, tab))
    }
}

fn episode(e: &Episode, only_scene: Option<&String>) -> SharedEpisode {
    SharedEpisode {
        id: e.id.clone(),
        number: e.number,
        title: e.title.clone(),
        scenes: e
            .scenes
            .iter()
            .filter(|s| only_scene.is_none_or(|id| s.id == *id))
            .map(|s| SharedScene {
                id: s.id.clone(),
                heading: s.heading.clone(),
                synopsis: s.synopsis.clone(),
                script_text: s.script_text.clone(),
                shots: s.shots.iter().map(SharedShot::of).collect(),
                picked_take: s
                    .picked_take
                    .as_ref()
                    .and_then(|id| s.takes.iter().find(|t| t.id == *id))
                    .map(|t| SharedTake {
                        dialogue: t.dialogue.clone(),
                        stage_direction: t.stage_direction.clone(),
                        emotional_tone: t.emotional_tone.clone(),
                    }),
            })
            .collect(),
    }
}

impl SharePayload {
    /// A storyboard shared out: `scope` of `project`, made at `now_ms`.
    pub fn storyboard(
        project: &Project,
        scope: &ShareScope,
        now_ms: f64,
    ) -> Result<SharePayload, ShareError> {
        Ok(SharePayload {
            format: SHARE_FORMAT.into(),
            version: SHARE_VERSION,
            kind: ShareKind::Storyboard,
            scope: scope.clone(),
            sent_ms: now_ms,
            from: String::new(),
            storyboard: Storyboard::of(project, scope)?,
            comments: Vec::new(),
            edits: Vec::new(),
        })
    }

    /// The compact JSON a link compresses.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The rules serde cannot express: sizes, unique ids, references, characters, finite numbers.
/// The storyboard's own values obey the limits every storyboard obeys, the same checks a
/// project file passes ([`crate::domain::project::limits`]); comments and edits add theirs.
pub fn validate(payload: &SharePayload) -> Result<(), ShareError> {
    check_payload(payload).map_err(ShareError::from)
}

impl From<Violation> for ShareError {
    fn from(Violation { path, rule }: Violation) -> ShareError {
        ShareError::Invalid { path, rule }
    }
}

fn check_payload(payload: &SharePayload) -> Result<(), Violation> {
    let invalid = |path: String, rule: Rule| Err(Violation { path, rule });
    let board = &payload.storyboard;
    check_time("sent_ms", payload.sent_ms)?;
    check_label("from", &payload.from, MAX_AUTHOR_CHARS)?;
    check_id("storyboard.project_id", &board.project_id)?;
    check_label("storyboard.name", &board.name, MAX_TEXT_CHARS)?;
    check_label("storyboard.aspect_ratio", &board.aspect_ratio, MAX_ID_CHARS)?;
    check_text("storyboard.style", &board.style, MAX_TEXT_CHARS)?;
    check_count(
        "storyboard.characters",
        board.characters.len(),
        MAX_CHARACTERS,
    )?;
    for (i, c) in board.characters.iter().enumerate() {
        let at = format!("storyboard.characters[{i}]");
        check_label(&format!("{at}.name"), &c.name, MAX_ID_CHARS)?;
        check_text(&format!("{at}.description"), &c.description, MAX_TEXT_CHARS)?;
        check_text(&format!("{at}.voice"), &c.voice, MAX_TEXT_CHARS)?;
        check_text(&format!("{at}.look"), &c.look, MAX_TEXT_CHARS)?;
    }
    check_count("storyboard.episodes", board.scene_count(), MAX_SCENES)?;
    let shot_count = board.shots().count();
    check_count("storyboard.episodes", shot_count, MAX_SHOTS)?;
    let mut episode_ids = HashSet::new();
    let mut scene_ids = HashSet::new();
    let mut shot_ids = HashSet::new();
    for (e, episode) in board.episodes.iter().enumerate() {
        let at = format!("storyboard.episodes[{e}]");
        check_unique_id(&format!("{at}.id"), &episode.id, &mut episode_ids)?;
        check_text(&format!("{at}.title"), &episode.title, MAX_TEXT_CHARS)?;
        for (s, scene) in episode.scenes.iter().enumerate() {
            let at = format!("{at}.scenes[{s}]");
            check_unique_id(&format!("{at}.id"), &scene.id, &mut scene_ids)?;
            check_text(&format!("{at}.heading"), &scene.heading, MAX_TEXT_CHARS)?;
            check_text(&format!("{at}.synopsis"), &scene.synopsis, MAX_TEXT_CHARS)?;
            check_text(
                &format!("{at}.script_text"),
                &scene.script_text,
                MAX_SCRIPT_CHARS,
            )?;
            if let Some(take) = &scene.picked_take {
                let at = format!("{at}.picked_take");
                check_text(&format!("{at}.dialogue"), &take.dialogue, MAX_TEXT_CHARS)?;
                check_text(
                    &format!("{at}.stage_direction"),
                    &take.stage_direction,
                    MAX_TEXT_CHARS,
                )?;
                check_text(
                    &format!("{at}.emotional_tone"),
                    &take.emotional_tone,
                    MAX_TEXT_CHARS,
                )?;
            }
            for (k, shot) in scene.shots.iter().enumerate() {
                let at = format!("{at}.shots[{k}]");
                check_unique_id(&format!("{at}.id"), &shot.id, &mut shot_ids)?;
                check_shot(&at, ShotFields::from(shot))?;
            }
        }
    }
    let scope_ok = match &payload.scope {
        ShareScope::Project => true,
        ShareScope::Episode { id } => board.episodes.len() == 1 && board.episodes[0].id == *id,
        ShareScope::Scene { id } => {
            board.episodes.len() == 1
                && board.episodes[0].scenes.len() == 1
                && board.episodes[0].scenes[0].id == *id
        }
    };
    if !scope_ok {
        return invalid("scope".into(), Rule::UnknownScope);
    }
    check_count("comments", payload.comments.len(), MAX_COMMENTS)?;
    let mut comment_ids = HashSet::new();
    for (i, comment) in payload.comments.iter().enumerate() {
        let at = format!("comments[{i}]");
        check_unique_id(&format!("{at}.id"), &comment.id, &mut comment_ids)?;
        if !shot_ids.contains(comment.shot_id.as_str()) {
            return invalid(format!("{at}.shot_id"), Rule::UnknownShot);
        }
        check_required(&format!("{at}.author"), &comment.author, MAX_AUTHOR_CHARS)?;
        check_required(&format!("{at}.text"), &comment.text, MAX_COMMENT_CHARS)?;
        check_time(&format!("{at}.time_ms"), comment.time_ms)?;
    }
    check_count(
        "edits",
        payload.edits.len(),
        shot_count * ShotField::ALL.len(),
    )?;
    let mut edited = HashSet::new();
    for (i, edit) in payload.edits.iter().enumerate() {
        let at = format!("edits[{i}]");
        if !shot_ids.contains(edit.shot_id.as_str()) {
            return invalid(format!("{at}.shot_id"), Rule::UnknownShot);
        }
        if !edited.insert((edit.shot_id.as_str(), edit.field)) {
            return invalid(format!("{at}.field"), Rule::Duplicate);
        }
        if !edit.field.accepts(&edit.base) {
            return invalid(format!("{at}.base"), Rule::WrongKind);
        }
        check_value(&format!("{at}.base"), &edit.base)?;
    }
    Ok(())
}

impl<'a> From<&'a SharedShot> for ShotFields<'a> {
    fn from(shot: &'a SharedShot) -> ShotFields<'a> {
        ShotFields {
            number: &shot.number,
            texts: [
                ("shot_size", &shot.shot_size),
                ("camera_angle", &shot.camera_angle),
                ("movement", &shot.movement),
                ("action", &shot.action),
                ("dialogue", &shot.dialogue),
                ("emotional_tone", &shot.emotional_tone),
                ("notes", &shot.notes),
            ],
            duration_s: shot.duration_s,
            lists: [
                ("visual_elements", &shot.visual_elements),
                ("characters", &shot.characters),
            ],
        }
    }
}

fn check_value(at: &str, value: &FieldValue) -> Result<(), Violation> {
    match value {
        FieldValue::Text(text) => check_text(at, text, MAX_TEXT_CHARS),
        FieldValue::Seconds(s) => check_seconds(at, *s),
        FieldValue::List(list) => check_list(at, list),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::scene_payload;
    use super::*;
    use crate::domain::project::file::{load_any, Loaded};
    use crate::domain::project::sample::sample_series;
    use crate::domain::share::payload_from_json;

    #[test]
    fn scopes_choose_episodes_and_scenes() {
        let series = sample_series(3, 12);
        let episode = ShareScope::Episode {
            id: series.episodes[2].id.clone(),
        };
        let board = Storyboard::of(&series, &episode).unwrap();
        assert_eq!(board.episodes.len(), 1);
        assert_eq!(board.shots().count(), 12);
        let whole = Storyboard::of(&series, &ShareScope::Project).unwrap();
        assert_eq!(whole.shots().count(), 36);
        let missing = ShareScope::Scene { id: "nope".into() };
        assert_eq!(
            Storyboard::of(&series, &missing),
            Err(ShareError::ScopeNotFound)
        );
        let scene = ShareScope::Scene {
            id: series.episodes[1].scenes[0].id.clone(),
        };
        assert_eq!(
            ShareScope::choices(&series, &scene),
            vec![
                scene.clone(),
                ShareScope::Episode {
                    id: series.episodes[1].id.clone()
                },
                ShareScope::Project
            ]
        );
        assert_eq!(
            ShareScope::choices(&series, &missing),
            vec![ShareScope::Project]
        );
    }

    #[test]
    fn a_link_has_no_video_jobs_clips_costs_or_models() {
        let series = sample_series(1, 12);
        assert!(!series.video_jobs.is_empty());
        let payload = SharePayload::storyboard(&series, &ShareScope::Project, 0.0).unwrap();
        let json = payload.to_json();
        for forbidden in [
            "video_jobs",
            "clip_ref",
            "provider_job_id",
            "video_sample",
            "cost",
            "claude",
            "sk-",
            "hs_",
            "reference_notes",
            "参考图",
        ] {
            assert!(!json.contains(forbidden), "{forbidden} leaked");
        }
        // The picked take is kept, without its model or cost.
        assert!(json.contains("（第2版）"));
        assert!(!json.contains("（第1版）"));
    }

    #[test]
    fn edits_must_fit_their_fields() {
        let mut payload = scene_payload();
        let shot = payload.storyboard.shots().next().unwrap().id.clone();
        payload.edits.push(FieldEdit {
            shot_id: shot.clone(),
            field: ShotField::DurationS,
            base: FieldValue::Text("five".into()),
        });
        assert_eq!(
            payload_from_json(&payload.to_json()),
            Err(ShareError::Invalid {
                path: "edits[0].base".into(),
                rule: Rule::WrongKind
            })
        );
        payload.edits[0] = FieldEdit {
            shot_id: shot,
            field: ShotField::Status,
            base: FieldValue::Text("ready".into()),
        };
        assert!(payload_from_json(&payload.to_json()).is_ok());
    }

    #[test]
    fn a_saved_copy_keeps_every_shared_field() {
        let payload = scene_payload();
        let project = payload.storyboard.to_project(10.0, "tab");
        let again = Storyboard::of(&project, &payload.scope).unwrap();
        let mut expected = payload.storyboard.clone();
        for shot in expected
            .episodes
            .iter_mut()
            .flat_map(|e| e.scenes.iter_mut())
            .flat_map(|s| s.shots.iter_mut())
        {
            shot.version = shot.version.max(1);
        }
        assert_eq!(again, expected);
        let text = payload.storyboard.project_file_text(10.0, "tab");
        assert!(matches!(load_any(&text), Ok(Loaded::Project(_))));
    }
}
