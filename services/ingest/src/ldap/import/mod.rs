//! The mapping from directory entries to one `SourceSnapshot` of the source `ldap`.
//!
//! Entries arrive one at a time ([`LdapImport::add_entry`]) from an LDIF file or a live
//! search. Records with the same DN are merged, so the chunks of a ranged `member`
//! attribute may arrive in separate records or files. [`LdapImport::finish`] maps users and
//! groups and resolves memberships, managers and primary groups once every entry is known.

mod account;
mod group;
mod membership;
mod view;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ldap::dn::Dn;
use crate::ldap::entry::LdapEntry;
use crate::ldap::range::merge_ranges;
use crate::ldif::{self, LdifError};
use view::{EntryView, Kind, Sink};

/// The file and location an entry was read from, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryOrigin {
    /// The file (or, for a live search, the server) the entry was read from.
    pub file: PathBuf,
    /// The location in it: the line of the `dn:` line for LDIF, [`Location::File`] for a
    /// search.
    pub location: Location,
}

/// One DN's entry, merged from every record seen for it.
#[derive(Debug)]
struct StoredEntry {
    key: String,
    entry: LdapEntry,
    origin: EntryOrigin,
}

/// Collects directory entries and maps them to a snapshot.
///
/// Users are entries of object class `user`, `person`, `inetOrgPerson` or `posixAccount`,
/// except computers (object class `computer`, or a trust bit in `userAccountControl`).
/// Groups are `group`, `groupOfNames`, `groupOfUniqueNames` and `posixGroup`. Other
/// entries are only used to tell a known DN from an unknown one.
#[derive(Debug)]
pub struct LdapImport {
    source: SourceId,
    entries: Vec<StoredEntry>,
    by_key: HashMap<String, usize>,
    diagnostics: Vec<Diagnostic>,
}

impl Default for LdapImport {
    fn default() -> Self {
        Self::new()
    }
}

impl LdapImport {
    /// Creates an empty import for the source `ldap`.
    pub fn new() -> Self {
        Self::with_source(SourceId::ldap())
    }

    /// Creates an empty import for `source`, such as `ldap:north` for a second directory.
    pub fn with_source(source: SourceId) -> Self {
        Self { source, entries: Vec::new(), by_key: HashMap::new(), diagnostics: Vec::new() }
    }

    /// Adds one entry. An entry whose DN was seen before is merged into the earlier one, and
    /// diagnostics then point at the earlier record.
    pub fn add_entry(&mut self, entry: LdapEntry, origin: EntryOrigin) {
        let key = match Dn::parse(&entry.dn) {
            Ok(dn) => dn.normalized().to_owned(),
            Err(error) => {
                let message = format!(
                    "{error}. Entry `{}` is matched only by members that spell its DN exactly the same way.",
                    entry.dn
                );
                self.diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    origin.file.clone(),
                    origin.location.clone(),
                    message,
                ));
                entry.dn.trim().to_lowercase()
            }
        };
        match self.by_key.get(&key).and_then(|&index| self.entries.get_mut(index)) {
            Some(stored) => stored.entry.merge(entry),
            None => {
                self.by_key.insert(key.clone(), self.entries.len());
                self.entries.push(StoredEntry { key, entry, origin });
            }
        }
    }

    /// Reads an LDIF file and adds its entries, keeping its warnings. `file` names the file
    /// in diagnostics. On error nothing from the file is added.
    pub fn add_ldif(&mut self, file: impl AsRef<Path>, bytes: &[u8]) -> Result<(), LdifError> {
        let file = file.as_ref();
        let parsed = ldif::parse(file, bytes)?;
        self.diagnostics.extend(parsed.diagnostics);
        for entry in parsed.entries {
            let origin =
                EntryOrigin { file: file.to_path_buf(), location: Location::Line(entry.line) };
            self.add_entry(entry.entry, origin);
        }
        Ok(())
    }

    /// Maps every entry added so far and returns the snapshot with all diagnostics.
    ///
    /// `collected_at` stays `None`: the caller knows when the export was taken.
    pub fn finish(self) -> (SourceSnapshot, Vec<Diagnostic>) {
        let mut sink = Sink::new(self.diagnostics);
        let mut views = Vec::with_capacity(self.entries.len());
        for stored in self.entries {
            let merged = merge_ranges(stored.entry);
            for error in merged.errors {
                let message = format!(
                    "entry `{}`: {error}, so its values were kept but the attribute is treated as incomplete",
                    merged.entry.dn
                );
                sink.report(Level::Warning, &stored.origin, message);
            }
            views.push(EntryView::new(
                merged.entry,
                stored.key,
                stored.origin,
                merged.incomplete,
                &mut sink,
            ));
        }

        let kinds: Vec<Kind> = views.iter().map(EntryView::classify).collect();
        for (view, kind) in views.iter().zip(&kinds) {
            if *kind == Kind::Group && view.object_classes().is_empty() {
                let message = format!(
                    "entry `{}` has no `objectClass`, so it was read as a group because it has member values. Request `objectClass` in the export to be sure.",
                    view.dn
                );
                sink.report(Level::Info, &view.origin, message);
            }
        }
        let mut snapshot = SourceSnapshot::new(self.source);
        let users = account::map_users(&views, &kinds, &mut sink);
        let groups = group::map_groups(&views, &kinds, &mut sink);
        let computers: Vec<&EntryView> = views
            .iter()
            .zip(&kinds)
            .filter(|(_, kind)| **kind == Kind::Computer)
            .map(|(view, _)| view)
            .collect();
        if let Some(first) = computers.first() {
            let message = format!(
                "{} computer, domain controller or trust accounts (the first is `{}`) were left out of the accounts, and memberships that name them are kept as unresolved members",
                computers.len(),
                first.dn
            );
            sink.report(Level::Info, &first.origin, message);
        }

        let resolved = membership::resolve(&views, users, groups, &mut sink);
        let signs_in = resolved.accounts.iter().any(|account| {
            account.attributes.contains_key("lastLogonTimestamp")
                || account.attributes.contains_key("authTimestamp")
        });
        if signs_in {
            snapshot.settings.sign_in_activity = Availability::Available;
        }
        snapshot.accounts = resolved.accounts;
        snapshot.entitlements = resolved.entitlements;
        snapshot.memberships = resolved.memberships;
        (snapshot, sink.diagnostics)
    }
}
