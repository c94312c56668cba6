//! Sprig functions: network (`getHostByName`).
//!
//! Sprig resolves the name and returns one address at random. Helm replaces this function with a
//! stub returning "" unless `--enable-dns` is given; the renderer installs that override, this is
//! Sprig's own behaviour. Go's `rand.Intn(0)` panics when the lookup finds nothing, which the
//! template engine reports as an error.

use std::net::ToSocketAddrs;

use crate::template::funcs::random::below;
use crate::template::{Func, FuncMap, Param, Sig, Value};

/// Every address `name` resolves to (Go's `net.LookupHost`), in resolver order, without repeats.
pub fn lookup_host(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Ok(addrs) = (name, 0u16).to_socket_addrs() {
        for a in addrs {
            let ip = a.ip().to_string();
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

pub fn register(m: &mut FuncMap) {
    m.insert(
        "getHostByName".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a: &[Value]| {
            let addrs = lookup_host(a[0].as_str().unwrap_or(""));
            if addrs.is_empty() {
                return Err("invalid argument to Intn".into());
            }
            Ok(Value::from(addrs[below(addrs.len() as u64) as usize].clone()))
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_literal_addresses_and_fails_on_nothing() {
        let mut m = FuncMap::new();
        register(&mut m);
        let call = crate::template::funcs::random::tests::call;
        let got = call(&m, "getHostByName", &[Value::from("127.0.0.1")]).unwrap();
        assert_eq!(got.as_str(), Some("127.0.0.1"));
        assert!(call(&m, "getHostByName", &[Value::from("")]).is_err());
    }
}
