//! Reads the metadata fragment of `@odata.context`.
//!
//! Graph writes the request path after `$metadata#` (OData 4.01 Protocol, section 10
//! "Context URL"): an entity set with an optional select list (`users(id,signInActivity)`),
//! a key (`users('<id>')`), navigation segments (`/authentication/methods`), type casts
//! (`/microsoft.graph.user`) and the suffixes `/$entity` and `/$delta`.

use super::kind::{MethodCollection, ResponseKind, Route};

/// The route a context URL gives its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContextRoute {
    /// A supported request path.
    Known(Route),
    /// `#directoryObjects`: member lists of groups and roles all look like this, so only
    /// the file name can tell which list it is.
    Ambiguous,
    /// A request path this reader does not support, as the fragment after `$metadata#`.
    Unknown(String),
}

/// One `/`-separated segment of the fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    name: String,
    /// The text inside the parentheses: a quoted key or a select and expand list.
    options: Option<String>,
}

impl Segment {
    /// Returns the key of `users('<id>')` without quotes.
    fn key(&self) -> Option<String> {
        let options = self.options.as_deref()?.trim();
        let quoted = options.strip_prefix('\'')?.strip_suffix('\'')?;
        // OData doubles a single quote inside a quoted key.
        Some(quoted.replace("''", "'"))
    }
}

