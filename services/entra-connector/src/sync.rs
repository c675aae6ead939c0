//! A full sync of one tenant: every read, then the snapshot built by the same reader
//! `rollcall scan` uses for saved Graph responses.
//!
//! Each response body is handed to [`EntraImport`] under the file name an engineer would
//! save it as (`users.page0001.json`, `groups/<id>/transitiveMembers.page0001.json`,
//! `users/<id>/authentication/methods.json`, ...), so a sync and a scan of the same
//! responses give the same snapshot by construction.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rollcall_core::model::SourceSnapshot;
use rollcall_ingest::Diagnostic;
use rollcall_ingest::entra::EntraImport;
use rollcall_proto::InputProblem;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{GraphClient, GraphError, RequestStats};
use crate::permissions::DENIED_CODE;
use crate::transport::Transport;

/// The user properties a sync selects. `signInActivity` needs Entra ID P1 or P2.
pub const USER_SELECT: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "employeeId",
    "jobTitle",
    "department",
    "userType",
    "accountEnabled",
    "onPremisesSyncEnabled",
    "createdDateTime",
    "signInActivity",
];

const GROUP_SELECT: &str = "id,displayName,description,securityEnabled,mailEnabled,groupTypes,isAssignableToRole,onPremisesSyncEnabled";

/// Graph's largest page for directory objects and the registration report.
const PAGE_SIZE: u32 = 999;

/// Graph's largest page of users when `signInActivity` is selected (Microsoft Graph
/// throttling guidance, "Identity and access service limits", January 2025).
const SIGN_IN_PAGE_SIZE: u32 = 500;

/// Graph accepts at most 20 requests in one JSON batch.
pub(crate) const BATCH_SIZE: usize = 20;

/// The endpoint label of the per-user methods reads inside a batch.
const METHODS_ENDPOINT: &str = "$batch users/authentication/methods";

/// The error code Graph sends when a tenant without Entra ID P1 or P2 requests sign-in
/// activity or the registration report.
pub const NO_PREMIUM_CODE: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/// The outcome of a good sync: the snapshot, its problems and its cost.
#[derive(Debug)]
pub struct SyncResult {
    /// The tenant's `entra` snapshot.
    pub snapshot: SourceSnapshot,
    /// The reader's diagnostics, with the virtual file names of the responses.
    pub diagnostics: Vec<Diagnostic>,
    /// Non-fatal problems for the sync report, such as sign-in activity being unavailable.
    pub problems: Vec<InputProblem>,
    /// The request cost.
    pub stats: RequestStats,
    /// Users and groups read.
    pub objects: u64,
    /// Wall time of the sync.
    pub duration: Duration,
    /// Whether sign-in activity could be read (false without Entra ID P1 or P2).
    pub sign_in_available: bool,
    /// The users, groups and members the snapshot was built from.
    pub directory: Directory,
}

/// The users, groups and transitive members of a tenant as Graph sent them. A delta
/// round is applied to this, and it is what the store keeps between syncs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    /// The `@odata.context` of the users listing, which names the selected properties.
    pub users_context: String,
    /// User objects.
    pub users: Vec<Value>,
    /// The `@odata.context` of the groups listing.
    pub groups_context: String,
    /// Group objects.
    pub groups: Vec<Value>,
    /// Transitive members per group id.
    pub members: BTreeMap<String, Vec<Value>>,
    /// Whether the users carry sign-in activity.
    pub sign_in_available: bool,
    /// Users a delta round removed, by id. Graph lists them no more, so they are not in
    /// the snapshot, but their last attributes and groups are kept for review.
    #[serde(default)]
    pub removed: BTreeMap<String, RemovedUser>,
}

/// A user that a delta round reported as `@removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovedUser {
    /// `changed`: soft-deleted, restorable for 30 days. `deleted`: permanently deleted.
    pub reason: String,
    /// The user object as last read, never blanked by the removal.
    pub last_known: Value,
    /// The groups the user was a transitive member of. Empty for a permanent delete,
    /// which drops memberships; kept for a soft delete, which a restore brings back.
    pub groups: Vec<String>,
}

