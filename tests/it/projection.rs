//! Scenarios end to end: `project`, `simulate`, `fit`, with expectations by hand.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::*;

fn scenarios() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn project_json(args: &[&str]) -> Value {
    let mut a = vec!["project".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    a.extend(["--format".to_string(), "json".to_string()]);
    let r = run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn d(v: &Value) -> Decimal {
    dec(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
}

#[test]
fn the_daily_research_agent_costs_what_the_seed_says() {
    // December 2026 has 31 days. Runtime: 30 min x $0.08/h = $0.04 a day, 31 x 0.04 = 1.24.
    // Tokens: 6 x (4,000 x $3 + 900 x $15 + 15,000 x $0.30) / 1M = 6 x 0.03 = $0.18 a day,
    // 31 x 0.18 = 5.58. Total 6.82; the year (365 days) 365 x 0.22 = 80.30.
    let file = scenarios().join("daily-research.toml");
    let v = project_json(&[file.to_str().unwrap(), "--runs", "50"]);
    assert_eq!(v["schema"], "agentmeter/projection-v1");
    let dec_month = &v["months"][0];
    assert_eq!(dec_month["month"], "2026-12");
    let cats = &dec_month["categories"];
    assert_eq!(d(&cats["runtime"]), dec("1.24"));
    assert_eq!(
        d(&cats["input"]) + d(&cats["output"]) + d(&cats["cache_read"]),
        dec("5.58")
    );
    assert_eq!(d(&dec_month["expected"]), dec("6.82"));
    // Everything is fixed, so every run is the same and the percentiles equal the expectation.
    for k in ["mean", "p5", "p50", "p95", "p99"] {
        assert_eq!(d(&dec_month[k]), dec("6.82"), "{k}");
    }
    assert_eq!(v["months"].as_array().unwrap().len(), 12);
    assert_eq!(d(&v["total"]["expected"]), dec("80.30"));
}

#[test]
fn the_same_seed_gives_the_same_result() {
    let file = scenarios().join("team.toml");
    let args = [
        "project",
        file.to_str().unwrap(),
        "--months",
        "2",
        "--runs",
        "200",
        "--format",
        "json",
    ];
    let a = run(args);
    let b = run(args);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
    let mut other = args.to_vec();
    other.extend(["--seed", "99"]);
    let c = run(other);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn monte_carlo_means_converge_to_the_analytic_mean() {
    // One session a month; 100,000 runs. Requests ~ Poisson(4), input ~ lognormal(p50 1,000,
    // p90 4,000), output ~ Poisson(500), 10 running minutes. The analytic mean session cost is
    // the expected value; the Monte Carlo mean must be within 1% of it.
    let tmp = Tmp::new();
    let f = tmp.write(
        "mc.toml",
        "start = \"2026-12-01\"\nmonths = 1\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_month = 1\n\
         [agent.session]\nactive_minutes = 10\nrequests = { dist = \"poisson\", mean = 4 }\n\
         input_tokens = { dist = \"lognormal\", p50 = 1000, p90 = 4000 }\noutput_tokens = { dist = \"poisson\", mean = 500 }\n",
    );
    let v = project_json(&[f.to_str().unwrap(), "--runs", "100000", "--seed", "5"]);
    let (expected, mean) = (d(&v["total"]["expected"]), d(&v["total"]["mean"]));
    let rel = ((mean - expected) / expected).abs();
    assert!(rel < dec("0.01"), "mean {mean} vs expected {expected}");
    assert!(d(&v["total"]["p5"]) < d(&v["total"]["p95"]));
}

#[test]
fn prices_follow_their_effective_dates_across_the_horizon() {
    // Runtime goes to $0.12/h on 2027-01-16: January = 15 days x $0.04 + 16 days x
    // (0.5 h x 0.12 = $0.06) = 0.60 + 0.96 = 1.56; December stays 1.24.
    let tmp = Tmp::new();
    let table = tmp.write(
        "prices.toml",
        &agentmeter::pricing::BUNDLED.replacen(
            "[[web_search]]",
            "[[runtime]]\neffective = \"2027-01-16\"\nusd_per_hour = \"0.12\"\n\n[[web_search]]",
            1,
        ),
    );
    let file = scenarios().join("daily-research.toml");
    let v = project_json(&[
        file.to_str().unwrap(),
        "--months",
        "2",
        "--runs",
        "10",
        "--pricing",
        table.to_str().unwrap(),
    ]);
    assert_eq!(d(&v["months"][0]["categories"]["runtime"]), dec("1.24"));
    assert_eq!(d(&v["months"][1]["categories"]["runtime"]), dec("1.56"));
}

#[test]
fn several_models_side_by_side() {
    // opus-hour: 90 days (Dec, Jan, Feb). Opus 4.6: 0.705 + 0.525 = 1.23 a day -> 110.70.
    // Sonnet 4.6: uncached 50,000 x 3 + 15,000 x 15 = 0.375 + 0.08 runtime = 0.455; cached
    // 10,000 x 3 + 40,000 x 0.30 + 15,000 x 15 = 0.267 + 0.08 = 0.347; 0.802 x 90 = 72.18.
    let file = scenarios().join("opus-hour.toml");
    let v = project_json(&[
        file.to_str().unwrap(),
        "--runs",
        "10",
        "--model",
        "claude-opus-4-6",
        "--model",
        "claude-sonnet-4-6",
    ]);
    let variants = v["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["model"], "claude-opus-4-6");
    assert_eq!(d(&variants[0]["total"]["expected"]), dec("110.70"));
    assert_eq!(d(&variants[1]["total"]["expected"]), dec("72.18"));
    let r = run([
        "project",
        file.to_str().unwrap(),
        "--runs",
        "10",
        "--model",
        "claude-opus-4-6",
        "--model",
        "claude-sonnet-4-6",
    ]);
    assert!(
        r.stdout.contains("Horizon total by model") && r.stdout.contains("0.65x"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_sessions_column_is_right_aligned_in_one_format() {
    // 40.5 sessions a day, fixed: December and January 31 x 40.5 = 1,255.5, February
    // 28 x 40.5 = 1,134 (shown 1,134.0, as the column needs a decimal), the total
    // 1,255.5 + 1,255.5 + 1,134 = 3,645.0.
    let tmp = Tmp::new();
    let f = tmp.write(
        "s.toml",
        "start = \"2026-12-01\"\nmonths = 3\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\n\
         sessions_per_day = 40.5\n[agent.session]\nactive_minutes = 1\nrequests = 1\ninput_tokens = 10\n",
    );
    let file = f.to_str().unwrap();
    let r = run(["project", file, "--runs", "10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Month is 7 wide ("2026-12"), Sessions 8 ("Sessions"): the counts end under its "s".
    let lines: Vec<&str> = r.stdout.lines().collect();
    let starts = |p: &str| lines.iter().any(|l| l.starts_with(p));
    for want in [
        "Month    Sessions  ",
        "2026-12   1,255.5  ",
        "2027-01   1,255.5  ",
        "2027-02   1,134.0  ",
        "Total     3,645.0  ",
    ] {
        assert!(starts(want), "{want:?} in\n{}", r.stdout);
    }
    let r = run(["project", file, "--runs", "10", "--format", "markdown"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "| Month | Sessions | Expected |",
        "| --- | ---: | ---: |",
        "| 2027-02 | 1,134.0 | $",
        "| **Total** | **3,645.0** | **$",
    ] {
        assert!(r.stdout.contains(want), "{want:?} in\n{}", r.stdout);
    }
}

#[test]
fn bad_scenarios_name_the_file_key_and_problem() {
    let tmp = Tmp::new();
    let base = "start = \"2026-12-01\"\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n\
                [agent.session]\nactive_minutes = 30\nrequests = 6\ninput_tokens = 4000\n";
    for (body, want) in [
        (
            base.replace("requests = 6", "requets = 6"),
            "agent[0].session.requets: unknown key (did you mean `requests`?)",
        ),
        (
            base.replace(
                "input_tokens = 4000",
                "input_tokens = { dist = \"lognormal\", p50 = 1200, p90 = 800 }",
            ),
            "agent[0].session.input_tokens: lognormal p90 (800) must be >= p50 (1200)",
        ),
        (
            base.replace("requests = 6", "requests = -1"),
            "agent[0].session.requests: must not be negative",
        ),
        (
            base.replace(
                "start = \"2026-12-01\"",
                "start = \"2026-12-01\"\nmonths = 0",
            ),
            "months: must be a whole number",
        ),
        (
            base.replace(
                "input_tokens = 4000",
                "input_tokens = { dist = \"empirical\", file = \"missing.txt\" }",
            ),
            "missing.txt",
        ),
        (
            base.replace("claude-sonnet-4-6", "claude-imaginary"),
            "unknown model \"claude-imaginary\"",
        ),
        (
            base.replace("sessions_per_day = 1", "sesions_per_day = 1"),
            "did you mean `sessions_per_day`?",
        ),
    ] {
        let f = tmp.write("bad.toml", &body);
        let r = run(["project", f.to_str().unwrap(), "--runs", "10"]);
        assert_eq!(r.code, 2, "{want}: {}", r.stdout);
        assert!(
            r.stderr.contains(&format!("{}: ", f.display())),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(want), "want {want:?} in {}", r.stderr);
    }
}

/// Total cost of the metered files, via the binary.
fn metered_total(path: &std::path::Path) -> (Decimal, u64) {
    let r = run([
        "meter".as_ref(),
        path.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    (
        d(&v["totals"]["cost"]["total"]),
        v["totals"]["sessions"].as_u64().unwrap(),
    )
}

#[test]
fn simulated_fixed_sessions_meter_to_the_expected_cost_exactly() {
    // 10 daily-research sessions: 10 x (0.04 + 0.18) = 2.2, through simulate -> meter.
    let tmp = Tmp::new();
    let dir = tmp.path("sim");
    let file = scenarios().join("daily-research.toml");
    let r = run([
        "simulate".as_ref(),
        file.as_os_str(),
        "--sessions".as_ref(),
        "10".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(metered_total(&dir), (dec("2.2"), 10));
    // It never overwrites what is there.
    let r = run([
        "simulate".as_ref(),
        file.as_os_str(),
        "--sessions".as_ref(),
        "10".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 2);
}

#[test]
fn simulate_then_meter_agrees_with_the_projection() {
    // 200 sessions of a scenario with distributions, in one month. The projection's Monte Carlo
    // gives the distribution of a 200-session month; what the simulated exports meter to must lie
    // within 3 standard deviations of its expectation (sd from the p5-p95 range: 3.29 sd).
    let tmp = Tmp::new();
    let scenario = tmp.write(
        "loop.toml",
        "start = \"2026-12-01\"\nmonths = 1\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_month = 200\n\
         [agent.session]\nactive_minutes = { dist = \"lognormal\", p50 = 12, p90 = 40 }\nrequests = { dist = \"poisson\", mean = 5 }\n\
         web_searches = { dist = \"poisson\", mean = 1 }\ninput_tokens = { dist = \"lognormal\", p50 = 2000, p90 = 6000 }\n\
         output_tokens = { dist = \"uniform\", min = 200, max = 1200 }\ncache_read_tokens = { dist = \"normal\", mean = 20000, sd = 5000 }\n\
         cache_write_tokens = { dist = \"poisson\", mean = 1500 }\ncache_ttl = \"1h\"\n",
    );
    let out = tmp.path("loop.ndjson");
    let r = run([
        "simulate".as_ref(),
        scenario.as_os_str(),
        "--sessions".as_ref(),
        "200".as_ref(),
        "--seed".as_ref(),
        "11".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (metered, sessions) = metered_total(&out);
    assert_eq!(sessions, 200);
    let v = project_json(&[scenario.to_str().unwrap(), "--runs", "4000"]);
    let m = &v["months"][0];
    let (expected, p5, p95) = (d(&m["expected"]), d(&m["p5"]), d(&m["p95"]));
    let sd = (p95 - p5) / dec("3.29");
    assert!(sd > Decimal::ZERO);
    assert!(
        (metered - expected).abs() <= dec("3") * sd,
        "metered {metered}, expected {expected}, sd {sd}"
    );
}

#[test]
fn fit_recovers_a_fixed_scenario() {
    // Simulated daily-research sessions have fixed quantities: the fitted scenario has them too
    // and projects the same $0.22 per session.
    let tmp = Tmp::new();
    let dir = tmp.path("sim");
    let file = scenarios().join("daily-research.toml");
    assert_eq!(
        run([
            "simulate".as_ref(),
            file.as_os_str(),
            "--sessions".as_ref(),
            "20".as_ref(),
            "-o".as_ref(),
            dir.as_os_str()
        ])
        .code,
        0
    );
    let fitted = tmp.path("fitted.toml");
    let r = run([
        "fit".as_ref(),
        dir.as_os_str(),
        "-o".as_ref(),
        fitted.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&fitted).unwrap();
    for line in [
        "active_minutes = 30",
        "requests = 6",
        "input_tokens = 4000",
        "output_tokens = 900",
        "cache_read_tokens = 15000",
        "model = \"claude-sonnet-4-6\"",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    let v = project_json(&[fitted.to_str().unwrap(), "--months", "1", "--runs", "10"]);
    let m = &v["months"][0];
    // expected_sessions is shown rounded: the ratio is $0.22 to the micro-dollar.
    let per_session = d(&m["expected"]) / d(&m["expected_sessions"]);
    assert_eq!(per_session.round_dp(6), dec("0.22"));
}

/// `fit` on 120 days of history that grow 10% a month, are quiet at weekends and run 3 of 4
/// sessions on Opus: the fitted scenario carries the growth, the weekly shape and the mix, and
/// its next month is what the history's own process gives.
#[test]
fn fit_recovers_growth_the_weekly_shape_and_the_model_mix_from_history() {
    use chrono::{Datelike, Duration, NaiveDate};
    use serde_json::json;
    // Weights Monday..Sunday 1,1,1,1,1,0.3,0.3 (sum 5.6), scaled to mean 1: 1.25 and 0.375.
    let weight = |day: NaiveDate| {
        if day.weekday().num_days_from_monday() < 5 {
            1.25
        } else {
            0.375
        }
    };
    // The process: 20 sessions a day on the mean day at day 0, times 1.1 a month (30.4375 days).
    let rate = |t: i64, day: NaiveDate| 20.0 * 1.1f64.powf(t as f64 / 30.4375) * weight(day);
    let first = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(); // a Monday
    let mut lines = Vec::new();
    let mut n = 0u64;
    for t in 0..120 {
        let day = first + Duration::days(t);
        for _ in 0..rate(t, day).round() as u64 {
            let model = if n.is_multiple_of(4) {
                "claude-sonnet-4-6"
            } else {
                "claude-opus-4-6"
            };
            let id = format!("sesn_h{n:05}");
            let at = |min: u32| format!("{day}T10:{min:02}:00Z");
            lines.push(with(
                session(&id, model),
                json!({"created_at": at(0), "updated_at": at(9)}),
            ));
            lines.push(with(
                ev(&format!("{id}_1"), "session.status_running", &at(0)),
                json!({"session_id": id}),
            ));
            lines.push(with(
                request(&format!("{id}_2"), &at(5), 1000, 100, 0, 0),
                json!({"session_id": id}),
            ));
            lines.push(with(
                ev(&format!("{id}_3"), "session.status_idle", &at(9)),
                json!({"session_id": id}),
            ));
            n += 1;
        }
    }
    let tmp = Tmp::new();
    let history = tmp.write("history.ndjson", &ndjson(&lines));
    let fitted = tmp.path("fitted.toml");
    let r = run([
        "fit".as_ref(),
        history.as_os_str(),
        "-o".as_ref(),
        fitted.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&fitted).unwrap();
    let scenario: toml::Table = text.parse().unwrap();
    // The history ends on 2026-09-28: the projection starts the month after.
    assert_eq!(scenario["start"].as_str(), Some("2026-10-01"), "{text}");
    let agent = &scenario["agent"].as_array().unwrap()[0];
    let growth = agent["growth_per_month"]
        .as_table()
        .expect("a growth distribution");
    let pct = |k: &str| {
        growth[k]
            .as_str()
            .unwrap()
            .trim_end_matches('%')
            .parse::<f64>()
            .unwrap()
    };
    assert!((pct("mean") - 10.0).abs() < 1.0, "{text}");
    assert!(pct("sd") > 0.0 && pct("sd") < 2.0, "{text}");
    let w: Vec<f64> = agent["weekday_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_float().unwrap())
        .collect();
    for (k, want) in [1.25, 1.25, 1.25, 1.25, 1.25, 0.375, 0.375]
        .iter()
        .enumerate()
    {
        assert!((w[k] - want).abs() < 0.05, "weekday {k}: {w:?}");
    }
    let mix = agent["model_mix"].as_table().expect("a model mix");
    let share = |m: &str| mix[m].as_float().unwrap();
    assert!((share("claude-opus-4-6") - 0.75).abs() < 0.01, "{text}");
    assert!((share("claude-sonnet-4-6") + share("claude-opus-4-6") - 1.0).abs() < 1e-12);

    // October 2026 (t = 122..152) under the same process, against the fitted projection.
    let truth: f64 = (122..153).map(|t| rate(t, first + Duration::days(t))).sum();
    let v = project_json(&[fitted.to_str().unwrap(), "--months", "1", "--runs", "10"]);
    let got: f64 = d(&v["months"][0]["expected_sessions"])
        .to_string()
        .parse()
        .unwrap();
    assert!(
        (got / truth - 1.0).abs() < 0.05,
        "{got} sessions fitted vs {truth} in the process"
    );
}

/// `project --from` projects the scenario `fit` would write, without the file; and
/// `--sessions-per-day` sets the volume: N sessions on each day of the month.
#[test]
fn project_from_exports_is_the_fitted_scenario_projected() {
    let tmp = Tmp::new();
    let fitted = tmp.path("fitted.toml");
    let r = run(["fit", "docs/examples", "-o", fitted.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let from_file = project_json(&[fitted.to_str().unwrap(), "--months", "2", "--runs", "20"]);
    let from = project_json(&["--from", "docs/examples", "--months", "2", "--runs", "20"]);
    assert_eq!(from["months"], from_file["months"]);
    assert_eq!(from["total"], from_file["total"]);

    let v = project_json(&[
        "--from",
        "docs/examples",
        "--sessions-per-day",
        "2",
        "--months",
        "1",
        "--runs",
        "20",
    ]);
    let month = v["months"][0]["month"].as_str().unwrap().to_string();
    let (y, m) = (
        month[..4].parse::<i32>().unwrap(),
        month[5..7].parse::<u32>().unwrap(),
    );
    let first = chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap();
    let days = (first.checked_add_months(chrono::Months::new(1)).unwrap() - first).num_days();
    // docs/examples has two agents, researcher and triage (researcher's model_mix shares its
    // volume out, it adds none): 2 sessions a day each, every day (no weekly shape in a short
    // history).
    let agents = 2;
    assert_eq!(
        d(&v["months"][0]["expected_sessions"]),
        Decimal::from(2 * days * agents),
        "{v}"
    );

    let r = run(["project", "--sessions-per-day", "2", "scenarios/team.toml"]);
    assert_eq!(r.code, 2, "--sessions-per-day needs --from: {}", r.stderr);
}

/// Two agents a day, each the daily-research session (30 min, 6 requests of 4,000 input, 900
/// output, 15,000 cache read): on Sonnet 4.6 runtime 0.04 + tokens 0.18 = 0.22 a day; on Opus
/// 4.6 ($5, $25, $0.50 per M) tokens 6 x (0.02 + 0.0225 + 0.0075) = 0.30, so 0.34 a day.
fn two_agents(tmp: &Tmp) -> std::path::PathBuf {
    let session = "[agent.session]\nactive_minutes = 30\nrequests = 6\ninput_tokens = 4000\noutput_tokens = 900\ncache_read_tokens = 15000\n";
    tmp.write(
        "two.toml",
        &format!(
            "name = \"two\"\nstart = \"2026-12-01\"\nmonths = 2\n\
             [[agent]]\nname = \"sonnet\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n{session}\
             [[agent]]\nname = \"opus\"\nmodel = \"claude-opus-4-6\"\nsessions_per_day = 1\n{session}"
        ),
    )
}

const CONTRACT_HEAD: &str = "schema = 1\nname = \"acme\"\ncurrency = \"USD\"\n";

#[test]
fn a_discount_on_one_model_commitments_and_credits_are_priced_as_rating_would() {
    // 15% off Opus tokens from 2026-12-16 to 2027-01-11 (exclusive); a $16.80 monthly
    // minimum; a $5 credit from 2026-12-31 to 2027-01-31.
    //
    // December (31 days): Sonnet 31 x 0.22 = 6.82 (not named). Opus at list 31 x 0.34 = 10.54;
    // contracted: runtime 31 x 0.04 = 1.24 (a discount with `models` covers tokens only),
    // tokens 15 days (1-15) x 0.30 = 4.50 + 16 days (16-31) x 0.30 x 0.85 = 16 x 0.255 =
    // 4.08: 9.82. The month: list 17.36, contracted 16.64 < 16.80: shortfall 0.16.
    // January: Sonnet 6.82; Opus list 10.54, contracted 1.24 + 10 days (1-10) x 0.255 = 2.55 +
    // 21 x 0.30 = 6.30: 10.09. The month: list 17.36, contracted 16.91 (no shortfall).
    // Horizon: list 34.72, contracted 33.55.
    // The credit starts on Dec 31: that day's charges (0.22 + 0.04 + 0.255 = 0.515) and the
    // shortfall (0.16, billed on the month's last day) use 0.675 of it; January uses the rest,
    // 5 - 0.675 = 4.325. Billed: December 16.64 + 0.16 - 0.675 = 16.125, January 16.91 -
    // 4.325 = 12.585; the horizon 33.55 + 0.16 - 5 = 28.71.
    let tmp = Tmp::new();
    let file = two_agents(&tmp);
    let contract = tmp.write(
        "c.toml",
        &format!(
            "{CONTRACT_HEAD}[[discount]]\neffective = \"2026-12-16\"\nuntil = \"2027-01-11\"\npercent = \"15%\"\nmodels = [\"claude-opus-4-6\"]\n\n\
             [[commitment]]\neffective = \"2026-12-01\"\nmonthly_minimum_usd = \"16.80\"\n\n\
             [[credit]]\neffective = \"2026-12-31\"\namount_usd = \"5\"\nexpires = \"2027-01-31\"\n"
        ),
    );
    let v = project_json(&[
        file.to_str().unwrap(),
        "--runs",
        "2000",
        "--contract",
        contract.to_str().unwrap(),
    ]);
    let (dec_, jan) = (&v["months"][0], &v["months"][1]);
    assert_eq!(d(&dec_["list_expected"]), dec("17.36"));
    assert_eq!(d(&dec_["expected"]), dec("16.64"));
    assert_eq!(d(&jan["list_expected"]), dec("17.36"));
    assert_eq!(d(&jan["expected"]), dec("16.91"));
    assert_eq!(d(&v["total"]["list_expected"]), dec("34.72"));
    assert_eq!(d(&v["total"]["expected"]), dec("33.55"));
    // Per agent over the horizon: Sonnet 13.64 both ways; Opus list 21.08, contracted 9.82 +
    // 10.09 = 19.91. Runtime is not discounted: 2 agents x 62 days x 0.04 = 4.96 both ways.
    let agent = |i: usize| {
        (
            d(&v["agents"][i]["list_expected"]),
            d(&v["agents"][i]["expected"]),
        )
    };
    assert_eq!(agent(0), (dec("13.64"), dec("13.64")));
    assert_eq!(agent(1), (dec("21.08"), dec("19.91")));
    let runtime = &v["categories"][0];
    assert_eq!(runtime["category"], "runtime");
    assert_eq!(
        (d(&runtime["list_expected"]), d(&runtime["expected"])),
        (dec("4.96"), dec("4.96"))
    );
    // The monthly terms.
    let t = &dec_["contract"];
    assert_eq!(d(&t["minimum"]), dec("16.80"));
    assert_eq!(d(&t["shortfall"]), dec("0.16"));
    assert_eq!(d(&t["credits"][0]["used"]), dec("0.675"));
    assert_eq!(d(&t["billed"]), dec("16.125"));
    let t = &jan["contract"];
    assert_eq!(d(&t["shortfall"]), Decimal::ZERO);
    assert_eq!(d(&t["credits"][0]["used"]), dec("4.325"));
    assert_eq!(d(&t["billed"]), dec("12.585"));
    let c = &v["contract"];
    assert_eq!(d(&c["list_expected"]), dec("34.72"));
    assert_eq!(d(&c["commitment_shortfall"]), dec("0.16"));
    assert_eq!(d(&c["credits_used"]), dec("5"));
    assert_eq!(d(&c["billed"]), dec("28.71"));
    assert_eq!(d(&c["credits"][0]["remaining"]), Decimal::ZERO);
    // The runs are priced at the contracted prices too: a session falls on a discounted day
    // by chance (16 of 31 in December), so a run's December varies by a few cents (sd about
    // sqrt(31 x 16/31 x 15/31) x 0.045 = $0.12), and the mean of 2,000 runs is within 0.3% of
    // 16.64 (at list it would be 17.36, 4% away).
    let mean = d(&dec_["mean"]);
    assert!(
        ((mean - dec("16.64")) / dec("16.64")).abs() < dec("0.003"),
        "{mean}"
    );
    // The table: List before Expected, the terms after the percentiles.
    let r = run_within(
        60,
        [
            "project",
            file.to_str().unwrap(),
            "--runs",
            "20",
            "--contract",
            contract.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let head = r.stdout.lines().nth(1).unwrap();
    let cols: Vec<&str> = head.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "Month",
            "Sessions",
            "List",
            "Expected",
            "Mean",
            "p5",
            "p50",
            "p95",
            "p99",
            "Shortfall",
            "Credits",
            "Billed",
            "Billed",
            "p5",
            "Billed",
            "p50",
            "Billed",
            "p95"
        ],
        "{}",
        r.stdout
    );
    let total: Vec<&str> = (r.stdout.lines())
        .find(|l| l.starts_with("Total"))
        .unwrap()
        .split_whitespace()
        .collect();
    // 2 agents x 62 days = 124 sessions.
    assert_eq!(
        total[..4],
        ["Total", "124", "$34.72", "$33.55"],
        "{total:?}"
    );
    assert_eq!(
        total[total.len() - 6..total.len() - 3],
        ["$0.16", "$5.00", "$28.71"],
        "{total:?}"
    );
    assert!(
        r.stdout
            .lines()
            .next()
            .unwrap()
            .contains(", contract acme@"),
        "{}",
        r.stdout
    );
}

#[test]
fn with_fixed_sessions_every_run_pays_the_contracted_amount_price_changes_included() {
    // A discount that covers whole months leaves no chance in which day a session falls: every
    // run is the expectation. 10% off every charge (no `models`) from 2026-12-01, and from
    // 2027-01-01 runtime certainly at $0.16/h (a `[[price_change]]`, a list price).
    // December: runtime 0.04 x 0.9 = 0.036, tokens 0.18 x 0.9 = 0.162: 31 x 0.198 = 6.138
    // (list 6.82). January: runtime 0.5 h x 0.16 = 0.08 x 0.9 = 0.072, tokens 0.162: 31 x
    // 0.234 = 7.254 (list 31 x (0.08 + 0.18) = 8.06). A run that took the changed price at
    // list would give 31 x (0.08 + 0.162) = 7.502.
    let tmp = Tmp::new();
    let scenario = std::fs::read_to_string(scenarios().join("daily-research.toml")).unwrap();
    let file = tmp.write(
        "s.toml",
        &format!("{scenario}\n[[price_change]]\neffective = \"2027-01-01\"\nruntime_usd_per_hour = \"0.16\"\n"),
    );
    let contract = tmp.write(
        "c.toml",
        &format!("{CONTRACT_HEAD}[[discount]]\neffective = \"2026-12-01\"\npercent = \"10%\"\n"),
    );
    let v = project_json(&[
        file.to_str().unwrap(),
        "--months",
        "2",
        "--runs",
        "30",
        "--contract",
        contract.to_str().unwrap(),
    ]);
    for (m, (list, paid)) in [("6.82", "6.138"), ("8.06", "7.254")]
        .into_iter()
        .enumerate()
    {
        let month = &v["months"][m];
        assert_eq!(d(&month["list_expected"]), dec(list), "month {m}");
        for k in ["expected", "mean", "p5", "p50", "p95", "p99"] {
            assert_eq!(d(&month[k]), dec(paid), "month {m} {k}");
        }
        // No commitment or credit: billed is the contracted amount.
        assert_eq!(d(&month["contract"]["billed"]), dec(paid), "month {m}");
    }
}

/// The daily-research agent (0.22 a session on Sonnet 4.6) with Poisson arrivals: a month's
/// sessions N are Poisson(31), what a run pays 0.22 x N, over two months from 2026-12.
fn poisson_research(tmp: &Tmp) -> std::path::PathBuf {
    let scenario = std::fs::read_to_string(scenarios().join("daily-research.toml")).unwrap();
    tmp.write(
        "poisson.toml",
        &scenario.replace(
            "sessions_per_day = 1\n",
            "sessions_per_day = 1\narrivals = \"poisson\"\n",
        ),
    )
}

#[test]
fn every_run_bills_its_months_under_the_commitment_and_the_credit() {
    // A $100 monthly minimum, far above any run (0.22 x N with N ~ Poisson(31): 6.82 on
    // average, $13.2 at 60 sessions), and a $30 credit for the whole horizon. Every run's
    // December: it pays p, the shortfall 100 - p, the credit 30 of the 100 owed: billed 70;
    // January 100 (the credit is used up); the horizon 170. So the bill's band is one value
    // while the spend's is wide. At the expected spend the same: 6.82 + 93.18 - 30 = 70.
    let tmp = Tmp::new();
    let file = poisson_research(&tmp);
    let contract = tmp.write(
        "c.toml",
        &format!(
            "{CONTRACT_HEAD}[[commitment]]\neffective = \"2026-12-01\"\nmonthly_minimum_usd = \"100\"\n\n\
             [[credit]]\neffective = \"2026-12-01\"\namount_usd = \"30\"\nexpires = \"2027-12-31\"\n"
        ),
    );
    let v = project_json(&[
        file.to_str().unwrap(),
        "--months",
        "2",
        "--runs",
        "500",
        "--contract",
        contract.to_str().unwrap(),
    ]);
    for (m, billed, credits) in [(0, "70", "30"), (1, "100", "0")] {
        let month = &v["months"][m];
        let runs = &month["contract"]["runs"];
        for k in ["mean", "p5", "p50", "p95", "p99"] {
            assert_eq!(d(&runs["billed"][k]), dec(billed), "month {m} {k}");
        }
        assert_eq!(d(&month["contract"]["billed"]), dec(billed), "month {m}");
        assert_eq!(d(&runs["credits_used_mean"]), dec(credits), "month {m}");
        // The spend varies (sd 0.22 x sqrt(31) = $1.22): its band is not one value.
        assert!(d(&month["p95"]) - d(&month["p5"]) > dec("2"), "{month}");
        // Each run's shortfall is 100 - p: their mean is 100 less the runs' mean spend (to
        // the 6 places both are given at).
        let gap = d(&runs["shortfall_mean"]) + d(&month["mean"]) - dec("100");
        assert!(gap.abs() <= dec("0.000001"), "month {m}: {gap}");
    }
    let runs = &v["contract"]["runs"];
    for k in ["mean", "p5", "p50", "p95", "p99"] {
        assert_eq!(d(&runs["billed"][k]), dec("170"), "{k}");
    }
    assert_eq!(d(&runs["credits_used_mean"]), dec("30"));
    assert_eq!(d(&v["contract"]["billed"]), dec("170"));

    // The table: the band of the bill after Billed, the horizon's on the total row.
    let r = run_within(
        60,
        [
            "project",
            file.to_str().unwrap(),
            "--months",
            "2",
            "--runs",
            "50",
            "--contract",
            contract.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cells = |start: &str| -> Vec<String> {
        let line = r.stdout.lines().find(|l| l.starts_with(start)).unwrap();
        line.split_whitespace().map(String::from).collect()
    };
    let dec_ = cells("2026-12");
    assert_eq!(
        dec_[dec_.len() - 4..],
        ["$70.00", "$70.00", "$70.00", "$70.00"],
        "{dec_:?}"
    );
    let total = cells("Total");
    assert_eq!(
        total[total.len() - 4..],
        ["$170.00", "$170.00", "$170.00", "$170.00"],
        "{total:?}"
    );

    // The report: the band of the bill in the summary and in the table by month.
    let dir = tmp.path("report");
    let r = run_within(
        120,
        [
            "project",
            file.to_str().unwrap(),
            "--months",
            "2",
            "--runs",
            "50",
            "--contract",
            contract.to_str().unwrap(),
            "--report",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for row in [
        "| Billed at the expected spend (commitments, credits) | $170.00 |",
        "| Billed, p5 of the runs' bills | $170.00 |",
        "| Billed, p50 | $170.00 |",
        "| Billed, p95 | $170.00 |",
    ] {
        assert!(md.contains(row), "{row}\n{md}");
    }
    let head = md.lines().find(|l| l.starts_with("| Month |")).unwrap();
    assert!(
        head.ends_with("| Billed | Billed p5 | Billed p50 | Billed p95 |"),
        "{head}"
    );
    let jan = md.lines().find(|l| l.starts_with("| 2027-01 |")).unwrap();
    assert!(
        jan.ends_with("| $100.00 | $100.00 | $100.00 | $100.00 |"),
        "{jan}"
    );
}

#[test]
fn a_minimum_inside_the_band_gives_the_bill_a_band_of_its_own() {
    // A minimum of $6.82 a month: what a run of N = 31 sessions pays, the expected spend. A
    // run bills max(0.22 N, 6.82): P(N <= 31) = 0.548 of the runs bill exactly 6.82, so the
    // bill's p5 and p50 are 6.82, and above the minimum a run bills what it pays, so the
    // bill's p95 is the spend's. On average a run bills 6.82 + 0.22 E[(N - 31)+], and for a
    // Poisson of integer mean l, E[(N - l)+] = l P(N = l) = 31 x 31^31 e^-31 / 31! = 31 x
    // 0.07146 = 2.2153 sessions: 6.82 + 0.4874 = 7.3074, above 6.82, the bill of the expected
    // spend (no shortfall there). The runs' bill has sd 0.22 x 3.37 = $0.74: the mean of 4,000
    // runs is within 4 x 0.74 / sqrt(4000) = 0.047 of it.
    let tmp = Tmp::new();
    let file = poisson_research(&tmp);
    let contract = tmp.write(
        "c.toml",
        &format!(
            "{CONTRACT_HEAD}[[commitment]]\neffective = \"2026-12-01\"\nmonthly_minimum_usd = \"6.82\"\n"
        ),
    );
    let v = project_json(&[
        file.to_str().unwrap(),
        "--months",
        "2",
        "--runs",
        "4000",
        "--contract",
        contract.to_str().unwrap(),
    ]);
    for m in 0..2 {
        let month = &v["months"][m];
        let t = &month["contract"];
        let billed = &t["runs"]["billed"];
        assert_eq!(d(&t["billed"]), dec("6.82"), "month {m}");
        assert_eq!(d(&billed["p5"]), dec("6.82"), "month {m}");
        assert_eq!(d(&billed["p50"]), dec("6.82"), "month {m}");
        assert_eq!(d(&billed["p95"]), d(&month["p95"]), "month {m}");
        assert!(
            d(&month["p5"]) < dec("6.82"),
            "the spend goes below: {month}"
        );
        let mean = d(&billed["mean"]);
        assert!(
            (mean - dec("7.3074")).abs() < dec("0.047"),
            "month {m}: {mean}"
        );
    }
}

#[test]
fn the_model_comparison_shows_the_list_expectation_beside_the_contracted_one() {
    // daily-research for December (31 days), priced as Sonnet 4.6 and as Opus 4.6, with 20%
    // off Opus tokens. Sonnet: 31 x (0.04 + 0.18) = 6.82, no discount. Opus: tokens 6 x
    // (4,000 x $5 + 900 x $25 + 15,000 x $0.50) / 1M = 0.30 a session, so list 31 x (0.04 +
    // 0.30) = 10.54 and contracted 31 x (0.04 + 0.30 x 0.8) = 31 x 0.28 = 8.68; vs first
    // 8.68 / 6.82 = 1.27x.
    let tmp = Tmp::new();
    let file = scenarios().join("daily-research.toml");
    let contract = tmp.write(
        "c.toml",
        &format!(
            "{CONTRACT_HEAD}[[discount]]\neffective = \"2026-12-01\"\npercent = \"20%\"\nmodels = [\"claude-opus-4-6\"]\n"
        ),
    );
    let project = |contract: Option<&std::path::Path>, report: Option<&std::path::Path>| {
        let mut args: Vec<String> = [
            "project",
            file.to_str().unwrap(),
            "--months",
            "1",
            "--runs",
            "10",
            "--model",
            "claude-sonnet-4-6",
            "--model",
            "claude-opus-4-6",
        ]
        .map(String::from)
        .to_vec();
        if let Some(c) = contract {
            args.extend(["--contract".into(), c.to_str().unwrap().into()]);
        }
        if let Some(d) = report {
            args.extend(["--report".into(), d.to_str().unwrap().into()]);
        }
        let r = run_within(60, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let out = project(Some(&contract), None);
    let table: Vec<Vec<&str>> = out
        .split("Horizon total by model\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        table[0][..5],
        ["Model", "vs", "first", "List", "Expected"],
        "{out}"
    );
    assert_eq!(
        table[2][..4],
        ["claude-sonnet-4-6", "1.00x", "$6.82", "$6.82"],
        "{out}"
    );
    assert_eq!(
        table[3][..4],
        ["claude-opus-4-6", "1.27x", "$10.54", "$8.68"],
        "{out}"
    );
    // Without a contract the table is as before.
    let plain = project(None, None);
    let head = plain
        .split("Horizon total by model\n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(!head.contains("List"), "{plain}");
    // The report's table of the plan and each model has it too (the plan as written is
    // Sonnet: 6.82).
    let dir = tmp.path("report");
    project(Some(&contract), Some(&dir));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| Projection | List | Expected |"), "{md}");
    assert!(
        md.lines().any(|l| l
            .starts_with("| daily-research, every agent as claude-opus-4-6 | $10.54 | $8.68 |")),
        "{md}"
    );
}
