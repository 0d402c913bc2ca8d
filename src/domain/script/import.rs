//! A Fountain script in and out of one episode: [`import_into_episode`] turns the script's scene
//! headings into the episode's scenes, merging by scene id, and [`export_episode`] writes the
//! episode back as Fountain with every scene's id as its scene number.
//!
//! **Scene ids.** A scene of the script has an id ([`fountain::scenes`]): its `#12A#` scene
//! number, else an `[[id: …]]` note, else one derived from its position and heading. In the
//! project the scene's id is `e{episode}-s{id}` ([`scene_id`]), and the part after `e{n}-s` is its
//! *Fountain key* ([`fountain_key`]). The export writes each scene's key as its scene number, so
//! an exported script that is edited and imported again finds its scenes by number: their text
//! is updated, their shots, takes and picked take are kept, and nothing is duplicated. A scene
//! made in the studio (its id is not of the `e{n}-s…` form) is exported with its whole id as the
//! number and found again the same way.
//!
//! **Nothing is lost.** Scenes of the episode that the script no longer has are kept, after the
//! script's scenes, and listed in the report; the studio never deletes work because a script
//! left it out. Cue names the cast lacks are added as characters (name only) so the character
//! bible can describe them.
//!
//! ```
//! use duanju_studio::domain::project::{IdGen, Project};
//! use duanju_studio::domain::script::import::{export_episode, import_into_episode};
//!
//! let mut ids = IdGen::new("t");
//! let mut project = Project::new("p", "霸总归来", 0.0, "t");
//! let episode = project.add_episode(&mut ids, "第1集");
//! let report = import_into_episode(&mut project, &episode, "INT. 客厅 - 夜 #1#\n\n林梅坐着。\n", &mut ids).unwrap();
//! assert_eq!(report.added, vec!["e1-s1".to_string()]);
//! let again = import_into_episode(&mut project, &episode, "INT. 客厅 - 夜 #1#\n\n林梅站起来。\n", &mut ids).unwrap();
//! assert_eq!((again.added.len(), again.updated.len()), (0, 1));
//! assert!(export_episode(&project, &episode).unwrap().contains("#1#"));
//! ```

use std::collections::{HashMap, HashSet};

use crate::domain::i18n::Lang;
use crate::domain::project::{scene_id, Character, IdGen, Project, Scene};
use crate::domain::script::fountain::{self, Element, Script};

/// The largest script the studio imports, in bytes (a feature film is about 200 KB).
pub const SCRIPT_CAP_BYTES: f64 = 2.0 * 1024.0 * 1024.0;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Project ids of the scenes the script added.
    pub added: Vec<String>,
    /// Project ids of existing scenes whose heading, synopsis or text changed.
    pub updated: Vec<String>,
    /// Existing scenes the script has, unchanged.
    pub unchanged: usize,
    /// Project ids of the episode's scenes the script does not have: kept, after the others.
    pub kept: Vec<String>,
    /// Cue names added to the cast.
    pub new_characters: Vec<String>,
    /// True when text before the first scene heading (other than the title page) was left out.
    pub preamble_ignored: bool,
    /// How many things the parser had to guess about (unclosed notes, repeated numbers…).
    pub diagnostics: usize,
}

impl ImportReport {
    /// One line for the user.
    pub fn summary(&self, lang: Lang) -> String {
        let mut line = match lang {
            Lang::ZhCn => format!(
                "新增 {} 场，更新 {} 场，未变 {} 场。",
                self.added.len(),
                self.updated.len(),
                self.unchanged
            ),
            Lang::En => format!(
                "{} scenes added, {} updated, {} unchanged.",
                self.added.len(),
                self.updated.len(),
                self.unchanged
            ),
        };
        if !self.kept.is_empty() {
            line.push_str(&match lang {
                Lang::ZhCn => format!(" 剧本中没有的 {} 场已保留（连同其镜头）。", self.kept.len()),
                Lang::En => format!(
                    " {} scenes not in the script were kept, with their shots.",
                    self.kept.len()
                ),
            });
        }
        if !self.new_characters.is_empty() {
            line.push_str(&match lang {
                Lang::ZhCn => format!(" 新角色：{}。", self.new_characters.join("、")),
                Lang::En => format!(" New characters: {}.", self.new_characters.join(", ")),
            });
        }
        if self.preamble_ignored {
            line.push_str(lang.pick(
                " 第一个场景标题之前的文字未导入。",
                " Text before the first scene heading was not imported.",
            ));
        }
        line
    }
}

