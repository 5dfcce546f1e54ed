//! Projections as tables (terminal, markdown) and JSON (`agentmeter/projection-v1`).

use std::borrow::Cow;

use rust_decimal::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use super::{markdown, table, Format, Grid};
use crate::contract::{self, Contract};
use crate::money::usd;
use crate::pricing::json::TableRef;
use crate::project::{BilledStats, ContractTerms, Projection, Stats, UNCERTAINTY_SOURCES};
use crate::schema::{ColumnKey, ColumnsJson, Day, Exact, Month};

fn stats_cells(s: &Stats) -> Vec<String> {
    [s.expected, s.mean, s.p5, s.p50, s.p95, s.p99]
        .into_iter()
        .map(usd)
        .collect()
}

const STATS_HEADERS: [&str; 6] = ["Expected", "Mean", "p5", "p50", "p95", "p99"];

fn grid(
    lead: &[&str],
    rows: Vec<(Vec<String>, &Stats)>,
    total: Option<(Vec<String>, &Stats)>,
) -> Grid {
    let mut header: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
    header.extend(STATS_HEADERS.map(String::from));
    let mut numeric = vec![false; lead.len()];
    numeric.extend([true; 6]);
    let cells = |(mut c, s): (Vec<String>, &Stats)| {
        c.extend(stats_cells(s));
        c
    };
    Grid {
        header,
        numeric,
        rows: rows.into_iter().map(cells).collect(),
        total: total.map(cells).unwrap_or_default(),
    }
}

/// A column of expected session counts, one format for all its cells (so they line up
/// right-aligned): to one decimal, with thousands separators; without the decimal when every
/// cell is whole at one decimal.
fn sessions_cells(ns: &[Decimal]) -> Vec<String> {
    let r: Vec<Decimal> = ns.iter().map(|n| n.round_dp(1)).collect();
    let whole = r.iter().all(|n| n.fract().is_zero());
    r.iter()
        .map(|n| {
            // Counts are never negative.
            let int = crate::money::count(n.trunc().to_u64().unwrap_or(0));
            if whole {
                int
            } else {
                let tenth = (n.fract() * Decimal::TEN).to_u64().unwrap_or(0);
                format!("{int}.{tenth}")
            }
        })
        .collect()
}

fn title(p: &Projection) -> String {
    let model = p
        .variant
        .as_ref()
        .map(|m| format!(", every agent as {m}"))
        .unwrap_or_default();
    let contract = p
        .contract
        .as_ref()
        .map(|t| format!(", contract {}", t.contract.version))
        .unwrap_or_default();
    format!(
        "Projection of {}{model}: {} months from {}, {} runs (seed {}), prices {}{contract}",
        p.scenario,
        p.months.len(),
        p.months
            .first()
            .map(|m| m.month.format("%Y-%m").to_string())
            .unwrap_or_default(),
        p.runs,
        p.seed,
        p.pricing_version
    )
}

/// A column put into a table at `at`: its header, one cell per row, and its total cell (for
/// a table that has a total row).
fn insert_column(g: &mut Grid, at: usize, header: &str, cells: Vec<String>, total: String) {
    g.header.insert(at, header.into());
    g.numeric.insert(at, true);
    for (r, c) in g.rows.iter_mut().zip(cells) {
        r.insert(at, c);
    }
    if !g.total.is_empty() {
        g.total.insert(at, total);
    }
}

/// A column at the end of a table.
fn push_column(g: &mut Grid, header: &str, cells: Vec<String>, total: String) {
    let at = g.header.len();
    insert_column(g, at, header, cells, total);
}

/// The title of a projection's table by agent.
pub const AGENTS_TITLE: &str = "By agent, over the horizon";

