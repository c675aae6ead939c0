//! The delimiter and line ending of a delimited file, configured or read from its header line.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _};

/// A field delimiter that spreadsheet exports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delimiter {
    /// `,`: "CSV" in US and UK regional settings.
    Comma,
    /// `;`: "CSV" where the decimal separator is a comma (most of continental Europe).
    Semicolon,
    /// A tab: Excel "Unicode text" and "Text (tab delimited)".
    Tab,
    /// `|`: database and report extracts.
    Pipe,
}

impl Delimiter {
    /// Every delimiter that detection considers. A tie between two of them is an error, so
    /// the order does not matter.
    pub const ALL: [Delimiter; 4] =
        [Delimiter::Semicolon, Delimiter::Comma, Delimiter::Tab, Delimiter::Pipe];

    /// Returns the delimiter as a byte.
    pub fn as_byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
            Delimiter::Pipe => b'|',
        }
    }

    /// Returns the delimiter as a character.
    pub fn as_char(self) -> char {
        char::from(self.as_byte())
    }

    /// Parses `,`, `;`, a tab, `|` or their names (`comma`, `semicolon`, `tab`, `pipe`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "," | "comma" => Some(Delimiter::Comma),
            ";" | "semicolon" => Some(Delimiter::Semicolon),
            "\t" | "\\t" | "tab" => Some(Delimiter::Tab),
            "|" | "pipe" => Some(Delimiter::Pipe),
            _ => None,
        }
    }
}

impl fmt::Display for Delimiter {
    /// Writes the delimiter as people read it: `,`, `;`, `tab` or `|`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delimiter::Tab => f.write_str("tab"),
            other => write!(f, "{}", other.as_char()),
        }
    }
}

impl<'de> Deserialize<'de> for Delimiter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Delimiter::from_name(&name).ok_or_else(|| {
            D::Error::custom(format!(
                "unsupported delimiter `{name}`: use `,`, `;`, `tab` or `|`, or leave it out to \
                 detect it from the header line"
            ))
        })
    }
}

/// The line ending that ends the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n`, as Excel on Windows writes.
    Crlf,
    /// `\n`.
    Lf,
    /// A lone `\r`, as classic Mac OS wrote.
    Cr,
    /// The file is a single line.
    None,
}

impl LineEnding {
    /// Returns the conventional name: `CRLF`, `LF`, `CR` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Crlf => "CRLF",
            LineEnding::Lf => "LF",
            LineEnding::Cr => "CR",
            LineEnding::None => "none",
        }
    }
}

/// The header line's text and line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderLine<'a> {
    /// The header line without its line ending.
    pub text: &'a str,
    /// The line ending after it.
    pub ending: LineEnding,
}

/// Finds the header line: the text up to the first line break outside double quotes, after
/// any blank lines (the CSV reader skips those too).
pub(crate) fn header_line(text: &str) -> HeaderLine<'_> {
    let text = text.trim_start_matches(['\r', '\n']);
    let mut quoted = false;
    for (index, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => {
                let rest = text.get(index..).unwrap_or_default();
                let ending = if rest.starts_with("\r\n") {
                    LineEnding::Crlf
                } else if c == '\n' {
                    LineEnding::Lf
                } else {
                    LineEnding::Cr
                };
                return HeaderLine { text: text.get(..index).unwrap_or_default(), ending };
            }
            _ => {}
        }
    }
    HeaderLine { text, ending: LineEnding::None }
}

/// The outcome of delimiter detection on a header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detected {
    /// One delimiter occurs more often than the others.
    One(Delimiter),
    /// No candidate occurs: the file has one column.
    NoneFound,
    /// Two or more candidates occur equally often, at least once.
    Tie(Vec<Delimiter>),
}

/// Chooses the delimiter that occurs most often outside double quotes in the header line.
///
/// Only the header line is read because data rows may hold the other candidates unquoted in
/// free text (an ANSI comma file with `Locum; covers Tue/Thu` in a notes column).
pub(crate) fn detect_delimiter(header: &str) -> Detected {
    let mut counts = [0usize; Delimiter::ALL.len()];
    let mut quoted = false;
    for c in header.chars() {
        if c == '"' {
            quoted = !quoted;
            continue;
        }
        if quoted {
            continue;
        }
        for (count, delimiter) in counts.iter_mut().zip(Delimiter::ALL) {
            if c == delimiter.as_char() {
                *count += 1;
            }
        }
    }
    let max = counts.iter().copied().max().unwrap_or_default();
    if max == 0 {
        return Detected::NoneFound;
    }
    let best: Vec<Delimiter> = counts
        .iter()
        .zip(Delimiter::ALL)
        .filter(|(count, _)| **count == max)
        .map(|(_, delimiter)| delimiter)
        .collect();
    match best.as_slice() {
        [only] => Detected::One(*only),
        _ => Detected::Tie(best),
    }
}
