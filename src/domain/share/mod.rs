//! Storyboards shared by link or file: the payload, its codec, and the checks every decoded
//! link or file goes through before anything is shown or saved.
//!
//! **The link.** `{origin}/view#<header>.<body>`. The fragment never reaches a server.
//!
//! - The header is `ds1` for a plain link and `ds1k` for one protected by a passphrase: `ds`,
//!   the format version, and `k` when the body is encrypted. A header `ds2`… comes from a newer
//!   build and is refused with a message saying so.
//! - A plain body is the base64url text (RFC 4648 §5, no padding) of the payload's compact JSON
//!   compressed as a zlib stream (RFC 1950: deflate with an Adler-32 checksum, what
//!   `CompressionStream("deflate")` writes). The checksum makes a link changed by hand or cut
//!   short fail loudly instead of decoding into other text.
//! - A protected body is the base64url text of `salt (16 bytes) ‖ iv (12 bytes) ‖ ciphertext`,
//!   where the ciphertext is the same zlib stream encrypted with AES-256-GCM under a key derived
//!   from the passphrase by PBKDF2-HMAC-SHA256 with the salt and [`PBKDF2_ITERATIONS`]. GCM's
//!   tag authenticates it: a wrong passphrase and a changed link give the same clear error.
//!   The browser's WebCrypto does the cryptography (`crate::web::share_link`); this module lays
//!   the bytes out and checks them.
//!
//! **What a link holds.** A [`Storyboard`]: the project's id and name, its frame and style, the
//! cast, and the episodes, scenes and shots in the chosen [`ShareScope`], with each scene's
//! picked dialogue take. Its types have no field for an API key, the ledger (costs, models),
//! video jobs or clips, so none can be shared by mistake; they also refuse unknown fields, so a
//! link crafted with extra data is rejected. A review sent back adds the collaborator's
//! [`ShotComment`]s and, for each field they changed, its value before the change
//! ([`FieldEdit`]), which is what lets the merge tell their edits from yours.
//!
//! **Decoding** ([`decode_plain`], [`payload_from_json`]) checks, in this order, and stops at
//! the first failure with a [`ShareError`]: the link's length ([`MAX_LINK_CHARS`]), the header,
//! the base64url text, the compressed stream (inflating stops at [`MAX_PAYLOAD_BYTES`], so a
//! decompression bomb costs at most that much memory, and the checksum must match), UTF-8, JSON
//! syntax, the format tag and version, the fields (types, no unknown fields), then the rules
//! serde cannot express ([`validate`]: unique ids, sizes, references). Nothing decoded is ever
//! rendered as HTML: the viewer puts every string in a text node.
//!
//! Links longer than [`LINK_FILE_THRESHOLD`] characters are cut by some chat apps: the app then
//! offers a `.duanju.json` file ([`share_file_text`], read back by [`read_share_file`]).
//!
//! ```
//! use duanju_studio::domain::project::sample::sample_series;
//! use duanju_studio::domain::share::{decode_plain, plain_fragment, SharePayload, ShareScope};
//!
//! let series = sample_series(1, 6);
//! let scene = ShareScope::Scene { id: series.episodes[0].scenes[0].id.clone() };
//! let payload = SharePayload::storyboard(&series, &scene, 1_000.0).unwrap();
//! let fragment = plain_fragment(&payload);
//! assert!(fragment.starts_with("ds1."));
//! assert_eq!(decode_plain(&fragment).unwrap(), payload);
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::domain::encoding::base64url::{decode_base64url, encode_base64url, Base64Error};
use crate::domain::i18n::Lang;
use crate::domain::project::file::{export_project, load_any, path_at, Loaded};
use crate::domain::project::{Character, Episode, Project, Scene, Shot, ShotStatus, Take};
use crate::domain::storyboard::merge::{FieldValue, ShotField};

/// The format tag of a share payload (in links and `.duanju.json` files).
pub const SHARE_FORMAT: &str = "duanju-share";
/// The format tag of a `.duanju.json` file that holds a passphrase-protected link.
pub const SEALED_FILE_FORMAT: &str = "duanju-share-sealed";
/// The payload version this build writes and reads.
pub const SHARE_VERSION: u32 = 1;
/// The header of a plain link.
pub const HEADER_PLAIN: &str = "ds1";
/// The header of a passphrase-protected link.
pub const HEADER_SEALED: &str = "ds1k";
/// The longest link fragment the decoder reads, in characters.
pub const MAX_LINK_CHARS: usize = 1024 * 1024;
/// The most bytes a payload may take once inflated (and the largest share file read).
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;
/// Above this many characters a link is likely to be cut by chat apps: offer a file.
pub const LINK_FILE_THRESHOLD: usize = 8 * 1024;
/// PBKDF2-HMAC-SHA256 iterations for a passphrase (fixed by the format version).
pub const PBKDF2_ITERATIONS: u32 = 250_000;
/// Salt length of a protected link.
pub const SALT_BYTES: usize = 16;
/// AES-GCM nonce length.
pub const IV_BYTES: usize = 12;
/// AES-GCM authentication tag length (the shortest possible ciphertext).
pub const TAG_BYTES: usize = 16;
/// The longest text field, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest id, in characters.
pub const MAX_ID_CHARS: usize = 200;
/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// The longest author name, in characters.
pub const MAX_AUTHOR_CHARS: usize = 100;
/// The most items in a list field (characters in frame, visual elements).
pub const MAX_LIST_ITEMS: usize = 200;
/// The most shots in one payload.
pub const MAX_SHOTS: usize = 20_000;
/// The most comments in one payload.
pub const MAX_COMMENTS: usize = 10_000;
/// The longest duration of a shot, in seconds.
pub const MAX_SHOT_SECONDS: f64 = 3_600.0;
/// The zlib compression level used for links (0–10).
const LEVEL: u8 = 9;

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