/// The three tables of one projection: by month, by agent, by category.
pub fn grids(p: &Projection) -> Vec<(String, Grid)> {
    // The months and their total in one column format.
    let mut counts: Vec<Decimal> = p.months.iter().map(|m| m.expected_sessions).collect();
    counts.push(counts.iter().sum());
    let mut counts = sessions_cells(&counts);
    let total_count = counts.pop().unwrap_or_default();
    let mut months = grid(
        &["Month", "Sessions"],
        p.months
            .iter()
            .zip(counts)
            .map(|(m, n)| (vec![m.month.format("%Y-%m").to_string(), n], &m.stats))
            .collect(),
        Some((vec!["Total".into(), total_count], &p.total)),
    );
    months.numeric[1] = true;
    let mut agents = grid(
        &["Agent", "Model"],
        p.agents
            .iter()
            .map(|a| (vec![a.name.clone(), a.model.clone()], &a.stats))
            .collect(),
        None,
    );
    // What a session's budget (list cost) should allow: its p95 and p99.
    push_column(
        &mut agents,
        "Budget p95",
        p.agents.iter().map(|a| usd(a.session_budget.p95)).collect(),
        String::new(),
    );
    push_column(
        &mut agents,
        "Budget p99",
        p.agents.iter().map(|a| usd(a.session_budget.p99)).collect(),
        String::new(),
    );
    let mut cats = grid(
        &["Category"],
        (p.categories.iter())
            .map(|(c, s)| (vec![c.key().to_string()], s))
            .collect(),
        None,
    );
    if let Some(t) = &p.contract {
        // The list expectation before the contracted one ("Expected").
        let cells = |v: &mut dyn Iterator<Item = Decimal>| v.map(usd).collect::<Vec<_>>();
        insert_column(
            &mut months,
            2,
            "List",
            cells(&mut t.list_months.iter().copied()),
            usd(t.list_total),
        );
        insert_column(
            &mut agents,
            2,
            "List",
            cells(&mut t.list_agents.iter().copied()),
            String::new(),
        );
        insert_column(
            &mut cats,
            1,
            "List",
            cells(&mut t.list_categories.values().copied()),
            String::new(),
        );
        // The monthly terms, on the expected spend.
        let c = &t.contract;
        if !c.commitments.is_empty() {
            push_column(
                &mut months,
                "Shortfall",
                t.months.iter().map(|m| usd(m.shortfall)).collect(),
                usd(t.shortfall),
            );
        }
        if !c.credits.is_empty() {
            push_column(
                &mut months,
                "Credits",
                t.months
                    .iter()
                    .map(|m| usd(m.credits.iter().map(|u| u.1).sum()))
                    .collect(),
                usd(t.credits_used),
            );
        }
        if !c.commitments.is_empty() || !c.credits.is_empty() {
            push_column(
                &mut months,
                "Billed",
                t.months.iter().map(|m| usd(m.billed)).collect(),
                usd(t.billed),
            );
            // The band of the runs' bills, each run's months under the same terms.
            let q = |s: &Stats, k: usize| [s.p5, s.p50, s.p95][k];
            for (k, header) in ["Billed p5", "Billed p50", "Billed p95"].iter().enumerate() {
                push_column(
                    &mut months,
                    header,
                    t.runs.months.iter().map(|m| usd(q(&m.billed, k))).collect(),
                    usd(q(&t.runs.total.billed, k)),
                );
            }
        }
    }
    vec![
        (title(p), months),
        (AGENTS_TITLE.into(), agents),
        ("By charge category, over the horizon".into(), cats),
    ]
}

/// Side by side, when the same scenario is priced as several models.
fn comparison(ps: &[Projection]) -> Grid {
    let base = ps[0].total.expected;
    let mut g = grid(
        &["Model", "vs first"],
        ps.iter()
            .map(|p| {
                let ratio = if base.is_zero() {
                    "-".to_string()
                } else {
                    format!("{:.2}x", (p.total.expected / base).round_dp(2))
                };
                (
                    vec![
                        p.variant.clone().unwrap_or_else(|| "as in scenario".into()),
                        ratio,
                    ],
                    &p.total,
                )
            })
            .collect(),
        None,
    );
    g.total = Vec::new();
    // Under a contract every amount is what the user pays: the list expectation beside it.
    if ps.iter().all(|p| p.contract.is_some()) {
        let list = (ps.iter())
            .filter_map(|p| p.contract.as_ref())
            .map(|t| usd(t.list_total))
            .collect();
        insert_column(&mut g, 2, "List", list, String::new());
    }
    g
}

fn render_grid(g: &Grid, format: Format) -> String {
    match format {
        Format::Markdown => markdown::render(g),
        _ => table::render(g),
    }
}

