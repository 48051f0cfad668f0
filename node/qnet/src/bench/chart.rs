//! The run's chart as a hand-written SVG: achieved TPS (bars) and offered rate (line) per
//! second on top, median inclusion latency per second below.

use std::fmt::Write as _;

use super::stats::Second;

const W: f64 = 800.0;
const PANEL_H: f64 = 180.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;

/// Escapes text for XML content and attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A "nice" axis maximum at or above `max` (1, 2 or 5 times a power of ten).
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|v| *v >= max).unwrap_or(10.0 * p)
}

/// One panel: axes, 4 horizontal grid lines with labels, the x-axis in seconds.
fn axes(svg: &mut String, top: f64, y_max: f64, seconds: usize, label: &str) {
    let plot_w = W - LEFT - RIGHT;
    let bottom = top + PANEL_H;
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{:.1}" font-size="13" font-weight="bold">{}</text>"##,
        top - 8.0,
        escape(label)
    );
    for i in 0..=4 {
        let y = bottom - PANEL_H * f64::from(i) / 4.0;
        let v = y_max * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            if v >= 100.0 || v == v.round() { format!("{v:.0}") } else { format!("{v:.1}") }
        );
    }
    let step = (seconds / 10).max(1);
    for s in (0..=seconds).step_by(step) {
        let x = LEFT + plot_w * s as f64 / seconds.max(1) as f64;
        let _ = write!(
            svg,
            r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{s}s</text>"##,
            bottom + 14.0
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}" stroke="#000"/><line x1="{LEFT}" y1="{bottom}" x2="{:.1}" y2="{bottom}" stroke="#000"/>"##,
        LEFT + plot_w
    );
}

/// The SVG document for `series`, titled `title` (one `<text>` per line: the first large).
pub fn svg(title: &str, series: &[Second]) -> String {
    let n = series.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let slot = plot_w / n as f64;
    let (top1, top2) = (80.0, 80.0 + PANEL_H + 60.0);
    let height = top2 + PANEL_H + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>"##
    );
    for (i, line) in title.lines().enumerate() {
        let (y, size) = if i == 0 { (22.0, 15) } else { (22.0 + 18.0 * i as f64, 12) };
        let _ =
            write!(s, r##"<text x="{LEFT}" y="{y}" font-size="{size}">{}</text>"##, escape(line));
    }
    // TPS panel
    let tps_max =
        nice_max(series.iter().map(|x| x.tps.max(x.submitted) as f64).fold(0.0, f64::max));
    axes(&mut s, top1, tps_max, n, "transactions per second (bars: included, line: submitted)");
    let bottom1 = top1 + PANEL_H;
    for (i, x) in series.iter().enumerate() {
        let h = PANEL_H * x.tps as f64 / tps_max;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#4878cf"><title>{}s: {} included, {} submitted</title></rect>"##,
            LEFT + slot * i as f64 + slot * 0.1,
            bottom1 - h,
            slot * 0.8,
            x.second,
            x.tps,
            x.submitted
        );
    }
    let offered: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let y = bottom1 - PANEL_H * x.submitted as f64 / tps_max;
            format!("{:.1},{y:.1}", LEFT + slot * (i as f64 + 0.5))
        })
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#888" stroke-width="2"/>"##,
        offered.join(" ")
    );
    // latency panel
    let lat_max =
        nice_max(series.iter().filter_map(|x| x.latency_p50_ms).fold(0.0, f64::max) / 1000.0);
    axes(&mut s, top2, lat_max, n, "median latency of the transactions included (seconds)");
    let bottom2 = top2 + PANEL_H;
    let points: Vec<(f64, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, x)| {
            let ms = x.latency_p50_ms?;
            Some((LEFT + slot * (i as f64 + 0.5), bottom2 - PANEL_H * ms / 1000.0 / lat_max))
        })
        .collect();
    let line: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#d65f5f" stroke-width="2"/>"##,
        line.join(" ")
    );
    for (x, y) in &points {
        let _ = write!(s, r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#d65f5f"/>"##);
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::{escape, nice_max, svg};
    use crate::bench::stats::Second;

    #[test]
    fn nice_axis_maxima() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(201.0), 500.0);
        assert_eq!(nice_max(1.2), 2.0);
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn chart_is_well_formed_svg_with_a_bar_per_second() {
        let series: Vec<Second> = (0..5)
            .map(|i| Second {
                second: i,
                submitted: 200,
                tps: if i == 0 { 0 } else { 190 },
                latency_p50_ms: (i > 0).then_some(1100.0),
            })
            .collect();
        let text = svg("qbft <4 nodes> & co\nsecond line", &series);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let bars = root.children().filter(|n| n.has_tag_name("rect")).count();
        assert_eq!(bars, 1 + 5, "background + one bar per second");
        let circles = root.children().filter(|n| n.has_tag_name("circle")).count();
        assert_eq!(circles, 4);
        let texts: Vec<&str> =
            root.children().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert_eq!(&texts[..2], ["qbft <4 nodes> & co", "second line"]);
        // an empty run still gives a valid document
        roxmltree::Document::parse(&svg("empty", &[])).unwrap();
    }
}
