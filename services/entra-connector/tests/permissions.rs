//! The permission table of `rollcall_entra_connector::permissions` against the Graph
//! double, which checks each request's token against its own table of what Graph
//! accepts. Exactly the read permissions let a sync reach every read request; without any
//! one of them the sync fails, names it and publishes no snapshot. The remediation writes
//! need exactly the write permissions, and the connector's read permissions cannot write.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../ldap-connector/tests/support/bus.rs"]
mod bus;
mod common;
#[path = "../../remediation/tests/common/mod.rs"]
mod remediation_support;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bus::TestBus;
use rollcall_core::model::SourceId;
use rollcall_entra_connector::{
    Access, ConnectorMetrics, DeltaMode, GRAPH_REQUESTS, GraphClient, GraphError, HttpTransport,
    READ_PERMISSIONS, WRITE_PERMISSIONS, delta_sync,
};
use rollcall_graph_double::{DENIED_CODE, Endpoint, GraphDouble, Tenant};
use rollcall_proto::SyncOutcome;
use rollcall_remediation::{
    EntraAccess, Executor, Mode, OutcomeKind, ReviewGrant, Revoke, plan, plan_revokes,
};
use serde_json::json;
use support::TestDb;
use support::fixtures::add_tenant;

const ADAEZE: &str = "6e7a1000-0000-4000-8000-0000000003e9";

/// Returns every permission of `all` except `removed`.
fn without<'a>(all: &[&'a str], removed: &str) -> Vec<&'a str> {
    all.iter().copied().filter(|permission| *permission != removed).collect()
}

/// Returns the double's endpoint for a request of the connector's table, matched by
/// method and path pattern.
fn double_endpoint(method: &str, path: &str) -> Option<Endpoint> {
    Endpoint::ALL.into_iter().find(|e| e.method() == method && e.path() == path)
}

/// Runs a delta sync with a new token, so the permissions granted now apply.
async fn delta_round(
    base: &str,
    previous: Option<&rollcall_entra_connector::DeltaState>,
) -> Result<
    (rollcall_entra_connector::SyncResult, rollcall_entra_connector::DeltaState, DeltaMode),
    GraphError,
> {
    let dir = tempfile::tempdir().unwrap();
    let credential = common::credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let mut client = GraphClient::new(
        &transport,
        base,
        common::DIRECTORY,
        common::CLIENT_ID,
        &credential,
        common::fast_limits(),
    );
    delta_sync(&mut client, base, "harborview", previous, chrono::Duration::hours(24)).await
}

/// Changes one user and one group's members, so a delta round reads both again.
fn change_directory(double: &GraphDouble) {
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            let mut adaeze = tenant.users.iter().find(|u| u["id"] == ADAEZE).cloned().unwrap();
            adaeze["accountEnabled"] = json!(false);
            tenant.upsert_user(adaeze);
            let (group, members) = tenant.members.iter().next().unwrap();
            let (group, members) = (group.clone(), members.clone());
            tenant.set_members(&group, members);
        })
        .unwrap();
}

#[tokio::test]
async fn read_permissions_reach_every_read() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    double.grant(common::DIRECTORY, READ_PERMISSIONS.iter().copied());

    // A first sync reads in full; a delta round after a change reads the delta links and
    // the changed user and group.
    let (first, state, mode) = delta_round(&base, None).await.unwrap();
    assert_eq!(mode, DeltaMode::Initial);
    assert!(first.sign_in_available);
    change_directory(&double);
    let (_, _, mode) = delta_round(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);

    let denied: Vec<_> = double.requests().into_iter().filter(|r| r.status == 403).collect();
    assert!(denied.is_empty(), "{denied:?}");

    let counts = double.endpoint_counts();
    let mut read_endpoints = BTreeMap::new();
    for request in GRAPH_REQUESTS.iter().filter(|r| r.access == Access::Read) {
        let endpoint = double_endpoint(request.method, request.path)
            .unwrap_or_else(|| panic!("the double serves no {} {}", request.method, request.path));
        read_endpoints.insert(endpoint, request.endpoint);
        let served = counts.get(&endpoint).copied().unwrap_or(0);
        assert!(served > 0, "the syncs sent no {} {}", request.method, request.path);
    }
    for (endpoint, served) in &counts {
        assert!(
            read_endpoints.contains_key(endpoint),
            "the syncs sent {served} requests to {} {}, which the table does not list",
            endpoint.method(),
            endpoint.path()
        );
    }
}

#[tokio::test]
async fn each_read_permission_is_needed() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let metrics = ConnectorMetrics::new();
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;

    for removed in READ_PERMISSIONS {
        double.grant(common::DIRECTORY, without(READ_PERMISSIONS, removed));

        let error = common::sync(&base, common::fast_limits()).await.unwrap_err();
        assert!(
            matches!(error, GraphError::PermissionDenied { .. }),
            "without {removed}: {error:?}"
        );
        assert!(error.missing_permissions().contains(removed), "without {removed}: {error}");
        assert_eq!(error.status(), Some(403));
        assert_eq!(error.code(), Some(DENIED_CODE));
        let message = error.to_string();
        assert!(message.contains("grant "), "{message}");
        assert!(message.contains("consent again"), "{message}");

        // The published attempt fails with the same sentence and publishes no snapshot.
        let attempt = common::attempt(&base, &store, &publisher, &metrics).await;
        assert_eq!(attempt.report.outcome, SyncOutcome::Failed, "without {removed}");
        assert_eq!(attempt.report.snapshot_id, None);
        assert!(!attempt.state_saved);
        assert_eq!(attempt.report.problems.len(), 1);
        let problem = &attempt.report.problems[0];
        assert!(problem.fatal);
        assert_eq!(problem.location.as_deref(), Some("stage graph"));
        assert!(problem.message.contains(removed), "{}", problem.message);
        assert!(problem.message.contains("consent again"), "{}", problem.message);
    }

    let published = bus.published().await;
    assert!(
        published.chunks.is_empty(),
        "a failed sync published {} chunks",
        published.chunks.len()
    );
    assert_eq!(published.reports.len(), READ_PERMISSIONS.len());
    bus.delete().await;
}

