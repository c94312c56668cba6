//! Any text must parse to a template or to an error — never a panic, hang or stack overflow.
#![no_main]

use chartup::template::exec::Templates;
use chartup::template::funcs::sprig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut set = Templates::new(sprig());
    let _ = set.parse("fuzz/templates/t.yaml", text);
});
