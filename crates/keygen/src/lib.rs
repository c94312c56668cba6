//! RSA key generation of our own (genCA, genSelfSignedCert, genSignedCert, genPrivateKey "rsa").
//!
//! Why it exists: minting RSA keys is > 90 % of a certificate-generating chart's time, and the
//! libraries measured (benches/RESULTS.md, sessions 4 and 7) spend 45–90 ms of CPU per 2048-bit key
//! (Go 1.25's generator in helm: 60–74 ms). Their cost is not the arithmetic alone but how many
//! 1024-bit modular exponentiations they run: each draws a fresh random candidate, rejects it by a
//! GCD with a few dozen small primes, and runs a full Miller–Rabin round on ≈ 60 survivors per prime.
//! Here, per prime:
//! - an incremental sieve: one random odd start, its residues modulo the odd primes below
//!   [`SIEVE_LIMIT`] (a dot product with a per-process table of 2^(32j) mod p), and a byte sieve over
//!   the next [`WINDOW`] odd numbers — ≈ 30 candidates per prime survive, where a GCD with the
//!   product of the primes below 400 (Go) leaves ≈ 65;
//! - a base-2 strong-probable-prime test as the screen: base 2 makes the exponentiation squarings
//!   plus doublings (no multiplications by the base, no table); squarings use the multiplication
//!   (a dedicated assembly squaring was 4 % faster, not worth its 690 lines: RESULTS.md session 7);
//! - on the one survivor, as many Miller–Rabin rounds with random bases as Go uses (5 for
//!   1024-bit primes, 4 from 1345 bits; FIPS 186-5 B.3.1), with a 5-bit sliding window.
//!
//! The arithmetic is fixed-width Montgomery multiplication (CIOS, squarings too) on `[u64; N]`
//! with `N` a compile-time constant (16, 24 or 32 limbs: 2048-, 3072- and 4096-bit keys), so the
//! compiler unrolls it; for 16 limbs on x86_64 with BMI2/ADX, generated assembly (x86_64.rs) with
//! two carry chains, 1.4–1.5× faster. The key is then built as Go builds it: e = 65537,
//! d = e⁻¹ mod λ(n) (lcm, not φ: Go ≥ 1.24 and FIPS 186-5 A.1.1), top two bits of each prime set so
//! n has exactly the requested length, p and q in the order they were found.
//!
//! What is NOT constant time, and why that is acceptable: the sieve, the prime tests and the
//! exponentiations here branch on the candidate's value. A rejected candidate is thrown away, so
//! its timing tells nothing; the accepted prime's tests leak at most its timing profile for the
//! ≈ 6 exponentiations run on it, to someone who can time this process from outside while it
//! renders a chart — the keys minted by these Sprig functions are dev/self-signed certificates
//! rendered into manifests, and Go's own crypto/rsa used variable-time math/big for key
//! generation until Go 1.24 (as OpenSSL's BN_generate_prime_ex sieve did). Signing with the keys
//! (graviola, rsa crate) stays constant time. Randomness: the caller's cryptographically secure
//! generator (random.rs, seeded from the OS).

use std::sync::OnceLock;

use rand_core::Rng;

#[cfg(target_arch = "x86_64")]
mod x86_64;

/// Odd primes below this bound sieve the candidates (tuned: benches/RESULTS.md, session 7).
const SIEVE_LIMIT: u32 = 1 << 17;
/// Odd candidates per random start (P(no prime among them) ≈ e^(-2048/355) ≈ 0.3 % at 1024 bits).
const WINDOW: usize = 2048;
const E: u64 = 65537;

/// An RSA key's primes, big-endian bytes.
pub struct Primes {
    pub p: Vec<u8>,
    pub q: Vec<u8>,
}

/// Two primes for a `bits`-bit modulus (p·q has exactly `bits` bits, gcd(e, p−1) = gcd(e, q−1) = 1,
/// |p − q| > 2^(bits/2 − 100)), or None for a size this generator does not take.
pub fn primes<R: Rng + ?Sized>(bits: usize, rng: &mut R) -> Option<Primes> {
    loop {
        let p = prime(bits / 2, rng)?;
        let q = prime(bits / 2, rng)?;
        if acceptable_pair(&p, &q) {
            return Some(Primes { p, q });
        }
    }
}

