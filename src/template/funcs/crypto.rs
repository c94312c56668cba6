//! Sprig functions: hashes, passwords, keys, certificates and AES (Sprig v3.3.0 `crypto.go`).
//!
//! Charts use `genCA`/`genSignedCert` to mint webhook certificates at render time, so these
//! must produce what Go's `crypto/x509` produces: the same template (v3, 128-bit random serial,
//! CN-only subject, key usages, `serverAuth`+`clientAuth`, basic constraints, a SHA-256-derived
//! subject key id on CAs, the CA's key id as authority key id, SANs DNS-then-IP), the same
//! extension order and string types, PEM blocks with Go's type names (`RSA PRIVATE KEY` PKCS#1,
//! `EC PRIVATE KEY` SEC1, PKCS#8 `PRIVATE KEY` for Ed25519, Sprig's own `DSA PRIVATE KEY`).
//! The certificate is small and fixed, so it is written with a tiny DER encoder here rather than
//! a general X.509 builder; the RustCrypto crates supply the key arithmetic and signatures.
//!
//! Sprig reports most failures of the string-returning functions *in the output* (`bcrypt`,
//! `genPrivateKey`, `derivePassword`): that is kept, as are its error texts for the rest.

use std::rc::Rc;
#[cfg(target_arch = "x86_64")]
use std::sync::OnceLock;

use base64::Engine;
use sha2::Digest;

use super::random::{random_bytes, with_rng};
use crate::template::{Func, FuncMap, Member, Object, Param, Sig, Value};

// ---------------------------------------------------------------------------------------------
// Hashes and passwords

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha1sum(s: &str) -> String {
    hex(&sha1::Sha1::digest(s.as_bytes()))
}

pub fn sha256sum(s: &str) -> String {
    hex(&sha2::Sha256::digest(s.as_bytes()))
}

pub fn sha512sum(s: &str) -> String {
    hex(&sha2::Sha512::digest(s.as_bytes()))
}

/// `hash/adler32` checksum, printed in decimal as Sprig does.
pub fn adler32sum(s: &str) -> String {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for &x in s.as_bytes() {
        a = (a + x as u32) % MOD;
        b = (b + a) % MOD;
    }
    ((b << 16) | a).to_string()
}

/// Go's `bcrypt.GenerateFromPassword` at `DefaultCost` (10), `$2a$` form.
pub fn bcrypt(input: &str) -> String {
    if input.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".into();
    }
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&random_bytes(16));
    match ::bcrypt::hash_with_salt(input, 10, salt) {
        Ok(h) => h.format_for_version(::bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

pub fn htpasswd(user: &str, password: &str) -> String {
    if user.contains(':') {
        return format!("invalid username: {user}");
    }
    format!("{user}:{}", bcrypt(password))
}

const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The Master Password algorithm (scrypt N=32768 r=8 p=2, then HMAC-SHA256), as Sprig.
pub fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    use hmac::{KeyInit, Mac};
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key) else {
        return "failed to derive password: bad key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = templates[seed[0] as usize % templates.len()].as_bytes();
    temp.iter()
        .enumerate()
        .map(|(i, &c)| {
            let chars = template_chars(c);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

/// `randBytes`: base64 of `n` random bytes.
pub fn rand_bytes(n: i64) -> Result<String, String> {
    if n < 0 {
        return Err("runtime error: makeslice: len out of range".into());
    }
    Ok(b64().encode(random_bytes(n as usize)))
}

/// A random (version 4) UUID in its canonical text form.
pub fn uuidv4() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

// ---------------------------------------------------------------------------------------------
// AES

/// Sprig `encryptAES`: AES-256-CBC, key zero-padded (or cut) to 32 bytes, PKCS#7 padding, a
/// random IV in front, standard base64.
pub fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, String> {
    use aes::cipher::{BlockModeEncrypt, KeyIvInit};
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let key = aes_key(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let iv = random_bytes(16);
    let mut enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv).map_err(|e| e.to_string())?;
    let mut blocks: Vec<aes::Block> = content
        .chunks(16)
        .map(|c| aes::Block::try_from(c).unwrap_or_default())
        .collect();
    enc.encrypt_blocks(&mut blocks);
    let mut out = iv;
    for b in blocks {
        out.extend_from_slice(&b);
    }
    Ok(b64().encode(out))
}

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    key
}

/// Go's base64 error text for the first bad byte.
fn go_base64_decode(s: &str) -> Result<Vec<u8>, String> {
    b64().decode(s).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol { offset: i, .. } => i,
            base64::DecodeError::InvalidLength(n) => n - n % 4,
            base64::DecodeError::InvalidPadding => s.len().saturating_sub(1),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

/// Sprig `decryptAES`. Go panics on short or ragged input and on bad padding; the template
/// engine turns those panics into these errors.
pub fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    use aes::cipher::{BlockModeDecrypt, KeyIvInit};
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let key = aes_key(password);
    let crypt = go_base64_decode(crypt64)?;
    if crypt.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        ));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let mut dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, iv).map_err(|e| e.to_string())?;
    let mut blocks: Vec<aes::Block> = body
        .chunks(16)
        .map(|c| aes::Block::try_from(c).unwrap_or_default())
        .collect();
    dec.decrypt_blocks(&mut blocks);
    let plain: Vec<u8> = blocks.iter().flat_map(|b| b.iter().copied()).collect();
    let Some(&last) = plain.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let end = plain.len() as i64 - last as i64;
    if end < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{end}]"));
    }
    // Go's string([]byte) keeps invalid UTF-8; a Rust string cannot, so it is replaced.
    Ok(String::from_utf8_lossy(&plain[..end as usize]).into_owned())
}

// ---------------------------------------------------------------------------------------------
// DER, just enough for keys and certificates

mod der {
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const BOOLEAN: u8 = 0x01;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;

    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(SEQUENCE, &parts.concat())
    }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    pub fn uint(be: &[u8]) -> Vec<u8> {
        let mut b: Vec<u8> = be.iter().copied().skip_while(|x| *x == 0).collect();
        if b.is_empty() || b[0] & 0x80 != 0 {
            b.insert(0, 0);
        }
        tlv(INTEGER, &b)
    }

    pub fn small_int(i: u8) -> Vec<u8> {
        uint(&[i])
    }

    pub fn oid(arcs: &[u64]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut enc = |mut v: u64| {
            let mut tmp = vec![(v & 0x7f) as u8];
            v >>= 7;
            while v > 0 {
                tmp.push(0x80 | (v & 0x7f) as u8);
                v >>= 7;
            }
            tmp.reverse();
            body.extend(tmp);
        };
        enc(arcs[0] * 40 + arcs[1]);
        for &a in &arcs[2..] {
            enc(a);
        }
        tlv(OID, &body)
    }

    pub fn bit_string(bytes: &[u8], unused: u8) -> Vec<u8> {
        let mut c = vec![unused];
        c.extend_from_slice(bytes);
        tlv(BIT_STRING, &c)
    }

    /// A context-specific tag: `[n]`, constructed or not.
    pub fn ctx(n: u8, constructed: bool, content: &[u8]) -> Vec<u8> {
        tlv(0x80 | if constructed { 0x20 } else { 0 } | n, content)
    }

    /// One element read from DER input.
    #[derive(Clone, Copy)]
    pub struct El<'a> {
        pub tag: u8,
        pub content: &'a [u8],
        /// The whole encoding, header included.
        pub raw: &'a [u8],
    }

    /// Read one element from the front of `input`; returns it and the rest.
    pub fn read(input: &[u8]) -> Option<(El<'_>, &[u8])> {
        let tag = *input.first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags never occur in these structures
        }
        let l0 = *input.get(1)? as usize;
        let (len, hdr) = if l0 < 0x80 {
            (l0, 2)
        } else {
            let n = l0 & 0x7f;
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *input.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let end = hdr.checked_add(len)?;
        if end > input.len() {
            return None;
        }
        Some((
            El {
                tag,
                content: &input[hdr..end],
                raw: &input[..end],
            },
            &input[end..],
        ))
    }

    /// All elements of a constructed value's content.
    pub fn children(mut content: &[u8]) -> Option<Vec<El<'_>>> {
        let mut out = Vec::new();
        while !content.is_empty() {
            let (el, rest) = read(content)?;
            out.push(el);
            content = rest;
        }
        Some(out)
    }

    /// The single element that makes up `input`, with nothing after it.
    pub fn whole(input: &[u8]) -> Option<El<'_>> {
        match read(input)? {
            (el, []) => Some(el),
            _ => None,
        }
    }
}

