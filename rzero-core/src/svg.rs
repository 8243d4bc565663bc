//! Minimal SVG charts for `rzero report`: line charts and bar charts with
//! axes and labels, no plotting dependency.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 360.0;
const PAD: f64 = 48.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One named series of (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn bounds(series: &[Series]) -> (f64, f64, f64, f64) {
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (0.0, 1.0, 0.0, 1.0);
    }
    if (x1 - x0).abs() < 1e-12 {
        x1 = x0 + 1.0;
    }
    if (y1 - y0).abs() < 1e-12 {
        y0 -= 0.5;
        y1 += 0.5;
    }
    (x0, x1, y0, y1)
}

fn frame(out: &mut String, title: &str, x_label: &str, y_label: &str, b: (f64, f64, f64, f64)) {
    let (x0, x1, y0, y1) = b;
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="20" text-anchor="middle" font-size="15">{}</text>
<line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>
"#,
        W / 2.0,
        escape(title),
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD,
        W / 2.0,
        H - 8.0,
        escape(x_label),
        H / 2.0,
        H / 2.0,
        escape(y_label),
    );
    for (v, y) in [(y0, H - PAD), (y1, PAD)] {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{v:.3}</text>"#,
            PAD - 4.0,
            y + 4.0
        );
    }
    for (v, x) in [(x0, PAD), (x1, W - PAD)] {
        let _ = writeln!(
            out,
            r#"<text x="{x}" y="{}" text-anchor="middle">{v:.0}</text>"#,
            H - PAD + 16.0
        );
    }
}

/// A line chart of several series.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let b = bounds(series);
    let (x0, x1, y0, y1) = b;
    let sx = |x: f64| PAD + (x - x0) / (x1 - x0) * (W - 2.0 * PAD);
    let sy = |y: f64| H - PAD - (y - y0) / (y1 - y0) * (H - 2.0 * PAD);
    let mut out = String::new();
    frame(&mut out, title, x_label, y_label, b);
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for &(x, y) in &s.points {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                sx(x),
                sy(y)
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" fill="{color}">{}</text>"#,
            W - PAD - 150.0,
            PAD + 14.0 * i as f64,
            escape(&s.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Grouped bar chart: one group per bin, one bar per series.
pub fn bar_chart(title: &str, bin_labels: &[String], series: &[Series]) -> String {
    let y1 = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(1e-9, f64::max);
    let mut out = String::new();
    frame(
        &mut out,
        title,
        "bin",
        "fraction",
        (0.0, bin_labels.len() as f64, 0.0, y1),
    );
    let group_w = (W - 2.0 * PAD) / bin_labels.len().max(1) as f64;
    let bar_w = group_w / (series.len() as f64 + 1.0);
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        for (j, &(_, y)) in s.points.iter().enumerate() {
            let h = y / y1 * (H - 2.0 * PAD);
            let x = PAD + j as f64 * group_w + (i as f64 + 0.5) * bar_w;
            let _ = writeln!(
                out,
                r#"<rect x="{x:.1}" y="{:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{color}"/>"#,
                H - PAD - h
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" fill="{color}">{}</text>"#,
            W - PAD - 150.0,
            PAD + 14.0 * i as f64,
            escape(&s.label)
        );
    }
    for (j, l) in bin_labels.iter().enumerate() {
        let x = PAD + (j as f64 + 0.5) * group_w;
        let _ = writeln!(
            out,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
            H - PAD + 28.0,
            escape(l)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_chart_maps_extremes_to_the_frame() {
        let s = Series {
            label: "a<b".into(),
            points: vec![(0.0, 0.0), (10.0, 1.0)],
        };
        let svg = line_chart("t", "x", "y", &[s]);
        assert!(svg.contains("points=\"48.0,312.0 592.0,48.0\""), "{svg}");
        assert!(svg.contains("a&lt;b"));
    }

    #[test]
    fn bar_heights_scale_to_the_largest() {
        let s = Series {
            label: "it".into(),
            points: vec![(0.0, 0.5), (1.0, 1.0)],
        };
        let svg = bar_chart("h", &["lo".into(), "hi".into()], &[s]);
        assert!(svg.contains("height=\"264.0\""), "{svg}");
        assert!(svg.contains("height=\"132.0\""), "{svg}");
    }
}
