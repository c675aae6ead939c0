//! Saved Microsoft Graph responses, shaped as Graph v1.0 (and beta for role definitions)
//! returns them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{Value, json};

use super::{file, guid};
use crate::spec::{EntraUser, Method, MethodsFrom, Person, SignIn, TenantSpec};

const GRAPH: &str = "https://graph.microsoft.com/v1.0/$metadata#";

/// Users per saved page of `users.json`, as with `$top`.
const PAGE: usize = 40;

fn group_id(index: usize) -> String {
    guid(0x6e7a_0001, index)
}

/// Writes `entra/` of `spec`.
pub fn write(spec: &TenantSpec, dir: &Path) -> Result<()> {
    let at = |days: i64| {
        (spec.reference - TimeDelta::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    let users: Vec<&Person> = spec.people.iter().filter(|p| p.entra.is_some()).collect();
    // Indexes, so that large synthetic tenants are written in linear time.
    let by_employee_id: HashMap<&str, &Person> = spec
        .people
        .iter()
        .rev()
        .filter_map(|p| p.employee_id.as_deref().map(|id| (id, p)))
        .collect();
    let mut members_of: HashMap<&str, Vec<(&Person, &EntraUser)>> = HashMap::new();
    for person in &users {
        let Some(user) = &person.entra else { continue };
        let mut seen = HashSet::new();
        for group in &user.groups {
            if seen.insert(group.as_str()) {
                members_of.entry(group.as_str()).or_default().push((person, user));
            }
        }
    }

    let mut items = Vec::new();
    for person in &users {
        let Some(user) = &person.entra else { continue };
        let mut item = json!({
            "id": user.id,
            "displayName": person.name(),
            "givenName": person.given,
            "surname": person.family,
            "userPrincipalName": user.upn,
            "mail": user.upn,
            "accountEnabled": user.enabled,
            "jobTitle": person.title,
            "department": person.department,
            "officeLocation": person.location,
            "userType": if user.guest { "Guest" } else { "Member" },
            "createdDateTime": at(user.created_days_ago),
            "onPremisesSyncEnabled": true,
            "employeeId": if user.with_employee_id { json!(person.employee_id) } else { Value::Null },
            "signInActivity": match user.sign_in {
                SignIn::DaysAgo(days) => json!({
                    "lastSignInDateTime": at(days),
                    "lastSignInRequestId": guid(0x5161, items.len()),
                    "lastNonInteractiveSignInDateTime": "0001-01-01T00:00:00Z",
                    "lastNonInteractiveSignInRequestId": "",
                    "lastSuccessfulSignInDateTime": at(days),
                    "lastSuccessfulSignInRequestId": guid(0x5162, items.len()),
                }),
                SignIn::Never => Value::Null,
            },
        });
        if let Some(manager) = person.manager.as_ref().and_then(|m| manager_of(&by_employee_id, m))
        {
            item["manager"] = manager;
        }
        items.push(item);
    }
    let context = format!(
        "{GRAPH}users(id,displayName,givenName,surname,userPrincipalName,mail,accountEnabled,jobTitle,department,officeLocation,userType,createdDateTime,onPremisesSyncEnabled,employeeId,signInActivity,manager())"
    );
    let pages: Vec<Value> = items
        .chunks(PAGE)
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = json!({ "@odata.context": context, "value": chunk });
            if (i + 1) * PAGE < items.len() {
                page["@odata.nextLink"] = json!(format!(
                    "https://graph.microsoft.com/v1.0/users?$top={PAGE}&$skiptoken=page{}",
                    i + 1
                ));
            }
            page
        })
        .collect();
    file(dir, "entra/users.json", &serde_json::to_vec_pretty(&pages)?)?;

    // Groups and their transitive members, one file per group.
    let groups: Vec<Value> = spec
        .entra_groups
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "id": group_id(i),
                "displayName": name,
                "description": format!("{name} at {}", spec.name),
                "securityEnabled": true,
                "mailEnabled": false,
                "groupTypes": [],
            })
        })
        .collect();
    file(
        dir,
        "entra/groups.json",
        &serde_json::to_vec_pretty(
            &json!({ "@odata.context": format!("{GRAPH}groups"), "value": groups }),
        )?,
    )?;
    for (i, name) in spec.entra_groups.iter().enumerate() {
        let members: Vec<Value> = members_of
            .get(name.as_str())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|(p, u)| json!({ "@odata.type": "#microsoft.graph.user", "id": u.id, "displayName": p.name(), "userPrincipalName": u.upn }))
            .collect();
        let body =
            json!({ "@odata.context": format!("{GRAPH}directoryObjects"), "value": members });
        file(
            dir,
            &format!("entra/groups/{}/transitiveMembers.json", group_id(i)),
            &serde_json::to_vec_pretty(&body)?,
        )?;
    }

    // Role definitions (beta, with isPrivileged), assignments and PIM eligibility.
    let mut role_ids: Vec<&String> = users
        .iter()
        .filter_map(|p| p.entra.as_ref())
        .flat_map(|u| u.roles.iter().chain(u.eligible_roles.iter()))
        .collect();
    role_ids.sort();
    role_ids.dedup();
    let definitions: Vec<Value> = role_ids
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "templateId": id,
                "displayName": role_name(id),
                "isBuiltIn": true,
                "isPrivileged": true,
                "description": format!("Built-in role {}", role_name(id)),
            })
        })
        .collect();
    file(
        dir,
        "entra/roleDefinitions.json",
        &serde_json::to_vec_pretty(&json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#roleManagement/directory/roleDefinitions",
            "value": definitions,
        }))?,
    )?;
    let mut assignments = Vec::new();
    let mut eligible = Vec::new();
    for user in users.iter().filter_map(|p| p.entra.as_ref()) {
        for role in &user.roles {
            assignments.push(json!({ "id": format!("a-{}-{role}", user.id), "principalId": user.id, "roleDefinitionId": role, "directoryScopeId": "/" }));
        }
        for role in &user.eligible_roles {
            eligible.push(json!({ "id": format!("e-{}-{role}", user.id), "principalId": user.id, "roleDefinitionId": role, "directoryScopeId": "/", "memberType": "Direct", "status": "Provisioned" }));
        }
    }
    file(
        dir,
        "entra/roleAssignments.json",
        &serde_json::to_vec_pretty(
            &json!({ "@odata.context": format!("{GRAPH}roleManagement/directory/roleAssignments"), "value": assignments }),
        )?,
    )?;
    file(
        dir,
        "entra/roleEligibilitySchedules.json",
        &serde_json::to_vec_pretty(
            &json!({ "@odata.context": format!("{GRAPH}roleManagement/directory/roleEligibilitySchedules"), "value": eligible }),
        )?,
    )?;

    // MFA: the registration report for most, per-user method lists for some.
    let mut report = Vec::new();
    for person in &users {
        let Some(user) = &person.entra else { continue };
        match user.methods_from {
            MethodsFrom::Report => {
                let privileged = !user.roles.is_empty() || !user.eligible_roles.is_empty();
                let registered: Vec<&str> =
                    user.methods.iter().filter_map(|m| report_name(*m)).collect();
                let mfa =
                    user.methods.iter().any(|m| !matches!(m, Method::Password | Method::Email));
                report.push(json!({
                    "id": user.id,
                    "userPrincipalName": user.upn,
                    "userDisplayName": person.name(),
                    "userType": if user.guest { "guest" } else { "member" },
                    "isAdmin": privileged,
                    "isSsprRegistered": true,
                    "isSsprEnabled": true,
                    "isSsprCapable": true,
                    "isMfaRegistered": mfa,
                    "isMfaCapable": mfa,
                    "isPasswordlessCapable": user.methods.iter().any(|m| matches!(m, Method::Fido2 | Method::WindowsHello)),
                    "methodsRegistered": registered,
                    "isSystemPreferredAuthenticationMethodEnabled": true,
                    "systemPreferredAuthenticationMethods": [],
                    "userPreferredMethodForSecondaryAuthentication": "",
                    "lastUpdatedDateTime": at(1),
                }));
            }
            MethodsFrom::PerUser => {
                let methods: Vec<Value> = user
                    .methods
                    .iter()
                    .enumerate()
                    .map(|(i, m)| method_json(*m, &user.id, i, &at(200)))
                    .collect();
                let body = json!({ "@odata.context": format!("{GRAPH}users('{}')/authentication/methods", user.id), "value": methods });
                file(
                    dir,
                    &format!("entra/users/{}/authentication/methods.json", user.id),
                    &serde_json::to_vec_pretty(&body)?,
                )?;
            }
        }
    }
    file(
        dir,
        "entra/userRegistrationDetails.json",
        &serde_json::to_vec_pretty(&json!({
            "@odata.context": format!("{GRAPH}reports/authenticationMethods/userRegistrationDetails"),
            "value": report,
        }))?,
    )?;

    let configurations: Vec<Value> = spec
        .policy_methods
        .iter()
        .map(|(id, on)| json!({
            "@odata.type": format!("#microsoft.graph.{}AuthenticationMethodConfiguration", id.to_ascii_lowercase()),
            "id": id,
            "state": if *on { "enabled" } else { "disabled" },
        }))
        .collect();
    file(
        dir,
        "entra/authenticationMethodsPolicy.json",
        &serde_json::to_vec_pretty(&json!({
            "@odata.context": format!("{GRAPH}authenticationMethodsPolicy"),
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "policyVersion": "1.5",
            "authenticationMethodConfigurations": configurations,
        }))?,
    )
}

