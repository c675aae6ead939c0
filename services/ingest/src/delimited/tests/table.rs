use std::path::Path;

use proptest::prelude::*;

use crate::delimited::{DelimitedError, Delimiter, LineEnding, ReadOptions, Table, read_table};
use crate::diagnostic::{Level, Location};
use crate::text::TextEncoding;

fn read(text: &str) -> Result<Table, DelimitedError> {
    read_table(text.as_bytes(), Path::new("users.csv"), &ReadOptions::default())
}

fn values(table: &Table) -> Vec<Vec<&str>> {
    table.rows.iter().map(|row| row.fields.iter().map(String::as_str).collect()).collect()
}

#[test]
fn tab_detected() {
    let table = read("Login\tName\nab\tA, B\n").unwrap();
    assert_eq!(table.delimiter, Delimiter::Tab);
    assert_eq!(values(&table), [["ab", "A, B"]]);
}

#[test]
fn pipe_detected() {
    let table = read("Login|Name|Role\nab|A; B|x\n").unwrap();
    assert_eq!(table.delimiter, Delimiter::Pipe);
    assert_eq!(values(&table), [["ab", "A; B", "x"]]);
}

#[test]
fn quoted_header_delimiters_ignored() {
    let table = read("\"Name, Last\";Login\n\"Doe, J\";jd\n").unwrap();
    assert_eq!(table.delimiter, Delimiter::Semicolon);
    assert_eq!(table.columns, ["Name, Last", "Login"]);
}

#[test]
fn configured_delimiter_wins() {
    let options = ReadOptions { delimiter: Some(Delimiter::Semicolon), ..ReadOptions::default() };
    let table = read_table(b"a,b;c\n1,2;3\n", Path::new("x.csv"), &options).unwrap();
    assert!(!table.delimiter_detected);
    assert_eq!(table.columns, ["a,b", "c"]);
}

#[test]
fn tied_delimiters_rejected() {
    let error = read("a;b,c\n1;2,3\n").unwrap_err();
    assert_eq!(
        error,
        DelimitedError::AmbiguousDelimiter {
            header: "a;b,c".into(),
            candidates: vec![Delimiter::Semicolon, Delimiter::Comma],
        }
    );
    assert!(error.to_string().contains("`;` and `,` occur equally often"), "{error}");
}

#[test]
fn single_column_noted() {
    let table = read("Login\nab\ncd\n").unwrap();
    assert_eq!(values(&table), [["ab"], ["cd"]]);
    assert_eq!(table.diagnostics.len(), 1);
    assert_eq!(table.diagnostics[0].level, Level::Info);
    assert_eq!(table.diagnostics[0].location, Location::Line(1));
}

#[test]
fn headers_trimmed_and_matched_without_case() {
    let table = read(" Login , Last Name \nab,B\n").unwrap();
    assert_eq!(table.columns, ["Login", "Last Name"]);
    assert_eq!(table.column("LOGIN"), Some(0));
    assert_eq!(table.column(" last name"), Some(1));
    assert_eq!(table.column("First Name"), None);
}

#[test]
fn duplicate_columns_rejected() {
    let error = read("Login,Name,login ,NAME,Role\n").unwrap_err();
    assert_eq!(
        error,
        DelimitedError::DuplicateColumns { line: 1, names: vec!["login".into(), "NAME".into()] }
    );
    assert!(
        error.to_string().starts_with("duplicate column `login`, `NAME` in the header at line 1")
    );
}

#[test]
fn empty_column_names_may_repeat() {
    let table = read("Login,,\nab,,\n").unwrap();
    assert_eq!(table.columns, ["Login", "", ""]);
}

#[test]
fn missing_column_named_with_found_list() {
    let table = read("Logon;Last Name\nab;B\n").unwrap();
    let error = table.require(&["Login", "Last Name", "NPI"]).unwrap_err();
    assert_eq!(
        error,
        DelimitedError::MissingColumns {
            line: 1,
            missing: vec!["Login".into(), "NPI".into()],
            found: vec!["Logon".into(), "Last Name".into()],
        }
    );
    let message = error.to_string();
    assert!(message.starts_with("missing required column `Login`, `NPI`"), "{message}");
    assert!(message.contains("(found `Logon`, `Last Name`)"), "{message}");
}

#[test]
fn garbled_byte_order_mark_fails_loudly() {
    // A UTF-8 byte order mark that a program read as Windows-1252 and saved as UTF-8: the
    // three characters `ï»¿` stay glued to the first column name.
    let table = read("\u{EF}\u{BB}\u{BF}Login;Last Name\nab;B\n").unwrap();
    assert_eq!(table.columns[0], "\u{EF}\u{BB}\u{BF}Login");
    let error = table.require(&["Login"]).unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("missing required column `Login`"), "{message}");
    assert!(message.contains("column `ï»¿Login` ends with `Login`"), "{message}");
}