/// Why a script could not be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The episode does not exist.
    NoEpisode,
    /// The text has no scene heading.
    NoScenes,
    /// The text is larger than [`SCRIPT_CAP_BYTES`] (its UTF-8 size, in bytes): refused before
    /// it is parsed, pasted or picked alike.
    TooLarge {
        /// The text's size in bytes.
        bytes: usize,
    },
}

/// Bytes in whole KiB, rounded (integers: the start-up module links no float formatting).
fn kib(bytes: usize) -> usize {
    bytes.saturating_add(512) / 1024
}

impl ImportError {
    /// A stable identifier for `data-kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportError::NoEpisode => "no_episode",
            ImportError::NoScenes => "no_scenes",
            ImportError::TooLarge { .. } => "too_large",
        }
    }

    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ImportError::NoEpisode => lang
                .pick("请先选择或添加一集。", "Choose or add an episode first.")
                .into(),
            ImportError::NoScenes => lang
                .pick(
                    "剧本中没有场景标题，未导入任何内容。场景标题以 INT. 或 EXT. 开头（前后空一行），或在行首加“.”强制为场景标题，例如“.客厅 - 夜”。",
                    "The script has no scene heading, so nothing was imported. A scene heading starts with INT. or EXT. (with a blank line before and after), or force one with a leading “.”, e.g. “.LIVING ROOM - NIGHT”.",
                )
                .into(),
            ImportError::TooLarge { bytes } => {
                let (size, cap) = (kib(*bytes), kib(SCRIPT_CAP_BYTES as usize));
                match lang {
                    Lang::ZhCn => format!("剧本太大（{size} KB，上限 {cap} KB），未导入。"),
                    Lang::En => format!(
                        "The script is too large ({size} KB, limit {cap} KB) and was not imported."
                    ),
                }
            }
        }
    }
}

/// The part of a project scene id that the Fountain script carries as its scene number:
/// `e3-s12A` → `12A`; an id of another form is its own key.
pub fn fountain_key(episode_number: u32, scene_id: &str) -> &str {
    scene_id
        .strip_prefix(&format!("e{episode_number}-s"))
        .filter(|key| !key.is_empty())
        .unwrap_or(scene_id)
}

/// A script read for import: checked against the cap and parsed once, with its scenes listed.
/// Made by [`read_script`], used by [`import_parsed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedScript {
    script: Script,
    drafts: Vec<fountain::SceneDraft>,
    diagnostics: usize,
}

impl ParsedScript {
    /// The scenes the import will make or update, in order (never empty).
    pub fn scenes(&self) -> &[fountain::SceneDraft] {
        &self.drafts
    }
}

/// Reads a Fountain (or plain) script for [`import_parsed`]: text over [`SCRIPT_CAP_BYTES`] is
/// refused unparsed ([`ImportError::TooLarge`]), and so is a script with no scene heading
/// ([`ImportError::NoScenes`]).
pub fn read_script(source: &str) -> Result<ParsedScript, ImportError> {
    if source.len() as f64 > SCRIPT_CAP_BYTES {
        return Err(ImportError::TooLarge {
            bytes: source.len(),
        });
    }
    let (script, diagnostics) = fountain::parse(source);
    let drafts = fountain::scenes(&script);
    if drafts.is_empty() {
        return Err(ImportError::NoScenes);
    }
    Ok(ParsedScript {
        script,
        drafts,
        diagnostics: diagnostics.len(),
    })
}

