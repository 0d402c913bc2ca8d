//! Exports of a storyboard (a [`Storyboard`] in some scope): the shot list as CSV, subtitles as
//! SRT, and the storyboard as Fountain. The JSON export is the share file
//! ([`crate::domain::share::share_file_text`]), which the viewer opens again.
//!
//! **Shot list CSV** ([`shot_list_csv`]): one row per shot, in scene order, with the columns
//! scene, shot, size, angle, movement, duration, action, dialogue, characters and notes,
//! written by the one CSV writer ([`crate::domain::encoding::csv`]: BOM, RFC 4180 quoting, formula
//! neutralising). The scene cell is `{episode}-{scene} {heading}` (`1-3 INT. 客厅 - 夜`),
//! the duration is in seconds, characters are joined by ` / `.
//!
//! **SRT** ([`srt`]): the timeline is the shots back to back, each lasting its `duration_s`, in
//! scene order. Each scene spans the sum of its shots' durations. When the scene has a picked
//! dialogue take, its lines (one per non-empty line of the take) share the scene's span in
//! proportion to their length in characters, in order, so the subtitles of a scene start with
//! its first shot and end with its last. A scene without a picked take falls back to its shots'
//! own dialogue: one cue per shot that has some, spanning that shot. Scenes of zero duration
//! produce no cue. Times are rounded to the millisecond; cues are numbered from 1.
//!
//! **Fountain** ([`fountain`]): a title page with the series name, then per scene a scene
//! heading numbered `#{episode}-{scene}#`, its synopsis, and per shot a `[[note]]` with the
//! shot's number, size, angle, movement, duration, tone and visual elements, its action as
//! action, and its dialogue under the speaker's cue (a `名字：台词` prefix naming one of the
//! shot's characters, else the shot's first character; dialogue with no known speaker stays
//! action). Written by [`crate::domain::script::fountain::to_fountain`].
//!
//! ```
//! use duanju_studio::domain::project::sample::sample_series;
//! use duanju_studio::domain::share::{ShareScope, Storyboard};
//! use duanju_studio::domain::storyboard::export::{shot_list_csv, srt};
//! use duanju_studio::domain::i18n::Lang;
//!
//! let board = Storyboard::of(&sample_series(1, 6), &ShareScope::Project).unwrap();
//! let csv = shot_list_csv(&board, Lang::En);
//! assert!(csv.starts_with("\u{FEFF}scene,shot,size,angle,movement,duration,action,dialogue,characters,notes\r\n"));
//! assert!(srt(&board).starts_with("1\n00:00:00,000 --> "));
//! ```

use crate::domain::encoding::csv::{csv_row, BOM};
use crate::domain::i18n::Lang;
use crate::domain::script::fountain::{to_fountain, Element, Script};
use crate::domain::share::{SharedScene, SharedShot, Storyboard};
use crate::domain::storyboard::merge::format_seconds;

/// The CSV column headers, in both languages.
const COLUMNS: [(&str, &str); 10] = [
    ("场次", "scene"),
    ("镜号", "shot"),
    ("景别", "size"),
    ("角度", "angle"),
    ("运镜", "movement"),
    ("时长（秒）", "duration"),
    ("动作", "action"),
    ("台词", "dialogue"),
    ("角色", "characters"),
    ("备注", "notes"),
];

/// A scene's label: `{episode}-{scene}`, the scene counted from 1 within its episode.
pub fn scene_label(episode: u32, scene_index: usize) -> String {
    format!("{episode}-{}", scene_index + 1)
}

/// Every scene with its episode number and label, in order.
fn scenes(board: &Storyboard) -> impl Iterator<Item = (String, &SharedScene)> {
    board.episodes.iter().flat_map(|e| {
        e.scenes
            .iter()
            .enumerate()
            .map(move |(i, s)| (scene_label(e.number, i), s))
    })
}

/// The shot list as CSV, headers in `lang` (see the module docs).
pub fn shot_list_csv(board: &Storyboard, lang: Lang) -> String {
    let mut out = String::from(BOM);
    out.push_str(&csv_row(COLUMNS.iter().map(|(zh, en)| lang.pick(zh, en))));
    for (label, scene) in scenes(board) {
        let scene_cell = format!("{label} {}", scene.heading).trim().to_owned();
        for shot in &scene.shots {
            let duration = format_seconds(shot.duration_s);
            let characters = shot.characters.join(" / ");
            out.push_str(&csv_row([
                scene_cell.as_str(),
                &shot.number,
                &shot.shot_size,
                &shot.camera_angle,
                &shot.movement,
                &duration,
                &shot.action,
                &shot.dialogue,
                &characters,
                &shot.notes,
            ]));
        }
    }
    out
}

/// An SRT time: `HH:MM:SS,mmm`.
pub fn srt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn to_ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}

