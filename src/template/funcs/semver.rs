//! Sprig functions: `semver` and `semverCompare`, on Masterminds/semver rules ([`crate::version`]).
//!
//! `semver` returns Go's `*semver.Version`, whose methods templates call: `(semver "1.2.3").Major`,
//! `.Compare`, `.IncPatch`. Go only reaches pointer-receiver methods (`Original`, `Compare`,
//! `LessThan`…) through the pointer that `semver` returns; the `Version` values returned by
//! `IncPatch` and friends lack them (`can't evaluate field Original in type semver.Version`), so
//! the object remembers which of the two it is.

use std::rc::Rc;

use crate::template::{Func, FuncMap, Member, Object, Param, Sig, Value};
use crate::version::{Constraints, Version};

/// A method body of a template object.
type MethodFn = Rc<dyn Fn(&[Value]) -> Result<Value, String>>;

/// A Masterminds version as a template object: `*semver.Version` or `semver.Version`.
pub struct SemverObject {
    pub version: Version,
    /// True for `*semver.Version` (from `semver`), false for a `semver.Version` value.
    pub pointer: bool,
}

impl SemverObject {
    fn value(v: Version, pointer: bool) -> Value {
        Value::Object(Rc::new(SemverObject { version: v, pointer }))
    }
}

fn go_type(v: &Value) -> String {
    v.type_name()
}

/// The `*semver.Version` argument of `Compare`, `LessThan`…
fn version_arg(args: &[Value]) -> Result<Version, String> {
    if args.len() != 1 {
        return Err(format!("wrong number of args: got {} want 1", args.len()));
    }
    if let Value::Object(o) = &args[0] {
        if o.type_name() == "*semver.Version" {
            if let Some(Member::Method(f)) = o.member("String") {
                let s = f(&[])?;
                return Version::parse(s.as_str().unwrap_or("")).map_err(|e| e.to_string());
            }
        }
    }
    Err(format!(
        "wrong type for value; expected *semver.Version; got {}",
        go_type(&args[0])
    ))
}

fn string_arg(args: &[Value]) -> Result<String, String> {
    match args {
        [Value::String(s)] => Ok(s.to_string()),
        [other] => Err(format!("wrong type for value; expected string; got {}", go_type(other))),
        _ => Err(format!("wrong number of args: got {} want 1", args.len())),
    }
}

impl Object for SemverObject {
    fn type_name(&self) -> String {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
        .to_string()
    }

    fn kind(&self) -> &'static str {
        if self.pointer {
            "ptr"
        } else {
            "struct"
        }
    }

    fn member(&self, name: &str) -> Option<Member> {
        let v = self.version.clone();
        let method = |f: MethodFn| Some(Member::Method(f));
        // Methods with value receivers, reachable on both forms.
        let m = match name {
            "String" => return method(Rc::new(move |_| Ok(Value::from(v.to_string())))),
            // uint64 in Go; Value has no unsigned integer, int64 prints the same.
            "Major" => return method(Rc::new(move |_| Ok(Value::Int64(v.major() as i64)))),
            "Minor" => return method(Rc::new(move |_| Ok(Value::Int64(v.minor() as i64)))),
            "Patch" => return method(Rc::new(move |_| Ok(Value::Int64(v.patch() as i64)))),
            "Prerelease" => return method(Rc::new(move |_| Ok(Value::from(v.prerelease())))),
            "Metadata" => return method(Rc::new(move |_| Ok(Value::from(v.metadata())))),
            "IncPatch" => return method(Rc::new(move |_| Ok(SemverObject::value(v.inc_patch(), false)))),
            "IncMinor" => return method(Rc::new(move |_| Ok(SemverObject::value(v.inc_minor(), false)))),
            "IncMajor" => return method(Rc::new(move |_| Ok(SemverObject::value(v.inc_major(), false)))),
            "SetPrerelease" => Rc::new(move |a: &[Value]| {
                let p = string_arg(a)?;
                v.set_prerelease(&p)
                    .map(|n| SemverObject::value(n, false))
                    .map_err(|e| e.to_string())
            }) as MethodFn,
            "SetMetadata" => Rc::new(move |a: &[Value]| {
                let p = string_arg(a)?;
                v.set_metadata(&p)
                    .map(|n| SemverObject::value(n, false))
                    .map_err(|e| e.to_string())
            }),
            _ if !self.pointer => return None,
            // Pointer-receiver methods.
            "Original" => Rc::new(move |_: &[Value]| Ok(Value::from(v.original()))),
            "Compare" => Rc::new(move |a: &[Value]| Ok(Value::Int(v.compare(&version_arg(a)?) as i64))),
            "LessThan" => Rc::new(move |a: &[Value]| Ok(Value::Bool(v < version_arg(a)?))),
            "LessThanEqual" => Rc::new(move |a: &[Value]| Ok(Value::Bool(v <= version_arg(a)?))),
            "GreaterThan" => Rc::new(move |a: &[Value]| Ok(Value::Bool(v > version_arg(a)?))),
            "GreaterThanEqual" => Rc::new(move |a: &[Value]| Ok(Value::Bool(v >= version_arg(a)?))),
            "Equal" => Rc::new(move |a: &[Value]| Ok(Value::Bool(v == version_arg(a)?))),
            _ => return None,
        };
        method(m)
    }

    fn fmt_v(&self) -> String {
        // Both forms implement fmt.Stringer.
        self.version.to_string()
    }
}

