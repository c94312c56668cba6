//! Any text as a saved plan (`chartup apply plan.json`): a plan or an error, and the trust checks
//! (fingerprint, signature) answer without panicking.
#![no_main]

use chartup::plan::saved::SavedPlan;
use chartup::plan::sign::{check, Trust};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = SavedPlan::from_json(text) {
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let trust = Trust {
            fingerprint: Some(p.fingerprint.clone()),
            verify_key: chartup::plan::sign::read_verifying_key(public).ok(),
        };
        let _ = check(&p, &trust, "fuzz.json");
    }
});