// OIDs
const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_ED25519: &[u64] = &[1, 3, 101, 112];
const OID_CN: &[u64] = &[2, 5, 4, 3];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const OID_AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
const OID_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

// ---------------------------------------------------------------------------------------------
// PEM

/// Go's `pem.EncodeToMemory`: 64-column base64 between BEGIN/END lines.
pub fn pem_encode(kind: &str, der: &[u8]) -> String {
    let body = b64().encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// Go's `pem.Decode`, for the first block: its type and bytes. Headers (`Key: value` lines) are
/// skipped; a block whose body is not base64 is passed over, as Go does.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut rest = text;
    loop {
        let start = if rest.starts_with("-----BEGIN ") {
            0
        } else {
            rest.find("\n-----BEGIN ")? + 1
        };
        let after = &rest[start + "-----BEGIN ".len()..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let line = after[..line_end].trim_end_matches('\r');
        let Some(kind) = line.strip_suffix("-----") else {
            rest = after;
            continue;
        };
        let body = &after[line_end.min(after.len())..];
        let end_marker = format!("-----END {kind}-----");
        let Some(end) = body.find(&end_marker) else {
            rest = after;
            continue;
        };
        let b64text: String = body[..end]
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        match b64().decode(b64text) {
            Ok(bytes) => return Some((kind.to_string(), bytes)),
            Err(_) => rest = &body[end..],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

/// A private key of a type Sprig can generate or read.
pub enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ecdsa(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
    /// DSA keys are only generated and printed: Go cannot sign certificates with them.
    Dsa(Vec<u8>),
}

fn rsa_key(bits: usize) -> Result<PrivateKey, String> {
    keygen::rsa(bits).map(|k| PrivateKey::Rsa(Box::new(k)))
}

#[path = "crypto_keygen.rs"]
mod keygen;
pub use keygen::{wants_rsa, warm as warm_rsa};

#[path = "crypto_placeholder.rs"]
mod placeholder;
pub use placeholder::{is_placeholder, register as register_placeholders, PLACEHOLDER_MARK};

/// Whether graviola can run here: it assumes these CPU features on x86_64 (checked once).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn graviola_cpu() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static OK: OnceLock<bool> = OnceLock::new();
        *OK.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx")
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("bmi1")
                && std::arch::is_x86_feature_detected!("bmi2")
                && std::arch::is_x86_feature_detected!("adx")
        })
    }
    #[cfg(target_arch = "aarch64")]
    true
}

fn dsa_key_der() -> Result<Vec<u8>, String> {
    use dsa::{Components, KeySize, SigningKey};
    let key = with_rng(|r| {
        let c = Components::try_generate_from_rng_with_key_size(r, KeySize::DSA_2048_256)?;
        SigningKey::try_generate_from_rng_with_components(r, c)
    })
    .map_err(|e| format!("failed to generate dsa params: {e:?}"))?;
    let vk = key.verifying_key();
    let c = vk.components();
    // Sprig's DSAKeyFormat: SEQUENCE { Version, P, Q, G, Y, X }.
    Ok(der::seq(&[
        der::small_int(0),
        der::uint(&c.p().to_be_bytes()),
        der::uint(&c.q().to_be_bytes()),
        der::uint(&c.g().to_be_bytes()),
        der::uint(&vk.y().to_be_bytes()),
        der::uint(&key.x().to_be_bytes()),
    ]))
}

impl PrivateKey {
    /// Sprig `pemBlockForKey`.
    pub fn to_pem(&self) -> Result<String, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        Ok(match self {
            PrivateKey::Rsa(k) => pem_encode(
                "RSA PRIVATE KEY",
                k.to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes(),
            ),
            PrivateKey::Ecdsa(k) => pem_encode("EC PRIVATE KEY", &self.ec_sec1(k, true)),
            PrivateKey::Ed25519(k) => {
                // Go's MarshalPKCS8PrivateKey: version 0, no public key.
                let inner = der::tlv(der::OCTET_STRING, &k.to_bytes());
                let der = der::seq(&[
                    der::small_int(0),
                    der::seq(&[der::oid(OID_ED25519)]),
                    der::tlv(der::OCTET_STRING, &inner),
                ]);
                pem_encode("PRIVATE KEY", &der)
            }
            PrivateKey::Dsa(der) => pem_encode("DSA PRIVATE KEY", der),
        })
    }

    /// Go's `MarshalECPrivateKey` (with the curve), or the form nested in PKCS#8 (without).
    fn ec_sec1(&self, k: &p256::SecretKey, with_curve: bool) -> Vec<u8> {
        let point = k.public_key().to_sec1_bytes();
        let mut parts = vec![der::small_int(1), der::tlv(der::OCTET_STRING, &k.to_bytes())];
        if with_curve {
            parts.push(der::ctx(0, true, &der::oid(OID_P256)));
        }
        parts.push(der::ctx(1, true, &der::bit_string(&point, 0)));
        der::seq(&parts)
    }

    /// The SubjectPublicKeyInfo DER.
    fn spki(&self) -> Result<Vec<u8>, String> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        Ok(match self {
            PrivateKey::Rsa(k) => {
                let pkcs1 = k.to_public_key().to_pkcs1_der().map_err(|e| e.to_string())?;
                der::seq(&[
                    der::seq(&[der::oid(OID_RSA), der::tlv(der::NULL, &[])]),
                    der::bit_string(pkcs1.as_bytes(), 0),
                ])
            }
            PrivateKey::Ecdsa(k) => der::seq(&[
                der::seq(&[der::oid(OID_EC_PUBLIC_KEY), der::oid(OID_P256)]),
                der::bit_string(&k.public_key().to_sec1_bytes(), 0),
            ]),
            PrivateKey::Ed25519(k) => der::seq(&[
                der::seq(&[der::oid(OID_ED25519)]),
                der::bit_string(k.verifying_key().as_bytes(), 0),
            ]),
            PrivateKey::Dsa(_) => return Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        })
    }

    /// The AlgorithmIdentifier of the signature Go makes with this key.
    fn sig_alg(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(_) | PrivateKey::Dsa(_) => der::seq(&[der::oid(OID_SHA256_RSA), der::tlv(der::NULL, &[])]),
            PrivateKey::Ecdsa(_) => der::seq(&[der::oid(OID_ECDSA_SHA256)]),
            PrivateKey::Ed25519(_) => der::seq(&[der::oid(OID_ED25519)]),
        }
    }

    /// The signature algorithm Go picks for this key, and the signature over `tbs`.
    fn sign(&self, tbs: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
        match self {
            PrivateKey::Rsa(k) => {
                // DigestInfo for SHA-256, then PKCS#1 v1.5.
                let mut digest_info = vec![
                    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
                    0x00, 0x04, 0x20,
                ];
                #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
                if graviola_cpu() {
                    // graviola's private-key operation is several times faster; same PKCS#1 v1.5 bytes.
                    use rsa::pkcs1::EncodeRsaPrivateKey;
                    // Sizes graviola does not take (under 2048 bits) fall through to the rsa crate.
                    let der = k.to_pkcs1_der().map_err(|e| e.to_string())?;
                    if let Ok(gk) = graviola::signing::rsa::SigningKey::from_pkcs1_der(der.as_bytes()) {
                        let mut buf = vec![0u8; gk.modulus_len_bytes()];
                        if let Ok(sig) = gk.sign_pkcs1_sha256(&mut buf, tbs) {
                            let sig = sig.to_vec();
                            return Ok((der::seq(&[der::oid(OID_SHA256_RSA), der::tlv(der::NULL, &[])]), sig));
                        }
                    }
                }
                digest_info.extend_from_slice(&sha2::Sha256::digest(tbs));
                let sig = k
                    .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
                    .map_err(|e| e.to_string())?;
                Ok((der::seq(&[der::oid(OID_SHA256_RSA), der::tlv(der::NULL, &[])]), sig))
            }
            PrivateKey::Ecdsa(k) => {
                use p256::ecdsa::signature::Signer;
                let sk = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = sk.try_sign(tbs).map_err(|e| e.to_string())?;
                Ok((
                    der::seq(&[der::oid(OID_ECDSA_SHA256)]),
                    sig.to_der().as_bytes().to_vec(),
                ))
            }
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok((der::seq(&[der::oid(OID_ED25519)]), k.sign(tbs).to_bytes().to_vec()))
            }
            PrivateKey::Dsa(_) => Err("x509: certificate private key does not implement crypto.Signer".into()),
        }
    }
}