/// The manager reference Graph expands: `by_employee_id` maps each employee id to the
/// first person holding it, as a search of the people in order would find.
fn manager_of(by_employee_id: &HashMap<&str, &Person>, employee_id: &str) -> Option<Value> {
    let manager = by_employee_id.get(employee_id)?;
    let user = manager.entra.as_ref()?;
    Some(
        json!({ "@odata.type": "#microsoft.graph.user", "id": user.id, "displayName": manager.name(), "userPrincipalName": user.upn }),
    )
}

/// Names of the built-in roles the generator uses.
pub fn role_name(template_id: &str) -> &'static str {
    match template_id {
        "62e90394-69f5-4237-9190-012177145e10" => "Global Administrator",
        "fe930be7-5e62-47db-91af-98c3a49a38b1" => "User Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8" => "Helpdesk Administrator",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451" => "Global Reader",
        _ => "Custom role",
    }
}

fn report_name(method: Method) -> Option<&'static str> {
    match method {
        Method::Password => None,
        Method::Email => Some("email"),
        Method::MobilePhone => Some("mobilePhone"),
        Method::OfficePhone => Some("officePhone"),
        Method::Authenticator => Some("microsoftAuthenticatorPush"),
        Method::Fido2 => Some("passKeyDeviceBound"),
        Method::WindowsHello => Some("windowsHelloForBusiness"),
        Method::SoftwareOath => Some("softwareOneTimePasscode"),
        Method::Future => Some("someFutureMethod"),
    }
}