/// A comment on a shot, kept with who wrote it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShotComment {
    /// Unique id (the author's device makes it).
    pub id: String,
    /// The shot it is about.
    pub shot_id: String,
    /// The author's name.
    pub author: String,
    /// When it was written (ms since the epoch).
    pub time_ms: f64,
    /// The comment, plain text.
    pub text: String,
}

/// A field a collaborator changed: which, and its value before the change. The new value is
/// the one in the payload's storyboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldEdit {
    /// The shot.
    pub shot_id: String,
    /// The field.
    pub field: ShotField,
    /// The value it had in the storyboard they received.
    pub base: FieldValue,
}

/// Why a link or share file could not be opened. Whatever the reason, no draft was changed.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareError {
    /// Nothing after the `#`.
    Empty,
    /// Longer than [`MAX_LINK_CHARS`].
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// Not a Duanju Studio share link.
    UnknownHeader,
    /// Made by a newer build.
    NewerVersion {
        /// The link's version.
        found: u64,
    },
    /// A character that base64url does not use, at this offset of the body.
    BadCharacter {
        /// 0-based offset.
        position: usize,
    },
    /// The link ends too early: cut by a chat app or a copy.
    Truncated,
    /// The data does not decompress or its checksum fails: the link was changed.
    Corrupt,
    /// It inflates past [`MAX_PAYLOAD_BYTES`] (a decompression bomb, or simply too big).
    TooLarge {
        /// The cap in bytes.
        cap: usize,
    },
    /// The data is not UTF-8 text.
    NotText,
    /// JSON that is not a share payload (wrong or missing format tag).
    NotAShare,
    /// A field has the wrong type, is unknown or missing.
    Schema {
        /// Where, as `storyboard.episodes[0].scenes[1].shots[2].duration_s`.
        path: String,
        /// What serde said.
        detail: String,
    },
    /// A value breaks a rule of the format.
    Invalid {
        /// Where.
        path: String,
        /// Which rule.
        rule: Rule,
    },
    /// The link is protected and needs its passphrase.
    NeedsPassphrase,
    /// The passphrase is wrong, or the protected link was changed.
    WrongPassphrase,
    /// The scope names an episode or scene the project does not have.
    ScopeNotFound,
    /// The browser could not run the cryptography (very old browser, or not a secure page).
    CryptoUnavailable,
    /// A workspace backup is not a storyboard.
    WorkspaceFile,
}

/// A rule of the share format that a value broke.
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
}

impl Rule {
    fn message(self, lang: Lang) -> String {
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
        }
    }
}

