//! Security identifiers in their binary and `S-1-...` text forms, per [MS-DTYP] sections
//! 2.4.2.1 (string format) and 2.4.2.2 (packet representation).

use std::fmt;

use super::{AdError, display_value};

/// The maximum number of sub-authorities a SID may have ([MS-DTYP] section 2.4.2.2). The
/// minimum is 1, as the string format requires.
const MAX_SUB_AUTHORITIES: usize = 15;

/// A security identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sid {
    revision: u8,
    authority: u64,
    sub_authorities: Vec<u32>,
}

impl Sid {
    /// Parses the binary form: revision (1 byte), sub-authority count (1 byte), identifier
    /// authority (6 bytes, big-endian), then each sub-authority (4 bytes, little-endian).
    pub fn from_bytes(bytes: &[u8]) -> Result<Sid, AdError> {
        let invalid = || AdError::InvalidSid { value: display_value(bytes) };
        let (&revision, rest) = bytes.split_first().ok_or_else(invalid)?;
        let (&count, rest) = rest.split_first().ok_or_else(invalid)?;
        let count = usize::from(count);
        if revision != 1 || count == 0 || count > MAX_SUB_AUTHORITIES || rest.len() != 6 + 4 * count
        {
            return Err(invalid());
        }
        let (authority_bytes, rest) = rest.split_at_checked(6).ok_or_else(invalid)?;
        let authority = authority_bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let mut sub_authorities = Vec::with_capacity(count);
        for chunk in rest.chunks_exact(4) {
            let word: [u8; 4] = chunk.try_into().map_err(|_| invalid())?;
            sub_authorities.push(u32::from_le_bytes(word));
        }
        Ok(Sid { revision, authority, sub_authorities })
    }

    /// Parses the text form `S-1-5-21-...`. The authority may be decimal or, as [MS-DTYP]
    /// writes values of 2^32 and above, `0x` and 12 hex digits.
    pub fn parse(text: &str) -> Result<Sid, AdError> {
        let invalid = || AdError::InvalidSid { value: text.to_owned() };
        let trimmed = text.trim();
        let mut parts = trimmed.split('-');
        if !parts.next().is_some_and(|s| s.eq_ignore_ascii_case("s")) {
            return Err(invalid());
        }
        let revision: u8 = parse_decimal(parts.next()).ok_or_else(invalid)?;
        let authority_text = parts.next().ok_or_else(invalid)?;
        let authority =
            match authority_text.strip_prefix("0x").or_else(|| authority_text.strip_prefix("0X")) {
                Some(hex) if !hex.is_empty() && hex.len() <= 12 => {
                    u64::from_str_radix(hex, 16).map_err(|_| invalid())?
                }
                Some(_) => return Err(invalid()),
                None => parse_decimal(Some(authority_text)).ok_or_else(invalid)?,
            };
        let mut sub_authorities = Vec::new();
        for part in parts {
            sub_authorities.push(parse_decimal(Some(part)).ok_or_else(invalid)?);
        }
        let count = sub_authorities.len();
        if revision != 1 || authority >= 1 << 48 || count == 0 || count > MAX_SUB_AUTHORITIES {
            return Err(invalid());
        }
        Ok(Sid { revision, authority, sub_authorities })
    }

    /// Parses an `objectSid` value in either form: text when it starts with `S-`, binary
    /// otherwise. A binary SID starts with the byte 1, never with `S`.
    pub fn from_value(value: &[u8]) -> Result<Sid, AdError> {
        match value {
            [b'S' | b's', b'-', ..] => match std::str::from_utf8(value) {
                Ok(text) => Sid::parse(text),
                Err(_) => Err(AdError::InvalidSid { value: display_value(value) }),
            },
            _ => Sid::from_bytes(value),
        }
    }

    /// Returns the last sub-authority: the relative identifier (RID) of a domain account.
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    /// Returns whether this is an account or group of a domain or computer:
    /// `S-1-5-21-x-y-z-rid`.
    pub fn is_domain_account(&self) -> bool {
        self.authority == 5
            && self.sub_authorities.len() == 5
            && self.sub_authorities.first() == Some(&21)
    }

    /// Returns the SID of the same domain with `rid` in place of the last sub-authority, the
    /// way a user's `primaryGroupID` names its primary group.
    pub fn with_rid(&self, rid: u32) -> Sid {
        let mut sub_authorities = self.sub_authorities.clone();
        match sub_authorities.last_mut() {
            Some(last) => *last = rid,
            None => sub_authorities.push(rid),
        }
        Sid { revision: self.revision, authority: self.authority, sub_authorities }
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-", self.revision)?;
        if self.authority >= 1 << 32 {
            write!(f, "0x{:012X}", self.authority)?;
        } else {
            write!(f, "{}", self.authority)?;
        }
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

fn parse_decimal<T: std::str::FromStr>(part: Option<&str>) -> Option<T> {
    let part = part?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}
