//! Placeholders for the keys of a side that is only compared, never applied (issue 16).
//!
//! An offline plan (`chartup plan --from CHART --to CHART`) renders its old side only to diff it
//! against the new one. A key or certificate that `genCA`, `genSignedCert`, `genSelfSignedCert`
//! or `genPrivateKey` makes is new on every render, so the old side's would only ever be
//! compared with another random key: "changed" whatever its bytes. RSA (and DSA) keys are the one
//! costly thing a render does (a prime search of ≈ 20 ms per RSA-2048 key), so that side gets a
//! placeholder instead: PEM armour of Sprig's block type around [`PLACEHOLDER_MARK`], which the
//! plan shows in words (`crate::diff`). Anything made from a placeholder is a placeholder;
//! ECDSA and Ed25519 keys cost microseconds and stay real. The arguments are checked as the real
//! functions check them (IP addresses, DNS names, a given CA or key that does not parse, in
//! Sprig's order), so an old side that fails to render still fails, with the same words.
//!
//! Only `crate::render::RenderOptions::placeholder_keys` turns this on; `chartup template`, the
//! new side of every plan and every render that is applied mint real keys.

use super::{
    b64, certificate_checks, dns_encodable, dns_names, gen_ca, gen_self_signed, gen_signed, i, net_ips,
    parse_private_key_pem, pem_decode, s, signer_of, with_pem_key, Certificate, KeyView,
};
use std::cell::Cell;
use std::rc::Rc;

use crate::template::exec::Templates;
use crate::template::{Func, FuncMap, Param, Sig, Value};
use base64::Engine;

/// The line inside a placeholder's PEM armour; `crate::diff` recognises it (also base64-encoded)
/// and prints what it means instead.
pub const PLACEHOLDER_MARK: &str =
    "chartup-placeholder: not generated for the old side of a chart-to-chart plan (new on every render)";

/// Whether a text holds a placeholder (a PEM block, or anything a template built around one).
pub fn is_placeholder(text: &str) -> bool {
    text.contains(PLACEHOLDER_MARK)
}

/// Makes placeholders and remembers that it did, so a render that made none is planned as
/// usual (the diff then has nothing to explain, and does not look).
#[derive(Clone, Default)]
struct Maker(Rc<Cell<bool>>);

impl Maker {
    fn armour(&self, kind: &str) -> String {
        self.0.set(true);
        format!("-----BEGIN {kind}-----\n{PLACEHOLDER_MARK}\n-----END {kind}-----\n")
    }
}

/// Replace the key-making functions of a template set with their placeholder forms; the cell
/// turns true when one of them made a placeholder.
pub fn register(t: &mut Templates) -> Rc<Cell<bool>> {
    let maker = Maker::default();
    for (name, f) in funcs(&maker) {
        t.add_func(&name, f);
    }
    maker.0
}

/// A placeholder key as the certificate checks see it.
fn view(pem: &str) -> KeyView<'static> {
    KeyView::Placeholder {
        dsa: pem.starts_with("-----BEGIN DSA PRIVATE KEY-----"),
    }
}

const RSA: KeyView<'static> = KeyView::Placeholder { dsa: false };

/// A placeholder certificate for `days`, checked as the real one would be before signing: the
/// subject key `signee`, signed by `signer` (the parent's key when `parent` is a real CA).
fn placeholder_cert(
    maker: &Maker,
    days: i64,
    dns: &[String],
    signee: &KeyView,
    parent: Option<&super::ParsedCert>,
    signer: &KeyView,
    key: String,
) -> Result<Value, String> {
    certificate_checks(days, signee, parent, signer)?;
    dns_encodable(dns)?;
    Ok(Certificate {
        cert: maker.armour("CERTIFICATE"),
        key,
    }
    .into_value())
}

/// `generateSignedCertificate*` with `a` = (CN, IPs, DNS names, days, …) and a placeholder
/// somewhere: a real CA is read first, as Sprig reads it, then the names, then what creating the
/// certificate checks.
fn signed_by(m: &Maker, a: &[Value], ca: &Certificate, signee: &KeyView, key: String) -> Result<Value, String> {
    let real_ca = if is_placeholder(&ca.cert) || is_placeholder(&ca.key) {
        None
    } else {
        Some(signer_of(ca)?)
    };
    net_ips(&a[1])?;
    let dns = dns_names(&a[2])?;
    match &real_ca {
        Some((parent, signer)) => {
            placeholder_cert(m, i(&a[3]), &dns, signee, Some(parent), &KeyView::Real(signer), key)
        }
        None => placeholder_cert(m, i(&a[3]), &dns, signee, None, &view(&ca.key), key),
    }
}

