//! Provenance (`--verify`, `--keyring`) as helm's `pkg/provenance` checks it: a `.prov` file is an
//! OpenPGP clear-signed message whose text is the chart's Chart.yaml, a line `...`, and YAML
//! `files: {<archive name>: "sha256:<hex>"}`. Verifying means (1) the signature was made by a key
//! of the keyring (a binary OpenPGP keyring as `gpg --export` writes it; helm's default is
//! `$GNUPGHOME/pubring.gpg`, else `~/.gnupg/pubring.gpg`), and (2) the sha256 listed for the
//! archive's file name equals the archive's own sha256.
//!
//! The OpenPGP work (clear-sign framing, packets, RSA/EdDSA/ECDSA signatures) is rpgp's (`pgp`),
//! a maintained pure-Rust implementation; this module only does what helm's `Signatory.Verify`
//! and `VerifyChart` add on top, with helm's error words so users recognise them. Where the source
//! of the `.prov` matters (a repository's `<url>.prov`, an OCI provenance layer, a local file next
//! to the archive) the callers fetch it; everything here is pure.

use std::path::{Path, PathBuf};

use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey};
use pgp::types::KeyDetails;

use super::{sha256_hex, Result, SourceError};

/// What a successful verification found (helm's `provenance.Verification`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The signing key's user ids (`Name <email>`).
    pub signed_by: Vec<String>,
    /// The fingerprint of the key (primary or subkey) that made the signature, upper-case hex.
    pub fingerprint: String,
    /// `sha256:<hex>` of the archive.
    pub file_hash: String,
    /// The archive's file name the `.prov` vouches for.
    pub file_name: String,
}

impl Verification {
    /// One line for the user, as `helm verify` words it.
    pub fn summary(&self) -> String {
        format!(
            "Signed by: {}; Using Key With Fingerprint: {}; Chart Hash Verified: {}",
            self.signed_by.join(", "),
            self.fingerprint,
            self.file_hash
        )
    }
}

/// helm's default keyring: `$GNUPGHOME/pubring.gpg`, else `~/.gnupg/pubring.gpg`.
pub fn default_keyring() -> PathBuf {
    if let Some(g) = std::env::var_os("GNUPGHOME").filter(|g| !g.is_empty()) {
        return PathBuf::from(g).join("pubring.gpg");
    }
    super::paths::home().join(".gnupg").join("pubring.gpg")
}

