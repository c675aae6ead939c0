//! The `Ready` condition that every Rollcall resource reports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::resources::ResourceStatus;

/// The condition type.
pub const READY: &str = "Ready";

/// Builds the status with a `Ready` condition for `generation`, keeping the previous
/// transition time while the condition's status stays the same. Returns the status and
/// whether the condition (status, reason, message) is unchanged.
pub fn ready_status(
    previous: Option<&ResourceStatus>,
    generation: Option<i64>,
    ready: bool,
    reason: &str,
    message: &str,
) -> (ResourceStatus, bool) {
    let previous = previous.and_then(|status| status.conditions.iter().find(|c| c.type_ == READY));
    let status = if ready { "True" } else { "False" };
    let unchanged =
        previous.is_some_and(|c| c.status == status && c.reason == reason && c.message == message);
    let last_transition_time = match previous {
        Some(condition) if condition.status == status => condition.last_transition_time.clone(),
        _ => Time(Timestamp::now()),
    };
    let condition = Condition {
        type_: READY.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time,
    };
    (ResourceStatus { observed_generation: generation, conditions: vec![condition] }, unchanged)
}