/// Sprig `generatePrivateKey`: errors are returned as the text, as there.
pub fn generate_private_key(kind: &str) -> String {
    let key = match kind {
        "" | "rsa" => rsa_key(4096),
        "dsa" => match dsa_key_der() {
            Ok(d) => Ok(PrivateKey::Dsa(d)),
            Err(e) => return e,
        },
        #[allow(deprecated)]
        "ecdsa" => Ok(PrivateKey::Ecdsa(with_rng(p256::SecretKey::random))),
        "ed25519" => Ok(PrivateKey::Ed25519(with_rng(|r| {
            ed25519_dalek::SigningKey::generate(r)
        }))),
        _ => return format!("Unknown type {kind}"),
    };
    match key.and_then(|k| k.to_pem()) {
        Ok(p) => p,
        Err(e) => format!("failed to generate private key: {e}"),
    }
}

fn parse_ec_sec1(der_bytes: &[u8], curve_required: bool) -> Result<p256::SecretKey, String> {
    let bad = || "x509: failed to parse EC private key".to_string();
    let el = der::whole(der_bytes)
        .filter(|e| e.tag == der::SEQUENCE)
        .ok_or_else(bad)?;
    let kids = der::children(el.content).ok_or_else(bad)?;
    let key = kids.get(1).filter(|e| e.tag == der::OCTET_STRING).ok_or_else(bad)?;
    let curve = kids.iter().find(|e| e.tag == 0xa0);
    match curve {
        Some(c) if c.content != der::oid(OID_P256).as_slice() => {
            return Err("x509: unknown elliptic curve".into());
        }
        None if curve_required => return Err("x509: unknown elliptic curve".into()),
        _ => {}
    }
    p256::SecretKey::from_slice(key.content).map_err(|_| "x509: invalid elliptic curve private key value".into())
}

fn parse_pkcs8(der_bytes: &[u8]) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let bad = || "asn1: structure error: tags don't match".to_string();
    let el = der::whole(der_bytes)
        .filter(|e| e.tag == der::SEQUENCE)
        .ok_or_else(bad)?;
    let kids = der::children(el.content).ok_or_else(bad)?;
    let alg = kids.get(1).filter(|e| e.tag == der::SEQUENCE).ok_or_else(bad)?;
    let key = kids.get(2).filter(|e| e.tag == der::OCTET_STRING).ok_or_else(bad)?;
    let alg_kids = der::children(alg.content).ok_or_else(bad)?;
    let oid = alg_kids.first().map(|e| e.raw).ok_or_else(bad)?;
    if oid == der::oid(OID_RSA).as_slice() {
        rsa::RsaPrivateKey::from_pkcs1_der(key.content)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}"))
    } else if oid == der::oid(OID_EC_PUBLIC_KEY).as_slice() {
        if alg_kids.get(1).map(|e| e.raw) != Some(der::oid(OID_P256).as_slice()) {
            return Err("x509: unknown elliptic curve".into());
        }
        parse_ec_sec1(key.content, false)
            .map(PrivateKey::Ecdsa)
            .map_err(|e| format!("x509: failed to parse EC private key embedded in PKCS#8: {e}"))
    } else if oid == der::oid(OID_ED25519).as_slice() {
        let inner = der::whole(key.content).filter(|e| e.tag == der::OCTET_STRING && e.content.len() == 32);
        let seed: [u8; 32] = inner
            .and_then(|e| e.content.try_into().ok())
            .ok_or("x509: invalid Ed25519 private key")?;
        Ok(PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)))
    } else {
        Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".into())
    }
}

