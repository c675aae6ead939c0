//! The directory one tenant of the double holds, loaded from saved Graph responses or
//! generated, and written back out as the files `rollcall scan` reads.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// Errors while loading or writing a tenant's files.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path} is not valid JSON: {source}; save the raw Graph response body")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// A removed directory object, kept so that delta queries can report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The object id.
    pub id: String,
    /// `changed` (soft delete, restorable) or `deleted` (permanent), as Graph spells it.
    pub reason: String,
}

/// One change in the tenant's change log, numbered by [`Tenant::version`].
#[derive(Debug, Clone)]
pub(crate) enum Change {
    User(String),
    UserRemoved(Removal),
    Group(String),
    GroupRemoved(Removal),
}

/// The directory of one tenant, as Graph objects.
#[derive(Debug, Clone, Default)]
pub struct Tenant {
    /// User objects with every property the double can serve, `manager` included as an
    /// object with an `id` when the user has one.
    pub users: Vec<Value>,
    /// Group objects.
    pub groups: Vec<Value>,
    /// Transitive members per group id, as `directoryObject` items with `@odata.type`.
    pub members: BTreeMap<String, Vec<Value>>,
    /// `unifiedRoleAssignment` objects.
    pub role_assignments: Vec<Value>,
    /// `unifiedRoleEligibilitySchedule` objects.
    pub role_eligibility: Vec<Value>,
    /// `unifiedRoleDefinition` objects (beta shape, with `isPrivileged`).
    pub role_definitions: Vec<Value>,
    /// `userRegistrationDetails` rows.
    pub registration: Vec<Value>,
    /// Authentication methods per user id. A user without an entry has none.
    pub methods: BTreeMap<String, Vec<Value>>,
    /// The `authenticationMethodsPolicy` object.
    pub methods_policy: Value,
    /// Change log for delta queries: entry `n` moved the tenant from version `n` to `n + 1`.
    pub(crate) changes: Vec<Change>,
    /// `revokeSignInSessions` calls served per user id.
    pub revocations: BTreeMap<String, u32>,
}

impl Tenant {
    /// The tenant's version: the number of changes made since it was loaded.
    pub fn version(&self) -> usize {
        self.changes.len()
    }

    /// Loads a tenant from a folder of saved Graph responses in the layout
    /// `docs/inputs/entra.md` describes (`users.json`, `groups.json`,
    /// `groups/<id>/transitiveMembers.json`, ...). Missing files leave that part empty.
    pub fn load_dir(dir: &Path) -> Result<Self, TenantError> {
        let mut tenant = Tenant {
            users: read_items(&dir.join("users.json"))?,
            groups: read_items(&dir.join("groups.json"))?,
            role_assignments: read_items(&dir.join("roleAssignments.json"))?,
            role_eligibility: read_items(&dir.join("roleEligibilitySchedules.json"))?,
            role_definitions: read_items(&dir.join("roleDefinitions.json"))?,
            registration: read_items(&dir.join("userRegistrationDetails.json"))?,
            methods_policy: read_single(&dir.join("authenticationMethodsPolicy.json"))?,
            ..Tenant::default()
        };
        for (id, file) in sub_files(&dir.join("groups"), &["transitiveMembers.json"])? {
            tenant.members.insert(id, read_items(&file)?);
        }
        let methods_path = ["authentication", "methods.json"];
        for (id, file) in sub_files(&dir.join("users"), &methods_path)? {
            tenant.methods.insert(id, read_items(&file)?);
        }
        Ok(tenant)
    }

