//! `agentmeter check`: fail a pull request whose agents got more expensive than allowed.
//! Exit 0 when every threshold holds, 1 when one fails, 2 on an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use crate::compare::gate::{
    check, parse_percent, parse_usd, read_baseline, CheckOptions, CheckResult, Delta, Limits,
};
use crate::compare::TaskKey;
use crate::error::{Error, Result};
use crate::ingest;
use crate::meter;
use crate::money::{exact, usd};
use crate::output::Output;
use crate::pricing::PriceTable;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter check runs/ --baseline baseline.json --max-increase 10% --max-increase-usd 0.50\n  \
    agentmeter check runs/ --baseline baseline.json --budget 25.00 --per-task --comment-file comment.md\n\n\
    Exit codes: 0 every threshold holds, 1 one failed, 2 an error."
)]
pub struct CheckArgs {
    /// Exports of the run to check.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// The baseline written by `agentmeter baseline`.
    #[arg(long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// Fail when usage costs more than this much over the baseline, e.g. 10%.
    #[arg(long, value_name = "PCT")]
    pub max_increase: Option<String>,
    /// Fail when usage costs more than this many dollars over the baseline, e.g. 0.50.
    #[arg(long, value_name = "USD")]
    pub max_increase_usd: Option<String>,
    /// Fail when the run costs more than this, e.g. 25.00.
    #[arg(long, value_name = "USD")]
    pub budget: Option<String>,
    /// Also apply the thresholds to each task.
    #[arg(long)]
    pub per_task: bool,
    /// Thresholds and per-task overrides ([check] table); default: ./agentmeter.toml if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the markdown summary (for a PR comment) to FILE.
    #[arg(long, value_name = "FILE")]
    pub comment_file: Option<PathBuf>,
    /// Replace an existing --comment-file.
    #[arg(long)]
    pub force: bool,
    /// Price the baseline's usage at today's prices (the whole change is then usage).
    #[arg(long)]
    pub reprice_baseline: bool,
    /// Task key (default: the baseline's).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Today's price table (default: the bundled one).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Output on stdout: text or json.
    #[arg(long, short = 'f', default_value = "text")]
    pub format: String,
    /// When the gate fails, POST a JSON message here (Slack-compatible `text`, the result
    /// under `agentmeter`); only its scheme and host are ever shown.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    check: ConfigCheck,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigCheck {
    max_increase: Option<String>,
    max_increase_usd: Option<String>,
    budget: Option<String>,
    per_task: Option<bool>,
    #[serde(default)]
    task: BTreeMap<String, ConfigLimits>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigLimits {
    max_increase: Option<String>,
    max_increase_usd: Option<String>,
    budget: Option<String>,
}

/// Limits from three optional strings; `names` says how the user wrote each one.
fn limits(
    names: [&str; 3],
    pct: Option<&str>,
    usd: Option<&str>,
    budget: Option<&str>,
) -> Result<Limits> {
    Ok(Limits {
        max_increase: pct.map(|s| parse_percent(names[0], s)).transpose()?,
        max_increase_usd: usd.map(|s| parse_usd(names[1], s)).transpose()?,
        budget: budget.map(|s| parse_usd(names[2], s)).transpose()?,
    })
}

fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", usd(d))
    } else {
        usd(d)
    }
}

fn arrow(d: Decimal) -> &'static str {
    if d > Decimal::ZERO {
        "▲"
    } else if d < Decimal::ZERO {
        "▼"
    } else {
        "="
    }
}

fn pct(d: &Delta) -> String {
    if d.baseline.is_zero() || d.change().is_zero() {
        String::new()
    } else {
        format!(
            " ({}{}%)",
            if d.change() > Decimal::ZERO { "+" } else { "" },
            (d.change() / d.baseline * Decimal::ONE_HUNDRED)
                .round_dp(1)
                .normalize()
        )
    }
}

/// The PR comment: verdict, total, the tasks that changed, new and missing tasks.
pub fn markdown(r: &CheckResult, baseline_version: &str, commit: Option<&str>) -> String {
    let mut s = String::new();
    let verdict = if r.passed() {
        "✅ passed"
    } else {
        "❌ failed"
    };
    let _ = writeln!(s, "## agentmeter cost check: {verdict}\n");
    let t = &r.total;
    let _ = writeln!(
        s,
        "Total: {} → {} ({} {}{}): volume {}, price {}.",
        usd(t.baseline),
        usd(t.current),
        arrow(t.change()),
        signed(t.change()),
        pct(t),
        signed(t.volume),
        signed(t.price)
    );
    let from = commit
        .map(|c| format!(" at commit `{}`", &c[..c.len().min(12)]))
        .unwrap_or_default();
    let _ = writeln!(s, "Baseline priced with `{baseline_version}`{from}.\n");
    for f in &t.failed {
        let _ = writeln!(s, "- ❌ total: {f}");
    }
    let changed: Vec<&Delta> = r
        .tasks
        .iter()
        .filter(|d| !d.change().is_zero() || !d.failed.is_empty())
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(
            s,
            "\n| Task | Baseline | Now | Change | Volume | Price | Threshold |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|");
        for d in changed {
            let status = if d.failed.is_empty() {
                "✅".to_string()
            } else {
                format!("❌ {}", d.failed.join("; "))
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} {}{} | {} | {} | {} |",
                d.task.replace('|', "\\|"),
                usd(d.baseline),
                usd(d.current),
                arrow(d.change()),
                signed(d.change()),
                pct(d),
                signed(d.volume),
                signed(d.price),
                status
            );
        }
    } else {
        let _ = writeln!(s, "\nNo task changed cost.");
    }
    let unchanged = r
        .tasks
        .iter()
        .filter(|d| d.change().is_zero() && d.failed.is_empty())
        .count();
    if unchanged > 0 {
        let _ = writeln!(s, "\n{unchanged} task(s) unchanged.");
    }
    if !r.new_tasks.is_empty() {
        let list: Vec<String> = r
            .new_tasks
            .iter()
            .map(|(t, c)| format!("`{t}` ({})", usd(*c)))
            .collect();
        let _ = writeln!(s, "\nNew since the baseline: {}.", list.join(", "));
    }
    if !r.missing_tasks.is_empty() {
        let list: Vec<String> = r
            .missing_tasks
            .iter()
            .map(|(t, c)| format!("`{t}` (was {})", usd(*c)))
            .collect();
        let _ = writeln!(s, "\nMissing since the baseline: {}.", list.join(", "));
    }
    if !r.no_key.is_empty() {
        let _ = writeln!(
            s,
            "\n{} session(s) without a task key were left out: {}.",
            r.no_key.len(),
            r.no_key.join(", ")
        );
    }
    for n in &r.notes {
        let _ = writeln!(s, "\nNote: {n}");
    }
    s
}

