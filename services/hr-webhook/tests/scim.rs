//! The SCIM 2.0 Users endpoints against real PostgreSQL and NATS: the HR events that
//! creation, deactivation in each shape senders use, reactivation and deletion emit, and
//! the filters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use reqwest::{Method, StatusCode};
use rollcall_proto::{HrEventSender, HrEventType};
use serde_json::{Value, json};
use support::{Harness, OTHER, OTHER_SCIM_TOKEN, SCIM_TOKEN, TENANT, counter};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn new_user(user_name: &str, employee_number: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "externalId": format!("ext-{employee_number}"),
        "name": {"givenName": "Ana", "familyName": "Diaz"},
        "emails": [{"type": "work", "value": user_name, "primary": true}],
        "title": "Front desk",
        "active": true,
        ENTERPRISE: {"employeeNumber": employee_number, "department": "Reception"},
    })
}

async fn create(harness: &Harness, user_name: &str, employee_number: &str) -> String {
    let (status, body) =
        harness.scim(Method::POST, "Users", Some(new_user(user_name, employee_number))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Returns the types of the stored HR events of `employee_id`, in order.
async fn events_of(harness: &Harness, employee_id: &str) -> Vec<HrEventType> {
    harness
        .stored_events(TENANT)
        .await
        .into_iter()
        .filter(|event| event.employee_id == employee_id)
        .map(|event| event.event_type)
        .collect()
}

#[tokio::test]
async fn create_emits_hire() {
    let harness = Harness::start().await;
    let id = create(&harness, "ana.diaz@harborview.test", "E5001").await;
    let (status, user) = harness.scim(Method::GET, &format!("Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["userName"], "ana.diaz@harborview.test");
    assert_eq!(user["active"], true);
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user[ENTERPRISE]["employeeNumber"], "E5001");

    let stored = harness.stored_events(TENANT).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event_type, HrEventType::Hire);
    assert_eq!(stored[0].sender, HrEventSender::Scim);
    assert_eq!(stored[0].employee_id, "E5001");
    let worker = stored[0].worker.as_ref().unwrap();
    assert_eq!(worker.name.as_deref(), Some("Ana Diaz"));
    assert_eq!(worker.department.as_deref(), Some("Reception"));
    let messages = harness.bus.hr_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, stored[0].event_id.to_string());

    // The same userName again, in another case, is a uniqueness conflict.
    let (status, error) = harness
        .scim(Method::POST, "Users", Some(new_user("ANA.DIAZ@harborview.test", "E5002")))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["scimType"], "uniqueness");
    assert_eq!(error["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(error["status"], "409");
    harness.stop().await;
}

#[tokio::test]
async fn deactivation_shapes_emit_one_termination() {
    let harness = Harness::start().await;
    let shapes = [
        json!({"op": "replace", "path": "active", "value": false}),
        json!({"op": "Replace", "path": "active", "value": false}),
        json!({"op": "Replace", "path": "active", "value": "False"}),
        json!({"op": "replace", "path": "active", "value": "false"}),
        json!({"op": "replace", "value": {"active": false}}),
        json!({"op": "Replace", "value": {"active": "False"}}),
    ];
    for (n, operation) in shapes.iter().enumerate() {
        let employee = format!("E60{n:02}");
        let id = create(&harness, &format!("user{n}@harborview.test"), &employee).await;
        let patch = json!({"schemas": [PATCH_OP], "Operations": [operation]});
        let (status, user) =
            harness.scim(Method::PATCH, &format!("Users/{id}"), Some(patch.clone())).await;
        assert_eq!(status, StatusCode::OK, "{operation}: {user}");
        assert_eq!(user["active"], false, "{operation}");
        // The same deactivation again changes nothing and emits nothing.
        let (status, _) = harness.scim(Method::PATCH, &format!("Users/{id}"), Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{operation}");
        assert_eq!(
            events_of(&harness, &employee).await,
            [HrEventType::Hire, HrEventType::Termination],
            "{operation}"
        );
    }
    // PUT with active false is one more shape.
    let id = create(&harness, "put@harborview.test", "E6100").await;
    let mut user = new_user("put@harborview.test", "E6100");
    user["active"] = json!(false);
    for _ in 0..2 {
        let (status, _) =
            harness.scim(Method::PUT, &format!("Users/{id}"), Some(user.clone())).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(events_of(&harness, "E6100").await, [HrEventType::Hire, HrEventType::Termination]);

    let terminations = harness
        .bus
        .hr_messages()
        .await
        .into_iter()
        .filter(|(_, event)| event.r#type == rollcall_proto::v1::HrEventType::Termination as i32)
        .count();
    assert_eq!(terminations, shapes.len() + 1);
    harness.stop().await;
}

#[tokio::test]
async fn rehire_and_delete_events() {
    let harness = Harness::start().await;
    let id = create(&harness, "ben@harborview.test", "E7001").await;
    let path = format!("Users/{id}");
    let set_active = |active: bool| json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]});
    assert_eq!(harness.scim(Method::PATCH, &path, Some(set_active(false))).await.0, StatusCode::OK);
    assert_eq!(harness.scim(Method::PATCH, &path, Some(set_active(true))).await.0, StatusCode::OK);
    let (status, _) = harness.scim(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, error) = harness.scim(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["status"], "404");
    assert_eq!(harness.scim(Method::GET, &path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        events_of(&harness, "E7001").await,
        [
            HrEventType::Hire,
            HrEventType::Termination,
            HrEventType::Rehire,
            HrEventType::Termination
        ]
    );

    // Deleting a user already deactivated emits nothing more.
    let id = create(&harness, "cai@harborview.test", "E7002").await;
    let path = format!("Users/{id}");
    assert_eq!(harness.scim(Method::PATCH, &path, Some(set_active(false))).await.0, StatusCode::OK);
    assert_eq!(harness.scim(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(events_of(&harness, "E7002").await, [HrEventType::Hire, HrEventType::Termination]);

    let metrics = harness.metrics().await;
    assert_eq!(counter(&metrics, "rollcall_hr_webhook_events_committed_total{sender=\"scim\"}"), 6);
    harness.stop().await;
}

/// A new title, department or manager is a `change` event with the new position; other
/// edits, such as a new display name, emit nothing.
#[tokio::test]
async fn position_changes_emit_change() {
    let harness = Harness::start().await;
    let id = create(&harness, "dee@harborview.test", "E7101").await;
    let path = format!("Users/{id}");
    let patch = |operation: Value| json!({"schemas": [PATCH_OP], "Operations": [operation]});
    let edits = [
        json!({"op": "replace", "path": "title", "value": "Medical Assistant"}),
        json!({"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Clinical"}),
        json!({"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "E7100"}}),
        json!({"op": "replace", "path": "displayName", "value": "Dee Diaz"}),
    ];
    for edit in edits {
        let (status, body) = harness.scim(Method::PATCH, &path, Some(patch(edit.clone()))).await;
        assert_eq!(status, StatusCode::OK, "{edit}: {body}");
    }
    assert_eq!(
        events_of(&harness, "E7101").await,
        [HrEventType::Hire, HrEventType::Change, HrEventType::Change, HrEventType::Change]
    );
    let stored = harness.stored_events(TENANT).await;
    let last = stored.iter().rfind(|event| event.event_type == HrEventType::Change).unwrap();
    let worker = last.worker.as_ref().unwrap();
    assert_eq!(worker.job_title.as_deref(), Some("Medical Assistant"));
    assert_eq!(worker.department.as_deref(), Some("Clinical"));
    harness.stop().await;
}

#[tokio::test]
async fn concurrent_deactivations_emit_one_termination() {
    let harness = Harness::start().await;
    let id = create(&harness, "dee@harborview.test", "E7501").await;
    let path = format!("Users/{id}");
    let patch = || {
        Some(
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        )
    };
    // Four requests in flight at once: each reads version 1, one wins, and the others
    // recompute on top of the inactive user and emit nothing.
    let (a, b, c, d) = tokio::join!(
        harness.scim(Method::PATCH, &path, patch()),
        harness.scim(Method::PATCH, &path, patch()),
        harness.scim(Method::PATCH, &path, patch()),
        harness.scim(Method::PATCH, &path, patch()),
    );
    for (status, body) in [a, b, c, d] {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);
    }
    assert_eq!(events_of(&harness, "E7501").await, [HrEventType::Hire, HrEventType::Termination]);
    harness.stop().await;
}

#[tokio::test]
async fn filters_find_users() {
    let harness = Harness::start().await;
    let ana = create(&harness, "Ana.Diaz@harborview.test", "E8001").await;
    let ben = create(&harness, "ben.ode@harborview.test", "E8002").await;

    let find = |filter: &str| {
        let query: String =
            form_urlencoded::Serializer::new(String::new()).append_pair("filter", filter).finish();
        format!("Users?{query}")
    };
    for (filter, expected) in [
        (r#"userName eq "ana.diaz@harborview.test""#, Some(&ana)),
        (r#"externalId eq "ext-E8002""#, Some(&ben)),
        (r#"externalId eq "EXT-E8002""#, None),
        (r#"emails[type eq "work"].value eq "BEN.ODE@harborview.test""#, Some(&ben)),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E8001""#,
            Some(&ana),
        ),
        (r#"userName eq "nobody@harborview.test""#, None),
    ] {
        let (status, list) = harness.scim(Method::GET, &find(filter), None).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {list}");
        assert_eq!(list["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
        match expected {
            Some(id) => {
                assert_eq!(list["totalResults"], 1, "{filter}");
                assert_eq!(list["Resources"][0]["id"], id.as_str(), "{filter}");
            }
            None => assert_eq!(list["totalResults"], 0, "{filter}"),
        }
    }
    let (status, list) = harness.scim(Method::GET, "Users", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], 2);
    let (status, list) = harness.scim(Method::GET, "Users?startIndex=2&count=1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["Resources"][0]["id"], ben.as_str());

    let (status, error) = harness.scim(Method::GET, &find(r#"title eq "x""#), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["scimType"], "invalidFilter");

    // Another tenant's list contains none of them.
    let (status, list) = harness.scim_as(OTHER, OTHER_SCIM_TOKEN, Method::GET, "Users", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], 0);
    harness.stop().await;
}

#[tokio::test]
async fn tokens_checked_per_tenant() {
    let harness = Harness::start().await;
    for (tenant, token) in
        [(TENANT, "wrong"), (TENANT, OTHER_SCIM_TOKEN), (OTHER, SCIM_TOKEN), (TENANT, "")]
    {
        let (status, error) = harness.scim_as(tenant, token, Method::GET, "Users", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{tenant}");
        assert_eq!(error["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }
    let (status, _) = harness.scim_as("nowhere", SCIM_TOKEN, Method::GET, "Users", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Discovery needs no token.
    let (status, config) =
        harness.scim_as(TENANT, "", Method::GET, "ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 200);
    // A user without an employee id cannot be mapped to a worker.
    let (status, error) = harness
        .scim(Method::POST, "Users", Some(json!({"userName": "no.id@harborview.test"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["scimType"], "invalidValue");
    assert!(harness.stored_events(TENANT).await.is_empty());
    harness.stop().await;
}
