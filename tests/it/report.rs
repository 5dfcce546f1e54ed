//! Reports: a self-contained HTML page, markdown, data files, and every chart as PNG and SVG.

use crate::common::*;

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
            "the same scenario on each model",
            "claude-sonnet-4-6",
            "Total over the horizon (USD)",
        ],
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<svg").count(), 6, "six inline charts");
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
    assert_eq!(projection["variants"].as_array().unwrap().len(), 2);
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
