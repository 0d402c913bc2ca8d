//! Storage under a newer version, a hidden page and a failing disk: a database a newer build
//! upgraded (before this build opens it, or under its open connection) gives the typed
//! `StorageError::NewerVersionOpen`; hiding the page writes the drafts' journal; a failed
//! autosave is retried and, meanwhile, leaving the page asks first; the browser is asked once to
//! store the drafts persistently. Each test uses its own database.

use std::cell::RefCell;
use std::rc::Rc;

use crate::support::{document, factory, raw_request, sleep};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::project::sample::sample_series;
use duanju_studio::web::drafts::{
    Autosaver, DraftError, Drafts, DraftsEvent, Persistence, SaveStatus, JOURNAL_PREFIX,
    PERSIST_PREF,
};
use duanju_studio::web::idb::{self, Db, StorageError, KV};
use duanju_studio::web::tabs;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn fresh_name(what: &str) -> String {
    format!("test-storage-{what}-{}", tabs::new_tab_id())
}

/// Opens a database at `version` by hand (with a `kv` store when it is created).
async fn raw_open(name: &str, version: u32) -> web_sys::IdbDatabase {
    let open = factory().open_with_u32(name, version).unwrap();
    let upgrading = open.clone();
    let on_upgrade = Closure::once_into_js(move |event: web_sys::IdbVersionChangeEvent| {
        let db: web_sys::IdbDatabase = upgrading.result().unwrap().unchecked_into();
        if event.old_version() == 0.0 {
            db.create_object_store(KV).unwrap();
        }
    });
    open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    raw_request(&open).await.unwrap().unchecked_into()
}

fn assert_newer_version_message(error: &StorageError) {
    assert_eq!(*error, StorageError::NewerVersionOpen);
    let zh = error.message(Lang::ZhCn);
    assert!(zh.contains("新版本") && zh.contains("请刷新页面"), "{zh}");
    let en = error.message(Lang::En);
    assert!(
        en.contains("newer version of the app") && en.contains("reload the page"),
        "{en}"
    );
    assert!(!en.contains("private mode"), "{en}");
}

#[wasm_bindgen_test]
async fn an_older_build_on_a_newer_database_says_reload() {
    let name = fresh_name("newer-db");
    // A newer build created the database at a higher version.
    raw_open(&name, idb::SCHEMA_VERSION + 1).await.close();
    let error = Db::open_named(&name).await.err().expect("refused");
    assert_newer_version_message(&error);
    assert_eq!(
        Drafts::open_named(&name).await.err(),
        Some(DraftError::Storage(StorageError::NewerVersionOpen))
    );
}

#[wasm_bindgen_test]
async fn writes_after_a_versionchange_say_reload() {
    let name = fresh_name("versionchange");
    let db = Db::open_named(&name).await.unwrap();
    db.put(KV, "before", &1).await.unwrap();
    // Another tab runs a newer build: its upgrade asks this connection to let go.
    let newer = raw_open(&name, idb::SCHEMA_VERSION + 1).await;
    let error = db.put(KV, "after", &2).await.unwrap_err();
    assert_newer_version_message(&error);
    assert_eq!(
        db.get_raw(KV, "before").await.err(),
        Some(StorageError::NewerVersionOpen)
    );
    assert_eq!(
        db.transaction(&[KV], true).err(),
        Some(StorageError::NewerVersionOpen)
    );
    newer.close();
}

/// Makes `document.visibilityState` read `state` (or the browser's own value with `None`).
fn pretend_visibility(state: Option<&str>) {
    let document = document();
    match state {
        Some(state) => {
            let descriptor = js_sys::Object::new();
            js_sys::Reflect::set(&descriptor, &"value".into(), &state.into()).unwrap();
            js_sys::Reflect::set(&descriptor, &"configurable".into(), &JsValue::TRUE).unwrap();
            js_sys::Object::define_property(&document, &"visibilityState".into(), &descriptor);
        }
        None => {
            js_sys::Reflect::delete_property(&document, &"visibilityState".into()).unwrap();
        }
    }
}

