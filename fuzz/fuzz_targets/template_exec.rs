//! Any text parsed AND executed as a template with a bounded function set (the value builders,
//! deep compare/copy, printing and the YAML/JSON writers and readers — no `until`/`seq`, keys,
//! randomness or clock): output or an error — never a panic, abort or stack overflow.
#![no_main]

use chartup::template::exec::{with_big_stack, Templates};
use chartup::template::funcs::sprig;
use chartup::template::Value;
use libfuzzer_sys::fuzz_target;

const ALLOWED: &[&str] = &[
    "dict", "list", "set", "unset", "get", "hasKey", "keys", "values", "pluck", "dig", "merge", "mergeOverwrite",
    "deepEqual", "deepCopy", "append", "prepend", "first", "rest", "last", "reverse", "uniq", "has", "without",
    "toJson", "toRawJson", "toPrettyJson", "fromJson", "fromJsonArray", "toYaml", "fromYaml", "fromYamlArray",
    "toString", "default", "empty", "coalesce", "ternary", "quote", "squote", "upper", "lower", "trim", "indent",
    "nindent", "replace", "split", "splitList", "join", "contains", "hasPrefix", "b64enc", "b64dec", "int", "add",
    "sub", "typeOf", "kindOf", "toStrings", "sortAlpha", "concat", "compact", "omit", "pick", "cat", "trunc",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Ranging over a number or string repeats work by the input's size only; a 10-digit count
    // would be a slow input, not a bug: skip those.
    if text.bytes().filter(|b| b.is_ascii_digit()).count() > 6 {
        return;
    }
    let funcs = sprig().into_iter().filter(|(k, _)| ALLOWED.contains(&k.as_str())).collect();
    let _ = with_big_stack(|| {
        let mut set = Templates::new(funcs);
        if set.parse("t", text).is_ok() {
            let dot = Value::Map(chartup::template::value::Map::new());
            let _ = set.execute("t", &dot);
        }
    });
});
