//! `agentmeter reconcile`: computed vs provider-reported per session, and vs invoiced by day.

use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;

use crate::category::{Category, CostColumn};
use crate::error::Result;
use crate::export::Grid;
use crate::money::usd;
use crate::output::Output;
use crate::pipeline::bill;
use crate::reconcile::json::{InvoicedLine, ReconcileDoc, UsageDay};
use crate::reconcile::{
    check_session, computed_by_day, computed_counts_by_day, contracted_by_day, read_cost_reports,
    read_usage_reports, SessionCheck, Tolerance, OTHER_BUCKET,
};
use crate::time::Zone;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter reconcile runs/\n  agentmeter reconcile runs/ --cost-report admin/cost_report.json --tolerance-usd 0.05\n\n\
    Exit code 0 with or without flags (it reports); 2 on an error.",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "the invoice (--cost-report) is compared with what the user pays under its discounts, list beside it; provider-reported costs are list prices and stay compared with the list cost."
    )))
)]
pub struct ReconcileArgs {
    /// Exports to meter and check (files, directories or -), as for `meter`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// Flag a session when computed and reported cost differ by more than this many dollars...
    #[arg(long, default_value = "0.01", value_name = "USD",
          value_parser = |s: &str| crate::compare::gate::parse_usd("the value", s).map_err(|e| e.message))]
    pub tolerance_usd: Decimal,
    /// ...and by more than this share of the reported cost.
    #[arg(long, default_value = "0.5%", value_name = "PCT",
          value_parser = |s: &str| crate::compare::gate::parse_percent("the value", s).map_err(|e| e.message))]
    pub tolerance_pct: Decimal,
    /// Admin API cost_report responses (JSON) for the invoiced view; repeat for several pages.
    #[arg(long = "cost-report", value_name = "FILE")]
    pub cost_reports: Vec<PathBuf>,
    /// Admin API usage_report/messages responses (JSON): tokens and searches by day and model.
    #[arg(long = "usage-report", value_name = "FILE")]
    pub usage_reports: Vec<PathBuf>,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    #[command(flatten)]
    pub contract: super::ContractArg,
    #[command(flatten)]
    pub out: super::TableOutput,
}

fn opt(d: Option<Decimal>) -> String {
    d.map_or("-".into(), |d| d.round_dp(3).normalize().to_string())
}

