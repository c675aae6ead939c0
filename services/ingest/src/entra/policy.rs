//! Reads `GET /policies/authenticationMethodsPolicy` and its
//! `authenticationMethodConfigurations` list.
//!
//! CISA's Secure Cloud Business Applications baseline for Entra ID (MS.AAD.3.5) names SMS,
//! voice call and e-mail one-time passcodes as the weakest methods, which shall be disabled.

use serde_json::Value;

use super::fields::{Item, Notes};
use super::records::Collected;

/// Configuration ids of the weak methods, lowercase.
const WEAK: [&str; 3] = ["sms", "voice", "email"];

/// Reads one policy response: the policy entity, or the items of its configurations list.
pub(crate) fn read_policy(items: &[Item], path: &str, out: &mut Collected, notes: &mut Notes) {
    let mut configurations = Vec::new();
    for item in items {
        if item.get("authenticationMethodConfigurations").is_some() {
            configurations.extend(item.children("authenticationMethodConfigurations", notes));
        } else if item.get("state").is_some() {
            configurations.push(item.clone());
        }
    }
    if configurations.is_empty() {
        notes.warn(
            path,
            "this authentication methods policy has no `authenticationMethodConfigurations`, \
             so the weak methods it enables are unknown: request it without `$select`",
        );
        return;
    }

    let mut enabled = Vec::new();
    for configuration in &configurations {
        let Some(id) = configuration.get("id").and_then(Value::as_str) else { continue };
        let id = id.to_ascii_lowercase();
        if !WEAK.contains(&id.as_str()) {
            continue;
        }
        match configuration.get("state").and_then(Value::as_str) {
            Some(state) if state.eq_ignore_ascii_case("enabled") => enabled.push(id),
            Some(state) if state.eq_ignore_ascii_case("disabled") => {}
            other => notes.warn(
                &configuration.path_of("state"),
                format!(
                    "the `{id}` method has the state `{}` where `enabled` or `disabled` is \
                     expected, so it is read as disabled",
                    other.unwrap_or("(none)")
                ),
            ),
        }
    }
    enabled.sort();
    enabled.dedup();
    out.policies.push(enabled);
}
