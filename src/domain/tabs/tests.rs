//! Two tabs' edits of the shared settings, and two tabs spending one project's budget.

use std::collections::BTreeMap;

use super::budget_share::*;
use super::settings::*;
use crate::domain::batch::{Batch, BatchConfig, BatchItem, Limits, Pricing};
use crate::domain::cost::estimate::PriceBook;
use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::{Currency, Micros, Money, Percent};
use crate::domain::cost::pricing::PriceSet;
use crate::domain::cost::profile::{Cost, ExchangeRate, Profile};
use crate::domain::i18n::Lang;
use crate::domain::project::Budget;
use crate::domain::provider::connection::{
    ApiKey, Connection, ConnectionLimits, Preset, Protocol, SANDBOX_KEY,
};
use crate::domain::provider::routing::{RouteTable, TaskType};

// ---------------------------------------------------------------- values and lists

#[test]
fn a_value_is_this_tabs_where_it_edited_it_else_the_stored_one() {
    assert_eq!(
        three_way(Some(&1), &1, &2),
        2,
        "not edited here: the stored value"
    );
    assert_eq!(
        three_way(Some(&1), &3, &2),
        3,
        "edited here: this tab's edit, written last"
    );
    assert_eq!(three_way(Some(&1), &3, &1), 3);
    assert_eq!(three_way(None, &3, &2), 3, "new to both: this tab's");
}