pub fn run(args: ReconcileArgs) -> Result<i32> {
    let tol = Tolerance {
        usd: args.tolerance_usd,
        fraction: args.tolerance_pct,
    };
    let table = args.pricing.load()?;
    let contract = args.contract.load(&table)?;
    let (sessions, _, _) = bill(
        &args.paths,
        &table,
        &args.geo.meter_options(),
        Zone::default(),
        true,
    )?;
    let billing = contract
        .as_ref()
        .map(|c| crate::contract::apply(c, &sessions));
    let checks: Vec<SessionCheck> = sessions
        .iter()
        .filter_map(|s| check_session(s, tol))
        .collect();
    let unreported: Vec<String> = sessions
        .iter()
        .filter(|s| s.usage.provider_reported.is_none())
        .map(|s| s.usage.session_id.to_string())
        .collect();

    let find = |c: &SessionCheck, what: &str| c.quantities.iter().find(|q| q.what == what).cloned();
    let rows = checks
        .iter()
        .map(|c| {
            let rt = find(c, "runtime_seconds");
            let ws = find(c, Category::WebSearch.row().quantity_key);
            vec![
                c.session_id.clone(),
                usd(c.computed_cost),
                c.reported_cost.map_or("-".into(), usd),
                c.difference().map_or("-".into(), usd),
                format!(
                    "{} / {}",
                    opt(rt.as_ref().map(|q| q.computed)),
                    opt(rt.and_then(|q| q.reported))
                ),
                format!(
                    "{} / {}",
                    opt(ws.as_ref().map(|q| q.computed)),
                    opt(ws.and_then(|q| q.reported))
                ),
                if c.flagged {
                    format!("FLAG: {}", c.explained_by.unwrap_or("cost"))
                } else {
                    "ok".into()
                },
            ]
        })
        .collect();
    let header = [
        "Session",
        "Computed",
        "Reported",
        "Difference",
        "Runtime s (ours / theirs)",
        "Searches (ours / theirs)",
        "Check",
    ];
    let mut tables = vec![(
        format!(
            "Computed vs provider-reported (tolerance {} or {}%)",
            usd(tol.usd),
            (tol.fraction * Decimal::ONE_HUNDRED).normalize()
        ),
        Grid {
            header: header.map(String::from).to_vec(),
            numeric: vec![false, true, true, true, true, true, false],
            rows,
            total: Vec::new(),
        },
    )];
    let flagged = checks.iter().filter(|c| c.flagged).count();
    let mut notes = vec![format!(
        "{} session(s) compared, {flagged} flagged",
        checks.len()
    )];
    if !unreported.is_empty() {
        notes.push(format!(
            "{} session(s) without provider figures: {}",
            unreported.len(),
            unreported.join(", ")
        ));
    }
    let computed_total: Decimal = sessions.iter().map(|s| s.cost.total()).sum();
    let reported_total: Decimal = checks.iter().filter_map(|c| c.reported_cost).sum();
    let mut doc = ReconcileDoc::new(
        &table.version,
        tol,
        &checks,
        &unreported,
        computed_total,
        reported_total,
    );
    if let Some(b) = &billing {
        // What the user pays; the sessions' provider figures are list prices (list_cost).
        notes.push(format!(
            "contract {} ({}): provider-reported costs are list prices, compared with the list cost; the invoice is compared with what the user pays (list {}, contracted {})",
            b.contract.version,
            b.contract.origin,
            usd(computed_total),
            usd(b.contracted.total())
        ));
        doc.contract(
            b.contract,
            b.contracted.total(),
            b.shortfall,
            b.credits_used,
            b.billed,
        );
    }
    if !args.cost_reports.is_empty() {
        let invoiced = read_cost_reports(&args.cost_reports)?;
        let computed = computed_by_day(&sessions);
        let contracted = billing.as_ref().map(|b| contracted_by_day(&sessions, b));
        let keys: std::collections::BTreeSet<_> =
            invoiced.keys().chain(computed.keys()).cloned().collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for k in keys {
            let (c, i) = (
                computed.get(&k).copied().unwrap_or_default(),
                invoiced.get(&k).copied().unwrap_or_default(),
            );
            match &contracted {
                None => {
                    rows.push(vec![k.0.clone(), k.1.clone(), usd(c), usd(i), usd(c - i)]);
                    lines.push(InvoicedLine::new(k.0, k.1, c, i));
                }
                Some(paid) => {
                    // The invoice is what the user pays: compared with the contracted amount.
                    let p = paid.get(&k).copied().unwrap_or_default();
                    rows.push(vec![
                        k.0.clone(),
                        k.1.clone(),
                        usd(c),
                        usd(p),
                        usd(i),
                        usd(p - i),
                    ]);
                    lines.push(InvoicedLine::contracted(k.0, k.1, c, p, i));
                }
            }
        }
        let invoiced_total: Decimal = invoiced.values().copied().sum();
        let grid = match &billing {
            None => Grid {
                header: [
                    "Day",
                    "Model / charge",
                    "Computed",
                    "Invoiced",
                    "Difference",
                ]
                .map(String::from)
                .to_vec(),
                numeric: vec![false, false, true, true, true],
                rows,
                total: vec![
                    "Total".into(),
                    String::new(),
                    usd(computed_total),
                    usd(invoiced_total),
                    usd(computed_total - invoiced_total),
                ],
            },
            Some(b) => {
                let paid = b.contracted.total();
                Grid {
                    header: [
                        "Day",
                        "Model / charge",
                        "List",
                        "Contracted",
                        "Invoiced",
                        "Difference",
                    ]
                    .map(String::from)
                    .to_vec(),
                    numeric: vec![false, false, true, true, true, true],
                    rows,
                    total: vec![
                        "Total".into(),
                        String::new(),
                        usd(computed_total),
                        usd(paid),
                        usd(invoiced_total),
                        usd(paid - invoiced_total),
                    ],
                }
            }
        };
        let title = match &billing {
            None => "Computed vs invoiced, by UTC day".to_string(),
            Some(_) => "Contracted (what the user pays) vs invoiced, by UTC day".to_string(),
        };
        tables.push((title, grid));
        notes.push(match &billing {
            None => format!(
                "three sources: computed {}, provider-reported {} (sessions that report it), invoiced {}",
                usd(computed_total),
                usd(reported_total),
                usd(invoiced_total)
            ),
            Some(b) => format!(
                "three sources: computed {} at list ({} contracted), provider-reported {} (sessions that report it), invoiced {}",
                usd(computed_total),
                usd(b.contracted.total()),
                usd(reported_total),
                usd(invoiced_total)
            ),
        });
        if let Some(b) = &billing {
            // Monthly terms are not usage of a day: an invoice shows them as lines of their own.
            for m in b
                .months
                .iter()
                .filter(|m| !m.shortfall.is_zero() || !m.credits.is_empty())
            {
                let credited: Decimal = m.credits.iter().map(|c| c.1).sum();
                notes.push(format!(
                    "{}: the contract also bills a commitment shortfall of {} and uses {} of credits (not in the rows by day: the month is billed {})",
                    m.first.format("%Y-%m"),
                    usd(m.shortfall),
                    usd(credited),
                    usd(m.billed)
                ));
            }
        }
        if invoiced.keys().any(|k| k.1 == OTHER_BUCKET) {
            notes.push(
                "some invoiced rows match no model, web search or runtime: see the (other) rows"
                    .into(),
            );
        }
        doc.invoiced(lines, invoiced_total);
    }
    if !args.usage_reports.is_empty() {
        let reported = read_usage_reports(&args.usage_reports)?;
        let computed = computed_counts_by_day(&sessions);
        let keys: std::collections::BTreeSet<_> =
            reported.keys().chain(computed.keys()).cloned().collect();
        // The cost columns a usage report counts: (column, key, header).
        let counted: Vec<(CostColumn, &str, &str)> = (CostColumn::ALL.into_iter())
            .filter_map(|c| c.row().usage_report.map(|(key, label)| (c, key, label)))
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for k in keys {
            let (c, r) = (
                computed.get(&k).copied().unwrap_or_default(),
                reported.get(&k).copied().unwrap_or_default(),
            );
            let mut row = vec![k.0.clone(), k.1.clone()];
            row.extend(counted.iter().map(|&(i, _, _)| {
                if c[i] == r[i] {
                    crate::money::count(c[i])
                } else {
                    format!(
                        "{} / {}",
                        crate::money::count(c[i]),
                        crate::money::count(r[i])
                    )
                }
            }));
            rows.push(row);
            lines.push(UsageDay::new(k.0, k.1, c, r));
        }
        tables.push((
            "Tokens and searches, computed / usage report (one number when they agree)".into(),
            Grid {
                header: ["Day", "Model"]
                    .into_iter()
                    .chain(counted.iter().map(|&(_, _, label)| label))
                    .map(String::from)
                    .collect(),
                numeric: [false, false]
                    .into_iter()
                    .chain(counted.iter().map(|_| true))
                    .collect(),
                rows,
                total: Vec::new(),
            },
        ));
        doc.usage_report(lines);
    }
    let text = if args.out.format == super::TableFormat::Json {
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        crate::export::render_tables(args.out.format.into(), &tables, &notes)
    };
    Output::new(args.out.output.as_deref(), args.out.force).write(&text)?;
    Ok(0)
}
