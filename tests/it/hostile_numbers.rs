//! Hostile numbers in scenarios, flags and baselines (issue 14): each is a clear error (exit 2,
//! naming the key) or, when legal, an exact result; never a panic, a hang or a blow-up. Every
//! run is bounded in time and address space.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

use agentmeter::pricing::PriceTable;
use agentmeter::project::{project, ProjectOptions};
use agentmeter::scenario::Scenario;

use crate::common::*;

const SECS: u64 = 60;
const MIB: u64 = 1024;

/// A one-agent Sonnet 4.6 scenario for November 2026 (30 days); `volume` and `session` are
/// TOML lines of the agent and of its session.
fn scenario(volume: &str, session: &str) -> String {
    format!(
        "start = \"2026-11\"\nmonths = 1\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\n{volume}\n[agent.session]\n{session}\n"
    )
}

const SESSION: &str = "active_minutes = 30\nrequests = 1\ninput_tokens = 1000";

fn write(tmp: &Tmp, text: &str) -> PathBuf {
    tmp.write("s.toml", text)
}

/// Exit 2 with an `error:` naming `key`, and no panic.
fn refused(r: &Run, key: &str) {
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains(key), "wanted {key:?} in: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

fn project_run(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["project", path.to_str().unwrap(), "--runs", "5"];
    args.extend(extra);
    run_bounded(args, SECS, MIB)
}

#[test]
fn a_growth_of_a_million_percent_is_refused() {
    let tmp = Tmp::new();
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1\ngrowth_per_month = \"1000000%\"",
            SESSION,
        )
        .replace("months = 1", "months = 12"),
    );
    let r = project_run(&p, &[]);
    refused(
        &r,
        "agent[0].growth_per_month: 1000000% is more than 1000% a month",
    );
    // 31e9 a month is legal in every month, February's 28 days too (1.1e9 a day).
    let p = write(
        &tmp,
        &scenario("sessions_per_month = 31000000000", SESSION).replace("2026-11", "2027-02"),
    );
    let r = project_run(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The largest legal growth compounds past the volume bound: also a clear error, by month.
    // 1e6 a day x 11^m passes 1e9 at m = 3 (1.331e9): 2027-02.
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1000000\ngrowth_per_month = \"1000%\"",
            SESSION,
        )
        .replace("months = 1", "months = 600"),
    );
    refused(
        &project_run(&p, &[]),
        "agent[0].growth_per_month: 1000% a month takes a past 1000000000 sessions a day by 2027-02",
    );
}

#[test]
fn a_poisson_mean_of_1e19_is_refused_by_simulate_and_project() {
    let tmp = Tmp::new();
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1",
            "active_minutes = 30\nrequests = { dist = \"poisson\", mean = 1e19 }",
        ),
    );
    let key = "agent[0].session.requests.mean: 10000000000000000000 is more than 100000 requests per session";
    refused(&project_run(&p, &[]), key);
    let out = tmp.path("sim.ndjson");
    let r = run_bounded(
        [
            "simulate",
            p.to_str().unwrap(),
            "--sessions",
            "1",
            "-o",
            out.to_str().unwrap(),
        ],
        SECS,
        MIB,
    );
    refused(&r, key);
}

