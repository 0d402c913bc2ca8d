//! Properties of share links and review merges, and a bounded fuzz of the link decoder.
//!
//! - Encoding a storyboard in any scope and decoding it gives back the same payload.
//! - Merging a review is commutative on disjoint edits: your edits plus theirs, whichever side
//!   the merge starts from.
//! - A merge keeps every edit: each field either side changed ends up applied or listed as a
//!   conflict, never silently dropped.
//! - The decoder never panics on arbitrary text, bytes or JSON, nor on a link with one
//!   character changed, and what it accepts is valid. The case counts are fixed, so
//!   `cargo test` (and `make test`) runs this fuzz in bounded time.

use duanju_studio::domain::encoding::base64url::{decode_base64url, encode_base64url};
use duanju_studio::domain::project::sample::sample_series;
use duanju_studio::domain::project::{IdGen, Project, Shot, ShotStatus};
use duanju_studio::domain::share::{
    decode_plain, inflate_capped, parse_fragment, payload_from_json, plain_fragment,
    read_share_file, validate, ShareFile, SharePayload, ShareScope, SharedShot,
};
use duanju_studio::domain::storyboard::merge::{
    apply_merge, plan_merge, FieldValue, Resolution, ShotField, STATUSES,
};
use proptest::prelude::*;

const TEXTS: [&str; 8] = [
    "",
    "推门而入",
    "她愣在原地，雨水顺着发梢滴落",
    "Close-up, slow push",
    "=SUM(A1)",
    "<script>alert(1)</script>",
    "line one\nline two",
    "“引号” \"quotes\" 🎬",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(&TEXTS[..]).prop_map(String::from),
        1 => "\\PC{0,24}",
    ]
}

fn shot_strategy() -> impl Strategy<Value = (String, String, f64, Vec<String>, String)> {
    (
        text(),
        text(),
        (0u32..=36_000).prop_map(|tenths| f64::from(tenths) / 10.0),
        proptest::collection::vec(text(), 0..3),
        text(),
    )
}

/// A project of 1–2 episodes, 1–3 scenes each, 1–4 shots each, with generated text.
fn project_strategy() -> impl Strategy<Value = Project> {
    proptest::collection::vec(
        proptest::collection::vec(
            (text(), proptest::collection::vec(shot_strategy(), 1..5)),
            1..4,
        ),
        1..3,
    )
    .prop_map(|episodes| {
        let mut ids = IdGen::new("gen");
        let mut project = Project::new("p-gen", "生成的项目", 1.0, "gen");
        for scenes in episodes {
            let scene_ids: Vec<(String, Vec<_>)> = project.edit(1.0, "gen", |p| {
                let episode = p.add_episode(&mut ids, "集");
                scenes
                    .into_iter()
                    .map(|(heading, shots)| {
                        (p.add_scene(&episode, &mut ids, &heading).unwrap(), shots)
                    })
                    .collect()
            });
            for (scene, shots) in scene_ids {
                for (action, dialogue, duration, characters, notes) in shots {
                    let mut shot = Shot::new(ids.next_id("shot"), "1A");
                    shot.action = action;
                    shot.dialogue = dialogue;
                    shot.duration_s = duration;
                    shot.characters = characters;
                    shot.notes = notes;
                    project.add_shot(&scene, shot, 1.0, "gen").unwrap();
                }
            }
        }
        project
    })
}

fn scope_strategy(project: &Project) -> impl Strategy<Value = ShareScope> {
    let mut scopes = vec![ShareScope::Project];
    for episode in &project.episodes {
        scopes.push(ShareScope::Episode {
            id: episode.id.clone(),
        });
        for scene in &episode.scenes {
            scopes.push(ShareScope::Scene {
                id: scene.id.clone(),
            });
        }
    }
    proptest::sample::select(scopes)
}

/// A value for a field, from small pools so that two sides sometimes pick the same one.
fn value_for(field: ShotField, pick: usize) -> FieldValue {
    match field {
        ShotField::DurationS => FieldValue::Seconds([1.0, 2.5, 5.0, 8.0][pick % 4]),
        ShotField::VisualElements | ShotField::Characters => FieldValue::List(
            [
                vec![],
                vec!["林晚晴".to_string()],
                vec!["雨".into(), "夜".into()],
            ][pick % 3]
                .clone(),
        ),
        ShotField::Status => FieldValue::Text(
            duanju_studio::domain::storyboard::merge::status_tag(STATUSES[pick % 5]).into(),
        ),
        _ => FieldValue::Text(["甲", "乙", "丙", ""][pick % 4].into()),
    }
}

/// An edit: which shot (by index), which field, which value.
type Edit = (usize, ShotField, usize);

fn edits_strategy() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(
        (
            0usize..64,
            proptest::sample::select(&ShotField::ALL[..]),
            0usize..12,
        ),
        0..8,
    )
}

fn shot_ids(project: &Project) -> Vec<String> {
    project.shots().map(|s| s.id.clone()).collect()
}

