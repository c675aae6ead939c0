//! `testdata/field-cases/graph-mfa-method-types`: method lists that real tools misread.

use rollcall_core::model::{AuthMethod, MfaSummary, Strength};
use serde_json::Value;

use super::{account, import, testdata};

fn read_json(name: &str) -> serde_json::Map<String, Value> {
    let path = testdata("field-cases/graph-mfa-method-types").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(map) => map,
        other => panic!("{name} is not an object: {other}"),
    }
}

/// Reads one user's body as `users/<id>/authentication/methods.json`.
fn methods_of(user: &str, body: &Value) -> Vec<AuthMethod> {
    let path = format!("users/{user}/authentication/methods.json");
    let bytes = serde_json::to_vec(body).unwrap();
    let (snapshot, _) = import(&[(&path, &bytes)]);
    account(&snapshot, user).auth_methods.clone().unwrap()
}

fn users() -> Vec<(String, Value)> {
    read_json("methods-by-user.json").into_iter().filter(|(key, _)| !key.starts_with('_')).collect()
}

#[test]
fn summaries_match_expected() {
    let expected = read_json("expected.json");
    let users = users();
    assert_eq!(users.len(), 5);
    for (user, body) in users {
        let want = &expected[&user];
        let summary = MfaSummary::of(&methods_of(&user, &body), false);

        let capable = want["mfa_capable"].as_bool().unwrap();
        assert_eq!(summary.strongest != Strength::None, capable, "{user}");
        let strength = match want.get("strength").and_then(Value::as_str) {
            None => Strength::None,
            Some("standard_weak") => Strength::Weak,
            Some("phishing_resistant_available") => Strength::PhishingResistant,
            Some(other) => panic!("{user}: unknown strength {other}"),
        };
        assert_eq!(summary.strongest, strength, "{user}");
        assert!(!summary.usable_tap, "{user}");

        let unrecognized: Vec<String> = want
            .get("unrecognized_method_types")
            .and_then(Value::as_array)
            .map(|names| names.iter().map(|name| name.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        assert_eq!(summary.unrecognized, unrecognized, "{user}");
    }
}

#[test]
fn phone_only_user_is_weak() {
    let user = "8f3b0000-5555-4666-8777-000000000502";
    let body = users().into_iter().find(|(id, _)| id == user).unwrap().1;
    let summary = MfaSummary::of(&methods_of(user, &body), false);
    assert_eq!(summary.weakest, Some(Strength::Weak));
    assert!(summary.has_phone);
    // `notAllowedByPolicy` only bars SMS as a primary sign-in.
    assert!(!summary.sms_sign_in);
}

#[test]
fn platform_credential_keeps_office_phone() {
    let user = "8f3b0000-5555-4666-8777-000000000505";
    let body = users().into_iter().find(|(id, _)| id == user).unwrap().1;
    let summary = MfaSummary::of(&methods_of(user, &body), false);
    assert_eq!(summary.strongest, Strength::PhishingResistant);
    assert_eq!(summary.weakest, Some(Strength::Weak));
}

#[test]
fn method_order_does_not_matter() {
    for (user, body) in users() {
        let items = body["value"].as_array().unwrap().clone();
        let reference = methods_of(&user, &body);
        for order in permutations(items.len()) {
            let shuffled: Vec<Value> = order.iter().map(|&index| items[index].clone()).collect();
            let permuted = serde_json::json!({ "value": shuffled });
            let methods = methods_of(&user, &permuted);
            assert_eq!(methods, reference, "{user} in order {order:?}");
            assert_eq!(MfaSummary::of(&methods, false), MfaSummary::of(&reference, false));
        }
    }
}

/// Lists every ordering of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for shorter in permutations(n - 1) {
        for at in 0..=shorter.len() {
            let mut order = shorter.clone();
            order.insert(at, n - 1);
            all.push(order);
        }
    }
    all
}