/// Sprig `parsePrivateKeyPEM`.
pub fn parse_private_key_pem(text: &str) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let (kind, bytes) = pem_decode(text).ok_or("no PEM data in input")?;
    if kind == "PRIVATE KEY" {
        return parse_pkcs8(&bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(prefix) = kind.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {kind}"));
    };
    match prefix {
        "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(&bytes)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => parse_ec_sec1(&bytes, true)
            .map(PrivateKey::Ecdsa)
            .map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => {
            let ok = der::whole(&bytes)
                .filter(|e| e.tag == der::SEQUENCE)
                .and_then(|e| der::children(e.content))
                .is_some_and(|k| k.len() == 6 && k.iter().all(|e| e.tag == der::INTEGER));
            if ok {
                Ok(PrivateKey::Dsa(bytes))
            } else {
                Err("parsing DSA private key from PEM: asn1: structure error".into())
            }
        }
        _ => Err(format!("invalid private key type {kind}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates

/// Sprig's `certificate` struct: `.Cert` and `.Key` PEM strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".into()
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "Cert" => Some(Member::Field(Value::from(self.cert.as_str()))),
            "Key" => Some(Member::Field(Value::from(self.key.as_str()))),
            _ => None,
        }
    }
    fn fmt_v(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

impl Certificate {
    fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    /// A `sprig.certificate` argument, as Go's argument conversion demands.
    fn from_value(v: &Value) -> Result<Certificate, String> {
        if let Value::Object(o) = v {
            if o.type_name() == "sprig.certificate" {
                let field = |n: &str| match o.member(n) {
                    Some(Member::Field(Value::String(s))) => s.to_string(),
                    _ => String::new(),
                };
                return Ok(Certificate {
                    cert: field("Cert"),
                    key: field("Key"),
                });
            }
        }
        Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            v.type_name()
        ))
    }
}

/// The parts of a parsed certificate that signing with it needs.
struct ParsedCert {
    raw_subject: Vec<u8>,
    spki: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
}

/// A structural X.509 parse (Go's `ParseCertificate` errors become `x509: malformed certificate`).
fn parse_certificate(der_bytes: &[u8]) -> Result<ParsedCert, String> {
    let bad = || "x509: malformed certificate".to_string();
    let cert = der::whole(der_bytes)
        .filter(|e| e.tag == der::SEQUENCE)
        .ok_or_else(bad)?;
    let parts = der::children(cert.content).ok_or_else(bad)?;
    if parts.len() != 3
        || parts[0].tag != der::SEQUENCE
        || parts[1].tag != der::SEQUENCE
        || parts[2].tag != der::BIT_STRING
    {
        return Err(bad());
    }
    let mut tbs = der::children(parts[0].content).ok_or_else(bad)?;
    if tbs.first().map(|e| e.tag) == Some(0xa0) {
        tbs.remove(0);
    }
    // serial, signature, issuer, validity, subject, spki, …
    if tbs.len() < 6
        || tbs[0].tag != der::INTEGER
        || tbs[1].tag != der::SEQUENCE
        || tbs[2].tag != der::SEQUENCE
        || tbs[3].tag != der::SEQUENCE
        || tbs[4].tag != der::SEQUENCE
        || tbs[5].tag != der::SEQUENCE
    {
        return Err(bad());
    }
    let mut subject_key_id = None;
    if let Some(exts) = tbs.iter().find(|e| e.tag == 0xa3) {
        let list = der::whole(exts.content).ok_or_else(bad)?;
        for ext in der::children(list.content).ok_or_else(bad)? {
            let f = der::children(ext.content).ok_or_else(bad)?;
            if f.first().map(|e| e.raw) == Some(der::oid(OID_SUBJECT_KEY_ID).as_slice()) {
                let val = f.last().filter(|e| e.tag == der::OCTET_STRING).ok_or_else(bad)?;
                let id = der::whole(val.content)
                    .filter(|e| e.tag == der::OCTET_STRING)
                    .ok_or_else(bad)?;
                subject_key_id = Some(id.content.to_vec());
            }
        }
    }
    Ok(ParsedCert {
        raw_subject: tbs[4].raw.to_vec(),
        spki: tbs[5].raw.to_vec(),
        subject_key_id,
    })
}

/// Go's asn1 string choice: PrintableString when every byte allows it, else UTF8String.
fn asn1_string(s: &str) -> Vec<u8> {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    der::tlv(
        if printable {
            der::PRINTABLE_STRING
        } else {
            der::UTF8_STRING
        },
        s.as_bytes(),
    )
}

fn name_cn(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::seq(&[]);
    }
    let atv = der::seq(&[der::oid(OID_CN), asn1_string(cn)]);
    der::seq(&[der::tlv(der::SET, &atv)])
}

/// Go's certificate time: UTCTime for 1950–2049, GeneralizedTime otherwise, seconds, UTC.
fn cert_time(t: jiff::Timestamp) -> Vec<u8> {
    let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let year = dt.year();
    if (1950..2050).contains(&year) {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            year % 100,
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        der::tlv(der::UTC_TIME, s.as_bytes())
    } else {
        let s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            year,
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        der::tlv(der::GENERALIZED_TIME, s.as_bytes())
    }
}

/// Sprig `getBaseCertTemplate` plus what `x509.CreateCertificate` derives from it.
struct Template {
    cn: String,
    ips: Vec<std::net::IpAddr>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

fn net_ips(ips: &Value) -> Result<Vec<std::net::IpAddr>, String> {
    let items = list_items(ips);
    items
        .iter()
        .map(|ip| {
            let Value::String(s) = ip else {
                return Err(format!("error parsing ip: {} is not a string", super_fmt_v(ip)));
            };
            s.parse::<std::net::IpAddr>()
                .map_err(|_| format!("error parsing ip: {s}"))
        })
        .collect()
}

fn dns_names(dns: &Value) -> Result<Vec<String>, String> {
    list_items(dns)
        .iter()
        .map(|d| match d {
            Value::String(s) => Ok(s.to_string()),
            other => Err(format!(
                "error processing alternate dns name: {} is not a string",
                super_fmt_v(other)
            )),
        })
        .collect()
}

fn list_items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.items.to_vec(),
        _ => Vec::new(),
    }
}

/// `%v` of a scalar list element in error messages (Go's `fmt` for the common cases).
fn super_fmt_v(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The key id Go (≥ 1.25) gives a CA: the first 160 bits of SHA-256 of the subjectPublicKey bits.
fn subject_key_id(spki: &[u8]) -> Vec<u8> {
    let key_bits = der::whole(spki)
        .and_then(|e| der::children(e.content))
        .and_then(|k| k.get(1).map(|b| b.content.get(1..).unwrap_or(&[]).to_vec()))
        .unwrap_or_default();
    sha2::Sha256::digest(&key_bits)[..20].to_vec()
}

/// A key as [`certificate_checks`] sees it: real, or a placeholder (`crypto_placeholder.rs`)
/// standing for an RSA or a DSA key.
enum KeyView<'a> {
    Real(&'a PrivateKey),
    Placeholder { dsa: bool },
}

impl KeyView<'_> {
    fn is_dsa(&self) -> bool {
        matches!(
            self,
            KeyView::Real(PrivateKey::Dsa(_)) | KeyView::Placeholder { dsa: true }
        )
    }
}

fn wrap_create(e: String) -> String {
    format!("error creating certificate: {e}")
}