impl ShareError {
    /// A message for the user; every message ends by saying that nothing was changed.
    pub fn message(&self, lang: Lang) -> String {
        let what = match (self, lang) {
            (ShareError::Empty, Lang::ZhCn) => "这个链接里没有分镜。".into(),
            (ShareError::Empty, Lang::En) => "This link holds no storyboard.".into(),
            (ShareError::TooLong { chars }, Lang::ZhCn) => {
                format!("链接太长（{chars} 个字符，上限 {MAX_LINK_CHARS}）。请改用分享文件。")
            }
            (ShareError::TooLong { chars }, Lang::En) => format!(
                "The link is too long ({chars} characters, limit {MAX_LINK_CHARS}). Use a share file instead."
            ),
            (ShareError::UnknownHeader, Lang::ZhCn) => "这不是短剧工作室的分镜分享链接。".into(),
            (ShareError::UnknownHeader, Lang::En) => {
                "This is not a Duanju Studio storyboard link.".into()
            }
            (ShareError::NewerVersion { found }, Lang::ZhCn) => format!(
                "该链接由更新版本的短剧工作室生成（格式版本 {found}，本版本支持 {SHARE_VERSION}）：请刷新页面或更新应用后再打开。"
            ),
            (ShareError::NewerVersion { found }, Lang::En) => format!(
                "This link was made by a newer version of Duanju Studio (format {found}; this version reads {SHARE_VERSION}): reload the page or update the app, then open it again."
            ),
            (ShareError::BadCharacter { position }, Lang::ZhCn) => {
                format!("链接已损坏：第 {position} 个字符不属于链接内容，可能被修改过。")
            }
            (ShareError::BadCharacter { position }, Lang::En) => format!(
                "The link is damaged: character {position} does not belong in it; it may have been edited."
            ),
            (ShareError::Truncated, Lang::ZhCn) => {
                "链接不完整：可能在复制或被聊天软件转发时被截断。请让对方重新发送完整链接或分享文件。".into()
            }
            (ShareError::Truncated, Lang::En) => {
                "The link is incomplete: it was probably cut when copied or sent through a chat app. Ask for the whole link or a share file.".into()
            }
            (ShareError::Corrupt, Lang::ZhCn) => "链接已损坏：校验失败，内容被修改过。".into(),
            (ShareError::Corrupt, Lang::En) => {
                "The link is damaged: its checksum fails, so its content was changed.".into()
            }
            (ShareError::TooLarge { cap }, Lang::ZhCn) => format!(
                "内容解压后超过 {} MB 上限，已停止读取。",
                cap / (1024 * 1024)
            ),
            (ShareError::TooLarge { cap }, Lang::En) => format!(
                "The content is larger than the {} MB limit once unpacked; reading stopped.",
                cap / (1024 * 1024)
            ),
            (ShareError::NotText, Lang::ZhCn) => "链接已损坏：内容不是文本。".into(),
            (ShareError::NotText, Lang::En) => "The link is damaged: its content is not text.".into(),
            (ShareError::NotAShare, Lang::ZhCn) => "这不是短剧工作室的分镜。".into(),
            (ShareError::NotAShare, Lang::En) => "This is not a Duanju Studio storyboard.".into(),
            (ShareError::Schema { path, detail }, Lang::ZhCn) => {
                format!("字段 {path} 无效：{detail}。")
            }
            (ShareError::Schema { path, detail }, Lang::En) => {
                format!("Invalid field {path}: {detail}.")
            }
            (ShareError::Invalid { path, rule }, lang) => match lang {
                Lang::ZhCn => format!("字段 {path} 无效：{}。", rule.message(lang)),
                Lang::En => format!("Invalid field {path}: {}.", rule.message(lang)),
            },
            (ShareError::NeedsPassphrase, Lang::ZhCn) => "这个链接受口令保护：请输入口令。".into(),
            (ShareError::NeedsPassphrase, Lang::En) => {
                "This link is protected: enter its passphrase.".into()
            }
            (ShareError::WrongPassphrase, Lang::ZhCn) => {
                "口令不正确，或链接被修改过：无法解开。".into()
            }
            (ShareError::WrongPassphrase, Lang::En) => {
                "Wrong passphrase, or the link was changed: it cannot be opened.".into()
            }
            (ShareError::ScopeNotFound, Lang::ZhCn) => "项目中找不到要分享的集或场。".into(),
            (ShareError::ScopeNotFound, Lang::En) => {
                "The episode or scene to share is not in the project.".into()
            }
            (ShareError::CryptoUnavailable, Lang::ZhCn) => {
                "此浏览器无法进行加密运算（需要较新的浏览器和 https 页面）。".into()
            }
            (ShareError::CryptoUnavailable, Lang::En) => {
                "This browser cannot run the cryptography (it needs a recent browser and an https page).".into()
            }
            (ShareError::WorkspaceFile, Lang::ZhCn) => {
                "这是工作区备份，不是分镜：请在工作室中导入。".into()
            }
            (ShareError::WorkspaceFile, Lang::En) => {
                "This is a workspace backup, not a storyboard: import it in Studio.".into()
            }
        };
        format!(
            "{what}{}",
            lang.pick("草稿未作任何改动。", " Your drafts are unchanged.")
        )
    }
}

impl From<Base64Error> for ShareError {
    fn from(error: Base64Error) -> ShareError {
        match error {
            Base64Error::BadCharacter(position) => ShareError::BadCharacter { position },
            Base64Error::BadLength => ShareError::Truncated,
        }
    }
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

    /// A review sent back: the `received` storyboard as `from` edited it, with the comments.
    /// The edits are the fields where `edited` differs from what was received (see
    /// [`crate::domain::storyboard::merge::review_edits`]).
    pub fn review(
        received: &SharePayload,
        edited: &Storyboard,
        comments: Vec<ShotComment>,
        from: &str,
        now_ms: f64,
    ) -> SharePayload {
        SharePayload {
            format: SHARE_FORMAT.into(),
            version: SHARE_VERSION,
            kind: ShareKind::Review,
            scope: received.scope.clone(),
            sent_ms: now_ms,
            from: from.trim().into(),
            storyboard: edited.clone(),
            comments,
            edits: crate::domain::storyboard::merge::review_edits(&received.storyboard, edited),
        }
    }

    /// The compact JSON a link compresses.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A link fragment split into its parts, before any decompression or decryption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// `ds1.`: the zlib stream.
    Plain(Vec<u8>),
    /// `ds1k.`: the parts of the encrypted zlib stream.
    Sealed {
        /// PBKDF2 salt.
        salt: Vec<u8>,
        /// AES-GCM nonce.
        iv: Vec<u8>,
        /// Ciphertext with its tag.
        ciphertext: Vec<u8>,
    },
}

