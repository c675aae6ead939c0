//! Errors that stop an HR roster from being read at all.

use crate::delimited::DelimitedError;

/// An HR roster that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HrError {
    /// The file cannot be read as a table.
    #[error(transparent)]
    Table(#[from] DelimitedError),
    /// No header matches a required field under any accepted spelling.
    #[error(
        "missing the {field} column in the header at line {line} (found {}): name a column {}",
        quote(.found),
        accepted(.spellings)
    )]
    MissingColumn {
        /// The field, as messages name it.
        field: &'static str,
        /// The header's line.
        line: u64,
        /// The accepted spellings, preferred first.
        spellings: &'static [&'static str],
        /// Every column name in the header.
        found: Vec<String>,
    },
}

fn quote(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

fn accepted(spellings: &[&str]) -> String {
    let quoted: Vec<String> = spellings.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
