//! Tests of the LDAP modules, on the public LDIF samples and the field cases in
//! `testdata/`.

mod ad;
mod dn;
mod filter;
mod import_field_cases;
mod import_mapping;
mod import_planetexpress;
mod import_samba;
mod proptests;
mod range;

use std::path::PathBuf;

/// Returns the path of a file under the repository's `testdata/` folder.
fn testdata_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(relative)
}

/// Reads a file under `testdata/`.
fn testdata(relative: &str) -> Vec<u8> {
    let path = testdata_path(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}