fn hide_page() {
    pretend_visibility(Some("hidden"));
    let event = web_sys::Event::new("visibilitychange").unwrap();
    document().dispatch_event(&event).unwrap();
    pretend_visibility(None);
}

async fn journal(name: &str, id: &str) -> Option<JsValue> {
    let db = Db::open_named(name).await.unwrap();
    let journal = db
        .get_raw(KV, &format!("{JOURNAL_PREFIX}{id}"))
        .await
        .unwrap();
    db.close();
    journal
}

#[wasm_bindgen_test]
async fn hiding_the_page_writes_the_journal() {
    let name = fresh_name("hidden");
    let drafts = Drafts::open_named(&name).await.unwrap();
    let mut project = drafts.save(&sample_series(1, 6)).await.unwrap();
    let autosaver = Autosaver::with_delay(drafts.clone(), 60_000);
    let shot = project.shots().next().unwrap().id.clone();
    project.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "切到后台前的修改".into()
    });
    autosaver.schedule(project.clone());
    // The tab is hidden, and then (a phone) killed without `pagehide`: the connection is gone
    // before any normal save could finish.
    hide_page();
    drafts.close();
    drop(autosaver);
    sleep(50).await;
    assert!(
        journal(&name, &project.id).await.is_some(),
        "journal written"
    );

    // The next open merges the journal.
    let reopened = Drafts::open_named(&name).await.unwrap();
    let mut loaded = reopened.load(&project.id).await.unwrap();
    assert_eq!(loaded.shot(&shot).unwrap().action, "切到后台前的修改");
    assert!(
        journal(&name, &project.id).await.is_none(),
        "merged and gone"
    );

    // A page that lives on saves too, and then deletes the journal it no longer needs.
    let autosaver = Autosaver::with_delay(reopened.clone(), 60_000);
    loaded.edit_shot(&shot, tabs::now_ms(), reopened.tab_id(), |s| {
        s.notes = "又一次切到后台".into()
    });
    autosaver.schedule(loaded.clone());
    hide_page();
    for _ in 0..100 {
        if matches!(autosaver.status(), SaveStatus::Saved { .. }) {
            break;
        }
        sleep(20).await;
    }
    assert!(matches!(autosaver.status(), SaveStatus::Saved { .. }));
    sleep(50).await;
    assert!(
        journal(&name, &project.id).await.is_none(),
        "saved: no journal left"
    );
    assert_eq!(
        reopened
            .load(&project.id)
            .await
            .unwrap()
            .shot(&shot)
            .unwrap()
            .notes,
        "又一次切到后台"
    );
    // A `visibilitychange` to visible journals nothing.
    loaded = reopened.load(&project.id).await.unwrap();
    loaded.edit_shot(&shot, tabs::now_ms(), reopened.tab_id(), |s| {
        s.notes = "可见时的修改".into()
    });
    autosaver.schedule(loaded);
    pretend_visibility(Some("visible"));
    document()
        .dispatch_event(&web_sys::Event::new("visibilitychange").unwrap())
        .unwrap();
    pretend_visibility(None);
    sleep(50).await;
    assert!(journal(&name, &project.id).await.is_none());
    assert_eq!(autosaver.status(), SaveStatus::Pending);
    autosaver.flush().await.unwrap();
    reopened.close();
}

/// Dispatches a cancelable `beforeunload` and returns whether a listener asked to stay.
fn leaving_asks_first() -> bool {
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"cancelable".into(), &JsValue::TRUE).unwrap();
    let constructor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"Event".into())
        .unwrap()
        .unchecked_into();
    let args = js_sys::Array::of2(&"beforeunload".into(), &init);
    let event: web_sys::Event = js_sys::Reflect::construct(&constructor, &args)
        .unwrap()
        .unchecked_into();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
    event.default_prevented()
}