/// One prime of `bits` bits (1024, 1536 or 2048: half of a 2048-, 3072- or 4096-bit modulus), big
/// endian, top two bits set, p ≢ 1 (mod 65537); None for other sizes. Two of them make a key when
/// [`acceptable_pair`] says so: callers may find them on different threads.
pub fn prime<R: Rng + ?Sized>(bits: usize, rng: &mut R) -> Option<Vec<u8>> {
    match bits {
        1024 => Some(to_be(&random_prime::<16, R>(rng))),
        1536 => Some(to_be(&random_prime::<24, R>(rng))),
        2048 => Some(to_be(&random_prime::<32, R>(rng))),
        _ => None,
    }
}

/// FIPS 186-5 A.1.3 5.5: p ≠ q and |p − q| > 2^(nlen/2 − 100); checked as |p − q| ≥ 2^(nlen/2 − 99)
/// (a random pair fails with probability ≈ 2^-97: a broken random source). Same-length inputs.
pub fn acceptable_pair(p: &[u8], q: &[u8]) -> bool {
    if p.len() != q.len() || p.is_empty() {
        return false;
    }
    let (hi, lo) = if p < q { (q, p) } else { (p, q) };
    let bits = 8 * p.len();
    let mut diff = vec![0u8; p.len()];
    let mut borrow = 0i16;
    for i in (0..p.len()).rev() {
        let d = hi[i] as i16 - lo[i] as i16 - borrow;
        borrow = (d < 0) as i16;
        diff[i] = d.rem_euclid(256) as u8;
    }
    let lead = diff
        .iter()
        .position(|&b| b != 0)
        .map_or(bits, |i| 8 * i + diff[i].leading_zeros() as usize);
    bits - lead >= bits - 98
}

// ---------------------------------------------------------------------------------------------
// The sieve

struct SmallPrimes {
    primes: Vec<u32>,
    /// Per prime, 2^(32j) mod p for j in 0..32: the residue of a 1024-bit block is a dot product.
    table: Vec<u32>,
    /// Per prime, 2^1024 mod p (to chain 1024-bit blocks of larger numbers).
    c1024: Vec<u32>,
}

fn small_primes() -> &'static SmallPrimes {
    static SP: OnceLock<SmallPrimes> = OnceLock::new();
    SP.get_or_init(|| {
        let limit = SIEVE_LIMIT as usize;
        let mut composite = vec![false; limit];
        let mut primes = Vec::new();
        for i in (3..limit).step_by(2) {
            if !composite[i] {
                primes.push(i as u32);
                for j in (i * i..limit).step_by(2 * i) {
                    composite[j] = true;
                }
            }
        }
        let mut table = Vec::with_capacity(primes.len() * 32);
        let mut c1024 = Vec::with_capacity(primes.len());
        for &p in &primes {
            let p = p as u64;
            let f = (1u64 << 32) % p;
            let mut t = 1u64;
            for _ in 0..32 {
                table.push(t as u32);
                t = t * f % p;
            }
            c1024.push(t as u32);
        }
        SmallPrimes { primes, table, c1024 }
    })
}

/// The residues of `x` modulo every sieving prime.
fn residues<const N: usize>(sp: &SmallPrimes, x: &[u64; N]) -> Vec<u32> {
    let blocks = N / 16;
    let mut out = vec![0u32; sp.primes.len()];
    for (i, (&p, row)) in sp.primes.iter().zip(sp.table.chunks_exact(32)).enumerate() {
        let p = p as u64;
        let mut acc = 0u64;
        for b in (0..blocks).rev() {
            // Each term < 2^32 · 2^17; 32 of them < 2^55.
            let mut dot = 0u64;
            for (k, &t) in row.iter().enumerate() {
                let limb = x[16 * b + k / 2];
                let chunk = if k % 2 == 0 { limb & 0xffff_ffff } else { limb >> 32 };
                dot += chunk * t as u64;
            }
            acc = (acc * sp.c1024[i] as u64 + dot) % p;
        }
        out[i] = acc as u32;
    }
    out
}

