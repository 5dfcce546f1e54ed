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
    let mut width = vec![0usize; g.header.len()];
    let mut measure = |row: &[String]| {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    };
    measure(&g.header);
    g.rows.each(&mut measure);
    measure(&g.total);
    let mut buf = String::new();
    let mut line = |row: &[String], w: &mut dyn Write| {
        buf.clear();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                buf.push_str("  ");
            }
            let pad = width[i] - c.chars().count();
            if g.numeric[i] {
                buf.extend(std::iter::repeat_n(' ', pad));
                buf.push_str(c);
            } else {
                buf.push_str(c);
                buf.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let end = buf.trim_end().len();
        buf.truncate(end);
        buf.push('\n');
        w.write_all(buf.as_bytes())
    };
    let rule: String = width
        .iter()
        .map(|w| "-".repeat(*w))
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
    Ok(())
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
