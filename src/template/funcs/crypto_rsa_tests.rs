//! The RSA keys chartup mints (crates/keygen's primes, the `rsa` crate's `from_p_q`) checked as
//! valid by independent implementations and built as Go builds them (d = e⁻¹ mod λ(n)).

use crypto_bigint::{BoxedUint, ConcatenatingMul, Gcd, NonZero, Resize};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

use super::*;

#[test]
fn rsa_keys_are_valid_and_built_like_gos() {
    for bits in [2048, 4096] {
        let k = keygen::generate(bits).unwrap();
        assert_eq!(k.n().bits(), bits as u32);
        assert_eq!(k.e(), &BoxedUint::from(65537u64));
        k.validate().unwrap();
        // d < λ(n) = lcm(p − 1, q − 1), and e·d ≡ 1 (mod λ(n)): Go's (FIPS 186-5's) private exponent.
        let one = BoxedUint::one();
        let (p1, q1) = (k.primes()[0].as_ref() - &one, k.primes()[1].as_ref() - &one);
        let lambda = (&p1 / NonZero::new(p1.gcd(&q1)).unwrap()).concatenating_mul(&q1);
        let d = k.d().clone().resize(lambda.bits_precision());
        assert!(d < lambda, "d is reduced mod λ(n)");
        let ed = d.concatenating_mul(&BoxedUint::from(65537u64));
        let lambda = NonZero::new(lambda.resize(ed.bits_precision())).unwrap();
        assert_eq!(ed.rem(&lambda), one.resize(ed.bits_precision()), "e·d ≡ 1 (mod λ(n))");
        // The certificate path signs (graviola where the CPU allows); the rsa crate verifies.
        let key = PrivateKey::Rsa(Box::new(k));
        let (_, sig) = key.sign(b"chartup").unwrap();
        let PrivateKey::Rsa(k) = &key else { unreachable!() };
        let digest = sha2::Sha256::digest(b"chartup");
        k.to_public_key()
            .verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig)
            .unwrap();
        // OpenSSL's own consistency check: p and q prime, n = p·q, d, dP, dQ, qInv consistent.
        let pem = key.to_pem().unwrap();
        match super::tests::openssl(&["rsa", "-check", "-noout"], &pem) {
            Some(r) => assert!(r.unwrap().contains("RSA key ok")),
            None => assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "openssl is needed under CI"),
        }
    }
}

/// Only the three functions that make their own RSA key start the prime helpers early.
#[test]
fn templates_that_will_want_rsa_keys_are_recognised() {
    assert!(super::wants_rsa(r#"{{ $ca := genCA "x" 365 }}"#));
    assert!(super::wants_rsa(r#"{{ genSelfSignedCert "a" nil nil 1 }}"#));
    assert!(super::wants_rsa(
        r#"{{ genSignedCertWithKey "a" nil nil 1 $ca $k }}{{ genSignedCert "b" nil nil 1 $ca }}"#
    ));
    assert!(!super::wants_rsa(
        r#"{{ genCAWithKey "x" 365 $k }}{{ genSignedCertWithKey "a" nil nil 1 $ca $k }}"#
    ));
    assert!(!super::wants_rsa(
        r#"{{ genPrivateKey "ecdsa" }}{{ genSelfSignedCertWithKey "a" nil nil 1 $k }}"#
    ));
    assert!(!super::wants_rsa("{{ .Values.genCAname }}x"));
}

/// The live 2048-bit path — helpers' primes and the caller's paused search mixed across keys —
/// never reuses a prime and never pairs two that are too close.
#[test]
fn keys_minted_in_a_row_share_no_prime() {
    let primes: Vec<Vec<u8>> = (0..8)
        .flat_map(|_| {
            let k = keygen::generate(2048).unwrap();
            k.validate().unwrap();
            k.primes().iter().map(|p| p.to_be_bytes().to_vec()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(primes.len(), 16);
    for (i, p) in primes.iter().enumerate() {
        assert_eq!(p.len(), 128, "a 1024-bit prime");
        for q in &primes[i + 1..] {
            assert!(chartup_keygen::acceptable_pair(p, q), "two primes equal or too close");
        }
    }
}
