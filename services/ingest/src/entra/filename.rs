//! The file-name convention: a saved file is named after its Graph request path.
//!
//! Segments may be folders (`groups/<id>/members.json`) or dot-separated parts of the file
//! name (`groups.<id>.members.json`), and anything after the request path is ignored
//! (`users.page2.json`, `groups/<id>/members.2026-01.json`). Folders before the first
//! request segment are ignored too. Keywords match in any letter case. An id holding dots,
//! such as a user principal name, needs the folder form unless the next keyword follows it
//! (`users.jane.doe@example.org.authentication.methods.json` works).

use std::path::Path;

use super::kind::{MethodCollection, ResponseKind, Route};

/// Routes a response by the name of its file, or `None` when the name does not follow the
/// convention.
pub(crate) fn route(file: &Path) -> Option<Route> {
    let tokens = tokens(file);
    let lowered: Vec<String> = tokens.iter().map(|token| token.to_ascii_lowercase()).collect();
    let (start, keyword) =
        lowered.iter().enumerate().find(|(_, token)| START_KEYWORDS.contains(&token.as_str()))?;
    let rest = tokens.get(start + 1..).unwrap_or_default();
    let rest_lowered = lowered.get(start + 1..).unwrap_or_default();

    let kind = match keyword.as_str() {
        "users" => return user_route(rest, rest_lowered),
        "groups" => {
            return Some(member_route(
                rest,
                rest_lowered,
                &[
                    ("members", ResponseKind::GroupMembers),
                    ("transitivemembers", ResponseKind::GroupTransitiveMembers),
                ],
                ResponseKind::Groups,
            ));
        }
        "directoryroles" => {
            return Some(member_route(
                rest,
                rest_lowered,
                &[("members", ResponseKind::DirectoryRoleMembers)],
                ResponseKind::DirectoryRoles,
            ));
        }
        "roleassignments" => ResponseKind::RoleAssignments,
        "roleeligibilityschedules" => ResponseKind::RoleEligibilitySchedules,
        "roleeligibilityscheduleinstances" => ResponseKind::RoleEligibilityScheduleInstances,
        "roledefinitions" => ResponseKind::RoleDefinitions,
        "userregistrationdetails" => ResponseKind::UserRegistrationDetails,
        "authenticationmethodspolicy" => ResponseKind::AuthenticationMethodsPolicy,
        _ => return None,
    };
    Some(Route::new(kind))
}

/// Lowercase keywords that start a request path. Prefixes such as `roleManagement/directory`
/// or `reports/authenticationMethods` are skipped like any leading folder.
const START_KEYWORDS: [&str; 9] = [
    "users",
    "groups",
    "directoryroles",
    "roleassignments",
    "roleeligibilityschedules",
    "roleeligibilityscheduleinstances",
    "roledefinitions",
    "userregistrationdetails",
    "authenticationmethodspolicy",
];

/// `users/<id>/authentication/<collection>` is a methods list, and anything else under
/// `users` a users listing, so `users.page2.json` is not read as the user `page2`. A
/// collection name this reader does not know routes nowhere.
fn user_route(rest: &[String], rest_lowered: &[String]) -> Option<Route> {
    let authentication = rest_lowered.iter().position(|token| token == "authentication");
    let Some(at) = authentication.filter(|at| *at > 0) else {
        return Some(Route::new(ResponseKind::Users));
    };
    let collection =
        rest.get(at + 1).and_then(|segment| MethodCollection::from_segment(segment))?;
    let mut route = Route::new(ResponseKind::AuthenticationMethods);
    route.target = Some(rest.get(..at).unwrap_or_default().join("."));
    route.collection = collection;
    Some(route)
}

/// `<set>/<id>/<members keyword>` is a member list of that object, anything else the
/// listing of the set itself.
fn member_route(
    rest: &[String],
    rest_lowered: &[String],
    lists: &[(&str, ResponseKind)],
    listing: ResponseKind,
) -> Route {
    for (at, token) in rest_lowered.iter().enumerate().skip(1) {
        if let Some((_, kind)) = lists.iter().find(|(keyword, _)| keyword == token) {
            let mut route = Route::new(*kind);
            route.target = Some(rest.get(..at).unwrap_or_default().join("."));
            return route;
        }
    }
    Route::new(listing)
}

/// Splits a path into folder names and the dot-separated parts of the file name, without
/// the `.json` extension. Both `/` and `\` separate folders.
fn tokens(file: &Path) -> Vec<String> {
    let text = file.to_string_lossy().replace('\\', "/");
    let mut parts: Vec<&str> = text.split('/').filter(|part| !part.is_empty()).collect();
    let name = parts.pop().unwrap_or_default();
    let stem = match name.len().checked_sub(5).and_then(|at| name.get(at..).map(|ext| (at, ext))) {
        Some((at, ext)) if ext.eq_ignore_ascii_case(".json") => name.get(..at).unwrap_or(name),
        _ => name,
    };
    let mut tokens: Vec<String> = parts.into_iter().map(str::to_owned).collect();
    tokens.extend(stem.split('.').filter(|part| !part.is_empty()).map(str::to_owned));
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(name: &str) -> Option<(ResponseKind, Option<String>)> {
        route(Path::new(name)).map(|route| (route.kind, route.target))
    }

    #[test]
    fn folder_and_dot_forms_agree() {
        let expected = Some((ResponseKind::GroupTransitiveMembers, Some("g1".to_owned())));
        assert_eq!(routed("groups/g1/transitiveMembers.json"), expected);
        assert_eq!(routed("groups.g1.transitiveMembers.json"), expected);
        assert_eq!(routed("groups\\g1\\transitivemembers.page2.json"), expected);
    }

    #[test]
    fn methods_collection_named() {
        let route = route(Path::new("users/u1/authentication/phoneMethods.json"));
        let route = route.unwrap();
        assert_eq!(route.kind, ResponseKind::AuthenticationMethods);
        assert_eq!(route.target.as_deref(), Some("u1"));
        assert_eq!(route.collection, MethodCollection::Phone);
    }

    #[test]
    fn dotted_user_id_before_keyword() {
        let route = route(Path::new("users.jane.doe@example.org.authentication.methods.json"));
        assert_eq!(route.unwrap().target.as_deref(), Some("jane.doe@example.org"));
    }

    #[test]
    fn page_suffix_is_not_an_id() {
        assert_eq!(routed("users.page2.json"), Some((ResponseKind::Users, None)));
        assert_eq!(routed("groups.page2.json"), Some((ResponseKind::Groups, None)));
        assert_eq!(
            routed("export/roleManagement/directory/roleDefinitions.json"),
            Some((ResponseKind::RoleDefinitions, None))
        );
    }

    #[test]
    fn other_names_unrouted() {
        assert_eq!(routed("graph-v1-usersregisteredbymethod.json"), None);
        assert_eq!(routed(""), None);
        assert_eq!(routed(".json"), None);
    }
}
