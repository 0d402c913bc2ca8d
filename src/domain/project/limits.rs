//! The limits a storyboard obeys wherever it comes from — a shared link or share file
//! ([`crate::domain::share::validate`]), a project file or a workspace backup
//! ([`crate::domain::project::file::load_any`]) — and the one set of checks that enforces them:
//! lengths, counts, ids, characters, numbers. A hostile or damaged file is refused with the
//! path of the first value that breaks a rule ([`Violation`]), before anything is stored.
//!
//! The rules are the app's own limits, never tighter than what it writes itself, so a project
//! exported by this app always imports again:
//!
//! - **Ids** (of projects, episodes, scenes, shots, takes, characters, comments, clips) are not
//!   empty, at most [`MAX_ID_CHARS`] characters, and hold no control character, bidi control
//!   or noncharacter: ids become storage keys (`{project}\u{1}{episode}`) and appear in file
//!   names, where such characters could split a key or disguise a name.
//! - **Labels** (a project's or character's name, a shot number, the frame, a model) hold no
//!   control character (not even a line break) and no bidi control.
//! - **Text** is at most [`MAX_TEXT_CHARS`] characters ([`MAX_SCRIPT_CHARS`] for a scene's
//!   script, as long as the script importer takes) and holds no C0 control character other
//!   than tab, line feed, form feed and carriage return: a NUL or an escape code means binary
//!   data or a damaged file. Anything else is kept as written: text is never rendered as HTML.
//! - **Counts**: at most [`MAX_EPISODES`] episodes, [`MAX_SCENES`] scenes and [`MAX_SHOTS`]
//!   shots in a project, [`MAX_CHARACTERS`] characters in the cast, [`MAX_LIST_ITEMS`] items
//!   in a list field (and takes in a scene); the history and markers the app trims itself, at
//!   its own caps.
//! - **Numbers**: a shot lasts 0 to [`MAX_SHOT_SECONDS`] seconds; times are finite and not
//!   negative; a budget is not negative.
//!
//! ```
//! use duanju_studio::domain::project::limits::{check_project, Rule, Violation};
//! use duanju_studio::domain::project::sample::sample_series;
//!
//! let mut series = sample_series(1, 6);
//! assert_eq!(check_project(&series, "project"), Ok(()));
//! series.episodes[0].scenes[0].shots[0].id = "shot\u{202E}1".into();
//! assert_eq!(
//!     check_project(&series, "project"),
//!     Err(Violation {
//!         path: "project.episodes[0].scenes[0].shots[0].id".into(),
//!         rule: Rule::ForbiddenCharacter,
//!     })
//! );
//! ```

use std::collections::HashSet;

use crate::domain::i18n::Lang;
use crate::domain::project::file::is_bidi_control;
use crate::domain::project::{
    Project, Shot, APPLIED_RUNS_CAP, HISTORY_CAP, LINEAGE_CAP, REMOVED_CAP,
};

/// The longest text field, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest script of one scene, in characters: as long as the script importer reads
/// (2 MiB, [`crate::domain::script::import::SCRIPT_CAP_BYTES`]), since one scene may hold it all.
pub const MAX_SCRIPT_CHARS: usize = 2 * 1024 * 1024;
/// The longest id, in characters.
pub const MAX_ID_CHARS: usize = 200;
/// The most items in a list field (characters in frame, visual elements), and takes in a scene.
pub const MAX_LIST_ITEMS: usize = 200;
/// The most characters in a cast (a script import adds one per speaking name).
pub const MAX_CHARACTERS: usize = 1_000;
/// The most episodes in a project.
pub const MAX_EPISODES: usize = 1_000;
/// The most scenes in a project (or a shared storyboard).
pub const MAX_SCENES: usize = 20_000;
/// The most shots in a project (or a shared storyboard).
pub const MAX_SHOTS: usize = 20_000;
/// The longest duration of a shot, in seconds.
pub const MAX_SHOT_SECONDS: f64 = 3_600.0;

