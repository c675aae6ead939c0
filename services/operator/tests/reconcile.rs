//! Reconciling a `Tenant` against a mocked Kubernetes API server and a real PostgreSQL
//! scratch database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use http::{Method, Request, Response};
use kube::client::Body;
use kube::runtime::events::Reporter;
use rollcall_core::TenantId;
use rollcall_ingest::tenant_file::parse_stored;
use rollcall_operator::reconcile::{Context, FINALIZER, reconcile};
use rollcall_operator::resources::{ReviewCampaign, SecretKeyRef, SourceKind, SourceSpec};
use rollcall_store::{Store, StoredTenantConfig, TenantConfigText};
use serde_json::{Value, json};
use support::TestDb;

type ApiServer = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const TENANT_PATH: &str = "/apis/rollcall.dev/v1alpha1/namespaces/clinics/tenants/harborview";
const CAMPAIGNS_PATH: &str = "/apis/rollcall.dev/v1alpha1/namespaces/clinics/reviewcampaigns";

fn context(store: Store) -> (Arc<Context>, ApiServer) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    let reporter = Reporter { controller: "rollcall-operator".to_owned(), instance: None };
    (Arc::new(Context { client, store, reporter }), handle)
}

/// Takes the next request; fails naming `expected` when the client sent none.
/// How long a test waits for each expected API call. A reconcile makes its next call
/// in milliseconds; this is far above that on a loaded runner.
const CALL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn next(
    server: &mut ApiServer,
    expected: &str,
) -> (Method, String, Value, tower_test::mock::SendResponse<Response<Body>>) {
    // The reconcile under test keeps the client alive, so a call that never comes would
    // wait for ever. The bound turns it into a failure that names the call.
    let (request, send) = tokio::time::timeout(CALL_WAIT, server.next_request())
        .await
        .unwrap_or_else(|_| panic!("the operator did not send {expected} within {CALL_WAIT:?}"))
        .unwrap_or_else(|| panic!("the operator never sent {expected}"));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let bytes = request.into_body().collect_bytes().await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (method, path, body, send)
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, body: &Value) {
    send.send_response(Response::new(Body::from(serde_json::to_vec(body).unwrap())));
}

/// Takes the operator's list of the namespace's ReviewCampaigns and responds with `items`.
async fn answer_campaign_list(server: &mut ApiServer, items: &[ReviewCampaign]) {
    let (method, path, _, send) = next(server, "the ReviewCampaign list").await;
    assert_eq!(method, Method::GET);
    assert_eq!(path, CAMPAIGNS_PATH);
    let list = json!({
        "apiVersion": "rollcall.dev/v1alpha1",
        "kind": "ReviewCampaignList",
        "metadata": { "resourceVersion": "1" },
        "items": items,
    });
    respond(send, &list);
}

/// Applies the example folder as `rollcall-engine tenant apply` does, and returns what it
/// stored.
async fn apply_folder(store: &Store) -> StoredTenantConfig {
    let applied =
        rollcall_engine::tenant_apply::apply(store, &common::harborview_dir()).await.unwrap();
    assert_eq!(applied.tenant, "harborview");
    assert!(applied.changed);
    stored(store).await
}

async fn stored(store: &Store) -> StoredTenantConfig {
    store.tenant(&TenantId::new("harborview").unwrap()).tenant_config().await.unwrap().unwrap()
}