/// Entries `(id, value)`.
fn merge(base: &[(u8, &str)], mine: &[(u8, &str)], theirs: &[(u8, &str)]) -> Vec<(u8, String)> {
    let own = |list: &[(u8, &str)]| -> Vec<(u8, String)> {
        list.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    merge_keyed(&own(base), &own(mine), &own(theirs), |e| e.0, three_way)
}

#[test]
fn lists_merge_entry_by_entry() {
    let base = [(1, "a"), (2, "b"), (3, "c")];
    let check = |mine: &[(u8, &str)], theirs: &[(u8, &str)], expect: &[(u8, &str)], why: &str| {
        let expect: Vec<(u8, String)> = expect.iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(merge(&base, mine, theirs), expect, "{why}");
    };
    check(&base, &base, &base, "nothing changed");
    check(
        &[(1, "a"), (2, "b"), (3, "c"), (4, "mine")],
        &[(1, "a"), (2, "b"), (3, "c"), (5, "theirs")],
        &[(1, "a"), (2, "b"), (3, "c"), (5, "theirs"), (4, "mine")],
        "both added: the stored order, then this tab's",
    );
    check(
        &[(1, "A"), (2, "b"), (3, "c")],
        &[(1, "a"), (2, "B"), (3, "c")],
        &[(1, "A"), (2, "B"), (3, "c")],
        "each edited another entry",
    );
    check(
        &[(1, "mine"), (2, "b"), (3, "c")],
        &[(1, "theirs"), (2, "b"), (3, "c")],
        &[(1, "mine"), (2, "b"), (3, "c")],
        "both edited one entry: the edit written last",
    );
    check(
        &[(2, "b"), (3, "c")],
        &[(1, "theirs"), (2, "b"), (3, "c")],
        &[(2, "b"), (3, "c")],
        "removed here while edited there: removing is the later edit",
    );
    check(
        &base,
        &[(1, "a"), (3, "c")],
        &[(1, "a"), (3, "c")],
        "removed there, untouched here: stays removed",
    );
    check(
        &[(1, "a"), (2, "mine"), (3, "c")],
        &[(1, "a"), (3, "c")],
        &[(1, "a"), (3, "c"), (2, "mine")],
        "removed there, edited here since: the edit is later",
    );
    check(
        &[(1, "a"), (2, "b"), (3, "c"), (9, "mine")],
        &[(1, "a"), (2, "b"), (3, "c"), (9, "theirs")],
        &[(1, "a"), (2, "b"), (3, "c"), (9, "mine")],
        "the same new id in both: this tab's",
    );
}

// ---------------------------------------------------------------- connections

fn conn(id: &str, name: &str, url: &str) -> Connection {
    let mut c = Connection::from_preset(id, Preset::Custom, Profile::RELAY_MARKET, Lang::En);
    c.name = name.into();
    c.base_url = url.into();
    c
}

fn record(list: Vec<Connection>, active: Option<&str>, keys: &[(&str, &str)]) -> ConnectionsRecord {
    ConnectionsRecord {
        list,
        active: active.map(str::to_string),
        keys: keys
            .iter()
            .map(|(id, key)| (id.to_string(), ApiKey::new(key)))
            .collect(),
    }
}

fn names(record: &ConnectionsRecord) -> Vec<String> {
    record
        .list
        .iter()
        .map(|c| format!("{}={}", c.id, c.name))
        .collect()
}

#[test]
fn a_stale_tab_adding_and_renaming_keeps_the_connection_another_tab_added() {
    let z = conn("z", "Zed", "https://z.example.com/v1");
    let base = record(vec![z.clone()], Some("z"), &[]);
    // Tab A added X (and made it active); tab B, opened before, added Y and renamed Z.
    let mut theirs = base.clone();
    theirs.list.push(conn("x", "X", "https://x.example.com/v1"));
    theirs.active = Some("x".into());
    let mut mine = base.clone();
    mine.list[0].name = "Zed (renamed)".into();
    mine.list.push(conn("y", "Y", "https://y.example.com/v1"));
    mine.active = Some("y".into());
    let merged = merge_connections(&base, &mine, &theirs);
    assert_eq!(names(&merged), ["z=Zed (renamed)", "x=X", "y=Y"]);
    assert_eq!(
        merged.active.as_deref(),
        Some("y"),
        "the active pick written last"
    );

    // And the other way round: A's later write onto B's result loses nothing either.
    let again = merge_connections(&theirs, &theirs, &merged);
    assert_eq!(again, merged);
}

#[test]
fn connections_merge_field_by_field() {
    let base = record(
        vec![conn("c", "C", "https://c.example.com/v1")],
        Some("c"),
        &[],
    );
    let mut mine = base.clone();
    mine.list[0].name = "renamed here".into();
    let mut theirs = base.clone();
    theirs.list[0].price_profile_id = Profile::OFFICIAL.into();
    theirs.list[0].name = "renamed there".into();
    let merged = merge_connections(&base, &mine, &theirs);
    assert_eq!(
        merged.list[0].name, "renamed here",
        "the same field: the later edit"
    );
    assert_eq!(
        merged.list[0].price_profile_id,
        Profile::OFFICIAL,
        "another field: kept"
    );
    assert_eq!(merged.list[0].base_url, "https://c.example.com/v1");
}

#[test]
fn protocols_model_ids_and_limits_merge_like_the_other_fields() {
    let mut c = conn("c", "C", "https://c.example.com/v1");
    c.set_model_id("gemini-2.5-flash", "google/gemini-2.5-flash")
        .unwrap();
    c.set_model_id("gpt-4.1", "openai/gpt-4.1").unwrap();
    let base = record(vec![c], Some("c"), &[]);
    let limits = |rpm| ConnectionLimits {
        rpm: Some(rpm),
        ..ConnectionLimits::UNKNOWN
    };

    // Here: Messages, one mapping added, one removed, rpm 60.
    let mut mine = base.clone();
    let ours = &mut mine.list[0];
    ours.set_protocol(Protocol::AnthropicMessages);
    ours.set_model_id("claude-sonnet-4.5", "claude-sonnet-4-5-20250929")
        .unwrap();
    ours.clear_model_id("gpt-4.1");
    ours.set_limits(limits(60)).unwrap();
    // There: another mapping added, one changed; protocol and limits untouched.
    let mut theirs = base.clone();
    let stored = &mut theirs.list[0];
    stored
        .set_model_id("deepseek-v3.2", "deepseek/deepseek-v3.2")
        .unwrap();
    stored
        .set_model_id("gemini-2.5-flash", "google/gemini-2.5-flash-001")
        .unwrap();

    let merged = &merge_connections(&base, &mine, &theirs).list[0];
    assert_eq!(merged.protocol(), Protocol::AnthropicMessages);
    assert_eq!(merged.limits(), limits(60));
    let ids: Vec<(&str, &str)> = merged
        .model_ids
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("claude-sonnet-4.5", "claude-sonnet-4-5-20250929"),
            ("deepseek-v3.2", "deepseek/deepseek-v3.2"),
            ("gemini-2.5-flash", "google/gemini-2.5-flash-001"),
        ],
        "added here and there kept, removed here gone, changed there kept"
    );

    // The same mapping and the limits edited in both tabs: this tab's (the later) edit wins.
    let mut mine2 = base.clone();
    mine2.list[0]
        .set_model_id("gemini-2.5-flash", "gemini-flash-here")
        .unwrap();
    mine2.list[0].set_limits(limits(30)).unwrap();
    let mut theirs2 = base.clone();
    theirs2.list[0]
        .set_model_id("gemini-2.5-flash", "gemini-flash-there")
        .unwrap();
    theirs2.list[0].set_limits(limits(90)).unwrap();
    theirs2.list[0].set_protocol(Protocol::AnthropicMessages);
    let merged2 = &merge_connections(&base, &mine2, &theirs2).list[0];
    assert_eq!(merged2.model_id("gemini-2.5-flash"), "gemini-flash-here");
    assert_eq!(merged2.limits(), limits(30));
    assert_eq!(
        merged2.protocol(),
        Protocol::AnthropicMessages,
        "untouched here: kept"
    );

    // Untouched in this tab: the stored values stay, whatever they are.
    let merged3 = merge_connections(&base, &base, &theirs2);
    assert_eq!(merged3.list[0], theirs2.list[0]);
}

