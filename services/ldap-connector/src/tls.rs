//! The rustls client configuration that trusts only the CA certificates of one PEM file.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::SyncError;

/// Builds a client configuration whose only trust anchors are the certificates in
/// `ca_file`. System roots are not added: a directory's certificate is usually issued by
/// the practice's own CA, and pinning it keeps any public CA from vouching for the server.
///
/// # Errors
///
/// [`SyncError::CaFile`] when the file cannot be read, holds no PEM certificate, or holds
/// one that is not a valid CA certificate.
pub fn client_config(ca_file: &Path) -> Result<Arc<ClientConfig>, SyncError> {
    let failure = |reason: String| SyncError::CaFile { path: ca_file.to_path_buf(), reason };
    let bytes =
        std::fs::read(ca_file).map_err(|error| failure(format!("cannot read it: {error}")))?;
    let mut roots = RootCertStore::empty();
    let mut found = 0usize;
    for certificate in CertificateDer::pem_slice_iter(&bytes) {
        let certificate =
            certificate.map_err(|error| failure(format!("it is not a valid PEM file: {error}")))?;
        roots.add(certificate).map_err(|error| {
            failure(format!("certificate {} is not usable as a CA: {error}", found + 1))
        })?;
        found += 1;
    }
    if found == 0 {
        return Err(failure(
            "it holds no `-----BEGIN CERTIFICATE-----` block; give the CA certificate in PEM form"
                .to_owned(),
        ));
    }
    // NOTE: rustls 0.23.48 deprecates the ring provider because ring has no post-quantum key
    // exchange. The workspace builds rustls on ring only (no aws-lc-rs), so it stays.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| failure(format!("TLS set-up failed: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