/// The (shot, field) → value map of a list of edits (the last one of each pair wins).
fn effective(project: &Project, edits: &[Edit]) -> Vec<(String, ShotField, FieldValue)> {
    let ids = shot_ids(project);
    let mut out: Vec<(String, ShotField, FieldValue)> = Vec::new();
    for (index, field, pick) in edits {
        let id = ids[index % ids.len()].clone();
        let value = value_for(*field, *pick);
        out.retain(|(i, f, _)| !(*i == id && f == field));
        out.push((id, *field, value));
    }
    out
}

/// `project` with the edits made in it, as the producer's app does (one edit per change).
fn edited_project(project: &Project, edits: &[(String, ShotField, FieldValue)]) -> Project {
    let mut out = project.clone();
    for (id, field, value) in edits {
        out.edit_shot(id, 2.0, "producer", |shot| {
            let mut shared = SharedShot::of(shot);
            assert!(field.set(&mut shared, value));
            shared.write_into(shot);
        });
    }
    out
}

/// The review a collaborator sends back after making `edits` in the viewer.
fn review_of(shared: &SharePayload, edits: &[(String, ShotField, FieldValue)]) -> SharePayload {
    let mut board = shared.storyboard.clone();
    for (id, field, value) in edits {
        assert!(field.set(board.shot_mut(id).unwrap(), value));
    }
    SharePayload::review(shared, &board, Vec::new(), "审阅者", 3.0)
}