/// What creating a certificate refuses before anything is signed, in Go's order (crypto/x509
/// `CreateCertificate`): a DSA signer, a DSA subject key, a signer that is not the parent's key,
/// a validity beyond what a certificate can say. The validity's start and end on success.
fn certificate_checks(
    days: i64,
    signee: &KeyView,
    parent: Option<&ParsedCert>,
    signer: &KeyView,
) -> Result<(jiff::Timestamp, jiff::Timestamp), String> {
    if signer.is_dsa() {
        return Err(wrap_create(
            "x509: certificate private key does not implement crypto.Signer".into(),
        ));
    }
    if let KeyView::Real(k) = signee {
        k.spki().map_err(wrap_create)?;
    } else if signee.is_dsa() {
        return Err(wrap_create("x509: unsupported public key type: *dsa.PublicKey".into()));
    }
    if let (Some(p), KeyView::Real(k)) = (parent, signer) {
        if k.spki().map_err(wrap_create)? != p.spki {
            return Err(wrap_create(
                "x509: provided PrivateKey doesn't match parent's PublicKey".into(),
            ));
        }
    }
    let now = jiff::Timestamp::now();
    let not_after = jiff::SignedDuration::from_hours(24)
        .checked_mul(days.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
        .and_then(|d| now.checked_add(d).ok())
        .ok_or_else(|| wrap_create("x509: invalid validity period".into()))?;
    Ok((now, not_after))
}

/// The subject alternative names' check of creating a certificate (Go's `marshalSANs`), after
/// [`certificate_checks`]: a DNS name must be ASCII (an IA5String).
fn dns_encodable(dns: &[String]) -> Result<(), String> {
    match dns.iter().find(|d| !d.is_ascii()) {
        Some(d) => Err(wrap_create(format!("x509: {d:?} cannot be encoded as an IA5String"))),
        None => Ok(()),
    }
}

/// Build, sign and PEM-encode a certificate (Sprig `getCertAndKey`).
fn create_certificate(
    t: &Template,
    signee: &PrivateKey,
    parent: Option<&ParsedCert>,
    signer: &PrivateKey,
) -> Result<Certificate, String> {
    let wrap = wrap_create;
    let (now, not_after) = certificate_checks(t.days, &KeyView::Real(signee), parent, &KeyView::Real(signer))?;
    let spki = signee.spki().map_err(wrap)?;
    let subject = name_cn(&t.cn);
    let issuer = parent.map_or_else(|| subject.clone(), |p| p.raw_subject.clone());
    let serial = random_bytes(16);

    // Extensions in Go's order: key usage, ext key usage, basic constraints, SKID, AKID, SAN.
    let ext = |oid: &[u64], critical: bool, value: Vec<u8>| {
        let mut f = vec![der::oid(oid)];
        if critical {
            f.push(der::tlv(der::BOOLEAN, &[0xff]));
        }
        f.push(der::tlv(der::OCTET_STRING, &value));
        der::seq(&f)
    };
    let mut exts = Vec::new();
    // digitalSignature|keyEncipherment (+certSign): bits 0,2 (,5), as Go's reversed bytes.
    exts.push(ext(
        OID_KEY_USAGE,
        true,
        if t.is_ca {
            der::bit_string(&[0xa4], 2)
        } else {
            der::bit_string(&[0xa0], 5)
        },
    ));
    exts.push(ext(
        OID_EXT_KEY_USAGE,
        false,
        der::seq(&[der::oid(OID_SERVER_AUTH), der::oid(OID_CLIENT_AUTH)]),
    ));
    exts.push(ext(
        OID_BASIC_CONSTRAINTS,
        true,
        if t.is_ca {
            der::seq(&[der::tlv(der::BOOLEAN, &[0xff])])
        } else {
            der::seq(&[])
        },
    ));
    if t.is_ca {
        exts.push(ext(
            OID_SUBJECT_KEY_ID,
            false,
            der::tlv(der::OCTET_STRING, &subject_key_id(&spki)),
        ));
    }
    if let Some(akid) = parent
        .filter(|_| issuer != subject)
        .and_then(|p| p.subject_key_id.as_ref())
    {
        exts.push(ext(OID_AUTHORITY_KEY_ID, false, der::seq(&[der::ctx(0, false, akid)])));
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names = Vec::new();
        dns_encodable(&t.dns)?;
        for d in &t.dns {
            names.push(der::ctx(2, false, d.as_bytes()));
        }
        for ip in &t.ips {
            let bytes = match ip {
                std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => v4.octets().to_vec(),
                    None => v6.octets().to_vec(),
                },
            };
            names.push(der::ctx(7, false, &bytes));
        }
        // RFC 5280: critical when the subject is empty.
        exts.push(ext(OID_SAN, t.cn.is_empty(), der::seq(&names)));
    }

    let sig_alg = signer.sig_alg();
    let tbs = der::seq(&[
        der::ctx(0, true, &der::small_int(2)),
        der::uint(&serial),
        sig_alg.clone(),
        issuer,
        der::seq(&[cert_time(now), cert_time(not_after)]),
        subject,
        spki,
        der::ctx(3, true, &der::seq(&exts)),
    ]);
    let (_, sig) = signer.sign(&tbs).map_err(wrap)?;
    let cert = der::seq(&[tbs, sig_alg, der::bit_string(&sig, 0)]);
    Ok(Certificate {
        cert: pem_encode("CERTIFICATE", &cert),
        key: signee.to_pem().map_err(|e| format!("error pem-encoding key: {e}"))?,
    })
}

fn new_rsa_2048() -> Result<PrivateKey, String> {
    rsa_key(2048).map_err(|e| format!("error generating rsa key: {e}"))
}

fn with_pem_key(pem: &str) -> Result<PrivateKey, String> {
    parse_private_key_pem(pem).map_err(|e| format!("parsing private key: {e}"))
}

/// Sprig `generateCertificateAuthority*`.
pub fn gen_ca(cn: &str, days: i64, key: PrivateKey) -> Result<Certificate, String> {
    let t = Template {
        cn: cn.to_string(),
        ips: Vec::new(),
        dns: Vec::new(),
        days,
        is_ca: true,
    };
    create_certificate(&t, &key, None, &key)
}

/// Sprig `generateSelfSignedCertificate*`.
pub fn gen_self_signed(cn: &str, ips: &Value, dns: &Value, days: i64, key: PrivateKey) -> Result<Certificate, String> {
    let t = Template {
        cn: cn.to_string(),
        ips: net_ips(ips)?,
        dns: dns_names(dns)?,
        days,
        is_ca: false,
    };
    create_certificate(&t, &key, None, &key)
}

/// Sprig `generateSignedCertificate*`.
pub fn gen_signed(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
    ca: &Certificate,
    key: PrivateKey,
) -> Result<Certificate, String> {
    let (parent, signer) = signer_of(ca)?;
    let t = Template {
        cn: cn.to_string(),
        ips: net_ips(ips)?,
        dns: dns_names(dns)?,
        days,
        is_ca: false,
    };
    create_certificate(&t, &key, Some(&parent), &signer)
}

/// The CA of `generateSignedCertificate*`, read as Sprig reads it (its errors, in its order).
fn signer_of(ca: &Certificate) -> Result<(ParsedCert, PrivateKey), String> {
    let (_, ca_der) = pem_decode(&ca.cert).ok_or("unable to decode certificate")?;
    let parent =
        parse_certificate(&ca_der).map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let signer = parse_private_key_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok((parent, signer))
}

/// Sprig `buildCustomCertificate`: base64 PEM certificate and key, checked and returned.
pub fn build_custom_cert(b64cert: &str, b64key: &str) -> Result<Certificate, String> {
    let cert = b64()
        .decode(b64cert)
        .map_err(|_| "unable to decode base64 certificate")?;
    let key = b64()
        .decode(b64key)
        .map_err(|_| "unable to decode base64 private key")?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der_bytes) = pem_decode(&cert).ok_or("unable to decode certificate")?;
    parse_certificate(&der_bytes).map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    parse_private_key_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert, key })
}

// ---------------------------------------------------------------------------------------------

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

