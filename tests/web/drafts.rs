//! Drafts in a real IndexedDB: round trips, the schema-1 → 2 upgrade from a fixture, a failed
//! write, two connections acting as two tabs, the trash, snapshots, import and export, the
//! autosaver and the pagehide journal. Each test uses its own database.

use std::cell::RefCell;
use std::rc::Rc;

use crate::support::{factory, raw_request, sleep};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::project::file::{ImportError, MIGRATION_TAB};
use duanju_studio::domain::project::merge::SavedNotice;
use duanju_studio::domain::project::sample::sample_series;
use duanju_studio::domain::project::{Project, PROJECT_SCHEMA_VERSION, TRASH_RETENTION_MS};
use duanju_studio::web::drafts::{
    Autosaver, DraftError, Drafts, DraftsEvent, ImportMode, ReadOnly, SaveStatus,
};
use duanju_studio::web::idb::{self, Db, StorageError, EPISODES, KV, LEDGER, PROJECTS};
use duanju_studio::web::tabs::{self, CHANNEL};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const V1_FIXTURE: &str = include_str!("../fixtures/idb_v1/project_v1.json");

fn fresh_name(what: &str) -> String {
    format!("test-drafts-{what}-{}", tabs::new_tab_id())
}

/// Opens a database at `version` by hand, running `upgrade` if it is created or upgraded.
async fn raw_open(
    name: &str,
    version: u32,
    upgrade: impl FnOnce(&web_sys::IdbDatabase) + 'static,
) -> web_sys::IdbDatabase {
    let open = factory().open_with_u32(name, version).unwrap();
    let upgrading = open.clone();
    let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
        upgrade(&upgrading.result().unwrap().unchecked_into());
    });
    open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    raw_request(&open).await.unwrap().unchecked_into()
}

/// Writes one text record by hand and waits for the commit.
async fn raw_put(db: &web_sys::IdbDatabase, store: &str, key: Option<&str>, text: &str) {
    let tx = db
        .transaction_with_str_and_mode(store, web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let store = tx.object_store(store).unwrap();
    let req = match key {
        Some(key) => store.put_with_key(&text.into(), &key.into()).unwrap(),
        None => store.add(&text.into()).unwrap(),
    };
    raw_request(&req).await.unwrap();
    let done = js_sys::Promise::new(&mut |resolve, _| {
        tx.set_oncomplete(Some(&resolve));
    });
    JsFuture::from(done).await.unwrap();
}

/// Records every event a tab hears.
fn events(drafts: &Drafts) -> Rc<RefCell<Vec<DraftsEvent>>> {
    let heard = Rc::new(RefCell::new(Vec::new()));
    let sink = heard.clone();
    drafts.on_event(move |event| sink.borrow_mut().push(event.clone()));
    heard
}

fn first_shot(project: &Project) -> String {
    project.shots().next().unwrap().id.clone()
}

#[wasm_bindgen_test]
async fn a_12_by_47_series_round_trips() {
    let drafts = Drafts::open_named(&fresh_name("round-trip")).await.unwrap();
    let series = sample_series(12, 47);
    let started = tabs::now_ms();
    let saved = drafts.save(&series).await.unwrap();
    let save_ms = tabs::now_ms() - started;
    assert_eq!(saved, series);
    let started = tabs::now_ms();
    let loaded = drafts.load(&series.id).await.unwrap();
    let load_ms = tabs::now_ms() - started;
    assert_eq!(loaded, series);
    assert_eq!(loaded.shot_count(), 564);
    web_sys::console::log_1(
        &format!("564-shot series: save {save_ms:.1} ms, load {load_ms:.1} ms (debug build)")
            .into(),
    );
    let list = drafts.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].episodes, list[0].shots), (12, 564));
    // Saving the same project again merges with the stored copy and changes nothing.
    assert_eq!(drafts.save(&series).await.unwrap(), series);
    drafts.close();
}

