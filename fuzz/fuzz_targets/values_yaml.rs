//! Any bytes as a values file (`-f`): loaded to a map or an error — never a panic, hang or stack
//! overflow. The loader runs on the big-stack thread, as chartup runs it.
#![no_main]

use chartup::chart::load_values;
use chartup::template::exec::with_big_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = with_big_stack(|| {
        if let Ok(m) = load_values(data) {
            // Values are copied and printed as YAML/JSON on the way to the templates.
            let v = chartup::template::Value::Map(m);
            let _ = chartup::yaml::to_yaml(&v.deep_copy());
            let _ = chartup::yaml::to_json(&v, Default::default());
        }
    });
});
