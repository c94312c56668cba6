//! The prime tests against numbers whose nature an independent tool established: primes that
//! `openssl prime` confirms (and RFC 2409's Oakley group 2 prime), composites found with sympy —
//! a 1024-bit strong pseudoprime to base 2 and Carmichael numbers (6k+1)(12k+1)(18k+1) — and the
//! generated primes re-checked by crypto-primes (a different implementation).

use rand::SeedableRng;

use super::*;

fn from_hex<const N: usize>(hex: &str) -> [u64; N] {
    assert_eq!(hex.len(), 16 * N, "{hex}");
    let mut out = [0u64; N];
    for (i, chunk) in hex.as_bytes().rchunks(16).enumerate() {
        out[i] = u64::from_str_radix(std::str::from_utf8(chunk).unwrap(), 16).unwrap();
    }
    out
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(16)
}

fn probable_prime<const N: usize>(w: &[u64; N]) -> bool {
    let m = Mont::new(w);
    let mut r = rng();
    m.strong_base2() && (0..5).all(|_| m.miller_rabin_round(&mut r))
}

/// RFC 2409 §6.2, confirmed by `openssl prime`.
const OAKLEY2: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";
/// `openssl prime -generate -bits 1536 -hex`
const P1536: &str = "ED1C498B7919DD1788AA42E20592C284C3C6163E88B3EA6FF9BB93792C690CD3E3A8E76D5BAA4A8529FAFAA75874AE93C2D6BFC3044ED716BD69B551902371A1C09520D8B75C31584AC61EA14CC2DFC4EE9C54C2801EABCE23AE9ED901160978B47EB06A78357D83588B383F23703CA917DDDD018EEE9A2293FD62A16BCB01F8E1029ACFC44C2C624DF9E31984AF54AF8A16B9318EF7255334C7328F2B02FCC26269961B4F678BA1D515BD41381C416051CAA0BF7140C4CD5839BD82EA5847BD";
/// `openssl prime -generate -bits 2048 -hex`
const P2048: &str = "EB589D012F3CD34E34ADC85C25F33088646366D7640A59E88AE3C72CF234DFA2E454F64668C852B8C8B46548D2AD8A802766E02FAFD22B0B045AF6957F12A942E137F38A15702572F9683283952460D8E09D934D8931C15866A371BA0852150A08D0D9A1506357BDC134D88989788CD6068C7FD71F4CF5B506EC6364892AD45FE9374497A00538907D91EE3AD4B7E8992840A08A254933CD3DAA11666FFDDFFD8BADBB77DB08B783309468886697A1E8AF28A72EEEA5724603E58A31CD860FA9266C21EB3C8A24521C65D54AD58D58E8D761EFA8B4EEE7F75D38D15CC9899FE2ECE7E81E2695653888F1600D436D6A54BBA32CA669C6A181070315D30031D63D";
/// p·(2p − 1) with p ≡ 1 (mod 4), both prime (sympy): passes the base-2 strong test.
const SPSP2_1024: &str = "bbc7d565fcda2e775e6dc929cca5e42995d3935b2e0afc3bdd87457aec68c553def6e66e85742dc43b75d181b6bad298d1dff0c8a546d43349daabbb44ebb4b2d34d59242035a1cf36945ebbb82a6443bec8371b2123d1aa80796f68ea7bfa1815872fa4455280ff35f2ca6d50b439c98daa7d5bb12d3067b93c45de27888e7d";

#[test]
fn known_primes_pass() {
    assert!(probable_prime::<16>(&from_hex(OAKLEY2)));
    assert!(probable_prime::<24>(&from_hex(P1536)));
    assert!(probable_prime::<32>(&from_hex(P2048)));
}

#[test]
fn composites_fail() {
    // Neighbours of the primes (odd, so not rejected for parity).
    let mut w: [u64; 16] = from_hex(OAKLEY2);
    w[0] -= 2;
    assert!(!probable_prime(&w));
    let mut w: [u64; 32] = from_hex(P2048);
    w[0] += 2;
    assert!(!probable_prime(&w));
    // Fooling base 2 is not enough: the random-base rounds catch it.
    let spsp: [u64; 16] = from_hex(SPSP2_1024);
    assert!(
        Mont::new(&spsp).strong_base2(),
        "the fixture is a strong pseudoprime to base 2"
    );
    assert!(!probable_prime(&spsp));
    // Carmichael numbers (Fermat liars for every coprime base); the second of each size is also a
    // strong pseudoprime to base 2.
    for c in ["803314bad6a01009", "80b7c345a7721509"] {
        assert!(!probable_prime::<1>(&from_hex(c)), "{c}");
    }
    assert!(Mont::<1>::new(&from_hex("80b7c345a7721509")).strong_base2());
    for c in ["80000012ac12854e64ae648a3eb7b231", "800000872d6f011767c18e9d050109f1"] {
        assert!(!probable_prime::<2>(&from_hex(c)), "{c}");
    }
}

#[test]
fn residues_match_plain_division() {
    let sp = small_primes();
    let x: [u64; 32] = from_hex(P2048);
    let got = residues::<32>(sp, &x);
    for (&p, &r) in sp.primes.iter().zip(&got) {
        let want = x
            .iter()
            .rev()
            .fold(0u128, |acc, &l| ((acc << 64) | l as u128) % p as u128);
        assert_eq!(r as u128, want, "mod {p}");
    }
    assert_eq!(sp.primes[..5], [3, 5, 7, 11, 13]);
    assert!(sp.primes.contains(&65537));
}

