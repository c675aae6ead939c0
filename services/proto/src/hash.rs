//! The content hash of a snapshot: SHA-256 over a canonical encoding that does not depend on
//! the order of accounts, entitlements, memberships and the other unordered lists.
//!
//! The canonical encoding is the protobuf encoding of the snapshot's `rollcall.v1`
//! `SourceSnapshot` message with these lists sorted by the bytes of each element's own
//! encoding: `accounts`, `entitlements`, `memberships`, each account's
//! `auth_methods.methods` and `markers`, and `settings.weak_methods_enabled.names`. An HR
//! roster is hashed as the snapshot of source `hr` with its `workers` sorted the same way.
//! prost writes fields in field number order, leaves out fields at their default value and,
//! with the `BTreeMap` map fields the build script selects, writes map entries sorted by
//! key. Another implementation that follows these rules computes the same hash.
//!
//! NOTE: the hash is computed from decoded records, and decoding drops fields the schema
//! does not know. A consumer built before a field was added therefore computes another
//! hash for a snapshot that sets it, and rejects the snapshot.

use std::fmt;

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use rollcall_core::model::{HrSnapshot, SourceSnapshot};
use sha2::{Digest, Sha256};

use crate::account::account_to_proto;
use crate::entitlement::{entitlement_to_proto, membership_to_proto};
use crate::error::ConvertError;
use crate::hr::worker_to_proto;
use crate::snapshot::{hr_roster_to_proto, source_settings_to_proto};
use crate::v1;
use crate::wire::optional_timestamp_to_proto;

/// Field numbers of the lists in `rollcall.v1.SourceSnapshot`.
const ACCOUNTS_FIELD: u32 = 4;
const ENTITLEMENTS_FIELD: u32 = 5;
const MEMBERSHIPS_FIELD: u32 = 6;
const WORKERS_FIELD: u32 = 7;

/// The SHA-256 of a snapshot's canonical encoding, written as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Computes the content hash of `snapshot`.
    pub fn of(snapshot: &SourceSnapshot) -> Self {
        let mut hasher = Sha256::new();
        write_canonical(snapshot, &mut |bytes| hasher.update(bytes));
        Self(hasher.finalize().into())
    }

    /// Computes the content hash of an HR roster, the snapshot of source `hr`.
    pub fn of_roster(roster: &HrSnapshot) -> Self {
        let mut hasher = Sha256::new();
        write_canonical_roster(roster, &mut |bytes| hasher.update(bytes));
        Self(hasher.finalize().into())
    }

    /// Returns the 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 lowercase hex digits, the form the messages carry. Uppercase digits are
    /// rejected so that one hash has one spelling.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let [high, low] = pair else { return None };
            *byte = (hex_digit(*high)? << 4) | hex_digit(*low)?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Parses a hash field of a message.
pub(crate) fn hash_from_proto(value: &str, field: &str) -> Result<ContentHash, ConvertError> {
    ContentHash::from_hex(value).ok_or_else(|| ConvertError::InvalidHash {
        field: field.to_owned(),
        value: value.to_owned(),
    })
}

/// Returns the canonical encoding of `snapshot`, the bytes [`ContentHash::of`] hashes.
///
/// The result is a valid encoding of a `rollcall.v1.SourceSnapshot` message.
pub fn canonical_encoding(snapshot: &SourceSnapshot) -> Vec<u8> {
    let mut encoding = Vec::new();
    write_canonical(snapshot, &mut |bytes| encoding.extend_from_slice(bytes));
    encoding
}

/// Writes the canonical encoding to `sink` piece by piece. Hashing thus keeps only the
/// sorted encodings of the list elements in memory, never the whole encoding as well.
fn write_canonical(snapshot: &SourceSnapshot, sink: &mut dyn FnMut(&[u8])) {
    let mut settings = source_settings_to_proto(&snapshot.settings);
    if let Some(list) = settings.weak_methods_enabled.as_mut() {
        list.names.sort_unstable();
    }
    // Fields 1 to 3 come before the lists in field number order, so the header message
    // encodes them and the lists follow.
    let header = v1::SourceSnapshot {
        source: snapshot.source.to_string(),
        collected_at: optional_timestamp_to_proto(snapshot.collected_at),
        settings: Some(settings),
        accounts: Vec::new(),
        entitlements: Vec::new(),
        memberships: Vec::new(),
        workers: Vec::new(),
    };
    sink(&header.encode_to_vec());

    let accounts = snapshot.accounts.iter().map(|account| {
        let mut message = account_to_proto(account);
        if let Some(list) = message.auth_methods.as_mut() {
            list.methods.sort_by_cached_key(Message::encode_to_vec);
        }
        message.markers.sort_by_cached_key(Message::encode_to_vec);
        message.encode_to_vec()
    });
    write_sorted(ACCOUNTS_FIELD, accounts.collect(), sink);

    let entitlements =
        snapshot.entitlements.iter().map(|e| entitlement_to_proto(e).encode_to_vec()).collect();
    write_sorted(ENTITLEMENTS_FIELD, entitlements, sink);

    let memberships =
        snapshot.memberships.iter().map(|m| membership_to_proto(m).encode_to_vec()).collect();
    write_sorted(MEMBERSHIPS_FIELD, memberships, sink);
}

/// Writes the canonical encoding of a roster: the header fields of its `SourceSnapshot`
/// message, then the sorted workers.
fn write_canonical_roster(roster: &HrSnapshot, sink: &mut dyn FnMut(&[u8])) {
    let header =
        hr_roster_to_proto(&HrSnapshot { collected_at: roster.collected_at, workers: Vec::new() });
    sink(&header.encode_to_vec());
    let workers = roster.workers.iter().map(|w| worker_to_proto(w).encode_to_vec()).collect();
    write_sorted(WORKERS_FIELD, workers, sink);
}

/// Writes each element as the repeated message field `field`, in byte order.
fn write_sorted(field: u32, mut elements: Vec<Vec<u8>>, sink: &mut dyn FnMut(&[u8])) {
    elements.sort_unstable();
    let mut prefix = Vec::with_capacity(16);
    for element in &elements {
        prefix.clear();
        encode_key(field, WireType::LengthDelimited, &mut prefix);
        encode_varint(element.len() as u64, &mut prefix);
        sink(&prefix);
        sink(element);
    }
}
