//! Builds one snapshot from the records of every file.

mod access;
mod accounts;

use std::collections::BTreeSet;

use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

use crate::diagnostic::Diagnostic;

use super::records::Collected;

/// Builds the snapshot. `collected` contains the files' records in file-path order; the
/// result is sorted by id, so it depends on the paths and contents, not on the order in
/// which files were added.
pub(crate) fn assemble(collected: Collected, diagnostics: &mut Vec<Diagnostic>) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());

    snapshot.settings.sign_in_activity = if collected.sign_in_available {
        Availability::Available
    } else if collected.sign_in_unlicensed {
        Availability::Missing
    } else {
        Availability::Unknown
    };
    if !collected.policies.is_empty() {
        let enabled: BTreeSet<String> = collected.policies.into_iter().flatten().collect();
        snapshot.settings.weak_methods_enabled = Some(enabled.into_iter().collect());
    }

    let accounts = accounts::build_accounts(
        collected.users,
        collected.registrations,
        collected.method_lists,
        diagnostics,
    );
    let account_ids: BTreeSet<String> = accounts.iter().map(|account| account.id.clone()).collect();

    let mut access = access::Access::new(&account_ids, diagnostics);
    access.add_groups(collected.groups);
    access.add_roles(collected.roles);
    access.learn_names(collected.member_lists.iter().flat_map(|list| list.members.iter()));
    access.learn_names(collected.grants.iter().map(|grant| &grant.principal));
    for list in &collected.member_lists {
        access.add_member_list(list);
    }
    for grant in &collected.grants {
        access.add_grant(grant);
    }

    snapshot.entitlements = access.entitlements();
    snapshot.memberships = std::mem::take(&mut access.memberships).into_iter().collect();
    snapshot.accounts = accounts;
    snapshot
}
