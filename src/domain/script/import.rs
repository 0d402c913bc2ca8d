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
}

impl ImportError {
    /// A stable identifier for `data-kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportError::NoEpisode => "no_episode",
            ImportError::NoScenes => "no_scenes",
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

/// Imports a Fountain (or plain) script into an episode, merging by scene id (see the module
/// documentation). A header change: call it inside [`Project::edit`].
pub fn import_into_episode(
    project: &mut Project,
    episode_id: &str,
    source: &str,
    ids: &mut IdGen,
) -> Result<ImportReport, ImportError> {
    let (script, diagnostics) = fountain::parse(source);
    let drafts = fountain::scenes(&script);
    if drafts.is_empty() {
        return Err(ImportError::NoScenes);
    }
    let mut report = ImportReport {
        diagnostics: diagnostics.len(),
        preamble_ignored: script.elements[..drafts[0].elements.start]
            .iter()
            .any(|e| !matches!(e, Element::PageBreak)),
        ..ImportReport::default()
    };
    let known: Vec<String> = project
        .characters
        .iter()
        .map(|c| c.name.to_uppercase())
        .collect();
    let mut cast_names: Vec<String> = Vec::new();
    for name in drafts.iter().flat_map(|d| &d.characters) {
        let upper = name.to_uppercase();
        if !known.contains(&upper) && !cast_names.iter().any(|n| n.to_uppercase() == upper) {
            cast_names.push(name.clone());
        }
    }
    let episode = project
        .episodes
        .iter_mut()
        .find(|e| e.id == episode_id)
        .ok_or(ImportError::NoEpisode)?;
    let number = episode.number;
    let mut old: Vec<Scene> = std::mem::take(&mut episode.scenes);
    let mut scenes = Vec::with_capacity(drafts.len() + old.len());
    for (index, draft) in drafts.iter().enumerate() {
        let found = old
            .iter()
            .position(|s| fountain_key(number, &s.id) == draft.id || s.id == draft.id);
        match found {
            Some(at) => {
                let mut scene = old.remove(at);
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
}
