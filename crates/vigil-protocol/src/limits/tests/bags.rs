//! Data bags and JSON sizes.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::limits::bags::{fit_value, limit_depth};
use crate::limits::json_size::{json_size, serialized_size};

#[test]
fn floats_count_as_relay_writes_them() {
    assert_eq!(json_size(&json!(1.5e300)), 301);
    assert_eq!(json_size(&json!(0.1)), 3);
    assert_eq!(json_size(&json!(u64::MAX)), 20);
    let list = Value::Array(vec![json!(1.5e300); 20]);
    let mut fitted = list.clone();
    assert!(fit_value(&mut fitted, 2048));
    assert_eq!(fitted.as_array().unwrap().len(), 6);
}

#[test]
fn sizes_match_serde_json_without_floats() {
    let value = json!({
        "s": "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é €",
        "n": [1, -2, u64::MAX, i64::MIN, null, true, false],
        "o": {"": {}, "a": []},
    });
    assert_eq!(json_size(&value), serde_json::to_vec(&value).unwrap().len());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[a-z\"\\\\\n]{0,400}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 200, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..10).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn serialized_sizes_count_floats_as_relay_writes_them() {
    assert_eq!(serialized_size(&json!(1.5e300)), 301);
    assert_eq!(serialized_size(&1.5e30_f32), 31);
    assert_eq!(serialized_size(&json!({"a": [0.1, 1]})), 13);
}

proptest! {
    #[test]
    fn serialized_size_is_json_size(value in arb_json()) {
        prop_assert_eq!(serialized_size(&value), json_size(&value));
    }

    #[test]
    fn fitted_values_fit_their_budget(mut value in arb_json(), budget in 0usize..3000) {
        if fit_value(&mut value, budget) {
            prop_assert!(json_size(&value) <= budget);
        }
    }

    #[test]
    fn depth_limit_leaves_no_deep_containers(mut value in arb_json(), depth in 1usize..8) {
        limit_depth(&mut value, 1, depth);
        fn max_container_level(v: &Value, level: usize) -> usize {
            match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| max_container_level(i, level + 1))
                    .fold(level, usize::max),
                Value::Object(map) => map
                    .values()
                    .map(|i| max_container_level(i, level + 1))
                    .fold(level, usize::max),
                _ => 0,
            }
        }
        prop_assert!(max_container_level(&value, 1) < depth);
    }
}
