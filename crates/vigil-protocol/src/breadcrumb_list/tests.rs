//! Unit tests of the breadcrumb list, and a model test against a plain
//! vector.

use std::sync::Arc;

use super::Breadcrumbs;
use crate::breadcrumb::Breadcrumb;
use crate::limits::fields::interfaces::trim_breadcrumb;

fn crumb(i: usize) -> Breadcrumb {
    Breadcrumb::message(i.to_string())
}

fn messages(list: &Breadcrumbs) -> Vec<String> {
    list.iter().map(|c| c.message.clone().unwrap()).collect()
}

#[test]
fn capped_push_keeps_newest_in_order() {
    let mut b = Breadcrumbs::new();
    for i in 0..10 {
        b.push_capped(crumb(i), 3);
    }
    assert_eq!(messages(&b), ["7", "8", "9"]);
    b.push_capped(crumb(10), 0);
    assert!(b.is_empty());
}

/// A full list reuses the allocation of the entry it drops, but never one
/// that an event (a copy of the list) still holds; and the reused entry
/// starts with an empty JSON cache.
#[test]
fn a_full_list_reuses_only_entries_nobody_else_holds() {
    let mut b = Breadcrumbs::new();
    for i in 0..3 {
        b.push_capped(crumb(i), 3);
    }
    let oldest = Arc::as_ptr(b.entries().next().unwrap());
    b.push_capped(crumb(3), 3);
    assert_eq!(messages(&b), ["1", "2", "3"]);
    assert_eq!(Arc::as_ptr(b.entries().last().unwrap()), oldest, "reused");
    let json = serde_json::to_value(&b).unwrap();
    let last = json.get("values").unwrap_or(&json)[2].clone();
    assert_eq!(last["message"], serde_json::json!("3"), "{json}");

    let event = b.clone();
    // The copy shares the deque: the list writes beside it from now on.
    b.push_capped(crumb(4), 3);
    b.push_capped(crumb(5), 3);
    // A deque of its own again, still holding "3", which the event holds
    // too: dropping it must not lend its allocation.
    b.entries_mut();
    for i in 6..9 {
        b.push_capped(crumb(i), 3);
    }
    assert_eq!(messages(&event), ["1", "2", "3"]);
    assert_eq!(messages(&b), ["6", "7", "8"]);
}

#[test]
fn a_clone_shares_and_diverges() {
    let mut parent = Breadcrumbs::new();
    for i in 0..20 {
        parent.push_capped(crumb(i), 100);
    }
    let mut child = parent.clone();
    assert!(child.shares_storage_with(&parent));
    child.push_capped(crumb(99), 100);
    assert!(!child.shares_storage_with(&parent));
    assert_eq!((child.len(), parent.len()), (21, 20));
    assert_eq!(messages(&child.added_since(&parent).unwrap()), ["99"]);
    assert!(parent.added_since(&child).is_none());
    // The breadcrumbs themselves are shared, not copied.
    let a = parent.entries().next().unwrap();
    let b = child.entries().next().unwrap();
    assert!(Arc::ptr_eq(a, b));
}

#[test]
fn added_since_survives_dropping_the_oldest() {
    let mut base = Breadcrumbs::new();
    for i in 0..3 {
        base.push_capped(crumb(i), 3);
    }
    let mut edited = base.clone();
    edited.push_capped(crumb(3), 3);
    edited.push_capped(crumb(4), 3);
    assert_eq!(messages(&edited.added_since(&base).unwrap()), ["3", "4"]);
    let mut cleared = base.clone();
    cleared.clear();
    cleared.push(crumb(7));
    assert!(cleared.added_since(&base).is_none());
    assert!(base.added_since(&Breadcrumbs::new()).is_some());
}