/// Imports a Fountain (or plain) script into an episode, merging by scene id (see the module
/// documentation): [`read_script`] then [`import_parsed`]. A header change: call it inside
/// [`Project::edit`].
pub fn import_into_episode(
    project: &mut Project,
    episode_id: &str,
    source: &str,
    ids: &mut IdGen,
) -> Result<ImportReport, ImportError> {
    import_parsed(project, episode_id, &read_script(source)?, ids)
}

/// Imports a script read by [`read_script`] into an episode (see [`import_into_episode`]). Its
/// cost is linear in the script and the episode: scenes are matched by id through a map, and
/// cue names against the cast through a set.
pub fn import_parsed(
    project: &mut Project,
    episode_id: &str,
    parsed: &ParsedScript,
    ids: &mut IdGen,
) -> Result<ImportReport, ImportError> {
    let ParsedScript {
        script,
        drafts,
        diagnostics,
    } = parsed;
    let mut report = ImportReport {
        diagnostics: *diagnostics,
        preamble_ignored: script.elements[..drafts[0].elements.start]
            .iter()
            .any(|e| !matches!(e, Element::PageBreak)),
        ..ImportReport::default()
    };
    // Upper-cased names of the cast and of the names added so far.
    let mut known: HashSet<String> = project
        .characters
        .iter()
        .map(|c| c.name.to_uppercase())
        .collect();
    let mut cast_names: Vec<String> = Vec::new();
    for name in drafts.iter().flat_map(|d| &d.characters) {
        if known.insert(name.to_uppercase()) {
            cast_names.push(name.clone());
        }
    }
    let episode = project
        .episodes
        .iter_mut()
        .find(|e| e.id == episode_id)
        .ok_or(ImportError::NoEpisode)?;
    let number = episode.number;
    let mut old: Vec<Option<Scene>> = std::mem::take(&mut episode.scenes)
        .into_iter()
        .map(Some)
        .collect();
    // A draft takes the first old scene still there whose Fountain key or whole id is the
    // draft's id. Per id, the old scenes' positions, last first (so the first is popped).
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (at, scene) in old.iter().enumerate().rev() {
        let id = &scene.as_ref().expect("not taken yet").id;
        let key = fountain_key(number, id);
        by_id.entry(key.to_string()).or_default().push(at);
        if key != id {
            by_id.entry(id.clone()).or_default().push(at);
        }
    }
    let mut scenes = Vec::with_capacity(drafts.len() + old.len());
    for (index, draft) in drafts.iter().enumerate() {
        let found = by_id.get_mut(&draft.id).and_then(|positions| {
            // A position already taken under the scene's other id is dropped here, once.
            while let Some(at) = positions.pop() {
                if let Some(scene) = old[at].take() {
                    return Some(scene);
                }
            }
            None
        });
        match found {
            Some(mut scene) => {
                let before = (
                    scene.heading.clone(),
                    scene.synopsis.clone(),
                    scene.script_text.clone(),
                );
                scene.heading = draft.heading.clone();
                if let Some(synopsis) = &draft.synopsis {
                    scene.synopsis = synopsis.clone();
                }
                scene.script_text = draft.script_text.clone();
                if before
                    == (
                        scene.heading.clone(),
                        scene.synopsis.clone(),
                        scene.script_text.clone(),
                    )
                {
                    report.unchanged += 1;
                } else {
                    report.updated.push(scene.id.clone());
                }
                scenes.push(scene);
            }
            None => {
                let id = scene_id(number, Some(&draft.id), index);
                report.added.push(id.clone());
                scenes.push(Scene {
                    id,
                    heading: draft.heading.clone(),
                    synopsis: draft.synopsis.clone().unwrap_or_default(),
                    script_text: draft.script_text.clone(),
                    shots: Vec::new(),
                    takes: Vec::new(),
                    picked_take: None,
                });
            }
        }
    }
    let old: Vec<Scene> = old.into_iter().flatten().collect();
    report.kept = old.iter().map(|s| s.id.clone()).collect();
    scenes.extend(old);
    episode.scenes = scenes;
    for name in cast_names {
        project.characters.push(Character {
            id: ids.next_id("ch"),
            name: name.clone(),
            description: String::new(),
            voice: String::new(),
            look: String::new(),
            reference_notes: String::new(),
        });
        report.new_characters.push(name);
    }
    Ok(report)
}

