//! Effective grants: direct memberships plus everything inherited through nested groups.

use std::collections::{BTreeSet, VecDeque};

use crate::HashMap;

use crate::model::{GrantState, Member, Membership, SourceSnapshot};

/// An account holding an entitlement, directly or through nested entitlements. The ids
/// are borrowed from the snapshot the grants were expanded from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant<'s> {
    /// The entitlement's id in the account's source.
    pub entitlement: &'s str,
    /// The entitlements it is inherited through, from the account's direct one up to the
    /// parent of this one; empty for a direct grant.
    pub via: Vec<&'s str>,
    /// Active or eligible. Inheriting through an eligible membership is eligible.
    pub state: GrantState,
    /// The scope of the direct membership.
    pub scope: Option<&'s str>,
}

impl Grant<'_> {
    /// Whether the grant is direct.
    pub fn is_direct(&self) -> bool {
        self.via.is_empty()
    }
}

/// An inherited entitlement: its id, the path to it, and its state.
type Ancestor<'s> = (&'s str, Vec<&'s str>, GrantState);

/// Effective grants of every account in one snapshot, borrowed from it.
#[derive(Debug, Clone, Default)]
pub struct SourceGrants<'s> {
    /// Looked up by account id only, never walked.
    by_account: HashMap<&'s str, Vec<Grant<'s>>>,
}

impl<'s> SourceGrants<'s> {
    /// Expands the memberships of `snapshot`. Cycles of nested groups (which LDAP allows)
    /// end the expansion instead of looping.
    pub fn expand(snapshot: &'s SourceSnapshot) -> Self {
        // Parents of each entitlement: the entitlements it is a member of.
        let mut parents: HashMap<&str, Vec<&Membership>> = HashMap::default();
        // Only looked up and drained into `by_account`, so the order does not matter.
        let mut direct: HashMap<&str, Vec<&Membership>> = HashMap::default();
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
        let mut ancestors: HashMap<&str, Vec<Ancestor<'_>>> = HashMap::default();
        let mut by_account = HashMap::default();
        by_account.reserve(direct.len());
        for (account, memberships) in direct {
            let mut grants = Vec::with_capacity(memberships.len());
            for membership in memberships {
                let scope = membership.scope.as_deref();
                let entitlement = membership.entitlement.as_str();
                grants.push(Grant { entitlement, via: Vec::new(), state: membership.state, scope });
                let inherited = ancestors
                    .entry(entitlement)
                    .or_insert_with(|| ancestors_of(entitlement, &parents));
                for (ancestor, via, state) in inherited.iter() {
                    let state = if membership.state == GrantState::Eligible {
                        GrantState::Eligible
                    } else {
                        *state
                    };
                    let mut path = Vec::with_capacity(via.len() + 1);
                    path.push(entitlement);
                    path.extend_from_slice(via);
                    grants.push(Grant { entitlement: ancestor, via: path, state, scope });
                }
            }
            by_account.insert(account, keep_shortest(grants));
        }
        Self { by_account }
    }

    /// The grants of `account`, sorted by entitlement.
    pub fn of(&self, account: &str) -> &[Grant<'s>] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }
}

/// Sorts one account's grants by (entitlement, state, scope) and keeps one grant per such
/// key, the one with the shortest path, or the first met among equally short ones. A
/// direct grant has the empty path, so it always wins.
fn keep_shortest(mut grants: Vec<Grant<'_>>) -> Vec<Grant<'_>> {
    // Stable, so equally short paths keep the order they were met in.
    grants.sort_by(|a, b| {
        (a.entitlement, a.state, a.scope)
            .cmp(&(b.entitlement, b.state, b.scope))
            .then_with(|| a.via.len().cmp(&b.via.len()))
    });
    // Removes the later of two neighbours with the same key, keeping the shortest path.
    grants.dedup_by(|later, kept| {
        (later.entitlement, later.state, later.scope) == (kept.entitlement, kept.state, kept.scope)
    });
    grants
}

/// Every entitlement `start` inherits, breadth first so each comes with its shortest
/// path: `(entitlement, path from start's parent up to the entitlement's child, state)`.
fn ancestors_of<'s>(
    start: &'s str,
    parents: &HashMap<&'s str, Vec<&'s Membership>>,
) -> Vec<Ancestor<'s>> {
    let mut seen: BTreeSet<&str> = BTreeSet::from([start]);
    let mut queue: VecDeque<(&str, Vec<&str>, GrantState)> =
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
                parent_path.push(current);
            }
            found.push((parent, parent_path.clone(), state));
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
        let snapshot = snapshot(vec![
            Membership::account("u1", "scribes"),
            Membership::nested("scribes", "clinical"),
            Membership::nested("clinical", "all-staff"),
        ]);
        let grants = SourceGrants::expand(&snapshot);
        let list = grants.of("u1");
        assert_eq!(list.len(), 3);
        let all_staff = list.iter().find(|g| g.entitlement == "all-staff").unwrap();
        assert_eq!(all_staff.via, vec!["scribes", "clinical"]);
        assert!(list.iter().find(|g| g.entitlement == "scribes").unwrap().is_direct());
    }

    #[test]
    fn cycle_terminates() {
        let snapshot = snapshot(vec![
            Membership::account("u1", "a"),
            Membership::nested("a", "b"),
            Membership::nested("b", "a"),
        ]);
        let grants = SourceGrants::expand(&snapshot);
        let names: Vec<_> = grants.of("u1").iter().map(|g| g.entitlement).collect();
        assert_eq!(names, vec!["a", "b"]);
    }

    #[test]
    fn direct_beats_inherited() {
        let snapshot = snapshot(vec![
            Membership::account("u1", "a"),
            Membership::account("u1", "b"),
            Membership::nested("a", "b"),
        ]);
        let grants = SourceGrants::expand(&snapshot);
        let b: Vec<_> = grants.of("u1").iter().filter(|g| g.entitlement == "b").collect();
        assert_eq!(b.len(), 1);
        assert!(b[0].is_direct());
    }

    #[test]
    fn shortest_inherited_path_wins() {
        // The long path is met first, through the first membership.
        let snapshot = snapshot(vec![
            Membership::account("u1", "long"),
            Membership::account("u1", "short"),
            Membership::nested("long", "middle"),
            Membership::nested("middle", "top"),
            Membership::nested("short", "top"),
        ]);
        let grants = SourceGrants::expand(&snapshot);
        let top: Vec<_> = grants.of("u1").iter().filter(|g| g.entitlement == "top").collect();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].via, vec!["short"]);
        let names: Vec<_> = grants.of("u1").iter().map(|g| g.entitlement).collect();
        assert_eq!(names, vec!["long", "middle", "short", "top"]);
    }

    #[test]
    fn eligible_membership_makes_inherited_eligible() {
        let mut eligible = Membership::account("u1", "role-group");
        eligible.state = GrantState::Eligible;
        let snapshot = snapshot(vec![eligible, Membership::nested("role-group", "global-admin")]);
        let grants = SourceGrants::expand(&snapshot);
        let admin = grants.of("u1").iter().find(|g| g.entitlement == "global-admin").unwrap();
        assert_eq!(admin.state, GrantState::Eligible);
    }
}
