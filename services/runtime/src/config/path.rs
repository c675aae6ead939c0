//! Dotted key paths (`ops.listen`, `hosts[0]`) as errors and warnings show them.

use std::fmt;

use super::ENV_PREFIX;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A mapping key.
    Key(String),
    /// A 0-based sequence index.
    Index(usize),
}

/// The path from the configuration's root to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// Returns this path extended by a mapping key.
    pub(crate) fn key(&self, key: &str) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        KeyPath(segments)
    }

    /// Returns this path extended by a sequence index.
    pub(crate) fn index(&self, index: usize) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }

    /// Builds the environment variable that sets this path, when one can: a path through a
    /// sequence has none.
    pub(crate) fn env_var(&self) -> Option<String> {
        let mut parts = Vec::with_capacity(self.0.len());
        for segment in &self.0 {
            match segment {
                Segment::Key(key) => parts.push(key.to_ascii_uppercase()),
                Segment::Index(_) => return None,
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(format!("{ENV_PREFIX}{}", parts.join("__")))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for segment in &self.0 {
            match segment {
                Segment::Key(key) if first => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_mixes_keys_and_indexes() {
        let path = KeyPath::default().key("sources").index(2).key("url");
        assert_eq!(path.to_string(), "sources[2].url");
    }

    #[test]
    fn env_var_joins_sections_with_double_underscore() {
        let path = KeyPath::default().key("ops").key("listen_addr");
        assert_eq!(path.env_var().as_deref(), Some("ROLLCALL_OPS__LISTEN_ADDR"));
    }

    #[test]
    fn env_var_absent_through_a_sequence() {
        let path = KeyPath::default().key("hosts").index(0);
        assert_eq!(path.env_var(), None);
    }
}