#[tokio::test]
async fn reconcile_adds_finalizer_then_stores() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let from_folder = apply_folder(&store).await;

    let (tenant, policy) = common::harborview_resources();
    let (context, mut server) = context(store.clone());

    // A Tenant without the finalizer gets only the finalizer patch.
    let first = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    let (method, path, body, send) = next(&mut server, "the finalizer patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, TENANT_PATH);
    assert!(body.to_string().contains(FINALIZER), "finalizer patch body: {body}");
    let mut with_finalizer = tenant.clone();
    with_finalizer.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    respond(send, &serde_json::to_value(&with_finalizer).unwrap());
    first.await.unwrap().unwrap();

    // With the finalizer: read the policy, store, patch the status, post an Event.
    let second = tokio::spawn(reconcile(Arc::new(with_finalizer.clone()), context.clone()));
    let (method, path, _, send) = next(&mut server, "the AccessPolicy read").await;
    assert_eq!(method, Method::GET);
    assert_eq!(
        path,
        format!("/apis/rollcall.dev/v1alpha1/namespaces/clinics/accesspolicies/{}", common::POLICY)
    );
    respond(send, &serde_json::to_value(&policy).unwrap());
    answer_campaign_list(&mut server, &[]).await;

    let (method, path, body, send) = next(&mut server, "the status patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{TENANT_PATH}/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["type"], "Ready");
    assert_eq!(condition["status"], "True", "condition: {condition}");
    assert_eq!(condition["reason"], "Applied");
    assert_eq!(body["status"]["observedGeneration"], 1);
    let mut with_status = with_finalizer.clone();
    with_status.status = serde_json::from_value(body["status"].clone()).unwrap();
    respond(send, &serde_json::to_value(&with_status).unwrap());

    let (method, path, body, send) = next(&mut server, "the Event").await;
    assert_eq!(method, Method::POST);
    assert_eq!(path, "/apis/events.k8s.io/v1/namespaces/clinics/events");
    assert_eq!(body["reason"], "Applied");
    assert_eq!(body["type"], "Normal");
    assert_eq!(body["regarding"]["name"], "harborview");
    respond(send, &body);
    second.await.unwrap().unwrap();

    // The same Tenant again: no status patch and no Event, because neither the condition
    // nor the stored texts changed. A patch here would be a watch event that starts the
    // next reconcile, and so on without end.
    let third = tokio::spawn(reconcile(Arc::new(with_status.clone()), context.clone()));
    let (_, _, _, send) = next(&mut server, "the AccessPolicy read").await;
    respond(send, &serde_json::to_value(&policy).unwrap());
    answer_campaign_list(&mut server, &[]).await;
    third.await.unwrap().unwrap();

    // The operator sends nothing more once the client is gone.
    drop(context);
    assert!(server.next_request().await.is_none(), "unexpected extra request");

    let from_resource = stored(&store).await;
    assert!(from_resource.text.tenant_yaml.contains("Rendered by rollcall-operator"));
    assert_same_tenant(&from_folder.text, &from_resource.text);
}

/// Checks that the engine parses both texts into the same tenant: id, name, zone, deadline, policy.
fn assert_same_tenant(folder: &TenantConfigText, resource: &TenantConfigText) {
    let folder = parse_stored(&folder.tenant_yaml, folder.policy_yaml.as_deref()).unwrap().tenant;
    let resource =
        parse_stored(&resource.tenant_yaml, resource.policy_yaml.as_deref()).unwrap().tenant;
    assert_eq!(folder.id, resource.id);
    assert_eq!(folder.name, resource.name);
    assert_eq!(folder.time_zone, resource.time_zone);
    assert_eq!(folder.deprovision_sla, resource.deprovision_sla);
    assert_eq!(format!("{:?}", folder.policy), format!("{:?}", resource.policy));
}

#[tokio::test]
async fn missing_policy_sets_ready_false() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (mut tenant, _) = common::harborview_resources();
    tenant.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    let (context, mut server) = context(store.clone());

    let task = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    let (_, _, _, send) = next(&mut server, "the AccessPolicy read").await;
    let not_found = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": "not found", "reason": "NotFound", "code": 404
    });
    let mut response = Response::new(Body::from(serde_json::to_vec(&not_found).unwrap()));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    send.send_response(response);

    let (method, path, body, send) = next(&mut server, "the status patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{TENANT_PATH}/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "AccessPolicyNotFound");
    respond(send, &serde_json::to_value(&tenant).unwrap());

    let (_, _, body, send) = next(&mut server, "the Warning Event").await;
    assert_eq!(body["type"], "Warning");
    respond(send, &body);
    task.await.unwrap().unwrap();

    let config = store.tenant(&TenantId::new("harborview").unwrap()).tenant_config().await.unwrap();
    assert!(config.is_none(), "nothing is stored without the policy");
}

