//! The permission tables of the docs list exactly the permissions of the connector's
//! request table, so the docs cannot drift from the requests the code sends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use std::collections::BTreeSet;

use rollcall_entra_connector::permissions::{Access, permissions_for};

fn read_doc(relative: &str) -> String {
    let path = common::repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Returns the rows of the first Markdown table under `heading`, as cells, without the
/// header and separator rows. Fails when the heading or the table is missing.
fn table_rows(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let mut lines = doc.lines().skip_while(|line| line.trim() != heading);
    assert!(lines.next().is_some(), "heading `{heading}` not found");
    let rows: Vec<Vec<String>> = lines
        .take_while(|line| !line.starts_with('#'))
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            line.trim().trim_matches('|').split('|').map(|cell| cell.trim().to_owned()).collect()
        })
        .skip(2)
        .collect();
    assert!(!rows.is_empty(), "no table under `{heading}`");
    rows
}

/// Returns the names in backticks in `cell`.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Returns the permissions in the first column of the table under `heading`.
fn first_column(doc: &str, heading: &str) -> BTreeSet<String> {
    table_rows(doc, heading).iter().flat_map(|row| code_spans(&row[0])).collect()
}

fn code_set(access: Access) -> BTreeSet<String> {
    permissions_for(access).into_iter().map(str::to_owned).collect()
}

#[test]
fn connector_doc_matches_table() {
    let doc = read_doc("docs/connectors/entra.md");
    let reads = first_column(&doc, "### Application permissions (least privilege)");
    let writes = first_column(&doc, "### Write permissions for leaver remediation");
    assert_eq!(reads, code_set(Access::Read));
    assert_eq!(writes, code_set(Access::Write));
}

#[test]
fn onboarding_doc_matches_table() {
    let doc = read_doc("docs/operations/onboarding.md");
    let reads = first_column(&doc, "### Read permissions: the Entra ID connector");
    let writes = first_column(&doc, "### Write permissions: leaver remediation");
    assert_eq!(reads, code_set(Access::Read));
    assert_eq!(writes, code_set(Access::Write));
}

#[test]
fn remediation_doc_matches_table() {
    let doc = read_doc("docs/services/remediation.md");
    let writes: BTreeSet<String> = table_rows(&doc, "## Permissions")
        .iter()
        .filter(|row| row[0] == "Microsoft Graph (application)")
        .flat_map(|row| code_spans(&row[1]))
        .collect();
    assert_eq!(writes, code_set(Access::Write));
}

#[test]
fn table_parser_reads_cells() {
    let doc = "## A\n\ntext\n\n| p | why |\n| --- | --- |\n| `X.Read` | a `b` |\n| `Y.Read` | c |\n\n## B\n";
    let rows = table_rows(doc, "## A");
    assert_eq!(rows.len(), 2);
    assert_eq!(code_spans(&rows[0][0]), ["X.Read"]);
    assert_eq!(first_column(doc, "## A"), BTreeSet::from(["X.Read".into(), "Y.Read".into()]));
}