/// Read a keyring: the public half of every key in it (secret keyrings work too). Binary, as helm
/// reads it, or ASCII-armored (which helm refuses).
pub fn load_keyring(path: &Path) -> Result<Vec<SignedPublicKey>> {
    let fail = |why: String| SourceError::msg(format!("failed to load keyring {}: {why}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let (keys, _) = PublicOrSecret::from_reader_many(std::io::Cursor::new(bytes)).map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    for k in keys {
        match k.map_err(|e| fail(e.to_string()))? {
            PublicOrSecret::Public(p) => out.push(p),
            PublicOrSecret::Secret(s) => out.push(s.to_public_key()),
        }
    }
    if out.is_empty() {
        return Err(fail("no OpenPGP key in it".into()));
    }
    Ok(out)
}

/// The sha256 sums of a `.prov`'s message block (helm's `parseMessageBlock`: the part after the
/// first `\n...\n`).
fn sums(plaintext: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut parts = plaintext.split("\n...\n");
    let (Some(_meta), Some(block)) = (parts.next(), parts.next()) else {
        return Err(SourceError::msg("message block must have at least two parts"));
    };
    let j = crate::manifest::parse_yaml(block)
        .map_err(|e| SourceError::msg(format!("the provenance's files block: {e}")))?;
    Ok(j.get("files").and_then(|f| f.as_object()).cloned().unwrap_or_default())
}

/// Check the signature against the keyring; the key that made it and its user ids.
fn check_signature(msg: &CleartextSignedMessage, keyring: &[SignedPublicKey]) -> Result<(String, Vec<String>)> {
    let text = msg.signed_text();
    let sigs = msg.signatures();
    if sigs.is_empty() {
        return Err(SourceError::msg("signature block not found"));
    }
    let mut known_but_bad = None;
    for sig in sigs {
        let ids: Vec<String> = sig.issuer_key_id().iter().map(|k| format!("{k:?}")).collect();
        let fps: Vec<String> = sig.issuer_fingerprint().iter().map(|f| format!("{f:X}")).collect();
        for key in keyring {
            let users: Vec<String> = key
                .details
                .users
                .iter()
                .map(|u| String::from_utf8_lossy(u.id.id()).to_string())
                .collect();
            // The primary key, then its subkeys (a signing subkey is common).
            for i in 0..=key.public_subkeys.len() {
                let (kid, fp) = match i.checked_sub(1) {
                    None => (key.primary_key.legacy_key_id(), key.primary_key.fingerprint()),
                    Some(j) => (
                        key.public_subkeys[j].key.legacy_key_id(),
                        key.public_subkeys[j].key.fingerprint(),
                    ),
                };
                let (kid, fp) = (format!("{kid:?}"), format!("{fp:X}"));
                if !ids.contains(&kid) && !fps.contains(&fp) {
                    continue;
                }
                let res = match i.checked_sub(1) {
                    None => sig.verify(&key.primary_key, text.as_bytes()),
                    Some(j) => sig.verify(&key.public_subkeys[j].key, text.as_bytes()),
                };
                match res {
                    Ok(()) => {
                        check_key_usable(key, sig)?;
                        return Ok((fp, users));
                    }
                    Err(e) => known_but_bad = Some(e),
                }
            }
        }
    }
    Err(SourceError::msg(match known_but_bad {
        // rpgp's own text is an internal assertion; say what it means.
        Some(_) => "openpgp: invalid signature: the signed text or the signature was altered".to_string(),
        None => "openpgp: signature made by unknown entity".to_string(),
    }))
}

/// A signature from a revoked key, an expired key or an expired signature is refused, as Go's
/// openpgp `CheckDetachedSignature` refuses it; the key's own binding signatures must hold.
fn check_key_usable(key: &SignedPublicKey, sig: &pgp::packet::Signature) -> Result<()> {
    if !key.details.revocation_signatures.is_empty() {
        return Err(SourceError::msg(
            "openpgp: key revoked: the signing key carries a revocation",
        ));
    }
    key.verify_bindings()
        .map_err(|e| SourceError::msg(format!("openpgp: the signing key's self-signatures do not verify: {e}")))?;
    let now = u64::from(pgp::types::Timestamp::now().as_secs());
    let created = u64::from(key.primary_key.created_at().as_secs());
    // The newest self-signature's key expiration (0 = none).
    let expiry = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))
        .and_then(|s| s.key_expiration_time())
        .map(|d| u64::from(d.as_secs()))
        .unwrap_or(0);
    if expiry > 0 && created + expiry < now {
        return Err(SourceError::msg("openpgp: key expired"));
    }
    if let (Some(c), Some(d)) = (sig.created(), sig.signature_expiration_time()) {
        let d = u64::from(d.as_secs());
        if d > 0 && u64::from(c.as_secs()) + d < now {
            return Err(SourceError::msg("openpgp: signature expired"));
        }
    }
    Ok(())
}

