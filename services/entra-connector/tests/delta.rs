//! Delta syncs against the Graph double: a full sync then a delta sync end in the same
//! state as a fresh full sync, and an expired delta token falls back to a full read that
//! reports the users deleted meanwhile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use rollcall_entra_connector::{
    DeltaMode, DeltaState, GraphClient, GraphError, HttpTransport, SyncResult, delta_sync,
};
use rollcall_graph_double::{ExpiredDelta, GraphDouble, Tenant};
use serde_json::json;

const ADAEZE: &str = "6e7a1000-0000-4000-8000-0000000003e9";
const MARGUERITE: &str = "6e7a1000-0000-4000-8000-0000000003ea";
const FLORIAN: &str = "6e7a1000-0000-4000-8000-0000000003eb";
const NEW_USER: &str = "6e7a1000-0000-4000-8000-000000000fff";
const ALL_STAFF: &str = "6e7a0001-0000-4000-8000-000000000000";

async fn run(
    base: &str,
    previous: Option<&DeltaState>,
) -> Result<(SyncResult, DeltaState, DeltaMode), GraphError> {
    let dir = tempfile::tempdir().unwrap();
    let credential = common::credential(dir.path());
    let transport = HttpTransport::new(std::time::Duration::from_secs(10)).unwrap();
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

/// Disables one user, soft-deletes one, deletes one for good and adds one to All Staff.
fn change_directory(double: &GraphDouble) {
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            let mut adaeze = tenant.users.iter().find(|u| u["id"] == ADAEZE).cloned().unwrap();
            adaeze["accountEnabled"] = json!(false);
            tenant.upsert_user(adaeze);
            tenant.remove_user(MARGUERITE, "changed");
            tenant.remove_user(FLORIAN, "deleted");
            tenant.upsert_user(json!({
                "id": NEW_USER,
                "userPrincipalName": "rowan.quill@harborview.example",
                "displayName": "Rowan Quill",
                "accountEnabled": true,
                "userType": "Member",
                "signInActivity": { "lastSuccessfulSignInDateTime": "2026-11-30T15:00:00Z" },
                "manager": { "id": ADAEZE },
            }));
            let mut members = tenant.members[ALL_STAFF].clone();
            members.push(json!({ "@odata.type": "#microsoft.graph.user", "id": NEW_USER, "displayName": "Rowan Quill" }));
            tenant.set_members(ALL_STAFF, members);
        })
        .unwrap();
}

#[tokio::test]
async fn full_then_delta_matches_full() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let (_, state, mode) = run(&base, None).await.unwrap();
    assert_eq!(mode, DeltaMode::Initial);

    change_directory(&double);
    double.clear_requests();
    let (delta, next_state, mode) = run(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);
    assert_ne!(next_state.users_delta_link, state.users_delta_link);

    // Only the changed group's members were read again.
    let member_reads: Vec<String> = double
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/transitiveMembers"))
        .map(|r| r.path)
        .collect();
    assert_eq!(member_reads, [format!("/groups/{ALL_STAFF}/transitiveMembers")]);

    let fresh = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(delta.snapshot, fresh.snapshot);

    let ids: Vec<&str> = delta.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert!(ids.contains(&NEW_USER));
    assert!(!ids.contains(&MARGUERITE), "a soft-deleted user is not listed");
    assert!(!ids.contains(&FLORIAN), "a deleted user is not listed");
    let in_all_staff =
        |user: &str| {
            delta.snapshot.memberships.iter().any(|m| {
                format!("{:?}", m).contains(user) && format!("{:?}", m).contains(ALL_STAFF)
            })
        };
    assert!(in_all_staff(NEW_USER));
    assert!(!in_all_staff(FLORIAN));

    // A second delta round with no changes leaves the snapshot as it is.
    let (again, _, mode) = run(&base, Some(&next_state)).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);
    assert_eq!(again.snapshot, fresh.snapshot);
}

async fn expired_token_falls_back(shape: ExpiredDelta) {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let (_, state, _) = run(&base, None).await.unwrap();

    double.with_tenant(common::DIRECTORY, |tenant| tenant.remove_user(FLORIAN, "deleted")).unwrap();
    double.configure(|faults| faults.expired_delta = Some(shape));
    let (result, next_state, mode) = run(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::ExpiredToken);
    assert!(next_state.users_delta_link.contains("deltatoken="));

    double.configure(|faults| faults.expired_delta = None);
    let fresh = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(result.snapshot, fresh.snapshot);
    assert_eq!(result.problems.len(), 1, "{:?}", result.problems);
    assert!(!result.problems[0].fatal);
    assert!(result.problems[0].message.contains(FLORIAN), "{}", result.problems[0].message);
}

#[tokio::test]
async fn expired_token_400_reads_in_full() {
    expired_token_falls_back(ExpiredDelta::BadRequest).await;
}

#[tokio::test]
async fn expired_token_410_reads_in_full() {
    expired_token_falls_back(ExpiredDelta::Gone).await;
}

#[tokio::test]
async fn failed_delta_keeps_nothing() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let (_, state, _) = run(&base, None).await.unwrap();
    change_directory(&double);
    double.push_fault(Some("/groups/delta"), rollcall_graph_double::Fault::ServerError(400));
    let error = run(&base, Some(&state)).await.unwrap_err();
    assert_eq!(error.status(), Some(400));
    // The caller still holds the old state, so the next round replays every change.
    let (result, _, mode) = run(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);
    let fresh = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(result.snapshot, fresh.snapshot);
}
