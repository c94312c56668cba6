//! HTTP(S) for chart repositories and registries: reqwest on tokio with a rustls configuration built
//! here, because Helm's TLS options (`--ca-file` added to the system roots, a client certificate,
//! `--insecure-skip-tls-verify`) map one to one onto a `rustls::ClientConfig`, and rustls with *ring*
//! is already what the kube client uses.
//!
//! Errors carry the URL and the whole cause chain (`… : invalid peer certificate: UnknownIssuer`),
//! since reqwest's own top-level message ("error sending request") says nothing useful.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::{Result, SourceError, TlsOptions};

/// Helm's user agent shape (`Helm/<version>`); some repositories key on it.
pub const USER_AGENT: &str = concat!("chartup/", env!("CARGO_PKG_VERSION"));

/// A client with the given TLS options (Helm's default timeout: 120 s).
pub fn client(tls: &TlsOptions) -> Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::msg(format!("TLS setup: {e}")))?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        // System roots (read once per process: parsing the bundle is most of a client's setup);
        // an unreadable store is not fatal when a CA file is given.
        for c in native_roots() {
            let _ = roots.add(c.clone());
        }
        if let Some(ca) = &tls.ca_file {
            let certs = read_certs(ca)?;
            if certs.is_empty() {
                return Err(SourceError::msg(format!(
                    "--ca-file {}: no PEM certificate found",
                    ca.display()
                )));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| SourceError::msg(format!("--ca-file {}: {e}", ca.display())))?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| SourceError::msg(format!("--key-file {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| SourceError::msg(format!("--cert-file/--key-file: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(SourceError::msg("--cert-file and --key-file go together")),
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .user_agent(USER_AGENT)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| SourceError::msg(format!("HTTP client: {}", chain(&e))))
}

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))?;
    iter.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| SourceError::msg(format!("{}: {e}", path.display())))
}

/// An error and all its causes, `: `-joined.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basic {
    pub username: String,
    pub password: String,
}

/// GET a URL into memory. Non-200 → `failed to fetch <url> : <status>` as Helm says it; a body
/// shorter than its Content-Length (a truncated download) is an error, not a short archive.
pub async fn get(client: &reqwest::Client, url: &str, auth: Option<&Basic>, accept: Option<&str>) -> Result<Vec<u8>> {
    let mut req = client.get(url);
    if let Some(a) = auth {
        req = req.basic_auth(&a.username, Some(&a.password));
    }
    if let Some(acc) = accept {
        req = req.header(reqwest::header::ACCEPT, acc);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| SourceError::msg(format!("Get \"{url}\": {}", chain(&e))))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(SourceError::msg(format!(
            "failed to fetch {url} : {}",
            status_text(status)
        )));
    }
    read_body(resp, url).await
}

/// The body, checked against Content-Length.
pub async fn read_body(resp: reqwest::Response, url: &str) -> Result<Vec<u8>> {
    let expected = resp.content_length();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| SourceError::msg(format!("reading {url}: {} (truncated download?)", chain(&e))))?;
    if let Some(n) = expected {
        if bytes.len() as u64 != n {
            return Err(SourceError::msg(format!(
                "reading {url}: truncated download: got {} of {n} bytes",
                bytes.len()
            )));
        }
    }
    Ok(bytes.to_vec())
}

/// Go's `resp.Status`: `401 Unauthorized`.
pub fn status_text(s: reqwest::StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
}

/// `--insecure-skip-tls-verify`: accept any certificate, still check handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
