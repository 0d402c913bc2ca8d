//! The codec: the bytes of a link (`<header>.<body>`: the versioned header, base64url, the zlib
//! stream inflated under a cap, the protected layout `salt ‖ iv ‖ ciphertext`), reading a
//! payload's JSON (format tag, version, fields, then [`validate`]), the `.duanju.json` share
//! files, and why a link or file could not be opened ([`ShareError`]).

use super::payload::{validate, ShareKind, SharePayload, ShareScope};
use crate::domain::encoding::base64url::{decode_base64url, encode_base64url, Base64Error};
use crate::domain::i18n::Lang;
use crate::domain::project::file::{load_any, path_at, Loaded};
/// The rules a shared value (or a project file's) may break: one set for both.
pub use crate::domain::project::limits::Rule;

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
/// The zlib compression level used for links (0–10).
const LEVEL: u8 = 9;

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
    use super::super::tests::scene_payload;
    use super::*;
    use crate::domain::project::file::export_project;
    use crate::domain::project::sample::sample_series;
    use crate::domain::share::MAX_TEXT_CHARS;

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
