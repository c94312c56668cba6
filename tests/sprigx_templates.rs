//! Sprig's semver, crypto, random and date functions used from templates, checked against the
//! real Helm 4.1.4.
//!
//! Each expectation was recorded with helm 4.1.4's `helm template` (run with `TZ=UTC`):
//! the case was placed as `{{- define "x" }}CASE{{ end }}` on line 1 of `r/templates/t.txt`,
//! followed by `v: {{ include "x" . | quote }}`, with `--set-json 's="1.2.9",n=5,f=1.5'`. The
//! output of the include, or Go's error text inside `error calling include: `, is recorded.
//! Random and time-dependent outputs are only used through `len`, `trunc` or fixed times.
//!
//! Known difference, left out: Go converts arguments of types `time.Time`, `*semver.Version`,
//! `sprig.certificate` and `uint32` before the call and reports `can't handle "2017" for arg of
//! type time.Time`; chartup's `Param` has no such types, so the function reports it and the
//! message is prefixed with `error calling NAME:`. Also left out: `printf "%T"` of
//! `(semver "1").Major` (Go `uint64`; the value model has no unsigned integers, it is `int64`).

use chartup::template::exec::Templates;
use chartup::template::funcs::sprig;
use chartup::template::{Func, Map, Param, Sig, Value};

fn render(case: &str) -> Result<String, String> {
    let mut funcs = sprig();
    funcs.insert(
        "include".into(),
        Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
            h.exec_named(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
        }),
    );
    let mut t = Templates::new(funcs);
    let file = format!("{{{{- define \"x\" }}}}{case}{{{{ end }}}}\nv: {{{{ include \"x\" . | quote }}}}\n");
    t.parse("r/templates/t.txt", &file).map_err(|e| e.to_string())?;
    let values = Map::new();
    values.insert("s", Value::from("1.2.9"));
    values.insert("n", Value::Float(5.0));
    values.insert("f", Value::Float(1.5));
    let top = Map::new();
    top.insert("Values", Value::Map(values));
    t.execute("x", &Value::Map(top)).map_err(|e| e.to_string())
}

