//! Deterministic reply text.
//!
//! A reply is generated from a seed (a hash of the request), so the same request
//! always gets the same reply. Prose is assembled from short-drama flavoured
//! sentences in English or Chinese and sized to an exact token count. JSON
//! replies follow the shapes the studio asks for (storyboard shots, dialogue
//! takes or plain text) and can be broken on purpose with a
//! `[[sandbox:malformed=KIND]]` directive, to test client-side repair.
//!
//! A `[[sandbox:fault=NAME]]` directive (NAME: any error fault of
//! [`crate::config::FaultRates`], e.g. `stall_mid_stream`) in the last user
//! message forces that fault for that one request, whatever was drawn.

use serde::Serialize;

use crate::config::Fault;
use crate::rng::SplitMix64;
use crate::tokens::{count_tokens, truncate_tokens};

/// Reply length, in tokens, when no directive sets one.
pub const DEFAULT_REPLY_TOKENS: u64 = 60;
/// The largest reply a `tokens=N` directive may ask for.
pub const MAX_REPLY_TOKENS: u64 = 100_000;
/// The markup injected by the `html` malformation.
pub const HTML_PAYLOAD: &str = "<img src=x onerror=alert(1)><script>alert(1)</script>";

/// The JSON document a reply contains in JSON mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// `{"shots":[{shot_number, camera_angle, action_description, emotional_tone, visual_elements}]}`.
    Storyboard,
    /// `{"dialogue","stage_direction","emotional_tone"}`.
    Dialogue,
    /// `{"text"}`.
    Text,
}

impl JsonShape {
    /// Picks the shape the prompt asks for. A prompt mentioning "storyboard",
    /// "shots" (or 分镜) gets shots; one mentioning "dialogue", "variation" (or
    /// 台词, 对白) gets a dialogue take; anything else gets `{"text"}`.
    pub fn detect(prompt: &str) -> Self {
        let lower = prompt.to_lowercase();
        let mentions = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if mentions(&["storyboard", "shots", "分镜"]) {
            Self::Storyboard
        } else if mentions(&["dialogue", "variation", "台词", "对白"]) {
            Self::Dialogue
        } else {
            Self::Text
        }
    }
}

/// A deliberate defect in a JSON reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformation {
    /// The JSON wrapped in a Markdown ```json fence.
    Fence,
    /// Prose before and after the JSON.
    Prose,
    /// A comma before the last closing bracket or brace.
    TrailingComma,
    /// Single quotes instead of double quotes.
    SingleQuotes,
    /// `shots` is one object instead of an array. Other shapes come back as a
    /// one-element array where an object was expected.
    ObjectNotArray,
    /// The JSON cut off in the middle.
    Truncated,
    /// An empty string instead of JSON.
    Empty,
    /// Valid JSON whose main text field carries [`HTML_PAYLOAD`].
    Html,
    /// A storyboard whose second shot lacks its required `action_description`: the client
    /// keeps the valid shots and marks that one.
    InvalidShot,
}

impl Malformation {
    /// Every kind with its directive name.
    pub const ALL: [(&'static str, Malformation); 9] = [
        ("fence", Self::Fence),
        ("prose", Self::Prose),
        ("trailing_comma", Self::TrailingComma),
        ("single_quotes", Self::SingleQuotes),
        ("object_not_array", Self::ObjectNotArray),
        ("truncated", Self::Truncated),
        ("empty", Self::Empty),
        ("html", Self::Html),
        ("invalid_shot", Self::InvalidShot),
    ];

    /// Looks a kind up by its directive name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
    }
}

/// Settings found in `[[sandbox:...]]` directives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `tokens=N`: the reply length.
    pub tokens: Option<u64>,
    /// `malformed=KIND`: the defect to inject.
    pub malformed: Option<Malformation>,
    /// `fault=NAME`: the fault to force (applied from the last user message only).
    pub fault: Option<Fault>,
}

