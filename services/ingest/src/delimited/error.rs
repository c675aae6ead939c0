//! Errors that stop a delimited file from being read at all.

use crate::text::TextError;

use super::dialect::Delimiter;

/// A delimited file that cannot be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelimitedError {
    /// The bytes cannot be decoded as text.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The file contains no header line.
    #[error("the file is empty: export it again with the column names in the first line")]
    Empty,
    /// Two or more delimiters occur equally often in the header line.
    #[error(
        "cannot detect the delimiter from the header line `{header}` at line 1: {} occur equally \
         often; set the source's delimiter",
        join_delimiters(.candidates)
    )]
    AmbiguousDelimiter {
        /// The header line.
        header: String,
        /// The delimiters that tie.
        candidates: Vec<Delimiter>,
    },
    /// The header names a column twice (compared case-insensitively, after trimming).
    #[error(
        "duplicate column {} in the header at line {line}: rename or remove the extra column so \
         each name occurs once",
        join_names(.names)
    )]
    DuplicateColumns {
        /// The header's line.
        line: u64,
        /// Each duplicated name, as first written.
        names: Vec<String>,
    },
    /// Columns the reader needs are not in the header.
    #[error(
        "missing required column {} in the header at line {line} (found {}): add the column to \
         the export, or map the field to a column the file has in a custom profile under \
         `profiles:` in tenant.yaml{}",
        join_names(.missing),
        join_names(.found),
        garbled_prefix_hint(.missing, .found)
    )]
    MissingColumns {
        /// The header's line.
        line: u64,
        /// The required names that no header matches.
        missing: Vec<String>,
        /// Every column name in the header, trimmed.
        found: Vec<String>,
    },
    /// The CSV parser rejected a record.
    #[error("cannot read record {record} at line {line}: {reason}; check the quoting around it")]
    Unreadable {
        /// The 1-based record, the header being record 1.
        record: u64,
        /// The line the record starts on.
        line: u64,
        /// The parser's description.
        reason: String,
    },
}

/// Writes names as a list in backticks: `` `a`, `b` ``.
pub(crate) fn join_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

fn join_delimiters(delimiters: &[Delimiter]) -> String {
    let quoted: Vec<String> = delimiters.iter().map(|d| format!("`{d}`")).collect();
    quoted.join(" and ")
}

/// Names a found column that ends with a missing one, such as `ï»¿Login` for `Login`: a UTF-8
/// byte order mark that an earlier program decoded as Windows-1252 and saved as text.
fn garbled_prefix_hint(missing: &[String], found: &[String]) -> String {
    for name in missing {
        let wanted = name.to_lowercase();
        let glued = found.iter().find(|column| {
            let column = column.to_lowercase();
            column.len() > wanted.len() && column.ends_with(&wanted)
        });
        if let Some(column) = glued {
            return format!(
                "; column `{column}` ends with `{name}`, so the file may start with a byte order \
                 mark saved in the wrong encoding, and saving it as UTF-8 again fixes that"
            );
        }
    }
    String::new()
}