/// The placeholder forms, by Sprig name. Each checks what the real one checks, in its order.
fn funcs(maker: &Maker) -> FuncMap {
    use Param::{Int, List, String as Str};
    let mut t = FuncMap::new();
    let m = maker.clone();
    t.insert(
        "genPrivateKey".into(),
        Func::pure(Sig::fixed(&[Str]), move |a: &[Value]| {
            Ok(Value::from(match s(&a[0]) {
                "" | "rsa" => m.armour("RSA PRIVATE KEY"),
                "dsa" => m.armour("DSA PRIVATE KEY"),
                other => super::generate_private_key(other),
            }))
        }),
    );
    let m = maker.clone();
    t.insert(
        "genCA".into(),
        Func::pure(Sig::fixed(&[Str, Int]), move |a: &[Value]| {
            placeholder_cert(&m, i(&a[1]), &[], &RSA, None, &RSA, m.armour("RSA PRIVATE KEY"))
        }),
    );
    let m = maker.clone();
    t.insert(
        "genCAWithKey".into(),
        Func::pure(Sig::fixed(&[Str, Int, Str]), move |a: &[Value]| {
            let key = s(&a[2]);
            if !is_placeholder(key) {
                return gen_ca(s(&a[0]), i(&a[1]), with_pem_key(key)?).map(Certificate::into_value);
            }
            placeholder_cert(&m, i(&a[1]), &[], &view(key), None, &view(key), key.to_string())
        }),
    );
    let m = maker.clone();
    t.insert(
        "genSelfSignedCert".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int]), move |a: &[Value]| {
            net_ips(&a[1])?;
            let dns = dns_names(&a[2])?;
            placeholder_cert(&m, i(&a[3]), &dns, &RSA, None, &RSA, m.armour("RSA PRIVATE KEY"))
        }),
    );
    let m = maker.clone();
    t.insert(
        "genSelfSignedCertWithKey".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int, Str]), move |a: &[Value]| {
            let key = s(&a[4]);
            if !is_placeholder(key) {
                let key = with_pem_key(key)?;
                return gen_self_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), key).map(Certificate::into_value);
            }
            net_ips(&a[1])?;
            let dns = dns_names(&a[2])?;
            placeholder_cert(&m, i(&a[3]), &dns, &view(key), None, &view(key), key.to_string())
        }),
    );
    let m = maker.clone();
    t.insert(
        "genSignedCert".into(),
        Func::pure(Sig::fixed(&[Str, List, List, Int, Param::Any]), move |a: &[Value]| {
            let ca = Certificate::from_value(&a[4])?;
            signed_by(&m, a, &ca, &RSA, m.armour("RSA PRIVATE KEY"))
        }),
    );
    let m = maker.clone();
    t.insert(
        "genSignedCertWithKey".into(),
        Func::pure(
            Sig::fixed(&[Str, List, List, Int, Param::Any, Str]),
            move |a: &[Value]| {
                let ca = Certificate::from_value(&a[4])?;
                let key = s(&a[5]);
                let ca_placeholder = is_placeholder(&ca.cert) || is_placeholder(&ca.key);
                if !ca_placeholder && !is_placeholder(key) {
                    let key = with_pem_key(key)?;
                    return gen_signed(s(&a[0]), &a[1], &a[2], i(&a[3]), &ca, key).map(Certificate::into_value);
                }
                // The subject key: read (and printed back) as the real function does, or a placeholder.
                let real_key = if is_placeholder(key) {
                    None
                } else {
                    Some(with_pem_key(key)?)
                };
                let (signee, key_pem) = match &real_key {
                    Some(k) => (
                        KeyView::Real(k),
                        k.to_pem().map_err(|e| format!("error pem-encoding key: {e}"))?,
                    ),
                    None => (view(key), key.to_string()),
                };
                signed_by(&m, a, &ca, &signee, key_pem)
            },
        ),
    );
    // Passes placeholders through: any it returns were made (and counted) before.
    t.insert(
        "buildCustomCert".into(),
        Func::pure(Sig::fixed(&[Str, Str]), move |a: &[Value]| {
            let decode = |text: &str, what: &str| {
                b64()
                    .decode(text)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .map_err(|_| format!("unable to decode base64 {what}"))
            };
            let crt = decode(s(&a[0]), "certificate")?;
            let key = decode(s(&a[1]), "private key")?;
            if !is_placeholder(&crt) && !is_placeholder(&key) {
                return super::build_custom_cert(s(&a[0]), s(&a[1])).map(Certificate::into_value);
            }
            if !is_placeholder(&crt) {
                let (_, der) = pem_decode(&crt).ok_or("unable to decode certificate")?;
                super::parse_certificate(&der)
                    .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
            }
            if !is_placeholder(&key) {
                parse_private_key_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
            }
            Ok(Certificate { cert: crt, key }.into_value())
        }),
    );
    t
}