impl Directives {
    /// Reads every `[[sandbox:key=value,...]]` directive in `text`; a later
    /// directive overrides an earlier one. Unknown keys or values are errors.
    pub fn parse(text: &str) -> Result<Self, String> {
        const OPEN: &str = "[[sandbox:";
        let mut directives = Self::default();
        let mut rest = text;
        while let Some(start) = rest.find(OPEN) {
            let after = &rest[start + OPEN.len()..];
            let Some(end) = after.find("]]") else { break };
            for setting in after[..end].split(',').map(str::trim) {
                let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
                match key.trim() {
                    "tokens" => {
                        let n: u64 = value.trim().parse().map_err(|_| {
                            format!("Invalid sandbox directive: tokens must be a number, got `{value}`.")
                        })?;
                        directives.tokens = Some(n.min(MAX_REPLY_TOKENS));
                    }
                    "malformed" => {
                        let kind = Malformation::from_name(value.trim()).ok_or_else(|| {
                            let names: Vec<&str> =
                                Malformation::ALL.iter().map(|(n, _)| *n).collect();
                            format!(
                                "Invalid sandbox directive: malformed must be one of {}.",
                                names.join(", ")
                            )
                        })?;
                        directives.malformed = Some(kind);
                    }
                    "fault" => {
                        let kind = Fault::from_name(value.trim()).ok_or_else(|| {
                            let names: Vec<&str> = Fault::all().map(Fault::name).to_vec();
                            format!(
                                "Invalid sandbox directive: fault must be one of {}.",
                                names.join(", ")
                            )
                        })?;
                        directives.fault = Some(kind);
                    }
                    // For the video APIs: accepted (and checked) so a shot
                    // prompt carrying it can also go through chat.
                    "video" => {
                        if !crate::video::DIRECTIVE_VALUES.contains(&value.trim()) {
                            return Err(format!(
                                "Invalid sandbox directive: video must be one of {}.",
                                crate::video::DIRECTIVE_VALUES.join(", ")
                            ));
                        }
                    }
                    other => {
                        return Err(format!("Unknown sandbox directive `{other}`."));
                    }
                }
            }
            rest = &after[end + 2..];
        }
        Ok(directives)
    }
}

/// Everything that decides a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplySpec {
    /// Seed derived from the request.
    pub seed: u64,
    /// Reply in Chinese instead of English.
    pub chinese: bool,
    /// Length of prose replies (and of the `text` field in JSON mode).
    pub target_tokens: u64,
    /// The request's `max_tokens` / `max_completion_tokens` cap.
    pub max_tokens: Option<u64>,
    /// The JSON shape, when the reply is JSON.
    pub json: Option<JsonShape>,
    /// A defect to inject into the JSON.
    pub malformed: Option<Malformation>,
}

/// A generated reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The assistant message content.
    pub content: String,
    /// `"stop"`, or `"length"` when `max_tokens` cut the reply.
    pub finish_reason: &'static str,
}

/// Generates the reply for `spec`.
pub fn generate(spec: &ReplySpec) -> Reply {
    let mut rng = SplitMix64::new(spec.seed);
    let full = match spec.json {
        None => prose(&mut rng, spec.chinese, spec.target_tokens),
        Some(shape) => json_reply(&mut rng, spec, shape),
    };
    match spec.max_tokens {
        Some(cap) if count_tokens(&full) > cap => Reply {
            content: truncate_tokens(&full, cap).to_owned(),
            finish_reason: "length",
        },
        _ => Reply {
            content: full,
            finish_reason: "stop",
        },
    }
}

