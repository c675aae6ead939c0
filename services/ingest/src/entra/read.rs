//! Reads one file: splits it into responses, routes each response and hands its items to
//! the reader of its kind.

use std::path::Path;

use rollcall_core::model::GrantState;
use serde_json::{Map, Value};

use super::context::{self, ContextRoute};
use super::document::split_responses;
use super::error::EntraError;
use super::fields::{Item, Notes, objects};
use super::kind::{ResponseKind, Route, short_type};
use super::records::{Collected, MemberTarget, RoleOrigin};
use super::{filename, groups, methods, policy, registration, roles, users};

/// The responses one file contained.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSummary {
    /// One entry per response object, in file order.
    pub responses: Vec<ResponseSummary>,
}

impl FileSummary {
    /// Returns the kinds of the responses that were read, in file order, without repeats.
    pub fn kinds(&self) -> Vec<ResponseKind> {
        let mut kinds = Vec::new();
        for response in &self.responses {
            if let ResponseSummary::Read { kind, .. } = response
                && !kinds.contains(kind)
            {
                kinds.push(*kind);
            }
        }
        kinds
    }

    /// Counts the items in the responses that were read.
    pub fn items(&self) -> usize {
        self.responses
            .iter()
            .map(|response| match response {
                ResponseSummary::Read { items, .. } => *items,
                _ => 0,
            })
            .sum()
    }
}

/// The outcome of reading one response object of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseSummary {
    /// A supported response: its kind and the number of items in it (1 for a single
    /// entity such as the authentication methods policy).
    Read {
        /// The response kind.
        kind: ResponseKind,
        /// The items in `value`, or 1 for a single entity.
        items: usize,
    },
    /// A response of a kind this reader does not support, skipped with a warning.
    Unsupported {
        /// The context fragment or `@odata.type` seen, or a note that there was neither.
        seen: String,
    },
    /// A Graph error body, skipped with a warning.
    GraphError {
        /// The error `code`.
        code: String,
    },
    /// A top-level JSON value that is not an object, skipped with a warning.
    NotAnObject,
}

/// Reads every response in `bytes`.
pub(crate) fn read_file(
    file: &Path,
    bytes: &[u8],
) -> Result<(FileSummary, Collected, Notes), EntraError> {
    let responses = split_responses(file, bytes)?;
    let mut summary = FileSummary::default();
    let mut out = Collected::default();
    let mut notes = Notes::new(file);
    let several = responses.len() > 1;
    for (index, response) in responses.iter().enumerate() {
        let path = if several { format!("$[{index}]") } else { "$".to_owned() };
        let outcome = match response.as_object() {
            Some(object) => read_response(file, object, path, &mut out, &mut notes),
            None => {
                notes.warn(
                    &path,
                    "this response is not a JSON object, so it is skipped: save Graph \
                     response bodies, which are objects",
                );
                ResponseSummary::NotAnObject
            }
        };
        summary.responses.push(outcome);
    }
    Ok((summary, out, notes))
}

fn read_response(
    file: &Path,
    response: &Map<String, Value>,
    path: String,
    out: &mut Collected,
    notes: &mut Notes,
) -> ResponseSummary {
    if let Some(Value::Object(error)) = response.get("error") {
        return graph_error(error, &path, out, notes);
    }

    let items = match response.get("value") {
        Some(Value::Array(elements)) => objects(elements, &format!("{path}.value"), notes),
        Some(other) => {
            let seen = format!("`value` holding `{}`", super::fields::shorten(&other.to_string()));
            notes.warn(&path, unsupported_message(&seen));
            return ResponseSummary::Unsupported { seen };
        }
        // A single entity: the response is the item.
        None => vec![Item::new(response, path.clone())],
    };

    let route = match route_response(file, response, &items) {
        Ok(route) => route,
        Err(seen) => {
            notes.warn(&path, unsupported_message(&seen));
            return ResponseSummary::Unsupported { seen };
        }
    };

    match route.kind {
        ResponseKind::Users => users::read_users(&items, &route, out, notes),
        ResponseKind::Groups => groups::read_groups(&items, out, notes),
        ResponseKind::GroupMembers
        | ResponseKind::GroupTransitiveMembers
        | ResponseKind::DirectoryRoleMembers => {
            let Some(target) = route.target.clone().filter(|id| !id.trim().is_empty()) else {
                notes.warn(
                    &path,
                    "this member list does not say whose members it holds, so it is skipped: \
                     save it as `groups/<group-id>/members.json` or \
                     `directoryRoles/<role-id>/members.json`",
                );
                return ResponseSummary::Read { kind: route.kind, items: items.len() };
            };
            let target = if route.kind == ResponseKind::DirectoryRoleMembers {
                MemberTarget::DirectoryRole(target)
            } else {
                MemberTarget::Group(target)
            };
            groups::push_member_list(&items, target, path.clone(), out, notes);
        }
        ResponseKind::DirectoryRoles => roles::read_directory_roles(&items, out, notes),
        ResponseKind::RoleAssignments => {
            roles::read_grants(&items, GrantState::Active, out, notes);
        }
        ResponseKind::RoleEligibilitySchedules | ResponseKind::RoleEligibilityScheduleInstances => {
            roles::read_grants(&items, GrantState::Eligible, out, notes);
        }
        ResponseKind::RoleDefinitions => {
            for item in &items {
                roles::read_definition(item, RoleOrigin::Definition, out, notes);
            }
        }
        ResponseKind::AuthenticationMethods => {
            methods::read_methods(&items, &route, &path, out, notes);
        }
        ResponseKind::UserRegistrationDetails => {
            registration::read_registrations(&items, out, notes);
        }
        ResponseKind::AuthenticationMethodsPolicy => policy::read_policy(&items, &path, out, notes),
    }
    ResponseSummary::Read { kind: route.kind, items: items.len() }
}