#[test]
fn huge_nan_infinite_and_negative_numbers_name_their_key() {
    let tmp = Tmp::new();
    let cases: &[(&str, &str, &str)] = &[
        ("sessions_per_day = 1e18", SESSION, "agent[0].sessions_per_day: 1000000000000000000 is more than 1000000000 sessions a day"),
        ("sessions_per_month = 1e19", SESSION, "agent[0].sessions_per_month"),
        ("sessions_per_day = nan", SESSION, "agent[0].sessions_per_day: NaN is not a finite number"),
        ("sessions_per_day = -inf", SESSION, "agent[0].sessions_per_day: -inf is not a finite number"),
        ("sessions_per_day = 1e300", SESSION, "agent[0].sessions_per_day: 1e300 is too large a number"),
        ("sessions_per_day = -1", SESSION, "agent[0].sessions_per_day: must not be negative"),
        ("sessions_per_day = 1\ngrowth_per_month = \"-100%\"", SESSION, "agent[0].growth_per_month"),
        ("sessions_per_day = 1", "active_minutes = inf\nrequests = 1", "agent[0].session.active_minutes: inf is not a finite number"),
        ("sessions_per_day = 1", "active_minutes = 1e7\nrequests = 1", "agent[0].session.active_minutes: 10000000 is more than 1000000 minutes per session"),
        ("sessions_per_day = 1", "active_minutes = 1\nrequests = 1\noutput_tokens = 9223372036854775807", "agent[0].session.output_tokens: 9223372036854775807 is more than 100000000 tokens per request"),
        ("sessions_per_day = 1", "active_minutes = 1\nrequests = 1\nweb_searches = { dist = \"uniform\", min = 0, max = 1e12 }", "agent[0].session.web_searches.max"),
        ("sessions_per_day = 1", "active_minutes = 1\nrequests = { dist = \"normal\", mean = 5, sd = nan }", "agent[0].session.requests.sd"),
        // Bounded percentiles, unbounded mean: sigma = ln(1e8) / 1.2816 = 14.37, so the mean
        // exp(sigma^2 / 2) is about e^103.
        ("sessions_per_day = 1", "active_minutes = 1\nrequests = 1\ninput_tokens = { dist = \"lognormal\", p50 = 1, p90 = 1e8 }", "agent[0].session.input_tokens: the mean of lognormal(p50 1, p90 100000000) is"),
        ("sessions_per_day = 1", "active_minutes = { dist = \"poisson\", mean = -5 }\nrequests = 1", "agent[0].session.active_minutes.mean: must not be negative"),
    ];
    for (volume, session, key) in cases {
        let p = write(&tmp, &scenario(volume, session));
        refused(&project_run(&p, &[]), key);
    }
    let p = write(
        &tmp,
        &scenario("sessions_per_day = 1", SESSION).replace("2026-11", "99999-01"),
    );
    refused(&project_run(&p, &[]), "start:");
}

#[test]
fn an_empirical_file_gets_the_same_bounds() {
    let tmp = Tmp::new();
    tmp.write("tokens.txt", "tokens\n1000\n1e308\n");
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1",
            "active_minutes = 1\nrequests = 1\ninput_tokens = { dist = \"empirical\", file = \"tokens.txt\" }",
        ),
    );
    refused(
        &project_run(&p, &[]),
        "agent[0].session.input_tokens.file: ",
    );
    let r = project_run(&p, &[]);
    assert!(
        r.stderr
            .contains("tokens.txt:3: 1e308 is more than 100000000 tokens per request"),
        "{}",
        r.stderr
    );
}

#[test]
fn months_and_sessions_flags_are_bounded_like_the_file() {
    let tmp = Tmp::new();
    let p = write(&tmp, &scenario("sessions_per_day = 1", SESSION));
    refused(
        &project_run(&p, &["--months", "4000000000"]),
        "--months: must be a whole number from 1 to 600 (got 4000000000)",
    );
    refused(&project_run(&p, &["--months", "0"]), "--months");
    let models: Vec<&str> = ["--model", "claude-sonnet-4-6"].repeat(17);
    refused(
        &project_run(&p, &models),
        "--model: 17 models, more than 16 side by side",
    );
    // Runs x sessions x requests past the draw limit: refused before any work.
    let heavy = write(
        &tmp,
        &scenario(
            "sessions_per_day = 30",
            "active_minutes = 1\nrequests = 100000",
        ),
    );
    refused(
        &run_bounded(
            ["project", heavy.to_str().unwrap(), "--runs", "4000000000"],
            SECS,
            MIB,
        ),
        "more than the limit of 1e10",
    );
    let out = tmp.path("sim.ndjson");
    let sim = |n: &str, file: &Path| {
        run_bounded(
            [
                "simulate",
                file.to_str().unwrap(),
                "--sessions",
                n,
                "-o",
                out.to_str().unwrap(),
            ],
            SECS,
            MIB,
        )
    };
    refused(
        &sim("18446744073709551615", &p),
        "--sessions: 18446744073709551615 is more than 10000000 sessions",
    );
    // 5,000 sessions of 100,000 requests: 2 lines a request, 1e9 lines.
    refused(&sim("5000", &heavy), "--sessions: 5000 sessions of");
    assert!(!out.exists(), "nothing is written when refused");
    // fit writes `months` into a scenario: the same range.
    let export = tmp.write(
        "run/a.ndjson",
        &ndjson(&[session("sesn_1", "claude-sonnet-4-6")]),
    );
    let fitted = tmp.path("fitted.toml");
    let r = run_bounded(
        [
            "fit",
            export.to_str().unwrap(),
            "-o",
            fitted.to_str().unwrap(),
            "--months",
            "4000000000",
        ],
        SECS,
        MIB,
    );
    refused(&r, "--months: must be a whole number from 1 to 600");
    assert!(!fitted.exists());
}