/// English sentence parts.
mod en {
    pub const SUBJECTS: &[&str] = &[
        "The heiress",
        "Her stepmother",
        "The young CEO",
        "Lin Xia",
        "The bodyguard",
        "The old butler",
        "His fiancee",
        "The chairman",
        "The waitress",
        "Her twin sister",
        "The chauffeur",
        "Grandmother Chen",
    ];
    pub const PREDICATES: &[&str] = &[
        "tears up the divorce papers",
        "steps out of the rain",
        "slams her hand on the table",
        "reveals the hidden contract",
        "walks into the banquet hall",
        "drops the wine glass",
        "smiles coldly",
        "recognizes the jade pendant",
        "kneels before the whole family",
        "locks the study door",
        "answers the midnight call",
        "signs the transfer in silence",
        "turns away without a word",
        "remembers the fire ten years ago",
        "holds up the DNA report",
        "blocks the doorway",
    ];
    pub const TAILS: &[&str] = &[
        "",
        "",
        " at last",
        " in front of everyone",
        " as the music stops",
        " while the camera pushes in",
        " before anyone can speak",
        " with trembling hands",
    ];
    pub const LINES: &[&str] = &[
        "Three years later, she is back.",
        "This slap is for my mother.",
        "The bride at the altar is not the one he chose.",
        "Nobody in this room knows who she really is.",
        "You will regret this, I promise you.",
        "The real daughter of the Lin family has come home.",
    ];
    pub const ENDINGS: &[&str] = &[".", ".", ".", "!"];
    /// Sentences of two and three tokens, used to land on an exact length.
    pub const SHORT2: &[&str] = &["No.", "Wait.", "Why?", "Run.", "Stop!"];
    pub const SHORT3: &[&str] = &["Too late.", "She nods.", "Not yet.", "Look up."];
    pub const ONE: &str = "Yes";
    pub const ANGLES: &[&str] = &[
        "close-up",
        "extreme close-up",
        "medium shot",
        "wide shot",
        "over-the-shoulder",
        "low angle",
        "high angle",
        "tracking shot",
        "dutch angle",
        "point of view",
    ];
    pub const TONES: &[&str] = &[
        "tense",
        "heartbroken",
        "triumphant",
        "cold fury",
        "bittersweet",
        "shocked",
        "defiant",
        "tender",
    ];
    pub const VISUALS: &[&str] = &[
        "rain on the window",
        "red wedding invitation",
        "jade pendant",
        "crystal chandelier",
        "divorce papers",
        "luxury car headlights",
        "spilled red wine",
        "family portrait",
        "hospital corridor",
        "glowing phone screen",
    ];
    pub const PREFACE: &str = "Sure! Here is the JSON you asked for:\n";
    pub const AFTERWORD: &str = "\nLet me know if you want another version.";
}

/// Chinese sentence parts.
mod zh {
    pub const SUBJECTS: &[&str] = &[
        "她",
        "总裁",
        "林夏",
        "继母",
        "保镖",
        "老管家",
        "未婚妻",
        "老董事长",
        "服务员",
        "双胞胎妹妹",
        "司机",
        "陈奶奶",
    ];
    pub const PREDICATES: &[&str] = &[
        "撕碎了离婚协议",
        "从雨里走了出来",
        "一巴掌拍在桌上",
        "亮出了藏了三年的合同",
        "推开了宴会厅的大门",
        "手里的酒杯掉在地上",
        "冷冷地笑了",
        "认出了那块玉佩",
        "跪在了全家人面前",
        "锁上了书房的门",
        "接起了午夜的电话",
        "默默签下了转让书",
        "一言不发地转身离开",
        "想起了十年前那场大火",
        "攥紧了亲子鉴定报告",
        "挡在了门口",
    ];
    pub const TAILS: &[&str] = &[
        "",
        "",
        "，全场一片哗然",
        "，所有人都愣住了",
        "，音乐戛然而止",
        "，镜头缓缓推近",
        "，谁也没敢出声",
        "，双手止不住地发抖",
    ];
    pub const LINES: &[&str] = &[
        "三年了，我终于回来了。",
        "这一巴掌，是替我妈打的。",
        "婚礼现场，新娘换人了！",
        "你以为我还是当年那个任人欺负的小丫头吗？",
        "真千金的身份，今天终于要曝光了。",
        "从今天起，这个家我说了算。",
    ];
    pub const ENDINGS: &[&str] = &["。", "。", "。", "！"];
    pub const SHORT2: &[&str] = &["好。", "走！", "停！", "滚。"];
    pub const SHORT3: &[&str] = &["不行。", "晚了。", "你敢？", "放手！", "站住！"];
    pub const ONE: &str = "嗯";
    pub const ANGLES: &[&str] = &[
        "特写",
        "大特写",
        "中景",
        "全景",
        "过肩镜头",
        "仰拍",
        "俯拍",
        "跟拍",
        "斜角镜头",
        "主观镜头",
    ];
    pub const TONES: &[&str] = &[
        "紧张",
        "心碎",
        "扬眉吐气",
        "冷怒",
        "苦涩",
        "震惊",
        "倔强",
        "温柔",
    ];
    pub const VISUALS: &[&str] = &[
        "窗上的雨水",
        "红色请柬",
        "玉佩",
        "水晶吊灯",
        "离婚协议",
        "豪车车灯",
        "洒落的红酒",
        "全家福",
        "医院走廊",
        "手机屏幕的微光",
    ];
    pub const PREFACE: &str = "好的，以下是你要的 JSON：\n";
    pub const AFTERWORD: &str = "\n如需调整请告诉我。";
}