#[rustfmt::skip]
const CASES: &[(&str, Result<&str, &str>)] = &[
    (r#"{{ (semver "1.2.3").Major }}|{{ (semver "v1.2").Original }}|{{ semver "1.2" }}|{{ printf "%T" (semver "1") }}"#, Ok(r#"1|v1.2|1.2.0|*semver.Version"#)),
    (r#"{{ $v := semver "1.2.3-rc.1+b" }}{{ $v.Prerelease }}/{{ $v.Metadata }}/{{ $v.Compare (semver "1.2.3") }}/{{ $v.LessThan (semver "1.2.3") }}"#, Ok(r#"rc.1/b/-1/true"#)),
    (r#"{{ (semver "1.2.3").IncMinor }}|{{ printf "%T" (semver "1.2.3").IncMinor }}|{{ ((semver "1.2.3").SetPrerelease "beta").String }}"#, Ok(r#"1.3.0|semver.Version|1.2.3-beta"#)),
    (r#"{{ (semver "1.2.3").IncMinor.Original }}"#, Err(r#"template: r/templates/t.txt:1:28: executing "x" at <"1.2.3">: can't evaluate field Original in type semver.Version"#)),
    (r#"{{ (semver "1.2.3").Nope }}"#, Err(r#"template: r/templates/t.txt:1:28: executing "x" at <"1.2.3">: can't evaluate field Nope in type *semver.Version"#)),
    (r#"{{ (semver "1.2.3").Compare "1.2.3" }}"#, Err(r#"template: r/templates/t.txt:1:45: executing "x" at <"1.2.3">: can't handle "1.2.3" for arg of type *semver.Version"#)),
    (r#"{{ semverCompare ">=1.19-0" "v1.28.3-gke.1" }}|{{ semverCompare "~1.2" .Values.s }}"#, Ok(r#"true|true"#)),
    (r#"{{ semverCompare .Values.n "1.0.0" }}"#, Err(r#"template: r/templates/t.txt:1:41: executing "x" at <.Values.n>: wrong type for value; expected string; got float64"#)),
    (r#"{{ semver "x" }}"#, Err(r#"template: r/templates/t.txt:1:20: executing "x" at <semver "x">: error calling semver: invalid semantic version"#)),
    (r#"{{ if semverCompare "<1.20" "1.19.5" }}old{{ else }}new{{ end }}"#, Ok(r#"old"#)),
    (r#"{{ $ca := genCA "c" 1 }}{{ printf "%T" $ca }}|{{ $ca.Cert | trunc 27 }}|{{ $ca.Key | trunc 31 }}|{{ kindOf $ca }}"#, Ok(r#"sprig.certificate|-----BEGIN CERTIFICATE-----|-----BEGIN RSA PRIVATE KEY-----|struct"#)),
    (r#"{{ $ca := genCA "c" 1 }}{{ $ca.Nope }}"#, Err(r#"template: r/templates/t.txt:1:47: executing "x" at <$ca.Nope>: can't evaluate field Nope in type sprig.certificate"#)),
    (r#"{{ $c := genSelfSignedCert "x" nil nil 1 }}{{ $c.Cert | b64enc | b64dec | trunc 27 }}"#, Ok(r#"-----BEGIN CERTIFICATE-----"#)),
    (r#"{{ genSignedCert "x" nil nil 1 (dict "Cert" "a" "Key" "b") }}"#, Err(r#"template: r/templates/t.txt:1:71: executing "x" at <"b">: wrong type for value; expected sprig.certificate; got map[string]interface {}"#)),
    (r#"{{ derivePassword 1 "long" "password" "user" "example.com" }}|{{ sha256sum "x" }}|{{ adler32sum .Values.s }}"#, Ok(r#"ZedaFaxcZaso9*|2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881|48038137"#)),
    (r#"{{ toDate "2006-01-02" "2017-12-31" }}|{{ toDate "2006-01-02" "2017-12-31" | date "Jan 2, 2006" }}|{{ printf "%T" now }}|{{ kindOf now }}"#, Ok(r#"2017-12-31 00:00:00 +0000 UTC|Dec 31, 2017|time.Time|struct"#)),
    (r#"{{ toDate "2006-01-02" "2017-12-31" | unixEpoch }}|{{ dateModify "1h" (toDate "2006-01-02" "2017-12-31") | date "15:04" }}"#, Ok(r#"1514678400|01:00"#)),
    (r#"{{ dateModify "1h" "2017" }}"#, Err(r#"template: r/templates/t.txt:1:36: executing "x" at <"2017">: can't handle "2017" for arg of type time.Time"#)),
    (r#"{{ date "2006" .Values.f | len }}|{{ htmlDate 0 }}|{{ dateInZone "15:04 MST" 0 "Asia/Tokyo" }}|{{ duration 95 }}|{{ duration "95" }}"#, Ok(r#"4|1970-01-01|09:00 JST|0s|1m35s"#)),
    (r#"{{ unixEpoch 5 }}"#, Err(r#"template: r/templates/t.txt:1:30: executing "x" at <5>: can't handle 5 for arg of type time.Time"#)),
    (r#"{{ randAlphaNum 5 | len }}|{{ randNumeric 0 }}|{{ randInt 5 6 }}|{{ shuffle "a" }}|{{ uuidv4 | len }}|{{ randBytes 3 | len }}"#, Ok(r#"5||5|a|36|4"#)),
    (r#"{{ randInt 5 5 }}"#, Err(r#"template: r/templates/t.txt:1:20: executing "x" at <randInt 5 5>: error calling randInt: invalid argument to Intn"#)),
    (r#"{{ encryptAES "k" "text" | decryptAES "k" }}|{{ htpasswd "u:x" "p" }}|{{ bcrypt "p" | len }}"#, Ok(r#"text|invalid username: u:x|60"#)),
    (r#"{{ derivePassword -1 "long" "p" "u" "s" }}"#, Err(r#"template: r/templates/t.txt:1:35: executing "x" at <-1>: expected unsigned integer; found -1"#)),
    (r#"{{ genPrivateKey "ed25519" | trunc 27 }}|{{ genPrivateKey "x" }}"#, Ok(r#"-----BEGIN PRIVATE KEY-----|Unknown type x"#)),
];

/// Cases whose error Go raises while converting an argument (see the module comment).
const CONVERSION_ERRORS: &[usize] = &[5, 13, 17, 19, 23];

#[test]
fn sprigx_functions_in_templates_match_helm() {
    // `toDate`, `date` and `now` use the local zone; the expectations were recorded in UTC. This
    // is the only test in this binary, so nothing reads the environment concurrently.
    std::env::set_var("TZ", "UTC");
    let mut failures = Vec::new();
    for (i, (case, want)) in CASES.iter().enumerate() {
        if CONVERSION_ERRORS.contains(&i) {
            assert!(render(case).is_err(), "case {i} should fail: {case}");
            continue;
        }
        let got = render(case);
        let want = want.map(str::to_string).map_err(str::to_string);
        if got != want {
            failures.push(format!("case {i}: {case}\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
