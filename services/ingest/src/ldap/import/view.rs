//! An entry prepared for mapping: ranged attributes folded in, attribute names in
//! lowercase, and text read with a warning instead of a failure.

use std::collections::HashSet;

use super::EntryOrigin;
use crate::diagnostic::{Diagnostic, Level};
use crate::ldap::ad::UserAccountControl;
use crate::ldap::range::IncompleteAttribute;

/// Attributes that Active Directory and OpenLDAP define as single-valued. Several values
/// mean two exports of one entry disagree, which deserves a warning.
const SINGLE_VALUED: [&str; 12] = [
    "useraccountcontrol",
    "objectguid",
    "objectsid",
    "entryuuid",
    "samaccountname",
    "userprincipalname",
    "admincount",
    "grouptype",
    "accountexpires",
    "lastlogontimestamp",
    "primarygroupid",
    "whencreated",
];

/// Returns the values of `name` in attributes sorted by name.
fn find<'a>(attributes: &'a [(String, Vec<Vec<u8>>)], name: &str) -> Option<&'a Vec<Vec<u8>>> {
    let index = attributes.binary_search_by(|(candidate, _)| candidate.as_str().cmp(name)).ok()?;
    attributes.get(index).map(|(_, values)| values)
}

/// The diagnostics collected while mapping.
#[derive(Debug, Default)]
pub(super) struct Sink {
    pub diagnostics: Vec<Diagnostic>,
    /// Messages already reported, because several fields read the same attribute.
    reported: HashSet<String>,
}

impl Sink {
    /// Starts with the diagnostics collected while reading the input.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Self { diagnostics, reported: HashSet::new() }
    }

    /// Adds diagnostics collected in another sink, in order, skipping each message that
    /// was reported before, as if they had been reported here.
    pub fn replay(&mut self, diagnostics: Vec<Diagnostic>) {
        for diagnostic in diagnostics {
            if self.reported.insert(diagnostic.message.clone()) {
                self.diagnostics.push(diagnostic);
            }
        }
    }

    /// Adds a diagnostic about the entry at `origin` unless the same message was reported
    /// before. `message` should name the entry.
    pub fn report(&mut self, level: Level, origin: &EntryOrigin, message: String) {
        if self.reported.insert(message.clone()) {
            self.diagnostics.push(Diagnostic::new(
                level,
                origin.file.clone(),
                origin.location.clone(),
                message,
            ));
        }
    }
}

/// The role of an entry in the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A person's account.
    User,
    /// A computer, domain controller or trust account: left out of the accounts.
    Computer,
    /// A group.
    Group,
    /// Anything else: containers, contacts, foreign security principals.
    Other,
}

/// One merged entry ready for mapping.
#[derive(Debug)]
pub(super) struct EntryView {
    /// The DN as the first record wrote it.
    pub dn: String,
    /// The normalised DN, the key members and `memberOf` values are matched against.
    pub key: String,
    /// Whether `key` is the RFC 4514 normal form of `dn`. It is false for a DN that does
    /// not parse, whose key is the lowercased text.
    pub dn_parsed: bool,
    /// The location of the entry's first record.
    pub origin: EntryOrigin,
    /// Ranged attributes whose chunks did not all arrive.
    pub incomplete: Vec<IncompleteAttribute>,
    /// Attributes by lowercase description, sorted for a binary search. Building this
    /// costs less than a hash map per entry, and lookups cost about the same.
    attributes: Vec<(String, Vec<Vec<u8>>)>,
    /// The `objectClass` values in lowercase, which the mapping reads several times.
    object_classes: Vec<String>,
}

