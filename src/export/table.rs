//! The aligned terminal table.

use super::Grid;

pub fn render(g: &Grid) -> String {
    let cols = g.header.len();
    let mut width = vec![0usize; cols];
    for row in std::iter::once(&g.header)
        .chain(&g.rows)
        .chain(std::iter::once(&g.total))
    {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |row: &Vec<String>| {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if g.numeric[i] {
                    format!("{c:>w$}", w = width[i])
                } else {
                    format!("{c:<w$}", w = width[i])
                }
            })
            .collect();
        cells.join("  ").trim_end().to_string() + "\n"
    };
    let rule: String = width
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n";
    let mut out = line(&g.header);
    out.push_str(&rule);
    for r in &g.rows {
        out.push_str(&line(r));
    }
    if !g.total.is_empty() {
        out.push_str(&rule);
        out.push_str(&line(&g.total));
    }
    out
}
