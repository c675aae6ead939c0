//! Conversions of whole source snapshots and their settings between the domain and
//! `rollcall.v1`.

use rollcall_core::model::{
    Availability, HrSnapshot, SourceId, SourceKind, SourceSettings, SourceSnapshot,
};

use crate::account::{account_from_proto, account_to_proto};
use crate::entitlement::{
    entitlement_from_proto, entitlement_to_proto, membership_from_proto, membership_to_proto,
};
use crate::error::ConvertError;
use crate::hr::{worker_from_proto, worker_to_proto};
use crate::v1;
use crate::wire::{
    enum_from_proto, optional_timestamp_from_proto, optional_timestamp_to_proto, source_from_proto,
};

/// Converts a snapshot into one `rollcall.v1.SourceSnapshot` message, keeping the order of
/// every list.
///
/// A large snapshot exceeds the NATS payload limit in one message: publish it with
/// [`split`](crate::split) instead.
pub fn source_snapshot_to_proto(snapshot: &SourceSnapshot) -> v1::SourceSnapshot {
    v1::SourceSnapshot {
        source: snapshot.source.to_string(),
        collected_at: optional_timestamp_to_proto(snapshot.collected_at),
        settings: Some(source_settings_to_proto(&snapshot.settings)),
        accounts: snapshot.accounts.iter().map(account_to_proto).collect(),
        entitlements: snapshot.entitlements.iter().map(entitlement_to_proto).collect(),
        memberships: snapshot.memberships.iter().map(membership_to_proto).collect(),
        workers: Vec::new(),
    }
}

/// Converts an HR roster into one `rollcall.v1.SourceSnapshot` message of source `hr`,
/// keeping the order of the workers.
///
/// A large roster exceeds the NATS payload limit in one message: publish it with
/// [`split_roster`](crate::split_roster) instead.
pub fn hr_roster_to_proto(roster: &HrSnapshot) -> v1::SourceSnapshot {
    v1::SourceSnapshot {
        source: SourceId::hr().to_string(),
        collected_at: optional_timestamp_to_proto(roster.collected_at),
        settings: Some(source_settings_to_proto(&SourceSettings::default())),
        accounts: Vec::new(),
        entitlements: Vec::new(),
        memberships: Vec::new(),
        workers: roster.workers.iter().map(worker_to_proto).collect(),
    }
}

/// Converts a `rollcall.v1.SourceSnapshot` message of source `hr` into an HR roster.
///
/// # Errors
///
/// A [`ConvertError`] naming the first invalid field: a source other than `hr`, accounts,
/// entitlements or memberships in the message, or an invalid worker.
pub fn hr_roster_from_proto(message: v1::SourceSnapshot) -> Result<HrSnapshot, ConvertError> {
    let source = source_from_proto(message.source, "source")?;
    if source.kind() != SourceKind::Hr {
        return Err(ConvertError::NotHrRoster {
            field: "source".to_owned(),
            value: source.to_string(),
        });
    }
    reject_directory_records(
        !message.accounts.is_empty(),
        !message.entitlements.is_empty(),
        !message.memberships.is_empty(),
    )?;
    Ok(HrSnapshot {
        collected_at: optional_timestamp_from_proto(message.collected_at, "collected_at")?,
        workers: convert_list(message.workers, "workers", worker_from_proto)?,
    })
}

/// Rejects accounts, entitlements or memberships in the snapshot of source `hr`, which
/// carries workers only.
pub(crate) fn reject_directory_records(
    accounts: bool,
    entitlements: bool,
    memberships: bool,
) -> Result<(), ConvertError> {
    let field = if accounts {
        "accounts"
    } else if entitlements {
        "entitlements"
    } else if memberships {
        "memberships"
    } else {
        return Ok(());
    };
    Err(ConvertError::Unexpected {
        field: field.to_owned(),
        reason: "the snapshot of source `hr` carries workers only",
    })
}

/// Rejects workers in the snapshot of a source other than `hr`.
pub(crate) fn reject_workers(workers: bool) -> Result<(), ConvertError> {
    if workers {
        return Err(ConvertError::Unexpected {
            field: "workers".to_owned(),
            reason: "only the snapshot of source `hr` carries workers",
        });
    }
    Ok(())
}

/// Converts a `rollcall.v1.SourceSnapshot` message into a snapshot.
///
/// # Errors
///
/// A [`ConvertError`] naming the first invalid field, such as `accounts[3].kind` or an
/// invalid `source`. Workers are invalid here: read the `hr` source with
/// [`hr_roster_from_proto`].
pub fn source_snapshot_from_proto(
    message: v1::SourceSnapshot,
) -> Result<SourceSnapshot, ConvertError> {
    let settings = message.settings.ok_or_else(|| ConvertError::missing("settings"))?;
    reject_workers(!message.workers.is_empty())?;
    Ok(SourceSnapshot {
        source: source_from_proto(message.source, "source")?,
        collected_at: optional_timestamp_from_proto(message.collected_at, "collected_at")?,
        accounts: convert_list(message.accounts, "accounts", account_from_proto)?,
        entitlements: convert_list(message.entitlements, "entitlements", entitlement_from_proto)?,
        memberships: convert_list(message.memberships, "memberships", membership_from_proto)?,
        settings: source_settings_from_proto(settings).map_err(|e| e.within("settings"))?,
    })
}

/// Converts a source's tenant-wide settings into their `rollcall.v1.SourceSettings`
/// message, without loss.
pub fn source_settings_to_proto(settings: &SourceSettings) -> v1::SourceSettings {
    let sign_in_activity = match settings.sign_in_activity {
        Availability::Available => v1::Availability::Available,
        Availability::Missing => v1::Availability::Missing,
        Availability::Unknown => v1::Availability::Unknown,
    };
    v1::SourceSettings {
        weak_methods_enabled: settings
            .weak_methods_enabled
            .as_ref()
            .map(|names| v1::MethodNames { names: names.clone() }),
        sign_in_activity: sign_in_activity.into(),
    }
}

/// Converts a `rollcall.v1.SourceSettings` message into a source's settings.
///
/// # Errors
///
/// [`ConvertError::Missing`] or [`ConvertError::UnknownEnum`] for an unset or unknown
/// `sign_in_activity`.
pub fn source_settings_from_proto(
    message: v1::SourceSettings,
) -> Result<SourceSettings, ConvertError> {
    let sign_in_activity = match enum_from_proto(message.sign_in_activity, "sign_in_activity")? {
        v1::Availability::Unspecified => return Err(ConvertError::missing("sign_in_activity")),
        v1::Availability::Available => Availability::Available,
        v1::Availability::Missing => Availability::Missing,
        v1::Availability::Unknown => Availability::Unknown,
    };
    Ok(SourceSettings {
        weak_methods_enabled: message.weak_methods_enabled.map(|list| list.names),
        sign_in_activity,
    })
}

/// Converts each message of the list field `field`, naming the failing element's index in
/// the error, such as `accounts[3].kind`.
pub(crate) fn convert_list<M, D>(
    messages: Vec<M>,
    field: &str,
    convert: fn(M) -> Result<D, ConvertError>,
) -> Result<Vec<D>, ConvertError> {
    let mut converted = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        converted.push(convert(message).map_err(|e| e.within(format_args!("{field}[{index}]")))?);
    }
    Ok(converted)
}
