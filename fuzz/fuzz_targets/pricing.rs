//! The price-table parser and its checks on arbitrary text: `parse_and_check` must return its
//! table and problems, never panic; a table it accepts must answer lookups at any instant.
#![no_main]

use agentmeter_pricing::pricing::check::parse_and_check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (table, _problems) = parse_and_check(text, "fuzz.toml");
    if let Some(t) = table {
        for at in [i64::MIN, -1, 0, 1_780_000_000_000, i64::MAX] {
            let _ = t.runtime_at(at);
            let _ = t.web_search_at(at);
            for m in &t.models {
                let _ = m.row_at(at);
            }
        }
        let _ = t.runtime_changes().count();
    }
});
