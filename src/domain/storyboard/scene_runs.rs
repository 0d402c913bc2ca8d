//! Storyboard and dialogue-take runs for one scene: the prompts they send, and what a reply
//! becomes.
//!
//! - **Prompts.** Every prompt about a scene starts with the character bible of its cast as a
//!   stable system prefix ([`scene_prefix`], the same bytes every call, so provider caches
//!   hit); the user message says "json", names the shape wanted and carries the scene text.
//!   Takes are numbered (`variation 3 of 12`): identical requests would be identical replies.
//! - **Storyboard replies** ([`read_storyboard`]): extracted with [`extract_json`], validated
//!   with [`validate_storyboard`] (valid shots kept, invalid ones listed with their problems).
//!   A cut-off reply asks for exactly one repair ([`StoryboardReading::Retry`], the follow-up
//!   is [`storyboard_repair_prompt`]); a repair that is cut off again is closed after its last
//!   complete shot ([`close_truncated`]). Anything else unreadable is a diagnostic.
//! - **The storyboard run** ([`storyboard_step`]): what the panel does with each scene's answer
//!   — add its shots (replacing the scene's only when there are new ones), ask once more for a
//!   cut-off reply, or report the failure — and where the scene then stands ([`SceneReport`]).
//! - **Take replies** ([`read_take`]): one `{dialogue, stage_direction, emotional_tone}`. A
//!   takes run's cost is shared out over the accepted takes ([`TakesCost`]).
//! - **Picking** a take locks it ([`pick_take`]); changing a locked pick needs
//!   [`unlock_take`] first. Regenerating keeps locked takes ([`replace_takes`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::batch::{ItemFailure, ItemState};
use crate::domain::cost::ledger::LedgerTotal;
use crate::domain::cost::money::{Currency, Micros, Money};
use crate::domain::i18n::Lang;
use crate::domain::project::{Character, Scene, Shot, Take};
use crate::domain::storyboard::character_bible::{bible_prefix, characters_in};
use crate::domain::storyboard::llm_json::{
    close_truncated, extract_json, Expect, JsonDiagnostic, Repair,
};
use crate::domain::storyboard::schema::{
    validate_storyboard, validate_take, Problem, ShotDraft, StoryboardResult, TakeDraft,
};

/// What a pipeline batch is for, stored with the batch: a page reloaded in the middle of a run
/// resumes the batch and still puts each reply where it belongs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunPurpose {
    /// Storyboards: item `i` is scene `scenes[i]`.
    Storyboard {
        /// The scene of each item.
        scenes: Vec<String>,
        /// True for the follow-up batch that repairs cut-off replies.
        repair: bool,
        /// True when the new shots replace the scene's shots.
        replace: bool,
    },
    /// Dialogue takes of one scene, one per item.
    Takes {
        /// The scene.
        scene: String,
    },
}

/// The key under which a project remembers that item `index` of batch `batch_id` landed
/// ([`crate::domain::project::Project::mark_run_applied`]).
pub fn run_key(batch_id: &str, index: usize) -> String {
    format!("{batch_id}#{index}")
}

/// How many dialogue takes a scene gets unless the user says otherwise.
pub const DEFAULT_TAKES: usize = 12;
/// The most takes one run may ask for.
pub const MAX_TAKES: usize = 48;

/// The system prefix of every prompt about `scene`: the bible of the characters in it.
pub fn scene_prefix(cast: &[Character], scene: &Scene) -> Option<String> {
    bible_prefix(&characters_in(cast, scene))
}

fn scene_text(scene: &Scene) -> String {
    let heading = scene.heading.trim();
    let text = scene.script_text.trim();
    if text.starts_with(heading) {
        text.to_string()
    } else {
        format!("{heading}\n\n{text}")
    }
}

/// The storyboard request for `scene`: 4–8 shots as one JSON object `{"shots": […]}`.
pub fn storyboard_prompt(scene: &Scene) -> String {
    format!(
        "Storyboard this scene of a vertical (9:16) short drama as 4 to 8 shots. Reply with one \
         json object and nothing else: {{\"shots\": [{{\"shot_number\": 1, \"camera_angle\": \
         \"…\", \"shot_size\": \"…\", \"action_description\": \"…\", \"emotional_tone\": \"…\", \
         \"visual_elements\": [\"…\"], \"duration_s\": 5}}]}}.\n\n---\n{}",
        scene_text(scene)
    )
}

