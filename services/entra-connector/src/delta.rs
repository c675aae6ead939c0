//! Delta syncs: users and groups are updated from Graph delta rounds instead of being read
//! in full, and the delta links are kept between syncs.
//!
//! The first sync of a tenant, and every sync whose delta token Graph no longer accepts
//! (`410`, or `400` with `syncStateNotFound`), reads the directory in full. It asks for
//! `$deltatoken=latest` links before the full read, so a change made during the read is
//! replayed by the next round instead of being lost. Roles, the registration report,
//! methods and the policy have no delta query and are read in full on every sync.

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rollcall_proto::InputProblem;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{GraphClient, GraphError};
use crate::sync::{
    BATCH_SIZE, Directory, RemovedUser, SyncResult, USER_SELECT, batch_get, finish_sync,
    inner_error, object_id, read_directory, read_members,
};
use crate::transport::Transport;

/// The endpoint label of the changed users read inside a batch.
const USERS_BATCH_ENDPOINT: &str = "$batch users";

/// The state kept between syncs of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaState {
    /// The users `@odata.deltaLink` to start the next round from.
    pub users_delta_link: String,
    /// The groups `@odata.deltaLink` to start the next round from.
    pub groups_delta_link: String,
    /// The directory after the last complete sync.
    pub directory: Directory,
    /// When the directory was last read in full. Delta rounds do not report sign-in
    /// activity, so sign-in times are as fresh as this read.
    pub full_read_at: DateTime<Utc>,
    /// The content SHA-256 (64 hex digits) of the last snapshot NATS acknowledged, so an
    /// unchanged directory is not published again. `None` before the first publish.
    #[serde(default)]
    pub published_hash: Option<String>,
}

/// The kind of read a delta sync made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaMode {
    /// No state: the directory was read in full.
    Initial,
    /// The state's delta links were applied.
    Delta,
    /// Graph rejected the delta token, so the directory was read in full.
    ExpiredToken,
    /// The last full read was older than the limit, so the directory was read in full.
    Refresh,
}