pub fn register(m: &mut FuncMap) {
    use Param::{Int, List, String as Str};
    let str1 = |f: fn(&str) -> String| Func::pure(Sig::fixed(&[Str]), move |a: &[Value]| Ok(Value::from(f(s(&a[0])))));
    m.insert("sha1sum".into(), str1(sha1sum));
    m.insert("sha256sum".into(), str1(sha256sum));
    m.insert("sha512sum".into(), str1(sha512sum));
    m.insert("adler32sum".into(), str1(adler32sum));
    m.insert("bcrypt".into(), str1(bcrypt));
    m.insert("genPrivateKey".into(), str1(generate_private_key));
    m.insert(
        "htpasswd".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            Ok(Value::from(htpasswd(s(&a[0]), s(&a[1]))))
        }),
    );
    m.insert(
        "derivePassword".into(),
        // counter is a Go uint32: the executor hands an int, out-of-range values fail as Go's do.
        Func::pure(Sig::fixed(&[Int, Str, Str, Str, Str]), |a: &[Value]| {
            let n = i(&a[0]);
            let counter = u32::try_from(n).map_err(|_| {
                if n < 0 {
                    format!("expected unsigned integer; found {n}")
                } else {
                    format!("{n} overflows uint32")
                }
            })?;
            Ok(Value::from(derive_password(
                counter,
                s(&a[1]),
                s(&a[2]),
                s(&a[3]),
                s(&a[4]),
            )))
        }),
    );
    m.insert(
        "randBytes".into(),
        Func::pure(Sig::fixed(&[Int]), |a: &[Value]| rand_bytes(i(&a[0])).map(Value::from)),
    );
    m.insert(
        "uuidv4".into(),
        Func::pure(Sig::fixed(&[]), |_: &[Value]| Ok(Value::from(uuidv4()))),
    );
    m.insert(
        "encryptAES".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            encrypt_aes(s(&a[0]), s(&a[1])).map(Value::from)
        }),
    );
    m.insert(
        "decryptAES".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            decrypt_aes(s(&a[0]), s(&a[1])).map(Value::from)
        }),
    );
    m.insert(
        "buildCustomCert".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            build_custom_cert(s(&a[0]), s(&a[1])).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genCA".into(),
        Func::pure(Sig::fixed(&[Str, Int]), |a: &[Value]| {
            gen_ca(s(&a[0]), i(&a[1]), new_rsa_2048()?).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genCAWithKey".into(),
        Func::pure(Sig::fixed(&[Str, Int, Str]), |a: &[Value]| {
            gen_ca(s(&a[0]), i(&a[1]), with_pem_key(s(&a[2]))?).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genSelfSignedCert".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int]), |a: &[Value]| {
            net_ips(&a[1])?;
            dns_names(&a[2])?;
            gen_self_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), new_rsa_2048()?).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genSelfSignedCertWithKey".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int, Str]), |a: &[Value]| {
            let key = with_pem_key(s(&a[4]))?;
            gen_self_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), key).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genSignedCert".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int, Param::Any]), |a: &[Value]| {
            let ca = Certificate::from_value(&a[4])?;
            gen_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), &ca, new_rsa_2048()?).map(Certificate::into_value)
        }),
    );
    m.insert(
        "genSignedCertWithKey".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int, Param::Any, Str]), |a: &[Value]| {
            let ca = Certificate::from_value(&a[4])?;
            let key = with_pem_key(s(&a[5]))?;
            gen_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), &ca, key).map(Certificate::into_value)
        }),
    );
}

#[cfg(test)]
#[path = "crypto_rsa_tests.rs"]
mod rsa_tests;

#[cfg(test)]
mod tests {
    //! Expected values come from Helm 4.1.4 (`helm template` on the same calls): hashes,
    //! passwords, error texts, a CA it generated and a certificate it signed with that CA. Random
    //! outputs are checked for shape with `openssl`.
    use super::*;
    use crate::template::funcs::random::tests::call;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// A CA generated by `helm template` with `genCA "my-ca" 365`.
    const HELM_CA_CERT: &str = include_str!("testdata/helm-ca.crt");
    const HELM_CA_KEY: &str = include_str!("testdata/helm-ca.key");
    /// `openssl asn1parse` of the certificate that helm signed with that CA:
    /// `genSignedCert "foo.example.com" (list "10.0.0.1" "::1") (list "foo.example.com" "bar") 30 $ca`.
    const HELM_SIGNED_ASN1: &str = include_str!("testdata/helm-signed.asn1");

    fn funcs() -> FuncMap {
        let mut m = FuncMap::new();
        register(&mut m);
        m
    }

    fn text(r: Result<Value, String>) -> String {
        match r.unwrap() {
            Value::String(s) => s.to_string(),
            other => panic!("{other:?}"),
        }
    }

    fn strs(args: &[&str]) -> Vec<Value> {
        args.iter().map(|a| Value::from(*a)).collect()
    }