#[test]
fn the_active_connection_falls_back_to_the_first_when_it_is_gone() {
    let base = record(
        vec![
            conn("a", "A", "https://a.example.com/v1"),
            conn("b", "B", "https://b.example.com/v1"),
        ],
        Some("b"),
        &[],
    );
    // Another tab removed B; this tab only renamed A.
    let mut theirs = base.clone();
    theirs.list.truncate(1);
    theirs.active = Some("a".into());
    let mut mine = base.clone();
    mine.list[0].name = "A2".into();
    let merged = merge_connections(&base, &mine, &theirs);
    assert_eq!(names(&merged), ["a=A2"]);
    assert_eq!(merged.active.as_deref(), Some("a"));
    // This tab removed the active one: the first that is left.
    let mut mine = base.clone();
    mine.list.remove(1);
    let merged = merge_connections(&base, &mine, &base);
    assert_eq!(merged.active.as_deref(), Some("a"));
}

#[test]
fn remembered_keys_merge_by_connection_and_only_while_remembered() {
    let mut a = conn("a", "A", "https://a.example.com/v1");
    a.remember_key = true;
    let mut b = conn("b", "B", "https://b.example.com/v1");
    b.remember_key = true;
    let base = record(vec![a.clone(), b.clone()], Some("a"), &[("a", "sk-a-old")]);
    // This tab pasted a new key for A; the other tab remembered one for B.
    let mut mine = base.clone();
    mine.keys.insert("a".into(), ApiKey::new("sk-a-new"));
    let mut theirs = base.clone();
    theirs.keys.insert("b".into(), ApiKey::new("sk-b"));
    let merged = merge_connections(&base, &mine, &theirs);
    let keys: BTreeMap<&str, &str> = merged
        .keys
        .iter()
        .map(|(id, key)| (id.as_str(), key.expose()))
        .collect();
    assert_eq!(keys, BTreeMap::from([("a", "sk-a-new"), ("b", "sk-b")]));

    // The other tab unticked "remember" on B: its key is not stored, whatever this tab held.
    let mut theirs = base.clone();
    theirs.list[1].remember_key = false;
    let mut mine = base.clone();
    mine.keys.insert("b".into(), ApiKey::new("sk-b"));
    let merged = merge_connections(&base, &mine, &theirs);
    assert!(!merged.keys.contains_key("b"));
    assert!(
        !format!("{merged:?}").contains("sk-"),
        "Debug never shows a key"
    );
}