/// The word lists of one language.
struct Lexicon {
    subjects: &'static [&'static str],
    predicates: &'static [&'static str],
    tails: &'static [&'static str],
    lines: &'static [&'static str],
    endings: &'static [&'static str],
    short2: &'static [&'static str],
    short3: &'static [&'static str],
    one: &'static str,
    angles: &'static [&'static str],
    tones: &'static [&'static str],
    visuals: &'static [&'static str],
    preface: &'static str,
    afterword: &'static str,
    /// What goes between two sentences.
    separator: &'static str,
}

const ENGLISH: Lexicon = Lexicon {
    subjects: en::SUBJECTS,
    predicates: en::PREDICATES,
    tails: en::TAILS,
    lines: en::LINES,
    endings: en::ENDINGS,
    short2: en::SHORT2,
    short3: en::SHORT3,
    one: en::ONE,
    angles: en::ANGLES,
    tones: en::TONES,
    visuals: en::VISUALS,
    preface: en::PREFACE,
    afterword: en::AFTERWORD,
    separator: " ",
};

const CHINESE: Lexicon = Lexicon {
    subjects: zh::SUBJECTS,
    predicates: zh::PREDICATES,
    tails: zh::TAILS,
    lines: zh::LINES,
    endings: zh::ENDINGS,
    short2: zh::SHORT2,
    short3: zh::SHORT3,
    one: zh::ONE,
    angles: zh::ANGLES,
    tones: zh::TONES,
    visuals: zh::VISUALS,
    preface: zh::PREFACE,
    afterword: zh::AFTERWORD,
    separator: "",
};

fn lexicon(chinese: bool) -> &'static Lexicon {
    if chinese {
        &CHINESE
    } else {
        &ENGLISH
    }
}

/// One sentence: either a stock line or subject + predicate + tail + ending.
fn sentence(rng: &mut SplitMix64, lex: &Lexicon) -> String {
    if rng.below(4) == 0 {
        return (*rng.pick(lex.lines)).to_owned();
    }
    let subject = rng.pick(lex.subjects);
    let predicate = rng.pick(lex.predicates);
    let tail = rng.pick(lex.tails);
    let ending = rng.pick(lex.endings);
    let space = if lex.separator.is_empty() { "" } else { " " };
    format!("{subject}{space}{predicate}{tail}{ending}")
}

/// Prose of exactly `tokens` tokens.
///
/// Random sentences are added while they fit. When none of a few tries fits,
/// the closing sentences are picked from the whole lexicon so the total lands
/// exactly on target (see [`closing_sentence`]).
pub fn prose(rng: &mut SplitMix64, chinese: bool, tokens: u64) -> String {
    let lex = lexicon(chinese);
    let mut out = String::new();
    let mut remaining = tokens;
    while remaining > 0 {
        let next = if remaining == 1 {
            lex.one.to_owned()
        } else {
            (0..8)
                .map(|_| sentence(rng, lex))
                .find(|candidate| fits(count_tokens(candidate), remaining))
                .unwrap_or_else(|| closing_sentence(rng, lex, remaining))
        };
        if !out.is_empty() {
            out.push_str(lex.separator);
        }
        remaining -= count_tokens(&next);
        out.push_str(&next);
    }
    out
}

/// Whether a sentence of `cost` tokens may be added with `remaining` left: it
/// must not overshoot, nor leave exactly one token (no sentence is that short).
fn fits(cost: u64, remaining: u64) -> bool {
    cost <= remaining && remaining - cost != 1
}

