//! Charts, drawn with plotters into SVG (inline in HTML) and PNG, with an embedded DejaVu Sans
//! so no system font is needed.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

const SIZE: (u32, u32) = (960, 540);
const FONT: &str = "sans-serif";

/// Category colours, readable on white and distinct in print.
const PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

pub enum Chart {
    /// Stacked bars: one bar per group (agent or model), one segment per charge category.
    Stacked {
        title: String,
        groups: Vec<String>,
        series: Vec<(String, Vec<f64>)>,
    },
    /// Spend per day.
    Daily {
        title: String,
        days: Vec<String>,
        values: Vec<f64>,
    },
    /// p5-p95 band, p50 line and expected (dashed) per month.
    Fan {
        title: String,
        months: Vec<String>,
        p5: Vec<f64>,
        p50: Vec<f64>,
        p95: Vec<f64>,
        expected: Vec<f64>,
    },
    /// A distribution: bins, vertical lines at named values (legend: name and value), and
    /// optionally an interval drawn as a shaded band.
    Histogram {
        title: String,
        bins: Vec<(f64, f64, u64)>,
        marks: Vec<(String, f64)>,
        interval: Option<(String, f64, f64)>,
        x_desc: String,
        y_desc: String,
    },
    /// Two bars per task: side A and side B.
    Paired {
        title: String,
        tasks: Vec<String>,
        labels: (String, String),
        a: Vec<f64>,
        b: Vec<f64>,
    },
    /// One bar per model with a p5-p95 whisker.
    Comparison {
        title: String,
        labels: Vec<String>,
        expected: Vec<f64>,
        p5: Vec<f64>,
        p95: Vec<f64>,
    },
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Stacked { title, .. }
            | Chart::Daily { title, .. }
            | Chart::Fan { title, .. }
            | Chart::Histogram { title, .. }
            | Chart::Paired { title, .. }
            | Chart::Comparison { title, .. } => title,
        }
    }
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

fn chart_err(e: impl std::fmt::Debug) -> Error {
    Error::new(format!("drawing a chart: {e:?}"))
}

pub fn to_svg(c: &Chart) -> Result<String> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw(c, &root)?;
        root.present().map_err(chart_err)?;
    }
    Ok(s)
}

pub fn to_png(c: &Chart, path: &Path) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(c, &root)?;
    root.present().map_err(chart_err)
}

