//! Limits checked before `tenant.yaml` is deserialized, so that no text makes the parser
//! run for minutes or fill memory.
//!
//! serde_yaml_ng 0.10 has two limits of its own: 128 levels of nesting while it
//! deserializes, and at most 100 alias jumps per event of the document. Neither is enough.
//! Its libyaml parser reads the whole document before the nesting limit applies, and that
//! parser's time grows with the square of the flow nesting depth (in a debug build, 10,000
//! nested `[` took about 1 second and 20,000 about 3). The jump limit stops the exponential "billion laughs", but one anchored list
//! of `n` values aliased `n` times costs only `2n` events and still expands to `n²`
//! values.

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::error::TenantFileError;

/// Largest `tenant.yaml` read, in bytes. A file with a large inline policy is tens of
/// kilobytes; a file a hundred times that is more likely the wrong file.
pub const MAX_TENANT_FILE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of flow collections (`[` and `{`) allowed. The deserializer rejects
/// anything deeper than 128 levels anyway; this limit stops such text before the parser
/// spends time on it.
pub const MAX_FLOW_DEPTH: usize = 256;

/// Most values (scalars, sequences and mappings) the file may expand to once aliases are
/// replaced by their anchors. Without aliases a file has at most about one value per byte
/// (`?` alone on a line is a null key with a null value), so this is twice that.
pub const MAX_EXPANDED_VALUES: usize = 2 * MAX_TENANT_FILE_BYTES;

/// Most bytes of scalar text the file may expand to once aliases are replaced. A file
/// without aliases has at most [`MAX_TENANT_FILE_BYTES`].
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;

/// The message serde_yaml_ng 0.10 gives when its own alias jump limit stops a document.
const LIBRARY_REPETITION_MESSAGE: &str = "repetition limit exceeded";

/// Checks the size, flow nesting depth and alias expansion of `text`.
pub fn check(text: &str) -> Result<(), TenantFileError> {
    if text.len() > MAX_TENANT_FILE_BYTES {
        return Err(TenantFileError::TooLarge { bytes: text.len() });
    }
    check_flow_depth(text)?;
    check_expansion(text)
}

/// Rejects flow collections nested deeper than [`MAX_FLOW_DEPTH`].
///
/// NOTE: this counts brackets without reading YAML, so brackets inside quoted text,
/// comments or block scalars count too. A file needs more than 128 unbalanced `[` or `{`
/// in its text before this rejects it wrongly, and text with unbalanced `]` or `}` can
/// hide deeper nesting from it.
fn check_flow_depth(text: &str) -> Result<(), TenantFileError> {
    let mut depth: usize = 0;
    let mut line = 1;
    for byte in text.bytes() {
        match byte {
            b'\n' => line += 1,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(TenantFileError::TooDeep { line });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Rejects files whose aliases expand past [`MAX_EXPANDED_VALUES`] or
/// [`MAX_EXPANDED_BYTES`]. It walks the document once with a visitor that counts what
/// the deserializer hands it and stops at the limit, so the walk itself is bounded.
fn check_expansion(text: &str) -> Result<(), TenantFileError> {
    let mut budget = Budget::default();
    let walked = Counter(&mut budget).deserialize(serde_yaml_ng::Deserializer::from_str(text));
    if budget.exceeded {
        return Err(TenantFileError::AliasExpansion);
    }
    match walked {
        Err(error) if error.to_string() == LIBRARY_REPETITION_MESSAGE => {
            Err(TenantFileError::AliasExpansion)
        }
        // Any other error is in the YAML itself; the typed parse that follows reports it
        // with its line.
        _ => Ok(()),
    }
}

/// Counts of the values and bytes the walk has seen so far.
#[derive(Debug, Default)]
struct Budget {
    values: usize,
    bytes: usize,
    exceeded: bool,
}

impl Budget {
    fn add<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        self.values += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.values > MAX_EXPANDED_VALUES || self.bytes > MAX_EXPANDED_BYTES {
            self.exceeded = true;
            return Err(E::custom("the expansion limit is reached"));
        }
        Ok(())
    }
}

/// Counts every value of the document, aliases expanded, into a [`Budget`].
struct Counter<'a>(&'a mut Budget);

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.0.add(text.len())
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<(), E> {
        self.0.add(bytes.len())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.add(0)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        self.0.add(0)?;
        while sequence.next_element_seed(Counter(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.add(0)?;
        while map.next_key_seed(Counter(&mut *self.0))?.is_some() {
            map.next_value_seed(Counter(&mut *self.0))?;
        }
        Ok(())
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!name value`) arrives as an enum: first the tag, then the value.
        let ((), variant) = data.variant_seed(Counter(&mut *self.0))?;
        variant.newtype_variant_seed(Counter(self.0))
    }
}
