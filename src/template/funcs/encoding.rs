//! Sprig functions: encodings (`b64enc`, `b64dec`, `b32enc`, `b32dec`).
//!
//! Standard alphabets with padding. Decoding follows Go's `encoding/base64` and `encoding/base32`
//! decoders byte for byte, because Sprig returns the decoder's *error text* as the result
//! ("illegal base64 data at input byte 0"), and that text ends up in rendered manifests. Go's
//! decoders skip `\r` and `\n`, are not strict about trailing bits, and report specific offsets.

use crate::template::{Func, FuncMap, Param, Sig, Value};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b64_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(v >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u8> {
    B64.iter().position(|&x| x == c).map(|p| p as u8)
}

/// Go's `base64.StdEncoding.DecodeString` (`decodeQuantum`), with its error offsets.
fn b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0usize;
    loop {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0usize;
        let mut trailing_err: Option<usize> = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = b64_value(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                trailing_err = Some(si);
            }
            dlen = j;
            break;
        }
        let val = (dbuf[0] as u32) << 18 | (dbuf[1] as u32) << 12 | (dbuf[2] as u32) << 6 | dbuf[3] as u32;
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(e) = trailing_err {
            return Err(e);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
}

fn b32_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut b = [0u8; 5];
        b[..chunk.len()].copy_from_slice(chunk);
        let v = b.iter().fold(0u64, |acc, &x| acc << 8 | x as u64);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for k in 0..8 {
            if k < chars {
                out.push(B32[(v >> (35 - 5 * k) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString`: newlines are stripped first, then `decode` runs.
fn b32_decode(input: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = input.iter().copied().filter(|&c| c != b'\n' && c != b'\r').collect();
    let olen = src.len();
    let mut rest: &[u8] = &src;
    let mut out = Vec::new();
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0usize;
        while j < 8 {
            if rest.is_empty() {
                return Err(olen - rest.len() - j);
            }
            let c = rest[0];
            rest = &rest[1..];
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 8 - 1 {
                    return Err(olen);
                }
                for k in 0..8 - 1 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                dlen = j;
                end = true;
                if dlen == 1 || dlen == 3 || dlen == 6 {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            match B32.iter().position(|&x| x == c) {
                Some(v) => dbuf[j] = v as u8,
                None => return Err(olen - rest.len() - 1),
            }
            j += 1;
        }
        let v = dbuf.iter().fold(0u64, |acc, &x| acc << 5 | x as u64);
        let bytes = [
            (v >> 32) as u8,
            (v >> 24) as u8,
            (v >> 16) as u8,
            (v >> 8) as u8,
            v as u8,
        ];
        let n = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..n]);
    }
    Ok(out)
}

fn text(b: Vec<u8>) -> Value {
    Value::str(String::from_utf8_lossy(&b))
}

pub fn register(m: &mut FuncMap) {
    let s = |v: &Value| v.as_str().unwrap_or("").as_bytes().to_vec();
    m.insert(
        "b64enc".into(),
        Func::pure(Sig::fixed(&[Param::String]), move |a| {
            Ok(Value::str(b64_encode(&s(&a[0]))))
        }),
    );
    m.insert(
        "b64dec".into(),
        Func::pure(Sig::fixed(&[Param::String]), move |a| {
            Ok(match b64_decode(&s(&a[0])) {
                Ok(b) => text(b),
                Err(at) => Value::str(format!("illegal base64 data at input byte {at}")),
            })
        }),
    );
    m.insert(
        "b32enc".into(),
        Func::pure(Sig::fixed(&[Param::String]), move |a| {
            Ok(Value::str(b32_encode(&s(&a[0]))))
        }),
    );
    m.insert(
        "b32dec".into(),
        Func::pure(Sig::fixed(&[Param::String]), move |a| {
            Ok(match b32_decode(&s(&a[0])) {
                Ok(b) => text(b),
                Err(at) => Value::str(format!("illegal base32 data at input byte {at}")),
            })
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // helm 4.1.4 outputs for b64dec / b32dec on valid and broken input.
    #[test]
    fn base64_matches_go() {
        assert_eq!(b64_encode(b"abcd"), "YWJjZA==");
        assert_eq!(b64_decode(b"YWJj"), Ok(b"abc".to_vec()));
        assert_eq!(b64_decode(b"YW\nJj"), Ok(b"abc".to_vec()));
        assert_eq!(b64_decode(b"YR=="), Ok(b"a".to_vec()));
        assert_eq!(b64_decode(b"YWJ"), Err(0));
        assert_eq!(b64_decode(b"YW=j"), Err(2));
        assert_eq!(b64_decode(b"YWJjZA==x"), Err(8));
        assert_eq!(b64_decode(b"Y"), Err(0));
        assert_eq!(b64_decode(b"YWJjZA="), Err(7));
        assert_eq!(b64_decode(b"YQ"), Err(0));
    }

    #[test]
    fn base32_matches_go() {
        assert_eq!(b32_encode(b"abc"), "MFRGG===");
        assert_eq!(b32_decode(b"MFRGG==="), Ok(b"abc".to_vec()));
        assert_eq!(b32_decode(b"MFRGG"), Err(0));
        assert_eq!(b32_decode(b"MFRGG=="), Err(7));
        assert_eq!(b32_decode(b"M1RGG==="), Err(1));
        for n in 0..12 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(b32_decode(b32_encode(&data).as_bytes()), Ok(data.clone()));
            assert_eq!(b64_decode(b64_encode(&data).as_bytes()), Ok(data));
        }
    }
}
