//! `agentmeter anomalies`: days whose spend is far from the same weekday of the weeks before.

use std::str::FromStr;

use clap::Args;
use rust_decimal::Decimal;

use crate::anomaly::{self, Anomaly, Params};
use crate::error::{Error, Result};
use crate::export::Grid;
use crate::money::{exact, usd};
use crate::output::Output;
use crate::pipeline::bill;
use crate::report::GroupBy;
use crate::time::Zone;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    #[default]
    Agent,
    Model,
    Project,
}

impl By {
    fn group(self) -> GroupBy {
        match self {
            By::Agent => GroupBy::Agent,
            By::Model => GroupBy::Model,
            By::Project => GroupBy::Project,
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  agentmeter anomalies runs/\n  \
    agentmeter anomalies runs/ --by model --since 2026-11-01 --tz Europe/Paris\n  \
    agentmeter anomalies runs/ --weeks 6 --threshold 3 --min-usd 5 --low --fail\n\n\
    Each key's cost per day is compared with the median of the same weekday over the previous\n\
    --weeks weeks; a day is flagged when it is more than --threshold spreads (scaled median\n\
    absolute deviations) and more than --min-usd dollars above it.\n\n\
    Exit code 0; 1 with --fail when an anomaly is found; 2 on an error.")]
pub struct AnomaliesArgs {
    /// Exports to meter (files, directories or -), as for `meter`: the history and the days
    /// judged.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// Whose daily spend is judged.
    #[arg(long, value_enum, default_value_t = By::Agent)]
    pub by: By,
    /// Judge only days on or after this local date (earlier days still serve as history).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Judge only days on or before this local date.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Time zone of the days (IANA name).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: Zone,
    /// How many previous same weekdays make a day's expectation (at least 2).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub weeks: u32,
    /// Flag a day more than this many spreads from its expectation...
    #[arg(long, value_name = "K", default_value = "4")]
    pub threshold: String,
    /// ...and more than this many dollars from it.
    #[arg(long, value_name = "USD", default_value = "1.00")]
    pub min_usd: String,
    /// Also flag days far below their expectation (a stopped agent, a lost export).
    #[arg(long)]
    pub low: bool,
    /// Exit 1 when any anomaly is found.
    #[arg(long)]
    pub fail: bool,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    #[command(flatten)]
    pub out: super::TableOutput,
    /// When an anomaly is found, POST a JSON message here (Slack-compatible `text`, the
    /// anomalies under `agentmeter`); only its scheme and host are ever shown.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
}

fn params(args: &AnomaliesArgs) -> Result<Params> {
    if args.weeks < 2 {
        return Err(Error::new(format!(
            "--weeks {}: a median and its spread need at least 2 weeks",
            args.weeks
        ))
        .with_hint(
            "--weeks 4 (the default) compares each day with the 4 same weekdays before it",
        ));
    }
    let threshold = Decimal::from_str(args.threshold.trim())
        .ok()
        .filter(|k| !k.is_sign_negative())
        .ok_or_else(|| {
            Error::new(format!(
                "--threshold {:?} is not a number of spreads",
                args.threshold
            ))
            .with_hint("write a non-negative number such as 4 (higher flags fewer days)")
        })?;
    let day = |flag: &str, s: &Option<String>| {
        s.as_deref()
            .map(|s| crate::time::parse_date(s).map_err(|e| Error::new(format!("{flag}: {e}"))))
            .transpose()
    };
    let (since, until) = (day("--since", &args.since)?, day("--until", &args.until)?);
    if let (Some(a), Some(b)) = (since, until) {
        if a > b {
            return Err(Error::new(format!("--since {a} is after --until {b}")));
        }
    }
    Ok(Params {
        weeks: args.weeks,
        threshold,
        min_usd: crate::compare::gate::parse_usd("--min-usd", &args.min_usd).map_err(|e| {
            e.with_hint("the smallest move in dollars that can alarm, such as 1.00 (cent-level noise never does)")
        })?,
        low: args.low,
        since,
        until,
    })
}

fn row(a: &Anomaly) -> Vec<String> {
    let e = &a.explained_by;
    vec![
        a.day.to_string(),
        a.key.clone(),
        usd(a.cost),
        usd(a.expected),
        usd(a.spread),
        usd(a.excess),
        format!(
            "{} {} (expected {})",
            e.category,
            usd(e.cost),
            usd(e.expected)
        ),
        a.sessions.join(", "),
    ]
}

pub fn run(args: AnomaliesArgs) -> Result<i32> {
    let p = params(&args)?;
    let notify = crate::fetch::notify::Notify::new(args.notify.as_deref())?;
    let table = args.pricing.load()?;
    let out = Output::new(args.out.output.as_deref(), args.out.force);
    out.check()?;
    // History before --since is needed, so every day is metered; --since/--until only choose
    // the days judged.
    let (sessions, _, _) = bill(
        &args.paths,
        &table,
        &args.geo.meter_options(),
        args.tz,
        true,
    )?;
    let by = args.by.group();
    let found = anomaly::find(&anomaly::daily(&sessions, by)?, &p);

    let doc = anomaly::AnomaliesDoc::new(&table.version, by, args.tz.0.name(), &p, &found);
    let text = if args.out.format == super::TableFormat::Json {
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        let mut key = by.name().to_string();
        key[..1].make_ascii_uppercase();
        let grid = Grid {
            header: [
                "Day",
                &key,
                "Cost",
                "Expected",
                "Spread",
                "Excess",
                "Explained by",
                "Top sessions",
            ]
            .map(String::from)
            .to_vec(),
            numeric: vec![false, false, true, true, true, true, false, false],
            rows: found.anomalies.iter().map(row).collect(),
            total: Vec::new(),
        };
        let title = format!(
            "Daily spend by {} vs the median of the same weekday over {} weeks (flagged past {} spreads and {})",
            by.name(),
            p.weeks,
            exact(p.threshold),
            usd(p.min_usd)
        );
        let notes = [format!(
            "{} anomal{} in {} day(s) judged; {} day(s) not judged (fewer than 2 same weekdays of history)",
            found.anomalies.len(),
            if found.anomalies.len() == 1 { "y" } else { "ies" },
            found.judged_days,
            found.unjudged_days
        )];
        crate::export::render_tables(args.out.format.into(), &[(title, grid)], &notes)
    };
    out.write(&super::painted(&out, args.out.format, text))?;
    if let Some(a) = found.anomalies.first() {
        notify.send(
            &format!(
                "agentmeter: {} spend anomal{} (first: {} {} {}, expected {})",
                found.anomalies.len(),
                if found.anomalies.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                a.day,
                a.key,
                usd(a.cost),
                usd(a.expected)
            ),
            &doc,
        );
    }
    Ok(if args.fail && !found.anomalies.is_empty() {
        1
    } else {
        0
    })
}
