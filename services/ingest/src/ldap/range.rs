//! Ranged retrieval of large multi-valued attributes, as Active Directory does it.
//!
//! When an attribute has more values than the domain controller's MaxValRange policy
//! (1500 since Windows Server 2003), AD returns one chunk under a description with a
//! `range=low-high` option (`member;range=0-1499`) and leaves the plain attribute absent or
//! empty. The client reads the same entry again asking for `member;range=<high+1>-*` until
//! the returned upper bound is `*`. Sources: Microsoft's ADSI page "Attribute Range
//! Retrieval" and the range retrieval section of [MS-ADTS].
//!
//! RFC 4512 does not allow `=` in an attribute option, so this is parsed here rather than
//! rejected.

use std::collections::{BTreeMap, HashSet};

use super::entry::LdapEntry;

/// An attribute description whose `range=` option cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The description has no attribute name before the first `;`.
    #[error("invalid attribute description `{description}`: the attribute name is missing")]
    MissingName {
        /// The description as given.
        description: String,
    },
    /// The range option is not `range=<low>-<high>` with decimal bounds or `*` as high.
    #[error(
        "invalid attribute description `{description}`: the range option must read `range=<low>-<high>` with decimal numbers, or `*` as the upper bound"
    )]
    InvalidRange {
        /// The description as given.
        description: String,
    },
    /// A bound does not fit in an unsigned 64-bit integer.
    #[error(
        "invalid attribute description `{description}`: a range bound is larger than 18446744073709551615"
    )]
    BoundOverflow {
        /// The description as given.
        description: String,
    },
    /// The upper bound is below the lower bound.
    #[error("invalid attribute description `{description}`: the range ends before it starts")]
    Reversed {
        /// The description as given.
        description: String,
    },
    /// The description carries more than one `range=` option.
    #[error("invalid attribute description `{description}`: it has more than one range option")]
    DuplicateRange {
        /// The description as given.
        description: String,
    },
}

/// The `range=low-high` option of an attribute description: zero-based value indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueRange {
    /// The index of the first value in the chunk.
    pub low: u64,
    /// The index of the last value in the chunk, or `None` for `*`: the chunk is the last.
    pub high: Option<u64>,
}

/// An attribute description split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDescription {
    /// The attribute name in lowercase (`member`, `memberof`).
    pub base: String,
    /// The other options in lowercase and in the order written (`binary`, `lang-en`).
    pub options: Vec<String>,
    /// The range option, if there is one.
    pub range: Option<ValueRange>,
}

impl AttributeDescription {
    /// Returns the description without its range option, in lowercase. The chunks of one
    /// attribute are collected under this key.
    pub fn key(&self) -> String {
        let mut key = self.base.clone();
        for option in &self.options {
            key.push(';');
            key.push_str(option);
        }
        key
    }
}

/// Splits `member;range=0-1499` into the name `member` and the range 0 to 1499.
///
/// Names and options are compared without regard to ASCII case, and bounds have no digit
/// limit below the `u64` maximum.
pub fn parse_description(description: &str) -> Result<AttributeDescription, RangeError> {
    let mut parts = description.split(';');
    let base = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    if base.is_empty() {
        return Err(RangeError::MissingName { description: description.to_owned() });
    }
    let mut options = Vec::new();
    let mut range = None;
    for option in parts {
        let option = option.trim().to_ascii_lowercase();
        match option.strip_prefix("range=") {
            Some(bounds) => {
                if range.is_some() {
                    return Err(RangeError::DuplicateRange { description: description.to_owned() });
                }
                range = Some(parse_bounds(bounds, description)?);
            }
            None => options.push(option),
        }
    }
    Ok(AttributeDescription { base, options, range })
}

