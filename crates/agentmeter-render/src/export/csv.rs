//! CSV: one row per session (or group) and charge category, with exact amounts. Every key has
//! all seven category rows (zeros included) so spreadsheets and BI tools can pivot it.

use crate::category::{Category, PerCategory};
use crate::error::{Error, Result};
use crate::money::exact;
use crate::rate::ByCategory;
use crate::report::MeterReport;

pub fn render(report: &MeterReport) -> Result<String> {
    let mut out = Vec::new();
    render_to(report, &mut out).map_err(|e| Error::new(format!("writing CSV: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::new(format!("writing CSV: {e}")))
}

pub fn render_to(report: &MeterReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let err = std::io::Error::other;
    let mut w = csv::Writer::from_writer(out);
    // One column per grouping key (session_id when not grouped).
    let mut header: Vec<&str> = match &report.groups {
        None => vec!["session_id"],
        Some((by, _)) => by.iter().map(|b| b.name()).collect(),
    };
    header.extend([
        "category",
        "quantity",
        "unit",
        "cost_usd",
        "pricing_version",
    ]);
    // Under a contract, per session or group: the contracted amount beside the list one.
    let billing = report.billing;
    if billing.is_some() {
        header.extend(["contracted_usd", "contract_version"]);
    }
    w.write_record(&header).map_err(err)?;
    // Each row's keys, list amounts and (under a contract) contracted amounts by category.
    let paid = |k: usize| {
        let mut contracted = PerCategory::<rust_decimal::Decimal>::default();
        if let Some(b) = billing {
            for (item, t) in report.sessions[k].items.iter().zip(&b.sessions[k].items) {
                contracted[item.category] += t.amount;
            }
        }
        contracted
    };
    let rows: Vec<(Vec<&str>, ByCategory, PerCategory<rust_decimal::Decimal>)> =
        match &report.groups {
            None => (report.sessions.iter().enumerate())
                .map(|(k, s)| {
                    let keys = vec![&*s.usage.session_id];
                    (keys, ByCategory::of_items(&s.items), paid(k))
                })
                .collect(),
            Some((_, groups)) => groups
                .iter()
                .map(|g| {
                    let keys = g.keys.iter().map(String::as_str).collect();
                    (keys, g.sums, g.contracted.unwrap_or_default())
                })
                .collect(),
        };
    for (keys, sums, contracted) in rows {
        for cat in Category::ALL {
            let (quantity, amount) = (sums.quantity[cat].to_string(), exact(sums.amount[cat]));
            let mut record = keys.clone();
            record.extend([
                cat.key(),
                &quantity,
                cat.unit().key(),
                &amount,
                &report.table.version,
            ]);
            let contracted = exact(contracted[cat]);
            if let Some(b) = billing {
                record.extend([contracted.as_str(), &b.contract.version]);
            }
            w.write_record(&record).map_err(err)?;
        }
    }
    w.flush()
}