impl Directory {
    /// Returns the user ids.
    pub fn user_ids(&self) -> Vec<String> {
        self.users.iter().filter_map(object_id).collect()
    }

    /// Users and groups.
    fn objects(&self) -> u64 {
        (self.users.len() + self.groups.len()) as u64
    }
}

pub(crate) fn object_id(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// Runs a full sync of one tenant against `graph_url` (without `/v1.0`).
pub async fn full_sync<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
) -> Result<SyncResult, GraphError> {
    let started = Instant::now();
    let mut problems = Vec::new();
    let directory = read_directory(client, graph_url, tenant, &mut problems).await?;
    finish_sync(client, graph_url, tenant, &directory, problems, started).await
}

/// Reads users, groups and every group's transitive members.
pub(crate) async fn read_directory<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
    problems: &mut Vec<InputProblem>,
) -> Result<Directory, GraphError> {
    let v1 = format!("{}/v1.0", graph_url.trim_end_matches('/'));
    let (user_pages, sign_in_available) = read_users(client, &v1, tenant, problems).await?;
    let groups_url = format!("{v1}/groups?$select={GROUP_SELECT}&$top={PAGE_SIZE}");
    let group_pages = client.get_pages("groups", &groups_url).await?;
    let mut directory = Directory {
        users_context: context_of(&user_pages),
        users: items(&user_pages).cloned().collect(),
        groups_context: context_of(&group_pages),
        groups: items(&group_pages).cloned().collect(),
        members: BTreeMap::new(),
        sign_in_available,
        removed: BTreeMap::new(),
    };
    for id in ids_in_pages(&group_pages) {
        let members = read_members(client, &v1, &id).await?;
        directory.members.insert(id, members);
    }
    Ok(directory)
}

/// Reads one group's transitive members.
pub(crate) async fn read_members<T: Transport>(
    client: &mut GraphClient<'_, T>,
    v1: &str,
    group: &str,
) -> Result<Vec<Value>, GraphError> {
    let url = format!(
        "{v1}/groups/{group}/transitiveMembers?$select=id,displayName,userPrincipalName&$top={PAGE_SIZE}"
    );
    let pages = client.get_pages("groups/transitiveMembers", &url).await?;
    Ok(items(&pages).cloned().collect())
}

