//! The Graph field cases in `testdata/field-cases/`, replayed through the Graph double:
//! `@removed` in delta rounds, expired delta tokens, and sign-in activity without Entra
//! ID P1 or P2. Each case's `CASE.md` names the public reports it comes from.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use rollcall_core::model::{AccountStatus, LastSignIn};
use rollcall_entra_connector::{
    DeltaMode, DeltaState, GraphClient, GraphError, HttpTransport, NO_PREMIUM_CODE, SyncResult,
    delta_sync,
};
use rollcall_graph_double::{ExpiredDelta, Tenant};
use serde_json::{Value, json};

fn case(name: &str, file: &str) -> Value {
    let path: PathBuf = common::repo().join("testdata/field-cases").join(name).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Returns the JSON body of a saved `.http` response: everything after the blank line that ends
/// the response headers. A request line may come first.
fn http_body(name: &str, file: &str) -> Value {
    let path = common::repo().join("testdata/field-cases").join(name).join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let response = &text[text.find("HTTP/").unwrap()..];
    let (_, body) = response.split_once("\n\n").unwrap();
    serde_json::from_str(body).unwrap()
}

/// Users of a stored-state file (`{"users": {"<id>": {...}}}`) as Graph user objects.
fn users_of_state(state: &Value) -> Vec<Value> {
    state["users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, user)| {
            json!({
                "id": id,
                "userPrincipalName": user["userPrincipalName"],
                "accountEnabled": user["accountEnabled"],
                "userType": "Member",
            })
        })
        .collect()
}

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
    delta_sync(&mut client, base, "bayview", previous, chrono::Duration::hours(24)).await
}

#[tokio::test]
async fn delta_removed_soft_and_hard() {
    const CASE: &str = "graph-delta-removed";
    let prior = case(CASE, "prior-state.json");
    let expected = case(CASE, "expected-state.json");
    let users_page = case(CASE, "users-delta-page.json");

    let mut tenant = Tenant::default();
    tenant.users = users_of_state(&prior);
    for (id, group) in prior["groups"].as_object().unwrap() {
        tenant.groups.push(
            json!({ "id": id, "displayName": group["displayName"], "securityEnabled": true }),
        );
        let members = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| json!({ "@odata.type": "#microsoft.graph.user", "id": m }))
            .collect();
        tenant.members.insert(id.clone(), members);
    }
    let (double, base) = common::start(tenant).await;
    double.set_premium(common::DIRECTORY, false);
    let (_, state, _) = run(&base, None).await.unwrap();

    // The changes the case's delta page reports.
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            for item in users_page["value"].as_array().unwrap() {
                let id = item["id"].as_str().unwrap();
                match item["@removed"]["reason"].as_str() {
                    Some(reason) => tenant.remove_user(id, reason),
                    None => {
                        let mut user =
                            tenant.users.iter().find(|u| u["id"] == id).cloned().unwrap();
                        user["accountEnabled"] = item["accountEnabled"].clone();
                        tenant.upsert_user(user);
                    }
                }
            }
        })
        .unwrap();
    let (result, next, mode) = run(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);
    let directory = &next.directory;

    for (id, want) in expected["users"].as_object().unwrap() {
        match want["state"].as_str().unwrap() {
            "present" => {
                let user = directory.users.iter().find(|u| u["id"] == id.as_str()).unwrap();
                assert_eq!(user["accountEnabled"], want["accountEnabled"], "{id}");
                let account = result.snapshot.accounts.iter().find(|a| a.id == *id).unwrap();
                assert_eq!(account.status, AccountStatus::Disabled, "{id}");
            }
            "soft_deleted" => {
                let removed = &directory.removed[id];
                assert_eq!(removed.reason, "changed");
                assert_eq!(removed.last_known["userPrincipalName"], want["userPrincipalName"]);
                assert!(!result.snapshot.accounts.iter().any(|a| a.id == *id));
            }
            "hard_deleted" => {
                let removed = &directory.removed[id];
                assert_eq!(removed.reason, "deleted");
                assert_eq!(removed.last_known["userPrincipalName"], want["userPrincipalName"]);
                assert!(removed.groups.is_empty(), "a permanent delete drops memberships");
            }
            other => panic!("unexpected state {other}"),
        }
    }

    // Members: the listed ones plus soft-deleted users that keep their membership.
    for (group, want) in expected["groups"].as_object().unwrap() {
        let mut members: BTreeSet<String> =
            directory.members[group].iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
        for (id, removed) in &directory.removed {
            if removed.groups.contains(group) {
                members.insert(id.clone());
            }
        }
        let want: BTreeSet<String> = want["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(members, want, "{group}");
    }

    let messages: Vec<&str> = result.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("000000000102") && m.contains("soft-deleted")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("000000000103") && m.contains("permanently deleted")),
        "{messages:?}"
    );
}