/// The episode as a Fountain script: a title page with the series and episode, then every
/// scene's text with its heading (the scene's heading field wins over the one in its text) and
/// its Fountain key as the scene number. `None` without the episode.
pub fn export_episode(project: &Project, episode_id: &str) -> Option<String> {
    let episode = project.episodes.iter().find(|e| e.id == episode_id)?;
    let mut script = Script::default();
    if !project.name.trim().is_empty() {
        script
            .title_page
            .push(("Title".into(), project.name.trim().to_string()));
    }
    let episode_title = match episode.title.trim() {
        "" => format!("Episode {}", episode.number),
        title => format!("Episode {}: {title}", episode.number),
    };
    script.title_page.push(("Episode".into(), episode_title));
    for (index, scene) in episode.scenes.iter().enumerate() {
        let mut elements = fountain::parse(&scene.script_text).0.elements;
        let key = fountain_key(episode.number, &scene.id).to_string();
        let heading = match scene.heading.trim() {
            "" => format!("SCENE {}", index + 1),
            text => text.to_string(),
        };
        match elements
            .iter()
            .position(|e| matches!(e, Element::SceneHeading { .. }))
        {
            // The text starts with its heading (after notes or a synopsis at most).
            Some(at)
                if elements[..at].iter().all(|e| {
                    matches!(
                        e,
                        Element::Note { .. } | Element::Synopsis { .. } | Element::Boneyard { .. }
                    )
                }) =>
            {
                elements.remove(at);
                elements.insert(0, heading_element(heading));
            }
            _ => elements.insert(0, heading_element(heading)),
        }
        if !scene.synopsis.trim().is_empty()
            && !elements
                .iter()
                .any(|e| matches!(e, Element::Synopsis { .. }))
        {
            elements.insert(
                1,
                Element::Synopsis {
                    text: scene.synopsis.trim().replace('\n', " "),
                },
            );
        }
        // Later headings inside one scene's text would start scenes of their own: keep them as
        // action so the scene stays one scene.
        for element in elements.iter_mut().skip(1) {
            if let Element::SceneHeading { text, .. } = element {
                *element = Element::Action {
                    text: std::mem::take(text),
                };
            }
        }
        let scene_script = fountain::with_scene_ids(
            &Script {
                title_page: Vec::new(),
                elements,
            },
            &[key],
        );
        script.elements.extend(scene_script.elements);
    }
    Some(fountain::to_fountain(&script))
}

fn heading_element(text: String) -> Element {
    Element::SceneHeading {
        text,
        scene_number: None,
    }
}

