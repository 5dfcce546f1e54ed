//! The baseline-v1 parser on arbitrary text: `parse_baseline` must return `Ok` or a clear
//! error, never panic; a baseline it accepts must price (its own table, else the bundled one)
//! without a panic or unbounded work, since every quantity in it has been checked.
#![no_main]

use agentmeter_gate::compare::gate::{cost_of, parse_baseline};
use agentmeter_pricing::pricing::PriceTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(b) = parse_baseline(text, "fuzz.json") else {
        return;
    };
    let table = PriceTable::parse(&b.pricing.table, "the baseline's table")
        .or_else(|_| PriceTable::bundled())
        .expect("the bundled table loads");
    for t in &b.tasks {
        let _ = cost_of(&t.usage, &table);
    }
});