/// The zlib stream of a payload's JSON: what a plain link carries and a protected one encrypts.
pub fn compress(payload: &SharePayload) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(payload.to_json().as_bytes(), LEVEL)
}

/// The fragment (without `#`) of a plain link.
pub fn plain_fragment(payload: &SharePayload) -> String {
    format!("{HEADER_PLAIN}.{}", encode_base64url(&compress(payload)))
}

/// The fragment of a protected link from its parts.
pub fn sealed_fragment(salt: &[u8], iv: &[u8], ciphertext: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(salt.len() + iv.len() + ciphertext.len());
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(iv);
    bytes.extend_from_slice(ciphertext);
    format!("{HEADER_SEALED}.{}", encode_base64url(&bytes))
}

/// The path and fragment of a link: `/view#…`.
pub fn link_path(fragment: &str) -> String {
    format!("/view#{fragment}")
}

/// Reads the header and base64url body of a link. Accepts the fragment alone, with its `#`, or
/// a whole URL.
pub fn parse_fragment(text: &str) -> Result<Fragment, ShareError> {
    if text.len() > MAX_LINK_CHARS {
        return Err(ShareError::TooLong {
            chars: text.chars().count(),
        });
    }
    let text = text.trim();
    let text = text.rsplit_once('#').map_or(text, |(_, after)| after);
    if text.is_empty() {
        return Err(ShareError::Empty);
    }
    let (header, body) = text.split_once('.').unwrap_or((text, ""));
    let sealed = match header {
        HEADER_PLAIN => false,
        HEADER_SEALED => true,
        other => return Err(header_error(other)),
    };
    if body.is_empty() {
        return Err(ShareError::Truncated);
    }
    let bytes = decode_base64url(body)?;
    if !sealed {
        return Ok(Fragment::Plain(bytes));
    }
    if bytes.len() < SALT_BYTES + IV_BYTES + TAG_BYTES {
        return Err(ShareError::Truncated);
    }
    let (salt, rest) = bytes.split_at(SALT_BYTES);
    let (iv, ciphertext) = rest.split_at(IV_BYTES);
    Ok(Fragment::Sealed {
        salt: salt.to_vec(),
        iv: iv.to_vec(),
        ciphertext: ciphertext.to_vec(),
    })
}

/// An unknown header: a newer version of ours, or not ours at all.
fn header_error(header: &str) -> ShareError {
    let version = header
        .strip_prefix("ds")
        .map(|rest| rest.strip_suffix('k').unwrap_or(rest))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u64>().ok());
    match version {
        Some(found) if found > u64::from(SHARE_VERSION) => ShareError::NewerVersion { found },
        _ => ShareError::UnknownHeader,
    }
}

/// Inflates a zlib stream, stopping at [`MAX_PAYLOAD_BYTES`] of output, and checks its
/// checksum.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>, ShareError> {
    inflate_capped(bytes, MAX_PAYLOAD_BYTES)
}

/// [`inflate`] with another cap (tests use small ones).
pub fn inflate_capped(bytes: &[u8], cap: usize) -> Result<Vec<u8>, ShareError> {
    use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};
    if bytes.is_empty() {
        return Err(ShareError::Truncated);
    }
    decompress_to_vec_zlib_with_limit(bytes, cap).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => ShareError::TooLarge { cap },
        TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
            ShareError::Truncated
        }
        _ => ShareError::Corrupt,
    })
}

/// Decodes the zlib stream of a link (after decryption, for a protected one).
pub fn decode_body(zlib: &[u8]) -> Result<SharePayload, ShareError> {
    let bytes = inflate(zlib)?;
    let text = String::from_utf8(bytes).map_err(|_| ShareError::NotText)?;
    payload_from_json(&text)
}

/// Decodes a plain link; a protected one gives [`ShareError::NeedsPassphrase`].
pub fn decode_plain(text: &str) -> Result<SharePayload, ShareError> {
    match parse_fragment(text)? {
        Fragment::Plain(bytes) => decode_body(&bytes),
        Fragment::Sealed { .. } => Err(ShareError::NeedsPassphrase),
    }
}

/// Reads a payload's JSON: syntax, format and version, fields, then [`validate`].
pub fn payload_from_json(text: &str) -> Result<SharePayload, ShareError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(ShareError::TooLarge {
            cap: MAX_PAYLOAD_BYTES,
        });
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ShareError::Truncated
        } else {
            ShareError::NotAShare
        }
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(SHARE_FORMAT) {
        return Err(ShareError::NotAShare);
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(SHARE_VERSION) => {}
        Some(found) if found > u64::from(SHARE_VERSION) => {
            return Err(ShareError::NewerVersion { found })
        }
        _ => {
            return Err(ShareError::Invalid {
                path: "version".into(),
                rule: Rule::OutOfRange,
            })
        }
    }
    let payload: SharePayload = serde_json::from_str(text).map_err(|e| {
        let detail = e.to_string();
        let detail = detail
            .rsplit_once(" at line ")
            .map_or(detail.as_str(), |(d, _)| d)
            .to_owned();
        ShareError::Schema {
            path: path_at(text, e.line(), e.column()),
            detail,
        }
    })?;
    validate(&payload)?;
    Ok(payload)
}

