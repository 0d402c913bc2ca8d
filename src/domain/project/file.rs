//! Project files: the export envelopes, the checks an import goes through, and the explicit
//! migrations from older shapes.
//!
//! A project is exported as a [`ProjectFile`] (`{"format":"duanju-project","schema_version":2,
//! "project":{…}}`) and the whole workspace as a [`WorkspaceBackup`]
//! (`{"format":"duanju-workspace",…,"projects":[…]}`). [`load_any`] reads either, in this order
//! of checks, and refuses the file with an [`ImportError`] at the first that fails: the size
//! cap (on the byte length, before parsing), JSON syntax (a cut-off file is told apart), the
//! format tag, the version (a file from a newer build is refused with a clear message), the
//! fields, whose errors name the path (`project.episodes[0].scenes[2].shots[5].duration_s`),
//! then the limits every storyboard obeys, the same as a shared link's
//! ([`crate::domain::project::limits`]: lengths, counts, ids, characters, numbers). Older
//! versions are migrated step by step before the fields are checked. Nothing is imported
//! until the whole file has passed.
//!
//! Stored records go through the same code ([`load_record`]) with a fast path for records that
//! already have the current shape; they are the app's own writing and get only the structural
//! checks (ids present, shot ids unique), never the file limits.
//!
//! ```
//! use duanju_studio::domain::i18n::Lang;
//! use duanju_studio::domain::project::file::{load_any, ImportError};
//!
//! let newer = r#"{"format":"duanju-project","schema_version":99,"project":{}}"#;
//! let error = load_any(newer).unwrap_err();
//! assert_eq!(error, ImportError::NewerVersion { found: 99, supported: 2 });
//! assert!(error.message(Lang::En).contains("newer version"));
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::domain::i18n::Lang;
use crate::domain::project::limits::{check_project, Rule, Violation};
use crate::domain::project::{scene_id, Project, PROJECT_SCHEMA_VERSION};

/// The format tag of one exported project.
pub const PROJECT_FORMAT: &str = "duanju-project";
/// The format tag of a workspace backup.
pub const WORKSPACE_FORMAT: &str = "duanju-workspace";
/// The largest file an import reads: 20 MiB.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// The tab id written on edits made by a migration.
pub const MIGRATION_TAB: &str = "migration";

/// One exported project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectFile {
    /// Always [`PROJECT_FORMAT`].
    pub format: String,
    /// The project shape inside.
    pub schema_version: u32,
    /// The project.
    pub project: Project,
}

/// Every project of the workspace (the trash included), as a backup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceBackup {
    /// Always [`WORKSPACE_FORMAT`].
    pub format: String,
    /// The project shape inside.
    pub schema_version: u32,
    /// When the backup was made.
    #[serde(default)]
    pub exported_ms: f64,
    /// The projects.
    pub projects: Vec<Project>,
}

/// What an import file held.
#[derive(Clone, Debug, PartialEq)]
pub enum Loaded {
    /// One project.
    Project(Box<Project>),
    /// A workspace backup.
    Workspace(Vec<Project>),
}

/// Why a file (or a stored record) could not be read. Whatever the reason, nothing was
/// imported and existing data is unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportError {
    /// Over [`MAX_IMPORT_BYTES`].
    TooLarge {
        /// The file's size in bytes.
        bytes: usize,
        /// The cap.
        cap: usize,
    },
    /// Empty, or only whitespace.
    Empty,
    /// Not JSON: the first error's position.
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON that stops in the middle: a cut-off download or copy.
    Truncated,
    /// JSON, but not a Duanju Studio project file or backup.
    NotAProjectFile,
    /// Made by a newer build than this one.
    NewerVersion {
        /// The file's version.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A field is missing or has the wrong type.
    InvalidField {
        /// Where, as `project.episodes[0].title`.
        path: String,
        /// What is wrong, as the JSON reader put it.
        detail: String,
    },
    /// A value breaks one of the limits every storyboard obeys (too long, too many, a bad id
    /// or character, a number out of range: [`crate::domain::project::limits`]).
    Invalid {
        /// Where, as `project.episodes[0].scenes[1].shots[2].id`.
        path: String,
        /// Which rule.
        rule: Rule,
    },
}