/// A random prime of 64·N bits, top two bits set, p ≢ 1 (mod e).
fn random_prime<const N: usize, R: Rng + ?Sized>(rng: &mut R) -> [u64; N] {
    let mut search = State::<N>::new();
    loop {
        if let Some(p) = search.step(rng) {
            return p;
        }
    }
}

/// A search for one 1024-bit prime (half of a 2048-bit key) that can stop between candidates and
/// go on later. Why: a caller racing helper threads for primes (src/template/funcs/crypto.rs) takes
/// a helper's prime the moment it is ready, and keeps the work done so far for its next prime
/// instead of finishing or dropping it. [`prime`] is a search run to its end.
pub struct Search1024(State<16>);

impl Default for Search1024 {
    fn default() -> Self {
        Search1024(State::new())
    }
}

impl Search1024 {
    /// Tests the next candidate (≈ 0.3 ms for the base-2 screen, ≈ 2 ms more for the Miller–Rabin
    /// rounds of the one that passes it; a new random start and its sieve when the window is used
    /// up): the prime, big endian, when it is one. After a prime the search
    /// starts afresh, so successive primes are independent.
    pub fn step<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Vec<u8>> {
        self.0.step(rng).map(|p| to_be(&p))
    }
}

/// The state of one search: a random start, which of the [`WINDOW`] odd numbers from it the sieve
/// struck out, and the next one to test.
struct State<const N: usize> {
    start: [u64; N],
    composite: Vec<bool>,
    next: usize,
}

impl<const N: usize> State<N> {
    fn new() -> Self {
        State {
            start: [0; N],
            composite: vec![false; WINDOW],
            next: WINDOW, // no start yet
        }
    }

    fn step<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<[u64; N]> {
        loop {
            while self.next < WINDOW && self.composite[self.next] {
                self.next += 1;
            }
            if self.next < WINDOW {
                break;
            }
            self.restart(rng);
        }
        let k = self.next;
        self.next += 1;
        let mut w = self.start;
        add_small(&mut w, 2 * k as u64);
        if w[N - 1] >> 62 != 0b11 {
            self.next = WINDOW; // carried out of the top bits (astronomically rare): new start
            return None;
        }
        let m = Mont::new(&w);
        if !m.strong_base2() {
            return None;
        }
        if (0..mr_rounds(64 * N)).all(|_| m.miller_rabin_round(rng)) {
            self.next = WINDOW;
            return Some(w);
        }
        None
    }

    /// A new random odd start with its top two bits set, and the sieve of the window after it.
    fn restart<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let sp = small_primes();
        for l in self.start.iter_mut() {
            *l = rng.next_u64();
        }
        self.start[N - 1] |= 0b11 << 62;
        self.start[0] |= 1;
        let composite = &mut self.composite;
        composite.iter_mut().for_each(|c| *c = false);
        let res = residues::<N>(sp, &self.start);
        for (&p, &r) in sp.primes.iter().zip(&res) {
            // start + 2k ≡ 0 (mod p)  ⇔  k ≡ −r · 2⁻¹ (mod p)
            let p = p as usize;
            let inv2 = p.div_ceil(2);
            let mut k = (p - r as usize) % p * inv2 % p;
            while k < WINDOW {
                composite[k] = true;
                k += p;
            }
            if p == E as usize {
                // gcd(e, x − 1) = 1: reject x ≡ 1 (mod e) too.
                let mut k = (p + 1 - r as usize) % p * inv2 % p;
                while k < WINDOW {
                    composite[k] = true;
                    k += p;
                }
            }
        }
        self.next = 0;
    }
}

