//! How serde-saphyr (with legacy octal numbers, as `crate::manifest::parse_yaml` calls it) types a
//! plain scalar and which plain keys it treats specially. Two readers that skip serde-saphyr's
//! deserializer for speed must agree with it exactly: the manifest's fast path
//! (`crate::manifest::fast`) and the head pass that also builds the JSON form (`load.rs`). The
//! rules live here, in the YAML layer, so both depend downwards.

use serde_json::{Number, Value as Json};

/// Plain keys serde-saphyr refuses (null words) or treats specially (the merge key).
pub(crate) fn odd_key(k: &str) -> bool {
    k.is_empty() || k == "~" || k == "<<" || k.eq_ignore_ascii_case("null")
}

/// A plain scalar as serde-saphyr types it into JSON.
pub(crate) fn plain(s: &str) -> Option<Json> {
    match s {
        "true" => return Some(Json::Bool(true)),
        "false" => return Some(Json::Bool(false)),
        "" | "~" | "null" => return Some(Json::Null),
        _ => {}
    }
    // Bool and null words in any case, and anything that may be an `.inf`/`.nan` form.
    // (No lowercase copy: this runs for every plain scalar of every rendered document.)
    // Those words and forms are letters, dots and signs only.
    let special = s.len() <= 12
        && s.bytes()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, b'.' | b'+' | b'-'))
        && {
            let words = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
            let has = |w: &[u8]| s.as_bytes().windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
            words.iter().any(|w| s.eq_ignore_ascii_case(w)) || has(b"inf") || has(b"nan")
        };
    if special {
        return resolve_slow(s);
    }
    let numberish = s
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'_' | b'x' | b'X' | b'o' | b'O'));
    if !numberish {
        return Some(Json::String(s.to_string()));
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
    {
        let n: i64 = s.parse().ok()?;
        return Some(Json::Number(Number::from(n)));
    }
    resolve_slow(s)
}

/// serde-saphyr's reading of one plain scalar (as a mapping value, where it stood).
fn resolve_slow(s: &str) -> Option<Json> {
    let doc = format!("k: {s}\n");
    let opts = serde_saphyr::options! { legacy_octal_numbers: true };
    let v: Json = serde_saphyr::from_str_with_options(&doc, opts).ok()?;
    match v {
        Json::Object(mut m) if m.len() == 1 => m.remove("k"),
        _ => None,
    }
}