/// Each source's Secret is read by name. The configuration is stored even when one is
/// missing or lacks its key, and the condition names each such Secret.
#[tokio::test]
async fn missing_source_secret_is_named() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    tenant.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    let source = |kind: SourceKind, id: &str, secret: &str, key: Option<&str>| SourceSpec {
        kind,
        id: id.to_owned(),
        secret_ref: SecretKeyRef { name: secret.to_owned(), key: key.map(str::to_owned) },
    };
    tenant.spec.sources = vec![
        source(SourceKind::Entra, "5c2e0000-1111-4222-8333-000000000001", "graph-app", None),
        source(SourceKind::Ldap, "dc=harborview,dc=example", "ldap-bind", Some("password")),
        source(SourceKind::Ehr, "drchrono", "drchrono-app", None),
    ];
    let (context, mut server) = context(store.clone());

    let task = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    answer_campaign_list(&mut server, &[]).await;
    let secret = |name: &str, key: &str| {
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": name, "namespace": common::NAMESPACE },
            "data": { key: "bWFkZS11cA==" },
        })
    };
    let secrets = "/api/v1/namespaces/clinics/secrets";
    // The Graph app's Secret exists; the LDAP one has another key; DrChrono's is absent.
    let (method, path, _, send) = next(&mut server, "the Graph Secret read").await;
    assert_eq!((method, path), (Method::GET, format!("{secrets}/graph-app")));
    respond(send, &secret("graph-app", "client-secret"));
    let (_, path, _, send) = next(&mut server, "the LDAP Secret read").await;
    assert_eq!(path, format!("{secrets}/ldap-bind"));
    respond(send, &secret("ldap-bind", "bind-password"));
    let (_, path, _, send) = next(&mut server, "the DrChrono Secret read").await;
    assert_eq!(path, format!("{secrets}/drchrono-app"));
    let not_found = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": "not found", "reason": "NotFound", "code": 404
    });
    let mut response = Response::new(Body::from(serde_json::to_vec(&not_found).unwrap()));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    send.send_response(response);

    let (method, path, body, send) = next(&mut server, "the status patch").await;
    assert_eq!((method, path), (Method::PATCH, format!("{TENANT_PATH}/status")));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "SourceSecretMissing");
    let message = condition["message"].as_str().unwrap();
    assert!(message.contains("is stored"), "{message}");
    assert!(message.contains("Secret `ldap-bind` of the ldap source"), "{message}");
    assert!(message.contains("has no key `password`"), "{message}");
    assert!(message.contains("Secret `drchrono-app` of the ehr source `drchrono` not found"));
    assert!(!message.contains("graph-app"), "{message}");
    respond(send, &serde_json::to_value(&tenant).unwrap());
    let (_, _, body, send) = next(&mut server, "the Warning Event").await;
    assert_eq!(
        (body["type"].as_str(), body["reason"].as_str()),
        (Some("Warning"), Some("SourceSecretMissing"))
    );
    respond(send, &body);
    task.await.unwrap().unwrap();

    let config = store.tenant(&TenantId::new("harborview").unwrap()).tenant_config().await.unwrap();
    assert!(config.is_some(), "the configuration is stored without the credentials");
}

#[tokio::test]
async fn invalid_tenant_sets_ready_false() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.time_zone = "Mars/Olympus".to_owned();
    tenant.spec.access_policy_ref = None;
    tenant.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    let (context, mut server) = context(store.clone());

    let task = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    answer_campaign_list(&mut server, &[]).await;
    let (method, path, body, send) = next(&mut server, "the status patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{TENANT_PATH}/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "Invalid");
    let message = condition["message"].as_str().unwrap();
    assert!(message.contains("Mars/Olympus"), "the message must name the bad zone: {message}");
    respond(send, &serde_json::to_value(&tenant).unwrap());

    let (method, _, body, send) = next(&mut server, "the Warning Event").await;
    assert_eq!(method, Method::POST);
    assert_eq!(body["type"], "Warning");
    assert_eq!(body["reason"], "Invalid");
    respond(send, &body);
    task.await.unwrap().unwrap();

    let config = store.tenant(&TenantId::new("harborview").unwrap()).tenant_config().await.unwrap();
    assert!(config.is_none(), "an invalid tenant must not be stored");
}

#[tokio::test]
async fn deletion_is_audited_then_released() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let from_folder = apply_folder(&store).await;
    let (mut tenant, _) = common::harborview_resources();
    tenant.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    tenant.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now()),
    );
    let (context, mut server) = context(store.clone());

    let task = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    let (method, path, body, send) = next(&mut server, "the finalizer removal").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, TENANT_PATH);
    assert!(body.to_string().contains("\"remove\""), "finalizer removal body: {body}");
    let mut released = tenant.clone();
    released.metadata.finalizers = None;
    respond(send, &serde_json::to_value(&released).unwrap());
    task.await.unwrap().unwrap();

    let scope = store.tenant(&TenantId::new("harborview").unwrap());
    let actions: Vec<String> =
        scope.audit_entries(0, 100).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["tenant_config.applied", "tenant_config.resource_deleted"]);
    let kept = scope.tenant_config().await.unwrap().unwrap();
    assert_eq!(kept.text, from_folder.text, "deletion keeps the stored configuration");
}