/// A rule that a value broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Must not be empty.
    Empty,
    /// Longer than allowed (in characters or items).
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The same id appears twice.
    Duplicate,
    /// Refers to a shot the storyboard does not have.
    UnknownShot,
    /// Refers to an episode or scene the storyboard does not have.
    UnknownScope,
    /// A value of the wrong kind for its field.
    WrongKind,
    /// A number out of range.
    OutOfRange,
    /// A control character, a bidi control or a noncharacter where none may be.
    ForbiddenCharacter,
}

impl Rule {
    /// What the rule says, as the end of "Invalid field {path}: …".
    pub fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (Rule::Empty, Lang::ZhCn) => "不能为空".into(),
            (Rule::Empty, Lang::En) => "must not be empty".into(),
            (Rule::TooLong { max }, Lang::ZhCn) => format!("太长（最多 {max}）"),
            (Rule::TooLong { max }, Lang::En) => format!("too long (at most {max})"),
            (Rule::Duplicate, Lang::ZhCn) => "编号重复".into(),
            (Rule::Duplicate, Lang::En) => "the id appears twice".into(),
            (Rule::UnknownShot, Lang::ZhCn) => "指向不存在的镜头".into(),
            (Rule::UnknownShot, Lang::En) => "refers to a shot that is not there".into(),
            (Rule::UnknownScope, Lang::ZhCn) => "分享范围与内容不符".into(),
            (Rule::UnknownScope, Lang::En) => "the scope does not match the content".into(),
            (Rule::WrongKind, Lang::ZhCn) => "值的类型与字段不符".into(),
            (Rule::WrongKind, Lang::En) => "the value does not fit the field".into(),
            (Rule::OutOfRange, Lang::ZhCn) => "数值超出范围".into(),
            (Rule::OutOfRange, Lang::En) => "the number is out of range".into(),
            (Rule::ForbiddenCharacter, Lang::ZhCn) => {
                "含有不允许的字符（控制字符或文字方向控制符）".into()
            }
            (Rule::ForbiddenCharacter, Lang::En) => {
                "contains a character not allowed there (a control or text-direction character)"
                    .into()
            }
        }
    }
}

/// Where a value broke which rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where, as `project.episodes[0].scenes[1].shots[2].duration_s`.
    pub path: String,
    /// Which rule.
    pub rule: Rule,
}

fn violation(at: &str, rule: Rule) -> Violation {
    Violation {
        path: at.into(),
        rule,
    }
}

/// A path inside `at`: `at.field`, or `field` at the root.
fn under(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_owned()
    } else {
        format!("{at}.{field}")
    }
}

/// A noncharacter (U+FDD0–U+FDEF, and the last two code points of every plane).
fn is_noncharacter(c: char) -> bool {
    let code = c as u32;
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Whether free text may hold `c`: anything but a C0 control other than tab, line feed, form
/// feed and carriage return.
fn allowed_in_text(c: char) -> bool {
    c >= ' ' || matches!(c, '\t' | '\n' | '\u{000C}' | '\r')
}

fn check_length(at: &str, text: &str, max: usize) -> Result<(), Violation> {
    // The byte length bounds the character count from above: count only when it may matter.
    if text.len() > max && text.chars().count() > max {
        return Err(violation(at, Rule::TooLong { max }));
    }
    Ok(())
}

/// Free text: at most `max` characters, no C0 control but tab, line feed, form feed and
/// carriage return.
pub fn check_text(at: &str, text: &str, max: usize) -> Result<(), Violation> {
    check_length(at, text, max)?;
    if !text.chars().all(allowed_in_text) {
        return Err(violation(at, Rule::ForbiddenCharacter));
    }
    Ok(())
}

/// Free text that must not be empty (or only spaces).
pub fn check_required(at: &str, text: &str, max: usize) -> Result<(), Violation> {
    if text.trim().is_empty() {
        return Err(violation(at, Rule::Empty));
    }
    check_text(at, text, max)
}

/// A one-line label (a name, a shot number, a model): at most `max` characters, no control
/// character at all and no bidi control.
pub fn check_label(at: &str, text: &str, max: usize) -> Result<(), Violation> {
    check_length(at, text, max)?;
    if text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(violation(at, Rule::ForbiddenCharacter));
    }
    Ok(())
}

