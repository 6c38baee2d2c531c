//! Hand-written inline SVG bar charts (no scripts, no fonts to fetch): small, deterministic,
//! and styled by the page's CSS.
//!
//! ```
//! let s = sendbox_analytics::svg::bar_chart("chart-x", "States", &["a".into(), "b".into()],
//!     &[("count", &[3.0, 1.0])]);
//! assert!(s.starts_with("<svg") && s.contains("<rect"));
//! ```

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const COLORS: [&str; 4] = ["#4e79a7", "#59a14f", "#e15759", "#f28e2b"];
const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 64.0;
const TOP: f64 = 34.0;

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|m| *m >= v)
        .unwrap_or(v)
}

/// A grouped bar chart: one group per label, one bar per series `(name, values)`.
pub fn bar_chart(id: &str, title: &str, labels: &[String], series: &[(&str, &[f64])]) -> String {
    let mut s = String::new();
    let max = nice_max(
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0, f64::max),
    );
    let plot_w = W - LEFT - 10.0;
    let plot_h = H - TOP - BOTTOM;
    let _ = write!(
        s,
        r#"<svg class="chart" id="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title><text x="{LEFT}" y="20" class="title">{t}</text>"#,
        id = escape(id),
        t = escape(title)
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" class="grid"/><text x="{tx:.1}" y="{ty:.1}" class="axis" text-anchor="end">{v}</text>"#,
            x2 = W - 10.0,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            v = if max >= 10.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        );
    }
    let n = labels.len().max(1) as f64;
    let group = plot_w / n;
    let k = series.len().max(1) as f64;
    let bar = (group * 0.8 / k).max(1.0);
    for (gi, label) in labels.iter().enumerate() {
        let gx = LEFT + group * gi as f64 + group * 0.1;
        for (si, (name, values)) in series.iter().enumerate() {
            let v = values.get(gi).copied().unwrap_or(0.0).max(0.0);
            let h = plot_h * v / max;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{c}"><title>{l}: {name} {v}</title></rect>"#,
                x = gx + bar * si as f64,
                y = TOP + plot_h - h,
                c = COLORS[si % COLORS.len()],
                l = escape(label),
                name = escape(name)
            );
        }
        let (lx, ly) = (gx + group * 0.4, TOP + plot_h + 14.0);
        let rotate = if labels.len() > 8 {
            format!(r#" transform="rotate(-45 {lx:.1} {ly:.1})""#)
        } else {
            String::new()
        };
        let anchor = if labels.len() > 8 { "end" } else { "middle" };
        let _ = write!(
            s,
            r#"<text x="{lx:.1}" y="{ly:.1}" class="axis" text-anchor="{anchor}"{rotate}>{}</text>"#,
            escape(label)
        );
    }
    if series.len() > 1 {
        for (si, (name, _)) in series.iter().enumerate() {
            let x = W - 180.0 + 90.0 * si as f64;
            let _ = write!(
                s,
                r#"<rect x="{x}" y="10" width="10" height="10" fill="{c}"/><text x="{tx}" y="19" class="axis">{n}</text>"#,
                c = COLORS[si % COLORS.len()],
                tx = x + 14.0,
                n = escape(name)
            );
        }
    }
    s.push_str("</svg>");
    s
}