pub fn render(ps: &[Projection], format: Format) -> String {
    if format == Format::Json {
        return json_doc(ps);
    }
    let mut out = String::new();
    let heading = |s: &str| {
        if format == Format::Markdown {
            format!("### {s}\n\n")
        } else {
            format!("{s}\n")
        }
    };
    if ps.len() > 1 {
        out.push_str(&heading("Horizon total by model"));
        out.push_str(&render_grid(&comparison(ps), format));
        out.push_str("\nEach model would not use the same tokens for the same work; this prices the scenario's quantities as given.\n\n");
    }
    for p in ps {
        for (t, g) in grids(p) {
            out.push_str(&heading(&t));
            out.push_str(&render_grid(&g, format));
            out.push('\n');
        }
        for n in &p.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out.push_str(&format!("{}\n", uncertainty_line(p)));
        out.push_str(&format!("{}\n", budget_line(p)));
    }
    out
}

/// What the agents' Budget p95 and p99 columns are (after the uncertainty line).
pub fn budget_line(p: &Projection) -> String {
    let n = p.agents.iter().map(|a| a.session_budget.sessions).max();
    format!(
        "session budgets: Budget p95 and p99 are the 95th and 99th percentiles of one session's list cost ({} simulated sessions per agent at the first day's list prices, rounded up to the cent), for a session's budget.max_list_cost",
        crate::money::count(n.unwrap_or(0) as u64)
    )
}

/// The last line of a projection's table: `uncertainty: ` and [`uncertainty_statement`].
pub fn uncertainty_line(p: &Projection) -> String {
    format!("uncertainty: {}", uncertainty_statement(p))
}

/// In plain words, what the p5-p95 band covers and what it holds fixed (from
/// `Projection::uncertainty`, as the JSON lists it).
pub fn uncertainty_statement(p: &Projection) -> String {
    let words = |k: &str| match k {
        "per_session" => "per-session variation (running time, requests, tokens, searches)",
        "arrivals" => "Poisson arrivals (the count of sessions)",
        "volume" => "volume (the level of sessions, drawn once per run)",
        "growth" => "growth (the monthly rate, drawn once per run)",
        _ => "prices (possible price changes, drawn once per run)",
    };
    let short = |k: &'static str| match k {
        "per_session" => "per-session variation",
        k => k,
    };
    let fixed: Vec<&str> = UNCERTAINTY_SOURCES
        .iter()
        .filter(|k| !p.uncertainty.contains(k))
        .map(|k| short(k))
        .collect();
    if p.uncertainty.is_empty() {
        return "nothing in this scenario varies, so every run is the same and the band is one value".into();
    }
    let covers: Vec<&str> = p.uncertainty.iter().map(|k| words(k)).collect();
    let mut line = format!("the p5-p95 band covers {}", covers.join(", "));
    if !fixed.is_empty() {
        line.push_str(&format!("; {} are fixed as written", fixed.join(", ")));
    }
    line
}

// ----- JSON ---------------------------------------------------------------------------------
//
// The document is [`ProjectionDoc`]'s serialization; its JSON Schema (docs/schema/
// projection-v1.json) is generated from these types. A new key is a field (with its doc
// comment, the schema's description) in [`ProjectionJson`], where it falls in the document.

/// One amount's exact expectation and the Monte Carlo runs' mean and percentiles, USD.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "stats")]
pub struct StatsJson {
    /// The exact expectation.
    expected: Exact,
    /// The mean over the runs.
    mean: Exact,
    /// The runs' 5th percentile.
    p5: Exact,
    /// The runs' median.
    p50: Exact,
    /// The runs' 95th percentile.
    p95: Exact,
    /// The runs' 99th percentile.
    p99: Exact,
}

impl From<&Stats> for StatsJson {
    fn from(s: &Stats) -> Self {
        StatsJson {
            expected: Exact(s.expected),
            mean: Exact(s.mean),
            p5: Exact(s.p5),
            p50: Exact(s.p50),
            p95: Exact(s.p95),
            p99: Exact(s.p99),
        }
    }
}

/// One month of the horizon: its stats, then its breakdown.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "projected_month")]
pub struct MonthJson<'a> {
    #[serde(flatten)]
    stats: StatsJson,
    /// The month, YYYY-MM.
    month: Month,
    /// Expected sessions in the month (to 6 places).
    expected_sessions: Exact,
    /// Expected cost per agent, in the scenario's order.
    agents: Vec<AgentExpected<'a>>,
    /// The month's exact expected cost by cost column.
    categories: ColumnsJson,
    /// Under --contract: the month's expectation at list prices (`expected` is then what the
    /// user pays).
    #[serde(skip_serializing_if = "Option::is_none")]
    list_expected: Option<Exact>,
    /// Under --contract: the contract's monthly terms on the month's expected spend.
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<MonthTermsJson>,
}