#[test]
fn iter_mut_copies_only_this_list() {
    let mut a: Breadcrumbs = vec![crumb(1), crumb(2)].into();
    let b = a.clone();
    for c in a.iter_mut() {
        c.message = Some("changed".into());
    }
    assert_eq!(messages(&a), ["changed", "changed"]);
    assert_eq!(messages(&b), ["1", "2"]);
}

#[test]
fn cached_json_matches_fresh_json_and_follows_changes() {
    // Compared as text: parsing floats back may differ in the last bit.
    let mut list: Breadcrumbs = vec![crumb(1), crumb(2)].into();
    let fresh = format!(
        r#"{{"values":[{},{}]}}"#,
        serde_json::to_string(list.iter().next().unwrap()).unwrap(),
        serde_json::to_string(list.iter().nth(1).unwrap()).unwrap(),
    );
    let first = serde_json::to_string(&list).unwrap();
    let second = serde_json::to_string(&list).unwrap();
    assert_eq!(first, fresh);
    assert_eq!(second, fresh);
    let shared = list.clone();
    list.iter_mut().next().unwrap().message = Some("edited".into());
    let edited: serde_json::Value = serde_json::to_value(&list).unwrap();
    assert_eq!(edited["values"][0]["message"], "edited");
    let untouched: serde_json::Value = serde_json::to_value(&shared).unwrap();
    assert_eq!(untouched["values"][0]["message"], "1");
}

