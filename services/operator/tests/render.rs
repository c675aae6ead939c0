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
use rollcall_ingest::tenant_file::{
    self, ExpiryAction, MailOffset, ManagerSource, Schedule, ScopeSpec,
};
use rollcall_operator::render::render;
use rollcall_operator::resources::{
    AccessPolicySpec, CatalogueEntrySpec, EscalationSpec, EscalationTarget, MfaRequirement,
    ReviewScope, ScopeKind,
};

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
    let text = render(&tenant, Some(&policy), &[]).unwrap();
    let config = parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref()).unwrap();
    assert_eq!(config.tenant.id.as_str(), "harborview");
    assert_eq!(config.tenant.name, "Harborview Family Health");
    assert_eq!(config.tenant.time_zone, chrono_tz::America::Chicago);
    assert_eq!(config.tenant.deprovision_sla, chrono::TimeDelta::hours(24));
    assert!(text.tenant_yaml.contains("policy_file: policy.yaml"), "{}", text.tenant_yaml);
    // The review app takes the practice's sign-in issuer from the stored text.
    assert_eq!(config.sign_in_issuer.as_deref(), Some("https://login.example.test/harborview"));
}

#[test]
fn tenant_without_issuer_has_no_sign_in() {
    let (mut tenant, policy) = common::harborview_resources();
    tenant.spec.oidc_issuer = None;
    let text = render(&tenant, Some(&policy), &[]).unwrap();
    assert!(!text.tenant_yaml.contains("sign_in"), "{}", text.tenant_yaml);
    let config = parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref()).unwrap();
    assert_eq!(config.sign_in_issuer, None);
}

#[test]
fn shared_issuer_is_rejected_when_parsed() {
    let (mut tenant, policy) = common::harborview_resources();
    tenant.spec.oidc_issuer = Some("https://login.microsoftonline.com/organizations/v2.0".into());
    let text = render(&tenant, Some(&policy), &[]).unwrap();
    let error = parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref()).unwrap_err();
    assert!(error.to_string().contains("`sign_in.issuer`"), "{error}");
}

#[test]
fn tenant_without_policy_has_empty_policy() {
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    let text = render(&tenant, None, &[]).unwrap();
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
    let text = render(&tenant, None, &[]).unwrap();
    let error = parse_stored(&text.tenant_yaml, None).unwrap_err().to_string();
    assert!(error.contains("Mars/Olympus"), "{error}");
}

#[test]
fn campaigns_render_as_tenant_campaigns() {
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    let quarterly = common::quarterly_campaign("entra-quarterly");
    let mut monthly = common::quarterly_campaign("privileged-monthly");
    monthly.spec.schedule = "0 8 1 * *".to_owned();
    monthly.spec.scope = ReviewScope { kind: ScopeKind::Privileged, source: None };
    monthly.spec.reviewers.second_stage_employee_id = None;
    monthly.spec.reminders = Some(vec!["5d".to_owned()]);
    monthly.spec.escalation = Some(EscalationSpec {
        after: Some("2d".to_owned()),
        to: Some(vec![EscalationTarget::Manager]),
    });
    let text = render(&tenant, None, &[&quarterly, &monthly]).unwrap();
    let config = parse_stored(&text.tenant_yaml, None).unwrap();
    let campaigns = &config.campaigns;
    assert_eq!(campaigns.len(), 2, "{}", text.tenant_yaml);

    let first = &campaigns[0];
    assert_eq!(first.id, "entra-quarterly");
    assert_eq!(first.name, "Quarterly Entra review");
    assert_eq!(first.schedule, Schedule::Quarterly);
    assert_eq!(first.scope, ScopeSpec::Source("entra".to_owned()));
    assert_eq!(first.manager, ManagerSource::Hr);
    assert_eq!(first.fallback_reviewer, "E1003");
    assert_eq!(first.second_stage_reviewer.as_deref(), Some("E1001"));
    assert_eq!(first.deadline_days, 21);
    assert_eq!(first.at_expiry, ExpiryAction::Revoke);
    assert_eq!(first.max_source_age, chrono::TimeDelta::days(3));

    let second = &campaigns[1];
    assert_eq!(second.id, "privileged-monthly");
    assert_eq!(second.schedule_text, "0 8 1 * *");
    assert_eq!(second.scope, ScopeSpec::Privileged);
    assert_eq!(second.second_stage_reviewer, None);
    assert_eq!(second.reminders, [MailOffset { days: 5, minutes: 0 }]);
    assert_eq!(second.escalation.after, MailOffset { days: 2, minutes: 0 });
    assert_eq!(second.escalation.to, [tenant_file::EscalationTarget::Manager]);
    // Unset keys keep the tenant file's defaults.
    assert_eq!(first.reminders.len(), tenant_file::DEFAULT_REMINDERS.len());
}

#[test]
fn campaign_without_source_id_is_rejected() {
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    let mut campaign = common::quarterly_campaign("one-source");
    campaign.spec.scope.source = None;
    let text = render(&tenant, None, &[&campaign]).unwrap();
    let error = parse_stored(&text.tenant_yaml, None).unwrap_err().to_string();
    assert!(error.contains("campaigns[0].scope"), "{error}");
}