/// A contract's terms of one month, on its expected spend.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "month_terms")]
pub struct MonthTermsJson {
    /// The commitment row in force (`commitment[i]@effective`), if any.
    commitment: Option<String>,
    /// Its monthly minimum, USD.
    minimum: Option<Exact>,
    /// What the month falls short of the minimum, billed as its own line.
    shortfall: Exact,
    /// The credits used this month, oldest first.
    credits: Vec<CreditUseJson>,
    /// The month's bill: contracted + shortfall - credits.
    billed: Exact,
    /// The month's bill in each Monte Carlo run (the terms applied to the run's month).
    runs: BilledRunsJson,
}

/// The bills of the Monte Carlo runs: the commitments and credits applied to each run's
/// months.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "billed_runs")]
pub struct BilledRunsJson {
    /// The runs' bills.
    billed: BilledBandJson,
    /// The mean commitment shortfall over the runs.
    shortfall_mean: Exact,
    /// The mean credits used over the runs.
    credits_used_mean: Exact,
}

/// The mean and percentiles of the runs' bills.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "billed_band")]
pub struct BilledBandJson {
    /// The mean over the runs.
    mean: Exact,
    /// The runs' 5th percentile.
    p5: Exact,
    /// The runs' median.
    p50: Exact,
    /// The runs' 95th percentile.
    p95: Exact,
    /// The runs' 99th percentile.
    p99: Exact,
}

impl From<&BilledStats> for BilledRunsJson {
    fn from(b: &BilledStats) -> Self {
        let s = &b.billed;
        BilledRunsJson {
            billed: BilledBandJson {
                mean: Exact(s.mean),
                p5: Exact(s.p5),
                p50: Exact(s.p50),
                p95: Exact(s.p95),
                p99: Exact(s.p99),
            },
            shortfall_mean: Exact(b.shortfall_mean),
            credits_used_mean: Exact(b.credits_used_mean),
        }
    }
}

/// A credit row and how much of it a month used.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "credit_use")]
pub struct CreditUseJson {
    /// The credit row (`credit[i]@effective`).
    row: String,
    /// USD of it used.
    used: Exact,
}

/// The projection's contract: its version, the list expectation, and the monthly terms over
/// the horizon on the expected spend.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "projection_contract")]
pub struct ContractJson<'a> {
    /// The contract's name.
    name: &'a str,
    /// The contract's version (a hash of its content).
    version: &'a str,
    /// The horizon's expectation at list prices.
    list_expected: Exact,
    /// The commitments' shortfalls over the horizon.
    commitment_shortfall: Exact,
    /// Credits used over the horizon.
    credits_used: Exact,
    /// The horizon's expected bill.
    billed: Exact,
    /// The horizon's bill in each Monte Carlo run.
    runs: BilledRunsJson,
    /// Each credit row: its amount, expiry, use and what remains.
    credits: Vec<CreditJson>,
}

/// A credit row over the horizon.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "credit_balance")]
pub struct CreditJson {
    /// The credit row (`credit[i]@effective`).
    row: String,
    /// Its last usable day.
    expires: Day,
    /// Its amount, USD.
    amount: Exact,
    /// USD used over the horizon.
    used: Exact,
    /// USD left after it.
    remaining: Exact,
}

impl<'a> ContractJson<'a> {
    fn of(t: &'a ContractTerms) -> Self {
        let c = &t.contract;
        ContractJson {
            name: &c.name,
            version: &c.version,
            list_expected: Exact(t.list_total),
            commitment_shortfall: Exact(t.shortfall),
            credits_used: Exact(t.credits_used),
            billed: Exact(t.billed),
            runs: (&t.runs.total).into(),
            credits: (c.credits.iter().zip(&t.credits).enumerate())
                .map(|(i, (k, u))| CreditJson {
                    row: c.credit_ref(i),
                    expires: Day(k.expires),
                    amount: Exact(k.amount),
                    used: Exact(u.used),
                    remaining: Exact(u.remaining),
                })
                .collect(),
        }
    }
}