/// The one follow-up after a cut-off storyboard reply: the cut reply, and a request for the
/// whole object again.
pub fn storyboard_repair_prompt(scene: &Scene, cut_reply: &str) -> String {
    format!(
        "Your json storyboard for the scene “{}” was cut off before it ended. Reply again with \
         the complete json object {{\"shots\": […]}} (4 to 8 shots), all of it, nothing else. \
         The cut-off reply was:\n\n{cut_reply}",
        scene.heading.trim()
    )
}

/// The request for dialogue take `variation` (from 1) of `total` for `scene`.
pub fn take_prompt(scene: &Scene, variation: usize, total: usize) -> String {
    format!(
        "Write dialogue variation {variation} of {total} for this scene of a vertical short \
         drama; make it differ from the other variations in wording and emotion. Reply with one \
         json object and nothing else: {{\"dialogue\": \"…\", \"stage_direction\": \"…\", \
         \"emotional_tone\": \"…\"}}.\n\n---\n{}",
        scene_text(scene)
    )
}

/// What a storyboard reply gives.
#[derive(Clone, Debug, PartialEq)]
pub enum StoryboardReading {
    /// Shots were read: the valid ones, and the invalid ones with their problems.
    Read {
        /// The validation result.
        result: StoryboardResult,
        /// What the JSON reader repaired.
        repairs: Vec<Repair>,
    },
    /// The reply was cut off: send [`storyboard_repair_prompt`] once.
    Retry(JsonDiagnostic),
    /// Nothing usable (empty, no JSON, invalid, wrong shape, or cut off with nothing
    /// complete after the repair).
    Failed(JsonDiagnostic),
}

/// Reads a storyboard reply. `after_repair` is true for the reply to the repair request: a
/// reply cut off again is then closed after its last complete shot, not retried.
pub fn read_storyboard(reply: &str, after_repair: bool) -> StoryboardReading {
    let expect = Expect::ArrayOf("shots");
    let read = |value: Value, repairs| StoryboardReading::Read {
        result: validate_storyboard(&value),
        repairs,
    };
    match extract_json(reply, expect) {
        Ok((value, repairs)) => read(value, repairs),
        Err(d @ JsonDiagnostic::Truncated { .. }) if !after_repair => StoryboardReading::Retry(d),
        Err(JsonDiagnostic::Truncated { .. }) => match close_truncated(reply, expect) {
            Ok((value, repairs)) => read(value, repairs),
            Err(d) => StoryboardReading::Failed(d),
        },
        Err(d) => StoryboardReading::Failed(d),
    }
}

/// A project shot from a validated draft, with the editor's id and number.
pub fn shot_from_draft(draft: &ShotDraft, id: String, number: String) -> Shot {
    let mut shot = Shot::new(id, number);
    shot.camera_angle = draft.camera_angle.clone();
    shot.shot_size = draft.shot_size.clone().unwrap_or_default();
    shot.movement = draft.movement.clone().unwrap_or_default();
    if let Some(seconds) = draft.duration_s.filter(|s| *s > 0.0) {
        shot.duration_s = seconds;
    }
    shot.action = draft.action_description.clone();
    shot.dialogue = draft.dialogue.clone().unwrap_or_default();
    shot.emotional_tone = draft.emotional_tone.clone();
    shot.visual_elements = draft.visual_elements.clone();
    shot.characters = draft.characters.clone();
    shot
}

/// An invalid shot's problems as one line for the user: `#3: the required field … ; …`.
pub fn invalid_shot_message(index: usize, problems: &[Problem], lang: Lang) -> String {
    let text: Vec<String> = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.message(lang))
        .collect();
    match lang {
        Lang::ZhCn => format!("第 {} 个镜头无效：{}", index + 1, text.join("；")),
        Lang::En => format!("Shot #{} is invalid: {}", index + 1, text.join("; ")),
    }
}

/// What to do with one scene's answer in a storyboard run ([`storyboard_step`]).
#[derive(Clone, Debug, PartialEq)]
pub enum StoryboardStep {
    /// The request failed (the batch gave up on it): the scene failed.
    RequestFailed(ItemFailure),
    /// Add `shots` to the scene, once per batch item (a resumed batch shows its earlier replies
    /// again), and report the scene done.
    AddShots {
        /// The valid shots, without id or number (the editor gives them).
        shots: Vec<Shot>,
        /// Replace the scene's shots: the run asked for it and the reply has shots.
        replace: bool,
        /// The reply answered the repair request.
        repaired: bool,
        /// What the JSON reader repaired.
        repairs: Vec<Repair>,
        /// The invalid shots: their index in the reply and their problems.
        invalid: Vec<(usize, Vec<Problem>)>,
        /// Problems with the storyboard as a whole.
        problems: Vec<Problem>,
    },
    /// The reply was cut off: keep it, and once the batch is over send it back with
    /// [`storyboard_repair_prompt`] in one repair batch.
    AskAgain(JsonDiagnostic),
    /// Nothing usable: the scene failed with this diagnostic.
    Fail {
        /// Why.
        diagnostic: JsonDiagnostic,
        /// The reply answered the repair request.
        repaired: bool,
    },
}