impl From<Violation> for ImportError {
    fn from(Violation { path, rule }: Violation) -> ImportError {
        ImportError::Invalid { path, rule }
    }
}

impl ImportError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        let what = match (self, lang) {
            (ImportError::TooLarge { bytes, cap }, Lang::ZhCn) => {
                format!("文件太大（{}，上限 {}）。", mib(*bytes), mib(*cap))
            }
            (ImportError::TooLarge { bytes, cap }, Lang::En) => {
                format!("The file is too large ({}, limit {}).", mib(*bytes), mib(*cap))
            }
            (ImportError::Empty, Lang::ZhCn) => "文件是空的。".into(),
            (ImportError::Empty, Lang::En) => "The file is empty.".into(),
            (ImportError::NotJson { line, column }, Lang::ZhCn) => {
                format!("文件已损坏：不是有效的 JSON（第 {line} 行第 {column} 列）。")
            }
            (ImportError::NotJson { line, column }, Lang::En) => {
                format!("The file is damaged: it is not valid JSON (line {line}, column {column}).")
            }
            (ImportError::Truncated, Lang::ZhCn) => "文件不完整：内容在中途被截断。".into(),
            (ImportError::Truncated, Lang::En) => "The file is incomplete: it was cut off.".into(),
            (ImportError::NotAProjectFile, Lang::ZhCn) => {
                "这不是短剧工作室的项目文件或工作区备份。".into()
            }
            (ImportError::NotAProjectFile, Lang::En) => {
                "This is not a Duanju Studio project file or workspace backup.".into()
            }
            (ImportError::NewerVersion { found, supported }, Lang::ZhCn) => format!(
                "该文件由更新版本的短剧工作室制作（格式版本 {found}，本版本最高支持 {supported}）：请刷新页面或更新应用后再导入。"
            ),
            (ImportError::NewerVersion { found, supported }, Lang::En) => format!(
                "This file was made by a newer version of Duanju Studio (format {found}; this version reads up to {supported}): reload the page or update the app, then import it again."
            ),
            (ImportError::InvalidField { path, detail }, Lang::ZhCn) => {
                format!("字段 {path} 无效：{}。", zh_detail(detail))
            }
            (ImportError::InvalidField { path, detail }, Lang::En) => {
                format!("Invalid field {path}: {detail}.")
            }
            (ImportError::Invalid { path, rule }, Lang::ZhCn) => {
                format!("字段 {path} 无效：{}。", rule.message(lang))
            }
            (ImportError::Invalid { path, rule }, Lang::En) => {
                format!("Invalid field {path}: {}.", rule.message(lang))
            }
        };
        format!(
            "{what}{}",
            lang.pick(
                "没有导入任何内容，现有数据未改动。",
                " Nothing was imported; existing data is unchanged."
            )
        )
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The common serde messages in Chinese; anything else as it is.
fn zh_detail(detail: &str) -> String {
    if let Some(field) = detail
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!("缺少字段 {field}");
    }
    if let Some(rest) = detail.strip_prefix("invalid type: ") {
        return format!("类型不对（{rest}）");
    }
    detail.to_owned()
}

