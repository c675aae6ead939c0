//! Splits a saved file into Graph response objects.
//!
//! A file holds one response object, a JSON array of response objects, or several response
//! objects one after another (concatenated, or one per line as `jq -c` writes them).

use std::borrow::Cow;
use std::path::Path;

use serde_json::Value;

use super::error::EntraError;

/// Decodes `bytes` and returns its top-level JSON values, with top-level arrays flattened
/// one level.
pub(crate) fn split_responses(file: &Path, bytes: &[u8]) -> Result<Vec<Value>, EntraError> {
    let text = decode(bytes);
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(EntraError::Empty { file: file.to_path_buf() });
    }

    let mut responses = Vec::new();
    for value in serde_json::Deserializer::from_slice(&text).into_iter::<Value>() {
        match value {
            Ok(Value::Array(items)) => responses.extend(items),
            Ok(other) => responses.push(other),
            Err(error) => {
                return Err(EntraError::invalid_json(
                    file.to_path_buf(),
                    &error,
                    looks_like_utf16(bytes),
                ));
            }
        }
    }
    Ok(responses)
}

/// Strips a UTF-8 byte order mark and converts UTF-16 with a byte order mark to UTF-8.
///
/// Windows PowerShell 5.1 `Out-File` and `>` write UTF-16LE with a byte order mark, and
/// `Set-Content -Encoding UTF8` writes a UTF-8 byte order mark.
fn decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Cow::Borrowed(rest);
    }
    let encoding = match bytes.get(..2) {
        Some(b"\xFF\xFE") => encoding_rs::UTF_16LE,
        Some(b"\xFE\xFF") => encoding_rs::UTF_16BE,
        _ => return Cow::Borrowed(bytes),
    };
    let (text, _, _) = encoding.decode(bytes);
    Cow::Owned(text.into_owned().into_bytes())
}

/// Whether the bytes look like UTF-16 text without a byte order mark: an ASCII character
/// followed by a zero byte, as `{` is written in UTF-16LE.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    matches!(bytes.get(..2), Some([first, 0]) if first.is_ascii() && *first != 0)
}
