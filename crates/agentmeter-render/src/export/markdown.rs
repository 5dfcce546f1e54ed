//! The table as GitHub-flavoured markdown (for PR comments and docs).

use std::io::{self, Write};

use super::{Grid, Rows};

fn escape(c: &str) -> String {
    c.replace('|', "\\|")
}

fn row(cells: &[String]) -> String {
    format!(
        "| {} |\n",
        cells
            .iter()
            .map(|c| escape(c))
            .collect::<Vec<_>>()
            .join(" | ")
    )
}

pub fn render<R: Rows>(g: &Grid<R>) -> String {
    let mut out = Vec::new();
    write(g, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("cells are UTF-8")
}

/// Row by row, so rows need not be held in memory.
pub fn write<R: Rows>(g: &Grid<R>, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(row(&g.header).as_bytes())?;
    let align: Vec<&str> = g
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    writeln!(w, "| {} |", align.join(" | "))?;
    let mut result = Ok(());
    g.rows.each(&mut |r| {
        if result.is_ok() {
            result = w.write_all(row(r).as_bytes());
        }
    });
    result?;
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
        w.write_all(row(&bold).as_bytes())?;
    }
    Ok(())
}