/// The stored texts of a project: its own record and its episodes' records.
async fn stored_texts(name: &str, id: &str) -> (String, Vec<String>) {
    let db = Db::open_named(name).await.unwrap();
    let tx = db.transaction(&[PROJECTS, EPISODES], false).unwrap();
    let record = tx.get_text(PROJECTS, id).await.unwrap().unwrap_or_default();
    let episodes = tx
        .texts_in_range(EPISODES, &format!("{id}\u{1}"), &format!("{id}\u{2}"))
        .await
        .unwrap();
    db.close();
    (record, episodes)
}

#[wasm_bindgen_test]
async fn episodes_are_stored_apart_and_a_schema_2_record_still_reads() {
    let name = fresh_name("split");
    let drafts = Drafts::open_named(&name).await.unwrap();
    let series = sample_series(3, 12);
    drafts.save(&series).await.unwrap();
    let (record, episodes) = stored_texts(&name, &series.id).await;
    assert_eq!(episodes.len(), 3, "one record per episode");
    let first = first_shot(&series);
    let no_scenes = |record: &str| {
        let value: serde_json::Value = serde_json::from_str(record).unwrap();
        let list = value["episodes"].as_array().unwrap().clone();
        !list.is_empty()
            && list
                .iter()
                .all(|e| e["scenes"].as_array().is_some_and(Vec::is_empty))
    };
    assert!(no_scenes(&record), "the project's record holds no scenes");
    assert!(episodes.iter().any(|e| e.contains(&first)));

    // Another tab edits a shot of episode 3 while this tab edits episode 1: both survive, in
    // this tab's next save and for a fresh reader.
    let other = Drafts::open_named(&name).await.unwrap();
    let mut theirs = other.load(&series.id).await.unwrap();
    let far = theirs.episodes[2].scenes[0].shots[0].id.clone();
    theirs.edit_shot(&far, tabs::now_ms(), other.tab_id(), |s| {
        s.notes = "第三集的备注".into()
    });
    other.save(&theirs).await.unwrap();
    let mut ours = series.clone();
    ours.edit_shot(&first, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "第一集的修改".into()
    });
    let merged = drafts.save(&ours).await.unwrap();
    assert_eq!(merged.shot(&far).unwrap().notes, "第三集的备注");
    assert_eq!(merged.shot(&first).unwrap().action, "第一集的修改");
    let fresh = Drafts::open_named(&name).await.unwrap();
    assert_eq!(fresh.load(&series.id).await.unwrap(), merged);
    // A removed episode's record goes with it.
    let mut fewer = merged.clone();
    fewer.edit(tabs::now_ms(), drafts.tab_id(), |p| {
        p.episodes.pop();
    });
    let fewer = drafts.save(&fewer).await.unwrap();
    assert_eq!(fewer.episodes.len(), 2);
    assert_eq!(stored_texts(&name, &series.id).await.1.len(), 2);

    // A schema-2 record (the whole project in one record, no episode records) reads as it is,
    // and is split by its next write.
    let mut legacy = sample_series(2, 6);
    legacy.id = "legacy-series".into();
    let db = Db::open_named(&name).await.unwrap();
    let tx = db.transaction(&[PROJECTS], true).unwrap();
    tx.put_text(
        PROJECTS,
        &legacy.id,
        &serde_json::to_string(&legacy).unwrap(),
    )
    .unwrap();
    tx.commit().await.unwrap();
    db.close();
    let reader = Drafts::open_named(&name).await.unwrap();
    let mut read = reader.load(&legacy.id).await.unwrap();
    assert_eq!(read, legacy);
    let shot = first_shot(&legacy);
    read.edit_shot(&shot, tabs::now_ms(), reader.tab_id(), |s| {
        s.dialogue = "新台词".into()
    });
    let written = reader.save(&read).await.unwrap();
    let (record, episodes) = stored_texts(&name, &legacy.id).await;
    assert_eq!(episodes.len(), 2);
    assert!(no_scenes(&record));
    assert_eq!(fresh.load(&legacy.id).await.unwrap(), written);

    // Purging a project deletes its episode records.
    reader.purge(&legacy.id).await.unwrap();
    assert_eq!(stored_texts(&name, &legacy.id).await.1.len(), 0);
    for d in [drafts, other, fresh, reader] {
        d.close();
    }
}

