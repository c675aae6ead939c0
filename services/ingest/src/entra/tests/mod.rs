//! Tests of the Entra reader, against the public Graph samples in `testdata/` and small
//! synthetic responses.

mod field_case;
mod groups;
mod methods;
mod payloads;
mod policy;
mod props;
mod roles;
mod snapshot;
mod users;

use std::path::{Path, PathBuf};

use rollcall_core::model::{Account, Entitlement, SourceSnapshot};

use super::EntraImport;
use crate::diagnostic::{Diagnostic, Level};

/// Returns the path of a file under the repository's `testdata/` folder.
fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(relative)
}

/// Reads the bytes of a public payload.
fn payload(name: &str) -> Vec<u8> {
    let path = testdata("public-payloads").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Reads `files` (path, contents) into a snapshot; every file must be readable.
fn import(files: &[(&str, &[u8])]) -> (SourceSnapshot, Vec<Diagnostic>) {
    let mut import = EntraImport::new();
    for (path, bytes) in files {
        import.add_file(Path::new(path), bytes).unwrap_or_else(|error| panic!("{path}: {error}"));
    }
    import.finish()
}

fn account<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a Account {
    snapshot
        .accounts
        .iter()
        .find(|account| account.id == id)
        .unwrap_or_else(|| panic!("no account `{id}` in {:?}", snapshot.accounts))
}

fn entitlement<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a Entitlement {
    snapshot
        .entitlements
        .iter()
        .find(|entitlement| entitlement.id == id)
        .unwrap_or_else(|| panic!("no entitlement `{id}` in {:?}", snapshot.entitlements))
}

/// Returns the warnings whose message contains `text`.
fn warnings<'a>(diagnostics: &'a [Diagnostic], text: &str) -> Vec<&'a Diagnostic> {
    diagnostics
        .iter()
        .filter(|diagnostic| {
            diagnostic.level == Level::Warning && diagnostic.message.contains(text)
        })
        .collect()
}