fn value_in(project: &Project, id: &str, field: ShotField) -> FieldValue {
    field.get(&SharedShot::of(project.shot(id).unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn encoding_then_decoding_gives_back_the_payload(
        (project, scope) in project_strategy().prop_flat_map(|p| { let s = scope_strategy(&p); (Just(p), s) }),
        sent in 0u32..2_000_000_000,
    ) {
        let payload = SharePayload::storyboard(&project, &scope, f64::from(sent)).unwrap();
        let fragment = plain_fragment(&payload);
        prop_assert_eq!(decode_plain(&fragment).unwrap(), payload.clone());
        // The file form too.
        let file = duanju_studio::domain::share::share_file_text(&payload);
        prop_assert_eq!(
            read_share_file(&file, 0.0).unwrap(),
            duanju_studio::domain::share::ShareFile::Payload(Box::new(payload))
        );
    }

    #[test]
    fn merge_is_commutative_on_disjoint_edits(
        project in project_strategy(),
        mine in edits_strategy(),
        theirs in edits_strategy(),
    ) {
        let mine = effective(&project, &mine);
        let theirs: Vec<_> = effective(&project, &theirs)
            .into_iter()
            .filter(|(id, field, _)| !mine.iter().any(|(i, f, _)| i == id && f == field))
            .collect();
        let shared = SharePayload::storyboard(&project, &ShareScope::Project, 1.0).unwrap();

        // I edit, they send a review; or they edit, I send a review.
        let a = edited_project(&project, &mine);
        let plan_a = plan_merge(&a, &review_of(&shared, &theirs));
        let b = edited_project(&project, &theirs);
        let plan_b = plan_merge(&b, &review_of(&shared, &mine));
        prop_assert!(plan_a.conflicts.is_empty(), "{:?}", plan_a.conflicts);
        prop_assert!(plan_b.conflicts.is_empty(), "{:?}", plan_b.conflicts);
        let merged_a = apply_merge(&a, &plan_a, &[], 4.0, "producer");
        let merged_b = apply_merge(&b, &plan_b, &[], 4.0, "producer");
        for id in shot_ids(&project) {
            let (x, y) = (merged_a.shot(&id).unwrap(), merged_b.shot(&id).unwrap());
            prop_assert_eq!(SharedShot { version: 0, ..SharedShot::of(x) }, SharedShot { version: 0, ..SharedShot::of(y) });
            for (i, field, value) in mine.iter().chain(&theirs) {
                if *i == id {
                    prop_assert_eq!(&field.get(&SharedShot::of(x)), value);
                }
            }
        }
    }

    #[test]
    fn merge_keeps_every_edit(
        project in project_strategy(),
        mine in edits_strategy(),
        theirs in edits_strategy(),
        take_theirs in any::<bool>(),
    ) {
        let base = &project;
        let mine = effective(base, &mine);
        let theirs = effective(base, &theirs);
        let shared = SharePayload::storyboard(base, &ShareScope::Project, 1.0).unwrap();
        let local = edited_project(base, &mine);
        let plan = plan_merge(&local, &review_of(&shared, &theirs));
        let choice = if take_theirs { Resolution::Theirs } else { Resolution::Mine };
        let resolutions = vec![choice; plan.conflicts.len()];
        let merged = apply_merge(&local, &plan, &resolutions, 4.0, "producer");
        let in_conflict = |id: &str, field: ShotField, value: &FieldValue, mine_side: bool| {
            plan.conflicts.iter().any(|c| {
                c.shot.shot_id == id
                    && c.field == field
                    && if mine_side { &c.mine == value } else { &c.theirs == value }
            })
        };
        let changed = |id: &str, field: ShotField, value: &FieldValue| {
            &field.get(&SharedShot::of(base.shot(id).unwrap())) != value
        };
        for (id, field, value) in &mine {
            if changed(id, *field, value) {
                let kept = &value_in(&merged, id, *field) == value;
                prop_assert!(kept || in_conflict(id, *field, value, true), "my {:?} on {} lost", field, id);
            }
        }
        for (id, field, value) in &theirs {
            if changed(id, *field, value) {
                let applied = &value_in(&merged, id, *field) == value;
                prop_assert!(applied || in_conflict(id, *field, value, false), "their {:?} on {} lost", field, id);
            }
        }
        // The losing side of each conflict is in the history.
        for conflict in &plan.conflicts {
            let loser = if take_theirs { &conflict.mine } else { &conflict.theirs };
            let recorded = merged.history.iter().any(|h| {
                h.shot_id == conflict.shot.shot_id
                    && &conflict.field.get(&SharedShot::of(&h.shot)) == loser
            });
            prop_assert!(recorded, "the losing value of {:?} is in the history", conflict.field);
        }
    }
}

fn small_payload() -> SharePayload {
    let series = sample_series(1, 6);
    let scope = ShareScope::Scene {
        id: series.episodes[0].scenes[0].id.clone(),
    };
    SharePayload::storyboard(&series, &scope, 1.0).unwrap()
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e9f64..1e9).prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::json!("duanju-share")),
        Just(serde_json::json!(1)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    "\\PC{0,8}",
                    proptest::sample::select(
                        &[
                            "format",
                            "version",
                            "kind",
                            "scope",
                            "storyboard",
                            "episodes",
                            "scenes",
                            "shots",
                            "comments",
                            "edits",
                            "id"
                        ][..]
                    )
                    .prop_map(String::from),
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_the_decoder_with_arbitrary_text(text in "\\PC{0,200}") {
        // Whatever any entry point accepts is a valid payload; nothing panics.
        for link in [text.clone(), format!("ds1.{text}")] {
            if let Ok(payload) = decode_plain(&link) {
                prop_assert!(validate(&payload).is_ok());
            }
        }
        // A sealed link never decodes without its passphrase.
        let sealed = format!("ds1k.{text}");
        prop_assert!(decode_plain(&sealed).is_err());
        // Only a `ds1` header is a link of this version.
        if parse_fragment(&text).is_ok() {
            let tail = text.trim();
            let tail = tail.rsplit_once('#').map_or(tail, |(_, after)| after);
            prop_assert!(tail.starts_with("ds1"), "{:?}", text);
        }
        // base64url accepts only its own alphabet (and padding), and what it accepts
        // re-encodes to the same text without padding.
        if let Ok(bytes) = decode_base64url(&text) {
            prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c)), "{:?}", text);
            let unpadded = text.trim_end_matches('=');
            let again = encode_base64url(&bytes);
            prop_assert_eq!(decode_base64url(&again).unwrap(), bytes);
            prop_assert_eq!(again.len(), unpadded.len());
        }
        if let Ok(payload) = payload_from_json(&text) {
            prop_assert!(validate(&payload).is_ok());
        }
        if let Ok(ShareFile::Payload(payload)) = read_share_file(&text, 0.0) {
            prop_assert!(validate(&payload).is_ok());
        }
    }

    #[test]
    fn fuzz_the_decoder_with_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = inflate_capped(&bytes, 64 * 1024);
        let link = format!("ds1.{}", encode_base64url(&bytes));
        prop_assert!(decode_plain(&link).is_err());
        prop_assert_eq!(decode_base64url(&encode_base64url(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn fuzz_the_schema_with_arbitrary_json(value in json_value()) {
        let text = value.to_string();
        if let Ok(payload) = payload_from_json(&text) {
            prop_assert!(validate(&payload).is_ok());
        }
    }

    #[test]
    fn a_link_with_one_character_changed_never_panics(at in any::<proptest::sample::Index>(), to in proptest::sample::select(b"ABCxyz019-_".to_vec())) {
        let fragment = plain_fragment(&small_payload());
        let mut bytes = fragment.into_bytes();
        let at = 4 + at.index(bytes.len() - 4);
        bytes[at] = to;
        let tampered = String::from_utf8(bytes).unwrap();
        if let Ok(payload) = decode_plain(&tampered) {
            // Only a change that keeps the same data (the last character's spare bits) passes.
            prop_assert!(validate(&payload).is_ok());
        }
    }
}

#[test]
fn a_shared_payload_is_valid_for_every_status() {
    let mut payload = small_payload();
    for (shot, status) in payload
        .storyboard
        .episodes
        .iter_mut()
        .flat_map(|e| e.scenes.iter_mut())
        .flat_map(|s| s.shots.iter_mut())
        .zip(STATUSES.iter().cycle())
    {
        shot.status = *status;
    }
    assert!(validate(&payload).is_ok());
    assert_eq!(decode_plain(&plain_fragment(&payload)).unwrap(), payload);
    assert!(STATUSES.contains(&ShotStatus::Failed));
}