/// Routes a response by its `@odata.context`. Returns `None` when the value has no
/// `$metadata#` fragment.
pub(crate) fn route(context: &str) -> Option<ContextRoute> {
    let (_, fragment) = context.split_once("$metadata#")?;
    let segments: Vec<Segment> = split_segments(fragment)
        .into_iter()
        .map(parse_segment)
        // `$entity` and `$delta` do not change what the items are, and a type cast names
        // the items' type, which they carry themselves.
        .filter(|segment| !segment.name.starts_with('$') && !segment.name.contains('.'))
        .collect();
    let names: Vec<String> =
        segments.iter().map(|segment| segment.name.to_ascii_lowercase()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let key = segments.first().and_then(Segment::key);
    let unknown = || Some(ContextRoute::Unknown(fragment.to_owned()));

    let kind = match names.as_slice() {
        ["users"] => {
            let mut route = Route::new(ResponseKind::Users);
            route.sign_in_selected = segments
                .first()
                .and_then(|segment| segment.options.as_deref())
                .is_some_and(selects_sign_in);
            return Some(ContextRoute::Known(route));
        }
        ["users" | "me", "authentication", collection] => {
            let Some(collection) = MethodCollection::from_segment(collection) else {
                return unknown();
            };
            let mut route = Route::new(ResponseKind::AuthenticationMethods);
            route.collection = collection;
            route.target = key;
            return Some(ContextRoute::Known(route));
        }
        ["directoryobjects"] => return Some(ContextRoute::Ambiguous),
        ["groups"] => ResponseKind::Groups,
        ["groups", "members"] => ResponseKind::GroupMembers,
        ["groups", "transitivemembers"] => ResponseKind::GroupTransitiveMembers,
        ["directoryroles"] => ResponseKind::DirectoryRoles,
        ["directoryroles", "members"] => ResponseKind::DirectoryRoleMembers,
        ["rolemanagement", "directory", "roleassignments"] => ResponseKind::RoleAssignments,
        ["rolemanagement", "directory", "roleeligibilityschedules"] => {
            ResponseKind::RoleEligibilitySchedules
        }
        ["rolemanagement", "directory", "roleeligibilityscheduleinstances"] => {
            ResponseKind::RoleEligibilityScheduleInstances
        }
        ["rolemanagement", "directory", "roledefinitions"] => ResponseKind::RoleDefinitions,
        ["reports", "authenticationmethods", "userregistrationdetails"] => {
            ResponseKind::UserRegistrationDetails
        }
        // Graph's own example of `GET /policies/authenticationMethodsPolicy` (v1.0 API
        // reference, "Get authenticationMethodsPolicy") answers with the singleton's name
        // alone: `$metadata#authenticationMethodsPolicy`.
        ["authenticationmethodspolicy"]
        | ["policies", "authenticationmethodspolicy"]
        | ["policies", "authenticationmethodspolicy", "authenticationmethodconfigurations"] => {
            ResponseKind::AuthenticationMethodsPolicy
        }
        _ => return unknown(),
    };
    let mut route = Route::new(kind);
    if kind.is_member_list() {
        route.target = key;
    }
    Some(ContextRoute::Known(route))
}

/// Checks whether a select list names `signInActivity` as one of its items.
fn selects_sign_in(options: &str) -> bool {
    options
        .split([',', '(', ')', ';'])
        .any(|item| item.trim().eq_ignore_ascii_case("signInActivity"))
}

/// Splits at `/` outside parentheses and quoted keys, because select lists and keys may
/// hold a `/` themselves.
fn split_segments(fragment: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut start = 0;
    for (index, character) in fragment.char_indices() {
        match character {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            '/' if !quoted && depth == 0 => {
                segments.push(fragment.get(start..index).unwrap_or_default());
                start = index + 1;
            }
            _ => {}
        }
    }
    segments.push(fragment.get(start..).unwrap_or_default());
    segments
}

fn parse_segment(segment: &str) -> Segment {
    match segment.split_once('(') {
        Some((name, rest)) => {
            let options = rest.rsplit_once(')').map_or(rest, |(inside, _)| inside);
            Segment { name: name.trim().to_owned(), options: Some(options.to_owned()) }
        }
        None => Segment { name: segment.trim().to_owned(), options: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(context: &str) -> Route {
        match route(context) {
            Some(ContextRoute::Known(route)) => route,
            other => panic!("{context}: {other:?}"),
        }
    }

    #[test]
    fn users_select_list_shows_sign_in() {
        let route =
            known("https://graph.microsoft.com/v1.0/$metadata#users(displayName,signInActivity)");
        assert_eq!(route.kind, ResponseKind::Users);
        assert!(route.sign_in_selected);
        assert!(!known("https://graph.microsoft.com/v1.0/$metadata#users").sign_in_selected);
    }

    #[test]
    fn method_context_gives_user_and_collection() {
        let route = known(
            "https://graph.microsoft.com/v1.0/$metadata#users('071cc716-8147-4397-a5ba-b2105951cc0b')/authentication/temporaryAccessPassMethods",
        );
        assert_eq!(route.kind, ResponseKind::AuthenticationMethods);
        assert_eq!(route.target.as_deref(), Some("071cc716-8147-4397-a5ba-b2105951cc0b"));
        assert_eq!(route.collection, MethodCollection::TemporaryAccessPass);
    }

    #[test]
    fn expand_and_entity_suffix_ignored() {
        let route = known(
            "https://graph.microsoft.com/beta/$metadata#roleManagement/directory/roleAssignments(principal())",
        );
        assert_eq!(route.kind, ResponseKind::RoleAssignments);
        let route = known(
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/$entity",
        );
        assert_eq!(route.kind, ResponseKind::AuthenticationMethodsPolicy);
        let route = known("https://graph.microsoft.com/v1.0/$metadata#users/$delta");
        assert_eq!(route.kind, ResponseKind::Users);
    }

    #[test]
    fn methods_policy_singleton_context() {
        // The context Graph's API reference shows for the methods policy.
        let route = known("https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy");
        assert_eq!(route.kind, ResponseKind::AuthenticationMethodsPolicy);
    }

    #[test]
    fn directory_objects_ambiguous() {
        assert_eq!(
            route("https://graph.microsoft.com/v1.0/$metadata#directoryObjects"),
            Some(ContextRoute::Ambiguous)
        );
    }

    #[test]
    fn unknown_fragment_kept() {
        assert_eq!(
            route("https://graph.microsoft.com/v1.0/$metadata#authenticationMethodModeDetail"),
            Some(ContextRoute::Unknown("authenticationMethodModeDetail".into()))
        );
        assert_eq!(route("not a context url"), None);
    }

    #[test]
    fn quoted_key_may_hold_slash() {
        let route = known("$metadata#groups('a/b''c')/members");
        assert_eq!(route.kind, ResponseKind::GroupMembers);
        assert_eq!(route.target.as_deref(), Some("a/b'c"));
    }
}
