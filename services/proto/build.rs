//! Generates the Rust types for `proto/` with protox, a protobuf compiler written in Rust,
//! and prost-build, so that building this crate needs no `protoc` on the machine.

use std::env;
use std::error::Error;
use std::fs;
use std::path::PathBuf;

use prost::Message;

/// The `.proto` files to compile, relative to the proto root.
const FILES: [&str; 4] = [
    "rollcall/v1/finding.proto",
    "rollcall/v1/snapshot.proto",
    "rollcall/v1/hr.proto",
    "rollcall/v1/sync.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    // A directory argument makes Cargo rerun the script when any file below it changes.
    println!("cargo:rerun-if-changed={}", proto_root.display());

    // protox bundles the `google/protobuf/*.proto` well-known types, so the import of
    // timestamp.proto resolves without a protoc installation. The set keeps source info,
    // which carries the comments that become the generated doc comments.
    let descriptors = protox::compile(FILES, [&proto_root])?;

    // The encoded set is exported as `FILE_DESCRIPTOR_SET` for reflection and for the
    // tests that inspect the schema.
    fs::write(out_dir.join("rollcall_v1_descriptor.bin"), descriptors.encode_to_vec())?;

    // Map fields become `BTreeMap`s, like the domain's attribute maps, so that encoding
    // writes the entries sorted by key. The content hash of a snapshot relies on that.
    prost_build::Config::new().btree_map(["."]).compile_fds(descriptors)?;
    Ok(())
}