/// Syncs a tenant from `previous` with delta rounds, or in full when there is no state,
/// the token expired or the last full read is older than `max_full_read_age`. Returns
/// the result and the state to save; save it only when the caller has used the result.
pub async fn delta_sync<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
    previous: Option<&DeltaState>,
    max_full_read_age: chrono::Duration,
) -> Result<(SyncResult, DeltaState, DeltaMode), GraphError> {
    let started = Instant::now();
    let now = Utc::now();
    let Some(previous) = previous else {
        return full_with_links(client, graph_url, tenant, None, DeltaMode::Initial, started).await;
    };
    if now - previous.full_read_at > max_full_read_age {
        let (result, mut state, mode) =
            full_with_links(client, graph_url, tenant, None, DeltaMode::Refresh, started).await?;
        state.published_hash.clone_from(&previous.published_hash);
        return Ok((result, state, mode));
    }
    let mut problems = Vec::new();
    match apply_delta(client, graph_url, tenant, previous).await {
        Ok((directory, users_link, groups_link)) => {
            for (id, removed) in &directory.removed {
                if previous.directory.removed.get(id) == Some(removed) {
                    continue;
                }
                problems.push(removal_problem(id, removed));
            }
            let result =
                finish_sync(client, graph_url, tenant, &directory, problems, started).await?;
            let state = DeltaState {
                users_delta_link: users_link,
                groups_delta_link: groups_link,
                directory,
                full_read_at: previous.full_read_at,
                published_hash: previous.published_hash.clone(),
            };
            Ok((result, state, DeltaMode::Delta))
        }
        Err(error) if is_expired_token(&error) => {
            tracing::warn!(tenant, %error, "delta token rejected, reading the directory in full");
            problems.clear();
            full_with_links(
                client,
                graph_url,
                tenant,
                Some(previous),
                DeltaMode::ExpiredToken,
                started,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

/// Builds the sync report entry that names a removed user and the kind of removal.
fn removal_problem(id: &str, removed: &RemovedUser) -> InputProblem {
    let upn = removed
        .last_known
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .unwrap_or("no user principal name");
    let message = if removed.reason == "changed" {
        format!(
            "user {id} ({upn}) was soft-deleted and can be restored for 30 days; it was a member of {} groups",
            removed.groups.len()
        )
    } else {
        format!("user {id} ({upn}) was permanently deleted and its memberships dropped")
    };
    InputProblem { input: "users/delta".into(), location: None, message, fatal: false }
}

/// `410 Gone` (any code), or `400` with `syncStateNotFound` in any letter case.
pub fn is_expired_token(error: &GraphError) -> bool {
    match error.status() {
        Some(410) => true,
        Some(400) => {
            error.code().is_some_and(|code| code.eq_ignore_ascii_case("syncStateNotFound"))
        }
        _ => false,
    }
}

async fn full_with_links<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
    previous: Option<&DeltaState>,
    mode: DeltaMode,
    started: Instant,
) -> Result<(SyncResult, DeltaState, DeltaMode), GraphError> {
    let published_hash = previous.and_then(|state| state.published_hash.clone());
    let v1 = format!("{}/v1.0", graph_url.trim_end_matches('/'));
    let users_link = latest_link(
        client,
        "users/delta",
        &format!("{v1}/users/delta?$select=id&$deltatoken=latest"),
    )
    .await?;
    let groups_link = latest_link(
        client,
        "groups/delta",
        &format!("{v1}/groups/delta?$select=id&$deltatoken=latest"),
    )
    .await?;
    let full_read_at = Utc::now();
    let mut problems = Vec::new();
    let directory = read_directory(client, graph_url, tenant, &mut problems).await?;
    if let Some(previous) = previous {
        // A full read lists only what exists now, so users deleted while the token was
        // stale would otherwise vanish without a trace.
        let now: BTreeSet<String> = directory.user_ids().into_iter().collect();
        let missing: Vec<String> =
            previous.directory.user_ids().into_iter().filter(|id| !now.contains(id)).collect();
        if !missing.is_empty() {
            tracing::info!(
                tenant,
                missing = missing.len(),
                "users missing after a full read that replaced an expired delta token"
            );
            problems.push(InputProblem {
                input: "users/delta".into(),
                location: None,
                message: format!(
                    "the delta token had expired; {} users known before are gone and are treated as deleted: {}",
                    missing.len(),
                    missing.join(", ")
                ),
                fatal: false,
            });
        }
    }
    let result = finish_sync(client, graph_url, tenant, &directory, problems, started).await?;
    let state = DeltaState {
        users_delta_link: users_link,
        groups_delta_link: groups_link,
        directory,
        full_read_at,
        published_hash,
    };
    Ok((result, state, mode))
}

/// Follows a delta round to its end and returns its `@odata.deltaLink`.
async fn latest_link<T: Transport>(
    client: &mut GraphClient<'_, T>,
    endpoint: &str,
    url: &str,
) -> Result<String, GraphError> {
    let pages = client.get_pages(endpoint, url).await?;
    delta_link(&pages, endpoint)
}

fn delta_link(pages: &[Value], endpoint: &str) -> Result<String, GraphError> {
    pages
        .last()
        .and_then(|page| page.get("@odata.deltaLink"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| GraphError::Status {
            endpoint: endpoint.to_owned(),
            status: 200,
            code: "missingDeltaLink".into(),
            message: "the last page of the delta round has no @odata.deltaLink".into(),
        })
}

fn delta_items(pages: &[Value]) -> impl Iterator<Item = &Value> {
    pages.iter().filter_map(|page| page.get("value").and_then(Value::as_array)).flatten()
}

/// Applies the users and groups delta rounds to a copy of the previous directory.
async fn apply_delta<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
    previous: &DeltaState,
) -> Result<(Directory, String, String), GraphError> {
    let v1 = format!("{}/v1.0", graph_url.trim_end_matches('/'));
    let mut directory = previous.directory.clone();

    let user_pages = client.get_pages("users/delta", &previous.users_delta_link).await?;
    let users_link = delta_link(&user_pages, "users/delta")?;
    let mut changed_users = Vec::new();
    for item in delta_items(&user_pages) {
        let Some(id) = object_id(item) else { continue };
        match item.get("@removed") {
            Some(removed) => {
                // `changed` is a soft delete (restorable for 30 days), `deleted` is
                // permanent. Graph lists neither, so both leave the users and every
                // member list; `removed` keeps what a review needs to tell them apart.
                let reason = removed.get("reason").and_then(Value::as_str).unwrap_or("deleted");
                tracing::info!(tenant, user = %id, reason, "user removed in delta round");
                remove_user(&mut directory, &id, reason);
            }
            None => {
                directory.removed.remove(&id);
                changed_users.push(id);
            }
        }
    }
    changed_users.sort();
    changed_users.dedup();
    for (id, user) in
        read_users_by_id(client, &v1, &changed_users, directory.sign_in_available).await?
    {
        match user {
            Some(user) => upsert(&mut directory.users, user),
            None => remove_user(&mut directory, &id, "deleted"),
        }
    }

    let group_pages = client.get_pages("groups/delta", &previous.groups_delta_link).await?;
    let groups_link = delta_link(&group_pages, "groups/delta")?;
    let mut changed_groups = Vec::new();
    for item in delta_items(&group_pages) {
        let Some(id) = object_id(item) else { continue };
        if item.get("@removed").is_some() {
            directory.groups.retain(|g| object_id(g).as_deref() != Some(&id));
            directory.members.remove(&id);
            continue;
        }
        let mut group = item.clone();
        if let Some(fields) = group.as_object_mut() {
            fields.retain(|key, _| !key.starts_with('@') && !key.contains("@delta"));
        }
        upsert(&mut directory.groups, group);
        changed_groups.push(id);
    }
    changed_groups.sort();
    changed_groups.dedup();
    // NOTE: a member added to a nested group changes the parent's transitive members
    // without a delta item for the parent. Only changed groups are read again here, so
    // such a change waits for the next full read.
    for id in changed_groups {
        let members = read_members(client, &v1, &id).await?;
        directory.members.insert(id, members);
    }
    Ok((directory, users_link, groups_link))
}

fn upsert(list: &mut Vec<Value>, item: Value) {
    let id = object_id(&item);
    match list.iter_mut().find(|existing| object_id(existing) == id) {
        Some(existing) => *existing = item,
        None => list.push(item),
    }
}

fn remove_user(directory: &mut Directory, id: &str, reason: &str) {
    let last_known = directory
        .users
        .iter()
        .find(|u| object_id(u).as_deref() == Some(id))
        .cloned()
        .or_else(|| directory.removed.get(id).map(|r| r.last_known.clone()))
        .unwrap_or_else(|| json!({ "id": id }));
    directory.users.retain(|u| object_id(u).as_deref() != Some(id));
    let mut groups = Vec::new();
    for (group, members) in &mut directory.members {
        let before = members.len();
        members.retain(|m| object_id(m).as_deref() != Some(id));
        if members.len() != before {
            groups.push(group.clone());
        }
    }
    if reason != "changed" {
        groups.clear();
    }
    directory
        .removed
        .insert(id.to_owned(), RemovedUser { reason: reason.to_owned(), last_known, groups });
}

/// Reads changed users one by one in JSON batches of 20, with the same properties as
/// the full listing. `None` for a user Graph no longer has.
async fn read_users_by_id<T: Transport>(
    client: &mut GraphClient<'_, T>,
    v1: &str,
    ids: &[String],
    sign_in_available: bool,
) -> Result<Vec<(String, Option<Value>)>, GraphError> {
    let select: Vec<&str> = USER_SELECT
        .iter()
        .copied()
        .filter(|f| sign_in_available || *f != "signInActivity")
        .collect();
    let select = select.join(",");
    let mut out = Vec::new();
    for chunk in ids.chunks(BATCH_SIZE) {
        let responses = batch_get(client, v1, chunk, |id| {
            format!("/users/{id}?$select={select}&$expand=manager($select=id)")
        })
        .await?;
        for (id, (status, body)) in chunk.iter().zip(responses) {
            match (status, body) {
                (200, Some(user)) => out.push((id.clone(), Some(user))),
                (404, _) => out.push((id.clone(), None)),
                (403, body) => {
                    let (code, message) = inner_error(body.as_ref());
                    return Err(GraphError::forbidden(USERS_BATCH_ENDPOINT, code, message));
                }
                (status, body) => {
                    let (code, _) = inner_error(body.as_ref());
                    // A throttled inner request fails the round, so the delta links are
                    // not advanced and the next sync reads these changes again.
                    return Err(GraphError::Status {
                        endpoint: USERS_BATCH_ENDPOINT.into(),
                        status: u16::try_from(status).unwrap_or(0),
                        code,
                        message: format!("reading changed user {id} failed"),
                    });
                }
            }
        }
    }
    Ok(out)
}