#[wasm_bindgen_test]
async fn a_v1_database_is_upgraded_and_its_project_migrated() {
    let name = fresh_name("v1");
    // A schema-1 database, as the first release created it, holding a v1 project in `kv`.
    let v1 = raw_open(&name, 1, |db| {
        db.create_object_store(KV).unwrap();
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(LEDGER, &params)
            .unwrap();
    })
    .await;
    raw_put(&v1, KV, Some("project:p-v1-rain"), V1_FIXTURE).await;
    raw_put(
        &v1,
        KV,
        Some("project:p-v1-broken"),
        r#"{"id":"p-v1-broken","#,
    )
    .await;
    raw_put(&v1, KV, Some("plan"), r#"{"kept":true}"#).await;
    raw_put(&v1, LEDGER, None, r#"{"call":1}"#).await;
    v1.close();

    // Opening the database upgrades it; the projects move when drafts are first opened.
    let db = Db::open_named(&name).await.unwrap();
    assert!(db
        .get::<serde_json::Value>(KV, "project:p-v1-rain")
        .await
        .unwrap()
        .is_some());
    db.close();

    let drafts = Drafts::open_named(&name).await.unwrap();
    let list = drafts.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "雨夜归来 Rainy Return");
    assert_eq!(list[0].shots, 3);
    let project = drafts.load("p-v1-rain").await.unwrap();
    assert_eq!(project.schema_version, PROJECT_SCHEMA_VERSION);
    assert_eq!(project.settings.aspect_ratio, "9:16");
    assert_eq!(project.episodes[0].scenes[0].id, "e1-s1A");
    assert_eq!(
        project.episodes[0].scenes[0].picked_take.as_deref(),
        Some("e1-s1A-t2")
    );
    assert!(project
        .shots()
        .all(|s| s.version == 1 && s.updated_by == MIGRATION_TAB));
    drafts.close();

    // The other schema-1 data is intact, the moved record left `kv` and the damaged one stayed.
    let db = Db::open_named(&name).await.unwrap();
    assert_eq!(
        db.get::<serde_json::Value>(KV, "plan").await.unwrap(),
        Some(serde_json::json!({"kept": true}))
    );
    assert_eq!(
        db.get::<serde_json::Value>(KV, "project:p-v1-rain")
            .await
            .unwrap(),
        None
    );
    assert!(db
        .get_raw(KV, "project:p-v1-broken")
        .await
        .unwrap()
        .is_some());
    let (ledger, damaged) = db.all::<serde_json::Value>(LEDGER).await.unwrap();
    assert_eq!((ledger.len(), damaged.len()), (1, 0));
    db.close();
}

#[wasm_bindgen_test]
async fn a_quota_error_keeps_the_saved_project_and_shows_in_the_status() {
    let drafts = Drafts::open_named(&fresh_name("quota")).await.unwrap();
    let saved = drafts.save(&sample_series(2, 12)).await.unwrap();
    let autosaver = Autosaver::with_delay(drafts.clone(), 20);
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let sink = statuses.clone();
    autosaver.on_status(move |s| sink.borrow_mut().push(s.clone()));

    let mut edited = saved.clone();
    let id = first_shot(&edited);
    edited.edit_shot(&id, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "磁盘满时的修改".into()
    });
    drafts.fail_next_write(StorageError::QuotaExceeded);
    autosaver.schedule(edited.clone());
    let error = autosaver.flush().await.unwrap_err();
    assert_eq!(error, DraftError::Storage(StorageError::QuotaExceeded));
    let status = autosaver.status();
    assert_eq!(status, SaveStatus::Error(error));
    assert!(status.label(Lang::ZhCn).contains("配额"));
    assert!(status.label(Lang::En).contains("quota is full"));
    assert!(statuses.borrow().contains(&SaveStatus::Saving));
    assert_eq!(
        drafts.load(&saved.id).await.unwrap(),
        saved,
        "the saved copy is intact"
    );
    assert!(autosaver.has_unsaved(), "the edit is kept in memory");

    // Once space is free, the next flush writes the kept edit.
    let merged = autosaver.flush().await.unwrap().unwrap();
    assert_eq!(merged.shot(&id).unwrap().action, "磁盘满时的修改");
    assert!(matches!(autosaver.status(), SaveStatus::Saved { .. }));
    assert_eq!(autosaver.status().label(Lang::ZhCn), "已保存");
    assert_eq!(drafts.load(&saved.id).await.unwrap(), merged);
    drafts.close();
}

