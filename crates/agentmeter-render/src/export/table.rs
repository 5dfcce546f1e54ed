//! The aligned terminal table.

use std::io::{self, Write};

use super::{Grid, Rows};

pub fn render<R: Rows>(g: &Grid<R>) -> String {
    let mut out = Vec::new();
    write(g, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("cells are UTF-8")
}

/// Two passes over the rows (widths, then text), so rows need not be held in memory.
pub fn write<R: Rows>(g: &Grid<R>, w: &mut dyn Write) -> io::Result<()> {
    write_within(g, None, w).map(drop)
}

/// Text columns are cut to no fewer characters than this when a table must fit.
const MIN_TEXT: usize = 14;

/// [`write`], fitted to `max` characters when given: first the text columns are cut (widest
/// first, to [`MIN_TEXT`], the cut marked `…`), then numeric columns are left out from the
/// right (never the last, the total). Returns the headers of the columns left out.
pub fn write_within<R: Rows>(
    g: &Grid<R>,
    max: Option<usize>,
    w: &mut dyn Write,
) -> io::Result<Vec<String>> {
    let mut width = vec![0usize; g.header.len()];
    let mut measure = |row: &[String]| {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    };
    measure(&g.header);
    g.rows.each(&mut measure);
    measure(&g.total);
    let mut shown = vec![true; width.len()];
    if let Some(max) = max {
        fit(
            &mut width,
            &mut shown,
            &g.numeric,
            [&g.header, &g.total],
            max,
        );
    }
    let hidden = (0..width.len())
        .filter(|&i| !shown[i])
        .map(|i| g.header[i].clone())
        .collect();
    let mut buf = String::new();
    let mut line = |row: &[String], w: &mut dyn Write| {
        buf.clear();
        let mut first = true;
        for (i, c) in row.iter().enumerate().filter(|(i, _)| shown[*i]) {
            if !first {
                buf.push_str("  ");
            }
            first = false;
            let n = c.chars().count();
            let cell: String = if n > width[i] {
                c.chars().take(width[i] - 1).chain(['…']).collect()
            } else {
                c.clone()
            };
            let pad = width[i] - cell.chars().count();
            if g.numeric[i] {
                buf.extend(std::iter::repeat_n(' ', pad));
                buf.push_str(&cell);
            } else {
                buf.push_str(&cell);
                buf.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let end = buf.trim_end().len();
        buf.truncate(end);
        buf.push('\n');
        w.write_all(buf.as_bytes())
    };
    let rule: String = (0..width.len())
        .filter(|&i| shown[i])
        .map(|i| "-".repeat(width[i]))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n";
    line(&g.header, w)?;
    w.write_all(rule.as_bytes())?;
    let mut result = Ok(());
    g.rows.each(&mut |r| {
        if result.is_ok() {
            result = line(r, w);
        }
    });
    result?;
    if !g.total.is_empty() {
        w.write_all(rule.as_bytes())?;
        line(&g.total, w)?;
    }
    Ok(hidden)
}

/// Narrow the columns (then leave some out) until the table is at most `max` wide.
fn fit(
    width: &mut [usize],
    shown: &mut [bool],
    numeric: &[bool],
    keep: [&[String]; 2],
    max: usize,
) {
    let total = |width: &[usize], shown: &[bool]| {
        let cols: Vec<usize> = (0..width.len())
            .filter(|&i| shown[i])
            .map(|i| width[i])
            .collect();
        cols.iter().sum::<usize>() + 2 * cols.len().saturating_sub(1)
    };
    // A text column never gets narrower than its header and total cells (or MIN_TEXT).
    let floor = |i: usize| {
        (keep.iter().filter_map(|r| r.get(i)))
            .map(|c| c.chars().count())
            .fold(MIN_TEXT, usize::max)
    };
    while total(width, shown) > max {
        // The widest first; of equals, the leftmost (ids before models).
        let widest = (0..width.len())
            .filter(|&i| !numeric[i] && width[i] > floor(i))
            .min_by_key(|&i| (std::cmp::Reverse(width[i]), i));
        let Some(i) = widest else { break };
        let over = total(width, shown) - max;
        width[i] = width[i].saturating_sub(over).max(floor(i));
    }
    let last = width.len().saturating_sub(1);
    for i in (0..last).rev() {
        if total(width, shown) <= max {
            break;
        }
        if numeric[i] {
            shown[i] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let cells = |r: &[&str]| r.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        Grid {
            header: cells(&["Name", "N", "Note"]),
            numeric: vec![false, true, false],
            rows: vec![cells(&["é-a", "1", "x"]), cells(&["bb", "1,000", ""])],
            total: cells(&["Total", "1,001", ""]),
        }
    }

    /// Widths count characters (é is one), numbers align right, text left, two spaces
    /// between columns, trailing padding trimmed, rules above and below the body.
    #[test]
    fn columns_align_by_characters_and_lines_are_trimmed() {
        let want = "\
Name       N  Note
-----  -----  ----
é-a        1  x
bb     1,000
-----  -----  ----
Total  1,001
";
        assert_eq!(render(&grid()), want);
    }

    #[test]
    fn markdown_marks_numbers_and_bolds_the_total() {
        let want = "\
| Name | N | Note |
| --- | ---: | --- |
| é-a | 1 | x |
| bb | 1,000 |  |
| **Total** | **1,001** |  |
";
        assert_eq!(super::super::markdown::render(&grid()), want);
    }
}
