//! Rollcall's protobuf messages and their conversions from and to the `rollcall-core`
//! domain types: finding events, source snapshots and HR rosters in chunks, snapshot deltas,
//! HR events and sync reports.
//!
//! The schemas are the files under `proto/rollcall/v1/` at the repository root. The build
//! script compiles them with protox and prost-build, so no `protoc` is needed. The
//! generated types live in [`v1`], apart from the domain types, and the functions here
//! convert between the two explicitly: `*_to_proto` never fails, and `*_from_proto`
//! returns a [`ConvertError`] naming the first invalid field.
//!
//! A connector publishes a snapshot with [`split`], and the engine rebuilds it with an
//! [`Assembler`], which checks the [`ContentHash`] before returning it.

mod account;
mod assemble;
mod auth;
mod chunk;
mod chunk_content;
mod convert;
mod delta;
mod entitlement;
mod error;
mod hash;
mod hr;
mod msg_id;
mod snapshot;
mod sync;
mod wire;

pub use account::{account_from_proto, account_to_proto};
pub use assemble::{AssembleError, AssembledSnapshot, Assembler, PendingSnapshot};
pub use auth::{auth_method_from_proto, auth_method_to_proto};
pub use chunk::{DEFAULT_MAX_CHUNK_BYTES, SplitError, split, split_roster};
pub use chunk_content::SnapshotContent;
pub use convert::{
    SeverityError, finding_event, finding_to_proto, severity_from_proto, severity_to_proto,
};
pub use delta::{SourceDelta, source_delta_from_proto, source_delta_to_proto};
pub use entitlement::{
    entitlement_from_proto, entitlement_to_proto, membership_from_proto, membership_to_proto,
};
pub use error::ConvertError;
pub use hash::{ContentHash, canonical_encoding};
pub use hr::{
    HrEvent, HrEventSender, HrEventType, hr_event_from_proto, hr_event_to_proto, worker_from_proto,
    worker_to_proto,
};
pub use snapshot::{
    hr_roster_from_proto, hr_roster_to_proto, source_settings_from_proto, source_settings_to_proto,
    source_snapshot_from_proto, source_snapshot_to_proto,
};
pub use sync::{
    InputProblem, SyncOutcome, SyncReport, sync_report_from_proto, sync_report_to_proto,
};

/// Types generated from the `rollcall.v1` protobuf package.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/rollcall.v1.rs"));
}

/// The encoded `google.protobuf.FileDescriptorSet` of the `rollcall.v1` schema and its
/// imports, with source info, for reflection and schema registries.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rollcall_v1_descriptor.bin"));
