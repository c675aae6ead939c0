//! Byte decoding for exported text files (CSV exports, rosters).
//!
//! Spreadsheet programs save the same table in several encodings. Excel's "CSV UTF-8" adds a
//! UTF-8 byte order mark and "Unicode text" is UTF-16 with a byte order mark. Plain "CSV" uses
//! the Windows code page, which is Windows-1252 on US and Western European systems. The
//! decoder settles on one encoding and never drops a byte or inserts U+FFFD: input that the
//! chosen encoding cannot represent is an error.
//!
//! Order of decisions:
//! 1. A byte order mark (UTF-8 `EF BB BF`, UTF-16LE `FF FE`, UTF-16BE `FE FF`) wins, even over
//!    a forced encoding, as in the WHATWG Encoding Standard's "decode" algorithm.
//! 2. A forced encoding is used as given.
//! 3. Without a byte order mark, text whose first code units are ASCII characters paired with
//!    NUL bytes is read as UTF-16 of that byte order.
//! 4. Valid UTF-8 is read as UTF-8.
//! 5. Anything else is read as Windows-1252, which maps every byte to a character
//!    (WHATWG's Windows-1252 table maps the five bytes Microsoft leaves undefined to C1
//!    controls).
//!
//! U+FEFF is then removed wherever it still appears (a second mark left by joining two
//! exported files), so no header or value carries it.

use std::fmt;

use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use serde::de::{Deserialize, Deserializer, Error as _};

/// The byte order mark character.
const BOM: char = '\u{FEFF}';

/// How many leading UTF-16 code units the NUL-pattern check looks at.
const UTF16_SNIFF_UNITS: usize = 32;

/// An encoding the decoder can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8, with or without a byte order mark.
    Utf8,
    /// UTF-16, little-endian (Excel "Unicode text" on Windows).
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows-1252, the "ANSI" code page of US and Western European Windows.
    Windows1252,
}

impl TextEncoding {
    /// Returns the WHATWG name of the encoding, as reports and `tenant.yaml` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    /// Parses a WHATWG encoding label (`utf-8`, `utf-16le`, `windows-1252`, `latin1`,
    /// `cp1252`...). Labels of encodings this decoder does not read return `None`.
    ///
    /// WHATWG maps `latin1`, `iso-8859-1` and `ascii` to Windows-1252, a superset of all three.
    pub fn from_label(label: &str) -> Option<Self> {
        let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes())?;
        if encoding == UTF_8 {
            Some(TextEncoding::Utf8)
        } else if encoding == UTF_16LE {
            Some(TextEncoding::Utf16Le)
        } else if encoding == UTF_16BE {
            Some(TextEncoding::Utf16Be)
        } else if encoding == WINDOWS_1252 {
            Some(TextEncoding::Windows1252)
        } else {
            None
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TextEncoding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        TextEncoding::from_label(&label).ok_or_else(|| {
            D::Error::custom(format!(
                "unsupported encoding `{label}`: use `utf-8`, `utf-16le`, `utf-16be` or `windows-1252`"
            ))
        })
    }
}

/// The reason the decoder chose its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// The file starts with a byte order mark.
    ByteOrderMark,
    /// The caller forced the encoding.
    Forced,
    /// No byte order mark, but the leading code units are ASCII paired with NUL bytes.
    Utf16Pattern,
    /// The bytes are valid UTF-8.
    ValidUtf8,
    /// The bytes are not valid UTF-8, so Windows-1252 was used.
    Fallback {
        /// The 1-based line of the first byte that is not valid UTF-8.
        first_invalid_line: u64,
    },
}

/// The decoder's choices, without the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoding {
    /// The encoding used.
    pub encoding: TextEncoding,
    /// The reason for that encoding.
    pub detection: Detection,
    /// How many U+FEFF characters were removed after the leading byte order mark.
    pub stray_marks_removed: usize,
}

impl Decoding {
    /// Describes the encoding for people, such as `utf-8 (BOM stripped)` or `windows-1252`.
    pub fn describe(&self) -> String {
        match self.detection {
            Detection::ByteOrderMark => format!("{} (BOM stripped)", self.encoding),
            _ => self.encoding.as_str().to_owned(),
        }
    }
}

/// Decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, without any U+FEFF.
    pub text: String,
    /// The encoding used and why.
    pub decoding: Decoding,
}

/// Bytes that the chosen encoding cannot decode without losing them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The file must be UTF-8 (a UTF-8 byte order mark or a forced encoding) but is not.
    #[error(
        "invalid UTF-8 byte `0x{byte:02X}` at line {line} (byte offset {offset}): save the file \
         as UTF-8 again, or set the source's encoding to the one the file uses"
    )]
    InvalidUtf8 {
        /// The first byte that is not valid UTF-8.
        byte: u8,
        /// Its 1-based line.
        line: u64,
        /// Its offset from the start of the file.
        offset: usize,
    },
    /// The file is UTF-16 (a byte order mark, a forced encoding or the NUL pattern) but
    /// contains an unpaired surrogate or an odd number of bytes.
    #[error(
        "invalid UTF-16 code unit `0x{unit:04X}` at line {line} (byte offset {offset}): export the \
         file again, or set the source's encoding to the one the file uses"
    )]
    InvalidUtf16 {
        /// The code unit that cannot be decoded; a lone trailing byte is shown as itself.
        unit: u16,
        /// Its 1-based line.
        line: u64,
        /// Its offset from the start of the file.
        offset: usize,
    },
}

