//! Lowercase hex for SHA-256 digests, as the pack's files write them.

use sha2::{Digest, Sha256};

/// Encodes `bytes` as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Decodes 64 lowercase or uppercase hex digits into 32 bytes, or `None`.
pub(crate) fn decode_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Returns the hex SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    encode(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 8) as u8);
        assert_eq!(decode_32(&encode(&bytes)), Some(bytes));
    }

    #[test]
    fn hex_rejects_bad_digits() {
        assert_eq!(decode_32("zz"), None);
        assert_eq!(decode_32(&"g".repeat(64)), None);
    }
}