impl MonthTermsJson {
    fn of(c: &Contract, m: &contract::Month, runs: &BilledStats) -> Self {
        MonthTermsJson {
            commitment: m.commitment.map(|(i, _)| c.commitment_ref(i)),
            minimum: m.commitment.map(|(_, min)| Exact(min)),
            shortfall: Exact(m.shortfall),
            credits: (m.credits.iter())
                .map(|(i, used)| CreditUseJson {
                    row: c.credit_ref(*i),
                    used: Exact(*used),
                })
                .collect(),
            billed: Exact(m.billed),
            runs: runs.into(),
        }
    }
}

/// Over the horizon: the stats, and under --contract the list expectation beside.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "projected_total")]
pub struct TotalJson {
    #[serde(flatten)]
    stats: StatsJson,
    /// Under --contract: the expectation at list prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    list_expected: Option<Exact>,
}

/// A recommended session budget: one session's list cost at the 95th and 99th percentiles.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "session_budget")]
pub struct SessionBudgetJson {
    /// The 95th percentile, USD to the cent (rounded up).
    p95: Exact,
    /// The 99th percentile, USD to the cent (rounded up).
    p99: Exact,
}

/// One agent's expected cost in a month.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "agent_expected")]
pub struct AgentExpected<'a> {
    /// The agent's name.
    name: &'a str,
    /// Its exact expected cost in the month.
    expected: Exact,
}

/// One agent over the horizon.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "agent")]
pub struct AgentJson<'a> {
    /// The agent's name.
    name: &'a str,
    /// The agent's model, as the plan names it.
    model: &'a str,
    #[serde(flatten)]
    stats: StatsJson,
    /// Per-session list cost percentiles of its simulated sessions, for a session's
    /// `budget.max_list_cost` (Managed Agents): budgets that stop runaways, not normal work.
    recommended_session_budget: SessionBudgetJson,
    /// Under --contract: its expectation at list prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    list_expected: Option<Exact>,
}

/// One cost column over the horizon.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "category")]
pub struct CategoryJson {
    /// The cost column.
    category: ColumnKey,
    #[serde(flatten)]
    stats: StatsJson,
    /// Under --contract: its expectation at list prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    list_expected: Option<Exact>,
}

/// What the Monte Carlo band covers: some of `UNCERTAINTY_SOURCES`, in that order.
pub struct Uncertainty<'a>(&'a [&'static str]);

impl Serialize for Uncertainty<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl JsonSchema for Uncertainty<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "uncertainty".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "array",
            "uniqueItems": true,
            "items": { "enum": UNCERTAINTY_SOURCES },
        })
    }
}

agentmeter_core::schema_tag!(
    /// The schema string of a projection.
    pub ProjectionV1 = "agentmeter/projection-v1"
);

pub const SCHEMA: &str = ProjectionV1::NAME;

/// One projection (the scenario, or the scenario with every agent priced as one model).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "projection")]
pub struct ProjectionJson<'a> {
    /// The schema of this document.
    schema: ProjectionV1,
    /// The scenario's name.
    scenario: &'a str,
    /// The model every agent was priced as (--model); null: each agent's own.
    model: Option<&'a str>,
    /// The price table the amounts come from.
    pricing: TableRef<'a>,
    /// Monte Carlo runs (--runs).
    #[schemars(range(min = 1))]
    runs: u32,
    /// The random seed (--seed).
    seed: u64,
    /// Sessions drawn in all to estimate the per-session distributions.
    simulated_sessions: u64,
    /// Each month of the horizon, in order.
    months: Vec<MonthJson<'a>>,
    /// The whole horizon.
    total: TotalJson,
    /// Each agent over the horizon, in the scenario's order.
    agents: Vec<AgentJson<'a>>,
    /// Each cost column over the horizon, in the category table's order.
    categories: Vec<CategoryJson>,
    /// Notes on method (e.g. where a normal approximation replaced exact simulation).
    notes: &'a [String],
    /// What the Monte Carlo band covers; what is missing is fixed as the scenario wrote it.
    uncertainty: Uncertainty<'a>,
    /// Under --contract: the contract and its terms on the expected spend (the document's
    /// amounts are then what the user pays).
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<ContractJson<'a>>,
}

