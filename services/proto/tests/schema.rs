//! Checks on the compiled schema itself, read from the exported file descriptor set: the
//! severity enums of the schema and of `rollcall-core` list the same severities, and every
//! element of every schema file is documented.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::collections::BTreeSet;

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use rollcall_core::Severity;
use rollcall_proto::{FILE_DESCRIPTOR_SET, severity_from_proto, severity_to_proto};

// Source-info paths are lists of field numbers and indexes, with the field numbers from
// `google/protobuf/descriptor.proto`.
/// `FileDescriptorProto.message_type`.
const FILE_MESSAGE_TYPE: i32 = 4;
/// `FileDescriptorProto.enum_type`.
const FILE_ENUM_TYPE: i32 = 5;
/// `DescriptorProto.field`.
const MESSAGE_FIELD: i32 = 2;
/// `DescriptorProto.oneof_decl`.
const MESSAGE_ONEOF: i32 = 8;
/// `EnumDescriptorProto.value`.
const ENUM_VALUE: i32 = 2;

/// The schema files of this crate, without the imported well-known types.
const FILES: [&str; 4] = [
    "rollcall/v1/finding.proto",
    "rollcall/v1/snapshot.proto",
    "rollcall/v1/hr.proto",
    "rollcall/v1/sync.proto",
];

fn schema_file(name: &str) -> FileDescriptorProto {
    let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
    set.file.into_iter().find(|file| file.name() == name).unwrap()
}

fn finding_file() -> FileDescriptorProto {
    schema_file("rollcall/v1/finding.proto")
}

#[test]
fn severity_enums_stay_in_step() {
    let file = finding_file();
    let severity = file.enum_type.iter().find(|e| e.name() == "Severity").unwrap();
    let defined: Vec<_> = severity.value.iter().filter(|v| v.number() != 0).collect();

    assert_eq!(defined.len(), Severity::ALL.len(), "severity counts differ");
    for value in defined {
        let domain = severity_from_proto(value.number()).unwrap();
        let expected_name = format!("SEVERITY_{}", domain.as_str().to_uppercase());

        assert_eq!(value.name(), expected_name);
        assert_eq!(i32::from(severity_to_proto(domain)), value.number());
    }
}

#[test]
fn severity_numbers_are_distinct() {
    let numbers: BTreeSet<i32> =
        Severity::ALL.into_iter().map(|s| i32::from(severity_to_proto(s))).collect();

    assert_eq!(numbers.len(), Severity::ALL.len());
    assert!(!numbers.contains(&0));
}

/// Lists the messages, fields, oneofs, enums and enum values of `file` that have no
/// leading comment.
fn undocumented(file: &FileDescriptorProto) -> Vec<String> {
    let info = file.source_code_info.as_ref().unwrap();
    let commented: BTreeSet<&[i32]> = info
        .location
        .iter()
        .filter(|location| !location.leading_comments().trim().is_empty())
        .map(|location| location.path.as_slice())
        .collect();

    let mut missing = Vec::new();
    for (m, message) in (0i32..).zip(&file.message_type) {
        if !commented.contains([FILE_MESSAGE_TYPE, m].as_slice()) {
            missing.push(message.name().to_owned());
        }
        for (f, field) in (0i32..).zip(&message.field) {
            if !commented.contains([FILE_MESSAGE_TYPE, m, MESSAGE_FIELD, f].as_slice()) {
                missing.push(format!("{}.{}", message.name(), field.name()));
            }
        }
        for (o, oneof) in (0i32..).zip(&message.oneof_decl) {
            // proto3 `optional` fields get a synthetic oneof named after the field with a
            // leading underscore, which has no source text to comment.
            let synthetic = oneof.name().starts_with('_');
            if !synthetic
                && !commented.contains([FILE_MESSAGE_TYPE, m, MESSAGE_ONEOF, o].as_slice())
            {
                missing.push(format!("{}.{}", message.name(), oneof.name()));
            }
        }
    }
    for (e, enumeration) in (0i32..).zip(&file.enum_type) {
        if !commented.contains([FILE_ENUM_TYPE, e].as_slice()) {
            missing.push(enumeration.name().to_owned());
        }
        for (v, value) in (0i32..).zip(&enumeration.value) {
            if !commented.contains([FILE_ENUM_TYPE, e, ENUM_VALUE, v].as_slice()) {
                missing.push(value.name().to_owned());
            }
        }
    }
    missing
}

#[test]
fn schema_elements_have_comments() {
    for name in FILES {
        let missing = undocumented(&schema_file(name));

        assert_eq!(
            missing,
            Vec::<String>::new(),
            "{name}: schema elements without a leading comment"
        );
    }
}

#[test]
fn schema_files_have_expected_elements() {
    let counts: Vec<(usize, usize)> = FILES
        .into_iter()
        .map(schema_file)
        .map(|file| (file.message_type.len(), file.enum_type.len()))
        .collect();

    assert_eq!(counts, [(8, 2), (13, 10), (2, 3), (2, 1)]);
}

#[test]
fn every_enum_starts_unspecified() {
    for name in FILES {
        for enumeration in schema_file(name).enum_type {
            let first = enumeration.value.first().unwrap();

            assert_eq!(first.number(), 0, "{}", enumeration.name());
            assert!(first.name().ends_with("_UNSPECIFIED"), "{}", first.name());
        }
    }
}
