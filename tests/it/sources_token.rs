//! Bearer-token auth against a real registry: scripts/test-sources.sh runs a second CNCF
//! distribution registry (Debian's docker-registry, same storage) with `auth: token`, and
//! scripts/token-server.py as its token endpoint (Debian ships no token server). The registry is
//! the real part — it challenges with `Bearer realm=…,service=…,scope=…` and verifies each JWT
//! (signature, x5c chain to its rootcertbundle, issuer, audience, expiry, granted actions), which
//! the last test shows by handing it an altered token. helm (oras-go's auth client) and chartup
//! must both log in, pull and render through it.

use std::process::Command;

use crate::sources::{servers, Home};

fn token_registry() -> String {
    servers(); // `up` first (it starts the token registry too)
    let out = Command::new(testkit::repo_root().join("scripts/test-sources.sh"))
        .arg("env")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export CHARTUP_SRC_TOKEN_REGISTRY="))
        .map(str::to_string)
        .expect("scripts/test-sources.sh env names CHARTUP_SRC_TOKEN_REGISTRY (the token-auth registry)")
}

fn login(h: &Home, who: &str, reg: &str, password: &str) -> std::process::Output {
    let s = servers();
    let args = [
        "registry",
        "login",
        reg,
        "--ca-file",
        &s.ca,
        "-u",
        &s.user,
        "-p",
        password,
    ];
    if who == "helm" {
        h.helm(&args)
    } else {
        h.chartup(&args)
    }
}

#[test]
fn helm_and_chartup_pull_through_bearer_tokens() {
    let s = servers();
    let t = token_registry();
    let (hh, ch) = (Home::new(), Home::new());
    for (h, who) in [(&hh, "helm"), (&ch, "chartup")] {
        let o = login(h, who, &t, &s.password);
        assert!(o.status.success(), "{who}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let chart = format!("oci://{t}/charts/demo");
    for v in ["1.0.0", "1.1.0"] {
        let args = ["template", "r", chart.as_str(), "--version", v, "--ca-file", &s.ca];
        assert_eq!(ch.ok("chartup", &args), hh.ok("helm", &args), "{v}");
    }
    // A range lists tags (another scope) through the same flow.
    let args = ["template", "r", chart.as_str(), "--version", "~1.0", "--ca-file", &s.ca];
    assert_eq!(ch.ok("chartup", &args), hh.ok("helm", &args));
    // Push (scope pull,push) through tokens; helm pulls it back through tokens.
    let unique = format!("tok-{}", std::process::id());
    let demo = s.dir.join("www/charts/demo-1.1.0.tgz");
    ch.ok(
        "chartup",
        &[
            "push",
            demo.to_str().unwrap(),
            &format!("oci://{t}/{unique}"),
            "--ca-file",
            &s.ca,
        ],
    );
    let pushed = format!("oci://{t}/{unique}/demo");
    let args = [
        "template",
        "r",
        pushed.as_str(),
        "--version",
        "1.1.0",
        "--ca-file",
        &s.ca,
    ];
    assert_eq!(hh.ok("helm", &args), ch.ok("chartup", &args));
}

#[test]
fn bearer_failures_are_clear() {
    let s = servers();
    let t = token_registry();
    let h = Home::new();
    // Wrong password: the token endpoint refuses, and helm too.
    let o = login(&h, "helm", &t, "wrong");
    assert!(!o.status.success());
    let o = login(&h, "chartup", &t, "wrong");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("token request failed") && err.contains("401"), "{err}");
    // No login at all.
    let chart = format!("oci://{t}/charts/demo");
    let err = h.fails(&["template", "r", &chart, "--version", "1.0.0", "--ca-file", &s.ca]);
    assert!(err.contains(&chart) && err.contains("401"), "{err}");
}

/// The registry, not the test endpoint, decides: a token whose claims were altered after signing
/// (another repository granted) is refused, the genuine one accepted.
#[test]
fn the_registry_verifies_every_token() {
    let s = servers();
    let t = token_registry();
    let curl = |args: &[&str]| {
        let o = Command::new("curl")
            .args(["-s", "--cacert", &s.ca])
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let head = curl(&["-D", "-", "-o", "/dev/null", &format!("https://{t}/v2/")]);
    let challenge = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
        .unwrap_or_else(|| panic!("no challenge:\n{head}"));
    let (_, params) = chartup::source::oci::parse_challenge(challenge.split_once(':').unwrap().1);
    let get = |k: &str| params.iter().find(|(a, _)| a == k).unwrap().1.clone();
    let token_url = format!(
        "{}?service={}&scope=repository:charts/demo:pull",
        get("realm"),
        get("service")
    );
    let body = curl(&["-u", &format!("{}:{}", s.user, s.password), &token_url]);
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = j["token"].as_str().unwrap().to_string();
    let manifest = |repo: &str, tok: &str| {
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            &format!("Authorization: Bearer {tok}"),
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            &format!("https://{t}/v2/{repo}/manifests/1.0.0"),
        ])
    };
    assert_eq!(manifest("charts/demo", &token), "200");
    // The token grants charts/demo only.
    assert_eq!(manifest("charts/dep-a", &token), "401");
    // Rewrite the claims to grant charts/dep-a, keep the signature.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let claims = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    assert!(claims.contains("charts/demo"), "{claims}");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.replace("charts/demo", "charts/dep-a")),
        parts[2]
    );
    assert_eq!(manifest("charts/dep-a", &forged), "401");
    assert_eq!(manifest("charts/dep-a", "not-a-jwt"), "401");
}
