//! The RFC 4514 section 3 string parser.

use super::{AttributeValue, Ava, DnError, Rdn};

/// A position in the DN string, in bytes, always on a character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.pos += next.len_utf8();
        Some(next)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    /// Returns the 1-based character position of byte offset `at`, for messages.
    fn position_of(&self, at: usize) -> usize {
        self.text.get(..at).map_or(0, |before| before.chars().count()) + 1
    }
}

pub(super) fn parse_rdns(text: &str) -> Result<Vec<Rdn>, DnError> {
    let mut cursor = Cursor { text, pos: 0 };
    let mut rdns = Vec::new();
    cursor.skip_spaces();
    if cursor.peek().is_none() {
        return Ok(rdns);
    }
    loop {
        let mut avas = vec![parse_ava(&mut cursor)?];
        while cursor.peek() == Some('+') {
            cursor.bump();
            avas.push(parse_ava(&mut cursor)?);
        }
        rdns.push(Rdn::new(avas));
        // `parse_ava` stops only at `,`, `+` (consumed above) or the end.
        if cursor.bump().is_none() {
            return Ok(rdns);
        }
    }
}

fn parse_ava(cursor: &mut Cursor<'_>) -> Result<Ava, DnError> {
    let dn = cursor.text;
    cursor.skip_spaces();
    let start = cursor.pos;
    while let Some(next) = cursor.peek() {
        if matches!(next, '=' | ',' | '+') {
            break;
        }
        cursor.bump();
    }
    let attribute_type = dn.get(start..cursor.pos).unwrap_or_default().trim_end();
    if cursor.peek() != Some('=') {
        let position = cursor.position_of(start);
        return Err(if attribute_type.is_empty() {
            DnError::EmptyRdn { dn: dn.to_owned(), position }
        } else {
            DnError::MissingEquals { dn: dn.to_owned(), position }
        });
    }
    if !is_attribute_type(attribute_type) {
        return Err(DnError::InvalidAttributeType {
            dn: dn.to_owned(),
            attribute_type: attribute_type.to_owned(),
        });
    }
    cursor.bump();
    cursor.skip_spaces();
    let value = if cursor.peek() == Some('#') {
        parse_ber_value(cursor)?
    } else {
        parse_text_value(cursor)?
    };
    Ok(Ava::new(attribute_type.to_owned(), value))
}

/// Checks that `name` is a descriptor (`cn`, `msDS-x`) or a numeric OID, with the
/// optional `OID.` prefix of RFC 1779.
pub(super) fn is_attribute_type(name: &str) -> bool {
    let name = strip_oid_prefix(name);
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
        }
        Some(first) if first.is_ascii_digit() => {
            name.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    }
}

pub(super) fn strip_oid_prefix(name: &str) -> &str {
    match name.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("oid.") => name.get(4..).unwrap_or_default(),
        _ => name,
    }
}

fn parse_ber_value(cursor: &mut Cursor<'_>) -> Result<AttributeValue, DnError> {
    let start = cursor.pos;
    cursor.bump();
    let digits_start = cursor.pos;
    while let Some(next) = cursor.peek() {
        if matches!(next, ',' | '+') {
            break;
        }
        cursor.bump();
    }
    let digits =
        cursor.text.get(digits_start..cursor.pos).unwrap_or_default().trim_end_matches(' ');
    let invalid = || DnError::InvalidHexValue {
        dn: cursor.text.to_owned(),
        position: cursor.position_of(start),
    };
    if digits.is_empty() || digits.len() % 2 != 0 {
        return Err(invalid());
    }
    let mut bytes = Vec::with_capacity(digits.len() / 2);
    for pair in digits.as_bytes().chunks(2) {
        let text = std::str::from_utf8(pair).map_err(|_| invalid())?;
        bytes.push(u8::from_str_radix(text, 16).map_err(|_| invalid())?);
    }
    Ok(AttributeValue::Ber(bytes))
}

fn parse_text_value(cursor: &mut Cursor<'_>) -> Result<AttributeValue, DnError> {
    let start = cursor.pos;
    let mut bytes = Vec::new();
    // Bytes up to the last character that is not an unescaped space: RFC 4514 section 2.4
    // requires a trailing space in a value to be escaped, so unescaped ones are padding.
    let mut significant = 0;
    while let Some(next) = cursor.peek() {
        match next {
            ',' | '+' => break,
            '\\' => {
                let escape_at = cursor.pos;
                cursor.bump();
                bytes.push(parse_escape(cursor, escape_at)?);
                significant = bytes.len();
            }
            other => {
                cursor.bump();
                let mut buffer = [0; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                if other != ' ' {
                    significant = bytes.len();
                }
            }
        }
    }
    bytes.truncate(significant);
    String::from_utf8(bytes).map(AttributeValue::Text).map_err(|_| DnError::InvalidUtf8 {
        dn: cursor.text.to_owned(),
        position: cursor.position_of(start),
    })
}

/// Reads what follows a backslash: a special character, or two hex digits for one byte.
fn parse_escape(cursor: &mut Cursor<'_>, escape_at: usize) -> Result<u8, DnError> {
    let invalid = |cursor: &Cursor<'_>| DnError::InvalidEscape {
        dn: cursor.text.to_owned(),
        position: cursor.position_of(escape_at),
    };
    match cursor.peek() {
        Some(special @ (' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\')) => {
            cursor.bump();
            // Every special character is ASCII, so the cast keeps its value.
            Ok(special as u8)
        }
        Some(high) if high.is_ascii_hexdigit() => {
            cursor.bump();
            match cursor.peek() {
                Some(low) if low.is_ascii_hexdigit() => {
                    cursor.bump();
                    let high = high.to_digit(16).unwrap_or_default();
                    let low = low.to_digit(16).unwrap_or_default();
                    u8::try_from(high * 16 + low).map_err(|_| invalid(cursor))
                }
                _ => Err(invalid(cursor)),
            }
        }
        _ => Err(invalid(cursor)),
    }
}
