//! HTTP(S) for chart repositories and registries: reqwest on tokio with a rustls configuration built
//! here, because Helm's TLS options (`--ca-file` added to the system roots, a client certificate,
//! `--insecure-skip-tls-verify`) map one to one onto a `rustls::ClientConfig`, and rustls with *ring*
//! is already what the kube client uses.
//!
//! Two things keep a run cheap (benches/PROFILE.md, "sources"): the system root store (hundreds of
//! files under /etc/ssl/certs) is read only when a handshake needs it — a server that chains to the
//! `--ca-file` is accepted without it, with the same verdict the full store would give — and one
//! client per TLS setting is shared by every request of a [`super::block_on`] run, so the index
//! and the dependencies on one host share a kept-alive connection instead of a handshake each.
//!
//! Errors carry the URL and the whole cause chain (`… : invalid peer certificate: UnknownIssuer`),
//! since reqwest's own top-level message ("error sending request") says nothing useful.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::{Result, SourceError, TlsOptions};

/// Helm's user agent shape (`Helm/<version>`); some repositories key on it.
pub const USER_AGENT: &str = concat!("chartup/", env!("CARGO_PKG_VERSION"));

thread_local! {
    /// The clients of the current [`super::block_on`] run (`None` outside one). Per run, not per
    /// process: a pooled connection belongs to the runtime that opened it, and every run has its own.
    static RUN_CLIENTS: RefCell<Option<Vec<(TlsOptions, reqwest::Client)>>> = const { RefCell::new(None) };
}

/// Run `f` with a client cache for this thread (the thread [`super::block_on`] starts for one run).
pub(crate) fn with_run_clients<T>(f: impl FnOnce() -> T) -> T {
    RUN_CLIENTS.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = f();
    RUN_CLIENTS.with(|c| *c.borrow_mut() = None);
    out
}

/// A client with the given TLS options (Helm's default timeout: 120 s); inside a
/// [`super::block_on`] run, the run's client for these options.
pub fn client(tls: &TlsOptions) -> Result<reqwest::Client> {
    let cached = RUN_CLIENTS.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|v| v.iter().find(|(k, _)| k == tls).map(|(_, c)| c.clone()))
    });
    if let Some(c) = cached {
        return Ok(c);
    }
    let c = new_client(tls)?;
    RUN_CLIENTS.with(|cs| {
        if let Some(v) = cs.borrow_mut().as_mut() {
            v.push((tls.clone(), c.clone()));
        }
    });
    Ok(c)
}

fn new_client(tls: &TlsOptions) -> Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::msg(format!("TLS setup: {e}")))?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut ca = Vec::new();
        if let Some(path) = &tls.ca_file {
            ca = read_certs(path)?;
            if ca.is_empty() {
                return Err(SourceError::msg(format!(
                    "--ca-file {}: no PEM certificate found",
                    path.display()
                )));
            }
        }
        let verifier = LazyRoots::new(provider, ca, tls.ca_file.as_deref())?;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
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
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The webpki verifier over the system roots plus the `--ca-file` certificates, with the system
/// roots loaded on the first handshake that needs them: a chain the CA file's roots alone accept
/// is accepted by the full store too (a superset of trust anchors), so it is accepted at once;
/// anything else gets the full store's verdict, error included.
#[derive(Debug)]
struct LazyRoots {
    provider: Arc<CryptoProvider>,
    ca: Vec<CertificateDer<'static>>,
    ca_only: Option<Arc<WebPkiServerVerifier>>,
    full: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl LazyRoots {
    fn new(
        provider: Arc<CryptoProvider>,
        ca: Vec<CertificateDer<'static>>,
        ca_path: Option<&std::path::Path>,
    ) -> Result<LazyRoots> {
        let ca_only = if ca.is_empty() {
            None
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for c in &ca {
                roots.add(c.clone()).map_err(|e| {
                    SourceError::msg(format!(
                        "--ca-file {}: {e}",
                        ca_path.map(|p| p.display().to_string()).unwrap_or_default()
                    ))
                })?;
            }
            Some(Self::verifier(roots, &provider))
        };
        Ok(LazyRoots {
            provider,
            ca,
            ca_only,
            full: OnceLock::new(),
        })
    }

    fn verifier(roots: rustls::RootCertStore, provider: &Arc<CryptoProvider>) -> Arc<WebPkiServerVerifier> {
        // Cannot fail: the only error is an empty store, which callers rule out.
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .expect("a non-empty root store")
    }

    /// System roots (an unreadable store is not fatal when a CA file is given), then the CA file's;
    /// `None` when both are empty, where every chain is an unknown issuer.
    fn full(&self) -> Option<&Arc<WebPkiServerVerifier>> {
        self.full
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                for c in native_roots() {
                    let _ = roots.add(c.clone());
                }
                for c in &self.ca {
                    let _ = roots.add(c.clone());
                }
                (!roots.is_empty()).then(|| Self::verifier(roots, &self.provider))
            })
            .as_ref()
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if let Some(v) = &self.ca_only {
            if let Ok(ok) = v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                return Ok(ok);
            }
        }
        match self.full() {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
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
