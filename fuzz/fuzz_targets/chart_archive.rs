//! Any bytes as a chart archive (`.tgz`, possibly with nested subchart archives): a chart or an
//! error — never a panic, a stack overflow or an unbounded inflate. Small limits keep each run fast.
#![no_main]

use chartup::chart::{load_archive, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_chart_size: 8 << 20,
        max_file_size: 1 << 20,
    };
    let _ = load_archive(data, limits);
});
