//! The leader lease against a mocked Kubernetes API server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test stops at its first broken expectation"
)]

use http::{Method, Request, Response, StatusCode};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::client::Body;
use rollcall_operator::lease::{LEASE_DURATION, LEASE_NAME, RENEW_INTERVAL, keep, try_acquire};
use serde_json::{Value, json};

type ApiServer = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const LEASE_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/rollcall/leases";

fn api() -> (Api<Lease>, ApiServer) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    (Api::namespaced(client, "rollcall"), handle)
}

async fn next(
    server: &mut ApiServer,
    expected: &str,
) -> (Method, String, Value, tower_test::mock::SendResponse<Response<Body>>) {
    let (request, send) =
        server.next_request().await.unwrap_or_else(|| panic!("the client never sent {expected}"));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let bytes = request.into_body().collect_bytes().await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (method, path, body, send)
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, status: StatusCode, body: &Value) {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap()));
    *response.status_mut() = status;
    send.send_response(response);
}

fn status(code: u16, reason: &str) -> Value {
    json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "message": reason, "reason": reason, "code": code })
}

fn lease_held_by(holder: &str, renewed: Timestamp) -> Value {
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(LEASE_NAME.to_owned()),
            namespace: Some("rollcall".to_owned()),
            resource_version: Some("41".to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(2),
            ..LeaseSpec::default()
        }),
    };
    serde_json::to_value(lease).unwrap()
}

#[tokio::test]
async fn missing_lease_is_created() {
    let (api, mut server) = api();
    let now = Timestamp::now();
    let task = tokio::spawn(async move { try_acquire(&api, "pod-a", now).await });

    let (method, path, _, send) = next(&mut server, "the lease read").await;
    assert_eq!(method, Method::GET);
    assert_eq!(path, format!("{LEASE_PATH}/{LEASE_NAME}"));
    respond(send, StatusCode::NOT_FOUND, &status(404, "NotFound"));

    let (method, path, body, send) = next(&mut server, "the lease creation").await;
    assert_eq!(method, Method::POST);
    assert_eq!(path, LEASE_PATH);
    assert_eq!(body["spec"]["holderIdentity"], "pod-a");
    assert_eq!(body["spec"]["leaseDurationSeconds"], 15);
    respond(send, StatusCode::CREATED, &body);

    assert!(task.await.unwrap().unwrap(), "pod-a must hold the new lease");
}

#[tokio::test]
async fn fresh_lease_of_other_is_kept() {
    let (api, mut server) = api();
    let now = Timestamp::now();
    let task = tokio::spawn(async move { try_acquire(&api, "pod-a", now).await });

    let (_, _, _, send) = next(&mut server, "the lease read").await;
    respond(send, StatusCode::OK, &lease_held_by("pod-b", now - SignedDuration::from_secs(3)));

    assert!(!task.await.unwrap().unwrap(), "pod-b renewed 3 s ago and keeps the lease");
    assert!(server.next_request().await.is_none(), "no write to a lease another replica holds");
}

#[tokio::test]
async fn expired_lease_is_taken_over() {
    let (api, mut server) = api();
    let now = Timestamp::now();
    let task = tokio::spawn(async move { try_acquire(&api, "pod-a", now).await });

    let (_, _, _, send) = next(&mut server, "the lease read").await;
    respond(send, StatusCode::OK, &lease_held_by("pod-b", now - SignedDuration::from_secs(60)));

    let (method, path, body, send) = next(&mut server, "the lease replace").await;
    assert_eq!(method, Method::PUT);
    assert_eq!(path, format!("{LEASE_PATH}/{LEASE_NAME}"));
    assert_eq!(body["spec"]["holderIdentity"], "pod-a");
    assert_eq!(body["spec"]["leaseTransitions"], 3);
    assert_eq!(
        body["metadata"]["resourceVersion"], "41",
        "the replace must carry the version it read"
    );
    respond(send, StatusCode::OK, &body);

    assert!(task.await.unwrap().unwrap());
}

#[tokio::test]
async fn lost_race_is_not_leader() {
    let (api, mut server) = api();
    let now = Timestamp::now();
    let task = tokio::spawn(async move { try_acquire(&api, "pod-a", now).await });

    let (_, _, _, send) = next(&mut server, "the lease read").await;
    respond(send, StatusCode::OK, &lease_held_by("pod-b", now - SignedDuration::from_secs(60)));
    let (_, _, _, send) = next(&mut server, "the lease replace").await;
    respond(send, StatusCode::CONFLICT, &status(409, "Conflict"));

    assert!(!task.await.unwrap().unwrap(), "a 409 means another replica took the lease first");
}

/// Responds to one renewal round of `keep` for `pod-a`: to the read with `read`, and,
/// when the lease is still pod-a's, to the replace with 200.
async fn renewal(server: &mut ApiServer, read: (StatusCode, Value)) {
    let (method, _, _, send) = next(server, "the renewal read").await;
    assert_eq!(method, Method::GET);
    let held = read.1.pointer("/spec/holderIdentity").and_then(Value::as_str) == Some("pod-a");
    respond(send, read.0, &read.1);
    if held {
        let (method, _, body, send) = next(server, "the renewal replace").await;
        assert_eq!(method, Method::PUT);
        respond(send, StatusCode::OK, &body);
    }
}

/// The holder renews every interval, and stops as soon as another replica holds the lease.
#[tokio::test(start_paused = true)]
async fn keep_renews_until_lease_lost() {
    let (api, mut server) = api();
    let task = tokio::spawn(async move { keep(&api, "pod-a").await });
    let ours = (StatusCode::OK, lease_held_by("pod-a", Timestamp::now()));
    renewal(&mut server, ours.clone()).await;
    renewal(&mut server, ours).await;
    assert!(!task.is_finished(), "the holder stopped while it still held the lease");
    renewal(&mut server, (StatusCode::OK, lease_held_by("pod-b", Timestamp::now()))).await;
    task.await.unwrap();
}

/// A failed renewal is tolerated while the last success is within the lease duration; once
/// renewals failed for the whole duration, the holder stops.
#[tokio::test(start_paused = true)]
async fn keep_stops_after_failures_outlast_lease() {
    let (api, mut server) = api();
    let task = tokio::spawn(async move { keep(&api, "pod-a").await });
    let failed = (StatusCode::INTERNAL_SERVER_ERROR, status(500, "InternalError"));
    // One failure, then a success: still the holder.
    renewal(&mut server, failed.clone()).await;
    renewal(&mut server, (StatusCode::OK, lease_held_by("pod-a", Timestamp::now()))).await;
    // Failures for LEASE_DURATION after that success: one per RENEW_INTERVAL.
    let rounds = LEASE_DURATION.as_secs().div_ceil(RENEW_INTERVAL.as_secs());
    for round in 1..rounds {
        renewal(&mut server, failed.clone()).await;
        tokio::task::yield_now().await;
        assert!(!task.is_finished(), "stopped after {round} failed renewals");
    }
    renewal(&mut server, failed).await;
    task.await.unwrap();
    drop(server);
}