fn d(v: &Value) -> Decimal {
    dec(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
}

#[test]
fn large_legal_volumes_give_exact_positive_results() {
    // Per session: 30 min x $0.08/h = $0.04 of runtime + 1,000 input x $3/M = $0.003: $0.043.
    // 1e6 a day x 30 days = 30,000,000 sessions: 30e6 x 0.043 = $1,290,000.
    // At the bound, 1e9 a day: 30e9 sessions, 30e9 x 0.043 = $1,290,000,000.
    let tmp = Tmp::new();
    for (per_day, sessions, want) in [
        ("1000000", "30000000", "1290000"),
        ("1000000000", "30000000000", "1290000000"),
    ] {
        let p = write(
            &tmp,
            &scenario(&format!("sessions_per_day = {per_day}"), SESSION),
        );
        let r = project_run(&p, &["--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let m = &v["months"][0];
        assert_eq!(d(&m["expected_sessions"]), dec(sessions));
        assert_eq!(d(&m["expected"]), dec(want));
        assert_eq!(d(&v["total"]["expected"]), dec(want));
        // Every session is the same, so the normal approximation has no spread: each run is
        // n x mean, up to the f64 rounding of the pilot's mean (well under a dollar).
        for k in ["mean", "p5", "p50", "p99"] {
            let got = d(&v["total"][k]);
            assert!((got - dec(want)).abs() < Decimal::ONE, "{k}: {got}");
        }
    }
}

/// A baseline written by `agentmeter baseline`, with `edit` applied to its JSON.
fn edited_baseline(tmp: &Tmp, edit: impl Fn(&mut Value)) -> Run {
    let mut s = session("sesn_1", "claude-sonnet-4-6");
    s["title"] = "t".into();
    let run = tmp.write(
        "run/a.ndjson",
        &ndjson(&[
            s,
            ev("e1", "session.status_running", "2026-10-01T10:00:00Z"),
            request("e2", "2026-10-01T10:01:00Z", 1000, 10, 0, 0),
            ev("e3", "session.status_idle", "2026-10-01T11:00:00Z"),
        ]),
    );
    let base = tmp.path("baseline.json");
    let r = run_bounded(
        [
            "baseline",
            run.to_str().unwrap(),
            "-o",
            base.to_str().unwrap(),
            "--force",
        ],
        SECS,
        MIB,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut b: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    edit(&mut b);
    std::fs::write(&base, b.to_string()).unwrap();
    run_bounded(
        [
            "check",
            run.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--budget",
            "100",
        ],
        SECS,
        MIB,
    )
}

fn usage(b: &mut Value) -> &mut Value {
    &mut b["tasks"][0]["usage"][0]
}

#[test]
fn absurd_baseline_quantities_are_refused() {
    let tmp = Tmp::new();
    // Unedited, the check passes: the edits below are what fails.
    let r = edited_baseline(&tmp, |_| {});
    assert_eq!(r.code, 0, "{}", r.stderr);
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|b| usage(b)["running"][0]["end"] = i64::MAX.into()),
            "tasks[0].usage[0].running[0].end: 9223372036854775807 ms is not an instant between 1970 and 9999",
        ),
        (
            Box::new(|b| usage(b)["running"][0]["start"] = i64::MIN.into()),
            "tasks[0].usage[0].running[0].start",
        ),
        (
            // 1970 to 9999, inside the instants but more than ten years of running.
            Box::new(|b| {
                usage(b)["running"][0]["start"] = 0.into();
                usage(b)["running"][0]["end"] = 253_402_300_799_999i64.into();
            }),
            "tasks[0].usage[0].running[0]: the session runs more than",
        ),
        (
            Box::new(|b| usage(b)["requests"][0]["tokens"]["input"] = u64::MAX.into()),
            "tasks[0].usage[0].requests[0].tokens.input: 18446744073709551615 is more than",
        ),
        (
            Box::new(|b| b["tasks"][0]["sessions"] = 1_000_000_000u64.into()),
            "tasks[0].sessions",
        ),
        (
            Box::new(|b| b["total"] = "1e999".into()),
            "total: \"1e999\" is not an amount",
        ),
    ];
    for (edit, key) in cases {
        refused(&edited_baseline(&tmp, edit), key);
    }
}

/// A TOML number as an attacker might write it.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..50).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| {
            // TOML spells the special floats nan/inf; Rust's Display does not.
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if f > 0.0 { "inf" } else { "-inf" }.into()
            } else {
                format!("{f:e}")
            }
        }),
        prop::sample::select(vec![
            "1e19",
            "1e308",
            "-0.0",
            "0",
            "1e-300",
            "99999999999",
            "1000000000",
            "100000",
            "79228162514264337593543950335",
            "0.0000000000000000000000000001",
        ])
        .prop_map(String::from),
    ]
}