#[test]
fn policy_catalogue_is_stored_and_checked() {
    let (tenant, mut policy) = common::harborview_resources();
    let entry = CatalogueEntrySpec {
        name: "Billing desk".to_owned(),
        description: Some("Posts charges and payments.".to_owned()),
        owner: Some("Practice manager".to_owned()),
        reviewer: None,
    };
    policy
        .spec
        .entitlement_catalogue
        .entry("ehr:*".to_owned())
        .or_default()
        .insert("role:Billing*".to_owned(), entry);
    let text = render(&tenant, Some(&policy), &[]).unwrap();
    let policy_yaml = text.policy_yaml.clone().unwrap();
    assert!(policy_yaml.contains("Billing desk"), "{policy_yaml}");
    parse_stored(&text.tenant_yaml, Some(&policy_yaml)).unwrap();

    // An empty name is rejected with the key that contains it.
    let blank = policy.spec.entitlement_catalogue.get_mut("ehr:*").unwrap();
    blank.get_mut("role:Billing*").unwrap().name = " ".to_owned();
    let error = rollcall_operator::policy::check(&policy.spec).unwrap_err().to_string();
    assert!(error.contains("entitlement_catalogue.ehr:*.role:Billing*.name"), "{error}");
}

/// A catalogue reviewer and a campaign's `entitlementOwner` reach the stored texts, and
/// the engine's parser reads them as a `tenant.yaml` that sets them directly.
#[test]
fn entitlement_owner_fields_are_stored() {
    let (tenant, mut policy) = common::harborview_resources();
    let entry = CatalogueEntrySpec {
        name: "Billing desk".to_owned(),
        description: None,
        owner: Some("Billing lead".to_owned()),
        reviewer: Some("E1030".to_owned()),
    };
    policy
        .spec
        .entitlement_catalogue
        .entry("ehr:*".to_owned())
        .or_default()
        .insert("role:Billing*".to_owned(), entry);
    let mut owned = common::quarterly_campaign("owner-reviews");
    owned.spec.reviewers.entitlement_owner = true;
    let managers = common::quarterly_campaign("manager-reviews");

    let text = render(&tenant, Some(&policy), &[&managers, &owned]).unwrap();
    let policy_yaml = text.policy_yaml.clone().unwrap();
    assert!(policy_yaml.contains("reviewer: E1030"), "{policy_yaml}");
    assert!(text.tenant_yaml.contains("entitlement_owner: true"), "{}", text.tenant_yaml);
    // A campaign without the flag renders as before, with no key.
    assert_eq!(text.tenant_yaml.matches("entitlement_owner").count(), 1, "{}", text.tenant_yaml);
    let config = parse_stored(&text.tenant_yaml, Some(&policy_yaml)).unwrap();

    let by_id = |id: &str| config.campaigns.iter().find(|c| c.id == id).unwrap();
    assert!(by_id("owner-reviews").entitlement_owner);
    assert!(!by_id("manager-reviews").entitlement_owner);

    let billing = rollcall_core::model::Entitlement::new(
        "Billing",
        rollcall_core::model::EntitlementKind::Role,
        "Billing",
    );
    let athena = rollcall_core::model::SourceId::ehr("athenahealth").unwrap();
    let stored = config.tenant.policy.catalogue_entry(&athena, &billing).unwrap();
    assert_eq!(stored.reviewer.as_deref(), Some("E1030"));

    // The same keys written by hand in tenant.yaml give the same campaign.
    let written = "tenant: { id: harborview, name: Harborview, time_zone: America/Chicago }
campaigns:
  - id: owner-reviews
    name: Quarterly Entra review
    scope: { source: entra }
    reviewers:
      manager: hr
      fallback: E1003
      second_stage: E1001
      entitlement_owner: true
    deadline_days: 21
    at_expiry: revoke
    max_source_age: 3d
";
    let by_hand = parse_stored(written, None).unwrap();
    assert_eq!(&by_hand.campaigns[0], by_id("owner-reviews"));
}

#[test]
fn catalogue_reviewer_with_prefix_is_rejected() {
    let (_, mut policy) = common::harborview_resources();
    let entry = CatalogueEntrySpec {
        name: "Billing desk".to_owned(),
        description: None,
        owner: None,
        reviewer: Some("hr:E1030".to_owned()),
    };
    policy
        .spec
        .entitlement_catalogue
        .entry("ehr:*".to_owned())
        .or_default()
        .insert("role:Billing*".to_owned(), entry);
    let error = rollcall_operator::policy::check(&policy.spec).unwrap_err().to_string();
    assert!(error.contains("entitlement_catalogue.ehr:*.role:Billing*.reviewer"), "{error}");
}

/// A job role's MFA requirement reaches the stored policy and the rules read it.
#[test]
fn role_mfa_requirement_is_stored() {
    let (tenant, mut policy) = common::harborview_resources();
    let (name, role) = policy.spec.job_roles.iter_mut().next().unwrap();
    let name = name.clone();
    role.mfa = Some(MfaRequirement::PhishingResistant);
    let text = render(&tenant, Some(&policy), &[]).unwrap();
    let policy_yaml = text.policy_yaml.unwrap();
    assert!(policy_yaml.contains("mfa: phishing_resistant"), "{policy_yaml}");
    let config = parse_stored(&text.tenant_yaml, Some(&policy_yaml)).unwrap();
    let stored = config.tenant.policy.role(&name).unwrap();
    assert_eq!(stored.mfa, rollcall_core::policy::MfaRequirement::PhishingResistant);
    // Every other role keeps the default.
    let others = config.tenant.policy.job_roles.iter().filter(|role| role.name != name);
    assert!(
        others.into_iter().all(|role| role.mfa == rollcall_core::policy::MfaRequirement::Strong)
    );
}
