//! The table as GitHub-flavoured markdown (for PR comments and docs).

use super::Grid;

fn escape(c: &str) -> String {
    c.replace('|', "\\|")
}

pub fn render(g: &Grid) -> String {
    let row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells
                .iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    let mut out = row(&g.header);
    let align: Vec<String> = g
        .numeric
        .iter()
        .map(|&n| if n { "---:".into() } else { "---".into() })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for r in &g.rows {
        out.push_str(&row(r));
    }
    let bold: Vec<String> = g
        .total
        .iter()
        .map(|c| {
            if c.is_empty() {
                String::new()
            } else {
                format!("**{c}**")
            }
        })
        .collect();
    if !g.total.is_empty() {
        out.push_str(&row(&bold));
    }
    out
}