#[tokio::test]
async fn higher_permission_replaces_read() {
    // Directory.Read.All covers users and groups, so a tenant that granted it in place
    // of User.Read.All and GroupMember.Read.All still syncs.
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let mut granted = without(READ_PERMISSIONS, "User.Read.All");
    granted.retain(|p| *p != "GroupMember.Read.All");
    granted.push("Directory.Read.All");
    double.grant(common::DIRECTORY, granted);
    common::sync(&base, common::fast_limits()).await.unwrap();
}

/// Remediation against the double: each round disables one leaver and removes another
/// user from group 0, with a new token carrying the permissions granted at that moment.
struct WriteRound<'a> {
    double: &'a GraphDouble,
    base: &'a str,
    scope: rollcall_store::TenantScope<'a>,
}

impl WriteRound<'_> {
    async fn run(&self, leaver: usize, member: usize) -> Vec<OutcomeKind> {
        let settings = remediation_support::switch(&self.scope, Mode::Enforce, &["entra"]).await;
        let leaver_id = user_id(leaver);
        let mut actions = plan(
            &[remediation_support::target("entra", &leaver_id, &format!("user{leaver:05}"))],
            &settings,
        );
        let revoke = Revoke {
            target: remediation_support::target(
                "entra",
                &user_id(member),
                &format!("user{member:05}"),
            ),
            grant: ReviewGrant {
                entitlement_id: GROUP.into(),
                campaign_id: uuid::Uuid::new_v4(),
                item_id: i32::try_from(member).unwrap(),
            },
            entitlement_name: "Team 0000".into(),
            removable: true,
        };
        actions.extend(plan_revokes(&[revoke], &settings));
        assert_eq!(actions.len(), 2);

        let dir = tempfile::tempdir().unwrap();
        let credential = common::credential(dir.path());
        let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
        let client = GraphClient::new(
            &transport,
            self.base,
            common::DIRECTORY,
            common::CLIENT_ID,
            &credential,
            common::fast_limits(),
        );
        let mut executor = Executor::new(self.scope.clone())
            .with_entra(SourceId::entra(), EntraAccess { client, graph_url: self.base.to_owned() });
        let outcomes = executor.run(&actions, settings.mode, remediation_support::at(1)).await;
        outcomes.unwrap().into_iter().map(|outcome| outcome.kind).collect()
    }

    fn grant(&self, permissions: Vec<&str>) {
        self.double.clear_requests();
        self.double.grant(common::DIRECTORY, permissions);
    }
}

/// Group 0 of a generated tenant, whose members are users 0 to 49.
const GROUP: &str = "5e1d0001-0000-4000-8000-000000000000";

fn user_id(n: usize) -> String {
    format!("5e1d0000-0000-4000-8000-{n:012}")
}

fn failures(outcomes: &[OutcomeKind]) -> Vec<&str> {
    outcomes
        .iter()
        .filter_map(|kind| match kind {
            OutcomeKind::Failed(reason) => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn write_permissions_are_exactly_needed() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, remediation_support::TENANT).await;
    let (double, base) = common::start(Tenant::generate(20)).await;
    let round =
        WriteRound { double: &double, base: &base, scope: remediation_support::scope(&store) };

    // Exactly the write permissions: both actions are done.
    round.grant(WRITE_PERMISSIONS.to_vec());
    let outcomes = round.run(1, 2).await;
    assert_eq!(outcomes, [OutcomeKind::Done, OutcomeKind::Done]);
    let counts = double.endpoint_counts();
    for request in GRAPH_REQUESTS.iter().filter(|r| r.access == Access::Write) {
        let endpoint = double_endpoint(request.method, request.path).unwrap();
        assert_eq!(counts.get(&endpoint), Some(&1), "{} {}", request.method, request.path);
    }

    // Without any one of them, the action that needs it fails and names it.
    for (n, removed) in WRITE_PERMISSIONS.iter().enumerate() {
        round.grant(without(WRITE_PERMISSIONS, removed));
        let outcomes = round.run(3 + n, 10 + n).await;
        let failed = failures(&outcomes);
        assert!(!failed.is_empty(), "without {removed}: {outcomes:?}");
        for reason in &failed {
            assert!(reason.contains(removed), "without {removed}: {reason}");
            assert!(reason.contains("consent again"), "without {removed}: {reason}");
        }
        let denied = double.requests().into_iter().filter(|r| r.status == 403).count();
        assert_eq!(denied, failed.len(), "without {removed}");
    }

    // The connector's read permissions cannot change the directory.
    round.grant(READ_PERMISSIONS.to_vec());
    let outcomes = round.run(8, 15).await;
    assert_eq!(failures(&outcomes).len(), 2, "{outcomes:?}");
    let enabled = double
        .with_tenant(common::DIRECTORY, |tenant| {
            tenant.users.iter().find(|u| u["id"] == user_id(8)).unwrap()["accountEnabled"].clone()
        })
        .unwrap();
    assert_eq!(enabled, json!(true));
}