#[test]
fn a_key_is_never_stored_for_an_origin_another_tab_moved_its_connection_to() {
    let mut a = conn("a", "A", "https://a.example.com/v1");
    a.remember_key = true;
    let base = record(vec![a], Some("a"), &[]);
    // The other tab moved A to another site (and so dropped its key there); this tab, not
    // knowing, pasted a key for the old site.
    let mut theirs = base.clone();
    theirs.list[0].base_url = "https://elsewhere.example.net/v1".into();
    let mut mine = base.clone();
    mine.keys
        .insert("a".into(), ApiKey::new("sk-for-a-example-com"));
    let merged = merge_connections(&base, &mine, &theirs);
    assert_eq!(merged.list[0].base_url, "https://elsewhere.example.net/v1");
    assert!(
        merged.keys.is_empty(),
        "the key stays with the origin it was pasted for"
    );

    // The same origin, another path: the key may stay.
    let mut theirs = base.clone();
    theirs.list[0].base_url = "https://a.example.com/v2".into();
    let merged = merge_connections(&base, &mine, &theirs);
    assert_eq!(merged.keys["a"].expose(), "sk-for-a-example-com");

    // A key the other tab stored with its URL stays when this tab edits something else.
    let stored = record(theirs.list.clone(), Some("a"), &[("a", "sk-stored-there")]);
    let mut mine = stored.clone();
    mine.list[0].name = "A renamed".into();
    let merged = merge_connections(&stored, &mine, &stored);
    assert_eq!(merged.keys["a"].expose(), "sk-stored-there");
}

#[test]
fn keys_in_memory_go_when_their_connection_moves_elsewhere_or_goes() {
    let before = vec![
        conn("a", "A", "https://a.example.com/v1"),
        conn("b", "B", "https://b.example.com/v1"),
        conn("c", "C", "https://c.example.com/v1"),
    ];
    let mut sandbox = Connection::from_preset("s", Preset::LocalSandbox, Profile::RELAY, Lang::En);
    sandbox.base_url = "http://127.0.0.1:8787/v1".into();
    let mut with_sandbox = before.clone();
    with_sandbox.push(sandbox.clone());
    let mut after = with_sandbox.clone();
    after[0].base_url = "https://a.example.com/v1".into(); // unchanged
    after[1].base_url = "https://evil.example.net/v1".into(); // another origin
    after.remove(2); // C removed
    after[2].base_url = "http://127.0.0.1:9999/v1".into(); // the sandbox's public key may follow
    let mut moved = after.clone();
    moved[0].base_url = "https://a.example.com/v2".into(); // changed there: read again from storage
    let keys: BTreeMap<String, ApiKey> = [
        ("a", "sk-a"),
        ("b", "sk-b"),
        ("c", "sk-c"),
        ("s", SANDBOX_KEY),
    ]
    .iter()
    .map(|(id, key)| (id.to_string(), ApiKey::new(key)))
    .collect();
    assert_eq!(keys_to_forget(&with_sandbox, &after, &keys), ["b", "c"]);
    assert_eq!(
        keys_to_forget(&with_sandbox, &moved, &keys),
        ["a", "b", "c"]
    );
}

// ---------------------------------------------------------------- the price book

fn price_of(book: &PriceBook, set: &str, model: &str) -> Option<Micros> {
    book.price_set(set)?.get(model)?.input_per_mtok
}

fn set_price(book: &mut PriceBook, set: &str, model: &str, whole: i64) {
    let set = book.price_sets.iter_mut().find(|s| s.id == set).unwrap();
    let mut price = set.get(model).unwrap().clone();
    price.input_per_mtok = Some(Micros::whole(whole));
    set.upsert(price).unwrap();
}

