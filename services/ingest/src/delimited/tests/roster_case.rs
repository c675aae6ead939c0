//! The Excel-saved roster: a UTF-8 file with a byte order mark and `;`, and a Windows-1252
//! file with `,` whose notes hold an unquoted `;`. Both must give the records of
//! `expected.json`.

use std::path::Path;

use serde_json::Value;

use crate::delimited::{Delimiter, LineEnding, ReadOptions, Table, read_table};
use crate::diagnostic::{Level, Location};

const CASE: &str = "../../testdata/field-cases/csv-excel-roster";

fn case_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CASE).join(name)
}

fn expected() -> Value {
    let text = std::fs::read_to_string(case_path("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn read(name: &str) -> Table {
    let bytes = std::fs::read(case_path(name)).unwrap();
    read_table(&bytes, Path::new(name), &ReadOptions::default()).unwrap()
}

/// Compares the table with the columns and records of `expected.json`.
fn assert_matches_expected(table: &Table) {
    let expected = expected();
    let columns: Vec<&str> =
        expected["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(table.columns, columns);

    let records = expected["records"].as_array().unwrap();
    assert_eq!(table.rows.len(), records.len());
    for (row, record) in table.rows.iter().zip(records) {
        for (index, column) in columns.iter().enumerate() {
            assert_eq!(
                row.get(index),
                record[*column].as_str(),
                "column `{column}` of record {}",
                row.record
            );
        }
    }
}

fn assert_detected(table: &Table, name: &str) {
    let detected = &expected()["detected"][name];
    assert_eq!(table.decoding.describe(), detected["encoding"].as_str().unwrap());
    assert_eq!(table.delimiter.as_char().to_string(), detected["delimiter"].as_str().unwrap());
    assert_eq!(table.line_ending.as_str(), detected["line_ending"].as_str().unwrap());
}

#[test]
fn utf8_bom_semicolon_matches_expected() {
    let name = "roster-excel-utf8-bom-semicolon.csv";
    let table = read(name);
    assert_matches_expected(&table);
    assert_detected(&table, name);
    assert_eq!(table.delimiter, Delimiter::Semicolon);
    assert!(table.delimiter_detected);
    assert_eq!(table.line_ending, LineEnding::Crlf);
    assert!(table.diagnostics.is_empty(), "{:?}", table.diagnostics);
}

#[test]
fn ansi_comma_matches_expected() {
    let name = "roster-excel-ansi-comma.csv";
    let table = read(name);
    assert_matches_expected(&table);
    assert_detected(&table, name);
    assert_eq!(table.delimiter, Delimiter::Comma);
}

#[test]
fn ansi_comma_reports_encoding() {
    let table = read("roster-excel-ansi-comma.csv");
    assert_eq!(table.diagnostics.len(), 1);
    let diagnostic = &table.diagnostics[0];
    assert_eq!(diagnostic.level, Level::Info);
    assert_eq!(diagnostic.location, Location::File);
    assert!(diagnostic.message.contains("`windows-1252`"), "{}", diagnostic.message);
    assert!(diagnostic.message.contains("line 2"), "{}", diagnostic.message);
}

#[test]
fn no_byte_order_mark_in_any_value() {
    for name in ["roster-excel-utf8-bom-semicolon.csv", "roster-excel-ansi-comma.csv"] {
        let table = read(name);
        assert!(table.columns.iter().all(|c| !c.contains('\u{FEFF}')));
        for row in &table.rows {
            assert!(row.fields.iter().all(|f| !f.contains('\u{FEFF}') && !f.contains('\u{FFFD}')));
        }
    }
}

#[test]
fn row_positions_follow_file() {
    let table = read("roster-excel-utf8-bom-semicolon.csv");
    let positions: Vec<(u64, u64)> = table.rows.iter().map(|r| (r.record, r.line)).collect();
    assert_eq!(positions, [(2, 2), (3, 3), (4, 4)]);
}