#[wasm_bindgen_test]
async fn two_connections_act_as_two_tabs() {
    let name = fresh_name("tabs");
    let a = Drafts::open_named(&name).await.unwrap();
    let b = Drafts::open_named(&name).await.unwrap();
    assert_ne!(a.tab_id(), b.tab_id());
    let heard = events(&b);
    let base = a.save(&sample_series(2, 12)).await.unwrap();
    let mut b_local = b.load(&base.id).await.unwrap();

    // An edit saved in A appears in B.
    let mut a_local = base.clone();
    let shot = first_shot(&base);
    a_local.edit_shot(&shot, tabs::now_ms(), a.tab_id(), |s| {
        s.dialogue = "A 的台词".into()
    });
    let a_local = a.save(&a_local).await.unwrap();
    sleep(50).await;
    let notice = heard
        .borrow()
        .iter()
        .rev()
        .find_map(|e| match e {
            DraftsEvent::RemoteSaved(n) => Some(n.clone()),
            _ => None,
        })
        .expect("B heard A's save");
    assert_eq!(
        (notice.project_id.as_str(), notice.tab_id.as_str()),
        (base.id.as_str(), a.tab_id())
    );
    assert!(notice.is_ahead_of(&b_local));
    b_local = b.merge_remote(&b_local).await.unwrap();
    assert_eq!(b_local.shot(&shot).unwrap().dialogue, "A 的台词");

    // Concurrent edits of one shot: the higher version wins, the loser stays in history.
    let contested = base.shots().nth(3).unwrap().id.clone();
    let mut a_next = a_local.clone();
    a_next.edit_shot(&contested, tabs::now_ms(), a.tab_id(), |s| {
        s.action = "A 一".into()
    });
    a_next.edit_shot(&contested, tabs::now_ms(), a.tab_id(), |s| {
        s.action = "A 二".into()
    });
    let mut b_next = b_local.clone();
    b_next.edit_shot(&contested, tabs::now_ms(), b.tab_id(), |s| {
        s.action = "B 的修改".into()
    });
    let other = base.shots().nth(7).unwrap().id.clone();
    b_next.edit_shot(&other, tabs::now_ms(), b.tab_id(), |s| {
        s.notes = "B 的备注".into()
    });
    a.save(&a_next).await.unwrap();
    let merged = b.save(&b_next).await.unwrap();
    assert_eq!(merged.shot(&contested).unwrap().action, "A 二");
    assert_eq!(merged.shot(&other).unwrap().notes, "B 的备注");
    assert_eq!(merged.history.len(), 1);
    assert_eq!(merged.history[0].shot.action, "B 的修改");
    assert_eq!(
        a.load(&base.id).await.unwrap(),
        merged,
        "both tabs see one result"
    );
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn a_notice_from_a_newer_version_stops_writing() {
    let name = fresh_name("newer");
    let drafts = Drafts::open_named(&name).await.unwrap();
    let heard = events(&drafts);
    let project = drafts.create("新版本测试").await.unwrap();
    let mut notice = SavedNotice::of(&project, "tab-from-the-future", idb::SCHEMA_VERSION, 1.0);
    notice.schema_version = PROJECT_SCHEMA_VERSION + 1;
    let channel = web_sys::BroadcastChannel::new(&format!("{CHANNEL}:{name}")).unwrap();
    channel
        .post_message(&serde_json::to_string(&notice).unwrap().into())
        .unwrap();
    sleep(50).await;
    channel.close();
    let reason = drafts.read_only().expect("read-only");
    assert!(matches!(reason, ReadOnly::NewerVersionInAnotherTab { .. }));
    assert!(heard
        .borrow()
        .contains(&DraftsEvent::ReadOnly(reason.clone())));
    assert!(reason.message(Lang::En).contains("reload this page"));
    assert!(reason.message(Lang::ZhCn).contains("请刷新本页"));
    let refused = drafts.save(&project).await.unwrap_err();
    assert_eq!(refused, DraftError::ReadOnly(reason));
    assert_eq!(
        drafts.load(&project.id).await.unwrap().name,
        "新版本测试",
        "reads still work"
    );
    drafts.close();
}

#[wasm_bindgen_test]
async fn an_upgrade_in_another_tab_stops_writing() {
    let name = fresh_name("versionchange");
    let drafts = Drafts::open_named(&name).await.unwrap();
    let newer = raw_open(&name, idb::SCHEMA_VERSION + 1, |_| {}).await;
    assert_eq!(drafts.read_only(), Some(ReadOnly::UpgradedElsewhere));
    assert!(matches!(
        drafts.create("x").await,
        Err(DraftError::ReadOnly(ReadOnly::UpgradedElsewhere))
    ));
    newer.close();
}

#[wasm_bindgen_test]
async fn a_blocked_upgrade_is_reported() {
    let name = fresh_name("blocked");
    // A tab of the old release holds version 1 open and does not let go.
    let old = raw_open(&name, 1, |db| {
        db.create_object_store(KV).unwrap();
    })
    .await;
    let error = Drafts::open_named(&name).await.err().expect("blocked");
    assert_eq!(error, DraftError::Storage(StorageError::Blocked));
    assert!(error.message(Lang::En).contains("close the other tabs"));
    old.close();
    sleep(50).await;
    let drafts = Drafts::open_named(&name).await.unwrap();
    assert!(drafts.list().await.unwrap().is_empty());
    drafts.close();
}

#[wasm_bindgen_test]
async fn a_project_trashed_in_the_future_is_kept_and_counts_from_now() {
    let drafts = Drafts::open_named(&fresh_name("trash-clock"))
        .await
        .unwrap();
    let project = drafts.create("时钟回拨的剧").await.unwrap();
    // Deleted while the clock was a year ahead; the clock has been set right since.
    let year_ms = 365.0 * 86_400_000.0;
    let mut ahead = project.clone();
    ahead.edit(tabs::now_ms(), drafts.tab_id(), |p| {
        p.deleted_ms = Some(tabs::now_ms() + year_ms)
    });
    drafts.save(&ahead).await.unwrap();
    let before = tabs::now_ms();
    assert_eq!(drafts.purge_expired().await.unwrap(), Vec::<String>::new());
    // Still in the trash, restorable, and its 30 days now count from today, stored so.
    let trash = drafts.list_trash().await.unwrap();
    assert_eq!(trash.len(), 1);
    let deleted = trash[0].deleted_ms.unwrap();
    assert!(deleted >= before && deleted <= tabs::now_ms(), "{deleted}");
    let stored = drafts.load(&project.id).await.unwrap();
    assert_eq!(stored.deleted_ms, Some(deleted));
    assert_eq!(
        trash[0].purge_at_ms(),
        Some(deleted + TRASH_RETENTION_MS),
        "purged 30 days from now, not in a year and 30 days"
    );
    assert_eq!(drafts.restore(&project.id).await.unwrap().deleted_ms, None);
}

#[wasm_bindgen_test]
async fn trash_restore_and_purge() {
    let drafts = Drafts::open_named(&fresh_name("trash")).await.unwrap();
    let kept = drafts.create("留下的剧").await.unwrap();
    let gone = drafts.create("删掉的剧").await.unwrap();
    drafts.open_project(&kept.id).await.unwrap();
    let names: Vec<String> = drafts
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["留下的剧", "删掉的剧"], "the last opened first");

    let trashed = drafts.delete(&gone.id).await.unwrap();
    assert!(trashed.deleted_ms.is_some());
    assert_eq!(drafts.list().await.unwrap().len(), 1);
    assert_eq!(drafts.list_trash().await.unwrap()[0].id, gone.id);
    let back = drafts.restore(&gone.id).await.unwrap();
    assert_eq!(back.deleted_ms, None);
    assert_eq!(drafts.list().await.unwrap().len(), 2);
    assert!(drafts.list_trash().await.unwrap().is_empty());

    // A project trashed 31 days ago can no longer be restored and is purged.
    let mut old = back.clone();
    let long_ago = tabs::now_ms() - TRASH_RETENTION_MS - 86_400_000.0;
    old.edit(tabs::now_ms(), drafts.tab_id(), |p| {
        p.deleted_ms = Some(long_ago)
    });
    drafts.save(&old).await.unwrap();
    assert_eq!(
        drafts.restore(&gone.id).await.unwrap_err(),
        DraftError::Expired
    );
    assert_eq!(drafts.purge_expired().await.unwrap(), vec![gone.id.clone()]);
    assert!(drafts.list_trash().await.unwrap().is_empty());
    assert_eq!(
        drafts.load(&gone.id).await.unwrap_err(),
        DraftError::NotFound(gone.id.clone())
    );
    assert_eq!(drafts.load(&kept.id).await.unwrap().name, "留下的剧");

    // Renames are checked; duplicates get new ids.
    assert!(matches!(
        drafts.rename(&kept.id, "  ").await,
        Err(DraftError::Name(_))
    ));
    assert_eq!(
        drafts.rename(&kept.id, " 新名字 ").await.unwrap().name,
        "新名字"
    );
    let copy = drafts.duplicate(&kept.id, Lang::ZhCn).await.unwrap();
    assert_eq!(copy.name, "新名字 (副本)");
    assert_ne!(copy.id, kept.id);
    drafts.close();
}