/// The rules serde cannot express: sizes, unique ids, references, finite numbers.
pub fn validate(payload: &SharePayload) -> Result<(), ShareError> {
    let invalid = |path: String, rule: Rule| Err(ShareError::Invalid { path, rule });
    let board = &payload.storyboard;
    if !payload.sent_ms.is_finite() {
        return invalid("sent_ms".into(), Rule::OutOfRange);
    }
    check_text("from", &payload.from, MAX_AUTHOR_CHARS)?;
    check_id("storyboard.project_id", &board.project_id)?;
    check_text("storyboard.name", &board.name, MAX_TEXT_CHARS)?;
    check_text("storyboard.aspect_ratio", &board.aspect_ratio, MAX_ID_CHARS)?;
    check_text("storyboard.style", &board.style, MAX_TEXT_CHARS)?;
    check_count(
        "storyboard.characters",
        board.characters.len(),
        MAX_LIST_ITEMS,
    )?;
    for (i, c) in board.characters.iter().enumerate() {
        let at = format!("storyboard.characters[{i}]");
        check_text(&format!("{at}.name"), &c.name, MAX_ID_CHARS)?;
        check_text(&format!("{at}.description"), &c.description, MAX_TEXT_CHARS)?;
        check_text(&format!("{at}.voice"), &c.voice, MAX_TEXT_CHARS)?;
        check_text(&format!("{at}.look"), &c.look, MAX_TEXT_CHARS)?;
    }
    let shot_count = board.shots().count();
    check_count("storyboard.episodes", shot_count, MAX_SHOTS)?;
    let mut episode_ids = HashSet::new();
    let mut scene_ids = HashSet::new();
    let mut shot_ids = HashSet::new();
    for (e, episode) in board.episodes.iter().enumerate() {
        let at = format!("storyboard.episodes[{e}]");
        check_id(&format!("{at}.id"), &episode.id)?;
        if !episode_ids.insert(episode.id.as_str()) {
            return invalid(format!("{at}.id"), Rule::Duplicate);
        }
        check_text(&format!("{at}.title"), &episode.title, MAX_TEXT_CHARS)?;
        for (s, scene) in episode.scenes.iter().enumerate() {
            let at = format!("{at}.scenes[{s}]");
            check_id(&format!("{at}.id"), &scene.id)?;
            if !scene_ids.insert(scene.id.as_str()) {
                return invalid(format!("{at}.id"), Rule::Duplicate);
            }
            check_text(&format!("{at}.heading"), &scene.heading, MAX_TEXT_CHARS)?;
            check_text(&format!("{at}.synopsis"), &scene.synopsis, MAX_TEXT_CHARS)?;
            check_text(
                &format!("{at}.script_text"),
                &scene.script_text,
                MAX_TEXT_CHARS,
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
                check_id(&format!("{at}.id"), &shot.id)?;
                if !shot_ids.insert(shot.id.as_str()) {
                    return invalid(format!("{at}.id"), Rule::Duplicate);
                }
                check_shot(&at, shot)?;
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
        check_id(&format!("{at}.id"), &comment.id)?;
        if !comment_ids.insert(comment.id.as_str()) {
            return invalid(format!("{at}.id"), Rule::Duplicate);
        }
        if !shot_ids.contains(comment.shot_id.as_str()) {
            return invalid(format!("{at}.shot_id"), Rule::UnknownShot);
        }
        check_required(&format!("{at}.author"), &comment.author, MAX_AUTHOR_CHARS)?;
        check_required(&format!("{at}.text"), &comment.text, MAX_COMMENT_CHARS)?;
        if !comment.time_ms.is_finite() || comment.time_ms < 0.0 {
            return invalid(format!("{at}.time_ms"), Rule::OutOfRange);
        }
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

fn check_shot(at: &str, shot: &SharedShot) -> Result<(), ShareError> {
    check_text(&format!("{at}.number"), &shot.number, MAX_ID_CHARS)?;
    for (name, text) in [
        ("shot_size", &shot.shot_size),
        ("camera_angle", &shot.camera_angle),
        ("movement", &shot.movement),
        ("action", &shot.action),
        ("dialogue", &shot.dialogue),
        ("emotional_tone", &shot.emotional_tone),
        ("notes", &shot.notes),
    ] {
        check_text(&format!("{at}.{name}"), text, MAX_TEXT_CHARS)?;
    }
    if !(0.0..=MAX_SHOT_SECONDS).contains(&shot.duration_s) {
        return Err(ShareError::Invalid {
            path: format!("{at}.duration_s"),
            rule: Rule::OutOfRange,
        });
    }
    for (name, list) in [
        ("visual_elements", &shot.visual_elements),
        ("characters", &shot.characters),
    ] {
        check_list(&format!("{at}.{name}"), list)?;
    }
    Ok(())
}

fn check_value(at: &str, value: &FieldValue) -> Result<(), ShareError> {
    match value {
        FieldValue::Text(text) => check_text(at, text, MAX_TEXT_CHARS),
        FieldValue::Seconds(s) if (0.0..=MAX_SHOT_SECONDS).contains(s) => Ok(()),
        FieldValue::Seconds(_) => Err(ShareError::Invalid {
            path: at.into(),
            rule: Rule::OutOfRange,
        }),
        FieldValue::List(list) => check_list(at, list),
    }
}

fn check_list(at: &str, list: &[String]) -> Result<(), ShareError> {
    check_count(at, list.len(), MAX_LIST_ITEMS)?;
    for (i, item) in list.iter().enumerate() {
        check_text(&format!("{at}[{i}]"), item, MAX_TEXT_CHARS)?;
    }
    Ok(())
}

fn check_count(at: &str, count: usize, max: usize) -> Result<(), ShareError> {
    if count > max {
        return Err(ShareError::Invalid {
            path: at.into(),
            rule: Rule::TooLong { max },
        });
    }
    Ok(())
}

fn check_text(at: &str, text: &str, max: usize) -> Result<(), ShareError> {
    // The byte length bounds the character count from above: count only when it may matter.
    if text.len() > max && text.chars().count() > max {
        return Err(ShareError::Invalid {
            path: at.into(),
            rule: Rule::TooLong { max },
        });
    }
    Ok(())
}

fn check_required(at: &str, text: &str, max: usize) -> Result<(), ShareError> {
    if text.trim().is_empty() {
        return Err(ShareError::Invalid {
            path: at.into(),
            rule: Rule::Empty,
        });
    }
    check_text(at, text, max)
}

fn check_id(at: &str, id: &str) -> Result<(), ShareError> {
    check_required(at, id, MAX_ID_CHARS)
}

/// A `.duanju.json` file with a plain payload (pretty JSON, readable in any editor).
pub fn share_file_text(payload: &SharePayload) -> String {
    serde_json::to_string_pretty(payload).unwrap_or_default()
}

/// A `.duanju.json` file that holds a protected link's fragment.
pub fn sealed_file_text(fragment: &str) -> String {
    serde_json::json!({
        "format": SEALED_FILE_FORMAT,
        "version": SHARE_VERSION,
        "fragment": fragment,
    })
    .to_string()
}

/// The file name of a share file: the project's name without characters file systems refuse.
pub fn share_file_name(payload: &SharePayload) -> String {
    let name = crate::domain::project::file::file_stem(&payload.storyboard.name, "storyboard");
    match payload.kind {
        ShareKind::Storyboard => format!("{name}.duanju.json"),
        ShareKind::Review => format!("{name}.review.duanju.json"),
    }
}

/// What a file opened in the viewer holds.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareFile {
    /// A plain share payload.
    Payload(Box<SharePayload>),
    /// A protected link's fragment: ask for the passphrase.
    Sealed(String),
}

/// Reads a file dropped on or picked in the viewer: a share file (plain or protected), or a
/// project export file, shown as a storyboard of the whole project.
pub fn read_share_file(text: &str, now_ms: f64) -> Result<ShareFile, ShareError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(ShareError::TooLarge {
            cap: MAX_PAYLOAD_BYTES,
        });
    }
    let trimmed = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| {
        if e.is_eof() {
            ShareError::Truncated
        } else {
            ShareError::NotAShare
        }
    })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(SHARE_FORMAT) => Ok(ShareFile::Payload(Box::new(payload_from_json(trimmed)?))),
        Some(SEALED_FILE_FORMAT) => {
            let fragment = value
                .get("fragment")
                .and_then(|f| f.as_str())
                .ok_or(ShareError::NotAShare)?;
            match parse_fragment(fragment)? {
                Fragment::Sealed { .. } => Ok(ShareFile::Sealed(fragment.to_owned())),
                Fragment::Plain(bytes) => Ok(ShareFile::Payload(Box::new(decode_body(&bytes)?))),
            }
        }
        Some(_) => match load_any(trimmed) {
            Ok(Loaded::Project(project)) => Ok(ShareFile::Payload(Box::new(
                SharePayload::storyboard(&project, &ShareScope::Project, now_ms)?,
            ))),
            Ok(Loaded::Workspace(_)) => Err(ShareError::WorkspaceFile),
            Err(e) => Err(ShareError::Schema {
                path: "project".into(),
                detail: e.message(Lang::En),
            }),
        },
        None => Err(ShareError::NotAShare),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::sample::sample_series;

    fn scene_payload() -> SharePayload {
        let series = sample_series(2, 12);
        let scope = ShareScope::Scene {
            id: series.episodes[1].scenes[1].id.clone(),
        };
        SharePayload::storyboard(&series, &scope, 5.0).unwrap()
    }

    #[test]
    fn a_plain_link_round_trips_and_keeps_only_its_scope() {
        let payload = scene_payload();
        assert_eq!(payload.storyboard.episodes.len(), 1);
        assert_eq!(payload.storyboard.scene_count(), 1);
        assert_eq!(payload.storyboard.shots().count(), 6);
        let fragment = plain_fragment(&payload);
        assert!(fragment.len() < LINK_FILE_THRESHOLD, "{}", fragment.len());
        assert_eq!(decode_plain(&fragment).unwrap(), payload);
        // Pasted as a whole URL, or with its `#`.
        let url = format!("https://studio.example/view#{fragment}");
        assert_eq!(decode_plain(&url).unwrap(), payload);
    }

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
    fn the_whole_sample_series_fits_a_file_not_a_chat_link() {
        let series = sample_series(12, 47);
        let payload = SharePayload::storyboard(&series, &ShareScope::Project, 0.0).unwrap();
        let fragment = plain_fragment(&payload);
        assert!(fragment.len() > LINK_FILE_THRESHOLD);
        assert!(fragment.len() < MAX_LINK_CHARS);
        assert_eq!(decode_plain(&fragment).unwrap(), payload);
        let file = share_file_text(&payload);
        assert_eq!(
            read_share_file(&file, 0.0).unwrap(),
            ShareFile::Payload(Box::new(payload.clone()))
        );
    }

    #[test]
    fn headers_are_versioned() {
        let check = |text: &str, expect: ShareError| {
            assert_eq!(decode_plain(text).unwrap_err(), expect, "{text}");
        };
        check("", ShareError::Empty);
        check("#", ShareError::Empty);
        check("v1.abc.12345678", ShareError::UnknownHeader);
        check("ds.abcd", ShareError::UnknownHeader);
        check("ds0.abcd", ShareError::UnknownHeader);
        check("ds2.abcd", ShareError::NewerVersion { found: 2 });
        check("ds17k.abcd", ShareError::NewerVersion { found: 17 });
        check("ds1", ShareError::Truncated);
        check("ds1.", ShareError::Truncated);
        check("ds1.ab$d", ShareError::BadCharacter { position: 2 });
        check("ds1k.AAAA", ShareError::Truncated);
        let sealed = sealed_fragment(&[1; 16], &[2; 12], &[3; 40]);
        assert_eq!(decode_plain(&sealed), Err(ShareError::NeedsPassphrase));
        assert_eq!(
            parse_fragment(&sealed).unwrap(),
            Fragment::Sealed {
                salt: vec![1; 16],
                iv: vec![2; 12],
                ciphertext: vec![3; 40]
            }
        );
        let long = "a".repeat(MAX_LINK_CHARS + 1);
        assert!(matches!(
            decode_plain(&long),
            Err(ShareError::TooLong { .. })
        ));
    }

    #[test]
    fn a_truncated_or_tampered_link_is_refused() {
        let fragment = plain_fragment(&scene_payload());
        let cut = &fragment[..fragment.len() - 10];
        assert_eq!(decode_plain(cut).unwrap_err(), ShareError::Truncated);
        // Every single-character change in the body is caught (checksum or stream error).
        let body_start = HEADER_PLAIN.len() + 1;
        for at in (body_start..fragment.len() - 1).step_by(7) {
            let mut bytes = fragment.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                decode_plain(&tampered).is_err(),
                "change at {at} went unnoticed"
            );
        }
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let zeros = vec![b' '; 4 * 1024 * 1024];
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 10);
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        assert_eq!(
            inflate_capped(&bomb, 1024 * 1024),
            Err(ShareError::TooLarge { cap: 1024 * 1024 })
        );
        assert_eq!(
            inflate_capped(&bomb, zeros.len()).unwrap().len(),
            zeros.len()
        );
        // Over the real cap as a link.
        let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        let link = format!(
            "{HEADER_PLAIN}.{}",
            encode_base64url(&miniz_oxide::deflate::compress_to_vec_zlib(&big, 10))
        );
        assert_eq!(
            decode_plain(&link),
            Err(ShareError::TooLarge {
                cap: MAX_PAYLOAD_BYTES
            })
        );
    }

    fn link_of_json(json: &str) -> String {
        format!(
            "{HEADER_PLAIN}.{}",
            encode_base64url(&miniz_oxide::deflate::compress_to_vec_zlib(
                json.as_bytes(),
                6
            ))
        )
    }

    #[test]
    fn the_schema_is_strict() {
        let payload = scene_payload();
        let mut value: serde_json::Value = serde_json::from_str(&payload.to_json()).unwrap();
        // An unknown field anywhere is refused (a link cannot smuggle extra data).
        value["storyboard"]["episodes"][0]["scenes"][0]["shots"][0]["clip_ref"] =
            serde_json::json!("blob:x");
        match decode_plain(&link_of_json(&value.to_string())) {
            Err(ShareError::Schema { path, detail }) => {
                assert!(path.contains("shots[0]"), "{path}");
                assert!(detail.contains("unknown field"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        let cases: Vec<(&str, serde_json::Value, ShareError)> = vec![
            (
                "/format",
                serde_json::json!("duanju-project"),
                ShareError::NotAShare,
            ),
            (
                "/version",
                serde_json::json!(3),
                ShareError::NewerVersion { found: 3 },
            ),
            (
                "/storyboard/episodes/0/scenes/0/shots/0/duration_s",
                serde_json::json!(-1.0),
                ShareError::Invalid {
                    path: "storyboard.episodes[0].scenes[0].shots[0].duration_s".into(),
                    rule: Rule::OutOfRange,
                },
            ),
            (
                "/storyboard/episodes/0/scenes/0/shots/1/id",
                value["storyboard"]["episodes"][0]["scenes"][0]["shots"][0]["id"].clone(),
                ShareError::Invalid {
                    path: "storyboard.episodes[0].scenes[0].shots[1].id".into(),
                    rule: Rule::Duplicate,
                },
            ),
            (
                "/scope",
                serde_json::json!({"kind": "scene", "id": "elsewhere"}),
                ShareError::Invalid {
                    path: "scope".into(),
                    rule: Rule::UnknownScope,
                },
            ),
            (
                "/comments",
                serde_json::json!([{"id": "c1", "shot_id": "ghost", "author": "A", "time_ms": 1.0, "text": "hi"}]),
                ShareError::Invalid {
                    path: "comments[0].shot_id".into(),
                    rule: Rule::UnknownShot,
                },
            ),
            (
                "/storyboard/name",
                serde_json::json!("x".repeat(MAX_TEXT_CHARS + 1)),
                ShareError::Invalid {
                    path: "storyboard.name".into(),
                    rule: Rule::TooLong {
                        max: MAX_TEXT_CHARS,
                    },
                },
            ),
        ];
        for (pointer, replacement, expect) in cases {
            let mut value: serde_json::Value = serde_json::from_str(&payload.to_json()).unwrap();
            match value.pointer_mut(pointer) {
                Some(slot) => *slot = replacement,
                None => {
                    value[pointer.trim_start_matches('/')] = replacement;
                }
            }
            assert_eq!(
                decode_plain(&link_of_json(&value.to_string())),
                Err(expect),
                "{pointer}"
            );
        }
        assert_eq!(
            decode_plain(&link_of_json("{\"format\":\"duanju-share\"")),
            Err(ShareError::Truncated)
        );
        assert_eq!(
            decode_plain(&link_of_json("<script>alert(1)</script>")),
            Err(ShareError::NotAShare)
        );
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
    fn share_files_open_plain_sealed_and_project_files() {
        let payload = scene_payload();
        let sealed = sealed_fragment(&[1; 16], &[2; 12], &[3; 40]);
        assert_eq!(
            read_share_file(&sealed_file_text(&sealed), 0.0),
            Ok(ShareFile::Sealed(sealed))
        );
        let series = sample_series(1, 6);
        let file = export_project(&series);
        let ShareFile::Payload(from_project) = read_share_file(&file, 9.0).unwrap() else {
            panic!("a project file opens as a storyboard");
        };
        assert_eq!(from_project.storyboard.project_id, series.id);
        assert_eq!(from_project.storyboard.shots().count(), 6);
        assert_eq!(
            read_share_file(
                "{\"format\":\"duanju-workspace\",\"schema_version\":2,\"projects\":[]}",
                0.0
            ),
            Err(ShareError::WorkspaceFile)
        );
        assert_eq!(read_share_file("[1,2", 0.0), Err(ShareError::Truncated));
        assert_eq!(share_file_name(&payload), "逆袭千金：真假豪门.duanju.json");
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

    #[test]
    fn every_error_has_both_languages() {
        let errors = [
            ShareError::Empty,
            ShareError::TooLong { chars: 9 },
            ShareError::UnknownHeader,
            ShareError::NewerVersion { found: 2 },
            ShareError::BadCharacter { position: 3 },
            ShareError::Truncated,
            ShareError::Corrupt,
            ShareError::TooLarge { cap: 8 << 20 },
            ShareError::NotText,
            ShareError::NotAShare,
            ShareError::Schema {
                path: "a".into(),
                detail: "b".into(),
            },
            ShareError::Invalid {
                path: "a".into(),
                rule: Rule::Empty,
            },
            ShareError::NeedsPassphrase,
            ShareError::WrongPassphrase,
            ShareError::ScopeNotFound,
            ShareError::CryptoUnavailable,
            ShareError::WorkspaceFile,
        ];
        for error in errors {
            let zh = error.message(Lang::ZhCn);
            let en = error.message(Lang::En);
            assert!(zh.ends_with("草稿未作任何改动。"), "{zh}");
            assert!(en.ends_with("Your drafts are unchanged."), "{en}");
            assert_ne!(zh, en);
        }
    }
}