fn delta_json(d: &Delta) -> serde_json::Value {
    json!({"task": d.task, "baseline": exact(d.baseline), "current": exact(d.current), "change": exact(d.change()),
           "volume": exact(d.volume), "price": exact(d.price), "failed": d.failed})
}

pub fn run(args: CheckArgs) -> Result<i32> {
    let notify = crate::fetch::notify::Notify::new(args.notify.as_deref())?;
    let config_path = args
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("agentmeter.toml")).filter(|p| p.is_file()));
    let config: ConfigFile = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            toml::from_str(&text)
                .map_err(|e| Error::new(format!("{}: {}", p.display(), e.message())))?
        }
        None => ConfigFile::default(),
    };
    let c = &config.check;
    let flags = limits(
        ["--max-increase", "--max-increase-usd", "--budget"],
        args.max_increase.as_deref(),
        args.max_increase_usd.as_deref(),
        args.budget.as_deref(),
    )?;
    let config_names = [
        "[check] max_increase",
        "[check] max_increase_usd",
        "[check] budget",
    ];
    let from_config = limits(
        config_names,
        c.max_increase.as_deref(),
        c.max_increase_usd.as_deref(),
        c.budget.as_deref(),
    )?;
    let total_limits = flags.or(from_config);
    let mut overrides = BTreeMap::new();
    for (task, l) in &c.task {
        let names = ["max_increase", "max_increase_usd", "budget"]
            .map(|k| format!("[check.task.{task:?}] {k}"));
        let names = [names[0].as_str(), names[1].as_str(), names[2].as_str()];
        overrides.insert(
            task.clone(),
            limits(
                names,
                l.max_increase.as_deref(),
                l.max_increase_usd.as_deref(),
                l.budget.as_deref(),
            )?,
        );
    }
    let per_task = args.per_task || c.per_task.unwrap_or(false) || !overrides.is_empty();
    if total_limits == Limits::default() && !per_task {
        return Err(Error::new("no threshold given").with_hint("pass --max-increase 10%, --max-increase-usd 0.50 or --budget 25.00, or set them in agentmeter.toml [check]"));
    }
    let base = read_baseline(&args.baseline)?;
    let key: TaskKey = args
        .key
        .as_deref()
        .unwrap_or(&base.key)
        .parse()
        .map_err(|e| Error::new(format!("--key: {e}")))?;
    let today = PriceTable::load_or_bundled(args.pricing.as_deref())?;
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(&sources, &args.geo.meter_options())?;
    let opts = CheckOptions {
        key,
        total_limits,
        per_task: per_task.then_some((total_limits, overrides)),
        reprice_baseline: args.reprice_baseline,
    };
    let result = check(&base, metered.sessions, &today, &opts)?;
    let md = markdown(&result, &base.pricing.version, base.git_commit.as_deref());
    if let Some(p) = &args.comment_file {
        Output::new(Some(p), args.force).write(&md)?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let path = PathBuf::from(summary);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        f.write_all(md.as_bytes())
            .map_err(|e| Error::io(&path, e))?;
    }
    match args.format.as_str() {
        "json" => {
            let doc = json!({
                "schema": "agentmeter/check-v1",
                "passed": result.passed(),
                "baseline": {"pricing": base.pricing.version, "git_commit": base.git_commit, "created_at": base.created_at},
                "pricing": today.version,
                "total": delta_json(&result.total),
                "tasks": result.tasks.iter().map(delta_json).collect::<Vec<_>>(),
                "new_tasks": result.new_tasks.iter().map(|(t, c)| json!({"task": t, "current": exact(*c)})).collect::<Vec<_>>(),
                "missing_tasks": result.missing_tasks.iter().map(|(t, c)| json!({"task": t, "baseline": exact(*c)})).collect::<Vec<_>>(),
                "notes": result.notes,
            });
            crate::put!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        "text" => {
            use std::io::Write as _;
            let _ = write!(std::io::stdout(), "{md}");
        }
        other => {
            return Err(Error::new(format!(
                "--format {other:?}: expected text or json"
            )))
        }
    }
    if !result.passed() {
        let t = &result.total;
        let failed: Vec<_> = (result.tasks.iter())
            .filter(|d| !d.failed.is_empty())
            .map(delta_json)
            .collect();
        notify.send(
            &format!(
                "agentmeter cost check failed: {} -> {}",
                usd(t.baseline),
                usd(t.current)
            ),
            json!({"schema": "agentmeter/check-v1", "passed": false, "pricing": today.version,
                   "total": delta_json(t), "tasks": failed}),
        );
    }
    Ok(if result.passed() { 0 } else { 1 })
}