#[wasm_bindgen_test]
async fn snapshots_restore_and_keep_the_state_before() {
    let drafts = Drafts::open_named(&fresh_name("snapshots")).await.unwrap();
    let mut project = drafts.save(&sample_series(1, 12)).await.unwrap();
    let shot = first_shot(&project);
    project.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "定稿的动作".into()
    });
    project = drafts.save(&project).await.unwrap();
    let snapshot = drafts.create_snapshot(&project.id, "定稿").await.unwrap();
    project.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "之后的改动".into()
    });
    let removed = project.shots().nth(4).unwrap().id.clone();
    project.remove_shot(&removed, tabs::now_ms(), drafts.tab_id());
    let before = drafts.save(&project).await.unwrap();

    let restored = drafts
        .restore_snapshot(&snapshot.id, Lang::ZhCn)
        .await
        .unwrap();
    assert_eq!(restored.shot(&shot).unwrap().action, "定稿的动作");
    assert!(
        restored.shot(&removed).is_some(),
        "the removed shot is back"
    );
    assert!(restored.shot(&shot).unwrap().version > before.shot(&shot).unwrap().version);
    assert_eq!(drafts.load(&project.id).await.unwrap(), restored);
    // An older copy saved by a lagging tab does not undo the restore.
    assert_eq!(
        drafts
            .save(&before)
            .await
            .unwrap()
            .shot(&shot)
            .unwrap()
            .action,
        "定稿的动作"
    );

    let names: Vec<String> = drafts
        .snapshots(&project.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["恢复「定稿」之前", "定稿"]);
    drafts.purge(&project.id).await.unwrap();
    assert!(drafts.snapshots(&project.id).await.unwrap().is_empty());
    drafts.close();
}