#[tokio::test]
async fn policy_status_reports_compile_error() {
    let db = TestDb::create().await;
    let (_, mut policy) = common::harborview_resources();
    policy.metadata.generation = Some(3);
    policy
        .spec
        .job_roles
        .get_mut("nurse")
        .unwrap()
        .baseline
        .insert("ehr:[".to_owned(), vec!["role:Nurse".to_owned()]);
    let (context, mut server) = context(db.store().await);

    let task = tokio::spawn(rollcall_operator::policy::reconcile(
        Arc::new(policy.clone()),
        context.clone(),
    ));
    let (method, path, body, send) = next(&mut server, "the AccessPolicy status patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(
        path,
        format!(
            "/apis/rollcall.dev/v1alpha1/namespaces/clinics/accesspolicies/{}/status",
            common::POLICY
        )
    );
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "Invalid");
    let message = condition["message"].as_str().unwrap();
    assert!(message.contains("job_roles.nurse"), "the message must name the key: {message}");
    assert_eq!(body["status"]["observedGeneration"], 3);
    let mut with_status = policy.clone();
    with_status.status = serde_json::from_value(body["status"].clone()).unwrap();
    respond(send, &serde_json::to_value(&with_status).unwrap());
    task.await.unwrap().unwrap();

    // The same policy with that status: nothing to patch.
    rollcall_operator::policy::reconcile(Arc::new(with_status), context.clone()).await.unwrap();
    drop(context);
    assert!(server.next_request().await.is_none(), "an unchanged status must not be patched");
}

#[tokio::test]
async fn campaigns_are_stored_and_reported() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (mut tenant, _) = common::harborview_resources();
    tenant.spec.access_policy_ref = None;
    tenant.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    let valid = common::quarterly_campaign("entra-quarterly");
    let mut invalid = common::quarterly_campaign("weekly");
    invalid.spec.schedule = "every monday".to_owned();
    let mut other_tenant = common::quarterly_campaign("lakeside-quarterly");
    other_tenant.spec.tenant_ref = "lakeside".to_owned();
    let (context, mut server) = context(store.clone());

    let task = tokio::spawn(reconcile(Arc::new(tenant.clone()), context.clone()));
    answer_campaign_list(&mut server, &[invalid.clone(), other_tenant, valid.clone()]).await;

    // The Tenant is stored without the invalid campaign, and its condition names it.
    let (method, path, body, send) = next(&mut server, "the Tenant status patch").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{TENANT_PATH}/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "True", "condition: {condition}");
    let message = condition["message"].as_str().unwrap();
    assert!(message.contains("left out: weekly"), "{message}");
    respond(send, &serde_json::to_value(&tenant).unwrap());
    let (method, _, body, send) = next(&mut server, "the Event").await;
    assert_eq!(method, Method::POST);
    respond(send, &body);

    // Each campaign of this tenant gets its own condition, in name order.
    let (method, path, body, send) = next(&mut server, "the first campaign's status").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{CAMPAIGNS_PATH}/entra-quarterly/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "True", "condition: {condition}");
    assert_eq!(condition["reason"], "Stored");
    assert_eq!(body["status"]["observedGeneration"], 1);
    let mut valid_with_status = valid.clone();
    valid_with_status.status = serde_json::from_value(body["status"].clone()).unwrap();
    respond(send, &serde_json::to_value(&valid_with_status).unwrap());

    let (method, path, body, send) = next(&mut server, "the second campaign's status").await;
    assert_eq!(method, Method::PATCH);
    assert_eq!(path, format!("{CAMPAIGNS_PATH}/weekly/status"));
    let condition = &body["status"]["conditions"][0];
    assert_eq!(condition["status"], "False", "condition: {condition}");
    assert_eq!(condition["reason"], "Invalid");
    let message = condition["message"].as_str().unwrap();
    assert!(message.contains("campaigns[0].schedule"), "the message names the key: {message}");
    let mut invalid_with_status = invalid.clone();
    invalid_with_status.status = serde_json::from_value(body["status"].clone()).unwrap();
    respond(send, &serde_json::to_value(&invalid_with_status).unwrap());
    task.await.unwrap().unwrap();

    let message = "the configuration of tenant `harborview` is stored; invalid ReviewCampaigns left out: weekly";
    let stored = stored(&store).await;
    let config = parse_stored(&stored.text.tenant_yaml, None).unwrap();
    let ids: Vec<&str> = config.campaigns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["entra-quarterly"]);

    // Again with the statuses written: only reads, because nothing changed.
    let mut tenant_with_status = tenant.clone();
    tenant_with_status.status = Some(rollcall_operator::resources::ResourceStatus {
        observed_generation: Some(1),
        conditions: serde_json::from_value(json!([{
            "type": "Ready", "status": "True", "reason": "Applied",
            "message": message,
            "lastTransitionTime": "2026-12-05T06:00:00Z",
        }]))
        .unwrap(),
    });
    let again = tokio::spawn(reconcile(Arc::new(tenant_with_status), context.clone()));
    answer_campaign_list(&mut server, &[invalid_with_status, valid_with_status]).await;
    again.await.unwrap().unwrap();
    drop(context);
    assert!(server.next_request().await.is_none(), "an unchanged status must not be patched");
}
