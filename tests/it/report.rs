//! Reports: a self-contained HTML page, markdown, data files, and every chart as PNG and SVG.

use crate::common::*;
use rust_decimal::Decimal;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fn check_chart(dir: &std::path::Path, name: &str, labels: &[&str]) {
    let png = std::fs::read(dir.join(format!("{name}.png")))
        .unwrap_or_else(|_| panic!("{name}.png missing"));
    assert!(png.starts_with(PNG_MAGIC), "{name}.png is not a PNG");
    // IHDR: width and height of the image, big-endian, right after the signature and chunk header.
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (960, 540), "{name}.png size");
    assert!(png.len() > 10_000, "{name}.png looks empty");
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(
        svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{name}.svg is not an SVG document"
    );
    for l in labels {
        assert!(svg.contains(l), "{name}.svg lacks the label {l:?}");
    }
}

#[test]
fn a_report_of_exports_and_a_scenario() {
    let tmp = Tmp::new();
    let dir = tmp.path("out");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = root.join("docs/examples");
    let scenario = root.join("scenarios/opus-hour.toml");
    let r = run([
        "report".as_ref(),
        examples.as_os_str(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--model".as_ref(),
        "claude-opus-4-6".as_ref(),
        "--model".as_ref(),
        "claude-sonnet-4-6".as_ref(),
        "--runs".as_ref(),
        "100".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_chart(
        &dir,
        "cost-by-category",
        &[
            "Cost by charge category, per model",
            "Cost (USD)",
            "claude-opus-4-6",
            "cache_read",
        ],
    );
    check_chart(
        &dir,
        "daily-spend",
        &["Spend per day", "Spend per day (USD)", "Day"],
    );
    check_chart(
        &dir,
        "projection-fan",
        &[
            "spend per month",
            "Spend per month (USD)",
            "Month",
            "p5-p95",
            "expected",
        ],
    );
    check_chart(
        &dir,
        "projection-histogram",
        &[
            "simulated totals",
            "Total over the horizon (USD)",
            "Runs",
            "p50",
            "p95",
        ],
    );
    check_chart(
        &dir,
        "projection-by-agent",
        &["expected cost by charge category", "uncached", "cached"],
    );
    check_chart(
        &dir,
        "model-comparison",
        &[
            "the plan as written and every agent as each model",
            "claude-sonnet-4-6",
            "Total over the horizon (USD)",
        ],
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    // Cost by category and per day; the plan's and each model's fan and histogram; the plan's
    // agents; the totals side by side.
    assert_eq!(html.matches("<svg").count(), 10, "ten inline charts");
    assert!(
        !html.contains("<img") && !html.contains("src=\"http"),
        "self-contained"
    );
    assert!(
        html.contains("anthropic@")
            && html.contains("Generated ")
            && html.contains("opus-hour.toml")
    );
    // The metered fixtures' total ($2.44 to the cent) and the projection (110.70 on Opus).
    assert!(
        html.contains("$2.44") && html.contains("$110.70"),
        "tables in the page"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("![Cost by charge category, per model](cost-by-category.png)"));
    for f in [
        "meter.json",
        "meter.csv",
        "daily.csv",
        "projection.json",
        "projection.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let projection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("projection.json")).unwrap())
            .unwrap();
    // The plan as written, then each --model.
    assert_eq!(projection["variants"].as_array().unwrap().len(), 3);
    // A second run does not replace it without --force.
    let again = run([
        "report".as_ref(),
        examples.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"));
}

#[test]
fn meter_and_project_write_reports_too() {
    let tmp = Tmp::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let m = tmp.path("m");
    let r = run([
        "meter".as_ref(),
        root.join("docs/examples").as_os_str(),
        "--report".as_ref(),
        m.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_chart(&m, "daily-spend", &["Spend per day"]);
    assert!(m.join("index.html").is_file() && !m.join("projection.json").exists());
    let p = tmp.path("p");
    let r = run([
        "project".as_ref(),
        root.join("scenarios/daily-research.toml").as_os_str(),
        "--runs".as_ref(),
        "20".as_ref(),
        "--report".as_ref(),
        p.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_chart(&p, "projection-fan", &["daily-research"]);
    assert!(!p.join("model-comparison.png").exists());
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `simulate` of a scenario into `out` (a directory, or one file ending in .ndjson).
fn simulate(scenario: &str, sessions: u32, seed: u32, out: &std::path::Path) {
    let r = run([
        "simulate".as_ref(),
        root().join("scenarios").join(scenario).as_os_str(),
        "--sessions".as_ref(),
        sessions.to_string().as_ref(),
        "--seed".as_ref(),
        seed.to_string().as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn position(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the page"))
}

#[test]
fn the_page_leads_with_the_answer_and_lists_only_the_dearest_sessions() {
    let tmp = Tmp::new();
    let sim = tmp.path("sim.ndjson");
    simulate("opus-hour.toml", 3000, 1, &sim);
    // Every opus-hour session is fixed: one hour ($0.08), one request of 15,000 output tokens
    // ($25/M: $0.375); "uncached" reads 50,000 input ($5/M: $0.25) = $0.705, "cached" 10,000
    // input ($0.05) and 40,000 cache reads ($0.50/M: $0.02) = $0.525. The agents' counts come
    // from the simulated session objects themselves.
    let text = std::fs::read_to_string(&sim).unwrap();
    let uncached = text.matches("\"name\":\"uncached\"").count() as i64;
    let cached = text.matches("\"name\":\"cached\"").count() as i64;
    assert_eq!(uncached + cached, 3000);
    assert!(uncached >= 50, "the 50 dearest are all uncached");
    let total = Decimal::new(705, 3) * Decimal::from(uncached)
        + Decimal::new(525, 3) * Decimal::from(cached);
    let dir = tmp.path("rep");
    let r = run_within(
        120,
        [
            "report".as_ref(),
            sim.as_os_str(),
            "-o".as_ref(),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    let (summary, tables, charts, details) = (
        position(&html, "<h2 id=\"summary\">Summary</h2>"),
        position(&html, "<h2 id=\"tables\">Tables</h2>"),
        position(&html, "<h2 id=\"charts\">Charts</h2>"),
        position(&html, "<h2 id=\"details\">Details</h2>"),
    );
    assert!(summary < tables && tables < charts && charts < details);
    // The total, to the cent, in the summary.
    // Between $1,575 and $2,115: one thousands separator.
    let digits = format!("{:.2}", total);
    let (thousands, rest) = digits.split_at(digits.len() - 6);
    let total_cell =
        format!("<tr><td>Total cost</td><td class=\"n\">${thousands},{rest}</td></tr>");
    assert!(
        position(&html, &total_cell) < tables,
        "{total_cell} in the summary"
    );
    // Tables by month, model, agent and category, in that order, before the charts.
    let heads = [
        "<h4>By month</h4>",
        "<h4>By model</h4>",
        "<h4>By agent</h4>",
        "<h4>By charge category</h4>",
    ]
    .map(|h| position(&html, h));
    assert!(heads.windows(2).all(|w| w[0] < w[1]) && tables < heads[0] && heads[3] < charts);
    // 50 sessions on the page, all after the charts, at $0.705 each: $35.25.
    assert_eq!(html.matches("<td>sesn_sim_").count(), 50);
    assert!(position(&html, "<td>sesn_sim_") > details);
    assert!(
        html.contains("The 50 dearest of 3,000 sessions ($35.25")
            && html.contains("Every session is in meter.csv"),
        "the page says where the rest are"
    );
    let csv = std::fs::read_to_string(dir.join("meter.csv")).unwrap();
    let ids: std::collections::HashSet<&str> = csv
        .lines()
        .filter_map(|l| l.split(',').find(|c| c.starts_with("sesn_sim_")))
        .collect();
    assert_eq!(ids.len(), 3000, "every session in meter.csv");
}

#[test]
fn each_model_sits_beside_the_plan_as_written() {
    let tmp = Tmp::new();
    let dir = tmp.path("out");
    let r = run([
        "report".as_ref(),
        "--scenario".as_ref(),
        root().join("scenarios/opus-hour.toml").as_os_str(),
        "--model".as_ref(),
        "claude-sonnet-4-6".as_ref(),
        "--model".as_ref(),
        "claude-haiku-4-5".as_ref(),
        "--runs".as_ref(),
        "20".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_chart(
        &dir,
        "projection-fan",
        &["opus-hour as written: spend per month"],
    );
    check_chart(
        &dir,
        "projection-histogram",
        &["opus-hour as written: simulated totals", "p5", "p50", "p95"],
    );
    for m in ["claude-sonnet-4-6", "claude-haiku-4-5"] {
        let title = format!("opus-hour, every agent as {m}");
        check_chart(&dir, &format!("projection-fan-{m}"), &[title.as_str()]);
        check_chart(
            &dir,
            &format!("projection-histogram-{m}"),
            &[title.as_str()],
        );
    }
    // The plan's agents, at the plan's model (neither variant is Opus).
    check_chart(
        &dir,
        "projection-by-agent",
        &[
            "opus-hour as written",
            "uncached (claude-opus-4-6)",
            "cached (claude-opus-4-6)",
        ],
    );
    check_chart(
        &dir,
        "model-comparison",
        &["as written", "claude-sonnet-4-6", "claude-haiku-4-5"],
    );
    // Plan first: 3 months from 2026-12 are 31 + 31 + 28 = 90 days, one session of each agent
    // a day at $0.705 + $0.525 = $1.23: $110.70 expected, the plan's ratio 1.00x.
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let plan = position(
        &html,
        "<tr><td>opus-hour as written</td><td class=\"n\">$110.70</td>",
    );
    let sonnet = position(
        &html,
        "<tr><td>opus-hour, every agent as claude-sonnet-4-6</td>",
    );
    assert!(plan < sonnet && sonnet < position(&html, "<h2 id=\"tables\">"));
    assert!(html.contains("<td class=\"n\">1.00x</td>"));
}

#[test]
fn simulated_sessions_are_distinct_tasks() {
    let tmp = Tmp::new();
    let sim = tmp.path("sim.ndjson");
    simulate("team.toml", 3, 1, &sim);
    let sessions: Vec<serde_json::Value> = std::fs::read_to_string(&sim)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "session")
        .collect();
    let titles: Vec<&str> = sessions
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["task-0001", "task-0002", "task-0003"]);
    for s in &sessions {
        assert_eq!(s["metadata"]["task"], s["title"]);
    }
}

#[test]
fn the_paired_chart_names_its_mean_median_and_interval() {
    let tmp = Tmp::new();
    let (a, b, dir) = (tmp.path("a"), tmp.path("b"), tmp.path("rep"));
    simulate("team.toml", 40, 1, &a);
    simulate("team.toml", 40, 2, &b);
    let r = run([
        "compare".as_ref(),
        "--a".as_ref(),
        a.as_os_str(),
        "--b".as_ref(),
        b.as_os_str(),
        "--report".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains("warning"),
        "distinct titles: {}",
        r.stderr
    );
    check_chart(
        &dir,
        "paired-differences",
        &[
            "mean",
            "median",
            "95% interval of the mean",
            "Difference per task, B - A (USD)",
            "Tasks",
        ],
    );
    let svg = std::fs::read_to_string(dir.join("paired-differences.svg")).unwrap();
    assert!(!svg.contains("p50") && !svg.contains("p95") && !svg.contains("Runs"));
    // 40 tasks paired: 30 shown, the other 10 in one bar and one row.
    check_chart(
        &dir,
        "paired-tasks",
        &["the 30 that differ most, of 40", "10 others (mean)"],
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_eq!(html.matches("<tr><td>task-0").count(), 30);
    assert!(
        html.contains("<td>10 other tasks</td>")
            && html.contains("<td>Tasks on both sides</td><td class=\"n\">40</td>")
    );
}

#[test]
fn many_sessions_under_one_task_key_are_warned_of() {
    let tmp = Tmp::new();
    let (a, b) = (tmp.path("a"), tmp.path("b"));
    simulate("team.toml", 12, 1, &a);
    simulate("team.toml", 12, 2, &b);
    let r = run([
        "compare".as_ref(),
        "--a".as_ref(),
        a.as_os_str(),
        "--b".as_ref(),
        b.as_os_str(),
        "--pair-by".as_ref(),
        "metadata.simulated".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for side in ["A", "B"] {
        let w = format!("warning: {side}: 12 sessions under metadata.simulated \"true\"");
        assert!(r.stderr.contains(&w), "{w} in {}", r.stderr);
    }
    let out = tmp.path("baseline.json");
    let r = run([
        "baseline".as_ref(),
        a.as_os_str(),
        "--key".as_ref(),
        "metadata.simulated".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: the run: 12 sessions under metadata.simulated \"true\""),
        "{}",
        r.stderr
    );
}

/// The `(title, caption)` of every figure of a page: the title is the chart's own (its SVG's
/// first text, drawn by plotters), the caption the `<figcaption>` after it.
fn figures(html: &str) -> Vec<(String, String)> {
    html.split("<figure>")
        .skip(1)
        .map(|f| {
            let f = &f[..f.find("</figure>").expect("a figure ends")];
            let text = f.split_once("<text").expect("a chart has text").1;
            let title = text
                .split_once('>')
                .unwrap()
                .1
                .split_once("</text>")
                .unwrap()
                .0;
            let caption = f
                .split_once("<figcaption>")
                .map_or("", |c| c.1.split_once("</figcaption>").unwrap().0);
            (title.trim().to_string(), caption.to_string())
        })
        .collect()
}

/// Every caption says something its chart's title does not: neither empty nor the title.
fn captions_are_not_titles(html: &str, md: &str, n: usize) {
    let figs = figures(html);
    assert_eq!(figs.len(), n, "{figs:?}");
    for (title, caption) in &figs {
        assert!(!title.is_empty() && !caption.is_empty(), "{title:?}");
        assert!(
            !caption.contains(title.as_str()),
            "{caption:?} repeats {title:?}"
        );
        // The markdown has the same caption under the chart's image.
        assert!(
            md.contains(&format!(".png)\n\n{caption}\n")),
            "{caption:?} in report.md"
        );
    }
}

#[test]
fn the_examples_report_says_why_its_counts_add_up_to_more_and_keeps_ids_whole() {
    let tmp = Tmp::new();
    let dir = tmp.path("out");
    let r = run([
        "report".as_ref(),
        root().join("docs/examples").as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    // Five sessions; sesn_multi runs researcher on Opus and two threads, critic and scout, on
    // Sonnet and Haiku. By model: Opus 3 (seed cached, seed uncached, multi), Sonnet 2 (busy,
    // multi), Haiku 2 (multi, triage) = 7. By agent: researcher 4 (busy, both seeds, multi),
    // critic, scout, triage 1 each = 7. By month each session counts once: no note there.
    for (doc, head) in [(&html, "<h4>By "), (&md, "#### By ")] {
        let at = |t: &str| position(doc, &format!("{head}{t}"));
        let (month, model, agent, category) =
            (at("month"), at("model"), at("agent"), at("charge category"));
        for (what, from, to) in [("model", model, agent), ("agent", agent, category)] {
            let note = format!(
                "Note: A session that used more than one {what} counts once under each {what}: \
                 the rows add up to 7 sessions, of 5 in all."
            );
            let found = position(doc, &note);
            assert!(
                from < found && found < to,
                "{note:?} under the table by {what}"
            );
        }
        assert!(!doc[month..model].contains("Note:"), "no note by month");
    }
    // Ids never break inside a cell; a table wider than the page scrolls in its own box.
    assert!(html.contains("td{white-space:nowrap}") && html.contains(".t{overflow-x:auto;"));
    assert_eq!(
        html.matches("<div class=\"t\"><table>").count(),
        html.matches("<table>").count()
    );
    assert!(html.contains("<td>sesn_busy_sonnet</td><td>claude-sonnet-4-6</td>"));
    captions_are_not_titles(&html, &md, 2);
}

#[test]
fn a_budget_report_says_what_its_band_covers_and_names_each_model_once() {
    let tmp = Tmp::new();
    let dir = tmp.path("out");
    let scenario = root().join("scenarios/budget.toml");
    let args = [
        "project".as_ref(),
        scenario.as_os_str(),
        "--runs".as_ref(),
        "20".as_ref(),
    ];
    let terminal = run_within(120, args);
    assert_eq!(terminal.code, 0, "{}", terminal.stderr);
    let mut with_report = args.to_vec();
    with_report.extend(["--report".as_ref(), dir.as_os_str()]);
    let r = run_within(120, with_report);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The terminal's last line, as a sentence, leads the summary of the page and of report.md.
    let line = terminal
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("uncertainty: the p5-p95 band covers "))
        .expect("the terminal says what the band covers");
    // budget.toml varies all five: per session, arrivals (poisson), volume, growth, prices.
    assert!(line.starts_with("per-session variation") && line.ends_with("drawn once per run)"));
    let note = format!("Note: The p5-p95 band covers {line}.");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    // (Nothing in it that HTML escapes.)
    assert!(position(&html, &note) < position(&html, "<h2 id=\"tables\">"));
    assert!(position(&md, &note) < position(&md, "## Tables"));
    // The model_mix agents are named "support (model)": the chart names each model once.
    let svg = std::fs::read_to_string(dir.join("projection-by-agent.svg")).unwrap();
    for m in ["claude-opus-4-6", "claude-sonnet-4-6"] {
        assert!(svg.contains(&format!("support ({m})")), "{m}");
        assert!(!svg.contains(&format!("({m}) ({m})")), "{m} twice");
    }
    // Session counts are numbers: right-aligned.
    assert!(html.contains("<tr><td>2026-12</td><td class=\"n\">"));
    assert!(md.contains("| Month | Sessions | Expected |") && md.contains("| --- | ---: | ---: |"));
    // Fan, histogram, agents; the fan's caption says what its band covers, too.
    captions_are_not_titles(&html, &md, 3);
    assert!(figures(&html)[0]
        .1
        .contains(&format!("The p5-p95 band covers {line}.")));
}