/// A per-session quantity: a number or a distribution of numbers.
fn quantity() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        number().prop_map(|m| format!("{{ dist = \"poisson\", mean = {m} }}")),
        (number(), number())
            .prop_map(|(a, b)| format!("{{ dist = \"lognormal\", p50 = {a}, p90 = {b} }}")),
        (number(), number())
            .prop_map(|(a, b)| format!("{{ dist = \"normal\", mean = {a}, sd = {b} }}")),
        (number(), number())
            .prop_map(|(a, b)| format!("{{ dist = \"uniform\", min = {a}, max = {b} }}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the numbers, parsing and a one-month projection return Ok or a clear error;
    /// on Ok every amount is non-negative. Requests stay small or hostile (never a legal but
    /// slow 50,000), so each case is quick.
    #[test]
    fn random_numbers_never_panic_and_results_are_non_negative(
        volume in number(),
        growth in number(),
        minutes in quantity(),
        requests in prop_oneof![(0u32..20).prop_map(|n| n.to_string()), Just("1e19".to_string()), Just("nan".to_string())],
        input in quantity(),
        output in quantity(),
        per_month in any::<bool>(),
    ) {
        let text = format!(
            "start = \"2026-11\"\nmonths = 2\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\n{} = {volume}\ngrowth_per_month = \"{growth}%\"\n[agent.session]\nactive_minutes = {minutes}\nrequests = {requests}\ninput_tokens = {input}\noutput_tokens = {output}\n",
            if per_month { "sessions_per_month" } else { "sessions_per_day" },
        );
        let Ok(s) = Scenario::parse(&text, "p.toml", Path::new(".")) else {
            return Ok(());
        };
        let table = PriceTable::bundled().unwrap();
        let opts = ProjectOptions { runs: 2, ..Default::default() };
        if let Ok(p) = project(&s, &table, &opts) {
            for st in std::iter::once(&p.total).chain(p.months.iter().map(|m| &m.stats)) {
                for v in [st.expected, st.mean, st.p5, st.p50, st.p95, st.p99] {
                    prop_assert!(v >= Decimal::ZERO, "{v} in {text}");
                }
            }
            for (_, _, n) in &p.histogram {
                prop_assert!(*n <= 2);
            }
        }
    }
}

/// The bundled table plus a model `pricey` at `input` USD per million input tokens.
fn pricey_table(tmp: &Tmp, input: &str) -> PathBuf {
    tmp.write(
        "prices.toml",
        &format!(
            "{}\n[[model]]\nid = \"pricey\"\naliases = []\n[[model.price]]\neffective = \"2026-01-01T00:00:00Z\"\ninput = \"{input}\"\noutput = \"1\"\ncache_write_5m = \"1\"\ncache_write_1h = \"1\"\ncache_read = \"1\"\nsource = \"test\"\n",
            agentmeter::pricing::BUNDLED
        ),
    )
}

#[test]
fn monte_carlo_sums_never_wrap_and_large_means_are_kept() {
    let tmp = Tmp::new();
    let run = |requests: &str, input_price: &str| {
        let table = pricey_table(&tmp, input_price);
        let p = write(
            &tmp,
            &scenario(
                "sessions_per_day = 1000000000",
                &format!("active_minutes = 0\nrequests = {requests}\ninput_tokens = 100000000"),
            )
            .replace("claude-sonnet-4-6", "pricey"),
        );
        project_run(
            &p,
            &["--pricing", table.to_str().unwrap(), "--format", "json"],
        )
    };
    // $1,000,000/M (the most a table may say) is $1 a token. 10 requests of 1e8 tokens: $1e9
    // a session; 30e9 sessions: $3e19 a month, 3e37 atto-dollars (i128 holds 1.7e38). Its
    // mean in pico-dollars (3e31) is past a Decimal's 7.9e28: it must not read $0.
    let r = run("10", "1000000");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let want = dec("30000000000000000000");
    assert_eq!(d(&v["total"]["expected"]), want);
    for k in ["mean", "p50"] {
        let got = d(&v["total"][k]);
        assert!(((got - want) / want).abs() < dec("0.000001"), "{k}: {got}");
    }
    // 100 requests: $1e10 a session, $3e20 a month: past i128 atto-dollars, an error.
    refused(&run("100", "1000000"), "too large to simulate exactly");
    // $1e9/M is refused by the table itself.
    refused(&run("1", "1000000000"), "1000000000 is more than 1000000");
}

#[test]
fn endless_files_and_too_many_agents_are_refused() {
    let tmp = Tmp::new();
    // /dev/zero never ends, and a FIFO would wait for a writer: only regular files are read,
    // and each only up to its kind's limit (a sparse 17 MiB file, past a scenario's 16 MiB).
    refused(
        &project_run(Path::new("/dev/zero"), &[]),
        "/dev/zero: not a regular file",
    );
    let huge = tmp.path("huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    refused(
        &project_run(&huge, &[]),
        "huge.toml: more than the 16777216 bytes a scenario may have",
    );
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1",
            "active_minutes = 1\nrequests = { dist = \"empirical\", file = \"/dev/zero\" }",
        ),
    );
    refused(
        &project_run(&p, &[]),
        "agent[0].session.requests.file: cannot read /dev/zero: not a regular file",
    );
    let run = tmp.write(
        "run/a.ndjson",
        &ndjson(&[session("sesn_1", "claude-sonnet-4-6")]),
    );
    let r = run_bounded(
        [
            "check",
            run.to_str().unwrap(),
            "--baseline",
            "/dev/zero",
            "--budget",
            "1",
        ],
        SECS,
        MIB,
    );
    refused(&r, "/dev/zero: not a regular file");
    let agent = "[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n[agent.session]\nactive_minutes = 1\nrequests = 1\n";
    let p = write(
        &tmp,
        &format!("start = \"2026-11\"\n{}", agent.repeat(1001)),
    );
    refused(&project_run(&p, &[]), "agent: 1001 agents, more than 1000");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A price table with one quoted value replaced by a hostile number: parsed and checked
    /// without a panic; a table that is accepted prices a month of 1e9 sessions a day or says
    /// why not.
    #[test]
    fn hostile_prices_never_panic(which in 0usize..200, n in number()) {
        let text = agentmeter::pricing::BUNDLED;
        // The quoted values of prices and factors (not dates, ids or sources).
        let keys = ["input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "usd_per_hour", "usd_per_1000", "factor"];
        let spots: Vec<usize> = text
            .match_indices(" = \"")
            .filter(|(i, _)| keys.iter().any(|k| text[..*i].ends_with(k)))
            .map(|(i, _)| i + 4)
            .collect();
        let at = spots[which % spots.len()];
        let end = at + text[at..].find('"').unwrap();
        let edited = format!("{}{n}{}", &text[..at], &text[end..]);
        let (table, _) = agentmeter::pricing::check::parse_and_check(&edited, "p.toml");
        if let Some(t) = table {
            let text = scenario("sessions_per_day = 1000000000", SESSION);
            let s = Scenario::parse(&text, "s.toml", Path::new(".")).unwrap();
            let _ = project(&s, &t, &ProjectOptions { runs: 2, ..Default::default() });
        }
    }
}