/// A file name for the exported episode: `{series}-ep{n}.fountain`, with characters that file
/// systems refuse replaced.
pub fn export_file_name(project: &Project, episode_id: &str) -> String {
    let number = project
        .episodes
        .iter()
        .find(|e| e.id == episode_id)
        .map_or(0, |e| e.number);
    let name = crate::domain::project::file::file_stem(&project.name, "script");
    format!("{name}-ep{number}.fountain")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::Shot;

    const CEO: &str = include_str!("../../../tests/fixtures/scripts/ceo_returns.fountain");
    const HOSTILE: &str = include_str!("../../../tests/fixtures/scripts/hostile.fountain");

    fn setup() -> (Project, String, IdGen) {
        let mut ids = IdGen::new("t");
        let mut project = Project::new("p", "The CEO Returns", 0.0, "t");
        let episode = project.add_episode(&mut ids, "");
        (project, episode, ids)
    }

    #[test]
    fn import_makes_scenes_with_script_ids() {
        let (mut project, episode, mut ids) = setup();
        let report = import_into_episode(&mut project, &episode, CEO, &mut ids).unwrap();
        let scenes = &project.episodes[0].scenes;
        assert!(scenes.len() >= 2);
        assert_eq!(scenes[0].id, "e1-s1");
        assert_eq!(scenes[0].heading, "INT. SKYLINE GROUP LOBBY - DAY");
        assert!(scenes[0].script_text.contains("You're late. Again."));
        assert_eq!(report.added.len(), scenes.len());
        assert!(report.updated.is_empty() && report.kept.is_empty());
        assert!(report.new_characters.contains(&"MEI".to_string()));
        // The title page is not a preamble; the section and synopsis before the first scene are.
        assert!(report.preamble_ignored);
    }

    #[test]
    fn reimport_updates_in_place_and_keeps_shots() {
        let (mut project, episode, mut ids) = setup();
        import_into_episode(&mut project, &episode, CEO, &mut ids).unwrap();
        let count = project.episodes[0].scenes.len();
        let first = project.episodes[0].scenes[0].id.clone();
        project
            .add_shot(&first, Shot::new("shot-1", "1A"), 1.0, "t")
            .unwrap();
        let edited = CEO.replace("You're late. Again.", "Late. Again!");
        let report = import_into_episode(&mut project, &episode, &edited, &mut ids).unwrap();
        let scenes = &project.episodes[0].scenes;
        assert_eq!(scenes.len(), count, "no duplicates");
        assert_eq!(report.added, Vec::<String>::new());
        assert_eq!(report.updated, vec![first.clone()]);
        assert_eq!(report.unchanged, count - 1);
        assert!(
            report.new_characters.is_empty(),
            "the cast is not added twice"
        );
        assert_eq!(scenes[0].shots.len(), 1, "the shot is kept");
        assert!(scenes[0].script_text.contains("Late. Again!"));
    }

    #[test]
    fn export_then_reimport_is_stable_even_for_derived_ids() {
        let (mut project, episode, mut ids) = setup();
        let plain =
            "INT. 客厅 - 夜\n\n@林梅\n（冷笑）\n你终于回来了。\n\nEXT. 天台 - 日\n\n风很大。\n";
        import_into_episode(&mut project, &episode, plain, &mut ids).unwrap();
        let before: Vec<Scene> = project.episodes[0].scenes.clone();
        assert_eq!(before.len(), 2);
        let exported = export_episode(&project, &episode).unwrap();
        // A scene inserted above in the exported text does not move the others' ids.
        let edited = exported.replacen("INT.", "EXT. 门口 - 夜\n\n有人敲门。\n\nINT.", 1);
        let report = import_into_episode(&mut project, &episode, &edited, &mut ids).unwrap();
        let after = &project.episodes[0].scenes;
        assert_eq!(report.added.len(), 1);
        assert_eq!(after.len(), 3);
        assert_eq!(after[1].id, before[0].id);
        assert_eq!(after[2].id, before[1].id);
        assert_eq!(after[1].heading, before[0].heading);
        assert!(after[1].script_text.contains("你终于回来了。"));
        let again = import_into_episode(&mut project, &episode, &edited, &mut ids).unwrap();
        assert_eq!((again.added.len(), again.updated.len()), (0, 0));
    }

    #[test]
    fn export_round_trips_the_scene_text() {
        let (mut project, episode, mut ids) = setup();
        import_into_episode(&mut project, &episode, CEO, &mut ids).unwrap();
        let exported = export_episode(&project, &episode).unwrap();
        let copy = project.clone();
        let report = import_into_episode(&mut project, &episode, &exported, &mut ids).unwrap();
        assert_eq!(report.added.len() + report.kept.len(), 0);
        let scenes = |p: &Project| -> Vec<(String, String)> {
            p.episodes[0]
                .scenes
                .iter()
                .map(|s| (s.id.clone(), s.heading.clone()))
                .collect()
        };
        assert_eq!(scenes(&project), scenes(&copy));
        for (a, b) in project.episodes[0]
            .scenes
            .iter()
            .zip(&copy.episodes[0].scenes)
        {
            assert_eq!(
                fountain::parse(&a.script_text).0.elements[1..],
                fountain::parse(&b.script_text).0.elements[1..]
            );
        }
    }

    #[test]
    fn studio_made_scenes_are_found_again_and_missing_ones_kept() {
        let (mut project, episode, mut ids) = setup();
        let made = project
            .add_scene(&episode, &mut ids, "INT. 办公室 - 日")
            .unwrap();
        project
            .add_shot(&made, Shot::new("shot-9", "1"), 1.0, "t")
            .unwrap();
        let exported = export_episode(&project, &episode).unwrap();
        assert!(exported.contains(&format!("#{made}#")), "{exported}");
        let report = import_into_episode(&mut project, &episode, &exported, &mut ids).unwrap();
        assert_eq!(report.added.len(), 0);
        assert_eq!(project.episodes[0].scenes[0].id, made);
        let other =
            import_into_episode(&mut project, &episode, "INT. 别处 #9#\n\nx\n", &mut ids).unwrap();
        assert_eq!(other.kept, vec![made.clone()]);
        assert_eq!(project.episodes[0].scenes.len(), 2);
        assert_eq!(project.episodes[0].scenes[1].shots.len(), 1);
    }

    #[test]
    fn errors_and_hostile_text() {
        let (mut project, episode, mut ids) = setup();
        assert_eq!(
            import_into_episode(&mut project, &episode, "just some words", &mut ids),
            Err(ImportError::NoScenes)
        );
        assert_eq!(
            import_into_episode(&mut project, "nope", CEO, &mut ids),
            Err(ImportError::NoEpisode)
        );
        assert!(ImportError::NoScenes.message(Lang::En).contains("INT."));
        // Hostile text is data: kept verbatim (the page renders it as text).
        import_into_episode(&mut project, &episode, HOSTILE, &mut ids).unwrap();
        let all: String = project.episodes[0]
            .scenes
            .iter()
            .map(|s| s.script_text.as_str())
            .collect();
        assert!(all.contains('<'), "{all}");
    }

    #[test]
    fn keys_and_file_names() {
        assert_eq!(fountain_key(3, "e3-s12A"), "12A");
        assert_eq!(fountain_key(3, "e2-s12A"), "e2-s12A");
        assert_eq!(fountain_key(1, "ep-x-sc-y"), "ep-x-sc-y");
        let (project, episode, _) = setup();
        assert_eq!(
            export_file_name(&project, &episode),
            "The CEO Returns-ep1.fountain"
        );
    }

    #[test]
    fn pasted_text_is_capped_like_a_file() {
        let (mut project, episode, mut ids) = setup();
        let cap = SCRIPT_CAP_BYTES as usize;
        let script = "INT. A #1#\n\nx\n\n";
        // Exactly the cap is read…
        let at_cap = script.to_string() + &" ".repeat(cap - script.len());
        assert_eq!(at_cap.len(), cap);
        assert_eq!(read_script(&at_cap).unwrap().scenes().len(), 1);
        import_into_episode(&mut project, &episode, &at_cap, &mut ids).unwrap();
        // …one byte more is refused before it is parsed, with the file picker's figures.
        let over = at_cap + "x";
        let err = read_script(&over).unwrap_err();
        assert_eq!(err, ImportError::TooLarge { bytes: cap + 1 });
        assert_eq!(err.kind(), "too_large");
        assert_eq!(
            err.message(Lang::ZhCn),
            "剧本太大（2048 KB，上限 2048 KB），未导入。"
        );
        assert_eq!(
            err.message(Lang::En),
            "The script is too large (2048 KB, limit 2048 KB) and was not imported."
        );
        assert_eq!(
            import_into_episode(&mut project, &episode, &over, &mut ids),
            Err(err)
        );
        // UTF-8 bytes count, not characters.
        let chinese = "INT. 客厅 #1#\n\n".to_string() + &"林".repeat(cap / 3);
        assert!(matches!(
            read_script(&chinese),
            Err(ImportError::TooLarge { .. })
        ));
        assert_eq!(read_script("no heading here"), Err(ImportError::NoScenes));
    }

    #[test]
    fn a_parsed_script_imports_like_its_text() {
        let (mut project, episode, mut ids) = setup();
        let mut copy = project.clone();
        let mut copy_ids = IdGen::new("t");
        let parsed = read_script(CEO).unwrap();
        let report = import_parsed(&mut project, &episode, &parsed, &mut ids).unwrap();
        let by_text = import_into_episode(&mut copy, &episode, CEO, &mut copy_ids).unwrap();
        assert_eq!(report, by_text);
        assert_eq!(project.episodes, copy.episodes);
        assert_eq!(
            import_parsed(&mut project, "nope", &parsed, &mut ids),
            Err(ImportError::NoEpisode)
        );
    }

    fn scene(id: &str) -> Scene {
        Scene {
            id: id.into(),
            heading: format!("INT. {id}"),
            synopsis: String::new(),
            script_text: String::new(),
            shots: Vec::new(),
            takes: Vec::new(),
            picked_take: None,
        }
    }

    #[test]
    fn a_draft_takes_the_first_old_scene_with_its_key_or_id() {
        let (mut project, episode, mut ids) = setup();
        project.episodes[0].scenes = ["x1", "e1-s7", "7", "e1-s9"].map(scene).to_vec();
        let text = "INT. SEVEN #7#\n\nINT. X #x1#\n\nINT. NEW #new#\n\nINT. AGAIN #7#\n";
        let report = import_into_episode(&mut project, &episode, text, &mut ids).unwrap();
        let got: Vec<&str> = project.episodes[0]
            .scenes
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        // `7` takes e1-s7 (key 7, first); `7-2` is nobody's; x1 is found by its whole id.
        assert_eq!(got, ["e1-s7", "x1", "e1-snew", "e1-s7-2", "7", "e1-s9"]);
        assert_eq!(report.kept, ["7", "e1-s9"]);
        assert_eq!(report.updated, ["e1-s7", "x1"]);
    }

    #[test]
    fn a_hostile_script_of_thousands_of_scenes_imports_twice() {
        // 2 MiB of numbered scenes, each with a cue of its own: importing it again matches
        // every scene by id (a map, not a search per scene) and adds no cast twice.
        let (mut project, episode, mut ids) = setup();
        let mut text = String::new();
        let mut n = 0;
        while text.len() < SCRIPT_CAP_BYTES as usize - 64 {
            text.push_str(&format!("INT. A #{n}#\n\nC{n}\nx\n\n"));
            n += 1;
        }
        let first = import_into_episode(&mut project, &episode, &text, &mut ids).unwrap();
        assert_eq!((first.added.len(), first.new_characters.len()), (n, n));
        let again = import_into_episode(&mut project, &episode, &text, &mut ids).unwrap();
        assert_eq!(again.unchanged, n);
        assert!(again.added.is_empty() && again.kept.is_empty());
        assert!(again.new_characters.is_empty());
        assert_eq!(project.episodes[0].scenes.len(), n);
        assert_eq!(project.characters.len(), n);
    }
}
