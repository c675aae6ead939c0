//! The source-neutral directory entry that both the LDIF reader and a live search produce.

use std::collections::HashSet;

/// One directory entry as a search returns it: the DN and every attribute description with
/// its raw values.
///
/// Values stay bytes because `objectGUID`, `objectSid` and `jpegPhoto` are binary. Text
/// attributes are decoded as UTF-8 only where the mapping reads them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LdapEntry {
    /// The distinguished name exactly as the server wrote it (RFC 4514 string form).
    pub dn: String,
    /// Attribute descriptions (`objectGUID`, `member;range=0-1499`) with their values, in
    /// the order received. Descriptions that differ only in letter case share one slot.
    pub attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl LdapEntry {
    /// Creates an entry with a DN and no attributes.
    pub fn new(dn: impl Into<String>) -> Self {
        Self { dn: dn.into(), attributes: Vec::new() }
    }

    /// Appends one value to the attribute `description`, creating the attribute when the
    /// entry does not have it yet. Descriptions are compared ignoring ASCII case, as
    /// RFC 4512 section 2.5 defines them.
    pub fn push_value(&mut self, description: &str, value: Vec<u8>) {
        match self.attributes.iter_mut().find(|(name, _)| name.eq_ignore_ascii_case(description)) {
            Some((_, values)) => values.push(value),
            None => self.attributes.push((description.to_owned(), vec![value])),
        }
    }

    /// Appends `values` to the attribute `description` as [`LdapEntry::push_value`] does
    /// for each of them, but takes the description and values without copying them.
    pub fn push_values(&mut self, description: String, values: Vec<Vec<u8>>) {
        if values.is_empty() {
            return;
        }
        match self.attributes.iter_mut().find(|(name, _)| name.eq_ignore_ascii_case(&description)) {
            Some((_, existing)) => existing.extend(values),
            None => self.attributes.push((description, values)),
        }
    }

    /// Returns the values of the attribute whose description equals `description` ignoring
    /// ASCII case, or an empty slice. Descriptions with options (`member;range=0-2`) only match
    /// when the options are given too.
    pub fn values(&self, description: &str) -> &[Vec<u8>] {
        self.attributes
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(description))
            .map_or(&[], |(_, values)| values.as_slice())
    }

    /// Adds the attributes of `other`, another record for the same DN, skipping values this
    /// entry already has for the same description.
    ///
    /// A directory export can list one entry in several records: ranged retrieval returns
    /// one record per chunk, and two exports of the same directory may overlap.
    pub fn merge(&mut self, other: LdapEntry) {
        for (description, values) in other.attributes {
            let slot = self
                .attributes
                .iter()
                .position(|(name, _)| name.eq_ignore_ascii_case(&description));
            match slot.and_then(|index| self.attributes.get_mut(index)) {
                Some((_, existing)) => {
                    // A set keeps merging linear for groups with many thousands of members.
                    let mut seen: HashSet<Vec<u8>> = existing.iter().cloned().collect();
                    for value in values {
                        if seen.insert(value.clone()) {
                            existing.push(value);
                        }
                    }
                }
                None => self.attributes.push((description, values)),
            }
        }
    }
}