/// Decides what one scene's answer in a storyboard run becomes. `state` is its batch item's
/// (done or failed) and `reply` the text it got; `repair` is true in the repair batch (a reply
/// cut off again is then closed, not retried) and `replace` when the run replaces the scenes'
/// shots.
pub fn storyboard_step(
    state: &ItemState,
    reply: &str,
    repair: bool,
    replace: bool,
) -> StoryboardStep {
    if let ItemState::Failed { failure, .. } = state {
        return StoryboardStep::RequestFailed(failure.clone());
    }
    match read_storyboard(reply, repair) {
        StoryboardReading::Read { result, repairs } => {
            let shots: Vec<Shot> = result
                .shots
                .iter()
                .map(|d| shot_from_draft(d, String::new(), String::new()))
                .collect();
            StoryboardStep::AddShots {
                replace: replace && !shots.is_empty(),
                shots,
                repaired: repair,
                repairs,
                invalid: result.invalid,
                problems: result.problems,
            }
        }
        StoryboardReading::Retry(diagnostic) => StoryboardStep::AskAgain(diagnostic),
        StoryboardReading::Failed(diagnostic) => StoryboardStep::Fail {
            diagnostic,
            repaired: repair,
        },
    }
}

/// Where one scene's storyboard stands in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SceneStage {
    /// Asked, not answered yet.
    Running,
    /// Cut off: the repair request goes out when the batch is over.
    Repairing,
    /// Shots were added.
    Done,
    /// The request failed, or its reply gave nothing usable.
    Failed,
}

impl SceneStage {
    /// A stable identifier (`running`, `repairing`, `done`, `failed`) for tests and the page.
    pub fn id(self) -> &'static str {
        match self {
            SceneStage::Running => "running",
            SceneStage::Repairing => "repairing",
            SceneStage::Done => "done",
            SceneStage::Failed => "failed",
        }
    }

    /// Whether an answer is still to come.
    pub fn is_open(self) -> bool {
        matches!(self, SceneStage::Running | SceneStage::Repairing)
    }
}

/// What happened to one scene's storyboard in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneReport {
    /// The scene.
    pub scene_id: String,
    /// Its heading.
    pub heading: String,
    /// Where it stands.
    pub stage: SceneStage,
    /// How many shots were added.
    pub added: usize,
    /// Read from the reply to the repair request.
    pub repaired: bool,
    /// What the JSON reader repaired.
    pub repairs: Vec<Repair>,
    /// The invalid shots: their index in the reply and their problems.
    pub invalid: Vec<(usize, Vec<Problem>)>,
    /// Problems with the storyboard as a whole.
    pub problems: Vec<Problem>,
    /// Why the reply could not be read (kept when a repair then succeeds).
    pub diagnostic: Option<JsonDiagnostic>,
    /// Why the request failed.
    pub failure: Option<ItemFailure>,
}

impl SceneReport {
    /// A scene just asked.
    pub fn running(scene_id: String, heading: String) -> SceneReport {
        SceneReport {
            scene_id,
            heading,
            stage: SceneStage::Running,
            added: 0,
            repaired: false,
            repairs: Vec::new(),
            invalid: Vec::new(),
            problems: Vec::new(),
            diagnostic: None,
            failure: None,
        }
    }

    /// Records the scene's answer: `step` as [`storyboard_step`] decided it and, for
    /// [`StoryboardStep::AddShots`], how many shots were `added`.
    pub fn record(&mut self, step: &StoryboardStep, added: usize) {
        match step {
            StoryboardStep::RequestFailed(failure) => {
                self.stage = SceneStage::Failed;
                self.failure = Some(failure.clone());
            }
            StoryboardStep::AddShots {
                repaired,
                repairs,
                invalid,
                problems,
                ..
            } => {
                self.stage = SceneStage::Done;
                self.added = added;
                self.repaired = *repaired;
                self.repairs = repairs.clone();
                self.invalid = invalid.clone();
                self.problems = problems.clone();
            }
            StoryboardStep::AskAgain(diagnostic) => {
                self.stage = SceneStage::Repairing;
                self.diagnostic = Some(diagnostic.clone());
            }
            StoryboardStep::Fail {
                diagnostic,
                repaired,
            } => {
                self.stage = SceneStage::Failed;
                self.repaired = *repaired;
                self.diagnostic = Some(diagnostic.clone());
            }
        }
    }

