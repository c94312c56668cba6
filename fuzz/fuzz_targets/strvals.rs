//! Every `--set` flavour must accept or reject any input cleanly (no panic, bounded memory:
//! list indexes are capped at 65536 as in Helm). Parsing runs on the big-stack thread, as chartup
//! runs it (`a[0][0]…` recurses once per index; Helm renders 20,000 of them).
#![no_main]

use chartup::chart::strvals;
use chartup::template::exec::with_big_stack;
use chartup::template::Map;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = with_big_stack(|| {
        let _ = strvals::parse_set(text, &Map::new());
        let _ = strvals::parse_set_string(text, &Map::new());
        let _ = strvals::parse_set_json(text, &Map::new());
        let _ = strvals::parse_set_literal(text, &Map::new());
    });
});
