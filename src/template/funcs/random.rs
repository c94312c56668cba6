//! Sprig functions: random strings and numbers (`randAlphaNum`, `randAlpha`, `randNumeric`,
//! `randAscii`, `randInt`, `shuffle`), and the random source every nondeterministic Sprig
//! function draws from.
//!
//! Sprig reads `crypto/rand` for strings, keys and IVs and `math/rand` for `randInt`/`shuffle`.
//! Here one thread-local ChaCha generator serves them all, seeded from the OS. [`seed`] makes it
//! deterministic, so parity tests and a "seeded mode" can render charts that call these
//! functions reproducibly (the values still differ from Go's, which cannot be reproduced).

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::template::{Func, FuncMap, Param, Sig, Value};

thread_local! {
    static RNG: RefCell<StdRng> = RefCell::new(rand::make_rng());
}

/// Make this thread's random source deterministic from `seed`.
pub fn seed(seed: u64) {
    RNG.with(|r| *r.borrow_mut() = StdRng::seed_from_u64(seed));
}

/// Run `f` with this thread's random source (a cryptographically secure generator).
pub fn with_rng<T>(f: impl FnOnce(&mut StdRng) -> T) -> T {
    RNG.with(|r| f(&mut r.borrow_mut()))
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    with_rng(|r| r.fill(&mut buf[..]));
    buf
}

/// A uniform integer in `0..n` (`n > 0`).
pub fn below(n: u64) -> u64 {
    with_rng(|r| r.random_range(0..n))
}

/// goutils `CryptoRandom` for the alphabets Sprig uses: `count` characters drawn uniformly from
/// `alphabet`. A negative count is an error there, which Sprig drops: the result is "".
fn random_string(count: i64, alphabet: &[u8]) -> String {
    if count <= 0 {
        return String::new();
    }
    (0..count)
        .map(|_| alphabet[below(alphabet.len() as u64) as usize] as char)
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

fn alphabet(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Printable ASCII, 32..=126, as goutils `CryptoRandomAscii` (start 32, end 127).
fn ascii() -> Vec<u8> {
    (32u8..127).collect()
}

/// xstrings `Shuffle`: a Fisher–Yates shuffle of the runes.
pub fn shuffle(s: &str) -> String {
    let mut runes: Vec<char> = s.chars().collect();
    for i in (1..runes.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        runes.swap(i, j);
    }
    runes.into_iter().collect()
}

fn int_arg(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

pub fn register(m: &mut FuncMap) {
    let strfn = |chars: Vec<u8>| {
        Func::pure(Sig::fixed(&[Param::Int]), move |a: &[Value]| {
            Ok(Value::from(random_string(int_arg(&a[0]), &chars)))
        })
    };
    m.insert("randAlphaNum".into(), strfn(alphabet(&[UPPER, LOWER, DIGITS])));
    m.insert("randAlpha".into(), strfn(alphabet(&[UPPER, LOWER])));
    m.insert("randNumeric".into(), strfn(DIGITS.to_vec()));
    m.insert("randAscii".into(), strfn(ascii()));
    // randInt: rand.Intn(max-min) + min, which panics unless max > min.
    m.insert(
        "randInt".into(),
        Func::pure(Sig::fixed(&[Param::Int, Param::Int]), |a: &[Value]| {
            let (min, max) = (int_arg(&a[0]), int_arg(&a[1]));
            let span = max
                .checked_sub(min)
                .filter(|s| *s > 0)
                .ok_or("invalid argument to Intn")?;
            Ok(Value::Int(below(span as u64) as i64 + min))
        }),
    );
    m.insert(
        "shuffle".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a: &[Value]| {
            Ok(Value::from(shuffle(a[0].as_str().unwrap_or(""))))
        }),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::template::Host;

    struct NoHost;
    impl Host for NoHost {
        fn exec_named(&mut self, _: &str, _: Value) -> Result<String, String> {
            Err("no host".into())
        }
        fn exec_text(&mut self, _: &str, _: Value) -> Result<String, String> {
            Err("no host".into())
        }
    }

    pub(crate) fn call(m: &FuncMap, name: &str, args: &[Value]) -> Result<Value, String> {
        let f = m.get(name).unwrap_or_else(|| panic!("{name} not registered"));
        (f.call)(&mut NoHost, args)
    }

    fn s(v: Result<Value, String>) -> String {
        v.unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn random_strings_have_sprigs_alphabets() {
        let mut m = FuncMap::new();
        register(&mut m);
        type Check = (&'static str, fn(char) -> bool);
        let cases: [Check; 4] = [
            ("randAlphaNum", |c| c.is_ascii_alphanumeric()),
            ("randAlpha", |c| c.is_ascii_alphabetic()),
            ("randNumeric", |c| c.is_ascii_digit()),
            ("randAscii", |c| (' '..='~').contains(&c)),
        ];
        for (name, ok) in cases {
            let out = s(call(&m, name, &[Value::Int(400)]));
            assert_eq!(out.len(), 400, "{name}");
            assert!(out.chars().all(ok), "{name}: {out}");
            assert_eq!(s(call(&m, name, &[Value::Int(0)])), "");
            assert_eq!(s(call(&m, name, &[Value::Int(-3)])), "");
        }
        // 400 draws from 62 symbols use many of them.
        let out = s(call(&m, "randAlphaNum", &[Value::Int(400)]));
        assert!(out.chars().any(|c| c.is_ascii_digit()) && out.chars().any(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn rand_int_and_shuffle() {
        let mut m = FuncMap::new();
        register(&mut m);
        for _ in 0..200 {
            match call(&m, "randInt", &[Value::Int(-2), Value::Int(3)]).unwrap() {
                Value::Int(i) => assert!((-2..3).contains(&i)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            call(&m, "randInt", &[Value::Int(3), Value::Int(3)]).unwrap_err(),
            "invalid argument to Intn"
        );
        let out = s(call(&m, "shuffle", &[Value::from("héllo wörld")]));
        let mut a: Vec<char> = out.chars().collect();
        let mut b: Vec<char> = "héllo wörld".chars().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(s(call(&m, "shuffle", &[Value::from("")])), "");
    }

    #[test]
    fn seeding_makes_draws_repeatable() {
        seed(7);
        let a = random_bytes(16);
        seed(7);
        assert_eq!(a, random_bytes(16));
    }
}
