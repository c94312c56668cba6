//! The Sprig v3.3.0 function library, as Helm ships it (without `env` and `expandenv`).
//!
//! One file per group, as in Sprig itself; each file has a `register` that adds its functions.

use super::FuncMap;

pub mod conv;
pub mod crypto;
pub mod date;
pub mod defaults;
pub mod dicts;
pub mod encoding;
pub mod lists;
pub mod math;
pub mod network;
pub mod paths;
pub mod random;
pub mod reflect;
pub mod regex;
pub mod semver;
pub mod strings;
mod unicode;
pub mod urls;
mod xstrings;

/// Every Sprig function Helm offers, by name.
pub fn sprig() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    conv::register(&mut m);
    defaults::register(&mut m);
    regex::register(&mut m);
    encoding::register(&mut m);
    paths::register(&mut m);
    urls::register(&mut m);
    reflect::register(&mut m);
    crypto::register(&mut m);
    random::register(&mut m);
    date::register(&mut m);
    semver::register(&mut m);
    network::register(&mut m);
    m
}