/// The name part of a downloaded file, from a project's name: the characters file systems
/// refuse (`\ / : * ? " < > |` and control characters) become `_`, Unicode bidi controls
/// (see [`is_bidi_control`]) are dropped, at most 80 characters, trimmed; `fallback` when
/// nothing is left. Every name the user chose reaches a download's file name through here.
pub fn file_stem(name: &str, fallback: &str) -> String {
    let stem: String = name
        .trim()
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| {
            if c.is_control() || "\\/:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(80)
        .collect();
    match stem.trim() {
        "" => fallback.to_owned(),
        stem => stem.to_owned(),
    }
}

/// A Unicode bidi control (embeddings, overrides, isolates, the marks LRM, RLM and ALM): in a
/// file name it can make `evil\u{202E}txt.exe` show as `evilexe.txt`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Writes one project as an export file (pretty JSON).
pub fn export_project(project: &Project) -> String {
    let file = ProjectFile {
        format: PROJECT_FORMAT.into(),
        schema_version: PROJECT_SCHEMA_VERSION,
        project: project.clone(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// Writes the workspace backup.
pub fn export_workspace(projects: &[Project], now_ms: f64) -> String {
    let backup = WorkspaceBackup {
        format: WORKSPACE_FORMAT.into(),
        schema_version: PROJECT_SCHEMA_VERSION,
        exported_ms: now_ms,
        projects: projects.to_vec(),
    };
    serde_json::to_string_pretty(&backup).unwrap_or_default()
}

/// Reads an import file: a project or a workspace backup, checked and migrated (see the
/// module docs for the order of the checks).
pub fn load_any(text: &str) -> Result<Loaded, ImportError> {
    let mut root = parse(text)?;
    let format = root
        .get("format")
        .and_then(Value::as_str)
        .ok_or(ImportError::NotAProjectFile)?
        .to_owned();
    if format != PROJECT_FORMAT && format != WORKSPACE_FORMAT {
        return Err(ImportError::NotAProjectFile);
    }
    let version = version_of(&root, "schema_version")?;
    let object = root.as_object_mut().ok_or(ImportError::NotAProjectFile)?;
    if format == PROJECT_FORMAT {
        let project = object.remove("project").ok_or_else(|| missing("project"))?;
        let project = migrate(project, version, "project")?;
        let mut project: Project = decode(project, "project")?;
        project.schema_version = PROJECT_SCHEMA_VERSION;
        check_project(&project, "project")?;
        Ok(Loaded::Project(Box::new(project)))
    } else {
        let projects = object
            .remove("projects")
            .ok_or_else(|| missing("projects"))?;
        let Value::Array(items) = projects else {
            return Err(invalid("projects", "expected an array"));
        };
        let mut migrated = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            migrated.push(migrate(item, version, &format!("projects[{index}]"))?);
        }
        let mut projects: Vec<Project> = decode(Value::Array(migrated), "projects")?;
        for (index, project) in projects.iter_mut().enumerate() {
            project.schema_version = PROJECT_SCHEMA_VERSION;
            check_project(project, &format!("projects[{index}]"))?;
        }
        Ok(Loaded::Workspace(projects))
    }
}

/// Reads a stored project record (a bare project, any known version). Records in the current
/// shape are read in one pass; older ones are migrated.
pub fn load_record(text: &str) -> Result<Project, ImportError> {
    if let Ok(project) = serde_json::from_str::<Project>(text) {
        if project.schema_version == PROJECT_SCHEMA_VERSION {
            return Ok(project);
        }
        if u64::from(project.schema_version) > u64::from(PROJECT_SCHEMA_VERSION) {
            return Err(ImportError::NewerVersion {
                found: project.schema_version.into(),
                supported: PROJECT_SCHEMA_VERSION,
            });
        }
    }
    let value = parse(text)?;
    let version = if value.get("schema_version").is_none() {
        1
    } else {
        version_of(&value, "schema_version")?
    };
    let mut project: Project = decode(migrate(value, version, "")?, "")?;
    project.schema_version = PROJECT_SCHEMA_VERSION;
    check_record(&project)?;
    Ok(project)
}

/// Parses JSON text after the size check.
fn parse(text: &str) -> Result<Value, ImportError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            bytes: text.len(),
            cap: MAX_IMPORT_BYTES,
        });
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ImportError::Truncated
        } else {
            ImportError::NotJson {
                line: e.line(),
                column: e.column(),
            }
        }
    })
}

