//! Distinguished names in the RFC 4514 string form: parsing into RDNs and a normalised form
//! under which two spellings of the same DN compare equal.
//!
//! The parser is lenient where directories are: spaces around `,`, `+` and `=` are
//! ignored, and `"`, `;`, `<` and `>` are read literally when a server leaves them
//! unescaped. The normalised form lowercases attribute types and values, as Active
//! Directory compares DNs case-insensitively, resolves every escape, drops unescaped
//! surrounding spaces and sorts the AVAs of a multi-valued RDN.

mod normal_form;
mod parse;

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

pub use normal_form::escape_value;
use normal_form::normalize_rdns;
use parse::parse_rdns;

/// A DN string that does not follow RFC 4514.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// An RDN has no `=` between its attribute type and its value.
    #[error(
        "invalid DN `{dn}`: the RDN at character {position} has no `=`, so write it as `type=value`"
    )]
    MissingEquals {
        /// The DN as given.
        dn: String,
        /// The 1-based character position where the RDN starts.
        position: usize,
    },
    /// The attribute type is empty, or is neither a name nor a numeric OID.
    #[error(
        "invalid DN `{dn}`: `{attribute_type}` is not an attribute type, so use a name such as `CN` or a numeric OID"
    )]
    InvalidAttributeType {
        /// The DN as given.
        dn: String,
        /// The attribute type as written.
        attribute_type: String,
    },
    /// A backslash is followed by neither a special character nor two hex digits.
    #[error(
        "invalid DN `{dn}`: the escape at character {position} is neither `\\` with one of ` \"#+,;<=>\\` nor `\\` with two hex digits"
    )]
    InvalidEscape {
        /// The DN as given.
        dn: String,
        /// The 1-based character position of the backslash.
        position: usize,
    },
    /// A value in the `#` form is not an even number of hex digits.
    #[error(
        "invalid DN `{dn}`: the value at character {position} starts with `#` but is not hex-encoded BER, so escape a literal `#` as `\\#`"
    )]
    InvalidHexValue {
        /// The DN as given.
        dn: String,
        /// The 1-based character position of the `#`.
        position: usize,
    },
    /// The bytes written as hex escapes do not form UTF-8 text.
    #[error(
        "invalid DN `{dn}`: the value at character {position} has hex escapes that do not decode to UTF-8 text"
    )]
    InvalidUtf8 {
        /// The DN as given.
        dn: String,
        /// The 1-based character position where the value starts.
        position: usize,
    },
    /// A `,` or `+` with no attribute before it, or at the end of the DN.
    #[error("invalid DN `{dn}`: empty RDN at character {position}, so remove the extra `,` or `+`")]
    EmptyRdn {
        /// The DN as given.
        dn: String,
        /// The 1-based character position where the empty RDN is.
        position: usize,
    },
}

/// The value of one attribute-value assertion in an RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// A string value with every escape resolved and unescaped surrounding spaces removed.
    Text(String),
    /// A value written as `#` and hex-encoded BER (RFC 4514 section 2.4), as raw bytes.
    Ber(Vec<u8>),
}

/// One `type=value` pair of an RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    attribute_type: String,
    value: AttributeValue,
}

impl Ava {
    fn new(attribute_type: String, value: AttributeValue) -> Self {
        Self { attribute_type, value }
    }

    /// Returns the attribute type as written (`CN`, `cn`, `2.5.4.3`).
    pub fn attribute_type(&self) -> &str {
        &self.attribute_type
    }

    /// Returns the value.
    pub fn value(&self) -> &AttributeValue {
        &self.value
    }

    /// Returns the value when it is text, or `None` for the `#` BER form.
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            AttributeValue::Text(text) => Some(text),
            AttributeValue::Ber(_) => None,
        }
    }
}

/// One relative distinguished name: one AVA, or several joined by `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdn {
    avas: Vec<Ava>,
}

impl Rdn {
    fn new(avas: Vec<Ava>) -> Self {
        Self { avas }
    }

    /// Returns the AVAs in the order written.
    pub fn avas(&self) -> &[Ava] {
        &self.avas
    }
}

/// A parsed distinguished name.
///
/// Equality, ordering and hashing use the normalised form only, so `CN=Amy Wong+SN=Kroker`
/// equals `sn=kroker + cn=amy wong`.
#[derive(Debug, Clone)]
pub struct Dn {
    rdns: Vec<Rdn>,
    normalized: String,
}

impl Dn {
    /// Parses an RFC 4514 DN string. The empty string is the empty DN (the root DSE).
    pub fn parse(text: &str) -> Result<Dn, DnError> {
        let rdns = parse_rdns(text)?;
        let normalized = normalize_rdns(&rdns);
        Ok(Dn { rdns, normalized })
    }

    /// Returns the RDNs, most specific first, as written.
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// Returns the normalised form, the key under which an entry is found by DN.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Returns the text value of the first AVA of the first RDN (`Amy Wong` in
    /// `cn=Amy Wong+sn=Kroker,ou=people`), a fallback name for an entry.
    pub fn leaf_value(&self) -> Option<&str> {
        self.rdns.first()?.avas.first()?.text()
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}

impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized.hash(state);
    }
}

impl PartialOrd for Dn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.normalized.cmp(&other.normalized)
    }
}

/// Parses `text` and returns its normalised form.
pub fn normalize_dn(text: &str) -> Result<String, DnError> {
    // Most DNs have no escapes and no multi-valued RDNs, and their normal form is written
    // without building the RDNs. The rest go through the parser.
    if let Some(normalized) = normal_form::normalize_plain(text) {
        return Ok(normalized);
    }
    Dn::parse(text).map(|dn| dn.normalized)
}