    /// Generates a synthetic tenant of `users` users in groups of about 50, with a few
    /// privileged accounts. The names are made up and numbered.
    pub fn generate(users: usize) -> Self {
        let mut tenant = Tenant::default();
        let group_count = users.div_ceil(50).max(1);
        for g in 0..group_count {
            tenant.groups.push(json!({
                "id": group_id(g),
                "displayName": format!("Team {g:04}"),
                "securityEnabled": true,
                "mailEnabled": false,
                "groupTypes": [],
            }));
            tenant.members.insert(group_id(g), Vec::new());
        }
        for u in 0..users {
            let id = user_id(u);
            let mut user = json!({
                "id": id,
                "userPrincipalName": format!("user{u:05}@practice.example"),
                "displayName": format!("User {u:05}"),
                "givenName": "User",
                "surname": format!("{u:05}"),
                "mail": format!("user{u:05}@practice.example"),
                "employeeId": format!("E{u:05}"),
                "jobTitle": if u % 10 == 0 { "Physician" } else { "Medical Assistant" },
                "department": "Clinical",
                "userType": "Member",
                "accountEnabled": u % 37 != 0,
                "onPremisesSyncEnabled": false,
                "createdDateTime": "2025-01-06T15:00:00Z",
                "signInActivity": {
                    "lastSignInDateTime": "2026-11-20T15:00:00Z",
                    "lastNonInteractiveSignInDateTime": "2026-11-21T15:00:00Z",
                    "lastSuccessfulSignInDateTime": "2026-11-20T15:00:00Z",
                },
            });
            if u > 0
                && let Some(fields) = user.as_object_mut()
            {
                fields.insert("manager".into(), json!({ "id": user_id(u / 10) }));
            }
            tenant.users.push(user);
            if let Some(list) = tenant.members.get_mut(&group_id(u / 50)) {
                list.push(json!({
                    "@odata.type": "#microsoft.graph.user",
                    "id": id,
                    "userPrincipalName": format!("user{u:05}@practice.example"),
                    "displayName": format!("User {u:05}"),
                }));
            }
            tenant.registration.push(json!({
                "id": id,
                "userPrincipalName": format!("user{u:05}@practice.example"),
                "isAdmin": u % 500 == 0,
                "isMfaRegistered": u % 7 != 0,
                "methodsRegistered": if u % 7 == 0 { json!(["password"]) } else { json!(["password", "microsoftAuthenticatorPush"]) },
            }));
            if u % 500 == 0 {
                tenant.role_assignments.push(json!({
                    "id": format!("assignment-{u:05}"),
                    "principalId": id,
                    "roleDefinitionId": GLOBAL_ADMINISTRATOR,
                    "directoryScopeId": "/",
                }));
                tenant.methods.insert(
                    id.clone(),
                    vec![json!({
                        "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
                        "id": "3179e48a-750b-4051-897c-87b9720928f7",
                        "phoneNumber": "+1 5550100",
                        "phoneType": "mobile",
                        "smsSignInState": "notEnabled",
                    })],
                );
            }
        }
        tenant.role_definitions.push(json!({
            "id": GLOBAL_ADMINISTRATOR,
            "templateId": GLOBAL_ADMINISTRATOR,
            "displayName": "Global Administrator",
            "isBuiltIn": true,
            "isPrivileged": true,
        }));
        tenant.methods_policy = json!({
            "id": "authenticationMethodsPolicy",
            "authenticationMethodConfigurations": [
                { "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "disabled" },
            ],
        });
        tenant
    }

    /// Adds a user or replaces the user with the same id, and logs the change.
    pub fn upsert_user(&mut self, user: Value) {
        let id = object_id(&user).unwrap_or_default();
        match self.users.iter_mut().find(|u| object_id(u).as_deref() == Some(&id)) {
            Some(existing) => *existing = user,
            None => self.users.push(user),
        }
        self.changes.push(Change::User(id));
    }

    /// Removes a user and logs the removal with `reason`: `changed` (soft delete,
    /// restorable) or `deleted` (permanent). Either way the user leaves the listings and
    /// every member list, as Graph no longer lists a deleted user.
    pub fn remove_user(&mut self, id: &str, reason: &str) {
        self.users.retain(|u| object_id(u).as_deref() != Some(id));
        self.registration.retain(|u| object_id(u).as_deref() != Some(id));
        for list in self.members.values_mut() {
            list.retain(|m| object_id(m).as_deref() != Some(id));
        }
        self.changes
            .push(Change::UserRemoved(Removal { id: id.to_owned(), reason: reason.to_owned() }));
    }

    /// Replaces a group's transitive members and logs a change of that group.
    pub fn set_members(&mut self, group: &str, members: Vec<Value>) {
        self.members.insert(group.to_owned(), members);
        self.changes.push(Change::Group(group.to_owned()));
    }

    /// Removes a group and its member list.
    pub fn remove_group(&mut self, id: &str, reason: &str) {
        self.groups.retain(|g| object_id(g).as_deref() != Some(id));
        self.members.remove(id);
        self.changes
            .push(Change::GroupRemoved(Removal { id: id.to_owned(), reason: reason.to_owned() }));
    }

    /// Returns the user ids that hold a directory role, active or eligible, directly.
    /// These are the accounts whose methods a sync reads one by one.
    pub fn privileged_user_ids(&self) -> Vec<String> {
        let user_ids: Vec<String> = self.users.iter().filter_map(object_id).collect();
        let mut ids: Vec<String> = self
            .role_assignments
            .iter()
            .chain(&self.role_eligibility)
            .filter_map(|a| a.get("principalId").and_then(Value::as_str))
            .filter(|id| user_ids.iter().any(|u| u == id))
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Writes the tenant as the saved Graph responses `rollcall scan` reads, one file per
    /// request, with users projected on `user_select` (plus the expanded manager).
    /// `premium` false saves what a tenant without Entra ID P1 or P2 can read: users
    /// without `signInActivity` and no registration report. Per-user methods files are
    /// written for [`Self::privileged_user_ids`].
    pub fn export_dir(
        &self,
        dir: &Path,
        user_select: &[&str],
        premium: bool,
    ) -> Result<(), TenantError> {
        let select: Vec<&str> =
            user_select.iter().copied().filter(|f| premium || *f != "signInActivity").collect();
        let users: Vec<Value> = self.users.iter().map(|u| project_user(u, &select, true)).collect();
        let context = format!("users({},manager())", select.join(","));
        write_json(&dir.join("users.json"), &collection(V1, &context, users))?;
        write_json(&dir.join("groups.json"), &collection(V1, "groups", self.groups.clone()))?;
        for (id, members) in &self.members {
            let path = dir.join("groups").join(id).join("transitiveMembers.json");
            write_json(&path, &collection(V1, "directoryObjects", members.clone()))?;
        }
        let role_files = [
            (
                "roleAssignments.json",
                "roleManagement/directory/roleAssignments",
                &self.role_assignments,
                V1,
            ),
            (
                "roleEligibilitySchedules.json",
                "roleManagement/directory/roleEligibilitySchedules",
                &self.role_eligibility,
                V1,
            ),
            (
                "roleDefinitions.json",
                "roleManagement/directory/roleDefinitions",
                &self.role_definitions,
                BETA,
            ),
            (
                "userRegistrationDetails.json",
                "reports/authenticationMethods/userRegistrationDetails",
                &self.registration,
                V1,
            ),
        ];
        for (file, context, items, version) in role_files {
            if !premium && file == "userRegistrationDetails.json" {
                continue;
            }
            write_json(&dir.join(file), &collection(version, context, items.clone()))?;
        }
        for id in self.privileged_user_ids() {
            let items = self.methods.get(&id).cloned().unwrap_or_default();
            let context = format!("users('{id}')/authentication/methods");
            let path = dir.join("users").join(&id).join("authentication").join("methods.json");
            write_json(&path, &collection(V1, &context, items))?;
        }
        if !self.methods_policy.is_null() {
            let mut policy = self.methods_policy.clone();
            if let Some(fields) = policy.as_object_mut() {
                fields.insert(
                    "@odata.context".into(),
                    json!(format!("{V1}/$metadata#authenticationMethodsPolicy")),
                );
            }
            write_json(&dir.join("authenticationMethodsPolicy.json"), &policy)?;
        }
        Ok(())
    }
}

/// The role template id of Global Administrator, the same in every tenant.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

pub(crate) const V1: &str = "https://graph.microsoft.com/v1.0";
pub(crate) const BETA: &str = "https://graph.microsoft.com/beta";

fn user_id(n: usize) -> String {
    format!("5e1d0000-0000-4000-8000-{n:012}")
}

fn group_id(n: usize) -> String {
    format!("5e1d0001-0000-4000-8000-{n:012}")
}

/// Returns an object's `id`.
pub(crate) fn object_id(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// Builds a collection response with its `@odata.context`.
pub(crate) fn collection(version: &str, context: &str, items: Vec<Value>) -> Value {
    json!({
        "@odata.context": format!("{version}/$metadata#{context}"),
        "value": items,
    })
}

/// Projects a user on `select`, keeping `id` always and `manager` as `{ "@odata.type",
/// "id" }` when `expand_manager` is set. Unselected properties are left out, as Graph does.
pub(crate) fn project_user(user: &Value, select: &[&str], expand_manager: bool) -> Value {
    let mut out = Map::new();
    let Some(fields) = user.as_object() else {
        return Value::Object(out);
    };
    if let Some(id) = fields.get("id") {
        out.insert("id".into(), id.clone());
    }
    for name in select {
        if let Some(value) = fields.get(*name) {
            out.insert((*name).to_owned(), value.clone());
        }
    }
    if expand_manager && let Some(manager_id) = fields.get("manager").and_then(|m| m.get("id")) {
        out.insert(
            "manager".into(),
            json!({ "@odata.type": "#microsoft.graph.user", "id": manager_id }),
        );
    }
    Value::Object(out)
}

fn write_json(path: &Path, value: &Value) -> Result<(), TenantError> {
    let io = |source| TenantError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    let text = serde_json::to_vec_pretty(value)
        .map_err(|source| TenantError::Json { path: path.to_path_buf(), source })?;
    fs::write(path, text).map_err(io)
}

fn read_value(path: &Path) -> Result<Option<Value>, TenantError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TenantError::Io { path: path.to_path_buf(), source });
        }
    };
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text)
        .map(Some)
        .map_err(|source| TenantError::Json { path: path.to_path_buf(), source })
}

/// Reads the items of every response in a file: `value` of one response or of an array of
/// pages.
fn read_items(path: &Path) -> Result<Vec<Value>, TenantError> {
    let responses = match read_value(path)? {
        None => return Ok(Vec::new()),
        Some(Value::Array(pages)) => pages,
        Some(one) => vec![one],
    };
    let mut items = Vec::new();
    for response in responses {
        if let Some(Value::Array(values)) = response.get("value") {
            items.extend(values.iter().cloned());
        }
    }
    Ok(items)
}

fn read_single(path: &Path) -> Result<Value, TenantError> {
    Ok(read_value(path)?.map_or(Value::Null, |mut value| {
        if let Some(fields) = value.as_object_mut() {
            fields.remove("@odata.context");
        }
        value
    }))
}

/// Lists `<dir>/<id>/<tail...>` files that exist, with their `<id>`.
fn sub_files(dir: &Path, tail: &[&str]) -> Result<Vec<(String, PathBuf)>, TenantError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TenantError::Io { path: dir.to_path_buf(), source });
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let mut file = entry.path();
        for part in tail {
            file.push(part);
        }
        if file.is_file() {
            found.push((entry.file_name().to_string_lossy().into_owned(), file));
        }
    }
    found.sort();
    Ok(found)
}