#[test]
fn a_price_past_a_million_a_unit_is_refused() {
    // Decimal::MAX as Sonnet 4.6's input price: its ratio checks overflowed (a panic).
    let edited = agentmeter::pricing::BUNDLED.replacen(
        "input = \"3\"\n",
        "input = \"79228162514264337593543950335\"\n",
        1,
    );
    let (table, problems) = agentmeter::pricing::check::parse_and_check(&edited, "p.toml");
    assert!(table.is_none());
    let all: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    assert!(
        all.iter()
            .any(|m| m.contains("79228162514264337593543950335 is more than 1000000")),
        "{all:?}"
    );
}

#[test]
fn a_large_empirical_file_is_shared_not_copied_per_session() {
    // 10 million values (20 MB): copied into each of 20,000 simulated sessions' samplers that
    // is 1.6 TB of copying (minutes); shared, the run takes seconds.
    let tmp = Tmp::new();
    tmp.write("requests.txt", &"1\n".repeat(10_000_000));
    let p = write(
        &tmp,
        &scenario(
            "sessions_per_day = 1",
            "active_minutes = 1\nrequests = { dist = \"empirical\", file = \"requests.txt\" }",
        ),
    );
    let out = tmp.path("sim.ndjson");
    let r = run_bounded(
        [
            "simulate",
            p.to_str().unwrap(),
            "--sessions",
            "20000",
            "-o",
            out.to_str().unwrap(),
        ],
        SECS,
        MIB,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Each session: 1 request (every value is 1), so 2 request lines per session.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("span.model_request_end").count(), 20_000);
}
