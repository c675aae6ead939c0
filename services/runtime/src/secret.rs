//! A secret configuration value (a token, a password, a webhook key) that cannot be
//! printed, logged or serialized by accident.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use zeroize::Zeroize;

/// The newtype name by which the configuration deserializer recognises a secret field, so
/// that it can read `<key>_file` and warn about inline secrets. Other deserializers treat
/// the name as an ordinary newtype.
pub(crate) const SECRET_NEWTYPE: &str = "rollcall_runtime::Secret";

/// The text that `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// A secret as text or bytes.
///
/// `Debug` and `Display` print [`REDACTED`], and the type does not implement `Serialize`,
/// so a struct that contains one cannot be serialized back out. In configuration, a secret
/// key `token` is set either inline (`token: ...`, which the loader warns about) or from a
/// file (`token_file: /run/secrets/token`, or `ROLLCALL_<SECTION>__TOKEN_FILE`), whose one
/// trailing newline is removed.
///
/// The bytes are overwritten with zeros when the secret is dropped. Other copies are not:
/// the environment variable, the configuration file's text and anything the service makes
/// from [`Secret::expose_bytes`] keep theirs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// Wraps a value, for tests and for secrets that a service obtains at run time.
    pub fn new(value: impl Into<Vec<u8>>) -> Secret {
        Secret { bytes: value.into() }
    }

    /// Returns the secret's bytes, to hand to the client that needs them.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Returns the secret as text, or `None` when its bytes are not UTF-8.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        deserializer.deserialize_newtype_struct(SECRET_NEWTYPE, SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret as text")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Secret, D::Error> {
        deserializer.deserialize_string(self)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_byte_buf<E: de::Error>(self, value: Vec<u8>) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }
}

/// Removes one trailing `\n` or `\r\n`, which editors and `echo` add to secret files.
pub(crate) fn strip_trailing_newline(contents: &mut Vec<u8>) {
    if contents.last() == Some(&b'\n') {
        contents.pop();
        if contents.last() == Some(&b'\r') {
            contents.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("s3cr3t-value");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
    }

    #[test]
    fn expose_returns_the_value() {
        let secret = Secret::new("s3cr3t-value");
        assert_eq!(secret.expose_str(), Some("s3cr3t-value"));
        assert_eq!(secret.expose_bytes(), b"s3cr3t-value");
    }

    #[test]
    fn expose_str_none_for_binary() {
        let secret = Secret::new(vec![0xff, 0x00, 0x10]);
        assert_eq!(secret.expose_str(), None);
        assert_eq!(secret.expose_bytes(), &[0xff, 0x00, 0x10]);
    }

    #[test]
    fn one_trailing_newline_is_stripped() {
        let cases: [(&[u8], &[u8]); 5] = [
            (b"token\n", b"token"),
            (b"token\r\n", b"token"),
            (b"token\n\n", b"token\n"),
            (b"token", b"token"),
            (b"\n", b""),
        ];
        for (input, expected) in cases {
            let mut contents = input.to_vec();
            strip_trailing_newline(&mut contents);
            assert_eq!(contents, expected, "input {input:?}");
        }
    }

    #[test]
    fn deserializes_from_other_formats_as_text() {
        let secret: Secret = serde_json::from_str("\"from-json\"").unwrap();
        assert_eq!(secret.expose_str(), Some("from-json"));
    }
}
