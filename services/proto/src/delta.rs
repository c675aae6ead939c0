//! Changes of one source relative to an earlier snapshot, and their conversions to and
//! from `rollcall.v1.SnapshotDelta`.
//!
//! `rollcall-core` has no delta type, so [`SourceDelta`] is defined here. This crate
//! converts deltas but neither computes nor applies them.

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{Account, Entitlement, Membership, SourceId, SourceSettings};
use uuid::Uuid;

use crate::account::{account_from_proto, account_to_proto};
use crate::entitlement::{
    entitlement_from_proto, entitlement_to_proto, membership_from_proto, membership_to_proto,
};
use crate::error::ConvertError;
use crate::hash::{ContentHash, hash_from_proto};
use crate::snapshot::{convert_list, source_settings_from_proto, source_settings_to_proto};
use crate::v1;
use crate::wire::{
    optional_timestamp_from_proto, optional_timestamp_to_proto, source_from_proto,
    tenant_from_proto, uuid_from_proto,
};

/// The changes of one source of one tenant since the snapshot `base_snapshot_id`.
///
/// Accounts and entitlements are keyed by id, and a changed record replaces the whole
/// record. Memberships have no id, so a changed membership is one removal and one addition.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDelta {
    /// Delta id, also the NATS message id.
    pub delta_id: Uuid,
    /// Tenant the source belongs to.
    pub tenant: TenantId,
    /// Source that changed.
    pub source: SourceId,
    /// Snapshot id of the state the delta applies to.
    pub base_snapshot_id: Uuid,
    /// Content hash of the source's snapshot after the delta is applied.
    pub content_hash: ContentHash,
    /// When the changes were read from the source.
    pub collected_at: Option<DateTime<Utc>>,
    /// New settings, or `None` when they did not change.
    pub settings: Option<SourceSettings>,
    /// Accounts added or changed, each in full.
    pub changed_accounts: Vec<Account>,
    /// Ids of the accounts removed.
    pub removed_account_ids: Vec<String>,
    /// Entitlements added or changed, each in full.
    pub changed_entitlements: Vec<Entitlement>,
    /// Ids of the entitlements removed.
    pub removed_entitlement_ids: Vec<String>,
    /// Memberships added.
    pub added_memberships: Vec<Membership>,
    /// Memberships removed.
    pub removed_memberships: Vec<Membership>,
}

/// Converts a delta into its `rollcall.v1.SnapshotDelta` message, keeping the order of
/// every list.
///
/// Nothing splits a delta: a connector whose delta would exceed the NATS payload limit
/// publishes a full snapshot with [`split`](crate::split) instead.
pub fn source_delta_to_proto(delta: &SourceDelta) -> v1::SnapshotDelta {
    v1::SnapshotDelta {
        tenant: delta.tenant.as_str().to_owned(),
        source: delta.source.to_string(),
        delta_id: delta.delta_id.hyphenated().to_string(),
        base_snapshot_id: delta.base_snapshot_id.hyphenated().to_string(),
        content_sha256: delta.content_hash.to_string(),
        collected_at: optional_timestamp_to_proto(delta.collected_at),
        settings: delta.settings.as_ref().map(source_settings_to_proto),
        changed_accounts: delta.changed_accounts.iter().map(account_to_proto).collect(),
        removed_account_ids: delta.removed_account_ids.clone(),
        changed_entitlements: delta.changed_entitlements.iter().map(entitlement_to_proto).collect(),
        removed_entitlement_ids: delta.removed_entitlement_ids.clone(),
        added_memberships: delta.added_memberships.iter().map(membership_to_proto).collect(),
        removed_memberships: delta.removed_memberships.iter().map(membership_to_proto).collect(),
    }
}

/// Converts a `rollcall.v1.SnapshotDelta` message into a delta.
///
/// # Errors
///
/// A [`ConvertError`] naming the first invalid field, such as an invalid `delta_id` or
/// `changed_accounts[2].kind`.
pub fn source_delta_from_proto(message: v1::SnapshotDelta) -> Result<SourceDelta, ConvertError> {
    Ok(SourceDelta {
        delta_id: uuid_from_proto(message.delta_id, "delta_id")?,
        tenant: tenant_from_proto(message.tenant, "tenant")?,
        source: source_from_proto(message.source, "source")?,
        base_snapshot_id: uuid_from_proto(message.base_snapshot_id, "base_snapshot_id")?,
        content_hash: hash_from_proto(&message.content_sha256, "content_sha256")?,
        collected_at: optional_timestamp_from_proto(message.collected_at, "collected_at")?,
        settings: message
            .settings
            .map(source_settings_from_proto)
            .transpose()
            .map_err(|e| e.within("settings"))?,
        changed_accounts: convert_list(
            message.changed_accounts,
            "changed_accounts",
            account_from_proto,
        )?,
        removed_account_ids: message.removed_account_ids,
        changed_entitlements: convert_list(
            message.changed_entitlements,
            "changed_entitlements",
            entitlement_from_proto,
        )?,
        removed_entitlement_ids: message.removed_entitlement_ids,
        added_memberships: convert_list(
            message.added_memberships,
            "added_memberships",
            membership_from_proto,
        )?,
        removed_memberships: convert_list(
            message.removed_memberships,
            "removed_memberships",
            membership_from_proto,
        )?,
    })
}
