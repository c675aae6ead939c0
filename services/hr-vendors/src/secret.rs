//! The secret part of a vendor API credential: a value fixed when the client is built, or
//! a file. The client reads the file each time it builds a request or fetches an OAuth
//! token, so a rotated file takes effect without a restart.

use std::path::{Path, PathBuf};

/// A password, bearer token or OAuth client secret that the client sends to a vendor.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiSecret {
    /// A value fixed when the client is built.
    Value(String),
    /// A file read on each use, such as a mounted Kubernetes Secret. One trailing `\n` or
    /// `\r\n` is removed, as the configuration loader does for `*_file` keys.
    File(PathBuf),
}

impl std::fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiSecret::Value(_) => f.write_str("Value(<redacted>)"),
            ApiSecret::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl From<String> for ApiSecret {
    fn from(value: String) -> Self {
        ApiSecret::Value(value)
    }
}

impl From<&str> for ApiSecret {
    fn from(value: &str) -> Self {
        ApiSecret::Value(value.to_owned())
    }
}

/// A secret file that cannot be used as a credential.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// The file cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is empty, or holds only a newline.
    #[error("`{}` is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is not UTF-8 text, which an HTTP header needs.
    #[error("`{}` is not UTF-8 text", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

impl ApiSecret {
    /// Returns the secret's current value, reading the file for [`ApiSecret::File`].
    pub fn read(&self) -> Result<String, SecretFileError> {
        let path = match self {
            ApiSecret::Value(value) => return Ok(value.clone()),
            ApiSecret::File(path) => path,
        };
        let mut bytes = std::fs::read(path)
            .map_err(|source| SecretFileError::Read { path: path.clone(), source })?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        if bytes.is_empty() {
            return Err(SecretFileError::Empty { path: path.clone() });
        }
        String::from_utf8(bytes).map_err(|_| SecretFileError::NotText { path: path.clone() })
    }

    /// Returns the file the secret is read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            ApiSecret::Value(_) => None,
            ApiSecret::File(path) => Some(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_read_on_each_call() {
        let dir = std::env::temp_dir().join(format!("rollcall-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api-token");
        let secret = ApiSecret::File(path.clone());

        std::fs::write(&path, "first-token\n").unwrap();
        assert_eq!(secret.read().ok(), Some("first-token".to_owned()));
        std::fs::write(&path, "second-token\r\n").unwrap();
        assert_eq!(secret.read().ok(), Some("second-token".to_owned()));

        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(secret.read(), Err(SecretFileError::Empty { .. })));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(secret.read(), Err(SecretFileError::NotText { .. })));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(secret.read(), Err(SecretFileError::Read { .. })));
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn debug_hides_value() {
        assert_eq!(format!("{:?}", ApiSecret::from("s3cr3t")), "Value(<redacted>)");
    }
}