    /// Run openssl on `input`; `None` when openssl is not installed.
    pub(super) fn openssl(args: &[&str], input: &str) -> Option<Result<String, String>> {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(input.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Some(if out.status.success() {
            Ok(stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }

    /// `openssl asn1parse` without offsets, lengths, serial numbers and times, spaces collapsed.
    fn asn1_shape(dump: &str) -> String {
        let hdr = regex::Regex::new(r"hl= ?\d+ l= *\d+ ").unwrap();
        let mut ints = 0;
        dump.lines()
            .map(|l| {
                let l = l.split_once(':').map_or(l, |(_, rest)| rest);
                let l = hdr.replace(l, "").split_whitespace().collect::<Vec<_>>().join(" ");
                if l.contains("prim: INTEGER") {
                    ints += 1;
                    if ints == 2 {
                        return l.split(':').next().unwrap_or("").to_string() + ":<serial>";
                    }
                }
                if l.contains("UTCTIME") || l.contains("GENERALIZEDTIME") {
                    return l.split(':').next().unwrap_or("").to_string() + ":<time>";
                }
                l
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn cert_of(v: Value) -> Certificate {
        Certificate::from_value(&v).unwrap()
    }

    #[test]
    fn hashes_match_helm() {
        let m = funcs();
        let h = |f: &str, s: &str| text(call(&m, f, &strs(&[s])));
        assert_eq!(h("sha1sum", "hello"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
        assert_eq!(
            h("sha256sum", "hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(h("sha512sum", "hello"), "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043");
        assert_eq!(h("adler32sum", "hello world"), "436929629");
        assert_eq!(h("adler32sum", ""), "1");
    }

    #[test]
    fn derive_password_matches_helm() {
        let m = funcs();
        let dp = |n: i64, rest: [&str; 4]| {
            let mut a = vec![Value::Int(n)];
            a.extend(strs(&rest));
            call(&m, "derivePassword", &a)
        };
        assert_eq!(
            text(dp(1, ["long", "password", "user", "example.com"])),
            "ZedaFaxcZaso9*"
        );
        assert_eq!(text(dp(3, ["maximum", "pw", "u", "site"])), "m7#jnb4huod8SAuaXNf5");
        assert_eq!(text(dp(1, ["pin", "", "", ""])), "1578");
        assert_eq!(
            text(dp(1, ["nope", "pw", "u", "site"])),
            "cannot find password template nope"
        );
        assert_eq!(
            dp(-1, ["pin", "a", "b", "c"]).unwrap_err(),
            "expected unsigned integer; found -1"
        );
    }

    #[test]
    fn bcrypt_and_htpasswd() {
        let m = funcs();
        let h = text(call(&m, "bcrypt", &strs(&["pw"])));
        assert!(h.starts_with("$2a$10$") && h.len() == 60, "{h}");
        assert!(::bcrypt::verify("pw", &h).unwrap());
        // A hash Go made verifies with the same algorithm.
        assert!(::bcrypt::verify("pw", "$2a$10$p1ULLuH7SsZt7aPjKb8bDeFDHY70nhABcsBZw5Ctq8nGGk0EK2Vkm").unwrap());
        let ht = text(call(&m, "htpasswd", &strs(&["user", "pw"])));
        let (user, hash) = ht.split_once(':').unwrap();
        assert_eq!(user, "user");
        assert!(::bcrypt::verify("pw", hash).unwrap());
        assert_eq!(
            text(call(&m, "htpasswd", &strs(&["us:er", "pw"]))),
            "invalid username: us:er"
        );
        assert_eq!(
            text(call(&m, "bcrypt", &strs(&[&"a".repeat(73)]))),
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
        );
    }

    #[test]
    fn aes_matches_helm() {
        let m = funcs();
        // Encrypted by helm: encryptAES "secretkey" "hello world, this is plaintext".
        let helm = "0t+3V79CX4m9qg7WTMpOSbF8qji3jck7bhZhAbrPaXqFB3UKUa68jbKXAIntgjnV";
        assert_eq!(
            text(call(&m, "decryptAES", &strs(&["secretkey", helm]))),
            "hello world, this is plaintext"
        );
        for plain in ["x", "exactly sixteen!", "hello world, this is plaintext"] {
            let enc = text(call(&m, "encryptAES", &strs(&["k", plain])));
            let raw = b64().decode(&enc).unwrap();
            assert_eq!(raw.len(), 16 + (plain.len() / 16 + 1) * 16);
            assert_eq!(text(call(&m, "decryptAES", &strs(&["k", &enc]))), plain);
        }
        // Keys longer than 32 bytes are cut, as Go's copy() does.
        let enc = text(call(&m, "encryptAES", &strs(&[&"k".repeat(40), "x"])));
        assert_eq!(text(call(&m, "decryptAES", &strs(&[&"k".repeat(32), &enc]))), "x");
        assert_eq!(text(call(&m, "encryptAES", &strs(&["k", ""]))), "");
        let errs = [
            ("!!", "illegal base64 data at input byte 0"),
            ("AAAA", "runtime error: slice bounds out of range [:16] with capacity 3"),
            (
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "crypto/cipher: input not full blocks",
            ),
            (
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "crypto/cipher: input not full blocks",
            ),
        ];
        for (input, want) in errs {
            assert_eq!(
                call(&m, "decryptAES", &strs(&["k", input])).unwrap_err(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn rand_bytes_and_uuid_shapes() {
        let m = funcs();
        let rb = text(call(&m, "randBytes", &[Value::Int(5)]));
        assert_eq!(b64().decode(&rb).unwrap().len(), 5);
        assert_eq!(text(call(&m, "randBytes", &[Value::Int(0)])), "");
        let u = text(call(&m, "uuidv4", &[]));
        let re = regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$").unwrap();
        assert!(re.is_match(&u), "{u}");
    }

    #[test]
    fn private_keys_have_gos_pem_shapes() {
        let m = funcs();
        assert_eq!(text(call(&m, "genPrivateKey", &strs(&["foo"]))), "Unknown type foo");
        // Sprig's default is RSA-4096 in PKCS#1.
        let rsa = text(call(&m, "genPrivateKey", &strs(&[""])));
        assert!(rsa.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        if let Some(r) = openssl(&["rsa", "-noout", "-text"], &rsa) {
            assert!(r.unwrap().contains("Private-Key: (4096 bit, 2 primes)"));
        }
        // ASN.1 shapes of keys helm generated.
        let cases = [
            (
                "ecdsa",
                "EC PRIVATE KEY",
                "d=0 cons: SEQUENCE\nd=1 prim: INTEGER :01\nd=1 prim: OCTET STRING [HEX DUMP]:<key>\nd=1 cons: cont [ 0 ]\nd=2 prim: OBJECT :prime256v1\nd=1 cons: cont [ 1 ]\nd=2 prim: BIT STRING",
            ),
            (
                "ed25519",
                "PRIVATE KEY",
                "d=0 cons: SEQUENCE\nd=1 prim: INTEGER :00\nd=1 cons: SEQUENCE\nd=2 prim: OBJECT :ED25519\nd=1 prim: OCTET STRING [HEX DUMP]:<key>",
            ),
        ];
        let hex_dump = regex::Regex::new(r"\[HEX DUMP\]:[0-9A-F]+").unwrap();
        for (kind, block, shape) in cases {
            let pem = text(call(&m, "genPrivateKey", &strs(&[kind])));
            assert!(pem.starts_with(&format!("-----BEGIN {block}-----\n")), "{pem}");
            assert!(pem.ends_with(&format!("-----END {block}-----\n")), "{pem}");
            assert!(parse_private_key_pem(&pem).is_ok());
            let Some(dump) = openssl(&["asn1parse"], &pem) else {
                continue;
            };
            let got = asn1_shape(&dump.unwrap());
            let got = hex_dump.replace(&got, "[HEX DUMP]:<key>");
            assert_eq!(got, shape, "{kind}");
            if let Some(r) = openssl(&["pkey", "-noout", "-text"], &pem) {
                r.unwrap();
            }
        }
    }

    /// Sprig's own DSA format, as helm printed it: SEQUENCE { 0, P, Q, G, Y, X } with a 2048-bit
    /// P and 256-bit Q. Slow (seconds of prime search), hence ignored by default.
    #[test]
    #[ignore = "slow: DSA parameter generation"]
    fn dsa_key_matches_helms_shape() {
        let pem = generate_private_key("dsa");
        assert!(pem.starts_with("-----BEGIN DSA PRIVATE KEY-----\n"), "{pem}");
        let (_, der_bytes) = pem_decode(&pem).unwrap();
        let seq = der::whole(&der_bytes).unwrap();
        let ints = der::children(seq.content).unwrap();
        assert!(ints.iter().all(|e| e.tag == der::INTEGER));
        let sizes: Vec<usize> = ints.iter().map(|e| e.content.len()).collect();
        assert_eq!((sizes[0], sizes[1], sizes[2]), (1, 257, 33));
        assert!(sizes[3] <= 257 && sizes[4] <= 257 && sizes[5] <= 33, "{sizes:?}");
        assert!(matches!(parse_private_key_pem(&pem), Ok(PrivateKey::Dsa(_))));
    }

    #[test]
    fn signed_cert_matches_helms_structure() {
        let m = funcs();
        let ca = call(
            &m,
            "buildCustomCert",
            &strs(&[&b64().encode(HELM_CA_CERT), &b64().encode(HELM_CA_KEY)]),
        )
        .unwrap();
        let args = vec![
            Value::from("foo.example.com"),
            Value::list(vec![Value::from("10.0.0.1"), Value::from("::1")]),
            Value::list(vec![Value::from("foo.example.com"), Value::from("bar")]),
            Value::Int(30),
            ca,
        ];
        let c = cert_of(call(&m, "genSignedCert", &args).unwrap());
        assert!(c.key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let Some(dump) = openssl(&["asn1parse"], &c.cert) else {
            return;
        };
        assert_eq!(asn1_shape(&dump.unwrap()), asn1_shape(HELM_SIGNED_ASN1));
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.crt");
        std::fs::write(&ca_path, HELM_CA_CERT).unwrap();
        let verified = openssl(&["verify", "-CAfile", ca_path.to_str().unwrap()], &c.cert).unwrap();
        assert!(verified.unwrap().contains("OK"));
        let key_text = openssl(&["rsa", "-noout", "-text"], &c.key).unwrap().unwrap();
        assert!(key_text.contains("Private-Key: (2048 bit, 2 primes)"), "{key_text}");
    }

    /// Self-signed certificates helm made: an empty subject (critical SAN, IPv4-mapped address
    /// written as 4 bytes, GeneralizedTime after 2049) and a wildcard CN (a UTF8String).
    #[test]
    fn self_signed_shapes_match_helm() {
        let m = funcs();
        let cases = [
            (
                vec![
                    Value::from(""),
                    Value::list(vec![Value::from("::ffff:1.2.3.4"), Value::from("10.0.0.1")]),
                    Value::list(vec![Value::from("x"), Value::from("*.y")]),
                    Value::Int(9000),
                ],
                include_str!("testdata/helm-selfsigned-empty-cn.asn1"),
            ),
            (
                vec![Value::from("*.example.com"), Value::Nil, Value::Nil, Value::Int(3)],
                include_str!("testdata/helm-selfsigned-wildcard.asn1"),
            ),
        ];
        for (args, helm) in cases {
            let c = cert_of(call(&m, "genSelfSignedCert", &args).unwrap());
            let Some(dump) = openssl(&["asn1parse"], &c.cert) else {
                return;
            };
            assert_eq!(asn1_shape(&dump.unwrap()), asn1_shape(helm));
        }
    }

    #[test]
    fn ca_and_self_signed_certs() {
        let m = funcs();
        let ca = call(&m, "genCA", &[Value::from("my-ca"), Value::Int(365)]).unwrap();
        let cert = cert_of(ca.clone());
        let parsed = parse_certificate(&pem_decode(&cert.cert).unwrap().1).unwrap();
        let helm = parse_certificate(&pem_decode(HELM_CA_CERT).unwrap().1).unwrap();
        assert_eq!(parsed.raw_subject, helm.raw_subject);
        assert_eq!(parsed.subject_key_id.as_ref().map(Vec::len), Some(20));
        // The key id rule, checked on helm's CA.
        assert_eq!(Some(subject_key_id(&helm.spki)), helm.subject_key_id);
        if let (Some(ours), Some(theirs)) = (
            openssl(&["asn1parse"], &cert.cert),
            openssl(&["asn1parse"], HELM_CA_CERT),
        ) {
            let mask = |s: &str| {
                regex::Regex::new(r"(Subject Key Identifier\nd=5 prim: OCTET STRING \[HEX DUMP\]:)[0-9A-F]+")
                    .unwrap()
                    .replace(s, "$1<skid>")
                    .to_string()
            };
            assert_eq!(mask(&asn1_shape(&ours.unwrap())), mask(&asn1_shape(&theirs.unwrap())));
        }
        // Sign with our CA and verify.
        let args = vec![
            Value::from("svc"),
            Value::Nil,
            Value::list(vec![Value::from("svc.ns")]),
            Value::Int(1),
            ca,
        ];
        let leaf = cert_of(call(&m, "genSignedCert", &args).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.crt");
        std::fs::write(&ca_path, &cert.cert).unwrap();
        if let Some(r) = openssl(&["verify", "-CAfile", ca_path.to_str().unwrap()], &leaf.cert) {
            assert!(r.unwrap().contains("OK"));
        }
        // Self-signed with an ECDSA key given as PEM, and an Ed25519 one.
        for kind in ["ecdsa", "ed25519"] {
            let key = generate_private_key(kind);
            let args = vec![
                Value::from("self"),
                Value::list(vec![Value::from("127.0.0.1")]),
                Value::Nil,
                Value::Int(3),
                Value::from(key.as_str()),
            ];
            let c = cert_of(call(&m, "genSelfSignedCertWithKey", &args).unwrap());
            assert_eq!(c.key, key);
            if let Some(r) = openssl(&["x509", "-noout", "-text"], &c.cert) {
                let t = r.unwrap();
                assert!(
                    t.contains("Subject: CN=self") || t.contains("Subject: CN = self"),
                    "{t}"
                );
                assert!(t.contains("IP Address:127.0.0.1"), "{t}");
            }
            let ss = c.cert.clone();
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("self.crt");
            std::fs::write(&p, &ss).unwrap();
            if let Some(r) = openssl(&["verify", "-CAfile", p.to_str().unwrap(), "-partial_chain"], &ss) {
                assert!(r.unwrap().contains("OK"), "{kind}");
            }
        }
    }

    #[test]
    fn certificate_errors_match_helm() {
        let m = funcs();
        let e = |f: &str, args: Vec<Value>| call(&m, f, &args).unwrap_err();
        assert_eq!(
            e("buildCustomCert", strs(&["!!", ""])),
            "unable to decode base64 certificate"
        );
        assert_eq!(e("buildCustomCert", strs(&["", ""])), "unable to decode certificate");
        let bad = b64().encode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assert_eq!(
            e("buildCustomCert", strs(&[&bad, ""])),
            "error parsing certificate: decodedCert.Bytes: x509: malformed certificate"
        );
        assert_eq!(
            e(
                "genCAWithKey",
                vec![Value::from("x"), Value::Int(1), Value::from("nope")]
            ),
            "parsing private key: no PEM data in input"
        );
        let dsa_pem = pem_encode(
            "DSA PRIVATE KEY",
            &der::seq(&(0..6).map(|i| der::small_int(i + 1)).collect::<Vec<_>>()),
        );
        assert_eq!(
            e(
                "genCAWithKey",
                vec![Value::from("x"), Value::Int(1), Value::from(dsa_pem)]
            ),
            "error creating certificate: x509: certificate private key does not implement crypto.Signer"
        );
        let list = |v: Vec<Value>| Value::list(v);
        assert_eq!(
            e(
                "genSelfSignedCert",
                vec![Value::from("x"), list(vec![Value::Int(1)]), Value::Nil, Value::Int(1)]
            ),
            "error parsing ip: 1 is not a string"
        );
        assert_eq!(
            e(
                "genSelfSignedCert",
                vec![
                    Value::from("x"),
                    list(vec![Value::from("1.2.3")]),
                    Value::Nil,
                    Value::Int(1)
                ]
            ),
            "error parsing ip: 1.2.3"
        );
        assert_eq!(
            e(
                "genSelfSignedCert",
                vec![Value::from("x"), Value::Nil, list(vec![Value::Int(1)]), Value::Int(1)]
            ),
            "error processing alternate dns name: 1 is not a string"
        );
        let dict = Value::Map(crate::template::Map::new());
        assert_eq!(
            e(
                "genSignedCert",
                vec![Value::from("x"), Value::Nil, Value::Nil, Value::Int(1), dict]
            ),
            "wrong type for value; expected sprig.certificate; got map[string]interface {}"
        );
    }
}
