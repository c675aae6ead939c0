//! GUIDs (`objectGUID`, OpenLDAP `entryUUID`) in the dashed text form.

use super::{AdError, display_value};

/// Formats the 16 bytes of a binary `objectGUID` as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
/// in lowercase.
///
/// The first three fields are stored little-endian and the last two as bytes in order
/// (the Windows GUID structure, [MS-DTYP] section 2.3.4), so a GUID shown by Windows tools
/// does not read as the bytes in order.
pub fn guid_from_bytes(bytes: &[u8]) -> Result<String, AdError> {
    let bytes: [u8; 16] =
        bytes.try_into().map_err(|_| AdError::InvalidGuid { value: display_value(bytes) })?;
    let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = bytes;
    let tail: String = rest.iter().map(|b| format!("{b:02x}")).collect();
    let (clock, node) = tail.split_at_checked(4).unwrap_or((&tail, ""));
    Ok(format!("{a3:02x}{a2:02x}{a1:02x}{a0:02x}-{b1:02x}{b0:02x}-{c1:02x}{c0:02x}-{clock}-{node}"))
}

/// Checks the text form of a GUID (with or without braces) and returns it in lowercase
/// without braces.
pub fn parse_guid(text: &str) -> Result<String, AdError> {
    let invalid = || AdError::InvalidGuid { value: text.to_owned() };
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(trimmed);
    let groups: Vec<&str> = bare.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let all_hex = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if lengths != [8, 4, 4, 4, 12] || !all_hex {
        return Err(invalid());
    }
    Ok(bare.to_ascii_lowercase())
}

/// Reads an `objectGUID` or `entryUUID` value: 16 bytes are the binary form, anything else
/// must be the text form.
pub fn guid_from_value(value: &[u8]) -> Result<String, AdError> {
    if value.len() == 16 {
        return guid_from_bytes(value);
    }
    match std::str::from_utf8(value) {
        Ok(text) => parse_guid(text),
        Err(_) => Err(AdError::InvalidGuid { value: display_value(value) }),
    }
}