fn money(v: f64) -> String {
    if v < 0.0 {
        return format!("-{}", money(-v));
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("${:.2}M", v / 1e6)
    } else if a >= 1e3 {
        format!("${:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

/// Axis labels precise enough to tell ticks `span` apart.
fn money_in(v: f64, span: f64) -> String {
    if span > 0.0 && span < v.abs() / 20.0 {
        let digits = (-(span / 10.0).log10().floor()).max(0.0) as usize;
        let s = format!("{:.*}", digits.min(2), v);
        let (whole, frac) = s
            .split_once('.')
            .map_or((s.as_str(), None), |(w, f)| (w, Some(f)));
        let whole = crate::money::count(whole.trim_start_matches('-').parse::<u64>().unwrap_or(0));
        let sign = if v < 0.0 { "-" } else { "" };
        match frac {
            Some(f) => format!("{sign}${whole}.{f}"),
            None => format!("{sign}${whole}"),
        }
    } else {
        money(v)
    }
}

fn top(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0f64, f64::max);
    if m > 0.0 {
        m * 1.12
    } else {
        1.0
    }
}

/// Room between the plot's left and right edges and the first and last positions (0 and
/// `span`) of a categorical axis, in axis units: at least `min`, and enough for half of a label
/// `label_px` wide, centred on the outermost position, to stay inside a plot `plot_px` wide.
/// With a pad p the axis is span + 2p units over plot_px pixels, so p units are
/// p * plot_px / (span + 2p) pixels; that is at least label_px / 2 when
/// p >= label_px * span / (2 * (plot_px - label_px)).
fn edge_pad(span: f64, label_px: f64, plot_px: f64, min: f64) -> f64 {
    if label_px <= 0.0 || plot_px <= label_px {
        return min;
    }
    (label_px * span / (2.0 * (plot_px - label_px))).max(min)
}

/// The widest of the first and last labels, in pixels, as the embedded font draws it, plus a
/// tenth and a few pixels for a browser's own sans-serif drawing the inline SVG wider.
fn outer_label_px<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &[String],
    font: &FontDesc,
) -> f64 {
    let style = TextStyle::from(font.clone());
    let w = [labels.first(), labels.last()]
        .into_iter()
        .flatten()
        .filter_map(|l| root.estimate_text_size(l, &style).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    if w == 0 {
        0.0
    } else {
        f64::from(w) * 1.1 + 6.0
    }
}

/// The plot's width: the drawing less the margins and the y labels' area.
fn plot_width<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, y_label_area: u32) -> f64 {
    f64::from(
        root.dim_in_pixel()
            .0
            .saturating_sub(2 * MARGIN + y_label_area),
    )
}

/// Margin of every chart, on each side.
const MARGIN: u32 = 20;

/// A categorical x axis: labels at integer positions.
fn label_at(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

/// A categorical x axis (`labels` at 0, 1, 2, ...) over a dollar y axis from 0.
struct Axes<'l> {
    labels: &'l [String],
    ticks: usize,
    y_max: f64,
    y_desc: &'l str,
    x_desc: &'l str,
    /// Labels turned a quarter so that many of them do not overprint.
    rotate: bool,
}

type Plot<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn categorical<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    a: &Axes,
) -> Result<Plot<'a, DB>> {
    let n = a.labels.len();
    let y_area = 80;
    // A turned label is as wide as a line of text; a level one, as its text. Bars reach 0.4
    // either side of their position: 0.6 leaves a gap at the axis and the right edge.
    let label_px = if a.rotate {
        16.0
    } else {
        outer_label_px(root, a.labels, &(FONT, 15).into_font())
    };
    let span = n.saturating_sub(1) as f64;
    let pad = edge_pad(span, label_px, plot_width(root, y_area), 0.6);
    let mut ch = ChartBuilder::on(root)
        .caption(title, (FONT, 24).into_font())
        .margin(MARGIN)
        .x_label_area_size(if a.rotate { 130 } else { 60 })
        .y_label_area_size(y_area)
        .build_cartesian_2d(-pad..(span + pad), 0f64..a.y_max)
        .map_err(chart_err)?;
    let x_style = if a.rotate {
        (FONT, 12).into_font().transform(FontTransform::Rotate90)
    } else {
        (FONT, 15).into_font()
    };
    // plotters centres a turned label on its tick, across the bars: leading no-break spaces
    // (about half a character wide each, and not collapsed in SVG) push the text below the axis.
    let x_label = |x: &f64| {
        let l = label_at(a.labels, *x);
        if a.rotate && !l.is_empty() {
            "\u{a0}".repeat(2 * l.chars().count() + 2) + &l
        } else {
            l
        }
    };
    ch.configure_mesh()
        .disable_x_mesh()
        .x_labels(a.ticks)
        .x_label_formatter(&x_label)
        .y_label_formatter(&|y| money(*y))
        .y_desc(a.y_desc)
        .x_desc(a.x_desc)
        .label_style((FONT, 15).into_font())
        .x_label_style(x_style)
        .draw()
        .map_err(chart_err)?;
    Ok(ch)
}

fn legend<'a, DB: DrawingBackend + 'a>(
    ch: &mut Plot<'a, DB>,
    at: SeriesLabelPosition,
) -> Result<()> {
    ch.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 15).into_font())
        .position(at)
        .draw()
        .map_err(chart_err)
}