/// An id: not empty, at most [`MAX_ID_CHARS`] characters, no control character, bidi control
/// or noncharacter.
pub fn check_id(at: &str, id: &str) -> Result<(), Violation> {
    if id.trim().is_empty() {
        return Err(violation(at, Rule::Empty));
    }
    check_length(at, id, MAX_ID_CHARS)?;
    if id
        .chars()
        .any(|c| c.is_control() || is_bidi_control(c) || is_noncharacter(c))
    {
        return Err(violation(at, Rule::ForbiddenCharacter));
    }
    Ok(())
}

/// An id that must not have appeared before in `seen` (which it joins).
pub fn check_unique_id<'a>(
    at: &str,
    id: &'a str,
    seen: &mut HashSet<&'a str>,
) -> Result<(), Violation> {
    check_id(at, id)?;
    if !seen.insert(id) {
        return Err(violation(at, Rule::Duplicate));
    }
    Ok(())
}

/// At most `max` items.
pub fn check_count(at: &str, count: usize, max: usize) -> Result<(), Violation> {
    if count > max {
        return Err(violation(at, Rule::TooLong { max }));
    }
    Ok(())
}

/// A list field: at most [`MAX_LIST_ITEMS`] items, each text of at most [`MAX_TEXT_CHARS`].
pub fn check_list(at: &str, list: &[String]) -> Result<(), Violation> {
    check_count(at, list.len(), MAX_LIST_ITEMS)?;
    for (i, item) in list.iter().enumerate() {
        check_text(&format!("{at}[{i}]"), item, MAX_TEXT_CHARS)?;
    }
    Ok(())
}

/// A shot's duration: 0 to [`MAX_SHOT_SECONDS`] seconds.
pub fn check_seconds(at: &str, seconds: f64) -> Result<(), Violation> {
    if !(0.0..=MAX_SHOT_SECONDS).contains(&seconds) {
        return Err(violation(at, Rule::OutOfRange));
    }
    Ok(())
}

/// A time (ms since the epoch): finite and not negative.
pub fn check_time(at: &str, ms: f64) -> Result<(), Violation> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(violation(at, Rule::OutOfRange));
    }
    Ok(())
}

/// The storyboard fields of a shot, borrowed from a project's [`Shot`] or a shared one: what
/// [`check_shot`] checks, the same way for both.
pub struct ShotFields<'a> {
    /// The shot number.
    pub number: &'a str,
    /// The text fields, by name.
    pub texts: [(&'static str, &'a str); 7],
    /// The duration in seconds.
    pub duration_s: f64,
    /// The list fields, by name.
    pub lists: [(&'static str, &'a [String]); 2],
}

