//! A realistic sample series, the same every time: the fixture of the storage tests and the
//! save/load and render benchmarks (a 12-episode × 47-shot series is 564 shots).
//!
//! ```
//! use duanju_studio::domain::project::sample::sample_series;
//!
//! let series = sample_series(12, 47);
//! assert_eq!(series.episodes.len(), 12);
//! assert_eq!(series.shot_count(), 564);
//! ```

use crate::domain::cost::money::Micros;
use crate::domain::project::{
    scene_id, Character, Episode, Project, ProjectSettings, Scene, Shot, ShotStatus, Take,
    VideoJob, VideoJobStatus, PROJECT_SCHEMA_VERSION,
};

/// Shots per scene in the sample (the last scene of an episode takes the remainder).
pub const SAMPLE_SHOTS_PER_SCENE: u32 = 6;
/// The time stamped on every part of the sample: 2026-01-01T00:00:00Z.
pub const SAMPLE_MS: f64 = 1_767_225_600_000.0;

const CAST: [(&str, &str, &str, &str); 5] = [
    (
        "林晚晴",
        "被赶出家门的真千金，隐忍而聪明",
        "清冷，语速慢，尾音轻",
        "黑长直，素色风衣",
    ),
    (
        "顾承泽",
        "顾氏集团总裁，外冷内热",
        "低沉，克制",
        "深灰西装，腕表",
    ),
    (
        "林雪柔",
        "假千金，表面温柔",
        "甜美，偶尔尖锐",
        "粉色连衣裙，珍珠耳环",
    ),
    (
        "周妈",
        "林家老保姆，知道当年的真相",
        "沙哑，慈祥",
        "围裙，花白短发",
    ),
    (
        "陈助理",
        "顾承泽的助理，办事利落",
        "干脆",
        "白衬衫，黑框眼镜",
    ),
];

const PLACES: [&str; 6] = [
    "INT. 林家别墅客厅 - 夜",
    "EXT. 顾氏集团大楼门口 - 日",
    "INT. 医院走廊 - 夜",
    "INT. 顾承泽办公室 - 日",
    "EXT. 雨中街头 - 夜",
    "INT. 宴会厅 - 夜",
];

const SIZES: [&str; 5] = ["特写", "近景", "中景", "全景", "远景"];
const ANGLES: [&str; 4] = ["平视", "俯拍", "仰拍", "过肩"];
const MOVES: [&str; 4] = ["固定", "推", "拉", "跟随"];
const TONES: [&str; 5] = ["隐忍", "震惊", "愤怒", "心疼", "释然"];
const ACTIONS: [&str; 6] = [
    "推门而入，雨水顺着发梢滴落，目光扫过满屋宾客",
    "攥紧手中的亲子鉴定报告，指节发白",
    "转身看向窗外，城市灯火映在眼中",
    "将一杯红酒缓缓倒在对方的裙摆上",
    "快步上前挡在她身前，语气冰冷",
    "低头看着旧照片，眼泪无声落下",
];
const LINES: [&str; 6] = [
    "这个家，我回来了。",
    "当年的事，你最好给我一个解释。",
    "从今天起，她由我来护着。",
    "你以为换了身份，就能抹掉一切？",
    "小姐，这些年您受苦了。",
    "顾总，车已经在楼下等了。",
];

/// A series of `episodes` episodes with `shots_per_episode` shots each, split into scenes of
/// [`SAMPLE_SHOTS_PER_SCENE`] shots, with five characters, three dialogue takes per scene (the
/// second picked) and a completed video job for every shot of the first episode. Ids are
/// `sample-…`, stable between calls.
pub fn sample_series(episodes: u32, shots_per_episode: u32) -> Project {
    let characters = CAST
        .iter()
        .enumerate()
        .map(|(i, (name, description, voice, look))| Character {
            id: format!("c{}", i + 1),
            name: (*name).into(),
            description: (*description).into(),
            voice: (*voice).into(),
            look: (*look).into(),
            reference_notes: format!("参考图 {}：正面、侧面、全身", i + 1),
        })
        .collect();
    let mut video_jobs = Vec::new();
    let episodes = (1..=episodes)
        .map(|e| {
            let episode = sample_episode(e, shots_per_episode);
            if e == 1 {
                video_jobs.extend(episode.scenes.iter().flat_map(|s| &s.shots).map(|shot| {
                    VideoJob {
                        provider_job_id: Some(format!("video_{}", shot.id)),
                        status: VideoJobStatus::Completed,
                        clip_ref: Some(shot.id.clone()),
                        cost: Some(Micros(250_000)),
                        ..VideoJob::pending(&shot.id)
                    }
                }));
            }
            episode
        })
        .collect();
    Project {
        schema_version: PROJECT_SCHEMA_VERSION,
        id: "sample-series".into(),
        name: "逆袭千金：真假豪门".into(),
        created_ms: SAMPLE_MS,
        updated_ms: SAMPLE_MS,
        opened_ms: SAMPLE_MS,
        version: 1,
        updated_by: "sample".into(),
        deleted_ms: None,
        settings: ProjectSettings {
            style: "电影感冷色调，浅景深，竖屏构图".into(),
            ..ProjectSettings::default()
        },
        characters,
        episodes,
        video_jobs,
        history: Vec::new(),
        removed_shots: Vec::new(),
        applied_runs: Vec::new(),
    }
}