/// Decodes `bytes` as text, using `forced` unless the file starts with a byte order mark.
///
/// # Errors
///
/// Returns [`TextError`] when the encoding in force cannot decode every byte.
pub fn decode(bytes: &[u8], forced: Option<TextEncoding>) -> Result<Decoded, TextError> {
    let (encoding, detection, start) = choose_encoding(bytes, forced);
    let body = bytes.get(start..).unwrap_or_default();
    let text = match encoding {
        TextEncoding::Utf8 => decode_utf8(body, start)?,
        TextEncoding::Utf16Le => decode_utf16(body, start, u16::from_le_bytes)?,
        TextEncoding::Utf16Be => decode_utf16(body, start, u16::from_be_bytes)?,
        TextEncoding::Windows1252 => decode_windows_1252(body),
    };
    let stray_marks_removed = text.matches(BOM).count();
    let text = if stray_marks_removed == 0 { text } else { text.replace(BOM, "") };
    Ok(Decoded { text, decoding: Decoding { encoding, detection, stray_marks_removed } })
}

/// Picks the encoding and the offset where the text starts (after a byte order mark).
fn choose_encoding(bytes: &[u8], forced: Option<TextEncoding>) -> (TextEncoding, Detection, usize) {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (TextEncoding::Utf8, Detection::ByteOrderMark, 3);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return (TextEncoding::Utf16Le, Detection::ByteOrderMark, 2);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return (TextEncoding::Utf16Be, Detection::ByteOrderMark, 2);
    }
    if let Some(encoding) = forced {
        return (encoding, Detection::Forced, 0);
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        return (encoding, Detection::Utf16Pattern, 0);
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => (TextEncoding::Utf8, Detection::ValidUtf8, 0),
        Err(error) => {
            let first_invalid_line = line_at(bytes, error.valid_up_to());
            (TextEncoding::Windows1252, Detection::Fallback { first_invalid_line }, 0)
        }
    }
}

/// Recognises BOM-less UTF-16 by its leading code units: printable ASCII in one byte and NUL
/// in the other. Real CSV text in UTF-8 never has a NUL in every second byte.
fn sniff_utf16(bytes: &[u8]) -> Option<TextEncoding> {
    let pairs: Vec<&[u8]> = bytes.chunks_exact(2).take(UTF16_SNIFF_UNITS).collect();
    if pairs.len() < 2 {
        return None;
    }
    let ascii = |b: u8| b != 0 && b.is_ascii();
    if pairs.iter().all(|pair| matches!(pair, [low, 0] if ascii(*low))) {
        return Some(TextEncoding::Utf16Le);
    }
    if pairs.iter().all(|pair| matches!(pair, [0, low] if ascii(*low))) {
        return Some(TextEncoding::Utf16Be);
    }
    None
}

/// Decodes strict UTF-8; `base` is the offset of `body` in the file, for error positions.
fn decode_utf8(body: &[u8], base: usize) -> Result<String, TextError> {
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_owned()),
        Err(error) => {
            let at = error.valid_up_to();
            Err(TextError::InvalidUtf8 {
                byte: body.get(at).copied().unwrap_or_default(),
                line: line_at(body, at),
                offset: base + at,
            })
        }
    }
}

/// Decodes strict UTF-16 with the given byte order; `base` is the offset of `body`.
fn decode_utf16(
    body: &[u8],
    base: usize,
    to_unit: fn([u8; 2]) -> u16,
) -> Result<String, TextError> {
    let units: Vec<u16> =
        body.chunks_exact(2).map(|pair| to_unit([pair.first(), pair.get(1)].map(byte))).collect();
    let mut text = String::with_capacity(units.len());
    let mut index = 0usize;
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => {
                text.push(c);
                index += c.len_utf16();
            }
            Err(error) => {
                return Err(TextError::InvalidUtf16 {
                    unit: error.unpaired_surrogate(),
                    line: utf16_line_at(&units, index),
                    offset: base + index * 2,
                });
            }
        }
    }
    if body.len() % 2 == 1 {
        return Err(TextError::InvalidUtf16 {
            unit: body.last().copied().map(u16::from).unwrap_or_default(),
            line: utf16_line_at(&units, units.len()),
            offset: base + body.len() - 1,
        });
    }
    Ok(text)
}

fn byte(value: Option<&u8>) -> u8 {
    value.copied().unwrap_or_default()
}

/// Decodes Windows-1252, which has a character for every byte.
fn decode_windows_1252(body: &[u8]) -> String {
    // WHATWG's windows-1252 decoder has no error case, so the replacement-free call always
    // returns text; the mapped fallback only keeps this total without a panic path.
    match WINDOWS_1252.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => text.into_owned(),
        None => body.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Returns the 1-based line that byte `offset` of `bytes` is on.
fn line_at(bytes: &[u8], offset: usize) -> u64 {
    let before = bytes.get(..offset).unwrap_or(bytes);
    1 + before.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Returns the 1-based line that code unit `index` of `units` is on.
fn utf16_line_at(units: &[u16], index: usize) -> u64 {
    let before = units.get(..index).unwrap_or(units);
    1 + before.iter().filter(|&&unit| unit == u16::from(b'\n')).count() as u64
}

#[cfg(test)]
mod tests;