/// Subtitles from the picked dialogue takes, timed by the shots (see the module docs).
pub fn srt(board: &Storyboard) -> String {
    let mut cues: Vec<(u64, u64, String)> = Vec::new();
    let mut clock = 0u64;
    for (_, scene) in scenes(board) {
        let start = clock;
        let shot_spans: Vec<(u64, u64, &SharedShot)> = scene
            .shots
            .iter()
            .map(|shot| {
                let from = clock;
                clock += to_ms(shot.duration_s);
                (from, clock, shot)
            })
            .collect();
        let end = clock;
        if end == start {
            continue;
        }
        let lines: Vec<&str> = scene
            .picked_take
            .iter()
            .flat_map(|t| t.dialogue.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            for (from, to, shot) in shot_spans {
                let text = shot.dialogue.trim();
                if !text.is_empty() && to > from {
                    cues.push((from, to, text.to_owned()));
                }
            }
            continue;
        }
        let weights: Vec<u64> = lines.iter().map(|l| l.chars().count() as u64).collect();
        let total: u64 = weights.iter().sum();
        let span = end - start;
        let mut done = 0u64;
        for (line, weight) in lines.iter().zip(&weights) {
            let from = start + span * done / total;
            done += weight;
            let to = start + span * done / total;
            if to > from {
                cues.push((from, to, (*line).to_owned()));
            }
        }
    }
    let mut out = String::new();
    for (n, (from, to, text)) in cues.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            n + 1,
            srt_time(*from),
            srt_time(*to),
            text
        ));
    }
    out
}

/// The storyboard as a Fountain screenplay (see the module docs).
pub fn fountain(board: &Storyboard, lang: Lang) -> String {
    let mut script = Script {
        title_page: vec![("Title".into(), board.name.clone())],
        elements: Vec::new(),
    };
    if !board.style.is_empty() {
        script
            .title_page
            .push(("Notes".into(), board.style.clone()));
    }
    for (label, scene) in scenes(board) {
        script.elements.push(Element::SceneHeading {
            text: if scene.heading.trim().is_empty() {
                lang.pick("场景", "SCENE").into()
            } else {
                scene.heading.clone()
            },
            scene_number: Some(label),
        });
        if !scene.synopsis.trim().is_empty() {
            script.elements.push(Element::Synopsis {
                text: scene.synopsis.clone(),
            });
        }
        for shot in &scene.shots {
            script.elements.push(Element::Note {
                text: shot_note(shot, lang),
            });
            if !shot.action.trim().is_empty() {
                script.elements.push(Element::Action {
                    text: shot.action.clone(),
                });
            }
            let dialogue = shot.dialogue.trim();
            if dialogue.is_empty() {
                continue;
            }
            match speaker(shot) {
                Some((name, line)) => {
                    script.elements.push(Element::Character {
                        name,
                        extension: None,
                        dual: false,
                    });
                    script.elements.push(Element::Dialogue { text: line });
                }
                None => script.elements.push(Element::Action {
                    text: format!("“{dialogue}”"),
                }),
            }
        }
    }
    to_fountain(&script)
}

/// The shot's facts as one line: `镜头 1A｜特写｜平视｜推｜5 秒｜隐忍｜雨夜霓虹、冷色调`.
fn shot_note(shot: &SharedShot, lang: Lang) -> String {
    let seconds = match lang {
        Lang::ZhCn => format!("{} 秒", format_seconds(shot.duration_s)),
        Lang::En => format!("{} s", format_seconds(shot.duration_s)),
    };
    let head = format!("{} {}", lang.pick("镜头", "Shot"), shot.number);
    let visuals = shot.visual_elements.join(lang.pick("、", ", "));
    [
        head.as_str(),
        &shot.shot_size,
        &shot.camera_angle,
        &shot.movement,
        &seconds,
        &shot.emotional_tone,
        &visuals,
    ]
    .iter()
    .map(|p| p.trim())
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(lang.pick("｜", " | "))
}