impl<'a> From<&'a Shot> for ShotFields<'a> {
    fn from(shot: &'a Shot) -> ShotFields<'a> {
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

/// A shot's storyboard fields (not its id: ids are checked where their uniqueness is known).
pub fn check_shot(at: &str, shot: ShotFields<'_>) -> Result<(), Violation> {
    check_label(&under(at, "number"), shot.number, MAX_ID_CHARS)?;
    for (name, text) in shot.texts {
        check_text(&under(at, name), text, MAX_TEXT_CHARS)?;
    }
    check_seconds(&under(at, "duration_s"), shot.duration_s)?;
    for (name, list) in shot.lists {
        check_list(&under(at, name), list)?;
    }
    Ok(())
}

/// Every rule, over a whole project read from a file; `at` is its path (`project`,
/// `projects[2]`). Ids of episodes, scenes, shots and characters are unique in the project,
/// takes in their scene.
pub fn check_project(project: &Project, at: &str) -> Result<(), Violation> {
    let field = |name: &str| under(at, name);
    check_id(&field("id"), &project.id)?;
    check_label(&field("name"), &project.name, MAX_TEXT_CHARS)?;
    check_text(&field("updated_by"), &project.updated_by, MAX_ID_CHARS)?;
    check_time(&field("created_ms"), project.created_ms)?;
    check_time(&field("updated_ms"), project.updated_ms)?;
    check_time(&field("opened_ms"), project.opened_ms)?;
    if let Some(deleted) = project.deleted_ms {
        check_time(&field("deleted_ms"), deleted)?;
    }

    let settings = &project.settings;
    check_label(
        &field("settings.aspect_ratio"),
        &settings.aspect_ratio,
        MAX_ID_CHARS,
    )?;
    check_text(&field("settings.style"), &settings.style, MAX_TEXT_CHARS)?;
    if settings.budget.is_some_and(|b| b.amount.0 < 0) {
        return Err(violation(
            &field("settings.budget.amount"),
            Rule::OutOfRange,
        ));
    }

    check_count(
        &field("characters"),
        project.characters.len(),
        MAX_CHARACTERS,
    )?;
    let mut character_ids = HashSet::new();
    for (i, c) in project.characters.iter().enumerate() {
        let at = field(&format!("characters[{i}]"));
        check_unique_id(&under(&at, "id"), &c.id, &mut character_ids)?;
        check_label(&under(&at, "name"), &c.name, MAX_ID_CHARS)?;
        for (name, text) in [
            ("description", &c.description),
            ("voice", &c.voice),
            ("look", &c.look),
            ("reference_notes", &c.reference_notes),
        ] {
            check_text(&under(&at, name), text, MAX_TEXT_CHARS)?;
        }
    }

    check_count(&field("episodes"), project.episodes.len(), MAX_EPISODES)?;
    let scenes = project.episodes.iter().map(|e| e.scenes.len()).sum();
    check_count(&field("episodes"), scenes, MAX_SCENES)?;
    check_count(&field("episodes"), project.shot_count(), MAX_SHOTS)?;
    let (mut episode_ids, mut scene_ids, mut shot_ids) =
        (HashSet::new(), HashSet::new(), HashSet::new());
    for (e, episode) in project.episodes.iter().enumerate() {
        let at = field(&format!("episodes[{e}]"));
        check_unique_id(&under(&at, "id"), &episode.id, &mut episode_ids)?;
        check_text(&under(&at, "title"), &episode.title, MAX_TEXT_CHARS)?;
        for (s, scene) in episode.scenes.iter().enumerate() {
            let at = format!("{at}.scenes[{s}]");
            check_unique_id(&under(&at, "id"), &scene.id, &mut scene_ids)?;
            check_text(&under(&at, "heading"), &scene.heading, MAX_TEXT_CHARS)?;
            check_text(&under(&at, "synopsis"), &scene.synopsis, MAX_TEXT_CHARS)?;
            check_text(
                &under(&at, "script_text"),
                &scene.script_text,
                MAX_SCRIPT_CHARS,
            )?;
            check_count(&under(&at, "takes"), scene.takes.len(), MAX_LIST_ITEMS)?;
            let mut take_ids = HashSet::new();
            for (t, take) in scene.takes.iter().enumerate() {
                let at = format!("{at}.takes[{t}]");
                check_unique_id(&under(&at, "id"), &take.id, &mut take_ids)?;
                for (name, text) in [
                    ("dialogue", &take.dialogue),
                    ("stage_direction", &take.stage_direction),
                    ("emotional_tone", &take.emotional_tone),
                ] {
                    check_text(&under(&at, name), text, MAX_TEXT_CHARS)?;
                }
                check_label(&under(&at, "model"), &take.model, MAX_ID_CHARS)?;
            }
            if let Some(picked) = &scene.picked_take {
                check_id(&under(&at, "picked_take"), picked)?;
            }
            for (k, shot) in scene.shots.iter().enumerate() {
                let at = format!("{at}.shots[{k}]");
                check_unique_id(&under(&at, "id"), &shot.id, &mut shot_ids)?;
                check_stamped_shot(&at, shot)?;
            }
        }
    }

    check_count(&field("video_jobs"), project.video_jobs.len(), MAX_SHOTS)?;
    for (j, job) in project.video_jobs.iter().enumerate() {
        let at = field(&format!("video_jobs[{j}]"));
        check_id(&under(&at, "shot_id"), &job.shot_id)?;
        if let Some(id) = &job.provider_job_id {
            check_label(&under(&at, "provider_job_id"), id, MAX_TEXT_CHARS)?;
        }
        if let Some(clip) = &job.clip_ref {
            check_id(&under(&at, "clip_ref"), clip)?;
        }
        if let Some(error) = &job.error {
            check_text(&under(&at, "error"), error, MAX_TEXT_CHARS)?;
        }
        if let Some(shape) = &job.shape {
            check_label(&under(&at, "shape"), shape, MAX_ID_CHARS)?;
        }
        check_label(&under(&at, "model"), &job.model, MAX_ID_CHARS)?;
        check_label(&under(&at, "resolution"), &job.resolution, MAX_ID_CHARS)?;
        for (name, time) in [
            ("submitted_ms", job.submitted_ms),
            ("finished_ms", job.finished_ms),
        ] {
            if let Some(time) = time {
                check_time(&under(&at, name), time)?;
            }
        }
    }

    check_count(&field("history"), project.history.len(), HISTORY_CAP)?;
    for (h, entry) in project.history.iter().enumerate() {
        let at = field(&format!("history[{h}]"));
        check_id(&under(&at, "shot_id"), &entry.shot_id)?;
        check_id(&under(&at, "shot.id"), &entry.shot.id)?;
        check_stamped_shot(&under(&at, "shot"), &entry.shot)?;
        check_time(&under(&at, "lost_at_ms"), entry.lost_at_ms)?;
    }
    check_count(
        &field("removed_shots"),
        project.removed_shots.len(),
        REMOVED_CAP,
    )?;
    for (r, removed) in project.removed_shots.iter().enumerate() {
        let at = field(&format!("removed_shots[{r}]"));
        check_id(&under(&at, "shot_id"), &removed.shot_id)?;
        check_time(&under(&at, "removed_ms"), removed.removed_ms)?;
        check_text(&under(&at, "removed_by"), &removed.removed_by, MAX_ID_CHARS)?;
    }
    check_count(
        &field("applied_runs"),
        project.applied_runs.len(),
        APPLIED_RUNS_CAP,
    )?;
    for (r, run) in project.applied_runs.iter().enumerate() {
        check_id(&field(&format!("applied_runs[{r}]")), run)?;
    }
    Ok(())
}

/// A project's shot: its storyboard fields and its version stamps (time, tab, lineage).
fn check_stamped_shot(at: &str, shot: &Shot) -> Result<(), Violation> {
    check_shot(at, ShotFields::from(shot))?;
    check_time(&under(at, "updated_ms"), shot.updated_ms)?;
    check_text(&under(at, "updated_by"), &shot.updated_by, MAX_ID_CHARS)?;
    check_count(&under(at, "lineage"), shot.lineage.len(), LINEAGE_CAP)?;
    for (i, (tab, _)) in shot.lineage.iter().enumerate() {
        check_text(&format!("{at}.lineage[{i}]"), tab, MAX_ID_CHARS)?;
    }
    Ok(())
}
