//! CSV: one row per session (or group) and charge category, with exact amounts. Every key has
//! all seven category rows (zeros included) so spreadsheets and BI tools can pivot it.

use crate::error::{Error, Result};
use crate::money::exact;
use crate::rate::{ByCategory, Category};
use crate::report::MeterReport;

pub fn render(report: &MeterReport) -> Result<String> {
    let err = |e: csv::Error| Error::new(format!("writing CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let key = report
        .groups
        .as_ref()
        .map_or("session_id", |(by, _)| by.name());
    w.write_record([
        key,
        "category",
        "quantity",
        "unit",
        "cost_usd",
        "pricing_version",
    ])
    .map_err(err)?;
    let rows: Vec<(&str, ByCategory)> = match &report.groups {
        None => report
            .sessions
            .iter()
            .map(|s| (&*s.usage.session_id, ByCategory::of_items(&s.items)))
            .collect(),
        Some((_, groups)) => groups.iter().map(|g| (g.key.as_str(), g.sums)).collect(),
    };
    for (k, sums) in rows {
        for cat in Category::ALL {
            let i = cat as usize;
            w.write_record([
                k,
                cat.name(),
                &sums.quantity[i].to_string(),
                cat.unit(),
                &exact(sums.amount[i]),
                &report.table.version,
            ])
            .map_err(err)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::new(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::new(format!("writing CSV: {e}")))
}