#[cfg(test)]
mod tests {
    //! The real functions (`super::super::register`, checked against helm in crypto.rs) are the
    //! reference: a placeholder form fails where they fail, with their words, and is real
    //! wherever no RSA or DSA key is to be made.
    use super::*;
    use crate::template::funcs::random::tests::call;

    fn real() -> FuncMap {
        let mut m = FuncMap::new();
        super::super::register(&mut m);
        m
    }

    fn text(v: Value) -> String {
        v.as_str().expect("a string").to_string()
    }

    fn parts(v: &Value) -> (String, String) {
        let c = Certificate::from_value(v).expect("a sprig.certificate");
        (c.cert, c.key)
    }

    fn strs(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::from(*s)).collect())
    }

    #[test]
    fn placeholders_stand_in_for_rsa_keys_and_what_is_made_from_them() {
        let (p, r) = (funcs(&Maker::default()), real());
        for (kind, block) in [
            ("", "RSA PRIVATE KEY"),
            ("rsa", "RSA PRIVATE KEY"),
            ("dsa", "DSA PRIVATE KEY"),
        ] {
            let key = text(call(&p, "genPrivateKey", &[Value::from(kind)]).unwrap());
            assert!(is_placeholder(&key), "{kind}: {key}");
            assert!(key.starts_with(&format!("-----BEGIN {block}-----\n")), "{key}");
            assert!(key.ends_with(&format!("-----END {block}-----\n")), "{key}");
        }
        // Cheap keys stay real; an unknown type reads as Sprig words it.
        for kind in ["ecdsa", "ed25519"] {
            let key = text(call(&p, "genPrivateKey", &[Value::from(kind)]).unwrap());
            parse_private_key_pem(&key).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
        assert_eq!(
            text(call(&p, "genPrivateKey", &[Value::from("foo")]).unwrap()),
            text(call(&r, "genPrivateKey", &[Value::from("foo")]).unwrap())
        );

        let ca = call(&p, "genCA", &[Value::from("ca"), Value::Int(365)]).unwrap();
        let (cert, key) = parts(&ca);
        assert!(is_placeholder(&cert) && cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(is_placeholder(&key) && key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let ips = strs(&["10.0.0.1"]);
        let dns = strs(&["a.example"]);
        let signed = call(
            &p,
            "genSignedCert",
            &[Value::from("a"), ips.clone(), dns.clone(), Value::Int(3), ca.clone()],
        );
        let (cert, key) = parts(&signed.unwrap());
        assert!(is_placeholder(&cert) && is_placeholder(&key));
        let self_signed = call(
            &p,
            "genSelfSignedCert",
            &[Value::from("s"), ips.clone(), dns.clone(), Value::Int(3)],
        );
        assert!(is_placeholder(&parts(&self_signed.unwrap()).0));

        // A real ECDSA key signed by a placeholder CA: the key comes back real (re-encoded, as
        // the real function does), the certificate is a placeholder.
        let ec = text(call(&r, "genPrivateKey", &[Value::from("ecdsa")]).unwrap());
        let args = [
            Value::from("e"),
            ips.clone(),
            dns.clone(),
            Value::Int(3),
            ca.clone(),
            Value::from(ec.as_str()),
        ];
        let (cert, key) = parts(&call(&p, "genSignedCertWithKey", &args).unwrap());
        assert!(is_placeholder(&cert));
        assert_eq!(key, with_pem_key(&ec).unwrap().to_pem().unwrap());
        // With real inputs only, the real function runs: a real certificate.
        let real_ca = call(
            &p,
            "genCAWithKey",
            &[Value::from("ec-ca"), Value::Int(3), Value::from(ec.as_str())],
        )
        .unwrap();
        let (cert, _) = parts(&real_ca);
        let (block, der) = pem_decode(&cert).expect("a PEM certificate");
        assert_eq!(block, "CERTIFICATE");
        super::super::parse_certificate(&der).unwrap_or_else(|e| panic!("{e}"));
        let args = [
            Value::from("e"),
            ips.clone(),
            dns.clone(),
            Value::Int(3),
            real_ca,
            Value::from(ec.as_str()),
        ];
        assert!(!is_placeholder(
            &parts(&call(&p, "genSignedCertWithKey", &args).unwrap()).0
        ));

        // Placeholder keys given to the *WithKey forms and to buildCustomCert stay placeholders.
        let rsa = text(call(&p, "genPrivateKey", &[Value::from("rsa")]).unwrap());
        let with = call(
            &p,
            "genCAWithKey",
            &[Value::from("c"), Value::Int(3), Value::from(rsa.as_str())],
        )
        .unwrap();
        assert_eq!(parts(&with).1, rsa);
        assert!(is_placeholder(&parts(&with).0));
        let args = [
            Value::from("s"),
            ips.clone(),
            dns.clone(),
            Value::Int(3),
            Value::from(rsa.as_str()),
        ];
        assert!(is_placeholder(
            &parts(&call(&p, "genSelfSignedCertWithKey", &args).unwrap()).0
        ));
        let (c, k) = parts(&ca);
        let built = call(
            &p,
            "buildCustomCert",
            &[Value::from(b64().encode(&c)), Value::from(b64().encode(&k))],
        );
        assert_eq!(parts(&built.unwrap()), (c, k));
    }

    #[test]
    fn placeholder_forms_fail_where_the_real_functions_fail_in_their_words() {
        let (p, r) = (funcs(&Maker::default()), real());
        let ca = call(&p, "genCA", &[Value::from("ca"), Value::Int(365)]).unwrap();
        let ec = text(call(&r, "genPrivateKey", &[Value::from("ecdsa")]).unwrap());
        let real_ca = call(
            &r,
            "genCAWithKey",
            &[Value::from("ec-ca"), Value::Int(3), Value::from(ec.as_str())],
        )
        .unwrap();
        let bad_ca = Certificate {
            cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            key: ec.clone(),
        }
        .into_value();
        let (ok_ips, ok_dns) = (strs(&["10.0.0.1"]), strs(&["a"]));
        let bad_ips = strs(&["10.0.0.300"]);
        let bad_dns = Value::list(vec![Value::Int(7)]);
        let uni_dns = strs(&["bücher.example"]);
        // Argument lists: (name, IPs, DNS names, days) then a CA and/or a key.
        let head = |ips: &Value, dns: &Value| vec![Value::from("a"), ips.clone(), dns.clone(), Value::Int(1)];
        let with = |mut args: Vec<Value>, more: &[&Value]| {
            args.extend(more.iter().map(|v| (*v).clone()));
            args
        };
        let (junk, ec_v) = (Value::from("junk"), Value::from(ec.as_str()));
        let cases: Vec<(&str, Vec<Value>)> = vec![
            ("genSelfSignedCert", head(&bad_ips, &ok_dns)),
            ("genSelfSignedCert", head(&ok_ips, &bad_dns)),
            ("genSignedCert", with(head(&bad_ips, &ok_dns), &[&real_ca])),
            ("genSignedCert", with(head(&ok_ips, &ok_dns), &[&Value::from("x")])),
            ("genSignedCert", with(head(&ok_ips, &ok_dns), &[&bad_ca])),
            ("genCAWithKey", vec![Value::from("c"), Value::Int(1), junk.clone()]),
            ("genSelfSignedCertWithKey", with(head(&ok_ips, &ok_dns), &[&junk])),
            ("genSignedCertWithKey", with(head(&ok_ips, &ok_dns), &[&bad_ca, &ec_v])),
            (
                "genSignedCertWithKey",
                with(head(&ok_ips, &bad_dns), &[&real_ca, &ec_v]),
            ),
            ("buildCustomCert", vec![Value::from("%%%"), Value::from("")]),
            (
                "buildCustomCert",
                vec![Value::from(b64().encode("junk")), Value::from(b64().encode(&ec))],
            ),
        ];
        // What creating the certificate refuses: a validity past year 9999, a DSA key as signer
        // or as subject (a DSA key that parses: six integers), a CA whose key is not its own.
        let far = Value::Int(4_000_000);
        let dsa = super::super::pem_encode(
            "DSA PRIVATE KEY",
            &super::super::der::seq(&(1..=6).map(|n| super::super::der::uint(&[n])).collect::<Vec<_>>()),
        );
        let (dsa_v, dsa_p) = (
            Value::from(dsa.as_str()),
            call(&p, "genPrivateKey", &[Value::from("dsa")]).unwrap(),
        );
        let rsa_p = call(&p, "genPrivateKey", &[Value::from("rsa")]).unwrap();
        let other = text(call(&r, "genPrivateKey", &[Value::from("ecdsa")]).unwrap());
        let (real_cert, _) = parts(&real_ca);
        let mismatched = Certificate {
            cert: real_cert.clone(),
            key: other,
        }
        .into_value();
        let signed = |days: &Value, ca: &Value, key: &Value| {
            vec![
                Value::from("a"),
                ok_ips.clone(),
                ok_dns.clone(),
                days.clone(),
                ca.clone(),
                key.clone(),
            ]
        };
        let refusals: Vec<(&str, Vec<Value>, Vec<Value>)> = vec![
            (
                "genCA",
                vec![Value::from("c"), far.clone()],
                vec![Value::from("c"), far.clone()],
            ),
            (
                "genSignedCert",
                with(head(&ok_ips, &ok_dns)[..3].to_vec(), &[&far, &real_ca]),
                with(head(&ok_ips, &ok_dns)[..3].to_vec(), &[&far, &real_ca]),
            ),
            (
                "genCAWithKey",
                vec![Value::from("c"), Value::Int(1), dsa_v.clone()],
                vec![Value::from("c"), Value::Int(1), dsa_p.clone()],
            ),
            (
                "genSelfSignedCertWithKey",
                with(head(&ok_ips, &ok_dns), &[&dsa_v]),
                with(head(&ok_ips, &ok_dns), &[&dsa_p]),
            ),
            (
                "genSignedCertWithKey",
                signed(&Value::Int(1), &real_ca, &dsa_v),
                signed(&Value::Int(1), &ca, &dsa_p),
            ),
            (
                "genSignedCertWithKey",
                signed(&Value::Int(1), &mismatched, &ec_v),
                signed(&Value::Int(1), &mismatched, &rsa_p),
            ),
            (
                "genSignedCert",
                with(head(&ok_ips, &ok_dns), &[&mismatched]),
                with(head(&ok_ips, &ok_dns), &[&mismatched]),
            ),
            (
                "genSignedCertWithKey",
                signed(&far, &real_ca, &ec_v),
                signed(&far, &ca, &ec_v),
            ),
            // A DNS name that is not ASCII, refused after the key checks (Go's marshalSANs).
            ("genSelfSignedCert", head(&ok_ips, &uni_dns), head(&ok_ips, &uni_dns)),
            (
                "genSignedCert",
                with(head(&ok_ips, &uni_dns), &[&real_ca]),
                with(head(&ok_ips, &uni_dns), &[&ca]),
            ),
        ];
        for (name, real_args, placeholder_args) in &refusals {
            let want = call(&r, name, real_args).expect_err(name);
            assert!(want.starts_with("error creating certificate: "), "{name}: {want}");
            assert_eq!(call(&p, name, placeholder_args).expect_err(name), want, "{name}");
        }
        for (name, args) in &cases {
            let want = call(&r, name, args).expect_err(name);
            assert_eq!(call(&p, name, args).expect_err(name), want, "{name}");
        }
        // And with a placeholder in hand, the other arguments are still checked.
        let real_err = call(&r, "genSignedCert", &with(head(&bad_ips, &ok_dns), &[&real_ca])).expect_err("bad ip");
        let args = with(head(&bad_ips, &ok_dns), &[&ca]);
        assert_eq!(call(&p, "genSignedCert", &args).expect_err("bad ip"), real_err);
        // A placeholder certificate with a key that is not one: the key is still read.
        let (c, _) = parts(&ca);
        let built = call(
            &p,
            "buildCustomCert",
            &[Value::from(b64().encode(&c)), Value::from(b64().encode("junk"))],
        );
        let (real_cert, _) = parts(&real_ca);
        let junk_key = [Value::from(b64().encode(&real_cert)), Value::from(b64().encode("junk"))];
        let want = call(&r, "buildCustomCert", &junk_key).expect_err("junk key");
        assert_eq!(built.expect_err("junk key"), want);
    }
}