fn method_json(method: Method, user: &str, index: usize, created: &str) -> Value {
    let id = format!("{}-m{index}", &user[..user.len().min(8)]);
    match method {
        Method::Password => {
            json!({ "@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490", "password": null, "createdDateTime": created })
        }
        Method::Email => {
            json!({ "@odata.type": "#microsoft.graph.emailAuthenticationMethod", "id": id, "emailAddress": "personal@mail.example" })
        }
        Method::MobilePhone => {
            json!({ "@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "3179e48a-750b-4051-897c-87b9720928f7", "phoneNumber": "+1 5555550100", "phoneType": "mobile", "smsSignInState": "notAllowedByPolicy" })
        }
        Method::OfficePhone => {
            json!({ "@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "e37fc753-ff3b-4958-9484-eaa9425c82bc", "phoneNumber": "+1 5555550101x12", "phoneType": "office", "smsSignInState": "notSupported" })
        }
        Method::Authenticator => {
            json!({ "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "id": id, "displayName": "Work phone", "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": "6.2611.0001", "createdDateTime": created })
        }
        Method::Fido2 => {
            json!({ "@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": id, "displayName": "Desk key", "createdDateTime": created, "aaGuid": "00000000-0000-0000-0000-000000000000", "model": "Example Key", "attestationCertificates": [], "attestationLevel": "attested" })
        }
        Method::WindowsHello => {
            json!({ "@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod", "id": id, "displayName": "EXAM-PC-07", "createdDateTime": created, "keyStrength": "normal" })
        }
        Method::SoftwareOath => {
            json!({ "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": id, "secretKey": null })
        }
        Method::Future => {
            json!({ "@odata.type": "#microsoft.graph.someFutureAuthenticationMethod", "id": id, "createdDateTime": created, "newField": { "nested": true } })
        }
    }
}
