//! Plans you can trust: a saved plan's fingerprint is a plain sha256 of its content, so whoever can
//! edit `plan.json` can also recompute it. Two things close that gap, both checked before `apply`
//! contacts a cluster:
//!
//! - a **fingerprint pin** (`apply --fingerprint sha256:…`): the value the reviewed plan output
//!   (Markdown PR comment, text, the `--out` note) showed; a plan with any other content is refused;
//! - an **Ed25519 signature** (`plan --sign-key`, `apply --verify-key`): the plan job signs the
//!   fingerprint with a private key the editors of the plan file do not hold; apply verifies it
//!   with the public key and refuses unsigned or altered plans.
//!
//! Keys are the formats OpenSSL writes (`openssl genpkey -algorithm ed25519` → PKCS#8 PEM
//! `PRIVATE KEY`; `openssl pkey -pubout` → SPKI PEM `PUBLIC KEY`) so no chartup-specific tool is
//! needed to make or inspect them; [`generate_key_pair`] writes the same formats. The signature
//! covers a domain tag plus the fingerprint, and the fingerprint is recomputed from the content
//! before the signature is checked, so neither can be edited alone. The plan file is read with a
//! size cap ([`MAX_PLAN_BYTES`]) so `/dev/zero` or a runaway file ends in an error, not an OOM.

use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::saved::{sha256_hex, SavedPlan};

/// The largest plan file `apply` reads (both sides' manifests of a large release fit many times).
pub const MAX_PLAN_BYTES: u64 = 256 << 20;

/// What the signature signs before the fingerprint: a signature made for anything else (another
/// tool, another format version) never verifies a plan.
const DOMAIN: &[u8] = b"chartup plan signature v1\n";

pub use super::saved::PlanSignature;

/// Why a plan is not trusted (or a key cannot be read).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: the plan file is larger than {limit} bytes (chartup's cap for plan files); refusing to read it")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: the plan's fingerprint does not match its content: it was edited after it was saved")]
    Tampered { path: String },
    #[error("{path}: the plan's fingerprint is {actual}, not the reviewed {pinned} (--fingerprint): refusing a plan that is not the one reviewed")]
    PinMismatch {
        path: String,
        actual: String,
        pinned: String,
    },
    #[error("{path}: the plan is not signed, and --verify-key requires a signature (sign it with `chartup plan --sign-key`)")]
    Unsigned { path: String },
    #[error("{path}: the plan's signature does not verify with the key {key} (signed by {signer}): refusing an altered or foreign plan")]
    BadSignature { path: String, key: String, signer: String },
    #[error("{what} {source_name}: {message}")]
    Key {
        what: &'static str,
        source_name: String,
        message: String,
    },
}

/// The checks `apply` makes on a saved plan before anything else.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `--fingerprint`: `sha256:<hex>` or just the hex.
    pub fingerprint: Option<String>,
    /// `--verify-key`: the public key the plan must be signed with.
    pub verify_key: Option<VerifyingKey>,
}