/// Picks one of the longest sentences that fit in `remaining` (at least 2)
/// tokens, from every subject and predicate pair, the stock lines and the
/// short sentences. The 2 and 3 token sentences guarantee a fit.
fn closing_sentence(rng: &mut SplitMix64, lex: &Lexicon, remaining: u64) -> String {
    let space = if lex.separator.is_empty() { "" } else { " " };
    let ending = lex.endings[0];
    let pairs = lex.subjects.iter().flat_map(|subject| {
        lex.predicates
            .iter()
            .map(move |predicate| format!("{subject}{space}{predicate}{ending}"))
    });
    let stock = lex
        .lines
        .iter()
        .chain(lex.short2)
        .chain(lex.short3)
        .map(|s| (*s).to_owned());
    let fitting: Vec<(u64, String)> = pairs
        .chain(stock)
        .map(|s| (count_tokens(&s), s))
        .filter(|(cost, _)| fits(*cost, remaining))
        .collect();
    let longest = fitting.iter().map(|(cost, _)| *cost).max().unwrap_or(0);
    let best: Vec<&String> = fitting
        .iter()
        .filter(|(cost, _)| *cost + 1 >= longest)
        .map(|(_, s)| s)
        .collect();
    (*rng.pick(&best)).clone()
}

/// One storyboard shot, with fields in the order clients expect to read them.
#[derive(Clone, Debug, Serialize)]
struct Shot {
    shot_number: u32,
    camera_angle: String,
    action_description: String,
    emotional_tone: String,
    visual_elements: Vec<String>,
}

#[derive(Serialize)]
struct Storyboard<'a> {
    shots: &'a [Shot],
}

#[derive(Serialize)]
struct SingleShotStoryboard<'a> {
    shots: &'a Shot,
}

#[derive(Clone, Debug, Serialize)]
struct DialogueTake {
    dialogue: String,
    stage_direction: String,
    emotional_tone: String,
}

#[derive(Clone, Debug, Serialize)]
struct TextReply {
    text: String,
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("reply types always serialize")
}