/// A version field: a positive integer, not newer than this build reads.
fn version_of(value: &Value, field: &str) -> Result<u64, ImportError> {
    let version = value
        .get(field)
        .ok_or_else(|| missing(field))?
        .as_u64()
        .filter(|v| *v >= 1)
        .ok_or_else(|| invalid(field, "expected a positive whole number"))?;
    if version > u64::from(PROJECT_SCHEMA_VERSION) {
        return Err(ImportError::NewerVersion {
            found: version,
            supported: PROJECT_SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// Runs every migration step after `version`.
fn migrate(mut project: Value, version: u64, path: &str) -> Result<Value, ImportError> {
    if version < 2 {
        project = migrate_v1_to_v2(project).map_err(|e| e.under(path))?;
    }
    Ok(project)
}

/// Decodes a value into `T`, naming the path of the first bad field.
fn decode<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, ImportError> {
    let text = serde_json::to_string(&value).unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| {
        let inner = path_at(&text, e.line(), e.column());
        let detail = e.to_string();
        let detail = detail
            .rsplit_once(" at line ")
            .map_or(detail.as_str(), |(d, _)| d)
            .to_owned();
        ImportError::InvalidField {
            path: join_path(prefix, &inner),
            detail,
        }
    })
}

/// What a migrated stored record must hold beyond its types: ids present and shot ids
/// unique. Records are the app's own writing, so they are not held to the limits of a file
/// ([`check_project`]): a project the editor let grow past one must still open.
fn check_record(project: &Project) -> Result<(), ImportError> {
    let path = "";
    if project.id.trim().is_empty() {
        return Err(invalid(&join_path(path, "id"), "must not be empty"));
    }
    let mut seen = std::collections::HashSet::new();
    for (e, episode) in project.episodes.iter().enumerate() {
        for (s, scene) in episode.scenes.iter().enumerate() {
            for (k, shot) in scene.shots.iter().enumerate() {
                if shot.id.trim().is_empty() || !seen.insert(shot.id.as_str()) {
                    let at = format!("episodes[{e}].scenes[{s}].shots[{k}].id");
                    return Err(invalid(
                        &join_path(path, &at),
                        "must be a unique, non-empty id",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn join_path(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (false, false) => format!("{prefix}.{inner}"),
    }
}

fn missing(path: &str) -> ImportError {
    invalid(path, &format!("missing field `{}`", last_segment(path)))
}

fn invalid(path: &str, detail: &str) -> ImportError {
    ImportError::InvalidField {
        path: path.to_owned(),
        detail: detail.to_owned(),
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

impl ImportError {
    /// The same error with its path placed under `prefix`.
    fn under(self, prefix: &str) -> ImportError {
        match self {
            ImportError::InvalidField { path, detail } => ImportError::InvalidField {
                path: join_path(prefix, &path),
                detail,
            },
            other => other,
        }
    }
}

/// The path (`episodes[0].scenes[2].title`) of the value being read at a serde_json error
/// position: the text is scanned up to that point, keeping a stack of object keys and array
/// indexes.
pub fn path_at(text: &str, line: usize, column: usize) -> String {
    enum Frame {
        Object {
            key: Option<String>,
            expect_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    // The column is that of the last character read, which is scanned too (a missing field
    // is reported on the closing brace of its object), except an opening bracket.
    let end = (line_start + column).min(text.len());
    let bytes = &text.as_bytes()[..end];
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' if i + 1 == bytes.len() => {}
            b'{' => stack.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object {
                    key,
                    expect_key: true,
                }) = stack.last_mut()
                {
                    let raw = &text[start..i.min(bytes.len())];
                    *key = Some(
                        serde_json::from_str(&format!("\"{raw}\""))
                            .unwrap_or_else(|_| raw.to_owned()),
                    );
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object {
                key: Some(key),
                expect_key: false,
            } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Migrates a version-1 project to version 2.
///
/// **Version 1** (kept by schema-1 databases in the `kv` store under `project:<id>`, and inside
/// version-1 export files) was a simpler shape:
///
/// - the aspect ratio and style sat at the top level (`aspect_ratio`, `style`); there was no
///   `settings` object, no budget and no routes override;
/// - characters had no id, look or reference notes: `{name, description, voice}`;
/// - episodes had no id: `{number, title, scenes}`;
/// - scenes had no id but an optional Fountain `scene_number`;
/// - shots had an id but no `version`, `updated_ms` or `updated_by`, and their status was
///   `draft`, `approved` or `done`;
/// - takes had no id and no cost or lock, and the picked take was marked by `"picked": true`;
/// - there were no `opened_ms`, `version`, `updated_by`, `deleted_ms`, video jobs, history or
///   removal markers.
///
/// **Version 2** adds all of these: `settings {aspect_ratio, style, budget, routes_override}`;
/// character ids `c1, c2…`; episode ids `ep{number}`; scene ids from the Fountain number
/// (`e1-s12A`) or the position (`e1-i3`) ([`scene_id`]); take ids `{scene id}-t{n}` with the
/// picked one in `scene.picked_take`; every shot at version 1, stamped with the project's
/// `updated_ms` and the tab `"migration"`, `approved` becoming `ready`; the project's
/// `opened_ms` = `updated_ms`, header version 1, and empty jobs, history and markers.
pub fn migrate_v1_to_v2(mut project: Value) -> Result<Value, ImportError> {
    let root = project
        .as_object_mut()
        .ok_or_else(|| invalid("", "expected an object"))?;
    let updated_ms = root
        .get("updated_ms")
        .ok_or_else(|| missing("updated_ms"))?
        .as_f64()
        .ok_or_else(|| invalid("updated_ms", "expected a number"))?;

    let aspect_ratio = root
        .remove("aspect_ratio")
        .unwrap_or_else(|| json!(crate::domain::project::DEFAULT_ASPECT_RATIO));
    let style = root.remove("style").unwrap_or_else(|| json!(""));
    root.insert(
        "settings".into(),
        json!({ "aspect_ratio": aspect_ratio, "style": style, "budget": null, "routes_override": null }),
    );

    for (index, character) in array_mut(root, "characters", "characters")?
        .iter_mut()
        .enumerate()
    {
        let character = object_mut(character, &format!("characters[{index}]"))?;
        character.insert("id".into(), json!(format!("c{}", index + 1)));
        character.entry("look").or_insert(json!(""));
        character.entry("reference_notes").or_insert(json!(""));
    }

    for (e, episode) in array_mut(root, "episodes", "episodes")?
        .iter_mut()
        .enumerate()
    {
        let at = format!("episodes[{e}]");
        let episode = object_mut(episode, &at)?;
        let number = match episode.get("number") {
            None => e as u64 + 1,
            Some(n) => n
                .as_u64()
                .ok_or_else(|| invalid(&format!("{at}.number"), "expected a whole number"))?,
        };
        episode.insert("number".into(), json!(number));
        episode.insert("id".into(), json!(format!("ep{number}")));
        let scenes = array_mut(episode, "scenes", &format!("{at}.scenes"))?;
        for (s, scene) in scenes.iter_mut().enumerate() {
            let at = format!("{at}.scenes[{s}]");
            let scene = object_mut(scene, &at)?;
            let fountain = scene.remove("scene_number");
            let fountain = fountain.as_ref().and_then(Value::as_str);
            let id = scene_id(number as u32, fountain, s);
            let mut picked = Value::Null;
            for (t, take) in array_mut(scene, "takes", &format!("{at}.takes"))?
                .iter_mut()
                .enumerate()
            {
                let take = object_mut(take, &format!("{at}.takes[{t}]"))?;
                let take_id = format!("{id}-t{}", t + 1);
                if take.remove("picked").and_then(|p| p.as_bool()) == Some(true) && picked.is_null()
                {
                    picked = json!(take_id);
                }
                take.insert("id".into(), json!(take_id));
                take.entry("cost").or_insert(Value::Null);
                take.entry("locked").or_insert(json!(false));
            }
            scene.insert("picked_take".into(), picked);
            scene.insert("id".into(), json!(id));
            for (k, shot) in array_mut(scene, "shots", &format!("{at}.shots"))?
                .iter_mut()
                .enumerate()
            {
                let shot = object_mut(shot, &format!("{at}.shots[{k}]"))?;
                if shot.get("status").and_then(Value::as_str) == Some("approved") {
                    shot.insert("status".into(), json!("ready"));
                }
                shot.insert("version".into(), json!(1));
                shot.insert("updated_ms".into(), json!(updated_ms));
                shot.insert("updated_by".into(), json!(MIGRATION_TAB));
            }
        }
    }

    root.insert("schema_version".into(), json!(2));
    root.insert("opened_ms".into(), json!(updated_ms));
    root.insert("version".into(), json!(1));
    root.insert("updated_by".into(), json!(MIGRATION_TAB));
    root.insert("deleted_ms".into(), Value::Null);
    root.insert("video_jobs".into(), json!([]));
    root.insert("history".into(), json!([]));
    root.insert("removed_shots".into(), json!([]));
    Ok(project)
}

/// The array at `object[key]`, created empty when absent.
fn array_mut<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a mut Vec<Value>, ImportError> {
    object
        .entry(key)
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| invalid(path, "expected an array"))
}

fn object_mut<'a>(
    value: &'a mut Value,
    path: &str,
) -> Result<&'a mut Map<String, Value>, ImportError> {
    value
        .as_object_mut()
        .ok_or_else(|| invalid(path, "expected an object"))
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