#[test]
fn two_tabs_pricing_different_models_keep_both_prices() {
    let base = PriceBook::defaults();
    let mut mine = base.clone();
    set_price(&mut mine, "seed", "gpt-4.1", 11);
    let mut theirs = base.clone();
    set_price(&mut theirs, "seed", "deepseek-v3.2", 22);
    let merged = merge_book(&base, &mine, &theirs);
    assert_eq!(
        price_of(&merged, "seed", "gpt-4.1"),
        Some(Micros::whole(11))
    );
    assert_eq!(
        price_of(&merged, "seed", "deepseek-v3.2"),
        Some(Micros::whole(22))
    );
    // The same model in both: the price written last.
    set_price(&mut theirs, "seed", "gpt-4.1", 33);
    let merged = merge_book(&base, &mine, &theirs);
    assert_eq!(
        price_of(&merged, "seed", "gpt-4.1"),
        Some(Micros::whole(11))
    );
    assert_eq!(
        price_of(&merged, "seed", "deepseek-v3.2"),
        Some(Micros::whole(22))
    );
}

#[test]
fn profiles_merge_field_by_field_and_routes_task_by_task() {
    let base = PriceBook::defaults();
    let id = base.profiles[0].id.clone();
    let mut mine = base.clone();
    mine.profiles[0].markup = Percent::parse("12.5").unwrap();
    let mut route = mine.routes.route(TaskType::Storyboard).clone();
    route.model = "gpt-4.1".into();
    mine.routes = RouteTable::new(
        mine.routes
            .routes()
            .iter()
            .map(|r| {
                if r.task == TaskType::Storyboard {
                    route.clone()
                } else {
                    r.clone()
                }
            })
            .collect(),
    )
    .unwrap();
    let mut theirs = base.clone();
    theirs.profiles[0].exchange_rate = ExchangeRate::MARKET;
    theirs.routes = RouteTable::official_rollback();
    let merged = merge_book(&base, &mine, &theirs);
    let profile = merged.profile(&id).unwrap();
    assert_eq!(profile.markup, Percent::parse("12.5").unwrap());
    assert_eq!(profile.exchange_rate, ExchangeRate::MARKET);
    assert_eq!(merged.routes.route(TaskType::Storyboard).model, "gpt-4.1");
    assert_eq!(
        merged.routes.route(TaskType::ScriptDraft),
        RouteTable::official_rollback().route(TaskType::ScriptDraft),
        "the other tab's routes for the tasks this tab left alone"
    );
}

#[test]
fn a_price_set_another_tab_added_survives_a_reset_here() {
    let base = PriceBook::defaults();
    let mut theirs = base.clone();
    theirs.price_sets.push(PriceSet {
        id: "mine-relay".into(),
        name: "My relay".into(),
        prices: Vec::new(),
    });
    let mut mine = base.clone();
    set_price(&mut mine, "seed", "gpt-4.1", 11);
    mine.price_sets = PriceSet::defaults(); // "Reset prices", from this tab's copy
    let merged = merge_book(&base, &mine, &theirs);
    assert!(merged.price_set("mine-relay").is_some());
    assert_eq!(merged.price_sets.len(), base.price_sets.len() + 1);
}

// ---------------------------------------------------------------- one budget, two tabs

fn usd(micros: i128) -> Money {
    Money::from_micros(Currency::Usd, micros)
}

/// An amount in both currencies at ¥7 = $1.
fn cost(micros: i128) -> Cost {
    Cost {
        usd: usd(micros),
        cny: Money::from_micros(Currency::Cny, micros * 7),
    }
}

fn budget(dollars: i64) -> Budget {
    Budget {
        currency: Currency::Usd,
        amount: Micros::whole(dollars),
    }
}

fn ask<'a>(works: &'a [WorkShare], spent: Cost) -> ClaimAsk<'a> {
    ClaimAsk {
        project: "p".into(),
        budget: budget(1),
        ledger_spent: spent,
        works,
    }
}

fn needing(micros: i128) -> [WorkShare; 1] {
    [WorkShare::starting(cost(micros))]
}

