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
    // Under a contract, per session: the contracted amount beside the list one.
    let billing = report.billing.filter(|_| report.groups.is_none());
    if billing.is_some() {
        header.extend(["contracted_usd", "contract_version"]);
    }
    w.write_record(&header).map_err(err)?;
    let rows: Vec<(Vec<&str>, ByCategory)> = match &report.groups {
        None => report
            .sessions
            .iter()
            .map(|s| (vec![&*s.usage.session_id], ByCategory::of_items(&s.items)))
            .collect(),
        Some((_, groups)) => groups
            .iter()
            .map(|g| (g.keys.iter().map(String::as_str).collect(), g.sums))
            .collect(),
    };
    for (k, (keys, sums)) in rows.into_iter().enumerate() {
        let mut contracted = PerCategory::<rust_decimal::Decimal>::default();
        if let Some(b) = billing {
            for (item, t) in report.sessions[k].items.iter().zip(&b.sessions[k].items) {
                contracted[item.category] += t.amount;
            }
        }
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
