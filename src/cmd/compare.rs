//! `agentmeter compare`: the same traces priced as several models or tables, or two sets of
//! runs of the same tasks compared pair by pair.

use std::path::PathBuf;
use std::sync::Arc;

use crate::category::CostColumn;
use crate::compare::json::{CompareDoc, PairedDoc, RepriceDoc};
use crate::compare::paired::{pair, summarize};
use crate::compare::{difference, reprice, total, TaskKey, Variant};
use crate::error::{Error, Result};
use crate::export::{Format, Grid};
use crate::ingest;
use crate::meter::{self, MeterOptions};
use crate::money::{count, duration, usd};
use crate::output::Output;
use crate::pipeline::bill;
use crate::pricing::PriceTable;
use crate::rate::{Cost, RatedSession};
use crate::report::chart::{bins, Chart};
use crate::report::document::{Figure, Report, Section};
use crate::time::Zone;
use clap::Args;
use rust_decimal::prelude::*;

const NOTE: &str = "Another model would not use the same tokens for the same work: repricing shows what these \
tokens cost on each model. Use --token-scale MODEL=FACTOR for a model whose tokenizer needs more tokens, or \
compare real runs with --a/--b.";

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter compare runs/ --model claude-opus-4-6 --model claude-sonnet-4-6\n  \
    agentmeter compare runs/ --model claude-opus-4-6 --model claude-opus-4-7 --token-scale claude-opus-4-7=1.35\n  \
    agentmeter compare runs/ --pricing pricing/anthropic.toml --pricing my-discount.toml\n  \
    agentmeter compare --a runs/opus --b runs/sonnet --pair-by metadata.task --report reports/opus-vs-sonnet"
)]
pub struct CompareArgs {
    /// Exports to reprice (files, directories or -).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// Price every request as this model; repeat for each model to compare.
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// A price table; repeat to compare tables.
    #[arg(long = "pricing", value_name = "FILE")]
    pub pricings: Vec<PathBuf>,
    /// MODEL=FACTOR: scale the tokens when pricing as MODEL (e.g. claude-opus-4-7=1.35).
    #[arg(long = "token-scale", value_name = "MODEL=FACTOR")]
    pub token_scales: Vec<String>,
    /// Runs of the tasks on one side (files or directories).
    #[arg(long = "a", value_name = "PATH", num_args = 1..)]
    pub a: Vec<String>,
    /// Runs of the same tasks on the other side.
    #[arg(long = "b", value_name = "PATH", num_args = 1..)]
    pub b: Vec<String>,
    /// How sessions are matched: title, metadata.KEY, file or session.
    #[arg(long, default_value = "title", value_name = "KEY")]
    pub pair_by: String,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time zone (IANA name) of the local days sessions are rated in, as for `meter --tz`.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: Zone,
    #[command(flatten)]
    pub out: super::TableOutput,
    /// Also write a report (HTML with charts, markdown, JSON) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

fn grid(lead: &[&str], rows: Vec<Vec<String>>, total: Vec<String>, numeric_from: usize) -> Grid {
    let header: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
    let numeric = (0..header.len()).map(|i| i >= numeric_from).collect();
    Grid {
        header,
        numeric,
        rows,
        total,
    }
}

fn ratio_text(r: Option<Decimal>) -> String {
    r.map_or("-".into(), |r| format!("{:.2}x", r.round_dp(2)))
}

fn signed(d: Decimal) -> String {
    if d.is_sign_positive() && !d.is_zero() {
        format!("+{}", usd(d))
    } else {
        usd(d)
    }
}

fn render(format: Format, tables: &[(String, Grid)], notes: &[String], doc: &CompareDoc) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(doc).unwrap_or_default() + "\n",
        _ => crate::export::render_tables(
            format,
            tables,
            &notes
                .iter()
                .map(|n| format!("note: {n}"))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A report of a comparison: its tables, notes and JSON, charts added by the caller.
#[allow(clippy::too_many_arguments)]
fn compare_report(
    name: &str,
    inputs: Vec<String>,
    versions: Vec<String>,
    section: &str,
    tables: Vec<(String, Grid)>,
    notes: Vec<String>,
    doc: &CompareDoc,
) -> Report {
    let mut r = Report::new(name.into(), inputs);
    r.pricing_versions = versions;
    r.sections.push(Section {
        title: section.into(),
        tables: tables
            .into_iter()
            .map(|(t, g)| (Some(t), g).into())
            .collect(),
        notes,
    });
    r.data.push((
        "compare.json".into(),
        serde_json::to_string_pretty(doc).unwrap_or_default(),
    ));
    r
}

fn variants(args: &CompareArgs) -> Result<Vec<Variant>> {
    let tables: Vec<Arc<PriceTable>> = if args.pricings.is_empty() {
        vec![Arc::new(PriceTable::bundled()?)]
    } else {
        args.pricings
            .iter()
            .map(|p| PriceTable::load(p).map(Arc::new))
            .collect::<Result<_>>()?
    };
    let mut scales: Vec<(String, Decimal)> = Vec::new();
    for s in &args.token_scales {
        let (m, f) = s
            .split_once('=')
            .ok_or_else(|| Error::new(format!("--token-scale {s:?}: expected MODEL=FACTOR")))?;
        let f: Decimal = f
            .trim()
            .parse()
            .map_err(|_| Error::new(format!("--token-scale {s:?}: {f:?} is not a number")))?;
        if f <= Decimal::ZERO {
            return Err(Error::new(format!(
                "--token-scale {s:?}: the factor must be above 0"
            )));
        }
        scales.push((m.trim().to_string(), f));
    }
    let models: Vec<Option<String>> = if args.models.is_empty() {
        vec![None]
    } else {
        args.models.iter().cloned().map(Some).collect()
    };
    let mut out = Vec::new();
    for t in &tables {
        for m in &models {
            if let Some(id) = m {
                if t.model(id).is_none() {
                    return Err(Error::new(format!(
                        "--model {id}: unknown model in price table {}{}",
                        t.version,
                        t.suggestion(id)
                    ))
                    .with_hint("`agentmeter pricing list` shows the known models"));
                }
            }
            let scale = m
                .as_ref()
                .and_then(|id| scales.iter().find(|(s, _)| s == id))
                .map_or(Decimal::ONE, |(_, f)| *f);
            let mut label = m.clone().unwrap_or_else(|| "as metered".into());
            if tables.len() > 1 {
                label = format!("{label} @ {}", t.version);
            }
            if scale != Decimal::ONE {
                label = format!("{label} (x{} tokens)", scale.normalize());
            }
            out.push(Variant {
                label,
                model: m.clone(),
                table: t.clone(),
                token_scale: scale,
            });
        }
    }
    for (m, _) in &scales {
        if !models.iter().flatten().any(|x| x == m) {
            return Err(Error::new(format!(
                "--token-scale names {m}, which no --model names"
            )));
        }
    }
    Ok(out)
}

fn run_reprice(args: &CompareArgs, out: &Output) -> Result<i32> {
    if args.paths.is_empty() {
        return Err(
            Error::new("compare needs exports to reprice, or --a and --b")
                .with_hint("see `agentmeter compare --help`"),
        );
    }
    let vs = variants(args)?;
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(&sources, &args.geo.meter_options())?;
    let priced = reprice(&metered.sessions, &vs, args.tz)?;
    let totals: Vec<Cost> = priced.iter().map(|p| total(p)).collect();
    let first = totals[0].total();

    let mut lead: Vec<String> = vec!["Session".into()];
    lead.extend(vs.iter().map(|v| v.label.clone()));
    lead.extend(["Difference".into(), "Ratio".into()]);
    let last = vs.len() - 1;
    let rows = (0..metered.sessions.len())
        .map(|i| {
            let mut r = vec![metered.sessions[i].session_id.to_string()];
            r.extend(priced.iter().map(|p| usd(p[i].cost.total())));
            let (d, ratio) = difference(priced[0][i].cost.total(), priced[last][i].cost.total());
            r.extend([signed(d), ratio_text(ratio)]);
            r
        })
        .collect();
    let (d, ratio) = difference(first, totals[last].total());
    let mut tot = vec![format!(
        "Total ({} sessions)",
        count(metered.sessions.len() as u64)
    )];
    tot.extend(totals.iter().map(|c| usd(c.total())));
    tot.extend([signed(d), ratio_text(ratio)]);
    let lead_refs: Vec<&str> = lead.iter().map(String::as_str).collect();
    let per_session = grid(&lead_refs, rows, tot, 1);
    let by_cat_rows = vs
        .iter()
        .zip(&totals)
        .map(|(v, c)| {
            let mut r = vec![v.label.clone()];
            r.extend(c.values().copied().chain([c.total()]).map(usd));
            let (d, ratio) = difference(first, c.total());
            r.extend([signed(d), ratio_text(ratio)]);
            r
        })
        .collect();
    let by_cat_header: Vec<&str> = std::iter::once("Priced as")
        .chain(CostColumn::ALL.iter().map(|c| c.label()))
        .chain(["Total", "vs first", "Ratio"])
        .collect();
    let by_cat = grid(&by_cat_header, by_cat_rows, Vec::new(), 1);
    let doc = CompareDoc::Reprice(RepriceDoc::new(
        &vs,
        &metered.sessions,
        &priced,
        &totals,
        NOTE,
    ));
    let tables = vec![
        ("Per session".to_string(), per_session),
        ("Totals by charge category".to_string(), by_cat),
    ];
    let notes = vec![NOTE.to_string()];
    out.write(&super::painted(
        out,
        args.out.format,
        render(args.out.format.into(), &tables, &notes, &doc),
    ))?;
    if let Some(dir) = &args.report {
        let versions = vs.iter().map(|v| v.table.version.clone()).collect();
        let mut r = compare_report(
            "Comparison",
            args.paths.clone(),
            versions,
            "Repriced",
            tables,
            notes,
            &doc,
        );
        let f = |d: Decimal| d.to_f64().unwrap_or(0.0);
        let labels: Vec<String> = vs.iter().map(|v| v.label.clone()).collect();
        r.charts.push(Figure::new(
            "compare-totals",
            Chart::Comparison {
                title: "The same traces priced each way".into(),
                labels: labels.clone(),
                expected: totals.iter().map(|c| f(c.total())).collect(),
                p5: totals.iter().map(|c| f(c.total())).collect(),
                p95: totals.iter().map(|c| f(c.total())).collect(),
            },
            "One bar per way of pricing, the figure beside it the total: the same sessions, \
             the same token counts and running time each time, only the prices differ.",
        ));
        let series = CostColumn::ALL
            .iter()
            .map(|&k| {
                (
                    k.key().to_string(),
                    totals.iter().map(|c| f(c[k])).collect(),
                )
            })
            .collect();
        r.charts.push(Figure::new(
            "compare-by-category",
            Chart::Stacked {
                title: "Cost by charge category, each way".into(),
                groups: labels,
                series,
            },
            "The bars of the totals, stacked by charge category (legend): where a pricing \
             gains or loses.",
        ));
        crate::pipeline::write_report(dir, &r, args.out.force)?;
    }
    Ok(0)
}

fn side(
    paths: &[String],
    table: &PriceTable,
    opts: &MeterOptions,
    tz: Zone,
) -> Result<Vec<RatedSession>> {
    let (sessions, _, _) = bill(paths, table, opts, tz, true)?;
    Ok(sessions)
}

fn run_paired(args: &CompareArgs, out: &Output) -> Result<i32> {
    if args.a.is_empty() || args.b.is_empty() {
        return Err(Error::new("paired comparison needs both --a and --b"));
    }
    let key: TaskKey = args
        .pair_by
        .parse()
        .map_err(|e| Error::new(format!("--pair-by: {e}")))?;
    let table = match args.pricings.as_slice() {
        [] => PriceTable::bundled()?,
        [one] => PriceTable::load(one)?,
        _ => {
            return Err(Error::new(
                "a paired comparison prices both sides with one table: give one --pricing",
            ))
        }
    };
    let (a, b) = (
        side(&args.a, &table, &args.geo.meter_options(), args.tz)?,
        side(&args.b, &table, &args.geo.meter_options(), args.tz)?,
    );
    let p = pair(&a, &b, &key);
    if p.pairs.is_empty() {
        return Err(
            Error::new(format!("no task appears on both sides (paired by {key})"))
                .with_hint("check --pair-by: title, metadata.KEY, file or session"),
        );
    }
    let s = summarize(&p, args.seed);
    let row = |x: &crate::compare::paired::Pair| {
        let (d, r) = difference(x.a.cost.total(), x.b.cost.total());
        vec![
            x.task.clone(),
            usd(x.a.cost.total()),
            usd(x.b.cost.total()),
            signed(d),
            ratio_text(r),
            duration(x.a.active_ms),
            duration(x.b.active_ms),
            count(x.a.tokens.total_input() + x.a.tokens.output),
            count(x.b.tokens.total_input() + x.b.tokens.output),
        ]
    };
    let rows = p.pairs.iter().map(row).collect();
    let (d, r) = difference(s.total_a, s.total_b);
    let total_row = vec![
        format!("Total ({} tasks)", s.pairs),
        usd(s.total_a),
        usd(s.total_b),
        signed(d),
        ratio_text(r),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    const TASK_HEADER: [&str; 9] = [
        "Task", "A cost", "B cost", "B - A", "B / A", "A active", "B active", "A tokens",
        "B tokens",
    ];
    let tasks = grid(&TASK_HEADER, rows, total_row.clone(), 1);
    let mut notes = vec![format!(
        "mean difference per task (B - A): {} (95% bootstrap interval {} to {}); B cheaper on {}, dearer on {}, equal on {}",
        signed(s.mean_difference),
        signed(s.ci95.0),
        signed(s.ci95.1),
        s.b_cheaper,
        s.b_dearer,
        s.ties
    )];
    for (what, list) in [
        ("only in A", &p.only_a),
        ("only in B", &p.only_b),
        ("without a task key in A", &p.no_key_a),
        ("without a task key in B", &p.no_key_b),
    ] {
        if !list.is_empty() {
            notes.push(format!(
                "{} unpaired {what}: {}",
                list.len(),
                list.join(", ")
            ));
        }
    }
    let doc = CompareDoc::Paired(PairedDoc::new(&key, &args.a, &args.b, &p, &s, args.seed));
    let tables = vec![(
        format!(
            "Paired by {key}: A = {}, B = {}",
            args.a.join(" "),
            args.b.join(" ")
        ),
        tasks,
    )];
    out.write(&super::painted(
        out,
        args.out.format,
        render(args.out.format.into(), &tables, &notes, &doc),
    ))?;
    if let Some(dir) = &args.report {
        let mut inputs = args.a.clone();
        inputs.extend(args.b.iter().cloned());
        // The page shows the tasks that moved most; every task is in compare.json.
        let shown = top_pairs(&p.pairs);
        let rest = p.pairs.len() - shown.len();
        let mut report_tasks = grid(
            &TASK_HEADER,
            shown.iter().map(|x| row(x)).collect(),
            total_row,
            1,
        );
        let (others_a, others_b) = if rest == 0 {
            (Decimal::ZERO, Decimal::ZERO)
        } else {
            let (a, b) = (
                s.total_a - shown.iter().map(|x| x.a.cost.total()).sum::<Decimal>(),
                s.total_b - shown.iter().map(|x| x.b.cost.total()).sum::<Decimal>(),
            );
            let (d, r) = difference(a, b);
            let mut cells = vec![String::new(); report_tasks.header.len()];
            cells[..5].clone_from_slice(&[
                format!("{rest} other tasks"),
                usd(a),
                usd(b),
                signed(d),
                ratio_text(r),
            ]);
            report_tasks.rows.push(cells);
            (a, b)
        };
        let mut r = compare_report(
            "Paired comparison",
            inputs,
            vec![table.version.clone()],
            "Tasks",
            vec![(
                if rest == 0 {
                    tables[0].0.clone()
                } else {
                    format!(
                        "{}: the {} tasks with the largest |B - A|, the other {rest} summed (all in compare.json)",
                        tables[0].0,
                        shown.len()
                    )
                },
                report_tasks,
            )],
            Vec::new(),
            &doc,
        );
        let (d, ratio) = difference(s.total_a, s.total_b);
        r.summary.push(Section {
            title: format!("Paired by {key}"),
            tables: vec![(
                None,
                crate::report::document::facts(vec![
                    ("Tasks on both sides", count(s.pairs as u64)),
                    ("A, total", usd(s.total_a)),
                    ("B, total", usd(s.total_b)),
                    ("B - A, total", signed(d)),
                    ("B / A", ratio_text(ratio)),
                    ("Mean difference per task", signed(s.mean_difference)),
                    (
                        "95% bootstrap interval of the mean",
                        format!("{} to {}", signed(s.ci95.0), signed(s.ci95.1)),
                    ),
                    ("Median difference per task", signed(s.median_difference)),
                    (
                        "B cheaper / dearer / equal",
                        format!("{} / {} / {}", s.b_cheaper, s.b_dearer, s.ties),
                    ),
                ]),
            )
                .into()],
            notes: notes.into_iter().skip(1).collect(),
        });
        let f = |d: Decimal| d.to_f64().unwrap_or(0.0);
        let mut tasks: Vec<String> = shown.iter().map(|x| x.task.clone()).collect();
        let mut a: Vec<f64> = shown.iter().map(|x| f(x.a.cost.total())).collect();
        let mut b: Vec<f64> = shown.iter().map(|x| f(x.b.cost.total())).collect();
        if rest > 0 {
            tasks.push(format!("{rest} others (mean)"));
            a.push(f(others_a) / rest as f64);
            b.push(f(others_b) / rest as f64);
        }
        r.charts.push(Figure::new(
            "paired-tasks",
            Chart::Paired {
                title: if rest == 0 {
                    "Cost per task, A and B".into()
                } else {
                    format!(
                        "Cost per task, A and B: the {} that differ most, of {}",
                        shown.len(),
                        p.pairs.len()
                    )
                },
                tasks,
                labels: ("A".into(), "B".into()),
                a,
                b,
            },
            format!(
                "Two bars per task (sessions paired by {key}): its cost in A (left) and in B \
                 (right)."
            ),
        ));
        let diffs: Vec<f64> = p.pairs.iter().map(|x| f(x.difference())).collect();
        r.charts.push(Figure::new(
            "paired-differences",
            Chart::Histogram {
                title: format!("Per-task difference B - A ({} tasks)", p.pairs.len()),
                bins: bins(&diffs, 20),
                marks: vec![
                    ("mean".into(), f(s.mean_difference)),
                    ("median".into(), f(s.median_difference)),
                ],
                interval: Some(("95% interval of the mean".into(), f(s.ci95.0), f(s.ci95.1))),
                x_desc: "Difference per task, B - A (USD)".into(),
                y_desc: "Tasks".into(),
            },
            "How B - A is spread over the tasks: each bar counts the tasks whose difference \
             falls in its range (right of zero: B costs more); the lines mark the mean and the \
             median, the shaded band the bootstrap 95% interval of the mean difference.",
        ));
        crate::pipeline::write_report(dir, &r, args.out.force)?;
    }
    Ok(0)
}

/// Tasks shown one by one in a paired report.
const SHOWN_TASKS: usize = 30;

/// The [`SHOWN_TASKS`] pairs with the largest |B - A|, in task order.
fn top_pairs(pairs: &[crate::compare::paired::Pair]) -> Vec<&crate::compare::paired::Pair> {
    let mut by_size: Vec<&crate::compare::paired::Pair> = pairs.iter().collect();
    by_size.sort_by_key(|x| std::cmp::Reverse(x.difference().abs()));
    by_size.truncate(SHOWN_TASKS);
    by_size.sort_by(|x, y| x.task.cmp(&y.task));
    by_size
}

pub fn run(args: CompareArgs) -> Result<i32> {
    let out = Output::with_report(
        args.out.output.as_deref(),
        args.report.as_deref(),
        args.out.force,
    )?;
    if !args.a.is_empty() || !args.b.is_empty() {
        if !args.paths.is_empty() {
            return Err(Error::new(
                "give either PATHs to reprice or --a/--b to pair, not both",
            ));
        }
        return run_paired(&args, &out);
    }
    run_reprice(&args, &out)
}
