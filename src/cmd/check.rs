//! `agentmeter check`: fail a pull request whose agents got more expensive than allowed.
//! Exit 0 when every threshold holds, 1 when one fails, 2 on an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use crate::compare::check_json::{CheckDoc, CheckNotice};
use clap::Args;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::compare::gate::{
    amount, check, parse_percent, parse_usd, read_baseline, CheckOptions, CheckResult, Delta,
    Limits,
};
use crate::compare::TaskKey;
use crate::error::{Error, Result};
use crate::ingest;
use crate::meter;
use crate::money::{count, usd};
use crate::output::Output;
use crate::pricing::PriceTable;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter check runs/ --baseline baseline.json --max-increase 10% --max-increase-usd 0.50\n  \
    agentmeter check runs/ --baseline baseline.json --budget 25.00 --per-task --comment-file comment.md\n\n\
    Exit codes: 0 every threshold holds, 1 one failed, 2 an error.",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "today's usage is priced under its discounts and every threshold judges what the user pays, list beside it (the baseline's side is priced under the contract the baseline recorded; its commitments and credits are the account's monthly terms, not a run's)."
    )))
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
    /// A task whose change is under this many dollars fails no increase threshold (default 0.01).
    #[arg(long, value_name = "USD")]
    pub ignore_below_usd: Option<String>,
    /// Thresholds and per-task overrides ([check] table); default: ./agentmeter.toml if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the markdown summary (for a PR comment) to FILE.
    #[arg(long, value_name = "FILE")]
    pub comment_file: Option<PathBuf>,
    /// Write the whole result, every task, as JSON (agentmeter/check-v1) to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Replace an existing --comment-file or --json file.
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
    #[command(flatten)]
    pub contract: super::ContractArg,
    /// Output on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// When the gate fails, POST a JSON message here (Slack-compatible `text`, the result
    /// under `agentmeter`); only its scheme and host are ever shown.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
}

/// What `check` writes on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// The verdict and the PR comment's text.
    Text,
    /// The result as JSON (the same document as --json FILE).
    Json,
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
    ignore_below_usd: Option<String>,
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

/// GitHub refuses a comment of more than 65,536 characters: the comment stays well under.
pub const COMMENT_BUDGET: usize = 60_000;
/// The comment's first line, hidden, by which a workflow finds its one comment to edit.
pub const MARKER: &str = "<!-- agentmeter-cost-check -->";
/// Rows of the main table (failing tasks come on top of these).
const TOP_ROWS: usize = 20;
/// Items shown of each list (new, missing, keyless sessions, notes).
const LIST_ITEMS: usize = 20;
/// Characters shown of a name or a note: a title can be a whole paragraph.
const TEXT_CHARS: usize = 200;
/// Room kept for the lines around the rows (table heads, the rest, the details, the pointer).
const RESERVE: usize = 1_500;

fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", amount(d))
    } else {
        amount(d)
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

/// Input text cut to `TEXT_CHARS`, on one line.
fn cut(s: &str) -> String {
    let mut t: String = s
        .chars()
        .take(TEXT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(TEXT_CHARS).is_some() {
        t.push('…');
    }
    t
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The table's head: the verdict column only when tasks are judged one by one, and under a
/// contract today's list cost beside what the user pays.
fn table_head(per_task: bool, list: bool) -> String {
    let mut head = String::from("| Task | Baseline | Now |");
    let mut rule = String::from("|---|---:|---:|");
    if list {
        head.push_str(" List now |");
        rule.push_str("---:|");
    }
    head.push_str(" Change | Volume | Price |");
    rule.push_str("---:|---:|---:|");
    if per_task {
        head.push_str(" Threshold |");
        rule.push_str("---|");
    }
    format!("{head}\n{rule}\n")
}

/// A task's row; the verdict column only when tasks are judged one by one.
fn row(d: &Delta, per_task: bool) -> String {
    let list = d
        .list
        .map(|l| format!(" {} |", amount(l.current)))
        .unwrap_or_default();
    let mut s = format!(
        "| {} | {} | {} |{list} {} {}{} | {} | {} |",
        cut(&d.task).replace('|', "\\|"),
        amount(d.baseline),
        amount(d.current),
        arrow(d.change()),
        signed(d.change()),
        pct(d),
        signed(d.volume),
        signed(d.price),
    );
    if per_task {
        if d.failed.is_empty() {
            s.push_str(" ✅ |");
        } else {
            let _ = write!(s, " ❌ {} |", d.failed.join("; "));
        }
    }
    s.push('\n');
    s
}

/// The first `LIST_ITEMS` items, and how many more.
fn list(items: &[String]) -> String {
    let mut s = items[..items.len().min(LIST_ITEMS)].join(", ");
    if items.len() > LIST_ITEMS {
        let _ = write!(s, " and {} more", count((items.len() - LIST_ITEMS) as u64));
    }
    s
}

/// "970 tasks unchanged, 3 cheaper, 1,010 dearer (2 failed)": the tasks not in a table.
fn summary(unchanged: usize, rest: &[&Delta]) -> String {
    let cheaper = rest.iter().filter(|d| d.change() < Decimal::ZERO).count();
    let dearer = rest.iter().filter(|d| d.change() > Decimal::ZERO).count();
    let failed = rest.iter().filter(|d| !d.failed.is_empty()).count();
    // A task whose cost did not move can still fail (a budget): counted apart.
    let still = rest.len() - cheaper - dearer;
    let parts: Vec<String> = [
        (unchanged, "unchanged"),
        (cheaper, "cheaper"),
        (dearer, "dearer"),
        (still, "failed at the same cost"),
    ]
    .into_iter()
    .filter(|&(k, _)| k > 0)
    .enumerate()
    .map(|(i, (k, what))| match (i, k) {
        (0, 1) => format!("1 task {what}"),
        (0, _) => format!("{} tasks {what}", count(k as u64)),
        _ => format!("{} {what}", count(k as u64)),
    })
    .collect();
    let mut s = parts.join(", ");
    if failed > still {
        let _ = write!(s, " ({} of them failed)", count((failed - still) as u64));
    }
    s
}

/// The rows of the tasks not placed yet that `pick` takes, in order, while they fit in `room`.
fn fill(
    changed: &[&Delta],
    placed: &mut [bool],
    room: &mut usize,
    per_task: bool,
    pick: impl Fn(usize, &Delta) -> bool,
) -> String {
    let mut rows = String::new();
    for (i, d) in changed.iter().enumerate() {
        if placed[i] || !pick(i, d) {
            continue;
        }
        let line = row(d, per_task);
        if chars(&line) > *room {
            break;
        }
        *room -= chars(&line);
        rows.push_str(&line);
        placed[i] = true;
    }
    rows
}

/// The PR comment: the marker, verdict, total, the tasks that changed (largest change first,
/// failing tasks always in the table), the rest summed up and as many more rows as fit in a
/// collapsed block, new and missing tasks. At most `COMMENT_BUDGET` characters: `full` says
/// where the whole table is.
pub fn markdown(
    r: &CheckResult,
    baseline_version: &str,
    commit: Option<&str>,
    per_task: bool,
    full: &str,
) -> String {
    let mut s = String::new();
    let verdict = if r.passed() {
        "✅ passed"
    } else {
        "❌ failed"
    };
    let _ = writeln!(s, "{MARKER}\n## agentmeter cost check: {verdict}\n");
    let t = &r.total;
    let _ = writeln!(
        s,
        "Total: {} → {} ({} {}{}): volume {}, price {}.",
        amount(t.baseline),
        amount(t.current),
        arrow(t.change()),
        signed(t.change()),
        pct(t),
        signed(t.volume),
        signed(t.price)
    );
    if let Some(l) = t.list {
        let _ = writeln!(
            s,
            "At list prices: {} → {} ({} {}); the amounts above are what the user pays (see the note on the contract).",
            amount(l.baseline),
            amount(l.current),
            arrow(l.current - l.baseline),
            signed(l.current - l.baseline)
        );
    }
    let from = commit
        .map(|c| format!(" at commit `{}`", cut(&c[..c.len().min(12)])))
        .unwrap_or_default();
    let _ = writeln!(s, "Baseline priced with `{}`{from}.", cut(baseline_version));
    if !t.failed.is_empty() {
        s.push('\n');
    }
    for f in &t.failed {
        let _ = writeln!(s, "- ❌ total: {f}");
    }

    // What follows the tables, written first so that the rows get the room left.
    let mut tail = String::new();
    let named = |items: &[(String, Decimal)], was: &str| -> Vec<String> {
        items
            .iter()
            .map(|(t, c)| format!("`{}` ({was}{})", cut(t).replace('`', "'"), amount(*c)))
            .collect()
    };
    if !r.new_tasks.is_empty() {
        let _ = writeln!(
            tail,
            "\nNew since the baseline: {}.",
            list(&named(&r.new_tasks, ""))
        );
    }
    if !r.missing_tasks.is_empty() {
        let _ = writeln!(
            tail,
            "\nMissing since the baseline: {}.",
            list(&named(&r.missing_tasks, "was "))
        );
    }
    if !r.no_key.is_empty() {
        let ids: Vec<String> = r.no_key.iter().map(|i| cut(i)).collect();
        let _ = writeln!(
            tail,
            "\n{} session(s) without a task key were left out: {}.",
            count(r.no_key.len() as u64),
            list(&ids)
        );
    }
    for n in r.notes.iter().take(LIST_ITEMS) {
        let _ = writeln!(tail, "\nNote: {}", cut(n));
    }
    if r.notes.len() > LIST_ITEMS {
        let _ = writeln!(
            tail,
            "\nand {} more notes.",
            count((r.notes.len() - LIST_ITEMS) as u64)
        );
    }

    let changed: Vec<&Delta> = r
        .tasks
        .iter()
        .filter(|d| !d.change().is_zero() || !d.failed.is_empty())
        .collect();
    let unchanged = r.tasks.len() - changed.len();
    let mut room = COMMENT_BUDGET.saturating_sub(chars(&s) + chars(&tail) + RESERVE);
    let mut placed = vec![false; changed.len()];
    let top = fill(&changed, &mut placed, &mut room, per_task, |i, d| {
        i < TOP_ROWS || !d.failed.is_empty()
    });
    let rest: Vec<&Delta> = (0..changed.len())
        .filter(|&i| !placed[i])
        .map(|i| changed[i])
        .collect();
    let more = fill(&changed, &mut placed, &mut room, per_task, |_, _| true);
    let (in_top, in_more) = (top.lines().count(), more.lines().count());
    if changed.is_empty() {
        let _ = writeln!(s, "\nNo task changed cost.");
    } else {
        let _ = write!(s, "\n{}{top}", table_head(per_task, t.list.is_some()));
    }
    if unchanged > 0 || !rest.is_empty() {
        let lead = if in_top > 0 && !rest.is_empty() {
            "Not in the table: "
        } else {
            ""
        };
        let _ = writeln!(s, "\n{lead}{}.", summary(unchanged, &rest));
    }
    if in_more > 0 {
        let of = if in_more < rest.len() {
            format!(
                "{} of the {}",
                count(in_more as u64),
                count(rest.len() as u64)
            )
        } else {
            count(in_more as u64)
        };
        let _ = write!(
            s,
            "\n<details><summary>{of} more changed tasks</summary>\n\n{}{more}\n</details>\n",
            table_head(per_task, t.list.is_some())
        );
    }
    let hidden = changed.len() - in_top - in_more;
    if hidden > 0 {
        let _ = writeln!(
            s,
            "\n{} changed tasks are not shown here (GitHub takes 65,536 characters at most): {}.",
            count(hidden as u64),
            cut(full)
        );
    }
    s.push_str(&tail);
    debug_assert!(chars(&s) <= COMMENT_BUDGET, "{} characters", chars(&s));
    s
}

pub fn run(args: CheckArgs) -> Result<i32> {
    let notify = crate::fetch::notify::Notify::new(args.notify.as_deref())?;
    let config_path = args
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("agentmeter.toml")).filter(|p| p.is_file()));
    let config: ConfigFile = match &config_path {
        Some(p) => {
            let text = crate::files::read_small(p)?;
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
    let ignore_below_usd = match (&args.ignore_below_usd, &c.ignore_below_usd) {
        (Some(f), _) => parse_usd("--ignore-below-usd", f)?,
        (None, Some(c)) => parse_usd("[check] ignore_below_usd", c)?,
        // A cent: moves smaller than the amounts shown elsewhere are noise, not regressions.
        (None, None) => Decimal::new(1, 2),
    };
    let comment_out = Output::new(args.comment_file.as_deref(), args.force);
    let json_out = Output::new(args.json.as_deref(), args.force);
    // Before metering: a refused file is an error now, not after a long run.
    comment_out.check()?;
    json_out.check()?;
    let json_stdout = args.format == CheckFormat::Json;
    let base = read_baseline(&args.baseline)?;
    let key: TaskKey = args
        .key
        .as_deref()
        .unwrap_or(&base.key)
        .parse()
        .map_err(|e| Error::new(format!("--key: {e}")))?;
    let today = PriceTable::load_or_bundled(args.pricing.as_deref())?;
    let contract = args.contract.load(&today)?;
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(&sources, &args.geo.meter_options())?;
    let opts = CheckOptions {
        key,
        total_limits,
        per_task: per_task.then_some((total_limits, overrides)),
        ignore_below_usd,
        reprice_baseline: args.reprice_baseline,
        contract,
    };
    let result = check(&base, metered.sessions, &today, &opts)?;
    let doc = CheckDoc::new(&base, &today.version, &result, opts.contract.as_ref());
    let doc = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    if args.json.is_some() {
        json_out.write(&doc)?;
    }
    let full = match &args.json {
        Some(p) => format!("every task is in `{}`", p.display()),
        None => "`agentmeter check` with `--json FILE` writes every task".into(),
    };
    let md = markdown(
        &result,
        &base.pricing.version,
        base.git_commit.as_deref(),
        per_task,
        &full,
    );
    if args.comment_file.is_some() {
        comment_out.write(&md)?;
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
    let text = if json_stdout {
        doc
    } else {
        crate::terminal::paint_changes(md)
    };
    Output::new(None, false).write(&text)?;
    if let Some(notice) = CheckNotice::new(&today.version, &result) {
        let t = &result.total;
        notify.send(
            &format!(
                "agentmeter cost check failed: {} -> {}",
                usd(t.baseline),
                usd(t.current)
            ),
            &notice,
        );
    }
    Ok(if result.passed() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(task: &str, baseline: Decimal, current: Decimal, failed: &[&str]) -> Delta {
        Delta {
            task: task.into(),
            baseline,
            current,
            volume: current - baseline,
            price: Decimal::ZERO,
            failed: failed.iter().map(|f| f.to_string()).collect(),
            list: None,
        }
    }

    #[test]
    fn a_failing_task_past_the_top_rows_is_still_in_the_table() {
        // t00..t29 grow by 0.30, 0.29, ..., 0.01 over $1 (already sorted, as check sorts);
        // t25 (+0.05) fails. "same" does not move.
        let mut tasks: Vec<Delta> = (0..30)
            .map(|i| {
                let failed: &[&str] = if i == 25 { &["boom"] } else { &[] };
                delta(
                    &format!("t{i:02}"),
                    Decimal::ONE,
                    Decimal::ONE + Decimal::new(30 - i, 2),
                    failed,
                )
            })
            .collect();
        tasks.push(delta("same", Decimal::ONE, Decimal::ONE, &[]));
        let total = delta("total", Decimal::from(31), Decimal::from(31), &[]);
        let r = CheckResult {
            total,
            tasks,
            new_tasks: vec![],
            missing_tasks: vec![],
            no_key: vec![],
            notes: vec![],
        };
        let md = markdown(&r, "v", None, true, "nowhere");
        let (top, more) = md.split_once("<details>").unwrap();
        let rows = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with("| t"))
                .map(|l| l[2..5].to_string())
                .collect()
        };
        // The 20 largest, then t25: 21 rows; t25 at $1.00 -> $1.05.
        let want: Vec<String> = (0..20).chain([25]).map(|i| format!("t{i:02}")).collect();
        assert_eq!(rows(top), want);
        assert!(top.contains("| t25 | $1.00 | $1.05 | ▲ +$0.05 (+5%) | +$0.05 | $0.00 | ❌ boom |"));
        // The rest: "same", and t20..t24, t26..t29 (9), all of them in the collapsed table.
        assert!(
            top.contains("\nNot in the table: 1 task unchanged, 9 dearer.\n"),
            "{md}"
        );
        assert!(
            more.starts_with("<summary>9 more changed tasks</summary>"),
            "{md}"
        );
        let want: Vec<String> = (20..25).chain(26..30).map(|i| format!("t{i:02}")).collect();
        assert_eq!(rows(more), want);
        assert!(!md.contains("not shown here"), "{md}");
    }
}