impl EntryView {
    /// Indexes the attributes of `entry` by lowercase description and warns about
    /// single-valued attributes that have several values.
    pub fn new(
        entry: crate::ldap::LdapEntry,
        key: String,
        dn_parsed: bool,
        origin: EntryOrigin,
        incomplete: Vec<IncompleteAttribute>,
        sink: &mut Sink,
    ) -> Self {
        let mut attributes = entry.attributes;
        for (description, _) in &mut attributes {
            description.make_ascii_lowercase();
        }
        // A stable sort keeps descriptions that differ only in case in the order they
        // arrived in, and `dedup_by` joins their values in that order.
        attributes.sort_by(|(a, _), (b, _)| a.cmp(b));
        attributes.dedup_by(|(name, values), (kept_name, kept_values)| {
            let same = name == kept_name;
            if same {
                kept_values.append(values);
            }
            same
        });
        let object_classes = find(&attributes, "objectclass")
            .map(|values| {
                values
                    .iter()
                    .map(|value| String::from_utf8_lossy(value).trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let view = EntryView {
            dn: entry.dn,
            key,
            dn_parsed,
            origin,
            incomplete,
            attributes,
            object_classes,
        };
        for name in SINGLE_VALUED {
            let values = view.values(name);
            if values.len() > 1 {
                let first = String::from_utf8_lossy(values.first().map_or(&[][..], Vec::as_slice));
                let message = format!(
                    "entry `{}` has {} values for the single-valued `{name}`, so the first one, `{first}`, was used. Export each entry once.",
                    view.dn,
                    values.len()
                );
                sink.report(Level::Warning, &view.origin, message);
            }
        }
        view
    }

    /// Returns the entry with lowercase descriptions, for merging another record into it.
    pub fn into_entry(self) -> crate::ldap::LdapEntry {
        crate::ldap::LdapEntry { dn: self.dn, attributes: self.attributes }
    }

    /// Returns the values of the attribute `name` (lowercase, without options).
    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        find(&self.attributes, name).map_or(&[], Vec::as_slice)
    }

    /// Returns whether the entry has the attribute `name` with at least one value.
    pub fn has(&self, name: &str) -> bool {
        !self.values(name).is_empty()
    }

    /// Returns the first value of `name` as text, or `None` when absent or empty. A value that is
    /// not UTF-8 is reported and read as absent.
    pub fn text(&self, name: &str, sink: &mut Sink) -> Option<String> {
        let value = self.values(name).first()?;
        self.decode(name, value, sink).filter(|text| !text.is_empty()).map(str::to_owned)
    }

    /// Returns every value of `name` as text, skipping (and reporting) values that are not
    /// UTF-8.
    pub fn texts(&self, name: &str, sink: &mut Sink) -> Vec<&str> {
        self.values(name).iter().filter_map(|value| self.decode(name, value, sink)).collect()
    }

    fn decode<'a>(&self, name: &str, value: &'a [u8], sink: &mut Sink) -> Option<&'a str> {
        match std::str::from_utf8(value) {
            Ok(text) => Some(text),
            Err(_) => {
                let message = format!(
                    "entry `{}`: a value of `{name}` is not valid UTF-8 text, so it was ignored. Export the directory with UTF-8 output.",
                    self.dn
                );
                sink.report(Level::Warning, &self.origin, message);
                None
            }
        }
    }

    /// Returns the object classes in lowercase.
    pub fn object_classes(&self) -> &[String] {
        &self.object_classes
    }

    /// Decides what the entry is from its object classes.
    ///
    /// A computer (object class `computer`, which AD also gives managed service accounts)
    /// or an account with a trust bit in `userAccountControl` is not a person. A `contact`
    /// derives from `person` in AD but cannot sign in. An entry exported without
    /// `objectClass` counts as a group when it has member values, as in a base-scope read
    /// of a group that requested only `member`.
    pub fn classify(&self) -> Kind {
        let classes = self.object_classes();
        let has_class =
            |names: &[&str]| classes.iter().any(|class| names.contains(&class.as_str()));
        if has_class(&["computer"]) {
            return Kind::Computer;
        }
        if has_class(&["group", "groupofnames", "groupofuniquenames", "posixgroup"]) {
            return Kind::Group;
        }
        if has_class(&["contact", "foreignsecurityprincipal"]) {
            return Kind::Other;
        }
        if has_class(&["user", "person", "inetorgperson", "posixaccount"]) {
            let trust = self
                .values("useraccountcontrol")
                .first()
                .and_then(|value| std::str::from_utf8(value).ok())
                .and_then(|text| UserAccountControl::parse(text).ok())
                .is_some_and(UserAccountControl::is_trust_account);
            return if trust { Kind::Computer } else { Kind::User };
        }
        let has_members = ["member", "uniquemember", "memberuid"].iter().any(|name| self.has(name));
        if classes.is_empty() && (has_members || !self.incomplete.is_empty()) {
            return Kind::Group;
        }
        Kind::Other
    }
}
