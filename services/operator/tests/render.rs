//! Rendering resources as the texts the engine parses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use rollcall_ingest::tenant_file::parse_stored;
use rollcall_operator::render::render;
use rollcall_operator::resources::AccessPolicySpec;

#[test]
fn harborview_policy_compiles_in_core() {
    let spec = common::harborview_policy_spec();
    let text = serde_yaml_ng::to_string(&spec).unwrap();
    let parsed: rollcall_core::policy::PolicySpec = serde_yaml_ng::from_str(&text).unwrap();
    let policy = rollcall_core::policy::Policy::compile(&parsed).unwrap();
    assert_eq!(policy.job_roles.len(), 8);
}

#[test]
fn rendered_tenant_parses_as_stored() {
    let (tenant, policy) = common::harborview_resources();
    let text = render(&tenant, Some(&policy)).unwrap();
    let config = parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref()).unwrap();
    assert_eq!(config.tenant.id.as_str(), "harborview");
    assert_eq!(config.tenant.name, "Harborview Family Health");
    assert_eq!(config.tenant.time_zone, chrono_tz::America::Chicago);
    assert_eq!(config.tenant.deprovision_sla, chrono::TimeDelta::hours(24));
    assert!(text.tenant_yaml.contains("policy_file: policy.yaml"), "{}", text.tenant_yaml);
}

#[test]
fn tenant_without_policy_has_empty_policy() {
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    let text = render(&tenant, None).unwrap();
    assert_eq!(text.policy_yaml, None);
    let config = parse_stored(&text.tenant_yaml, None).unwrap();
    assert!(config.tenant.policy.job_roles.is_empty());
}

#[test]
fn unknown_policy_key_is_rejected() {
    let result: Result<AccessPolicySpec, _> = serde_yaml_ng::from_str("job_role: {}\n");
    assert!(result.is_err(), "a misspelt key must not be dropped silently");
}

#[test]
fn invalid_time_zone_fails_parse() {
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.time_zone = "Mars/Olympus".to_owned();
    tenant.spec.access_policy_ref = None;
    let text = render(&tenant, None).unwrap();
    let error = parse_stored(&text.tenant_yaml, None).unwrap_err().to_string();
    assert!(error.contains("Mars/Olympus"), "{error}");
}
