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
use crate::ldap::dn::normalize_dn;
use crate::ldap::entry::LdapEntry;
use crate::ldap::range::merge_ranges;
use crate::ldif::{self, LdifError};
use account::PreparedUser;
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
    /// Whether `key` is the normal form of the DN, rather than its lowercased text.
    dn_parsed: bool,
    state: EntryState,
    origin: EntryOrigin,
}

/// A stored entry as records arrive.
#[derive(Debug)]
enum EntryState {
    /// Merged records, mapped in [`LdapImport::finish`].
    Raw(LdapEntry),
    /// A record mapped when it arrived, so that the mapping of a live search overlaps the
    /// receipt of the next entries. A later record for the same DN turns it back into
    /// [`EntryState::Raw`].
    Prepared(Box<Prepared>),
}

/// The per-entry part of the mapping, done ahead, with the diagnostics that
/// [`LdapImport::finish`] reports in their usual place.
#[derive(Debug)]
struct Prepared {
    view: EntryView,
    view_diagnostics: Vec<Diagnostic>,
    kind: Kind,
    user: Option<PreparedUser>,
}

impl Prepared {
    /// Maps `entry`, the entry at `index`, as far as it can be mapped alone.
    fn new(
        entry: LdapEntry,
        index: usize,
        key: &str,
        dn_parsed: bool,
        origin: &EntryOrigin,
    ) -> Self {
        let mut sink = Sink::new(Vec::new());
        let view =
            EntryView::new(entry, key.to_owned(), dn_parsed, origin.clone(), Vec::new(), &mut sink);
        let kind = view.classify();
        let user = (kind == Kind::User).then(|| account::prepare_user(index, &view));
        Prepared { view, view_diagnostics: sink.diagnostics, kind, user }
    }
}

/// Returns whether `entry` can be mapped before the rest of the input is known. It must
/// have no attribute options, so there are no ranged chunks to fold. It must also have no
/// two descriptions that differ only in case, so that its view turns back into an
/// equivalent entry for a later merge.
fn can_prepare(entry: &LdapEntry) -> bool {
    let attributes = &entry.attributes;
    attributes.iter().enumerate().all(|(index, (description, _))| {
        !description.contains(';')
            && attributes
                .iter()
                .skip(index + 1)
                .all(|(other, _)| !other.eq_ignore_ascii_case(description))
    })
}

impl StoredEntry {
    /// Merges another record for the same DN into the entry.
    fn merge(&mut self, record: LdapEntry) {
        let state = std::mem::replace(&mut self.state, EntryState::Raw(LdapEntry::default()));
        let mut entry = match state {
            EntryState::Raw(entry) => entry,
            EntryState::Prepared(prepared) => prepared.view.into_entry(),
        };
        entry.merge(record);
        self.state = EntryState::Raw(entry);
    }
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
    /// Whether entries are mapped as they arrive where they can be, which tests turn off
    /// to compare against mapping everything in `finish`.
    map_early: bool,
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
        Self {
            source,
            entries: Vec::new(),
            by_key: HashMap::new(),
            diagnostics: Vec::new(),
            map_early: true,
        }
    }

    /// Turns off mapping entries as they arrive, so that `finish` maps every entry.
    #[cfg(test)]
    pub(crate) fn without_early_mapping(mut self) -> Self {
        self.map_early = false;
        self
    }

    /// Adds one entry. An entry whose DN was seen before is merged into the earlier one, and
    /// diagnostics then point at the earlier record.
    pub fn add_entry(&mut self, entry: LdapEntry, origin: EntryOrigin) {
        let (key, dn_parsed) = match normalize_dn(&entry.dn) {
            Ok(key) => (key, true),
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
                (entry.dn.trim().to_lowercase(), false)
            }
        };
        match self.by_key.get(&key).and_then(|&index| self.entries.get_mut(index)) {
            Some(stored) => stored.merge(entry),
            None => {
                let index = self.entries.len();
                let state = if self.map_early && can_prepare(&entry) {
                    EntryState::Prepared(Box::new(Prepared::new(
                        entry, index, &key, dn_parsed, &origin,
                    )))
                } else {
                    EntryState::Raw(entry)
                };
                self.by_key.insert(key.clone(), index);
                self.entries.push(StoredEntry { key, dn_parsed, state, origin });
            }
        }
    }

    /// Returns whether an entry with the key `key` was added: the DN's normal form as
    /// [`normalize_dn`] returns it, or the trimmed and lowercased text of a DN that does not
    /// parse.
    pub fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
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
        let mut kinds = Vec::with_capacity(self.entries.len());
        let mut prepared_users = Vec::with_capacity(self.entries.len());
        for stored in self.entries {
            let entry = match stored.state {
                EntryState::Prepared(prepared) => {
                    sink.replay(prepared.view_diagnostics);
                    views.push(prepared.view);
                    kinds.push(prepared.kind);
                    prepared_users.push(prepared.user);
                    continue;
                }
                EntryState::Raw(entry) => entry,
            };
            let merged = merge_ranges(entry);
            for error in merged.errors {
                let message = format!(
                    "entry `{}`: {error}, so its values were kept but the attribute is treated as incomplete",
                    merged.entry.dn
                );
                sink.report(Level::Warning, &stored.origin, message);
            }
            let view = EntryView::new(
                merged.entry,
                stored.key,
                stored.dn_parsed,
                stored.origin,
                merged.incomplete,
                &mut sink,
            );
            kinds.push(view.classify());
            views.push(view);
            prepared_users.push(None);
        }

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
        let users = account::map_users(&views, &kinds, &mut prepared_users, &mut sink);
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