fn context_of(pages: &[Value]) -> String {
    pages
        .first()
        .and_then(|page| page.get("@odata.context"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Reads roles, the registration report, privileged accounts' methods and the methods
/// policy, and builds the snapshot from them and `directory`.
pub(crate) async fn finish_sync<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    tenant: &str,
    directory: &Directory,
    mut problems: Vec<InputProblem>,
    started: Instant,
) -> Result<SyncResult, GraphError> {
    let base = graph_url.trim_end_matches('/');
    let v1 = format!("{base}/v1.0");
    let mut import = Import::default();
    let user_ids = directory.user_ids();
    import.add(
        "users.json".into(),
        &json!({ "@odata.context": directory.users_context, "value": directory.users }),
    );
    import.add(
        "groups.json".into(),
        &json!({ "@odata.context": directory.groups_context, "value": directory.groups }),
    );
    for (id, members) in &directory.members {
        let context = format!("{v1}/$metadata#directoryObjects");
        import.add(
            format!("groups/{id}/transitiveMembers.json"),
            &json!({ "@odata.context": context, "value": members }),
        );
    }

    let role_reads = [
        ("roleAssignments", format!("{v1}/roleManagement/directory/roleAssignments")),
        (
            "roleEligibilitySchedules",
            format!("{v1}/roleManagement/directory/roleEligibilitySchedules"),
        ),
        // `isPrivileged` is only on beta.
        ("roleDefinitions", format!("{base}/beta/roleManagement/directory/roleDefinitions")),
    ];
    let mut privileged = Vec::new();
    for (name, url) in role_reads {
        let pages = client.get_pages(name, &url).await?;
        if name != "roleDefinitions" {
            privileged.extend(principal_ids(&pages).into_iter().filter(|id| user_ids.contains(id)));
        }
        import.pages(name, &pages);
    }
    privileged.sort();
    privileged.dedup();

    let report_url =
        format!("{v1}/reports/authenticationMethods/userRegistrationDetails?$top={PAGE_SIZE}");
    match client.get_pages("userRegistrationDetails", &report_url).await {
        Ok(pages) => import.pages("userRegistrationDetails", &pages),
        Err(error) if error.code() == Some(NO_PREMIUM_CODE) => {
            tracing::info!(
                tenant,
                "registration report needs Entra ID P1 or P2; reading privileged accounts' methods only"
            );
            problems.push(problem(
                "reports/authenticationMethods/userRegistrationDetails",
                "the registration report needs Entra ID P1 or P2, which this tenant lacks; methods are known only for privileged accounts",
            ));
        }
        Err(error) => return Err(error),
    }

    read_methods(client, &v1, &privileged, &mut import).await?;

    let policy = client
        .get("authenticationMethodsPolicy", &format!("{v1}/policies/authenticationMethodsPolicy"))
        .await?;
    import.add("authenticationMethodsPolicy.json".into(), &policy);

    let (snapshot, diagnostics) = import.finish();
    Ok(SyncResult {
        snapshot,
        diagnostics,
        problems,
        stats: client.stats().clone(),
        objects: directory.objects(),
        duration: started.elapsed(),
        sign_in_available: directory.sign_in_available,
        directory: directory.clone(),
    })
}

/// Reads the users with sign-in activity, or without it when the tenant lacks the licence.
async fn read_users<T: Transport>(
    client: &mut GraphClient<'_, T>,
    v1: &str,
    tenant: &str,
    problems: &mut Vec<InputProblem>,
) -> Result<(Vec<Value>, bool), GraphError> {
    let url = |select: &[&str]| {
        let top = if select.contains(&"signInActivity") { SIGN_IN_PAGE_SIZE } else { PAGE_SIZE };
        format!("{v1}/users?$select={}&$expand=manager($select=id)&$top={top}", select.join(","))
    };
    match client.get_pages("users", &url(USER_SELECT)).await {
        Ok(pages) => Ok((pages, true)),
        Err(error) if error.status() == Some(403) && error.code() == Some(NO_PREMIUM_CODE) => {
            // Without Entra ID P1 or P2 Graph rejects the whole listing. Reading it without
            // the property keeps every user; the reader then records last sign-in as
            // unknown, never as "never signed in".
            tracing::info!(
                tenant,
                "signInActivity needs Entra ID P1 or P2; reading users without it"
            );
            // The engine opens no finding from this problem. The rules raise the one
            // `signin_data_missing` finding from the snapshot, whose sign-ins are unknown.
            problems.push(InputProblem {
                input: "users".into(),
                location: Some("signInActivity".into()),
                message: format!(
                    "sign-in activity is not available: Graph answered 403 `{NO_PREMIUM_CODE}` because the tenant lacks Entra ID P1 or P2, so every account's last sign-in is unknown and inactive accounts cannot be assessed from Entra ID"
                ),
                fatal: false,
            });
            let without: Vec<&str> =
                USER_SELECT.iter().copied().filter(|f| *f != "signInActivity").collect();
            Ok((client.get_pages("users", &url(&without)).await?, false))
        }
        Err(error) => Err(error),
    }
}

/// Reads the methods of `users` with JSON batches of 20. Inner requests that are
/// throttled or fail with a server error are sent again in a later batch.
async fn read_methods<T: Transport>(
    client: &mut GraphClient<'_, T>,
    v1: &str,
    users: &[String],
    import: &mut Import,
) -> Result<(), GraphError> {
    let mut pending: Vec<String> = users.to_vec();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        let mut retry = Vec::new();
        for chunk in pending.chunks(BATCH_SIZE) {
            let responses =
                batch_get(client, v1, chunk, |id| format!("/users/{id}/authentication/methods"))
                    .await?;
            for (id, (status, body)) in chunk.iter().zip(responses) {
                match (status, body) {
                    (200, Some(body)) => {
                        import.add(format!("users/{id}/authentication/methods.json"), &body)
                    }
                    (0 | 429 | 500..=599, _) => retry.push(id.clone()),
                    (403, body) if inner_error(body.as_ref()).0 == DENIED_CODE => {
                        // Without the permission every account's methods are denied, so
                        // the sync stops instead of reporting privileged accounts as having
                        // no methods.
                        let (code, message) = inner_error(body.as_ref());
                        return Err(GraphError::forbidden(METHODS_ENDPOINT, code, message));
                    }
                    (status, _) => {
                        tracing::warn!(user = %id, status, "reading a privileged account's methods failed; the registration report is used for it");
                    }
                }
            }
        }
        if !retry.is_empty() && rounds >= 3 {
            return Err(GraphError::RetriesExhausted {
                endpoint: "$batch".into(),
                attempts: rounds,
                last: format!("{} inner requests still throttled or failing", retry.len()),
            });
        }
        if !retry.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        pending = retry;
    }
    Ok(())
}

/// Returns the `error.code` and `error.message` of an inner batch response body, empty
/// when absent.
pub(crate) fn inner_error(body: Option<&Value>) -> (String, String) {
    let error = body.and_then(|b| b.get("error"));
    let field = |name: &str| {
        error.and_then(|e| e.get(name)).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    (field("code"), field("message"))
}

/// Sends one JSON batch with a GET of `path(id)` for each of `ids` (at most
/// [`BATCH_SIZE`]) and returns each inner response's status and body, in the order of
/// `ids`. An inner response the batch left out has status 0 and no body.
pub(crate) async fn batch_get<T: Transport>(
    client: &mut GraphClient<'_, T>,
    v1: &str,
    ids: &[String],
    path: impl Fn(&str) -> String,
) -> Result<Vec<(u64, Option<Value>)>, GraphError> {
    let requests: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| json!({ "id": n.to_string(), "method": "GET", "url": path(id) }))
        .collect();
    let answer =
        client.post("$batch", &format!("{v1}/$batch"), &json!({ "requests": requests })).await?;
    let responses = answer.get("responses").and_then(Value::as_array).cloned().unwrap_or_default();
    let results = (0..ids.len())
        .map(|n| {
            let key = n.to_string();
            let response = responses
                .iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(key.as_str()));
            let status =
                response.and_then(|r| r.get("status")).and_then(Value::as_u64).unwrap_or(0);
            (status, response.and_then(|r| r.get("body")).cloned())
        })
        .collect();
    Ok(results)
}