/// Miller–Rabin rounds with random bases for a prime of `bits` bits: Go's crypto/rsa table
/// (from BoringSSL), the same count graviola uses for 2048-bit keys.
fn mr_rounds(bits: usize) -> usize {
    match bits {
        b if b >= 3747 => 3,
        b if b >= 1345 => 4,
        _ => 5,
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed-width Montgomery arithmetic modulo an odd w with its top bit set (w > R/2, R = 2^(64N)).

struct Mont<const N: usize> {
    m: [u64; N],
    /// −m⁻¹ mod 2^64
    minv: u64,
    /// R mod m, the Montgomery form of 1 (= R − m, as m > R/2).
    one: [u64; N],
    /// 16 limbs on an x86_64 CPU with BMI2 and ADX: multiply with x86_64.rs's assembly.
    asm: bool,
}

impl<const N: usize> Mont<N> {
    fn new(m: &[u64; N]) -> Self {
        let m0 = m[0];
        let mut x = m0; // m0·m0 ≡ 1 (mod 8): 3 bits; each Newton step doubles them.
        for _ in 0..5 {
            x = x.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(x)));
        }
        let one = sub(&[0u64; N], m); // 2^(64N) − m, wrapping
        #[cfg(target_arch = "x86_64")]
        let asm = N == 16 && std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx");
        #[cfg(not(target_arch = "x86_64"))]
        let asm = false;
        Mont {
            m: *m,
            minv: x.wrapping_neg(),
            one,
            asm,
        }
    }

    /// a·b·R⁻¹ mod m (inputs < m, output < m): CIOS (Koç et al.). Measured against a merged
    /// two-chain CIOS, product scanning and a dedicated squaring with this compiler: this plain form
    /// was the fastest (benches/RESULTS.md, session 7), so squarings use it too.
    #[inline(always)]
    fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        #[cfg(target_arch = "x86_64")]
        if self.asm {
            if let (Ok(a16), Ok(b16), Ok(m16)) = (
                <&[u64; 16]>::try_from(&a[..]),
                <&[u64; 16]>::try_from(&b[..]),
                <&[u64; 16]>::try_from(&self.m[..]),
            ) {
                // SAFETY: `asm` is only set where the CPU has BMI2 and ADX (Mont::new).
                let r = unsafe { x86_64::mont_mul_16(a16, b16, m16, self.minv) };
                let mut out = [0u64; N];
                out.copy_from_slice(&r);
                return out;
            }
        }
        self.mul_compiled(a, b)
    }

    /// The portable multiplication (and the reference the assembly is tested against).
    #[inline(always)]
    fn mul_compiled(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; N];
        let mut t_hi = 0u64;
        for &bi in b.iter() {
            let bi = bi as u128;
            let mut c = 0u128;
            for j in 0..N {
                let x = a[j] as u128 * bi + t[j] as u128 + c;
                t[j] = x as u64;
                c = x >> 64;
            }
            let x = t_hi as u128 + c;
            let t_n = x as u64;
            let t_n1 = (x >> 64) as u64;
            let q = t[0].wrapping_mul(self.minv) as u128;
            let mut c = (q * self.m[0] as u128 + t[0] as u128) >> 64;
            for j in 1..N {
                let x = q * self.m[j] as u128 + t[j] as u128 + c;
                t[j - 1] = x as u64;
                c = x >> 64;
            }
            let x = t_n as u128 + c;
            t[N - 1] = x as u64;
            t_hi = t_n1 + (x >> 64) as u64;
        }
        if t_hi != 0 || !lt(&t, &self.m) {
            t = sub(&t, &self.m);
        }
        t
    }

    #[inline(always)]
    fn sqr(&self, a: &[u64; N]) -> [u64; N] {
        self.mul(a, a)
    }

    /// 2a mod m.
    #[inline(always)]
    fn dbl(&self, a: &mut [u64; N]) {
        let mut carry = 0u64;
        for v in a.iter_mut() {
            let x = *v;
            *v = (x << 1) | carry;
            carry = x >> 63;
        }
        if carry != 0 || !lt(a, &self.m) {
            *a = sub(a, &self.m);
        }
    }

    /// m − 1 = d·2^s: (s, the bit positions of d from the top).
    fn split(&self) -> usize {
        let mut w1 = self.m;
        w1[0] -= 1; // m is odd
        trailing_zeros(&w1)
    }

    /// The strong probable-prime test to base 2 (one Miller–Rabin round with b = 2).
    fn strong_base2(&self) -> bool {
        let s = self.split();
        let mut w1 = self.m;
        w1[0] -= 1;
        let top = bit_len(&w1) - 1;
        // 2^d with d = (m − 1) >> s, left to right: y starts at 2 (the top bit of d), then squares
        // and doublings for the bits below.
        let mut y = self.one;
        self.dbl(&mut y);
        for i in (s..top).rev() {
            y = self.sqr(&y);
            if (w1[i / 64] >> (i % 64)) & 1 == 1 {
                self.dbl(&mut y);
            }
        }
        self.finish(y, s)
    }

    /// Steps 4.5–4.6 of FIPS 186-5 B.3.1 on y = b^d (Montgomery form).
    fn finish(&self, mut y: [u64; N], s: usize) -> bool {
        let minus_one = sub(&self.m, &self.one);
        if y == self.one || y == minus_one {
            return true;
        }
        for _ in 1..s {
            y = self.sqr(&y);
            if y == minus_one {
                return true;
            }
            if y == self.one {
                return false;
            }
        }
        false
    }

    /// One Miller–Rabin round with a uniformly random base in [2, m − 2].
    fn miller_rabin_round<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        let mut w1 = self.m;
        w1[0] -= 1;
        let b = loop {
            let mut b = [0u64; N];
            for l in b.iter_mut() {
                *l = rng.next_u64();
            }
            let is_small = b[1..].iter().all(|&l| l == 0) && b[0] <= 1;
            if !is_small && lt(&b, &w1) {
                break b;
            }
        };
        // R² mod m by doubling R mod m 64·N times; then b·R² ·R⁻¹ = b·R.
        let mut r2 = self.one;
        for _ in 0..64 * N {
            self.dbl(&mut r2);
        }
        let base = self.mul(&b, &r2);
        let s = self.split();
        let y = self.pow_window(&base, &w1, s);
        self.finish(y, s)
    }

    /// base^(e >> lo) with a 5-bit sliding window (bits of `e` from its top down to `lo`).
    fn pow_window(&self, base: &[u64; N], e: &[u64; N], lo: usize) -> [u64; N] {
        let bit = |i: usize| (e[i / 64] >> (i % 64)) & 1 == 1;
        let b2 = self.sqr(base);
        let mut odd = [*base; 16]; // base^(2k+1)
        for k in 1..16 {
            odd[k] = self.mul(&odd[k - 1], &b2);
        }
        let mut y = self.one;
        let mut started = false;
        let mut i = bit_len(e) as isize - 1;
        while i >= lo as isize {
            if !bit(i as usize) {
                if started {
                    y = self.sqr(&y);
                }
                i -= 1;
                continue;
            }
            let mut l = (i - 4).max(lo as isize);
            while !bit(l as usize) {
                l += 1;
            }
            let mut val = 0usize;
            for j in (l..=i).rev() {
                val = (val << 1) | bit(j as usize) as usize;
                if started {
                    y = self.sqr(&y);
                }
            }
            y = if started {
                self.mul(&y, &odd[val >> 1])
            } else {
                odd[val >> 1]
            };
            started = true;
            i = l - 1;
        }
        y
    }
}

// ---------------------------------------------------------------------------------------------
// Plain multi-limb helpers (little-endian limbs)

fn lt<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    for i in (0..N).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

fn sub<const N: usize>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut borrow = false;
    for i in 0..N {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        r[i] = d;
        borrow = b1 || b2;
    }
    r
}

fn add_small<const N: usize>(a: &mut [u64; N], v: u64) {
    let mut carry = v;
    for l in a.iter_mut() {
        let (s, c) = l.overflowing_add(carry);
        *l = s;
        if !c {
            return;
        }
        carry = 1;
    }
}

fn bit_len<const N: usize>(a: &[u64; N]) -> usize {
    for i in (0..N).rev() {
        if a[i] != 0 {
            return 64 * i + 64 - a[i].leading_zeros() as usize;
        }
    }
    0
}

fn trailing_zeros<const N: usize>(a: &[u64; N]) -> usize {
    for (i, &l) in a.iter().enumerate() {
        if l != 0 {
            return 64 * i + l.trailing_zeros() as usize;
        }
    }
    64 * N
}

fn to_be<const N: usize>(a: &[u64; N]) -> Vec<u8> {
    a.iter().rev().flat_map(|l| l.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests;