async fn expired_token_case(shape: ExpiredDelta, response: &str) {
    const CASE: &str = "graph-delta-token-expired";
    let stored = case(CASE, "stored-state.json");
    let expected = case(CASE, "expected-state.json");
    let error = http_body(CASE, response);

    let mut tenant = Tenant::default();
    tenant.users = users_of_state(&stored);
    let (double, base) = common::start(tenant).await;
    double.set_premium(common::DIRECTORY, false);
    let (_, state, _) = run(&base, None).await.unwrap();

    // The directory of the full re-enumeration pages.
    let mut now: Vec<Value> = Vec::new();
    for page in ["response-2-full-page1.json", "response-3-full-page2.json"] {
        let body = case(CASE, page);
        for user in body["value"].as_array().unwrap() {
            let mut user = user.clone();
            user["userType"] = json!("Member");
            now.push(user);
        }
    }
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            let keep: BTreeSet<String> =
                now.iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
            let gone: Vec<String> = tenant
                .users
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
                .filter(|id| !keep.contains(id))
                .collect();
            for id in gone {
                tenant.remove_user(&id, "deleted");
            }
            for user in now.clone() {
                tenant.upsert_user(user);
            }
        })
        .unwrap();
    double.configure(|faults| faults.expired_delta = Some(shape));

    let (result, _, mode) = run(&base, Some(&state)).await.unwrap();
    assert_eq!(mode, DeltaMode::ExpiredToken);
    let mut missing = 0;
    for (id, want) in expected["users"].as_object().unwrap() {
        let account = result.snapshot.accounts.iter().find(|a| a.id == *id);
        match want["state"].as_str().unwrap() {
            "present" => {
                let account = account.unwrap();
                let status = if want["accountEnabled"] == json!(true) {
                    AccountStatus::Enabled
                } else {
                    AccountStatus::Disabled
                };
                assert_eq!(account.status, status, "{id}");
            }
            "missing_after_resync" => {
                missing += 1;
                assert!(account.is_none(), "{id} must be gone");
                assert!(
                    result.problems.iter().any(|p| p.message.contains(id.as_str())),
                    "{id} not reported"
                );
            }
            other => panic!("unexpected state {other}"),
        }
    }
    assert_eq!(missing, expected["sync_run"]["users_marked_missing"].as_u64().unwrap());
    // The double answers with the status and code the case's saved response shows.
    let code = error["error"]["code"].as_str().unwrap();
    let status = if shape == ExpiredDelta::Gone { 410 } else { 400 };
    assert!(double.requests().iter().any(|r| r.path == "/users/delta" && r.status == status));
    assert!(code.eq_ignore_ascii_case("syncStateNotFound") || status == 410, "{code}");
}

#[tokio::test]
async fn expired_token_400_case() {
    expired_token_case(ExpiredDelta::BadRequest, "response-1a-expired-400.http").await;
}

#[tokio::test]
async fn expired_token_410_case() {
    expired_token_case(ExpiredDelta::Gone, "response-1b-expired-410.http").await;
}

#[tokio::test]
async fn sign_in_without_premium_case() {
    const CASE: &str = "graph-signin-no-premium";
    let expected = case(CASE, "expected.json");
    let rejected = http_body(CASE, "response-1-403.http");
    assert_eq!(rejected["error"]["code"], NO_PREMIUM_CODE);

    let users = case(CASE, "response-2-fallback-users.json")["value"].as_array().unwrap().clone();
    let mut tenant = Tenant::default();
    tenant.users = users;
    let (double, base) = common::start(tenant).await;
    double.set_premium(common::DIRECTORY, false);
    let result = common::sync(&base, common::fast_limits()).await.unwrap();

    assert_eq!(result.snapshot.accounts.len() as u64, expected["users_synced"].as_u64().unwrap());
    for want in expected["users"].as_array().unwrap() {
        let id = want["id"].as_str().unwrap();
        let account = result.snapshot.accounts.iter().find(|a| a.id == id).unwrap();
        assert_eq!(account.last_sign_in, LastSignIn::Unknown, "{id}: never 'never'");
        let disabled = want["other_findings"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("account_disabled")));
        assert_eq!(account.status == AccountStatus::Disabled, disabled, "{id}");
    }
    assert!(!result.sign_in_available);
    assert!(result.problems.iter().all(|p| !p.fatal));
    assert!(
        result.problems.iter().any(|p| p.message.contains("sign-in activity is not available"))
    );
    let users_requests = double.requests().iter().filter(|r| r.path == "/users").count();
    assert_eq!(users_requests, 2, "no retry loop on the licence 403");
}
