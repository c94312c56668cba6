//! Sprig functions: slash paths (`base`, `dir`, `clean`, `ext`, `isAbs`) and OS paths
//! (`osBase`, `osClean`, `osDir`, `osExt`, `osIsAbs`).
//!
//! Ports of Go's `path` package, whose results differ from `std::path` (`base ""` is ".",
//! `dir "a/b/"` is "a/b", `clean` resolves `..` lexically). Helm runs on Linux in the parity
//! target, where `path/filepath` behaves exactly like `path`, so the `os*` forms share the code.

use crate::template::{Func, FuncMap, Param, Sig, Value};

/// Go's `path.Clean`.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let p = path.as_bytes();
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0usize, 0usize);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            // an empty element or a `.` element
            r += 1;
        } else if p[r] == b'.' && p.get(r + 1) == Some(&b'.') && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Go: w--, then back up while the byte at w is not a slash.
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".into();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `path.Base`.
pub(crate) fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Go's `path.Dir`.
pub(crate) fn dir(path: &str) -> String {
    let d = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    clean(d)
}

/// Go's `path.Ext`.
pub(crate) fn ext(path: &str) -> String {
    for (i, c) in path.bytes().enumerate().rev() {
        if c == b'/' {
            break;
        }
        if c == b'.' {
            return path[i..].to_string();
        }
    }
    String::new()
}

pub fn register(m: &mut FuncMap) {
    type PathFn = fn(&str) -> String;
    let fns: [(&str, &str, PathFn); 4] = [
        ("base", "osBase", base),
        ("dir", "osDir", dir),
        ("clean", "osClean", clean),
        ("ext", "osExt", ext),
    ];
    for (name, os_name, f) in fns {
        for n in [name, os_name] {
            m.insert(
                n.into(),
                Func::pure(Sig::fixed(&[Param::String]), move |a| {
                    Ok(Value::str(f(a[0].as_str().unwrap_or(""))))
                }),
            );
        }
    }
    for n in ["isAbs", "osIsAbs"] {
        m.insert(
            n.into(),
            Func::pure(Sig::fixed(&[Param::String]), |a| {
                Ok(Value::Bool(a[0].as_str().unwrap_or("").starts_with('/')))
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expectations: Go's path package documentation examples and helm 4.1.4 renders.
    #[test]
    fn path_functions_match_go() {
        assert_eq!(clean("a//b/../c/./d/"), "a/c/d");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a/.."), "../..");
        assert_eq!(clean(""), ".");
        assert_eq!(base(""), ".");
        assert_eq!(base("///"), "/");
        assert_eq!(base("a/b/"), "b");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(dir("abc"), ".");
        assert_eq!(dir("/"), "/");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(ext("a.d/b"), "");
    }
}
