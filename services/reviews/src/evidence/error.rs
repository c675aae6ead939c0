//! The errors of exporting and reading evidence packs.

use std::path::PathBuf;

use rollcall_store::StoreError;

/// An export or verification that could not run. A pack that fails verification is not an
/// error: [`super::Verification`] lists its problems.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant has no campaign with the id.
    #[error("tenant `{tenant}` has no campaign `{campaign}`; list the campaigns and check the id")]
    CampaignNotFound {
        /// The tenant.
        tenant: String,
        /// The campaign id that was requested.
        campaign: String,
    },
    /// The output folder already contains files.
    #[error("`{0}` is not empty; export into a new or empty folder so no older pack is mixed in")]
    FolderNotEmpty(PathBuf),
    /// A file or folder could not be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// The attempted action, such as `write`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A record could not be encoded.
    #[error("cannot encode the evidence of campaign `{campaign}`: {reason}")]
    Encode {
        /// The campaign id.
        campaign: String,
        /// The encoder's message.
        reason: String,
    },
}

impl EvidenceError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl Fn(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| EvidenceError::Io { action, path: path.clone(), source }
    }
}
