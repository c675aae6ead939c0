//! Rollcall's protobuf messages for finding events, and their conversion from the
//! `rollcall-core` domain types.
//!
//! The schema is `proto/rollcall/v1/finding.proto` at the repository root. The build
//! script compiles it with protox and prost-build, so no `protoc` is needed. The generated
//! types live in [`v1`], apart from the domain types: [`finding_to_proto`] and the
//! severity functions convert between the two explicitly.

mod convert;

pub use convert::{SeverityError, finding_to_proto, severity_from_proto, severity_to_proto};

/// Types generated from the `rollcall.v1` protobuf package.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/rollcall.v1.rs"));
}

/// The encoded `google.protobuf.FileDescriptorSet` of the `rollcall.v1` schema and its
/// imports, with source info, for reflection and schema registries.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rollcall_v1_descriptor.bin"));
