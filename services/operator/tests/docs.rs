//! The example resources in docs/operations/operator.md deserialize into the resource
//! types, so the page cannot drift from the CRDs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test stops at its first broken expectation"
)]

use rollcall_operator::resources::{AccessPolicy, ReviewCampaign, Tenant};

/// Returns the YAML code blocks of the page that declare a `kind`.
fn examples() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations/operator.md");
    let page = std::fs::read_to_string(path).unwrap();
    page.split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|block| block.contains("\nkind: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn doc_examples_match_types() {
    let examples = examples();
    assert_eq!(examples.len(), 3, "one example per resource");
    for example in &examples {
        let kind = example.lines().find_map(|line| line.strip_prefix("kind: ")).unwrap();
        let result = match kind {
            "Tenant" => serde_yaml_ng::from_str::<Tenant>(example).map(|_| ()),
            "AccessPolicy" => serde_yaml_ng::from_str::<AccessPolicy>(example).map(|_| ()),
            "ReviewCampaign" => serde_yaml_ng::from_str::<ReviewCampaign>(example).map(|_| ()),
            other => panic!("unexpected kind `{other}`"),
        };
        assert!(result.is_ok(), "the {kind} example does not deserialize: {result:?}");
    }
}

#[test]
fn doc_policy_example_compiles() {
    let example = examples().into_iter().find(|e| e.contains("kind: AccessPolicy")).unwrap();
    let policy: AccessPolicy = serde_yaml_ng::from_str(&example).unwrap();
    let checked = rollcall_operator::policy::check(&policy.spec);
    assert!(checked.is_ok(), "{checked:?}");
}