fn sample_episode(number: u32, shots: u32) -> Episode {
    let scene_count = shots.div_ceil(SAMPLE_SHOTS_PER_SCENE);
    let scenes = (0..scene_count)
        .map(|s| {
            let first = s * SAMPLE_SHOTS_PER_SCENE;
            let count = SAMPLE_SHOTS_PER_SCENE.min(shots - first);
            sample_scene(number, s, count)
        })
        .collect();
    Episode {
        id: format!("sample-ep{number}"),
        number,
        title: format!("第{number}集：真相浮出水面"),
        scenes,
    }
}

fn sample_scene(episode: u32, index: u32, shots: u32) -> Scene {
    let fountain = format!("{}", index + 1);
    let id = format!(
        "sample-{}",
        scene_id(episode, Some(&fountain), index as usize)
    );
    let heading = PLACES[(episode + index) as usize % PLACES.len()];
    let who = |k: u32| CAST[((episode + index + k) as usize) % CAST.len()].0;
    let script_text = format!(
        "{heading} #{fountain}#\n\n{}看着{}，沉默片刻。\n\n{}\n{}\n\n{}\n(冷笑)\n{}\n",
        who(0),
        who(1),
        who(0),
        LINES[(index as usize) % LINES.len()],
        who(1),
        LINES[(index as usize + 1) % LINES.len()],
    );
    let takes = (0..3)
        .map(|t| Take {
            id: format!("{id}-t{}", t + 1),
            dialogue: format!(
                "{}（第{}版）",
                LINES[(index as usize + t) % LINES.len()],
                t + 1
            ),
            stage_direction: ACTIONS[(index as usize + t) % ACTIONS.len()].into(),
            emotional_tone: TONES[(index as usize + t) % TONES.len()].into(),
            model: "claude-sonnet-4.5".into(),
            cost: Some(Micros(1_800)),
            locked: t == 1,
        })
        .collect();
    let shots = (0..shots)
        .map(|k| {
            let n = (episode + index + k) as usize;
            let mut shot = Shot::new(
                format!("{id}-k{}", k + 1),
                format!("{}{}", index + 1, (b'A' + k as u8) as char),
            );
            shot.shot_size = SIZES[n % SIZES.len()].into();
            shot.camera_angle = ANGLES[n % ANGLES.len()].into();
            shot.movement = MOVES[n % MOVES.len()].into();
            shot.duration_s = [3.0, 5.0, 4.0, 6.0][n % 4];
            shot.action = format!("{}{}", who(k), ACTIONS[n % ACTIONS.len()]);
            shot.dialogue = if k % 2 == 0 {
                LINES[n % LINES.len()].into()
            } else {
                String::new()
            };
            shot.emotional_tone = TONES[n % TONES.len()].into();
            shot.visual_elements = vec!["雨夜霓虹".into(), "冷色调".into(), "浅景深".into()];
            shot.characters = vec![who(k).into(), who(k + 1).into()];
            shot.notes = format!("竖屏 9:16，人物居中偏上；参考第{episode}集风格");
            shot.status = if episode == 1 {
                ShotStatus::Done
            } else {
                ShotStatus::Draft
            };
            shot.updated_ms = SAMPLE_MS;
            shot.updated_by = "sample".into();
            shot
        })
        .collect();
    Scene {
        id: id.clone(),
        heading: heading.into(),
        synopsis: format!("{}与{}在{}对峙", who(0), who(1), heading),
        script_text,
        shots,
        takes,
        picked_take: Some(format!("{id}-t2")),
    }
}