fn parse_bounds(bounds: &str, description: &str) -> Result<ValueRange, RangeError> {
    let invalid = || RangeError::InvalidRange { description: description.to_owned() };
    let (low, high) = bounds.split_once('-').ok_or_else(invalid)?;
    let low = parse_bound(low, description)?;
    let high = if high == "*" { None } else { Some(parse_bound(high, description)?) };
    if high.is_some_and(|high| high < low) {
        return Err(RangeError::Reversed { description: description.to_owned() });
    }
    Ok(ValueRange { low, high })
}

fn parse_bound(digits: &str, description: &str) -> Result<u64, RangeError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RangeError::InvalidRange { description: description.to_owned() });
    }
    digits.parse().map_err(|_| RangeError::BoundOverflow { description: description.to_owned() })
}

/// The state of a ranged attribute after a chunk was added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeStatus {
    /// Every value has arrived: the chunks run without a gap from index 0 to a chunk whose
    /// upper bound is `*`.
    Complete,
    /// Values are missing. Read the same entry again requesting `next`
    /// (`member;range=1500-*`).
    Incomplete {
        /// The attribute description to request next.
        next: String,
    },
}

/// Collects the chunks of one ranged attribute of one entry.
///
/// Chunks may arrive in any order, and a repeated chunk adds nothing. Plain values (the
/// attribute without a range option) are kept too, but an empty plain attribute beside a
/// ranged one never makes the set complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeCollector {
    key: String,
    chunks: BTreeMap<u64, (Option<u64>, Vec<Vec<u8>>)>,
    plain: Vec<Vec<u8>>,
    /// Every value added so far, so duplicates are dropped without a quadratic search.
    seen: HashSet<Vec<u8>>,
}

impl RangeCollector {
    /// Creates a collector for the attribute `key` (`member`, or `member;binary` with other
    /// options), in any case.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_ascii_lowercase(),
            chunks: BTreeMap::new(),
            plain: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Adds the values of one chunk, or plain values when `range` is `None`, and returns
    /// whether more chunks are needed.
    pub fn add(&mut self, range: Option<ValueRange>, values: Vec<Vec<u8>>) -> RangeStatus {
        let target = match range {
            None => &mut self.plain,
            Some(range) => {
                let (high, existing) =
                    self.chunks.entry(range.low).or_insert_with(|| (range.high, Vec::new()));
                // A chunk that ends at `*` covers more than one that ends at a number.
                if range.high.is_none() || high.is_some_and(|old| range.high > Some(old)) {
                    *high = range.high;
                }
                existing
            }
        };
        for value in values {
            if self.seen.insert(value.clone()) {
                target.push(value);
            }
        }
        self.status()
    }

    /// Returns whether every chunk has arrived, and if not, which description to request next.
    pub fn status(&self) -> RangeStatus {
        if self.chunks.is_empty() {
            return RangeStatus::Complete;
        }
        let mut next_low: u64 = 0;
        for (&low, &(high, _)) in &self.chunks {
            if low > next_low {
                break;
            }
            match high {
                None => return RangeStatus::Complete,
                Some(high) => match high.checked_add(1) {
                    Some(after) => next_low = next_low.max(after),
                    // A chunk ending at the u64 maximum cannot be followed by another.
                    None => return RangeStatus::Complete,
                },
            }
        }
        RangeStatus::Incomplete { next: format!("{};range={next_low}-*", self.key) }
    }

    /// Returns every value collected, chunks in index order then the plain values, without
    /// duplicates, with the final status.
    pub fn finish(self) -> (Vec<Vec<u8>>, RangeStatus) {
        let status = self.status();
        let mut values: Vec<Vec<u8>> =
            self.chunks.into_values().flat_map(|(_, chunk)| chunk).collect();
        values.extend(self.plain);
        (values, status)
    }
}

/// An attribute whose chunks did not all arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteAttribute {
    /// The attribute name in lowercase, without the range option (`member`).
    pub attribute: String,
    /// How many values did arrive.
    pub received: usize,
    /// The description to request to continue (`member;range=6-*`).
    pub next: String,
}