impl<'a> From<&'a Projection> for ProjectionJson<'a> {
    fn from(p: &'a Projection) -> Self {
        let t = p.contract.as_ref();
        let list = |f: fn(&'a ContractTerms, usize) -> Decimal, i: usize| t.map(|t| Exact(f(t, i)));
        ProjectionJson {
            schema: ProjectionV1,
            scenario: &p.scenario,
            model: p.variant.as_deref(),
            pricing: TableRef {
                name: &p.pricing_name,
                version: &p.pricing_version,
            },
            runs: p.runs,
            seed: p.seed,
            simulated_sessions: p.simulated_sessions,
            months: (p.months.iter().enumerate())
                .map(|(i, m)| MonthJson {
                    stats: (&m.stats).into(),
                    month: Month(m.month),
                    expected_sessions: Exact(m.expected_sessions.round_dp(6)),
                    agents: (p.agents.iter().zip(&m.by_agent))
                        .map(|(a, v)| AgentExpected {
                            name: &a.name,
                            expected: Exact(*v),
                        })
                        .collect(),
                    categories: ColumnsJson(m.by_category),
                    list_expected: list(|t, i| t.list_months[i], i),
                    contract: t
                        .map(|t| MonthTermsJson::of(&t.contract, &t.months[i], &t.runs.months[i])),
                })
                .collect(),
            total: TotalJson {
                stats: (&p.total).into(),
                list_expected: t.map(|t| Exact(t.list_total)),
            },
            agents: (p.agents.iter().enumerate())
                .map(|(i, a)| AgentJson {
                    name: &a.name,
                    model: &a.model,
                    stats: (&a.stats).into(),
                    recommended_session_budget: SessionBudgetJson {
                        p95: Exact(a.session_budget.p95),
                        p99: Exact(a.session_budget.p99),
                    },
                    list_expected: list(|t, i| t.list_agents[i], i),
                })
                .collect(),
            categories: (p.categories.iter())
                .map(|(c, s)| CategoryJson {
                    category: ColumnKey(c),
                    stats: s.into(),
                    list_expected: t.map(|t| Exact(t.list_categories[c])),
                })
                .collect(),
            notes: &p.notes,
            uncertainty: Uncertainty(&p.uncertainty),
            contract: t.map(ContractJson::of),
        }
    }
}

/// What `agentmeter project --format json` writes (also `projection.json` in a --report
/// directory): a scenario's spend by month, agent and charge category, the exact expectation
/// beside Monte Carlo percentiles. Amounts are USD as exact decimal strings. With several
/// --model, the first projection is the document and every one of them is under `variants`.
#[derive(Serialize, JsonSchema)]
pub struct ProjectionDoc<'a> {
    #[serde(flatten)]
    first: ProjectionJson<'a>,
    /// With several --model: every projection, one per model, in the order given (the first
    /// is also the document itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<ProjectionJson>", length(min = 2))]
    variants: Option<Vec<ProjectionJson<'a>>>,
}

/// One projection: its document. Several (one per `--model`): the first at the top level, and
/// all of them under `variants`.
pub fn doc(ps: &[Projection]) -> ProjectionDoc<'_> {
    ProjectionDoc {
        first: (&ps[0]).into(),
        variants: (ps.len() > 1).then(|| ps.iter().map(Into::into).collect()),
    }
}

/// [`doc`], pretty-printed with a final newline.
pub fn json_doc(ps: &[Projection]) -> String {
    serde_json::to_string_pretty(&doc(ps)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// One decimal for the whole column as soon as one cell needs it, separators in every cell.
    #[test]
    fn a_sessions_column_has_one_format() {
        // 3,338.04 -> 3,338.0 (one decimal, as 3,217.06 needs: 3,217.1); the sum
        // 3,338.04 + 3,217.06 = 6,555.10 -> 6,555.1.
        let col = [d("3338.04"), d("3217.06"), d("6555.10")];
        assert_eq!(sessions_cells(&col), ["3,338.0", "3,217.1", "6,555.1"]);
        // Every cell whole at one decimal (2,999.96 -> 3,000.0): no decimals at all.
        let col = [d("2999.96"), d("1000"), d("3999.96")];
        assert_eq!(sessions_cells(&col), ["3,000", "1,000", "4,000"]);
        // Below a thousand no separator; 0.25 -> 0.2 (half to even, as before), 12.35 -> 12.4.
        let col = [d("0.25"), d("12.35"), d("999")];
        assert_eq!(sessions_cells(&col), ["0.2", "12.4", "999.0"]);
    }
}