#[test]
fn byte_order_mark_never_glued() {
    let table = read_table(
        b"\xEF\xBB\xBFLogin;Name\r\nab;B\r\n",
        Path::new("x.csv"),
        &ReadOptions { encoding: Some(TextEncoding::Windows1252), delimiter: None },
    )
    .unwrap();
    assert_eq!(table.require(&["Login"]).unwrap(), [0]);
}

#[test]
fn short_record_skipped_with_warning() {
    let table = read("Login,Name,Role\nab,A,x\ncd,C\nef,E,y\n").unwrap();
    assert_eq!(values(&table), [["ab", "A", "x"], ["ef", "E", "y"]]);
    assert_eq!(table.diagnostics.len(), 1);
    let warning = &table.diagnostics[0];
    assert_eq!(warning.level, Level::Warning);
    assert_eq!(warning.location, Location::Record { record: 3, line: 3 });
    assert!(warning.message.starts_with("record has `2` fields but the header has 3"));
}

#[test]
fn long_record_skipped_with_warning() {
    let table = read("Login;Notes\nab;Locum; covers Tue\ncd;x\n").unwrap();
    assert_eq!(values(&table), [["cd", "x"]]);
    assert_eq!(table.diagnostics[0].location, Location::Record { record: 2, line: 2 });
}

#[test]
fn quoted_line_break_kept_and_lines_counted() {
    let table = read("Login,Notes\r\nab,\"one\r\ntwo\"\r\ncd,x\r\n").unwrap();
    assert_eq!(values(&table), [["ab", "one\r\ntwo"], ["cd", "x"]]);
    assert_eq!(table.rows[1].record, 3);
    assert_eq!(table.rows[1].line, 4);
}

#[test]
fn mixed_line_endings_end_records() {
    let table = read("a,b\r\n1,2\n3,4\r5,6").unwrap();
    assert_eq!(table.line_ending, LineEnding::Crlf);
    assert_eq!(values(&table), [["1", "2"], ["3", "4"], ["5", "6"]]);
}

#[test]
fn lf_line_ending_reported() {
    assert_eq!(read("a,b\n1,2\n").unwrap().line_ending, LineEnding::Lf);
    assert_eq!(read("a,b").unwrap().line_ending, LineEnding::None);
}

#[test]
fn doubled_quotes_unescaped() {
    let table = read("a,b\n\"say \"\"hi\"\"\",2\n").unwrap();
    assert_eq!(values(&table), [["say \"hi\"", "2"]]);
}

#[test]
fn blank_records_skipped_and_counted() {
    let table = read("a;b\n1;2\n\n;\n ; \n3;4\n").unwrap();
    assert_eq!(values(&table), [["1", "2"], ["3", "4"]]);
    assert_eq!(table.rows[1].line, 6);
    assert_eq!(table.diagnostics.len(), 1);
    assert_eq!(table.diagnostics[0].message, "skipped `2` records whose fields are all empty");
}

#[test]
fn empty_file_rejected() {
    assert_eq!(read("").unwrap_err(), DelimitedError::Empty);
    assert_eq!(read("\r\n\r\n").unwrap_err(), DelimitedError::Empty);
    let error = read_table(b"\xEF\xBB\xBF", Path::new("x.csv"), &ReadOptions::default());
    assert_eq!(error.unwrap_err(), DelimitedError::Empty);
}

#[test]
fn excel_unicode_text_read() {
    let mut bytes = vec![0xFF, 0xFE];
    let text = "Login\tLast Name\r\njnunez\tNúñez\r\n";
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let table = read_table(&bytes, Path::new("x.txt"), &ReadOptions::default()).unwrap();
    assert_eq!(table.delimiter, Delimiter::Tab);
    assert_eq!(values(&table), [["jnunez", "Núñez"]]);
    assert_eq!(table.decoding.describe(), "utf-16le (BOM stripped)");
    assert_eq!(table.diagnostics[0].level, Level::Info);
}

#[test]
fn undecodable_bytes_rejected() {
    let options = ReadOptions { encoding: Some(TextEncoding::Utf8), delimiter: None };
    let error = read_table(b"a,b\n\xFF,1\n", Path::new("x.csv"), &options).unwrap_err();
    assert!(matches!(error, DelimitedError::Text(_)));
    assert!(error.to_string().contains("line 2"), "{error}");
}

proptest! {
    #[test]
    fn read_table_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_table(&bytes, Path::new("fuzz.csv"), &ReadOptions::default());
    }

    #[test]
    fn rows_always_match_header_width(body in "[a-c,;\"\r\n ]{0,200}") {
        let text = format!("a,b,c\n{body}");
        if let Ok(table) = read(&text) {
            prop_assert!(table.rows.iter().all(|row| row.fields.len() == 3));
        }
    }
}