/// Read a plan file with [`MAX_PLAN_BYTES`] as the cap.
pub fn read_plan_file(path: &Path) -> Result<SavedPlan, TrustError> {
    let name = path.display().to_string();
    let read_err = |e: std::io::Error| TrustError::Read {
        path: name.clone(),
        message: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(TrustError::TooLarge {
            path: name,
            limit: MAX_PLAN_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| TrustError::Read {
        path: name.clone(),
        message: format!(
            "not a saved chartup plan: invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to()
        ),
    })?;
    SavedPlan::from_json(&text).map_err(|message| TrustError::Read { path: name, message })
}

/// Check a plan's integrity and, when asked, that it is the reviewed one: the fingerprint must
/// match the content (always), equal the pin (when given) and carry a valid signature by the key
/// (when given). `name` is the plan file, for the messages.
pub fn check(saved: &SavedPlan, trust: &Trust, name: &str) -> Result<(), TrustError> {
    if !saved.verify() {
        return Err(TrustError::Tampered { path: name.into() });
    }
    if let Some(pin) = &trust.fingerprint {
        let want = pin.trim();
        let want = want.strip_prefix("sha256:").unwrap_or(want).to_ascii_lowercase();
        let have = saved.fingerprint.strip_prefix("sha256:").unwrap_or(&saved.fingerprint);
        if want != have {
            return Err(TrustError::PinMismatch {
                path: name.into(),
                actual: saved.fingerprint.clone(),
                pinned: pin.trim().to_string(),
            });
        }
    }
    if let Some(key) = &trust.verify_key {
        let Some(sig) = &saved.signature else {
            return Err(TrustError::Unsigned { path: name.into() });
        };
        let bad = || TrustError::BadSignature {
            path: name.into(),
            key: key_id(key),
            signer: sig.key_id.clone(),
        };
        if sig.algorithm != "ed25519" {
            return Err(bad());
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sig.value.trim())
            .map_err(|_| bad())?;
        let raw: [u8; 64] = raw.as_slice().try_into().map_err(|_| bad())?;
        let signature = ed25519_dalek::Signature::from_bytes(&raw);
        key.verify_strict(&message(&saved.fingerprint), &signature)
            .map_err(|_| bad())?;
    }
    Ok(())
}

fn message(fingerprint: &str) -> Vec<u8> {
    [DOMAIN, fingerprint.as_bytes()].concat()
}

/// `sha256:` of the public key's SPKI DER.
pub fn key_id(key: &VerifyingKey) -> String {
    format!("sha256:{}", sha256_hex(&spki_der(key)))
}

/// Sign a sealed plan (call after the last `reseal`: the signature covers the fingerprint).
pub fn sign(saved: &mut SavedPlan, key: &SigningKey) {
    let sig = key.sign(&message(&saved.fingerprint));
    saved.signature = Some(PlanSignature {
        algorithm: "ed25519".into(),
        key_id: key_id(&key.verifying_key()),
        value: base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
    });
}

/// A key argument is PEM text itself (e.g. `CHARTUP_SIGN_KEY` set from a CI secret) or a path.
fn key_text(what: &'static str, spec: &str) -> Result<(String, String), TrustError> {
    if spec.contains("-----BEGIN") {
        return Ok(("(PEM text)".into(), spec.to_string()));
    }
    let mut text = String::new();
    std::fs::File::open(spec)
        .and_then(|f| f.take(64 << 10).read_to_string(&mut text))
        .map_err(|e| TrustError::Key {
            what,
            source_name: spec.into(),
            message: e.to_string(),
        })?;
    Ok((spec.to_string(), text))
}

/// The DER inside the first PEM block of `label`.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Read an Ed25519 private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), from a file or as text.
pub fn read_signing_key(spec: &str) -> Result<SigningKey, TrustError> {
    let what = "signing key";
    let (source_name, text) = key_text(what, spec)?;
    let err = |message: String| TrustError::Key {
        what,
        source_name: source_name.clone(),
        message,
    };
    let der = pem_block(&text, "PRIVATE KEY")
        .ok_or_else(|| err("expected an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----, as `openssl genpkey -algorithm ed25519` writes)".into()))?;
    SigningKey::from_pkcs8_der(&der).map_err(|e| err(format!("not an Ed25519 PKCS#8 private key: {e}")))
}

/// Read an Ed25519 public key: SPKI PEM (`-----BEGIN PUBLIC KEY-----`), from a file or as text.
pub fn read_verifying_key(spec: &str) -> Result<VerifyingKey, TrustError> {
    let what = "verification key";
    let (source_name, text) = key_text(what, spec)?;
    let err = |message: String| TrustError::Key {
        what,
        source_name: source_name.clone(),
        message,
    };
    let der = pem_block(&text, "PUBLIC KEY").ok_or_else(|| {
        err(
            "expected an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----, as `openssl pkey -pubout` writes)"
                .into(),
        )
    })?;
    VerifyingKey::from_public_key_der(&der).map_err(|e| err(format!("not an Ed25519 public key: {e}")))
}

fn spki_der(key: &VerifyingKey) -> Vec<u8> {
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING { 0 unused bits, key } } (RFC 8410).
    let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    der.extend_from_slice(key.as_bytes());
    der
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out + &format!("-----END {label}-----\n")
}

/// A new key pair as (private PKCS#8 PEM, public SPKI PEM): what `openssl genpkey -algorithm
/// ed25519` and `openssl pkey -pubout` write.
pub fn generate_key_pair() -> (String, String) {
    let mut seed = [0u8; 32];
    getrandom_seed(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    // RFC 8410 OneAsymmetricKey v1: SEQUENCE { 0, SEQUENCE { OID }, OCTET STRING { OCTET STRING seed } }.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    der.extend_from_slice(&seed);
    (
        pem("PRIVATE KEY", &der),
        pem("PUBLIC KEY", &spki_der(&key.verifying_key())),
    )
}

fn getrandom_seed(seed: &mut [u8; 32]) {
    use rand::RngExt as _;
    // A fresh generator seeded from the OS: never the template functions' one, which tests seed.
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    rng.fill(&mut seed[..]);
}

/// The line the text and Markdown outputs end with when the plan is saved: the value to pin with
/// `apply --fingerprint` (what a PR comment shows the reviewer).
pub fn fingerprint_footer(saved: &SavedPlan, markdown: bool) -> String {
    let signed = match &saved.signature {
        Some(s) => format!(", signed by {}", s.key_id),
        None => String::new(),
    };
    if markdown {
        format!(
            "\n**Plan fingerprint:** `{}`{signed} — apply with `chartup apply plan.json --fingerprint {}`\n",
            saved.fingerprint, saved.fingerprint
        )
    } else {
        format!("\nPlan fingerprint: {}{signed}\n", saved.fingerprint)
    }
}