#[wasm_bindgen_test]
async fn a_failed_save_is_retried_and_leaving_asks_first_meanwhile() {
    // Another test's leftover listener would ask too: then "no longer asks" cannot be seen.
    let others_ask = leaving_asks_first();
    let drafts = Drafts::open_named(&fresh_name("retry")).await.unwrap();
    let saved = drafts.save(&sample_series(1, 6)).await.unwrap();
    let autosaver = Autosaver::with_delay(drafts.clone(), 20);
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let sink = statuses.clone();
    autosaver.on_status(move |s| sink.borrow_mut().push(s.clone()));
    let mut edited = saved.clone();
    let shot = edited.shots().next().unwrap().id.clone();
    edited.edit_shot(&shot, tabs::now_ms(), drafts.tab_id(), |s| {
        s.action = "磁盘满时的修改".into()
    });
    drafts.fail_next_write(StorageError::QuotaExceeded);
    autosaver.schedule(edited);
    if !others_ask {
        assert!(
            !leaving_asks_first(),
            "a pending save is journaled: no question"
        );
    }
    sleep(300).await;
    let failed = SaveStatus::Error(DraftError::Storage(StorageError::QuotaExceeded));
    assert_eq!(autosaver.status(), failed, "the error is shown");
    assert!(autosaver.has_unsaved());
    assert!(
        leaving_asks_first(),
        "the disk refused the edit: leaving asks first"
    );
    assert_eq!(drafts.load(&saved.id).await.unwrap(), saved);

    // No other edit, no flush: the retry after 1 s saves it.
    for _ in 0..60 {
        if matches!(autosaver.status(), SaveStatus::Saved { .. }) {
            break;
        }
        sleep(50).await;
    }
    assert!(matches!(autosaver.status(), SaveStatus::Saved { .. }));
    assert!(!autosaver.has_unsaved());
    assert_eq!(
        drafts
            .load(&saved.id)
            .await
            .unwrap()
            .shot(&shot)
            .unwrap()
            .action,
        "磁盘满时的修改"
    );
    let seen = statuses.borrow().clone();
    let first_error = seen.iter().position(|s| *s == failed).unwrap();
    assert!(
        seen[first_error..].contains(&SaveStatus::Saving),
        "{seen:?}"
    );
    assert_eq!(seen.iter().filter(|s| **s == failed).count(), 1, "{seen:?}");
    if !others_ask {
        assert!(!leaving_asks_first(), "saved: leaving asks nothing");
    }
    drafts.close();
}

#[wasm_bindgen_test]
async fn the_browser_is_asked_once_to_store_persistently() {
    // Any question an earlier test's create asked has been answered by now.
    sleep(200).await;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let key = format!("duanju.{PERSIST_PREF}");
    storage.remove_item(&key).unwrap();
    assert_eq!(Persistence::stored(), None);

    let drafts = Drafts::open_named(&fresh_name("persist")).await.unwrap();
    let heard = Rc::new(RefCell::new(Vec::new()));
    let sink = heard.clone();
    drafts.on_event(move |event| {
        if let DraftsEvent::Persisted(answer) = event {
            sink.borrow_mut().push(*answer);
        }
    });
    drafts.create("第一个项目").await.unwrap();
    for _ in 0..100 {
        if !heard.borrow().is_empty() {
            break;
        }
        sleep(20).await;
    }
    let answers = heard.borrow().clone();
    assert_eq!(answers.len(), 1, "asked after the first create");
    assert_eq!(Persistence::stored(), Some(answers[0]));
    drafts.create("第二个项目").await.unwrap();
    sleep(200).await;
    assert_eq!(heard.borrow().len(), 1, "asked once");

    let granted = Persistence::Granted;
    assert!(granted.message(Lang::En).contains("stored persistently"));
    assert!(granted.message(Lang::ZhCn).contains("持久保存"));
    let refused = Persistence::Refused;
    assert!(refused
        .message(Lang::En)
        .contains("Export workspace backup"));
    assert!(refused.message(Lang::ZhCn).contains("导出工作区备份"));
    drafts.close();
}
