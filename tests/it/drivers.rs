//! Uncertain drivers of a projection (volume, growth, weekday weights, model mix, price
//! changes): expectations worked out by hand, Monte Carlo checked against them.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::*;

fn d(v: &Value) -> Decimal {
    dec(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
}

fn f(v: &Value) -> f64 {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .parse()
        .unwrap()
}

/// A scenario from December 2026 whose one agent (`agent`: its volume and drivers) runs
/// sessions of `session`; `extra` goes after the agent (e.g. `[[price_change]]`).
fn scenario(months: u32, agent: &str, session: &str, extra: &str) -> String {
    format!(
        "start = \"2026-12-01\"\nmonths = {months}\n{extra}\n[[agent]]\nname = \"a\"\n{agent}\n[agent.session]\n{session}\n"
    )
}

/// One running hour and nothing else: $0.08 a session at the bundled runtime price.
const HOUR: &str = "active_minutes = 60\nrequests = 0";
const OPUS: &str = "model = \"claude-opus-4-6\"";

fn project(tmp: &Tmp, text: &str, args: &[&str]) -> Value {
    let file = tmp.write("s.toml", text);
    let mut a = vec!["project", file.to_str().unwrap(), "--format", "json"];
    a.extend(args);
    let r = run_within(120, &a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn refused(tmp: &Tmp, text: &str, message: &str) {
    let file = tmp.write("bad.toml", text);
    let r = run_within(60, ["project", file.to_str().unwrap(), "--runs", "1"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains(message), "{}", r.stderr);
}

fn close(x: f64, want: f64, rel: f64, what: &str) {
    assert!(
        ((x - want) / want).abs() < rel,
        "{what}: {x} vs {want} (tolerance {rel})"
    );
}

#[test]
fn a_lognormal_level_has_its_analytic_mean_and_spread() {
    // Level L ~ lognormal(p50 100, p90 150) sessions a month, drawn once per run.
    // mu = ln 100, sigma = ln 1.5 / z90 = 0.405465 / 1.281552 = 0.316387;
    // E[L] = 100 exp(sigma^2 / 2) = 100 exp(0.050050) = 105.1324; at $0.08 a session $8.4106.
    // p5 of L = 100 exp(-1.644854 sigma) = 59.42 -> $4.754; p95 = 100 exp(+1.644854 sigma)
    // = 168.30 -> $13.46 (a session count is the level rounded by a coin flip: +-1 session).
    let tmp = Tmp::new();
    let text = scenario(
        1,
        &format!("{OPUS}\nsessions_per_month = {{ dist = \"lognormal\", p50 = 100, p90 = 150 }}"),
        HOUR,
        "",
    );
    let v = project(&tmp, &text, &["--runs", "20000", "--seed", "3"]);
    let sigma = 1.5f64.ln() / 1.281_551_565_544_600_4;
    let mean_level = 100.0 * (sigma * sigma / 2.0).exp();
    close(
        f(&v["months"][0]["expected_sessions"]),
        mean_level,
        1e-9,
        "expected sessions",
    );
    close(
        f(&v["total"]["expected"]),
        0.08 * mean_level,
        1e-9,
        "expected",
    );
    // The run-to-run sd of the cost is about 0.08 x 105.13 x sqrt(exp(sigma^2) - 1) = $2.74:
    // with 20,000 runs the mean's standard error is $0.019 (0.23%); 1% is over 4 of them.
    close(f(&v["total"]["mean"]), 0.08 * mean_level, 0.01, "MC mean");
    let z95 = 1.644_853_626_951_472_2;
    close(
        f(&v["total"]["p5"]),
        0.08 * 100.0 * (-z95 * sigma).exp(),
        0.04,
        "p5",
    );
    close(
        f(&v["total"]["p95"]),
        0.08 * 100.0 * (z95 * sigma).exp(),
        0.04,
        "p95",
    );
    assert_eq!(v["uncertainty"], serde_json::json!(["volume"]));
}

/// E[G^m] of a normal G by the binomial expansion of (mu + sd Z)^m with E[Z^k] = (k-1)!!
/// for even k (0 for odd): a different route from the program's recursion.
fn normal_power_mean(mu: f64, sd: f64, m: u32) -> f64 {
    let (mut sum, mut binom) = (0.0, 1.0);
    for k in 0..=m {
        if k > 0 {
            binom = binom * (m - k + 1) as f64 / k as f64;
        }
        if k % 2 == 0 {
            let double_factorial: f64 = (1..k).step_by(2).map(|x| x as f64).product();
            sum += binom * mu.powi((m - k) as i32) * sd.powi(k as i32) * double_factorial;
        }
    }
    sum
}

#[test]
fn a_normal_growth_compounds_to_its_exact_expectation() {
    // 2,000 sessions a month growing g ~ normal(2%, 1%) a month, drawn once per run. Month 12
    // has 2,000 x E[(1 + g)^12] sessions, not 2,000 x 1.02^12: E[G^12] = 1.02^12
    // + 66 x 1.02^10 x 0.01^2 + 495 x 1.02^8 x 0.01^4 x 3 + ... = 1.268242 + 0.008045
    // + 0.000017 = 1.276305 (truncation at G = 0 is 102 sd away: nothing).
    let tmp = Tmp::new();
    let text = scenario(
        13,
        &format!("{OPUS}\nsessions_per_month = 2000\ngrowth_per_month = {{ dist = \"normal\", mean = \"2%\", sd = \"1%\" }}"),
        HOUR,
        "",
    );
    let v = project(&tmp, &text, &["--runs", "20000", "--seed", "11"]);
    let eg12 = normal_power_mean(1.02, 0.01, 12);
    assert!((eg12 - 1.276_305).abs() < 1e-6, "{eg12}");
    let m12 = &v["months"][12];
    close(
        f(&m12["expected_sessions"]),
        2000.0 * eg12,
        1e-9,
        "month 12",
    );
    assert!(f(&m12["expected_sessions"]) > 2000.0 * 1.02f64.powi(12) * 1.006);
    close(
        f(&m12["expected"]),
        0.08 * 2000.0 * eg12,
        1e-9,
        "month 12 cost",
    );
    let horizon: f64 = (0..13)
        .map(|m| 0.08 * 2000.0 * normal_power_mean(1.02, 0.01, m))
        .sum();
    close(f(&v["total"]["expected"]), horizon, 1e-9, "horizon");
    // Month 12's sd over runs is about 160 x 12 x 0.01 x 1.02^11 = $23.9: the mean of 20,000
    // runs has a standard error of $0.17 (0.08% of $204.2); 0.5% is 6 of them.
    close(f(&m12["mean"]), 0.08 * 2000.0 * eg12, 0.005, "MC mean");
    assert_eq!(v["uncertainty"], serde_json::json!(["growth"]));
    // A uniform growth on [0%, 4%]: E[G^2] = (1.04^3 - 1^3) / (3 x 0.04) = 0.124864 / 0.12
    // = 1.040533..., above 1.02^2 = 1.0404: month 2 of 3,000 a month is 3,121.6 sessions.
    let text = scenario(
        3,
        &format!("{OPUS}\nsessions_per_month = 3000\ngrowth_per_month = {{ dist = \"uniform\", min = \"0%\", max = \"4%\" }}"),
        HOUR,
        "",
    );
    let v = project(&tmp, &text, &["--runs", "10"]);
    close(
        f(&v["months"][2]["expected_sessions"]),
        3121.6,
        1e-9,
        "uniform growth",
    );
}

#[test]
fn weekday_weights_weigh_each_day_and_its_prices() {
    // [1, 1, 1, 1, 1, 0.3, 0.3] scaled to mean 1: x 7 / 5.6 = 1.25 a weekday, 0.375 a weekend
    // day. December 2026 starts on a Tuesday: 4 whole weeks (28 days, weights 28) and Tue 29,
    // Wed 30, Thu 31 (3 x 1.25): 31.75 days' worth, 10 x 31.75 = 317.5 sessions.
    // Runtime goes to $0.80/h from Fri 25th: the 7-day part 25..31 weighs Fri 1.25 + Sat
    // 0.375 + Sun 0.375 + Mon..Thu 4 x 1.25 = 7: 70 sessions x $0.80 = $56.00; the 24 days
    // before weigh 31.75 - 7 = 24.75: 247.5 x $0.08 = $19.80. Month: $75.80.
    let tmp = Tmp::new();
    let text = scenario(
        1,
        &format!("{OPUS}\nsessions_per_day = 10\nweekday_weights = [1, 1, 1, 1, 1, 0.3, 0.3]"),
        HOUR,
        "[[price_change]]\neffective = \"2026-12-25\"\nruntime_usd_per_hour = \"0.80\"\n",
    );
    let v = project(&tmp, &text, &["--runs", "4000", "--seed", "2"]);
    let m = &v["months"][0];
    assert_eq!(d(&m["expected_sessions"]), dec("317.5"));
    assert_eq!(d(&m["expected"]), dec("75.80"));
    // A session falls on the late part with chance 7 / 31.75 = 0.2205, so its cost has sd
    // 0.72 x sqrt(0.2205 x 0.7795) = $0.2985; a run of 317.5 sessions sd $5.32, and the mean
    // of 4,000 runs a standard error of $0.084 (0.11%). Days drawn evenly instead would give
    // 317.5 x (0.08 + 0.72 x 7 / 31) = $77.02, 1.6% off; 0.5% tells the two apart.
    close(f(&m["mean"]), 75.80, 0.005, "MC mean");
    // A sure, fixed price change is a known future price, not an uncertainty.
    assert_eq!(v["uncertainty"], serde_json::json!([]));
    // Without weights the month is 310 sessions: 24 days x 10 x $0.08 + 7 x 10 x $0.80.
    let plain = scenario(
        1,
        &format!("{OPUS}\nsessions_per_day = 10"),
        HOUR,
        "[[price_change]]\neffective = \"2026-12-25\"\nruntime_usd_per_hour = \"0.80\"\n",
    );
    let v = project(&tmp, &plain, &["--runs", "10"]);
    assert_eq!(d(&v["months"][0]["expected"]), dec("75.20"));
}

#[test]
fn a_model_mix_splits_sessions_and_their_cost_by_model() {
    // 10 sessions a day in December (310), 70% Opus, 30% Sonnet: 217 and 93 sessions. A
    // session is one request of 100,000 input tokens: Opus $5/M -> $0.50, Sonnet $3/M ->
    // $0.30. Opus 217 x 0.50 = $108.50, Sonnet 93 x 0.30 = $27.90; total $136.40.
    let tmp = Tmp::new();
    let mix = "model_mix = { \"claude-opus-4-6\" = 0.7, \"claude-sonnet-4-6\" = 0.3 }\nsessions_per_day = 10";
    let session = "active_minutes = 0\nrequests = 1\ninput_tokens = 100000";
    let v = project(&tmp, &scenario(1, mix, session, ""), &["--runs", "20"]);
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    assert_eq!(agents[0]["name"], "a (claude-opus-4-6)");
    assert_eq!(agents[0]["model"], "claude-opus-4-6");
    assert_eq!(agents[1]["model"], "claude-sonnet-4-6");
    assert_eq!(d(&agents[0]["expected"]), dec("108.50"));
    assert_eq!(d(&agents[1]["expected"]), dec("27.90"));
    assert_eq!(d(&v["total"]["expected"]), dec("136.40"));
    // Whole counts of fixed sessions: every run is the same.
    assert_eq!(d(&v["total"]["p5"]), dec("136.40"));
    assert_eq!(d(&v["total"]["p95"]), dec("136.40"));
    assert_eq!(d(&v["months"][0]["expected_sessions"]), dec("310"));
    // A token factor limited to Opus halves Opus's tokens only: 217 x 0.25 + 27.90 = $82.15.
    let halved = scenario(
        1,
        mix,
        session,
        "[[price_change]]\neffective = \"2026-12-01\"\ntoken_factor = 0.5\nmodels = [\"claude-opus-4-6\"]\n",
    );
    let v = project(&tmp, &halved, &["--runs", "20"]);
    assert_eq!(d(&v["total"]["expected"]), dec("82.15"));
    assert_eq!(d(&v["total"]["p50"]), dec("82.15"));
    // Shares that do not sum to 1 are an error naming the key.
    refused(
        &tmp,
        &scenario(1, &mix.replace("0.3", "0.2"), session, ""),
        "agent[0].model_mix: the shares sum to 0.9, not 1",
    );
}

#[test]
fn a_probable_price_change_gives_the_mixture_of_both_prices() {
    // 10 one-hour sessions a day in December: 310 x $0.08 = $24.80. With probability 0.5
    // runtime is $0.16/h from the 1st (310 x 0.16 = $49.60): expected 0.5 x 24.80 + 0.5 x
    // 49.60 = $37.20, and the runs are bimodal: p5 is the old $24.80, p95 the new $49.60 (the
    // sketch is exact to 0.02%).
    let tmp = Tmp::new();
    let change = |price: &str| {
        scenario(
            1,
            &format!("{OPUS}\nsessions_per_day = 10"),
            HOUR,
            &format!("[[price_change]]\neffective = \"2026-12-01\"\nprobability = 0.5\nruntime_usd_per_hour = {price}\n"),
        )
    };
    let v = project(
        &tmp,
        &change("\"0.16\""),
        &["--runs", "4000", "--seed", "9"],
    );
    let t = &v["total"];
    assert_eq!(d(&t["expected"]), dec("37.20"));
    close(f(&t["p5"]), 24.80, 0.001, "p5");
    close(f(&t["p95"]), 49.60, 0.001, "p95");
    // The share of runs at $49.60 is binomial(4,000, 0.5): the mean's sd is $12.40 /
    // sqrt(4,000) = $0.196 (0.53%); 2% is nearly 4 of them.
    close(f(&t["mean"]), 37.20, 0.02, "MC mean");
    assert_eq!(v["uncertainty"], serde_json::json!(["prices"]));
    // A uniform new price on [0.08, 0.16] (mean 0.12, 310 x 0.12 = $37.20): expected 0.5 x
    // 24.80 + 0.5 x 37.20 = $31.00; p95 is the 90th percentile of the changed half:
    // 24.80 + 0.9 x 24.80 = $47.12.
    let v = project(
        &tmp,
        &change("{ dist = \"uniform\", min = \"0.08\", max = \"0.16\" }"),
        &["--runs", "4000", "--seed", "9"],
    );
    let t = &v["total"];
    assert_eq!(d(&t["expected"]), dec("31.00"));
    close(f(&t["p5"]), 24.80, 0.001, "p5");
    // Density there is 0.5 / $24.80 a dollar: the p95's standard error is
    // sqrt(0.95 x 0.05 / 4,000) / 0.0202 = $0.17 (0.4%).
    close(f(&t["p95"]), 47.12, 0.015, "p95");
    // A month of more than 1,000 sessions is summed with the normal approximation, scaled by
    // the run's prices: 100 a day, 3,100 x $0.08 = $248 or 3,100 x $0.16 = $496.
    let busy = change("\"0.16\"").replace("sessions_per_day = 10", "sessions_per_day = 100");
    let v = project(&tmp, &busy, &["--runs", "2000", "--seed", "9"]);
    let t = &v["total"];
    assert_eq!(d(&t["expected"]), dec("372"));
    close(f(&t["p5"]), 248.0, 0.001, "p5, approximated");
    close(f(&t["p95"]), 496.0, 0.001, "p95, approximated");
    // A sure change from the 17th: 16 days x 100 x $0.08 + 15 x 100 x $0.16 = 128 + 240 =
    // $368, every run (the approximation's mean price ratio over the days is 46 / 31).
    let mid = busy
        .replace("probability = 0.5\n", "")
        .replace("2026-12-01", "2026-12-17")
        .replace("start = \"2026-12-17\"", "start = \"2026-12-01\"");
    let v = project(&tmp, &mid, &["--runs", "50"]);
    assert_eq!(d(&v["total"]["expected"]), dec("368"));
    close(
        f(&v["total"]["p50"]),
        368.0,
        1e-6,
        "approximated, mid-month change",
    );
}

#[test]
fn the_uncertainty_list_names_exactly_the_drivers_present() {
    let tmp = Tmp::new();
    let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let run_json = |file: &std::path::Path| {
        let r = run_within(
            120,
            [
                "project",
                file.to_str().unwrap(),
                "--runs",
                "20",
                "--months",
                "1",
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<Value>(&r.stdout).unwrap()["uncertainty"].clone()
    };
    assert_eq!(
        run_json(&scenarios.join("daily-research.toml")),
        serde_json::json!([])
    );
    assert_eq!(
        run_json(&scenarios.join("team.toml")),
        serde_json::json!(["per_session", "arrivals"])
    );
    let all = scenario(
        2,
        &format!("{OPUS}\narrivals = \"poisson\"\nsessions_per_day = {{ dist = \"lognormal\", p50 = 10, p90 = 15 }}\ngrowth_per_month = {{ dist = \"uniform\", min = \"0%\", max = \"4%\" }}"),
        "active_minutes = { dist = \"uniform\", min = 10, max = 20 }\nrequests = 0",
        "[[price_change]]\neffective = \"2027-01-01\"\nprobability = 0.3\ntoken_factor = 0.8\n",
    );
    assert_eq!(
        project(&tmp, &all, &["--runs", "20"])["uncertainty"],
        serde_json::json!(["per_session", "arrivals", "volume", "growth", "prices"])
    );
    // The table says it in words.
    let file = tmp.write("all.toml", &all);
    let r = run_within(60, ["project", file.to_str().unwrap(), "--runs", "20"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("uncertainty: the p5-p95 band covers per-session variation"),
        "{}",
        r.stdout
    );
    let growth_only = scenario(
        1,
        &format!("{OPUS}\nsessions_per_day = 1\ngrowth_per_month = {{ dist = \"normal\", mean = \"1%\", sd = \"1%\" }}"),
        HOUR,
        "",
    );
    let file = tmp.write("g.toml", &growth_only);
    let r = run_within(60, ["project", file.to_str().unwrap(), "--runs", "20"]);
    assert!(
        r.stdout
            .contains("per-session variation, arrivals, volume, prices are fixed as written"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_month_of_1000_sessions_stays_simulated_one_by_one() {
    // 1,000 a month is 1000/31 a day in December, inexact in decimal: the month must still be
    // exactly 1,000 sessions (not a hair over the 1,000 past which months are approximated),
    // so 10 runs simulate 10 x 1,000 sessions and note nothing.
    let tmp = Tmp::new();
    let text = scenario(1, &format!("{OPUS}\nsessions_per_month = 1000"), HOUR, "");
    let v = project(&tmp, &text, &["--runs", "10"]);
    assert_eq!(v["simulated_sessions"], 10_000);
    assert_eq!(v["notes"], serde_json::json!([]));
    // 1000/31 a day is rounded at 28 digits, and so is its sum over the days.
    assert_eq!(d(&v["total"]["expected"]).round_dp(12), dec("80"));
}

#[test]
fn driver_errors_name_the_key_and_the_problem() {
    let tmp = Tmp::new();
    let agent = |a: &str| scenario(1, &format!("{OPUS}\n{a}"), HOUR, "");
    refused(
        &tmp,
        &agent(
            "sessions_per_day = 1\ngrowth_per_month = { dist = \"normal\", mean = 2, sd = \"1%\" }",
        ),
        "agent[0].growth_per_month.mean: write growth as a percentage string",
    );
    refused(
        &tmp,
        &agent("sessions_per_day = 1\ngrowth_per_month = { dist = \"lognormal\", p50 = \"1%\", p90 = \"2%\" }"),
        "agent[0].growth_per_month.dist: growth takes a fixed, uniform or normal distribution",
    );
    refused(
        &tmp,
        &agent("sessions_per_day = { dist = \"lognormal\", p50 = 1, p90 = 1e9 }"),
        "agent[0].sessions_per_day: the mean of lognormal",
    );
    refused(
        &tmp,
        &agent("sessions_per_day = 1\nweekday_weights = [1, 1, 1]"),
        "agent[0].weekday_weights: expected 7 weights",
    );
    refused(
        &tmp,
        &agent("sessions_per_day = 1\nmodel_mix = { \"claude-opus-4-6\" = 1 }"),
        "agent[0]: give model or model_mix, not both",
    );
    let change = |c: &str| {
        scenario(
            1,
            &format!("{OPUS}\nsessions_per_day = 1"),
            HOUR,
            &format!("[[price_change]]\neffective = \"2027-01-01\"\n{c}\n"),
        )
    };
    refused(
        &tmp,
        &change("probabilty = 0.5\ntoken_factor = 2"),
        "price_change[0].probabilty: unknown key (did you mean `probability`?)",
    );
    refused(
        &tmp,
        &change("probability = 1.5\ntoken_factor = 2"),
        "price_change[0].probability: 1.5 is not a probability",
    );
    refused(
        &tmp,
        &change("runtime_usd_per_hour = 1e7"),
        "price_change[0].runtime_usd_per_hour: 10000000 is more than 1000000 USD per hour",
    );
    refused(&tmp, &change(""), "price_change[0]: changes no price");
    refused(
        &tmp,
        &change("token_factor = 2\nmodels = [\"claude-opus-4-5\", \"claude-opus-4-66\"]"),
        "price_change[0].models[1]: unknown model \"claude-opus-4-66\" in price table anthropic@",
    );
}
