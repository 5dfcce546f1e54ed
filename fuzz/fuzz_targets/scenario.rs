//! The scenario parser on arbitrary text: `Scenario::parse` must return `Ok` or a clear error,
//! never panic; a scenario it accepts must plan (one month, bundled prices) without a panic
//! and with non-negative expected costs. Empirical files resolve in a directory that does not
//! exist, so the target reads no file (an absolute path is only an error).
#![no_main]

use std::path::Path;

use agentmeter_pricing::pricing::PriceTable;
use agentmeter_project::project::{plan, ProjectOptions};
use agentmeter_project::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Scenario::parse(text, "fuzz.toml", Path::new("/nonexistent-agentmeter-fuzz"))
    else {
        return;
    };
    let table = PriceTable::bundled().expect("the bundled table loads");
    let opts = ProjectOptions {
        months: Some(1),
        runs: 1,
        ..Default::default()
    };
    if let Ok(p) = plan(&s, &table, &opts) {
        // (No rust_decimal dependency here: the sign is asked of each amount.)
        for cell in p.cells.iter().flatten() {
            for v in std::iter::once(&cell.expected_sessions).chain(cell.expected.values()) {
                assert!(!v.is_sign_negative() || v.is_zero(), "negative: {v}");
            }
        }
    }
});