/// Routes a response by its `@odata.context`, then its items' `@odata.type`, then the file
/// name. Returns what was seen when nothing routes it.
fn route_response(
    file: &Path,
    response: &Map<String, Value>,
    items: &[Item],
) -> Result<Route, String> {
    let by_name = filename::route(file);
    let context = response.get("@odata.context").and_then(Value::as_str);

    let mut seen = None;
    match context.and_then(context::route) {
        Some(ContextRoute::Known(mut route)) => {
            // `/me/...` contexts and keyless member contexts leave the id to the file name.
            if route.target.is_none()
                && let Some(named) = by_name.filter(|named| named.kind == route.kind)
            {
                route.target = named.target;
            }
            return Ok(route);
        }
        Some(ContextRoute::Ambiguous) => {
            return by_name.ok_or_else(|| {
                "`#directoryObjects` with a file name outside the naming convention".to_owned()
            });
        }
        Some(ContextRoute::Unknown(fragment)) => seen = Some(format!("`#{fragment}`")),
        None => {}
    }

    let types: Vec<&str> = match response.get("value") {
        Some(_) => items.iter().filter_map(Item::odata_type).collect(),
        None => response.get("@odata.type").and_then(Value::as_str).into_iter().collect(),
    };
    if let Some(kind) = kind_of_types(&types) {
        return Ok(match by_name {
            // Member lists hold users, groups and service principals alike: the request
            // path, saved in the file name, names whose members they are.
            Some(named)
                if named.kind == kind
                    || (named.kind.is_member_list()
                        && matches!(kind, ResponseKind::Users | ResponseKind::Groups)) =>
            {
                named
            }
            _ => Route::new(kind),
        });
    }

    if seen.is_none()
        && let Some(named) = by_name
    {
        return Ok(named);
    }
    Err(seen.unwrap_or_else(|| match types.first() {
        Some(type_name) => format!("`@odata.type` `{}`", short_type(type_name)),
        None => "no `@odata.context`, no `@odata.type` and a file name outside the naming \
                 convention"
            .to_owned(),
    }))
}

/// Returns the kind all `types` agree on, or `None` when there are none, or they are
/// unknown or mixed.
fn kind_of_types(types: &[&str]) -> Option<ResponseKind> {
    let mut kinds = types.iter().map(|type_name| ResponseKind::of_item_type(type_name));
    let first = kinds.next()??;
    kinds.all(|kind| kind == Some(first)).then_some(first)
}

fn unsupported_message(seen: &str) -> String {
    let supported: Vec<&str> = ResponseKind::ALL.iter().map(|kind| kind.request()).collect();
    format!(
        "this response ({seen}) is not a kind Rollcall reads, so it is skipped: the supported \
         requests are {}",
        supported.join(", ")
    )
}

/// Notes a Graph error body. A tenant without Entra ID P1 or P2 gets
/// `Authentication_RequestFromNonPremiumTenantOrB2CTenant` when `signInActivity` is
/// selected, which shows that sign-in times are missing rather than unknown.
fn graph_error(
    error: &Map<String, Value>,
    path: &str,
    out: &mut Collected,
    notes: &mut Notes,
) -> ResponseSummary {
    let code = error.get("code").and_then(Value::as_str).unwrap_or("(no code)").to_owned();
    let message = error.get("message").and_then(Value::as_str).unwrap_or("(no message)");
    let advice = if code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant" {
        out.sign_in_unlicensed = true;
        "the tenant has no Entra ID P1 or P2 licence for sign-in activity, so export users \
         without `signInActivity`"
    } else {
        "request it again and save the successful response"
    };
    notes.warn(
        path,
        format!(
            "this file holds a Graph error response, not data: `{code}` ({}), so it is \
             skipped: {advice}",
            super::fields::shorten(message)
        ),
    );
    ResponseSummary::GraphError { code }
}