fn problem(input: &str, message: &str) -> InputProblem {
    InputProblem {
        input: input.to_owned(),
        location: None,
        message: message.to_owned(),
        fatal: false,
    }
}

fn items(pages: &[Value]) -> impl Iterator<Item = &Value> {
    pages.iter().filter_map(|page| page.get("value").and_then(Value::as_array)).flatten()
}

fn ids_in_pages(pages: &[Value]) -> Vec<String> {
    items(pages)
        .filter_map(|item| item.get("id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn principal_ids(pages: &[Value]) -> Vec<String> {
    items(pages)
        .filter_map(|item| item.get("principalId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// The responses of a sync, fed to the saved-response reader under file names.
#[derive(Default)]
struct Import {
    import: EntraImport,
    diagnostics: Vec<Diagnostic>,
}

impl Import {
    fn pages(&mut self, request: &str, pages: &[Value]) {
        for (n, page) in pages.iter().enumerate() {
            self.add(format!("{request}.page{:04}.json", n + 1), page);
        }
    }

    fn add(&mut self, name: String, body: &Value) {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let path = PathBuf::from(name);
        if let Err(error) = self.import.add_file(&path, &bytes) {
            // Only an empty or invalid body fails here; the client already checked that
            // the body is JSON, so this is not expected.
            self.diagnostics.push(Diagnostic::new(
                rollcall_ingest::Level::Error,
                path.clone(),
                rollcall_ingest::Location::File,
                error.to_string(),
            ));
        }
    }

    fn finish(self) -> (SourceSnapshot, Vec<Diagnostic>) {
        let (snapshot, mut found) = self.import.finish();
        let mut diagnostics = self.diagnostics;
        diagnostics.append(&mut found);
        (snapshot, diagnostics)
    }
}