fn draw<DB: DrawingBackend>(c: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()> {
    root.fill(&WHITE).map_err(chart_err)?;
    let caption = (FONT, 24).into_font();
    let label_style = (FONT, 15).into_font();
    match c {
        Chart::Stacked {
            title,
            groups,
            series,
        } => {
            let n = groups.len();
            let totals: Vec<f64> = (0..n)
                .map(|g| series.iter().map(|(_, v)| v[g]).sum())
                .collect();
            let axes = Axes {
                labels: groups,
                ticks: n.max(1) * 2 + 1,
                y_max: top(totals.iter().copied()),
                y_desc: "Cost (USD)",
                x_desc: "",
                rotate: false,
            };
            let mut ch = categorical(root, title, &axes)?;
            let mut base = vec![0.0; n];
            for (k, (name, values)) in series.iter().enumerate() {
                let color = PALETTE[k % PALETTE.len()];
                let bars: Vec<_> = (0..n)
                    .map(|g| {
                        let (y0, y1) = (base[g], base[g] + values[g]);
                        base[g] = y1;
                        Rectangle::new(
                            [(g as f64 - 0.35, y0), (g as f64 + 0.35, y1)],
                            color.filled(),
                        )
                    })
                    .collect();
                ch.draw_series(bars)
                    .map_err(chart_err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                    });
            }
            ch.draw_series(totals.iter().enumerate().map(|(g, t)| {
                Text::new(
                    money(*t),
                    (g as f64 - 0.2, *t + top(totals.iter().copied()) * 0.045),
                    (FONT, 14).into_font(),
                )
            }))
            .map_err(chart_err)?;
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Chart::Daily {
            title,
            days,
            values,
        } => {
            let axes = Axes {
                labels: days,
                ticks: days.len().clamp(1, 12),
                y_max: top(values.iter().copied()),
                y_desc: "Spend per day (USD)",
                x_desc: "Day",
                rotate: false,
            };
            let mut ch = categorical(root, title, &axes)?;
            ch.draw_series(values.iter().enumerate().map(|(i, v)| {
                Rectangle::new(
                    [(i as f64 - 0.4, 0.0), (i as f64 + 0.4, *v)],
                    PALETTE[0].filled(),
                )
            }))
            .map_err(chart_err)?;
        }
        Chart::Fan {
            title,
            months,
            p5,
            p50,
            p95,
            expected,
        } => {
            let n = months.len();
            let hi = top(p95.iter().chain(expected).copied());
            // Zoom in when the band is narrow next to the values, so it can be seen.
            let low = p5.iter().chain(expected).copied().fold(f64::MAX, f64::min);
            let lo = if low > 0.5 * hi {
                low - (hi - low) * 0.15
            } else {
                0.0
            };
            // Every month is labelled: the first and last labels stay inside the plot.
            let y_area = 80;
            let span = n.saturating_sub(1) as f64;
            let label_px = outer_label_px(root, months, &label_style);
            let pad = edge_pad(span, label_px, plot_width(root, y_area), 0.3);
            let mut ch = ChartBuilder::on(root)
                .caption(title, caption)
                .margin(MARGIN)
                .x_label_area_size(50)
                .y_label_area_size(y_area)
                .build_cartesian_2d(-pad..(span + pad), lo..hi)
                .map_err(chart_err)?;
            ch.configure_mesh()
                .x_labels(n.clamp(1, 13))
                .x_label_formatter(&|x| label_at(months, *x))
                .y_label_formatter(&|y| money(*y))
                .y_desc("Spend per month (USD)")
                .x_desc("Month")
                .label_style(label_style.clone())
                .draw()
                .map_err(chart_err)?;
            let band: Vec<(f64, f64)> = (0..n)
                .map(|i| (i as f64, p95[i]))
                .chain((0..n).rev().map(|i| (i as f64, p5[i])))
                .collect();
            let band_color = PALETTE[0].mix(0.25);
            ch.draw_series(std::iter::once(Polygon::new(band, band_color.filled())))
                .map_err(chart_err)?
                .label("p5-p95")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], band_color.filled())
                });
            ch.draw_series(LineSeries::new(
                (0..n).map(|i| (i as f64, p50[i])),
                PALETTE[0].stroke_width(3),
            ))
            .map_err(chart_err)?
            .label("p50")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], PALETTE[0].stroke_width(3))
            });
            let dashed = PALETTE[1].stroke_width(2);
            ch.draw_series(DashedLineSeries::new(
                (0..n).map(|i| (i as f64, expected[i])),
                8,
                6,
                dashed,
            ))
            .map_err(chart_err)?
            .label("expected")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], dashed));
            legend(&mut ch, SeriesLabelPosition::UpperLeft)?;
        }
        Chart::Histogram {
            title,
            bins,
            marks,
            interval,
            x_desc,
            y_desc,
        } => {
            let lo = bins.first().map_or(0.0, |b| b.0);
            let hi = bins.last().map_or(1.0, |b| b.1).max(lo + 1e-9);
            // Marks and the interval inside the plot even when they fall outside the bins.
            let ends = marks
                .iter()
                .map(|m| m.1)
                .chain(interval.iter().flat_map(|i| [i.1, i.2]));
            let (lo, hi) = ends.fold((lo, hi), |(l, h), v| (l.min(v), h.max(v)));
            let pad = (hi - lo) * 0.02;
            let (lo, hi) = (lo - pad, hi + pad);
            let ymax = bins.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.15;
            let mut ch = ChartBuilder::on(root)
                .caption(title, caption)
                .margin(MARGIN)
                .x_label_area_size(50)
                .y_label_area_size(70)
                .build_cartesian_2d(lo..hi, 0f64..ymax.max(1.0))
                .map_err(chart_err)?;
            ch.configure_mesh()
                .x_labels(8)
                .x_label_formatter(&|x| money_in(*x, hi - lo))
                .y_label_formatter(&|y| format!("{y:.0}"))
                .x_desc(x_desc.as_str())
                .y_desc(y_desc.as_str())
                .label_style(label_style.clone())
                .draw()
                .map_err(chart_err)?;
            if let Some((label, a, b)) = interval {
                let shade = PALETTE[4].mix(0.2);
                ch.draw_series(std::iter::once(Rectangle::new(
                    [(*a, 0.0), (*b, ymax)],
                    shade.filled(),
                )))
                .map_err(chart_err)?
                .label(format!(
                    "{label} {} to {}",
                    money_in(*a, hi - lo),
                    money_in(*b, hi - lo)
                ))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], shade.filled())
                });
            }
            ch.draw_series(bins.iter().map(|(a, b, n)| {
                Rectangle::new([(*a, 0.0), (*b, *n as f64)], PALETTE[0].mix(0.8).filled())
            }))
            .map_err(chart_err)?;
            for (k, (label, x)) in marks.iter().enumerate() {
                let color = PALETTE[(k + 2) % PALETTE.len()];
                ch.draw_series(std::iter::once(PathElement::new(
                    vec![(*x, 0.0), (*x, ymax * 0.93)],
                    color.stroke_width(3),
                )))
                .map_err(chart_err)?
                .label(format!("{label} {}", money_in(*x, hi - lo)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(3))
                });
            }
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Chart::Paired {
            title,
            tasks,
            labels,
            a,
            b,
        } => {
            let axes = Axes {
                labels: tasks,
                ticks: tasks.len().max(1) * 2 + 1,
                y_max: top(a.iter().chain(b).copied()),
                y_desc: "Cost per task (USD)",
                x_desc: "Task",
                rotate: tasks.len() > 12,
            };
            let mut ch = categorical(root, title, &axes)?;
            for (k, (label, values)) in [(&labels.0, a), (&labels.1, b)].into_iter().enumerate() {
                let color = PALETTE[k];
                let offset = if k == 0 { -0.38 } else { 0.02 };
                ch.draw_series(values.iter().enumerate().map(|(i, v)| {
                    Rectangle::new(
                        [(i as f64 + offset, 0.0), (i as f64 + offset + 0.36, *v)],
                        color.filled(),
                    )
                }))
                .map_err(chart_err)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                });
            }
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Chart::Comparison {
            title,
            labels,
            expected,
            p5,
            p95,
        } => {
            let n = labels.len();
            let axes = Axes {
                labels,
                ticks: n.max(1) * 2 + 1,
                y_max: top(p95.iter().chain(expected).copied()),
                y_desc: "Total over the horizon (USD)",
                x_desc: "",
                rotate: false,
            };
            let mut ch = categorical(root, title, &axes)?;
            ch.draw_series(expected.iter().enumerate().map(|(i, v)| {
                Rectangle::new(
                    [(i as f64 - 0.3, 0.0), (i as f64 + 0.3, *v)],
                    PALETTE[i % PALETTE.len()].filled(),
                )
            }))
            .map_err(chart_err)?;
            ch.draw_series((0..n).map(|i| {
                PathElement::new(
                    vec![(i as f64, p5[i]), (i as f64, p95[i])],
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(chart_err)?;
            ch.draw_series(
                expected.iter().enumerate().map(|(i, v)| {
                    Text::new(money(*v), (i as f64 + 0.32, *v), (FONT, 14).into_font())
                }),
            )
            .map_err(chart_err)?;
        }
    }
    Ok(())
}

/// Equal-width histogram bins of `values`: (from, to, count).
pub fn bins(values: &[f64], n: usize) -> Vec<(f64, f64, u64)> {
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(f64::MIN, f64::max);
    if values.is_empty() {
        return Vec::new();
    }
    let n = n.max(1);
    let width = if hi > lo {
        (hi - lo) / n as f64
    } else {
        lo.abs().max(1.0) * 1e-3
    };
    let mut out: Vec<(f64, f64, u64)> = (0..n)
        .map(|i| (lo + i as f64 * width, lo + (i + 1) as f64 * width, 0))
        .collect();
    for v in values {
        out[(((v - lo) / width) as usize).min(n - 1)].2 += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_pad_fits_half_a_label() {
        // 155 days (span 154), a label of 100 px, a plot of 840 px:
        // 100 x 154 / (2 x (840 - 100)) = 15,400 / 1,480 = 10.4054... units, and those are
        // 10.4054 x 840 / (154 + 2 x 10.4054) = 8,740.5 / 174.81 = 50.0 px: half the label.
        let p = edge_pad(154.0, 100.0, 840.0, 0.6);
        assert!((p - 15_400.0 / 1_480.0).abs() < 1e-9, "{p}");
        assert!((p * 840.0 / (154.0 + 2.0 * p) - 50.0).abs() < 1e-9);
        // 12 months (span 11), 70 px labels: 70 x 11 / (2 x 770) = 770 / 1,540 = 0.5.
        assert!((edge_pad(11.0, 70.0, 840.0, 0.3) - 0.5).abs() < 1e-12);
        // Two wide bars (span 1), 200 px labels: 200 / 1,280 = 0.156 < 0.6, the minimum.
        assert_eq!(edge_pad(1.0, 200.0, 840.0, 0.6), 0.6);
        // One position, no labels, or a label wider than the plot: the minimum.
        assert_eq!(edge_pad(0.0, 100.0, 840.0, 0.3), 0.3);
        assert_eq!(edge_pad(10.0, 0.0, 840.0, 0.3), 0.3);
        assert_eq!(edge_pad(10.0, 900.0, 840.0, 0.3), 0.3);
    }

    /// The first and last labels of a drawn chart stay inside the picture.
    #[test]
    fn the_outer_labels_fit_in_the_picture() {
        register_font();
        let months: Vec<String> = (1..=12).map(|m| format!("2027-{m:02}")).collect();
        let svg = to_svg(&Chart::Fan {
            title: "t".into(),
            months: months.clone(),
            p5: vec![1.0; 12],
            p50: vec![2.0; 12],
            p95: vec![3.0; 12],
            expected: vec![2.0; 12],
        })
        .unwrap();
        // plotters writes a centred label as <text x="X" ... text-anchor="middle" ...>, the
        // label on a line of its own, </text>.
        let x_of = |label: &str| -> f64 {
            let at = svg.find(&format!(">\n{label}\n</text>")).expect(label);
            let head = &svg[..at];
            let tag = &head[head.rfind("<text").unwrap()..];
            let x = tag.split("x=\"").nth(1).unwrap();
            x[..x.find('"').unwrap()].parse().unwrap()
        };
        let mut scratch = String::new();
        let root = SVGBackend::with_string(&mut scratch, SIZE).into_drawing_area();
        let style = TextStyle::from((FONT, 15).into_font());
        let half = f64::from(root.estimate_text_size("2027-12", &style).unwrap().0) / 2.0;
        // Inside the plot (y labels' area on the left, the margin on the right), with room.
        let (left, right) = (f64::from(MARGIN + 80), f64::from(SIZE.0 - MARGIN));
        assert!(x_of("2027-01") - half >= left, "{}", x_of("2027-01"));
        assert!(x_of("2027-12") + half <= right, "{}", x_of("2027-12"));
    }

    /// A daily chart's first bar keeps off the y axis and its last off the right edge.
    #[test]
    fn daily_bars_keep_off_the_edges() {
        register_font();
        // 155 days from 2026-05-04, spend on the first and the last.
        let first = chrono::NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        let days: Vec<String> = (0..155)
            .map(|k| (first + chrono::Days::new(k)).to_string())
            .collect();
        let mut values = vec![0.0; 155];
        (values[0], values[154]) = (1.0, 1.0);
        let svg = to_svg(&Chart::Daily {
            title: "t".into(),
            days,
            values,
        })
        .unwrap();
        // The bars: rectangles in the first colour, as <rect x="X" y=".." width="W" ...>.
        let bars: Vec<(f64, f64)> = svg
            .split("<rect ")
            .skip(1)
            .filter(|r| r[..r.find('>').unwrap()].contains("fill=\"#1F77B4\""))
            .map(|r| {
                let r = format!(" {r}");
                let num = |k: &str| -> f64 {
                    let v = r.split(&format!(" {k}=\"")).nth(1).unwrap();
                    v[..v.find('"').unwrap()].parse().unwrap()
                };
                (num("x"), num("width"))
            })
            .collect();
        assert_eq!(bars.len(), 155);
        let (left, right) = (f64::from(MARGIN + 80), f64::from(SIZE.0 - MARGIN));
        let lo = bars.iter().map(|b| b.0).fold(f64::MAX, f64::min);
        let hi = bars.iter().map(|b| b.0 + b.1).fold(f64::MIN, f64::max);
        // Before: 0.6 of a day each side, 3 px at 840 / 155.2 px a day, 1 px from the bar.
        assert!(lo - left >= 10.0, "first bar at {lo}");
        assert!(right - hi >= 10.0, "last bar ends at {hi}");
    }
}