/// Sprig `semverCompare`: parse errors are Masterminds' texts.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint).map_err(|e| e.to_string())?;
    let v = Version::parse(version).map_err(|e| e.to_string())?;
    Ok(c.matches(&v))
}

pub fn register(m: &mut FuncMap) {
    m.insert(
        "semver".into(),
        Func::pure(Sig::fixed(&[Param::String]), |a: &[Value]| {
            let v = Version::parse(a[0].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
            Ok(SemverObject::value(v, true))
        }),
    );
    m.insert(
        "semverCompare".into(),
        Func::pure(Sig::fixed(&[Param::String, Param::String]), |a: &[Value]| {
            semver_compare(a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or("")).map(Value::Bool)
        }),
    );
}

#[cfg(test)]
mod tests {
    //! Expected values come from `helm template` (Helm 4.1.4) on the same calls.
    use super::*;
    use crate::template::funcs::random::tests::call;

    fn funcs() -> FuncMap {
        let mut m = FuncMap::new();
        register(&mut m);
        m
    }

    fn method(v: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
        let Value::Object(o) = v else { panic!("not an object") };
        match o.member(name) {
            Some(Member::Method(f)) => f(args),
            _ => Err(format!("no member {name}")),
        }
    }

    fn text(v: Value) -> String {
        match v {
            Value::String(s) => s.to_string(),
            Value::Object(o) => o.fmt_v(),
            Value::Int(i) | Value::Int64(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn semver_compare_matches_helm() {
        let m = funcs();
        let cases = [
            (">=1.19-0", "v1.28.3-gke.1", true),
            (">=1.19", "v1.28.3-gke.1", false),
            ("^1.2", "1.9.0", true),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("*", "1.2.3", true),
            (">1.x-0", "1.2.3-1", false),
        ];
        for (c, v, want) in cases {
            let got = call(&m, "semverCompare", &[Value::from(c), Value::from(v)]).unwrap();
            assert!(matches!(got, Value::Bool(b) if b == want), "{c} {v}");
        }
        let errs = [
            ("", "1.0.0", "improper constraint: "),
            (">= bar", "1.0.0", "improper constraint: >= bar"),
            (">=1", "1.0.0.0", "invalid semantic version"),
            (">=1", "", "invalid semantic version"),
            ("a || >1", "1.2.3", "improper constraint: a "),
            ("=1x", "1.2.3", "constraint parser error"),
        ];
        for (c, v, want) in errs {
            assert_eq!(
                call(&m, "semverCompare", &[Value::from(c), Value::from(v)]).unwrap_err(),
                want
            );
        }
    }

    /// 1500 random constraint/version pairs and helm's verdict or error for each.
    #[test]
    fn semver_compare_corpus_matches_helm() {
        let m = funcs();
        let corpus = include_str!("testdata/semver-helm.tsv");
        let mut n = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split('\t');
            let (c, v, want) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let got = match call(&m, "semverCompare", &[Value::from(c), Value::from(v)]) {
                Ok(Value::Bool(b)) => b.to_string(),
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("ERR {e}"),
            };
            assert_eq!(got, want, "semverCompare {c:?} {v:?}");
            n += 1;
        }
        assert_eq!(n, 1500);
    }

    #[test]
    fn semver_object_matches_helm() {
        let m = funcs();
        let sv = |s: &str| call(&m, "semver", &[Value::from(s)]).unwrap();
        assert_eq!(text(sv("v1.2.3-beta.1+b5")), "1.2.3-beta.1+b5");
        assert_eq!(sv("1.2").type_name(), "*semver.Version");
        assert_eq!(text(sv("1.2")), "1.2.0");
        let v = sv("1.2.3");
        let got: Vec<String> = ["Major", "Minor", "Patch"]
            .iter()
            .map(|n| text(method(&v, n, &[]).unwrap()))
            .collect();
        assert_eq!(got, ["1", "2", "3"]);
        assert_eq!(text(method(&sv("1.2.3-rc.1"), "Prerelease", &[]).unwrap()), "rc.1");
        assert_eq!(text(method(&sv("1.2.3+m"), "Metadata", &[]).unwrap()), "m");
        assert_eq!(text(method(&sv("v1.2"), "Original", &[]).unwrap()), "v1.2");
        let other = sv("1.3.0");
        assert_eq!(text(method(&v, "Compare", std::slice::from_ref(&other)).unwrap()), "-1");
        assert_eq!(
            text(method(&v, "LessThan", std::slice::from_ref(&other)).unwrap()),
            "true"
        );
        assert_eq!(text(method(&v, "GreaterThan", &[other]).unwrap()), "false");
        assert_eq!(text(method(&v, "Equal", &[sv("1.2.3+x")]).unwrap()), "true");
        let inc = method(&sv("v1.2.3"), "IncPatch", &[]).unwrap();
        assert_eq!(text(inc.clone()), "1.2.4");
        // A semver.Version value has no pointer methods.
        assert!(method(&inc, "Original", &[]).is_err());
        assert_eq!(text(method(&sv("v1.2.3"), "IncMinor", &[]).unwrap()), "1.3.0");
        assert_eq!(text(method(&v, "IncMajor", &[]).unwrap()), "2.0.0");
        assert_eq!(
            method(&v, "SetPrerelease", &[Value::from("01")]).unwrap_err(),
            "version segment starts with 0"
        );
        assert_eq!(
            call(&m, "semver", &[Value::from("1.2.3-01")]).unwrap_err(),
            "version segment starts with 0"
        );
    }
}
