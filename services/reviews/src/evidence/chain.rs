//! The audit chain's entry hash, written from the format that `docs/services/store.md`
//! documents rather than taken from the store, so the verifier checks the store instead
//! of sharing its code.
//!
//! Entry hash = SHA-256(previous hash || content), where the content is seven fields,
//! each its byte length as an 8-byte big-endian integer followed by its UTF-8 bytes: the
//! tag `rollcall-audit-v1`, the tenant id, the sequence number in decimal, the recorded
//! instant (RFC 3339, UTC, six fraction digits, `Z`), the actor, the action and the
//! detail JSON text as stored.

use sha2::{Digest, Sha256};

/// The format tag of the store's audit entries.
const AUDIT_FORMAT: &str = "rollcall-audit-v1";

/// The fields of one entry that its hash covers.
pub(crate) struct EntryFields<'a> {
    pub tenant: &'a str,
    pub seq: u64,
    pub recorded_at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
}

/// Computes the hash of an entry whose predecessor's hash is `prev`.
pub(crate) fn entry_hash(prev: &[u8; 32], fields: &EntryFields<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    let seq = fields.seq.to_string();
    for field in [
        AUDIT_FORMAT,
        fields.tenant,
        &seq,
        fields.recorded_at,
        fields.actor,
        fields.action,
        fields.detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector the store's own hash test writes out by hand, so the two agree.
    #[test]
    fn hash_matches_the_store_layout() {
        let mut expected = Sha256::new();
        expected.update([0u8; 32]);
        for field in [
            "rollcall-audit-v1",
            "harborview",
            "1",
            "2026-12-01T15:00:00.000000Z",
            "engine",
            "review.closed",
            "{}",
        ] {
            expected.update((field.len() as u64).to_be_bytes());
            expected.update(field.as_bytes());
        }
        let expected: [u8; 32] = expected.finalize().into();
        let fields = EntryFields {
            tenant: "harborview",
            seq: 1,
            recorded_at: "2026-12-01T15:00:00.000000Z",
            actor: "engine",
            action: "review.closed",
            detail: "{}",
        };
        assert_eq!(entry_hash(&[0; 32], &fields), expected);
    }
}