    /// The repair batch could not start: the cut-off scene failed.
    pub fn repair_not_sent(&mut self) {
        self.stage = SceneStage::Failed;
    }
}

/// What a take reply gives.
#[derive(Clone, Debug, PartialEq)]
pub enum TakeReading {
    /// A usable take, and what the JSON reader repaired.
    Take(TakeDraft, Vec<Repair>),
    /// JSON that is not a usable take, with its problems.
    Invalid(Vec<Problem>),
    /// No JSON could be read.
    Failed(JsonDiagnostic),
}

/// Reads one dialogue-take reply.
pub fn read_take(reply: &str) -> TakeReading {
    match extract_json(reply, Expect::Object) {
        Ok((value, repairs)) => match validate_take(&value) {
            Ok(draft) => TakeReading::Take(draft, repairs),
            Err(problems) => TakeReading::Invalid(problems),
        },
        Err(d) => TakeReading::Failed(d),
    }
}

/// A project take from a validated draft.
pub fn take_from_draft(draft: &TakeDraft, id: String, model: &str, cost: Option<Micros>) -> Take {
    Take {
        id,
        dialogue: draft.dialogue.clone(),
        stage_direction: draft.stage_direction.clone(),
        emotional_tone: draft.emotional_tone.clone(),
        model: model.to_string(),
        cost,
        locked: false,
    }
}

/// What a run's cost is per accepted result: `None` when nothing was accepted.
pub fn cost_per_accepted(total: Money, accepted: usize) -> Option<Money> {
    (accepted > 0).then(|| total.scale(1, accepted as i128))
}

/// Dollars as [`Micros`] (rounded), for a take's stored cost.
pub fn usd_micros(money: Money) -> Option<Micros> {
    (money.currency() == Currency::Usd)
        .then(|| i64::try_from(money.micros()).ok().map(Micros))
        .flatten()
}

/// What a dialogue-takes run cost: the batch's total in dollars and yuan, and how many takes
/// it gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakesCost {
    /// The batch's cost in dollars.
    pub usd: Money,
    /// The batch's cost in yuan.
    pub cny: Money,
    /// The takes accepted.
    pub accepted: usize,
}

impl TakesCost {
    /// The cost of a run whose calls add up to `total`, with `accepted` takes.
    pub fn of(total: &LedgerTotal, accepted: usize) -> TakesCost {
        TakesCost {
            usd: total.cost_usd,
            cny: total.cost_cny,
            accepted,
        }
    }

    /// The cost per accepted take in dollars and yuan: `None` when none was accepted.
    pub fn per_take(&self) -> Option<(Money, Money)> {
        Some((
            cost_per_accepted(self.usd, self.accepted)?,
            cost_per_accepted(self.cny, self.accepted)?,
        ))
    }

    /// What each accepted take stores as its cost: its share of the dollars.
    pub fn stored_per_take(&self) -> Option<Micros> {
        cost_per_accepted(self.usd, self.accepted).and_then(usd_micros)
    }
}

/// Why a take cannot be picked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickError {
    /// Another take is picked and locked: unlock it first.
    Locked,
    /// The scene has no such take.
    NoSuchTake,
}

impl PickError {
    /// The message for the user.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            PickError::Locked => lang.pick(
                "已选定的版本被锁定：请先解锁再更换。",
                "The picked take is locked: unlock it before picking another.",
            ),
            PickError::NoSuchTake => lang.pick("没有这个版本。", "There is no such take."),
        }
    }
}

/// Picks `take_id` for the scene and locks it. Refused while another take is picked and
/// locked; picking the locked take again changes nothing.
pub fn pick_take(scene: &mut Scene, take_id: &str) -> Result<(), PickError> {
    if !scene.takes.iter().any(|t| t.id == take_id) {
        return Err(PickError::NoSuchTake);
    }
    let locked_other = scene.picked_take.as_deref().is_some_and(|picked| {
        picked != take_id && scene.takes.iter().any(|t| t.id == picked && t.locked)
    });
    if locked_other {
        return Err(PickError::Locked);
    }
    scene.picked_take = Some(take_id.to_string());
    for take in &mut scene.takes {
        take.locked = take.id == take_id;
    }
    Ok(())
}

/// Unlocks the picked take (it stays picked until another one is).
pub fn unlock_take(scene: &mut Scene) {
    for take in &mut scene.takes {
        take.locked = false;
    }
}

