//! The Monte Carlo alone, without the binary: a quick loop for work on the simulation.
//! `cargo run --release -p agentmeter-project --example montecarlo -- benches/montecarlo.toml 200`
//! prints the simulated sessions per second (best of 3). The full benchmark is
//! `cargo bench --bench throughput` (the binary, with its output).

use std::path::Path;
use std::time::Instant;

use agentmeter_pricing::pricing::PriceTable;
use agentmeter_project::project::{project, ProjectOptions};
use agentmeter_project::scenario::Scenario;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or("benches/montecarlo.toml".into());
    let runs: u32 = args.next().map_or(Ok(200), |r| r.parse())?;
    let scenario = Scenario::load(Path::new(&path))?;
    let table = PriceTable::bundled()?;
    let opts = ProjectOptions {
        runs,
        ..Default::default()
    };
    let mut best = f64::INFINITY;
    let mut sessions = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let p = project(&scenario, &table, &opts)?;
        best = best.min(t.elapsed().as_secs_f64());
        sessions = p.simulated_sessions;
        eprintln!("total p50 {} mean {}", p.total.p50, p.total.mean);
    }
    println!(
        "{sessions} sessions in {best:.3} s = {:.2} M simulated sessions/s",
        sessions as f64 / best / 1e6
    );
    Ok(())
}
