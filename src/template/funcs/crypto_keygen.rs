//! RSA key generation, the cost of certificate-generating charts (a 2048-bit key is tens of
//! milliseconds, everything else in a `genCA` well under one): our own prime search
//! (crates/keygen) for 2048-, 3072- and 4096-bit keys, on every core (benches/RESULTS.md,
//! sessions 7 and 8).
//!
//! For 2048-bit keys, helper threads (one per core beyond the first; at least one, at most
//! [`MAX_HELPERS`]) find 1024-bit primes from the moment [`warm`] or the first key starts them:
//! [`BUFFERED`] finished primes wait in a channel and one more in each helper's blocked `send`.
//! The caller takes a ready prime whenever there is one and otherwise searches itself, looking
//! again between its candidates (a search that can pause, kept for the thread's next key), so
//! the threads race and none waits for another. Session 7's rendezvous (one prime ready) left
//! the helper idle whenever the caller was busy elsewhere — in its own prime, signing, the
//! template — and a 10-certificate chart used 1.5 of 2 cores; now 1.8–1.9. The price: at most
//! `BUFFERED` + one per helper finished primes, and the helpers' searches under way, are unused
//! when the process ends. Larger keys split p and q across two threads.

use std::sync::{mpsc, Mutex, OnceLock};

type Key = Result<rsa::RsaPrivateKey, String>;

/// Finished primes waiting in the channel (each helper holds one more in its `send`).
const BUFFERED: usize = 2;
/// A bound on helper threads, whatever the core count: the primes a process can waste.
const MAX_HELPERS: usize = 7;

static PRIMES_1024: OnceLock<Mutex<mpsc::Receiver<Vec<u8>>>> = OnceLock::new();

/// Whether a template calls a function that generates a 2048-bit RSA key (`genCA`, `genSignedCert`,
/// `genSelfSignedCert`; not their `…WithKey` forms, which are given a key), as a whole identifier.
/// A mention in a comment or a branch not taken counts too: a wrong guess costs the primes the
/// helpers find before they block (`BUFFERED` + one per helper) on the other cores; a call the
/// text does not show (`tpl` of a value) only misses the early start.
pub fn wants_rsa(text: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    ["genCA", "genSignedCert", "genSelfSignedCert"].iter().any(|name| {
        memchr::memmem::find_iter(bytes, name.as_bytes()).any(|at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + name.len()).copied();
            !before.is_some_and(|b| ident(b) || b == b'.' || b == b'$') && !after.is_some_and(ident)
        })
    })
}

/// Starts the helpers before the first key is asked for: a chart that calls `genCA`,
/// `genSignedCert` or `genSelfSignedCert` will want 2048-bit keys, and the primes found while
/// the rest of the chart is parsed and executed are primes the keys need not wait for.
pub fn warm() {
    helpers();
}

fn helpers() -> &'static Mutex<mpsc::Receiver<Vec<u8>>> {
    PRIMES_1024.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel(BUFFERED);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Without a thread every prime is found by the caller (its receiver sees a closed channel).
        for _ in 0..cores.saturating_sub(1).clamp(1, MAX_HELPERS) {
            let tx = tx.clone();
            let _ = std::thread::Builder::new()
                .name("rsa-primes".into())
                .spawn(move || while tx.send(prime(1024)).is_ok() {});
        }
        Mutex::new(rx)
    })
}

pub fn rsa(bits: usize) -> Key {
    if !matches!(bits, 2048 | 3072 | 4096) {
        let mut rng = rand::rng();
        return rsa::RsaPrivateKey::new(&mut rng, bits).map_err(|e| e.to_string());
    }
    loop {
        let (p, q) = if bits == 2048 {
            two_1024()
        } else {
            two_on_two_threads(bits / 2)
        };
        if chartup_keygen::acceptable_pair(&p, &q) {
            return build(bits, &p, &q);
        }
    }
}

fn prime(bits: usize) -> Vec<u8> {
    super::with_rng(|r| chartup_keygen::prime(bits, r)).expect("a size chartup_keygen takes")
}

thread_local! {
    /// This thread's own search, kept between keys: when a helper's prime arrives mid-search,
    /// the caller takes it at once and the candidates it already ruled out still count.
    static SEARCH: std::cell::RefCell<chartup_keygen::Search1024> = Default::default();
}

/// Two 1024-bit primes: a helper's whenever one is ready (looked for between candidates),
/// else our own.
fn two_1024() -> (Vec<u8>, Vec<u8>) {
    let helper = helpers();
    SEARCH.with(|search| {
        let mut search = search.borrow_mut();
        let mut next = || loop {
            if let Some(p) = helper.lock().ok().and_then(|rx| rx.try_recv().ok()) {
                return p;
            }
            if let Some(p) = super::with_rng(|r| search.step(r)) {
                return p;
            }
        };
        (next(), next())
    })
}

fn two_on_two_threads(bits: usize) -> (Vec<u8>, Vec<u8>) {
    std::thread::scope(|s| {
        let q = std::thread::Builder::new().spawn_scoped(s, move || prime(bits));
        let p = prime(bits);
        let q = q.ok().and_then(|h| h.join().ok()).unwrap_or_else(|| prime(bits));
        (p, q)
    })
}

/// e = 65537, d = e⁻¹ mod λ(n) (`from_p_q`, as Go ≥ 1.24 computes it), CRT values.
fn build(bits: usize, p: &[u8], q: &[u8]) -> Key {
    let half = (bits / 2) as u32;
    let p = rsa::BoxedUint::from_be_slice(p, half).map_err(|e| e.to_string())?;
    let q = rsa::BoxedUint::from_be_slice(q, half).map_err(|e| e.to_string())?;
    rsa::RsaPrivateKey::from_p_q(p, q, rsa::BoxedUint::from(65537u64)).map_err(|e| e.to_string())
}

#[cfg(test)]
pub(super) fn generate(bits: usize) -> Key {
    rsa(bits)
}