#[test]
fn montgomery_matches_plain_arithmetic() {
    // 2^k mod m by the Montgomery doubling/squaring path against u128 arithmetic (N = 2).
    let m: [u64; 2] = from_hex("800000872d6f011767c18e9d050109f1");
    let mm = ((m[1] as u128) << 64) | m[0] as u128;
    let mont = Mont::new(&m);
    let r_mod = (u128::MAX % mm + 1) % mm; // 2^128 mod m
    assert_eq!(((mont.one[1] as u128) << 64) | mont.one[0] as u128, r_mod);
    // (2R)·(2R)·R⁻¹ = 4R
    let mut two = mont.one;
    mont.dbl(&mut two);
    let four = mont.sqr(&two);
    let mut want = mont.one;
    mont.dbl(&mut want);
    mont.dbl(&mut want);
    assert_eq!(four, want);
}

#[test]
fn generated_primes_make_a_modulus_of_the_right_size() {
    let mut r = rng();
    for (bits, n) in [(2048, 16), (3072, 24), (4096, 32)] {
        let pq = primes(bits, &mut r).unwrap();
        for x in [&pq.p, &pq.q] {
            assert_eq!(x.len(), 8 * n);
            assert_eq!(x[0] >> 6, 0b11, "top two bits set");
            let big = crypto_bigint::BoxedUint::from_be_slice(x, (64 * n) as u32).unwrap();
            assert!(
                crypto_primes::is_prime(crypto_primes::Flavor::Any, &big),
                "crypto-primes disagrees"
            );
            let rem = x.iter().fold(0u64, |acc, &b| (acc * 256 + b as u64) % E);
            assert_ne!(rem, 1, "p − 1 divisible by e");
        }
        assert_ne!(pq.p, pq.q);
        let p = crypto_bigint::BoxedUint::from_be_slice(&pq.p, (64 * n) as u32).unwrap();
        let q = crypto_bigint::BoxedUint::from_be_slice(&pq.q, (64 * n) as u32).unwrap();
        assert_eq!(
            crypto_bigint::ConcatenatingMul::concatenating_mul(&p, &q).bits(),
            bits as u32
        );
    }
    assert!(primes(1024, &mut r).is_none());
}

#[test]
fn pairs_too_close_are_refused() {
    let p = hex_bytes(OAKLEY2);
    let with_bit = |bit: usize| {
        // p + 2^bit (no carry out of the top for these bits of this p)
        let mut q = p.clone();
        let (byte, shift) = (q.len() - 1 - bit / 8, bit % 8);
        let mut carry = 1u16 << shift;
        for b in q[..=byte].iter_mut().rev() {
            let s = *b as u16 + carry;
            *b = s as u8;
            carry = s >> 8;
        }
        q
    };
    assert!(!acceptable_pair(&p, &p));
    assert!(!acceptable_pair(&p, &with_bit(1024 - 100)));
    assert!(!acceptable_pair(&with_bit(1024 - 100), &p));
    assert!(acceptable_pair(&p, &with_bit(1024 - 98)));
    assert!(acceptable_pair(&with_bit(1024 - 98), &p));
    assert!(!acceptable_pair(&p, &p[1..]));
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The assembly multiplication (where this CPU runs it) against the compiled one, on random
/// operands and moduli, including moduli whose top half is all ones (the carry-out limb).
#[test]
fn fast_multiplication_matches_the_portable_one() {
    use rand::Rng;
    let mut r = rng();
    for trial in 0..20_000 {
        let mut m = [0u64; 16];
        m.iter_mut().for_each(|l| *l = r.next_u64());
        if trial % 4 == 0 {
            m[8..].iter_mut().for_each(|l| *l = u64::MAX);
        }
        m[15] |= 1 << 63;
        m[0] |= 1;
        let mont = Mont::new(&m);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx") {
            assert!(mont.asm, "this CPU runs the assembly: it is what is tested");
        }
        let mut reduce = |mut x: [u64; 16]| {
            x.iter_mut().for_each(|l| *l = r.next_u64());
            while !lt(&x, &m) {
                x = sub(&x, &m);
            }
            x
        };
        let (mut a, mut b) = (reduce([0; 16]), reduce([0; 16]));
        if trial % 7 == 0 {
            a = sub(&m, &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            b = a;
        }
        assert_eq!(mont.mul(&a, &b), mont.mul_compiled(&a, &b), "trial {trial}");
    }
}

/// A search driven one candidate at a time, paused and resumed (as a caller racing helper threads
/// does), finds primes crypto-primes agrees with, and starts afresh after each one.
#[test]
fn a_search_stepped_one_candidate_at_a_time_finds_independent_primes() {
    let mut r = rng();
    let mut search = Search1024::default();
    let mut found = Vec::new();
    let mut steps = 0;
    while found.len() < 3 {
        steps += 1;
        if let Some(p) = search.step(&mut r) {
            found.push(p);
        }
    }
    // Each prime survived the sieve and a base-2 test after several failed candidates on average.
    assert!(steps > 3, "{steps} steps for three primes");
    for x in &found {
        assert_eq!(x.len(), 128);
        assert_eq!(x[0] >> 6, 0b11, "top two bits set");
        let big = crypto_bigint::BoxedUint::from_be_slice(x, 1024).unwrap();
        assert!(crypto_primes::is_prime(crypto_primes::Flavor::Any, &big));
        let rem = x.iter().fold(0u64, |acc, &b| (acc * 256 + b as u64) % E);
        assert_ne!(rem, 1, "p − 1 divisible by e");
    }
    // A fresh start after each prime: not neighbours in one window.
    assert!(acceptable_pair(&found[0], &found[1]) && acceptable_pair(&found[1], &found[2]));
}