/// Whether the scene's pick is locked.
pub fn pick_locked(scene: &Scene) -> bool {
    scene
        .picked_take
        .as_deref()
        .is_some_and(|picked| scene.takes.iter().any(|t| t.id == picked && t.locked))
}

/// Replaces the scene's takes with `fresh`, keeping the locked ones (first).
pub fn replace_takes(scene: &mut Scene, fresh: Vec<Take>) {
    scene.takes.retain(|t| t.locked);
    scene.takes.extend(fresh);
    if let Some(picked) = &scene.picked_take {
        if !scene.takes.iter().any(|t| &t.id == picked) {
            scene.picked_take = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> Scene {
        Scene {
            id: "e1-s1".into(),
            heading: "INT. 医院走廊 - 夜".into(),
            synopsis: String::new(),
            script_text: "INT. 医院走廊 - 夜\n\n林梅冲进走廊。\n\n林梅\n他在哪？".into(),
            shots: Vec::new(),
            takes: Vec::new(),
            picked_take: None,
        }
    }

    fn character(name: &str) -> Character {
        Character {
            id: format!("c-{name}"),
            name: name.into(),
            description: "护士".into(),
            voice: String::new(),
            look: String::new(),
            reference_notes: String::new(),
        }
    }

    const GOOD: &str = r#"{"shots":[
        {"shot_number":1,"camera_angle":"低角度","action_description":"林梅冲进走廊","emotional_tone":"紧张","visual_elements":["走廊","灯"]},
        {"shot_number":2,"camera_angle":"特写","action_description":"她的脸","emotional_tone":"焦虑","visual_elements":[]},
        {"shot_number":3,"camera_angle":"中景","action_description":"医生走来","emotional_tone":"冷","visual_elements":["白大褂"]},
        {"shot_number":4,"camera_angle":"俯拍","action_description":"两人对峙","emotional_tone":"僵","visual_elements":["影子"], "duration_s": 3}
    ]}"#;

    #[test]
    fn prompts_say_json_and_carry_the_scene_once() {
        let s = scene();
        let p = storyboard_prompt(&s);
        assert!(p.contains("json") && p.contains("\"shots\"") && p.contains("4 to 8 shots"));
        assert_eq!(p.matches("INT. 医院走廊 - 夜").count(), 1);
        assert!(p.ends_with("他在哪？"));
        let t = take_prompt(&s, 3, 12);
        assert!(t.contains("variation 3 of 12") && t.contains("json"));
        assert!(t.contains("\"dialogue\"") && t.contains("\"stage_direction\""));
        // The sandbox (and a reader) would take "shots" or "storyboard" for a storyboard.
        assert!(!t.to_lowercase().contains("shots") && !t.contains("storyboard"));
        assert_ne!(take_prompt(&s, 1, 12), take_prompt(&s, 2, 12));
        let r = storyboard_repair_prompt(&s, "{\"shots\":[{\"shot_n");
        assert!(
            r.contains("cut off") && r.contains("json") && r.ends_with("{\"shots\":[{\"shot_n")
        );
    }

    #[test]
    fn the_prefix_is_the_bible_of_the_scene_cast_and_stable() {
        let s = scene();
        let cast = vec![character("林梅"), character("王医生")];
        let prefix = scene_prefix(&cast, &s).expect("林梅 is in the scene");
        assert!(prefix.contains("林梅") && !prefix.contains("王医生"));
        assert_eq!(Some(prefix), scene_prefix(&cast, &s));
        assert_eq!(scene_prefix(&[character("王医生")], &s), None);
    }

    #[test]
    fn a_good_reply_becomes_shots() {
        let StoryboardReading::Read { result, repairs } = read_storyboard(GOOD, false) else {
            panic!("read");
        };
        assert!(repairs.is_empty());
        assert_eq!(result.shots.len(), 4);
        assert!(result.invalid.is_empty());
        let shot = shot_from_draft(&result.shots[3], "shot-x".into(), "1D".into());
        assert_eq!(shot.action, "两人对峙");
        assert_eq!(shot.camera_angle, "俯拍");
        assert_eq!(shot.duration_s, 3.0);
        assert_eq!(shot.visual_elements, ["影子"]);
        let first = shot_from_draft(&result.shots[0], "shot-y".into(), "1A".into());
        assert_eq!(first.duration_s, 5.0);
    }

    #[test]
    fn malformed_replies_are_repaired_and_invalid_shots_marked() {
        let fenced = format!("好的：\n```json\n{}\n```", GOOD.replace("]}", ",]}"));
        let StoryboardReading::Read { result, repairs } = read_storyboard(&fenced, false) else {
            panic!("read");
        };
        assert_eq!(result.shots.len(), 4);
        let kinds: Vec<&str> = repairs.iter().map(Repair::kind).collect();
        assert!(kinds.contains(&"code_fence") && kinds.contains(&"trailing_comma"));

        let one_bad = r#"{"shots":[{"shot_number":1,"action_description":"推门"},{"shot_number":2,"camera_angle":"特写"}]}"#;
        let StoryboardReading::Read { result, .. } = read_storyboard(one_bad, false) else {
            panic!("read");
        };
        assert_eq!(result.shots.len(), 1);
        assert_eq!(result.invalid.len(), 1);
        let (index, problems) = &result.invalid[0];
        let en = invalid_shot_message(*index, problems, Lang::En);
        assert!(
            en.starts_with("Shot #2 is invalid") && en.contains("action_description"),
            "{en}"
        );
        assert!(invalid_shot_message(*index, problems, Lang::ZhCn).starts_with("第 2 个镜头无效"));
    }

    #[test]
    fn a_cut_reply_is_retried_once_then_closed() {
        let cut = &GOOD[..GOOD.find("{\"shot_number\":3").unwrap() + 20];
        assert!(matches!(
            read_storyboard(cut, false),
            StoryboardReading::Retry(JsonDiagnostic::Truncated { .. })
        ));
        let StoryboardReading::Read { result, repairs } = read_storyboard(cut, true) else {
            panic!("closed after the repair");
        };
        assert_eq!(result.shots.len(), 2);
        assert!(repairs.iter().any(|r| r.kind() == "closed_truncated"));
        // Nothing complete: a diagnostic, not another retry.
        assert!(matches!(
            read_storyboard("{\"shots\":[{\"shot_nu", true),
            StoryboardReading::Failed(JsonDiagnostic::Truncated { .. })
        ));
    }

    #[test]
    fn unreadable_replies_are_diagnostics_not_retries() {
        for (reply, kind) in [
            ("", "empty"),
            ("I cannot help with that.", "no_json"),
            (
                "<html><body><script>alert(1)</script></body></html>",
                "no_json",
            ),
            ("[1, 2, 3]", "wrong_shape"),
        ] {
            match read_storyboard(reply, false) {
                StoryboardReading::Failed(d) => {
                    assert_eq!(d.kind(), kind, "{reply}");
                    assert!(!d.message(Lang::En).is_empty() && !d.message(Lang::ZhCn).is_empty());
                }
                other => panic!("{reply}: {other:?}"),
            }
        }
    }

    #[test]
    fn take_replies() {
        let TakeReading::Take(take, repairs) = read_take(
            "```json\n{'dialogue': '<script>x</script>你终于回来了。', 'stage_direction': '背对', 'emotional_tone': '冷',}\n```",
        ) else {
            panic!("take");
        };
        assert_eq!(take.dialogue, "<script>x</script>你终于回来了。");
        assert!(repairs.iter().any(|r| r.kind() == "single_quotes"));
        let take = take_from_draft(
            &take,
            "take-1".into(),
            "claude-sonnet-4.5",
            Some(Micros(12)),
        );
        assert_eq!((take.locked, take.cost), (false, Some(Micros(12))));
        assert!(matches!(
            read_take("{\"emotional_tone\": \"冷\"}"),
            TakeReading::Invalid(_)
        ));
        assert!(matches!(
            read_take(""),
            TakeReading::Failed(JsonDiagnostic::Empty)
        ));
        // An array where an object belongs (the sandbox's object_not_array for takes).
        assert!(matches!(
            read_take("[{\"dialogue\": \"走。\"}]"),
            TakeReading::Take(..)
        ));
    }

    fn done() -> ItemState {
        ItemState::Done {
            usage: crate::domain::provider::chat::Usage::default(),
            cost: crate::domain::cost::profile::Cost::ZERO,
            latency_ms: 900.0,
            model: "m".into(),
        }
    }

    #[test]
    fn a_failed_request_fails_the_scene() {
        let failed = ItemState::Failed {
            failure: ItemFailure::MarkedFailed,
            billed: None,
        };
        let step = storyboard_step(&failed, GOOD, false, true);
        assert_eq!(
            step,
            StoryboardStep::RequestFailed(ItemFailure::MarkedFailed)
        );
        let mut report = SceneReport::running("e1-s1".into(), "INT. 医院走廊 - 夜".into());
        report.record(&step, 0);
        assert_eq!(report.stage, SceneStage::Failed);
        assert_eq!(report.failure, Some(ItemFailure::MarkedFailed));
        assert_eq!(report.diagnostic, None);
    }

    #[test]
    fn shots_are_added_and_replace_only_when_there_are_some() {
        let StoryboardStep::AddShots {
            shots,
            replace,
            repaired,
            repairs,
            invalid,
            problems,
        } = storyboard_step(&done(), GOOD, false, true)
        else {
            panic!("shots");
        };
        assert_eq!(shots.len(), 4);
        assert_eq!(shots[0].action, "林梅冲进走廊");
        assert_eq!(shots[3].duration_s, 3.0);
        assert_eq!((shots[0].id.as_str(), shots[0].number.as_str()), ("", ""));
        assert!(replace);
        assert!(!repaired);
        assert_eq!(repairs, vec![]);
        assert_eq!(invalid, vec![]);
        assert_eq!(problems, vec![]);
        // Appending stays appending.
        let StoryboardStep::AddShots { replace, .. } = storyboard_step(&done(), GOOD, false, false)
        else {
            panic!("shots");
        };
        assert!(!replace);
        // A reply without one valid shot never wipes the scene's shots.
        let none_valid = r#"{"shots":[{"shot_number":1,"camera_angle":"特写"}]}"#;
        let StoryboardStep::AddShots {
            shots,
            replace,
            invalid,
            ..
        } = storyboard_step(&done(), none_valid, false, true)
        else {
            panic!("read");
        };
        assert_eq!(shots.len(), 0);
        assert!(!replace);
        assert_eq!(invalid.len(), 1);
        assert_eq!(invalid[0].0, 0);
    }

    #[test]
    fn a_cut_reply_asks_again_once_then_is_closed() {
        let cut = &GOOD[..GOOD.find("{\"shot_number\":3").unwrap() + 20];
        let step = storyboard_step(&done(), cut, false, false);
        assert_eq!(
            step,
            StoryboardStep::AskAgain(JsonDiagnostic::Truncated { salvageable: 2 })
        );
        let mut report = SceneReport::running("e1-s1".into(), "INT. 医院走廊 - 夜".into());
        report.record(&step, 0);
        assert_eq!(report.stage, SceneStage::Repairing);
        assert_eq!(
            report.diagnostic,
            Some(JsonDiagnostic::Truncated { salvageable: 2 })
        );
        assert!(report.stage.is_open());

        // The repair batch's reply, cut off again: closed after its last complete shot.
        let step = storyboard_step(&done(), cut, true, false);
        let StoryboardStep::AddShots {
            shots,
            repaired,
            repairs,
            ..
        } = &step
        else {
            panic!("closed");
        };
        assert_eq!(shots.len(), 2);
        assert!(*repaired);
        let kinds: Vec<&str> = repairs.iter().map(Repair::kind).collect();
        assert_eq!(kinds, ["closed_truncated"]);
        report.record(&step, 2);
        assert_eq!(report.stage, SceneStage::Done);
        assert_eq!(report.added, 2);
        assert!(report.repaired);
        // The diagnostic of the cut reply stays on the report.
        assert_eq!(
            report.diagnostic,
            Some(JsonDiagnostic::Truncated { salvageable: 2 })
        );
        assert!(!report.stage.is_open());
    }

    #[test]
    fn an_unusable_reply_fails_with_its_diagnostic() {
        assert_eq!(
            storyboard_step(&done(), "I cannot help with that.", false, true),
            StoryboardStep::Fail {
                diagnostic: JsonDiagnostic::NoJson,
                repaired: false
            }
        );
        // Cut off again in the repair batch with nothing complete: no third request.
        let step = storyboard_step(&done(), "{\"shots\":[{\"shot_nu", true, false);
        assert_eq!(
            step,
            StoryboardStep::Fail {
                diagnostic: JsonDiagnostic::Truncated { salvageable: 0 },
                repaired: true
            }
        );
        let mut report = SceneReport::running("e1-s1".into(), "INT. 医院走廊 - 夜".into());
        report.record(&step, 0);
        assert_eq!(report.stage, SceneStage::Failed);
        assert!(report.repaired);
        assert_eq!(
            report.diagnostic,
            Some(JsonDiagnostic::Truncated { salvageable: 0 })
        );
    }

    #[test]
    fn a_repair_that_cannot_be_sent_fails_the_scene() {
        let mut report = SceneReport::running("e1-s2".into(), "EXT. 天台 - 日".into());
        assert_eq!(
            report,
            SceneReport {
                scene_id: "e1-s2".into(),
                heading: "EXT. 天台 - 日".into(),
                stage: SceneStage::Running,
                added: 0,
                repaired: false,
                repairs: vec![],
                invalid: vec![],
                problems: vec![],
                diagnostic: None,
                failure: None,
            }
        );
        report.record(
            &StoryboardStep::AskAgain(JsonDiagnostic::Truncated { salvageable: 1 }),
            0,
        );
        report.repair_not_sent();
        assert_eq!(report.stage, SceneStage::Failed);
        assert_eq!(
            report.diagnostic,
            Some(JsonDiagnostic::Truncated { salvageable: 1 })
        );
        let ids: Vec<&str> = [
            SceneStage::Running,
            SceneStage::Repairing,
            SceneStage::Done,
            SceneStage::Failed,
        ]
        .iter()
        .map(|s| s.id())
        .collect();
        assert_eq!(ids, ["running", "repairing", "done", "failed"]);
    }

    fn takes(n: usize) -> Vec<Take> {
        (0..n)
            .map(|i| Take {
                id: format!("t{i}"),
                dialogue: format!("line {i}"),
                stage_direction: String::new(),
                emotional_tone: String::new(),
                model: "m".into(),
                cost: None,
                locked: false,
            })
            .collect()
    }

    #[test]
    fn picking_locks_and_a_locked_pick_needs_an_unlock() {
        let mut s = scene();
        s.takes = takes(3);
        assert_eq!(pick_take(&mut s, "nope"), Err(PickError::NoSuchTake));
        pick_take(&mut s, "t1").unwrap();
        assert!(pick_locked(&s));
        assert_eq!(pick_take(&mut s, "t2"), Err(PickError::Locked));
        assert_eq!(s.picked_take.as_deref(), Some("t1"));
        pick_take(&mut s, "t1").unwrap();
        unlock_take(&mut s);
        assert!(!pick_locked(&s));
        assert_eq!(s.picked_take.as_deref(), Some("t1"));
        pick_take(&mut s, "t2").unwrap();
        assert_eq!(s.picked_take.as_deref(), Some("t2"));
        assert!(s.takes.iter().filter(|t| t.locked).count() == 1);
    }

    #[test]
    fn regenerating_keeps_the_locked_take() {
        let mut s = scene();
        s.takes = takes(3);
        pick_take(&mut s, "t2").unwrap();
        let mut fresh = takes(2);
        fresh[0].id = "n0".into();
        fresh[1].id = "n1".into();
        replace_takes(&mut s, fresh.clone());
        let ids: Vec<&str> = s.takes.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["t2", "n0", "n1"]);
        assert_eq!(s.picked_take.as_deref(), Some("t2"));
        unlock_take(&mut s);
        replace_takes(&mut s, fresh);
        assert_eq!(s.picked_take, None);
    }

    #[test]
    fn cost_per_accepted_take() {
        let total = Money::from_micros(Currency::Usd, 1_200);
        assert_eq!(
            cost_per_accepted(total, 12),
            Some(Money::from_micros(Currency::Usd, 100))
        );
        assert_eq!(cost_per_accepted(total, 0), None);
        assert_eq!(
            usd_micros(Money::from_micros(Currency::Usd, 100)),
            Some(Micros(100))
        );
        assert_eq!(usd_micros(Money::from_micros(Currency::Cny, 100)), None);
    }

    #[test]
    fn a_takes_run_costs_its_total_over_the_accepted_takes() {
        let mut total = LedgerTotal::empty("");
        total.cost_usd = Money::from_micros(Currency::Usd, 1_200);
        total.cost_cny = Money::from_micros(Currency::Cny, 8_640);
        let cost = TakesCost::of(&total, 12);
        assert_eq!(
            cost,
            TakesCost {
                usd: Money::from_micros(Currency::Usd, 1_200),
                cny: Money::from_micros(Currency::Cny, 8_640),
                accepted: 12,
            }
        );
        assert_eq!(
            cost.per_take(),
            Some((
                Money::from_micros(Currency::Usd, 100),
                Money::from_micros(Currency::Cny, 720)
            ))
        );
        assert_eq!(cost.stored_per_take(), Some(Micros(100)));
        // A third of a thousand micro-dollars is stored rounded.
        total.cost_usd = Money::from_micros(Currency::Usd, 1_000);
        assert_eq!(
            TakesCost::of(&total, 3).stored_per_take(),
            Some(Micros(333))
        );
        // Nothing accepted: no per-take cost, nothing stored.
        let none = TakesCost::of(&total, 0);
        assert_eq!(none.per_take(), None);
        assert_eq!(none.stored_per_take(), None);
    }
}