#[wasm_bindgen_test]
async fn importing_a_corrupted_file_changes_nothing() {
    let drafts = Drafts::open_named(&fresh_name("import")).await.unwrap();
    let project = drafts.save(&sample_series(2, 12)).await.unwrap();
    let exported = drafts.export_project(&project.id).await.unwrap();
    assert!(!exported.to_lowercase().contains("api_key"));
    let before = drafts.list().await.unwrap();

    let cut: String = exported
        .chars()
        .take(exported.chars().count() / 3)
        .collect();
    let error = drafts
        .import(&cut, ImportMode::Copy, Lang::ZhCn)
        .await
        .unwrap_err();
    assert_eq!(error, DraftError::Import(ImportError::Truncated));
    assert!(error.message(Lang::ZhCn).contains("现有数据未改动"));
    let garbled = exported.replacen('{', "{{", 2);
    assert!(matches!(
        drafts
            .import(
                &garbled,
                ImportMode::Replace {
                    id: project.id.clone()
                },
                Lang::En
            )
            .await,
        Err(DraftError::Import(ImportError::NotJson { .. }))
    ));
    assert_eq!(drafts.list().await.unwrap(), before);
    assert_eq!(drafts.load(&project.id).await.unwrap(), project);

    // A copy gets new ids; a replace keeps the id and a snapshot of what it replaced.
    let copies = drafts
        .import(&exported, ImportMode::Copy, Lang::ZhCn)
        .await
        .unwrap();
    assert_ne!(copies[0].id, project.id);
    assert_eq!(drafts.list().await.unwrap().len(), 2);
    let mut changed = project.clone();
    changed.name = "导入的新版本".into();
    let file = duanju_studio::domain::project::file::export_project(&changed);
    let replaced = drafts
        .import(
            &file,
            ImportMode::Replace {
                id: project.id.clone(),
            },
            Lang::ZhCn,
        )
        .await
        .unwrap();
    assert_eq!(
        (replaced[0].id.as_str(), replaced[0].name.as_str()),
        (project.id.as_str(), "导入的新版本")
    );
    let snapshots = drafts.snapshots(&project.id).await.unwrap();
    assert_eq!(snapshots[0].name, "导入替换之前");

    let (backup, damaged) = drafts.export_workspace().await.unwrap();
    assert!(damaged.is_empty());
    assert_eq!(
        drafts
            .import(
                &backup,
                ImportMode::Replace {
                    id: project.id.clone()
                },
                Lang::En
            )
            .await,
        Err(DraftError::ReplaceNeedsOneProject)
    );
    let restored = drafts
        .import(&backup, ImportMode::Copy, Lang::En)
        .await
        .unwrap();
    assert_eq!(restored.len(), 2);
    assert_eq!(drafts.list().await.unwrap().len(), 4);
    drafts.close();
}