/// Who speaks a shot's dialogue, and the line without the name prefix.
fn speaker(shot: &SharedShot) -> Option<(String, String)> {
    let dialogue = shot.dialogue.trim();
    for separator in ['：', ':'] {
        if let Some((name, line)) = dialogue.split_once(separator) {
            let name = name.trim();
            if shot.characters.iter().any(|c| c == name) && !line.trim().is_empty() {
                return Some((name.to_owned(), line.trim().to_owned()));
            }
        }
    }
    let first = shot.characters.first()?.trim();
    (!first.is_empty()).then(|| (first.to_owned(), dialogue.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::sample::sample_series;
    use crate::domain::project::{Project, Shot};
    use crate::domain::script::fountain::parse;
    use crate::domain::share::{ShareScope, SharedTake};

    fn board() -> Storyboard {
        Storyboard::of(&sample_series(1, 12), &ShareScope::Project).unwrap()
    }

    #[test]
    fn the_shot_list_has_the_columns_and_one_row_per_shot() {
        let board = board();
        let csv = shot_list_csv(&board, Lang::En);
        let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert_eq!(
            rows[0],
            "\u{FEFF}scene,shot,size,angle,movement,duration,action,dialogue,characters,notes"
        );
        assert_eq!(rows.len(), 1 + 12);
        let first = board.shots().next().unwrap();
        let expected = format!(
            "1-1 {},{},{},{},{},{},{},{},{},{}",
            board.episodes[0].scenes[0].heading,
            first.number,
            first.shot_size,
            first.camera_angle,
            first.movement,
            format_seconds(first.duration_s),
            first.action,
            first.dialogue,
            first.characters.join(" / "),
            first.notes,
        );
        assert_eq!(rows[1], expected);
        assert!(shot_list_csv(&board, Lang::ZhCn).contains("场次,镜号,景别"));
    }

    #[test]
    fn csv_cells_are_quoted_and_neutralised() {
        let mut project = Project::new("p", "x", 0.0, "t");
        let scene = project.edit(0.0, "t", |p| {
            let mut ids = crate::domain::project::IdGen::new("t");
            let e = p.add_episode(&mut ids, "e");
            p.add_scene(&e, &mut ids, "INT. A, B").unwrap()
        });
        let mut shot = Shot::new("s1", "1A");
        shot.action = "=HYPERLINK(\"x\")".into();
        shot.dialogue = "他说：\"走\"\n她没回头".into();
        project.add_shot(&scene, shot, 0.0, "t");
        let board = Storyboard::of(&project, &ShareScope::Project).unwrap();
        let csv = shot_list_csv(&board, Lang::En);
        assert!(csv.contains("\"1-1 INT. A, B\""), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        assert!(csv.contains("\"他说：\"\"走\"\"\n她没回头\""), "{csv}");
    }

    #[test]
    fn srt_spreads_the_picked_take_over_the_scene() {
        let mut board = board();
        let scene = &mut board.episodes[0].scenes[0];
        let durations: Vec<f64> = scene.shots.iter().map(|s| s.duration_s).collect();
        let scene_ms = (durations.iter().sum::<f64>() * 1000.0) as u64;
        scene.picked_take = Some(SharedTake {
            dialogue: "ab\n\n  abcdef  \n".into(),
            stage_direction: String::new(),
            emotional_tone: String::new(),
        });
        let text = srt(&board);
        let cues: Vec<&str> = text.split("\n\n").filter(|c| !c.is_empty()).collect();
        // Line 1 takes 2/8 of the scene, line 2 the other 6/8.
        assert_eq!(
            cues[0],
            format!("1\n00:00:00,000 --> {}\nab", srt_time(scene_ms / 4))
        );
        assert_eq!(
            cues[1],
            format!(
                "2\n{} --> {}\nabcdef",
                srt_time(scene_ms / 4),
                srt_time(scene_ms)
            )
        );
        // The next scene starts where this one ends.
        assert!(cues[2].starts_with(&format!("3\n{} --> ", srt_time(scene_ms))));
    }

    #[test]
    fn srt_falls_back_to_the_shots_dialogue() {
        let mut board = board();
        for scene in board.episodes[0].scenes.iter_mut() {
            scene.picked_take = None;
        }
        let text = srt(&board);
        let first = board.shots().next().unwrap();
        assert!(text.starts_with(&format!(
            "1\n00:00:00,000 --> {}\n{}\n\n",
            srt_time(to_ms(first.duration_s)),
            first.dialogue
        )));
        let with_lines = board.shots().filter(|s| !s.dialogue.is_empty()).count();
        assert_eq!(text.matches(" --> ").count(), with_lines);
        assert_eq!(srt_time(3_723_004), "01:02:03,004");
    }

    #[test]
    fn fountain_reads_back_with_every_scene_and_shot() {
        let board = board();
        let text = fountain(&board, Lang::ZhCn);
        let (script, diagnostics) = parse(&text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(script.title_page[0], ("Title".into(), board.name.clone()));
        let headings: Vec<&Element> = script
            .elements
            .iter()
            .filter(|e| matches!(e, Element::SceneHeading { .. }))
            .collect();
        assert_eq!(headings.len(), board.scene_count());
        assert_eq!(
            headings[1],
            &Element::SceneHeading {
                text: board.episodes[0].scenes[1].heading.clone(),
                scene_number: Some("1-2".into())
            }
        );
        let notes = script
            .elements
            .iter()
            .filter(|e| matches!(e, Element::Note { .. }))
            .count();
        assert_eq!(notes, board.shots().count());
        let first = board.shots().next().unwrap();
        assert!(script.elements.contains(&Element::Character {
            name: first.characters[0].clone(),
            extension: None,
            dual: false
        }));
        assert!(script.elements.contains(&Element::Dialogue {
            text: first.dialogue.clone()
        }));
    }

    #[test]
    fn speakers_come_from_a_name_prefix_or_the_first_character() {
        let mut shot = SharedShot::of(&Shot::new("s", "1A"));
        shot.characters = vec!["林晚晴".into(), "顾承泽".into()];
        shot.dialogue = "顾承泽：从今天起，她由我来护着。".into();
        assert_eq!(
            speaker(&shot),
            Some(("顾承泽".into(), "从今天起，她由我来护着。".into()))
        );
        shot.dialogue = "这个家，我回来了。".into();
        assert_eq!(speaker(&shot).unwrap().0, "林晚晴");
        shot.characters.clear();
        assert_eq!(speaker(&shot), None);
    }
}