#[test]
fn the_second_tab_gets_only_what_the_first_did_not_claim() {
    let a = renew_claims("A", &[ask(&needing(700_000), Cost::ZERO)], &[], 0.0);
    assert_eq!(a.granted("p"), Some(usd(700_000)));
    let b = renew_claims(
        "B",
        &[ask(&needing(700_000), Cost::ZERO)],
        std::slice::from_ref(&a),
        1.0,
    );
    assert_eq!(b.granted("p"), Some(usd(300_000)));
    // A third tab finds nothing left.
    let c = renew_claims(
        "C",
        &[ask(&needing(100_000), Cost::ZERO)],
        &[a.clone(), b.clone()],
        2.0,
    );
    assert_eq!(c.granted("p"), Some(usd(0)));
    // A's renewal never takes back what B claimed, whatever A now needs.
    let a2 = renew_claims(
        "A",
        &[ask(&needing(900_000), Cost::ZERO)],
        &[a, b.clone()],
        3.0,
    );
    assert_eq!(a2.granted("p"), Some(usd(700_000)));
    // Together they never pass the budget.
    let total = a2.granted("p").unwrap() + b.granted("p").unwrap();
    assert!(total <= budget(1).money());
}

#[test]
fn spend_in_the_ledger_counts_once_inside_or_outside_the_claims() {
    // Another tab's claim of $0.50 holds $0.20 it has seen stored; the ledger holds $0.30 for
    // the project: $0.20 of it inside that claim, $0.10 outside every claim.
    let theirs = TabClaims {
        tab: "A".into(),
        at_ms: 0.0,
        claims: vec![Claim {
            project: "p".into(),
            currency: Currency::Usd,
            claimed: usd(500_000).units(),
            settled: usd(200_000).units(),
        }],
    };
    let b = renew_claims(
        "B",
        &[ask(&needing(900_000), cost(300_000))],
        std::slice::from_ref(&theirs),
        1.0,
    );
    assert_eq!(
        b.granted("p"),
        Some(usd(400_000)),
        "$1 − $0.10 outside − $0.50 claimed"
    );
    // Once A's claim lapses (A closed without saying so), its settled spend is outside.
    let later = theirs.at_ms + CLAIM_TTL_MS + 1.0;
    let b = renew_claims(
        "B",
        &[ask(&needing(900_000), cost(300_000))],
        &[theirs],
        later,
    );
    assert_eq!(
        b.granted("p"),
        Some(usd(700_000)),
        "$1 − $0.30 in the ledger"
    );
}

#[test]
fn a_claim_never_drops_below_what_the_work_committed() {
    // B's batch already committed $0.40, then A's claim came (a lowered budget, say): B keeps
    // what it committed and gets nothing more.
    let work = [WorkShare {
        committed: cost(400_000),
        ahead: cost(500_000),
        ..WorkShare::default()
    }];
    let a = renew_claims("A", &[ask(&needing(1_000_000), Cost::ZERO)], &[], 0.0);
    let b = renew_claims("B", &[ask(&work, Cost::ZERO)], &[a], 1.0);
    assert_eq!(b.granted("p"), Some(usd(400_000)));
}

#[test]
fn a_claim_in_another_currency_leaves_nothing_to_claim_until_renewed() {
    let a = TabClaims {
        tab: "A".into(),
        at_ms: 0.0,
        claims: vec![Claim {
            project: "p".into(),
            currency: Currency::Cny,
            claimed: 1,
            settled: 0,
        }],
    };
    let b = renew_claims("B", &[ask(&needing(100_000), Cost::ZERO)], &[a], 1.0);
    assert_eq!(b.granted("p"), Some(usd(0)));
}

#[test]
fn a_tab_dispatches_on_its_claim_only_while_it_is_fresh() {
    let a = renew_claims("A", &[ask(&needing(1), Cost::ZERO)], &[], 1_000.0);
    assert!(a.is_valid(1_000.0 + CLAIM_VALID_MS));
    assert!(!a.is_valid(1_000.0 + CLAIM_VALID_MS + 1.0));
    assert!(
        !a.is_stale(1_000.0 + CLAIM_VALID_MS + 1.0),
        "others still count it"
    );
    assert!(a.is_stale(1_000.0 + CLAIM_TTL_MS + 1.0));
    assert_eq!(a.granted("other project"), None);
}