/// Builds the JSON reply, with its malformation if one was asked for.
fn json_reply(rng: &mut SplitMix64, spec: &ReplySpec, shape: JsonShape) -> String {
    let lex = lexicon(spec.chinese);
    let html = spec.malformed == Some(Malformation::Html);
    let not_array = spec.malformed == Some(Malformation::ObjectNotArray);
    let poisoned = |text: String| {
        if html {
            format!("{HTML_PAYLOAD}{text}")
        } else {
            text
        }
    };
    let json = match shape {
        JsonShape::Storyboard => {
            let count = rng.between(4, 8) as u32;
            let mut shots: Vec<Shot> = (1..=count)
                .map(|shot_number| {
                    let mut visuals: Vec<String> = Vec::new();
                    let wanted = rng.between(2, 4) as usize;
                    while visuals.len() < wanted {
                        let visual = (*rng.pick(lex.visuals)).to_owned();
                        if !visuals.contains(&visual) {
                            visuals.push(visual);
                        }
                    }
                    Shot {
                        shot_number,
                        camera_angle: (*rng.pick(lex.angles)).to_owned(),
                        action_description: sentence(rng, lex),
                        emotional_tone: (*rng.pick(lex.tones)).to_owned(),
                        visual_elements: visuals,
                    }
                })
                .collect();
            shots[0].action_description = poisoned(shots[0].action_description.clone());
            if not_array {
                to_json(&SingleShotStoryboard { shots: &shots[0] })
            } else if spec.malformed == Some(Malformation::InvalidShot) {
                let mut value = serde_json::to_value(Storyboard { shots: &shots })
                    .expect("reply types always serialize");
                if let Some(shot) = value["shots"][1].as_object_mut() {
                    shot.remove("action_description");
                }
                value.to_string()
            } else {
                to_json(&Storyboard { shots: &shots })
            }
        }
        JsonShape::Dialogue => {
            let take = DialogueTake {
                dialogue: poisoned((*rng.pick(lex.lines)).to_owned()),
                stage_direction: sentence(rng, lex),
                emotional_tone: (*rng.pick(lex.tones)).to_owned(),
            };
            if not_array {
                to_json(&[take])
            } else {
                to_json(&take)
            }
        }
        JsonShape::Text => {
            let reply = TextReply {
                text: poisoned(prose(rng, spec.chinese, spec.target_tokens)),
            };
            if not_array {
                to_json(&[reply])
            } else {
                to_json(&reply)
            }
        }
    };
    match spec.malformed {
        None
        | Some(Malformation::Html)
        | Some(Malformation::ObjectNotArray)
        | Some(Malformation::InvalidShot) => json,
        Some(Malformation::Fence) => format!("```json\n{json}\n```"),
        Some(Malformation::Prose) => format!("{}{json}{}", lex.preface, lex.afterword),
        Some(Malformation::TrailingComma) => {
            let at = json.rfind(']').or_else(|| json.rfind('}')).unwrap_or(0);
            format!("{},{}", &json[..at], &json[at..])
        }
        Some(Malformation::SingleQuotes) => json.replace('"', "'"),
        Some(Malformation::Truncated) => {
            let half = json.chars().count() / 2;
            json.chars().take(half).collect()
        }
        Some(Malformation::Empty) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> ReplySpec {
        ReplySpec {
            seed,
            chinese: false,
            target_tokens: DEFAULT_REPLY_TOKENS,
            max_tokens: None,
            json: None,
            malformed: None,
        }
    }

    #[test]
    fn short_sentences_have_their_stated_lengths() {
        for lex in [&ENGLISH, &CHINESE] {
            assert!(lex.short2.iter().all(|s| count_tokens(s) == 2));
            assert!(lex.short3.iter().all(|s| count_tokens(s) == 3));
            assert_eq!(count_tokens(lex.one), 1);
        }
    }

    #[test]
    fn prose_hits_the_exact_token_count() {
        for chinese in [false, true] {
            for tokens in (0..130).chain([500, 2000]) {
                for seed in 0..5 {
                    let mut rng = SplitMix64::new(seed);
                    let text = prose(&mut rng, chinese, tokens);
                    assert_eq!(count_tokens(&text), tokens, "{chinese} {tokens} {text:?}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_reply_and_caps_set_length() {
        let a = generate(&spec(42));
        assert_eq!(a, generate(&spec(42)));
        assert_ne!(a.content, generate(&spec(43)).content);
        assert_eq!(a.finish_reason, "stop");
        assert_eq!(count_tokens(&a.content), 60);

        let capped = generate(&ReplySpec {
            max_tokens: Some(10),
            ..spec(42)
        });
        assert_eq!(capped.finish_reason, "length");
        assert_eq!(count_tokens(&capped.content), 10);
        assert!(a.content.starts_with(&capped.content));
    }

    #[test]
    fn chinese_prose_is_chinese() {
        let reply = generate(&ReplySpec {
            chinese: true,
            ..spec(1)
        });
        assert!(crate::tokens::contains_cjk(&reply.content));
        assert!(!reply.content.chars().any(|c| c.is_ascii_alphabetic()));
    }

    #[test]
    fn directives_parse() {
        let d =
            Directives::parse("hi [[sandbox:tokens=12]] and [[sandbox:malformed=fence]]").unwrap();
        assert_eq!(d.tokens, Some(12));
        assert_eq!(d.malformed, Some(Malformation::Fence));
        let d =
            Directives::parse("[[sandbox:tokens=5, malformed=html]] [[sandbox:tokens=7]]").unwrap();
        assert_eq!(d.tokens, Some(7));
        assert_eq!(d.malformed, Some(Malformation::Html));
        assert_eq!(Directives::parse("nothing").unwrap(), Directives::default());
        assert!(Directives::parse("[[sandbox:tokens=x]]").is_err());
        assert!(Directives::parse("[[sandbox:malformed=weird]]").is_err());
        assert!(Directives::parse("[[sandbox:colour=red]]").is_err());
        assert_eq!(
            Directives::parse("[[sandbox:fault=stall_mid_stream]]")
                .unwrap()
                .fault,
            Some(Fault::StallMidStream)
        );
        assert!(Directives::parse("[[sandbox:fault=slow_first_byte]]").is_err());
        assert_eq!(
            Directives::parse("[[sandbox:video=fail]]").unwrap(),
            Directives::default()
        );
        assert!(Directives::parse("[[sandbox:video=explode]]").is_err());
        assert_eq!(
            Directives::parse("[[sandbox:tokens=99999999]]")
                .unwrap()
                .tokens,
            Some(MAX_REPLY_TOKENS)
        );
    }

    #[test]
    fn shapes_are_detected_from_the_prompt() {
        assert_eq!(
            JsonShape::detect("Break this scene into SHOTS"),
            JsonShape::Storyboard
        );
        assert_eq!(JsonShape::detect("生成分镜"), JsonShape::Storyboard);
        assert_eq!(
            JsonShape::detect("Write a dialogue variation"),
            JsonShape::Dialogue
        );
        assert_eq!(JsonShape::detect("Reply in json"), JsonShape::Text);
    }
}