#[test]
fn round_trips_and_reads_both_wire_forms() {
    // Float timestamps round to the microsecond: compare the JSON.
    let list: Breadcrumbs = vec![crumb(1), crumb(2)].into();
    let json = serde_json::to_value(&list).unwrap();
    let back: Breadcrumbs = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    let bare = serde_json::to_value(list.to_vec()).unwrap();
    let back: Breadcrumbs = serde_json::from_value(bare).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn added_breadcrumbs_are_fitted_and_changed_ones_refitted() {
    let long = "x".repeat(200);
    let mut list = Breadcrumbs::new();
    list.push(Breadcrumb {
        ty: long.clone().into(),
        ..Breadcrumb::default()
    });
    assert!(list.last().unwrap().ty.chars().count() <= 128);
    list.iter_mut().next().unwrap().ty = long.into();
    list.fit_changed(trim_breadcrumb);
    assert!(list.last().unwrap().ty.chars().count() <= 128);
}

#[test]
fn retain_and_keep_newest() {
    let mut list: Breadcrumbs = (0..6).map(crumb).collect();
    list.retain(|c| c.message.as_deref() != Some("2"));
    assert_eq!(messages(&list), ["0", "1", "3", "4", "5"]);
    list.keep_newest(2);
    assert_eq!(messages(&list), ["4", "5"]);
    list.keep_newest(0);
    assert!(list.is_empty());
}

mod model {
    //! The list checked against a plain vector under random edits, with a
    //! second list sharing its storage.

    use proptest::prelude::*;

    use crate::breadcrumb::Breadcrumb;
    use crate::breadcrumb_list::Breadcrumbs;

    #[derive(Clone, Debug)]
    enum Op {
        Push(usize, u8),
        PushOther(usize, u8),
        CopyToOther,
        CopyFromOther,
        KeepNewest(usize),
        AppendOther,
        Retain(u8),
        Clear,
        Edit,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Caps above `OWN_MAX` make a copied list fold its own part.
            4 => prop_oneof![1usize..12, 30usize..50].prop_flat_map(|m| any::<u8>().prop_map(move |v| Op::Push(m, v))),
            2 => (1usize..12, any::<u8>()).prop_map(|(m, v)| Op::PushOther(m, v)),
            1 => Just(Op::CopyToOther),
            1 => Just(Op::CopyFromOther),
            1 => (0usize..10).prop_map(Op::KeepNewest),
            1 => Just(Op::AppendOther),
            1 => (2u8..5).prop_map(Op::Retain),
            1 => Just(Op::Clear),
            1 => Just(Op::Edit),
        ]
    }

    fn crumb(v: u8) -> Breadcrumb {
        Breadcrumb::message(v.to_string())
    }

    fn push_capped(model: &mut Vec<String>, v: u8, max: usize) {
        model.push(v.to_string());
        if model.len() > max {
            model.drain(..model.len() - max);
        }
    }

    fn check(list: &Breadcrumbs, model: &[String]) {
        let got: Vec<String> = list.iter().map(|c| c.message.clone().unwrap()).collect();
        assert_eq!(got, model);
        assert_eq!(list.len(), model.len());
        assert_eq!(list.iter().len(), model.len());
        let back: Vec<String> = list
            .iter()
            .rev()
            .map(|c| c.message.clone().unwrap())
            .collect();
        assert!(back.iter().eq(model.iter().rev()));
        for (i, m) in model.iter().enumerate() {
            assert_eq!(list.get(i).and_then(|c| c.message.as_ref()), Some(m));
        }
        assert!(list.get(model.len()).is_none());
        assert_eq!(list.last().and_then(|c| c.message.as_ref()), model.last());
        let json = serde_json::to_string(list).unwrap();
        let fresh: Breadcrumbs = list.to_vec().into();
        assert_eq!(json, serde_json::to_string(&fresh).unwrap());
    }

    proptest! {
        #[test]
        fn behaves_like_a_vector(ops in proptest::collection::vec(op(), 0..120)) {
            let (mut a, mut b) = (Breadcrumbs::new(), Breadcrumbs::new());
            let (mut ma, mut mb): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
            for op in ops {
                match op {
                    Op::Push(max, v) => {
                        a.push_capped(crumb(v), max);
                        push_capped(&mut ma, v, max);
                    }
                    Op::PushOther(max, v) => {
                        b.push_capped(crumb(v), max);
                        push_capped(&mut mb, v, max);
                    }
                    Op::CopyToOther => {
                        b = a.clone();
                        mb = ma.clone();
                    }
                    Op::CopyFromOther => {
                        a = b.clone();
                        ma = mb.clone();
                    }
                    Op::KeepNewest(n) => {
                        a.keep_newest(n);
                        if ma.len() > n {
                            ma.drain(..ma.len() - n);
                        }
                    }
                    Op::AppendOther => {
                        a.append(b.clone());
                        ma.extend(mb.iter().cloned());
                    }
                    Op::Retain(m) => {
                        let keep = |s: &str| s.parse::<u32>().unwrap() % u32::from(m) != 0;
                        a.retain(|c| keep(c.message.as_deref().unwrap()));
                        ma.retain(|s| keep(s));
                    }
                    Op::Clear => {
                        a.clear();
                        ma.clear();
                    }
                    Op::Edit => {
                        for c in a.iter_mut() {
                            let v: u32 = c.message.as_deref().unwrap().parse().unwrap();
                            c.message = Some((v + 1).to_string());
                        }
                        for s in &mut ma {
                            *s = (s.parse::<u32>().unwrap() + 1).to_string();
                        }
                    }
                }
                check(&a, &ma);
                check(&b, &mb);
            }
        }

        #[test]
        fn added_since_finds_the_appended(
            base_len in 0usize..15,
            added in 0usize..15,
            max in 1usize..20,
        ) {
            let mut base = Breadcrumbs::new();
            for i in 0..base_len {
                base.push_capped(crumb(i as u8), max);
            }
            let mut edited = base.clone();
            for i in 0..added {
                edited.push_capped(crumb(100 + i as u8), max);
            }
            let got = edited.added_since(&base);
            if base.is_empty() || added < max {
                let got = got.expect("extends base");
                let want = added.min(max);
                prop_assert_eq!(got.len(), want);
                prop_assert!(got.iter().all(|c| c.message.as_deref().unwrap().parse::<u32>().unwrap() >= 100));
            } else {
                // Every breadcrumb of base was dropped: nothing to anchor on.
                prop_assert!(got.is_none());
            }
        }
    }
}