fn priced_batch(n: usize) -> Batch {
    let items: Vec<BatchItem> = (0..n)
        .map(|i| BatchItem::chat(format!("i{i}"), "relay", "gpt-4.1", 1_000, 1_000))
        .collect();
    let mut config = BatchConfig::with_limits(Limits {
        max_concurrency: 2,
        ..Limits::default()
    });
    config.pricing = Some(Pricing::for_items(
        &PriceSet::list(),
        &Profile::defaults()[0],
        &items,
    ));
    Batch::new("b", items, config, 1).unwrap()
}

#[test]
fn a_batch_needs_what_it_committed_and_the_worst_case_of_what_is_left() {
    let mut batch = priced_batch(5);
    let worst = batch
        .config
        .pricing
        .as_ref()
        .unwrap()
        .worst_case(&batch.items[0], "gpt-4.1")
        .unwrap();
    let share = WorkShare::of_batch(&batch, Cost::ZERO, Cost::ZERO);
    assert_eq!(share.used(Currency::Usd), usd(0));
    assert_eq!(share.need(Currency::Usd), worst.usd.times(5));
    // Two go out: committed at their worst case, three still ahead.
    assert_eq!(batch.next_actions(0.0).len(), 2);
    let share = WorkShare::of_batch(&batch, Cost::ZERO, Cost::ZERO);
    assert_eq!(share.used(Currency::Usd), worst.usd.times(2));
    assert_eq!(share.need(Currency::Usd), worst.usd.times(5));
    // Cancelled: nothing more will leave.
    batch.cancel();
    let share = WorkShare::of_batch(&batch, Cost::ZERO, Cost::ZERO);
    assert_eq!(share.need(Currency::Usd), share.used(Currency::Usd));
}

#[test]
fn a_batch_may_commit_its_tabs_claim_less_what_the_tabs_other_work_used() {
    let own = WorkShare {
        base: cost(100_000),
        committed: cost(300_000),
        ..WorkShare::default()
    };
    let other = WorkShare {
        base: cost(50_000),
        committed: cost(250_000),
        ..WorkShare::default()
    };
    // Claim $1; the other batch used $0.20 here: this one may reach $0.90 in all, its $0.10
    // from before the claim included (the engine counts its whole spend).
    assert_eq!(
        batch_allowance(usd(1_000_000), &own, &[other]),
        usd(900_000)
    );
}

fn ledger_entry(project: Option<&str>, usd_micros: i128) -> LedgerEntry {
    serde_json::from_value(serde_json::json!({
        "at_ms": 0.0, "day": "2025-01-01", "connection_id": "c", "connection_name": "C",
        "base_url": "https://c.example.com/v1", "model": "gpt-4.1", "task": "storyboard",
        "project": project, "prompt_tokens": 1, "cached_tokens": 0, "completion_tokens": 1,
        "reasoning_tokens": 0, "total_tokens": 2, "estimated": false, "latency_ms": 1.0,
        "cost_usd_units": usd(usd_micros).units(), "cost_cny_units": 0, "outcome": "ok",
    }))
    .unwrap()
}

#[test]
fn the_ledger_tally_reads_on_from_its_last_entry_and_notices_a_clear() {
    let mut tally = LedgerTally::default();
    assert_eq!(tally.last_key(), None);
    tally.add(1.0, &ledger_entry(Some("p"), 100));
    tally.add(2.0, &ledger_entry(None, 999));
    tally.add(3.0, &ledger_entry(Some("p"), 50));
    tally.skip(4.0);
    assert_eq!(tally.last_key(), Some(4.0));
    assert_eq!(tally.spent("p").usd, usd(150));
    assert_eq!(tally.spent("q"), Cost::ZERO);
    assert!(tally.still_holds(6, 2), "two more entries after the fourth");
    assert!(!tally.still_holds(2, 0), "the ledger was cleared since");
    assert_eq!(
        left_after(budget(1), tally.spent("p")),
        usd(1_000_000 - 150)
    );
}
