//! Problems found in inputs, named precisely enough for a person to fix them.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line.
    Line(u64),
    /// A 1-based CSV record (the header is record 1) and its starting line.
    Record {
        /// The record number, header included.
        record: u64,
        /// The line the record starts on.
        line: u64,
    },
    /// A JSON path such as `$.value[3].signInActivity`.
    JsonPath(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(line) => write!(f, "line {line}"),
            Location::Record { record, line } => write!(f, "record {record} (line {line})"),
            Location::JsonPath(path) => f.write_str(path),
        }
    }
}

/// How serious an input problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Worth knowing; nothing was lost (an encoding fallback, a default applied).
    Info,
    /// Part of the input was skipped (one record, an unknown response kind).
    Warning,
    /// The whole file could not be read.
    Error,
}

impl Level {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub level: Level,
    /// The file, relative to the tenant folder where there is one.
    pub file: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What is wrong and what to do about it, as one or two sentences.
    pub message: String,
}

impl Diagnostic {
    /// Creates a diagnostic.
    pub fn new(
        level: Level,
        file: impl Into<PathBuf>,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Self { level, file: file.into(), location, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.level.as_str(), self.file.display())?;
        if self.location != Location::File {
            write!(f, ", {}", self.location)?;
        }
        write!(f, ": {}", self.message)
    }
}