/// helm's `Signatory.Verify`: the signature, then the archive's sha256 under `file_name`.
pub fn verify(archive: &[u8], prov: &[u8], file_name: &str, keyring: &[SignedPublicKey]) -> Result<Verification> {
    let text = std::str::from_utf8(prov).map_err(|_| SourceError::msg("signature block not found"))?;
    // Go's clearsign.Decode skips anything before the armor header; rpgp wants it first.
    let start = text
        .find("-----BEGIN PGP SIGNED MESSAGE-----")
        .ok_or_else(|| SourceError::msg("signature block not found"))?;
    let (msg, _) = CleartextSignedMessage::from_string(&text[start..])
        .map_err(|e| SourceError::msg(format!("signature block not found ({e})")))?;
    let (fingerprint, signed_by) = check_signature(&msg, keyring)?;
    let sum = format!("sha256:{}", sha256_hex(archive));
    let plaintext = msg.signed_text().replace("\r\n", "\n");
    let files = sums(&plaintext)?;
    match files.get(file_name) {
        None => Err(SourceError::msg(format!(
            "provenance does not contain a SHA for a file named \"{file_name}\""
        ))),
        Some(v) if v.as_str() != Some(sum.as_str()) => Err(SourceError::msg(format!(
            "sha256 sum does not match for {file_name}: {} != \"{sum}\"",
            serde_json::to_string(v).unwrap_or_default()
        ))),
        Some(_) => Ok(Verification {
            signed_by,
            fingerprint,
            file_hash: sum,
            file_name: file_name.to_string(),
        }),
    }
}

/// helm's `VerifyChart(path, provfile, keyring)`: only `.tgz` archives, the `.prov` must exist.
pub fn verify_file(path: &Path, prov: &Path, keyring: &Path) -> Result<Verification> {
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path.display(), e))?;
    if meta.is_dir() {
        return Err(SourceError::msg("unpacked charts cannot be verified"));
    }
    if !path.extension().map(|e| e.eq_ignore_ascii_case("tgz")).unwrap_or(false) {
        return Err(SourceError::msg("chart must be a tgz file"));
    }
    let prov_bytes = std::fs::read(prov)
        .map_err(|e| SourceError::msg(format!("could not load provenance file {}: {e}", prov.display())))?;
    let ring = load_keyring(keyring)?;
    let archive = std::fs::read(path).map_err(|e| SourceError::io(path.display(), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    verify(&archive, &prov_bytes, &name, &ring)
}

/// `--verify` of a fetched archive whose `.prov` was looked for (`Err` = not found, with why): a
/// missing `.prov` fails, or is a warning under `verify_if_possible` (helm's words either way); a
/// `.prov` that does not verify always fails, naming the reference. Returns the line for the user.
pub fn check_fetched(
    reference: &str,
    archive: &Path,
    prov: std::result::Result<Vec<u8>, String>,
    file_name: &str,
    opts: &super::FetchOptions,
) -> Result<String> {
    let prov = match prov {
        Ok(p) => p,
        Err(missing) if opts.verify_if_possible => {
            return Ok(format!("WARNING: Verification not found for {reference}: {missing}"))
        }
        Err(missing) => return Err(SourceError::msg(format!("{reference}: {missing}"))),
    };
    let fail = |e: SourceError| SourceError::msg(format!("{reference}: provenance: {e}"));
    let ring = load_keyring(&keyring_of(opts)).map_err(fail)?;
    let bytes = std::fs::read(archive).map_err(|e| SourceError::io(archive.display(), e))?;
    let v = verify(&bytes, &prov, file_name, &ring).map_err(fail)?;
    Ok(format!("{reference}: provenance verified: {}", v.summary()))
}

/// The keyring a fetch uses: `--keyring`, else helm's default.
pub fn keyring_of(opts: &super::FetchOptions) -> PathBuf {
    opts.keyring.clone().unwrap_or_else(default_keyring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_block_is_the_part_after_the_yaml_end_marker() {
        let s = sums("apiVersion: v2\nname: x\n\n...\nfiles:\n  x-1.0.0.tgz: sha256:ab\n").unwrap();
        assert_eq!(s.get("x-1.0.0.tgz").and_then(|v| v.as_str()), Some("sha256:ab"));
        let e = sums("name: x\nfiles: {}\n").unwrap_err().to_string();
        assert_eq!(e, "message block must have at least two parts");
    }

    #[test]
    fn garbage_is_not_a_signature_block() {
        let e = verify(b"x", b"garbage\n", "x.tgz", &[]).unwrap_err().to_string();
        assert_eq!(e, "signature block not found");
    }
}