/// An entry with every ranged attribute folded back into the plain attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedRanges {
    /// The entry, where `member;range=0-2` and `member;range=3-*` became one `member`.
    pub entry: LdapEntry,
    /// The ranged attributes that lack chunks.
    pub incomplete: Vec<IncompleteAttribute>,
    /// Descriptions whose range option could not be read. Their values are kept under the
    /// plain attribute, and the attribute is listed in `incomplete` because nothing shows
    /// where those values sit in the full set.
    pub errors: Vec<RangeError>,
}

/// Folds every ranged attribute of `entry` into the plain attribute and reports which ones
/// are incomplete.
///
/// Attributes without a range option are left as they are, except that an attribute that
/// also has ranged chunks takes its values from the collector.
pub fn merge_ranges(entry: LdapEntry) -> MergedRanges {
    // Only a description with an option can carry a range, and most entries have none.
    if !entry.attributes.iter().any(|(description, _)| description.contains(';')) {
        return MergedRanges { entry, incomplete: Vec::new(), errors: Vec::new() };
    }
    let ranged_keys: Vec<String> = entry
        .attributes
        .iter()
        .filter_map(|(description, _)| {
            let description = description.to_ascii_lowercase();
            description.contains(";range=").then(|| {
                parse_description(&description)
                    .map_or_else(|_| range_free_key(&description), |d| d.key())
            })
        })
        .collect();
    if ranged_keys.is_empty() {
        return MergedRanges { entry, incomplete: Vec::new(), errors: Vec::new() };
    }

    let mut collectors: Vec<(String, String, RangeCollector, bool)> = Vec::new();
    let mut errors = Vec::new();
    let mut folded = LdapEntry::new(entry.dn);
    for (description, values) in entry.attributes {
        let parsed = parse_description(&description);
        let key = match &parsed {
            Ok(parsed) => parsed.key(),
            Err(_) => range_free_key(&description.to_ascii_lowercase()),
        };
        if !ranged_keys.contains(&key) {
            folded.attributes.push((description, values));
            continue;
        }
        let slot = match collectors.iter().position(|(existing, ..)| *existing == key) {
            Some(index) => index,
            None => {
                let name = range_free_name(&description);
                collectors.push((key.clone(), name, RangeCollector::new(&key), false));
                collectors.len() - 1
            }
        };
        let Some((_, _, collector, unreadable)) = collectors.get_mut(slot) else { continue };
        match parsed {
            Ok(parsed) => {
                collector.add(parsed.range, values);
            }
            Err(error) => {
                errors.push(error);
                *unreadable = true;
                collector.add(None, values);
            }
        }
    }

    let mut incomplete = Vec::new();
    for (key, name, collector, unreadable) in collectors {
        let (values, status) = collector.finish();
        let received = values.len();
        folded.attributes.push((name, values));
        match status {
            RangeStatus::Incomplete { next } => {
                incomplete.push(IncompleteAttribute { attribute: key, received, next });
            }
            RangeStatus::Complete if unreadable => {
                let next = format!("{key};range=0-*");
                incomplete.push(IncompleteAttribute { attribute: key, received, next });
            }
            RangeStatus::Complete => {}
        }
    }
    MergedRanges { entry: folded, incomplete, errors }
}

/// Removes every `range=` option from a lowercase description whose range cannot be
/// parsed.
fn range_free_key(description: &str) -> String {
    description
        .split(';')
        .filter(|part| !part.trim().starts_with("range="))
        .collect::<Vec<_>>()
        .join(";")
}

/// Removes the range option from a description as written, so the merged attribute keeps
/// the server's spelling (`member`, `Member`).
fn range_free_name(description: &str) -> String {
    description
        .split(';')
        .filter(|part| !part.trim().to_ascii_lowercase().starts_with("range="))
        .collect::<Vec<_>>()
        .join(";")
}
