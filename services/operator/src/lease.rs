//! Leader election with a `coordination.k8s.io/v1` Lease, so that one replica reconciles,
//! because kube-runtime 5 has no leader election. A replica keeps the lease while it
//! renews it within `leaseDurationSeconds`, and another replica takes it over once it has
//! expired. The API server's optimistic concurrency (a replace
//! with a stale `resourceVersion` fails with 409 Conflict) makes one replica win a race.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;

/// The lease's name in the operator's namespace.
pub const LEASE_NAME: &str = "rollcall-operator";

/// How long a lease stays valid without renewal.
pub const LEASE_DURATION: Duration = Duration::from_secs(15);

/// How often the holder renews: a third of the duration, so two renewals can fail before
/// the lease expires.
pub const RENEW_INTERVAL: Duration = Duration::from_secs(5);

/// HTTP 409: another replica changed the lease first.
const CONFLICT: u16 = 409;

/// Takes or renews the lease for `holder` once. Returns whether `holder` is the holder now.
pub async fn try_acquire(
    api: &Api<Lease>,
    holder: &str,
    now: Timestamp,
) -> Result<bool, kube::Error> {
    let seconds = i32::try_from(LEASE_DURATION.as_secs()).unwrap_or(i32::MAX);
    let Some(mut lease) = api.get_opt(LEASE_NAME).await? else {
        let lease = Lease {
            metadata: ObjectMeta { name: Some(LEASE_NAME.to_owned()), ..ObjectMeta::default() },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.to_owned()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return conflict_is_false(api.create(&PostParams::default(), &lease).await);
    };

    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    let held_by_us = spec.holder_identity.as_deref() == Some(holder);
    if !held_by_us && !expired(spec, now) {
        return Ok(false);
    }
    if !held_by_us {
        spec.acquire_time = Some(MicroTime(now));
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
        spec.holder_identity = Some(holder.to_owned());
    }
    spec.lease_duration_seconds = Some(seconds);
    spec.renew_time = Some(MicroTime(now));
    // The lease keeps the resourceVersion it was read with, so a replica that changed it
    // in between makes this replace fail with 409.
    conflict_is_false(api.replace(LEASE_NAME, &PostParams::default(), &lease).await)
}

/// Checks whether the lease was last renewed more than its duration before `now`. A lease
/// without a renew time or duration is expired.
fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    match (&spec.renew_time, spec.lease_duration_seconds) {
        (Some(renewed), Some(seconds)) => {
            now.as_second() - renewed.0.as_second() > i64::from(seconds)
        }
        _ => true,
    }
}

fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == CONFLICT => Ok(false),
        Err(error) => Err(error),
    }
}

/// Waits until `holder` holds the lease, retrying every [`RENEW_INTERVAL`].
pub async fn acquire(api: &Api<Lease>, holder: &str) {
    loop {
        match try_acquire(api, holder, Timestamp::now()).await {
            Ok(true) => {
                tracing::info!(holder, lease = LEASE_NAME, "took the leader lease");
                return;
            }
            Ok(false) => tracing::debug!(
                holder,
                lease = LEASE_NAME,
                "another replica holds the leader lease"
            ),
            Err(error) => {
                tracing::warn!(holder, lease = LEASE_NAME, error = %error, "reading or taking the leader lease failed; retrying")
            }
        }
        tokio::time::sleep(RENEW_INTERVAL).await;
    }
}

/// Renews the lease every [`RENEW_INTERVAL`] and returns when `holder` lost it or could
/// not renew it before it expired; the caller must then stop reconciling.
pub async fn keep(api: &Api<Lease>, holder: &str) {
    let mut last_renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(RENEW_INTERVAL).await;
        match try_acquire(api, holder, Timestamp::now()).await {
            Ok(true) => last_renewed = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::warn!(holder, lease = LEASE_NAME, "lost the leader lease");
                return;
            }
            Err(error) => {
                tracing::warn!(holder, lease = LEASE_NAME, error = %error, "renewing the leader lease failed");
                if last_renewed.elapsed() >= LEASE_DURATION {
                    return;
                }
            }
        }
    }
}