#[wasm_bindgen_test]
async fn the_autosaver_debounces_edits_into_one_save() {
    let drafts = Drafts::open_named(&fresh_name("debounce")).await.unwrap();
    let mut project = drafts.save(&sample_series(1, 6)).await.unwrap();
    let autosaver = Autosaver::with_delay(drafts.clone(), 40);
    let saves = Rc::new(RefCell::new(0));
    let count = saves.clone();
    autosaver.on_saved(move |_| *count.borrow_mut() += 1);
    let shot = first_shot(&project);
    for n in 0..5 {
        project.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
            s.notes = format!("第{n}次")
        });
        autosaver.schedule(project.clone());
        sleep(5).await;
    }
    assert_eq!(autosaver.status(), SaveStatus::Pending);
    sleep(200).await;
    assert_eq!(*saves.borrow(), 1);
    assert!(matches!(autosaver.status(), SaveStatus::Saved { .. }));
    assert_eq!(
        drafts
            .load(&project.id)
            .await
            .unwrap()
            .shot(&shot)
            .unwrap()
            .notes,
        "第4次"
    );
    assert!(!autosaver.has_unsaved());
    drafts.close();
}

#[wasm_bindgen_test]
async fn closing_the_page_with_a_save_pending_keeps_the_edit() {
    let name = fresh_name("pagehide");
    let drafts = Drafts::open_named(&name).await.unwrap();
    let mut project = drafts.save(&sample_series(1, 6)).await.unwrap();
    let autosaver = Autosaver::with_delay(drafts.clone(), 60_000);
    let shot = first_shot(&project);
    project.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "关页前的修改".into()
    });
    autosaver.schedule(project.clone());
    // The page goes away: the journal is written at once, then the connection is gone before
    // any normal save could finish.
    autosaver.simulate_pagehide();
    drafts.close();
    drop(autosaver);
    sleep(50).await;

    let reopened = Drafts::open_named(&name).await.unwrap();
    let loaded = reopened.load(&project.id).await.unwrap();
    assert_eq!(loaded.shot(&shot).unwrap().action, "关页前的修改");
    reopened.close();
}
