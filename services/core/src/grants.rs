//! Effective grants: direct memberships plus everything inherited through nested groups.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::HashMap;

use crate::model::{GrantState, Member, Membership, SourceSnapshot};

/// An account holding an entitlement, directly or through nested entitlements.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// The entitlement's id in the account's source.
    pub entitlement: String,
    /// The entitlements it is inherited through, from the account's direct one up to the
    /// parent of this one; empty for a direct grant.
    pub via: Vec<String>,
    /// Active or eligible. Inheriting through an eligible membership is eligible.
    pub state: GrantState,
    /// The scope of the direct membership.
    pub scope: Option<String>,
}

impl Grant {
    /// Whether the grant is direct.
    pub fn is_direct(&self) -> bool {
        self.via.is_empty()
    }
}

/// An inherited entitlement: its id, the path to it, and its state.
type Ancestor = (String, Vec<String>, GrantState);

/// Effective grants of every account in one snapshot.
#[derive(Debug, Clone, Default)]
pub struct SourceGrants {
    /// Looked up by account id only, never walked.
    by_account: HashMap<String, Vec<Grant>>,
}

impl SourceGrants {
    /// Expands the memberships of `snapshot`. Cycles of nested groups (which LDAP allows)
    /// end the expansion instead of looping.
    pub fn expand(snapshot: &SourceSnapshot) -> Self {
        // Parents of each entitlement: the entitlements it is a member of.
        let mut parents: HashMap<&str, Vec<&Membership>> = HashMap::default();
        let mut direct: BTreeMap<&str, Vec<&Membership>> = BTreeMap::new();
        for membership in &snapshot.memberships {
            match &membership.member {
                Member::Entitlement(child) => {
                    parents.entry(child.as_str()).or_default().push(membership)
                }
                Member::Account(account) => {
                    direct.entry(account.as_str()).or_default().push(membership)
                }
                Member::Unresolved(_) => {}
            }
        }
        let mut ancestors: HashMap<&str, Vec<Ancestor>> = HashMap::default();
        let mut by_account = HashMap::default();
        for (account, memberships) in direct {
            let mut grants: BTreeMap<(String, GrantState, Option<String>), Vec<String>> =
                BTreeMap::new();
            for membership in memberships {
                let key =
                    (membership.entitlement.clone(), membership.state, membership.scope.clone());
                grants.insert(key, Vec::new());
                let inherited = ancestors
                    .entry(membership.entitlement.as_str())
                    .or_insert_with(|| ancestors_of(&membership.entitlement, &parents));
                for (entitlement, via, state) in inherited.iter() {
                    let state = if membership.state == GrantState::Eligible {
                        GrantState::Eligible
                    } else {
                        *state
                    };
                    let key = (entitlement.clone(), state, membership.scope.clone());
                    let path: Vec<String> = std::iter::once(membership.entitlement.clone())
                        .chain(via.iter().cloned())
                        .collect();
                    match grants.get(&key) {
                        Some(existing) if existing.len() <= path.len() => {}
                        _ => {
                            grants.insert(key, path);
                        }
                    }
                }
            }
            let list = grants
                .into_iter()
                .map(|((entitlement, state, scope), via)| Grant { entitlement, via, state, scope })
                .collect();
            by_account.insert(account.to_owned(), list);
        }
        Self { by_account }
    }

    /// The grants of `account`, sorted by entitlement.
    pub fn of(&self, account: &str) -> &[Grant] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }
}

/// Every entitlement `start` inherits, breadth first so each comes with its shortest
/// path: `(entitlement, path from start's parent up to the entitlement's child, state)`.
fn ancestors_of(start: &str, parents: &HashMap<&str, Vec<&Membership>>) -> Vec<Ancestor> {
    let mut seen: BTreeSet<&str> = BTreeSet::from([start]);
    let mut queue: VecDeque<(&str, Vec<String>, GrantState)> =
        VecDeque::from([(start, Vec::new(), GrantState::Active)]);
    let mut found = Vec::new();
    while let Some((current, path, state)) = queue.pop_front() {
        for membership in parents.get(current).map_or(&[][..], Vec::as_slice) {
            let parent = membership.entitlement.as_str();
            if !seen.insert(parent) {
                continue;
            }
            let state =
                if membership.state == GrantState::Eligible { GrantState::Eligible } else { state };
            let mut parent_path = path.clone();
            if current != start {
                parent_path.push(current.to_owned());
            }
            found.push((parent.to_owned(), parent_path.clone(), state));
            queue.push_back((parent, parent_path, state));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;

    fn snapshot(memberships: Vec<Membership>) -> SourceSnapshot {
        let mut snapshot = SourceSnapshot::new(SourceId::ldap());
        snapshot.memberships = memberships;
        snapshot
    }

    #[test]
    fn nested_groups_inherit_with_path() {
        let grants = SourceGrants::expand(&snapshot(vec![
            Membership::account("u1", "scribes"),
            Membership::nested("scribes", "clinical"),
            Membership::nested("clinical", "all-staff"),
        ]));
        let list = grants.of("u1");
        assert_eq!(list.len(), 3);
        let all_staff = list.iter().find(|g| g.entitlement == "all-staff").unwrap();
        assert_eq!(all_staff.via, vec!["scribes".to_owned(), "clinical".to_owned()]);
        assert!(list.iter().find(|g| g.entitlement == "scribes").unwrap().is_direct());
    }

    #[test]
    fn cycle_terminates() {
        let grants = SourceGrants::expand(&snapshot(vec![
            Membership::account("u1", "a"),
            Membership::nested("a", "b"),
            Membership::nested("b", "a"),
        ]));
        let names: Vec<_> = grants.of("u1").iter().map(|g| g.entitlement.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
    }

    #[test]
    fn direct_beats_inherited() {
        let grants = SourceGrants::expand(&snapshot(vec![
            Membership::account("u1", "a"),
            Membership::account("u1", "b"),
            Membership::nested("a", "b"),
        ]));
        let b = grants.of("u1").iter().find(|g| g.entitlement == "b").unwrap();
        assert!(b.is_direct());
    }

    #[test]
    fn eligible_membership_makes_inherited_eligible() {
        let mut eligible = Membership::account("u1", "role-group");
        eligible.state = GrantState::Eligible;
        let grants = SourceGrants::expand(&snapshot(vec![
            eligible,
            Membership::nested("role-group", "global-admin"),
        ]));
        let admin = grants.of("u1").iter().find(|g| g.entitlement == "global-admin").unwrap();
        assert_eq!(admin.state, GrantState::Eligible);
    }
}
