//! The per-source cursor that decides whether an incoming snapshot is newer than the one
//! applied last.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The identity and position of one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub snapshot_id: Uuid,
    pub content_sha256: [u8; 32],
    pub collected_at: DateTime<Utc>,
    pub stream_sequence: i64,
}

/// The action to take on an incoming snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Newer than the current one: replace it.
    Apply,
    /// The current snapshot again: a redelivery, or a connector that re-sent it.
    Duplicate,
    /// Older than the current one, or at the same position with other content.
    Stale,
}

/// Orders snapshots by collection time first, because a connector that re-publishes an
/// old snapshot after an outage gets a higher stream sequence for older data, then by
/// stream sequence among snapshots collected at the same instant.
pub(crate) fn decide(current: &Cursor, incoming: &Cursor) -> Decision {
    if incoming.snapshot_id == current.snapshot_id {
        return Decision::Duplicate;
    }
    if incoming.collected_at < current.collected_at {
        return Decision::Stale;
    }
    if incoming.collected_at > current.collected_at {
        return Decision::Apply;
    }
    if incoming.content_sha256 == current.content_sha256 {
        return Decision::Duplicate;
    }
    if incoming.stream_sequence > current.stream_sequence {
        Decision::Apply
    } else {
        Decision::Stale
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn cursor(id: u128, hash: u8, hour: u32, sequence: i64) -> Cursor {
        Cursor {
            snapshot_id: Uuid::from_u128(id),
            content_sha256: [hash; 32],
            collected_at: Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap(),
            stream_sequence: sequence,
        }
    }

    #[test]
    fn same_snapshot_id_is_duplicate() {
        let current = cursor(1, 1, 6, 10);
        assert_eq!(decide(&current, &cursor(1, 2, 7, 11)), Decision::Duplicate);
    }

    #[test]
    fn earlier_collection_is_stale_despite_sequence() {
        let current = cursor(1, 1, 6, 10);
        assert_eq!(decide(&current, &cursor(2, 2, 5, 99)), Decision::Stale);
    }

    #[test]
    fn later_collection_applies_despite_sequence() {
        let current = cursor(1, 1, 6, 10);
        assert_eq!(decide(&current, &cursor(2, 2, 7, 3)), Decision::Apply);
    }

    #[test]
    fn same_instant_same_content_is_duplicate() {
        let current = cursor(1, 1, 6, 10);
        assert_eq!(decide(&current, &cursor(2, 1, 6, 11)), Decision::Duplicate);
    }

    #[test]
    fn same_instant_orders_by_sequence() {
        let current = cursor(1, 1, 6, 10);
        assert_eq!(decide(&current, &cursor(2, 2, 6, 11)), Decision::Apply);
        assert_eq!(decide(&current, &cursor(3, 2, 6, 10)), Decision::Stale);
        assert_eq!(decide(&current, &cursor(4, 2, 6, 9)), Decision::Stale);
    }
}
