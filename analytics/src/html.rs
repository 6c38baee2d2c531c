//! The campaign report as one self-contained HTML page: inline CSS and SVG charts, no
//! scripts, no external fonts, images or styles. What `sendbox report ID --html out.html`
//! writes and `GET /v1/campaigns/{id}/report?format=html` serves.
//!
//! Charts carry the ids in [`CHART_IDS`] (present even when empty, with a note).
//!
//! ```
//! use sendbox_analytics::{html::{render, CHART_IDS}, report::CampaignReport};
//! let page = render(&CampaignReport::default());
//! assert!(CHART_IDS.iter().all(|id| page.contains(id)));
//! assert!(!page.contains("<script"));
//! ```

use crate::report::{CampaignReport, Percentiles};
use crate::svg::{bar_chart, escape};
use std::fmt::Write;

/// Ids of the charts on the page.
pub const CHART_IDS: [&str; 6] = [
    "chart-states",
    "chart-operators",
    "chart-hourly",
    "chart-latency",
    "chart-dtmf",
    "chart-scores",
];

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#222;max-width:960px}\
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}\
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}\
svg.chart{display:block;margin:.5rem 0;max-width:100%;height:auto}svg .title{font-size:14px;font-weight:600}\
svg .axis{font-size:11px;fill:#555}svg .grid{stroke:#eee}.note{color:#777;font-size:.9rem}";

fn table(s: &mut String, head: &[&str], rows: &[Vec<String>]) {
    s.push_str("<table><tr>");
    head.iter().for_each(|h| {
        let _ = write!(s, "<th>{}</th>", escape(h));
    });
    s.push_str("</tr>");
    for r in rows {
        s.push_str("<tr>");
        r.iter().for_each(|c| {
            let _ = write!(s, "<td>{}</td>", escape(c));
        });
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

fn opt(v: Option<i64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn pct_row(name: &str, p: &Percentiles) -> Vec<String> {
    vec![
        name.into(),
        p.count.to_string(),
        opt(p.p50),
        opt(p.p90),
        opt(p.p99),
        opt(p.max),
    ]
}

/// Renders the page.
pub fn render(r: &CampaignReport) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let title = format!("Campaign {} report", r.campaign);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = escape(&title)
    );
    let created = r
        .created_at
        .map(|t| t.to_string())
        .unwrap_or_else(|| "-".into());
    table(
        &mut s,
        &[
            "account",
            "channel",
            "created",
            "recipients",
            "cost (tenge)",
            "answered",
            "heard to end",
            "replies",
        ],
        &[vec![
            r.account.clone().unwrap_or_else(|| "-".into()),
            r.channel.clone().unwrap_or_else(|| "-".into()),
            created,
            r.recipients.to_string(),
            format!("{:.2}", r.cost_tiyn as f64 / 100.0),
            r.answered.to_string(),
            r.heard_to_end.to_string(),
            r.replies.to_string(),
        ]],
    );

    s.push_str("<h2>States</h2>");
    let labels: Vec<String> = r.states.keys().cloned().collect();
    let values: Vec<f64> = r.states.values().map(|v| *v as f64).collect();
    s.push_str(&bar_chart(
        CHART_IDS[0],
        "Dispatches by state",
        &labels,
        &[("count", &values)],
    ));
    table(
        &mut s,
        &["state", "count"],
        &r.states
            .iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect::<Vec<_>>(),
    );

    s.push_str("<h2>Operators</h2>");
    let ops: Vec<String> = r.by_operator.keys().cloned().collect();
    let total: Vec<f64> = r
        .by_operator
        .values()
        .map(|m| m.values().sum::<u64>() as f64)
        .collect();
    let ok: Vec<f64> = r
        .by_operator
        .values()
        .map(|m| {
            (m.get("delivered").copied().unwrap_or(0) + m.get("answered").copied().unwrap_or(0))
                as f64
        })
        .collect();
    s.push_str(&bar_chart(
        CHART_IDS[1],
        "Receipts by operator",
        &ops,
        &[("all", &total), ("reached", &ok)],
    ));
    let mut rows = Vec::new();
    for (op, m) in &r.by_operator {
        for (state, n) in m {
            rows.push(vec![op.clone(), state.clone(), n.to_string()]);
        }
    }
    table(&mut s, &["operator", "state", "count"], &rows);
    table(
        &mut s,
        &["result", "count"],
        &r.by_result
            .iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect::<Vec<_>>(),
    );

    s.push_str("<h2>Hour by hour (Asia/Almaty)</h2>");
    let hours: Vec<String> = r.hourly.iter().map(|h| format!("{:02}", h.hour)).collect();
    let sent: Vec<f64> = r.hourly.iter().map(|h| h.sent as f64).collect();
    let reached: Vec<f64> = r.hourly.iter().map(|h| h.reached as f64).collect();
    s.push_str(&bar_chart(
        CHART_IDS[2],
        "Sent and reached by hour",
        &hours,
        &[("sent", &sent), ("reached", &reached)],
    ));

    s.push_str("<h2>Latency (ms)</h2>");
    let lat_labels = ["p50", "p90", "p99", "max"].map(String::from);
    let lv = |p: &Percentiles| [p.p50, p.p90, p.p99, p.max].map(|v| v.unwrap_or(0) as f64);
    let (dl, al) = (lv(&r.delivery_latency_ms), lv(&r.answer_latency_ms));
    s.push_str(&bar_chart(
        CHART_IDS[3],
        "Delivery and answer latency",
        &lat_labels,
        &[("delivery", &dl), ("answer", &al)],
    ));
    table(
        &mut s,
        &["latency", "count", "p50", "p90", "p99", "max"],
        &[
            pct_row("delivery (handoff to receipt)", &r.delivery_latency_ms),
            pct_row("answer (INVITE to 200)", &r.answer_latency_ms),
        ],
    );

    s.push_str("<h2>DTMF answers</h2>");
    let digits: Vec<String> = r.dtmf_by_digit.keys().cloned().collect();
    let dv: Vec<f64> = r.dtmf_by_digit.values().map(|v| *v as f64).collect();
    s.push_str(&bar_chart(
        CHART_IDS[4],
        "Keys pressed by digit",
        &digits,
        &[("presses", &dv)],
    ));
    if digits.is_empty() {
        s.push_str("<p class=\"note\">No keys pressed.</p>");
    }

    s.push_str("<h2>Scores and validation</h2>");
    let score_labels: Vec<String> = (0..10)
        .map(|i| format!("{}-{}", i * 10, i * 10 + 9))
        .collect();
    let sv: Vec<f64> = r
        .score_distribution
        .as_ref()
        .map_or(vec![0.0; 10], |b| b.iter().map(|v| *v as f64).collect());
    s.push_str(&bar_chart(
        CHART_IDS[5],
        "Recipients by score",
        &score_labels,
        &[("recipients", &sv)],
    ));
    if r.score_distribution.is_none() {
        s.push_str("<p class=\"note\">Not scored.</p>");
    }
    match &r.validation {
        Some(v) => {
            let mut rows = vec![
                vec!["rows".into(), v.rows.to_string()],
                vec!["valid".into(), v.valid.to_string()],
                vec!["invalid".into(), v.invalid.to_string()],
                vec!["unique".into(), v.unique.to_string()],
                vec!["duplicates".into(), v.duplicates.to_string()],
                vec!["blacklisted".into(), v.blacklisted.to_string()],
                vec!["unreachable".into(), v.unreachable.to_string()],
            ];
            rows.extend(
                v.by_reason
                    .iter()
                    .map(|(k, n)| vec![format!("invalid: {k}"), n.to_string()]),
            );
            rows.extend(
                v.by_operator
                    .iter()
                    .map(|(k, n)| vec![format!("operator: {k}"), n.to_string()]),
            );
            table(&mut s, &["validation", "count"], &rows);
        }
        None => s.push_str("<p class=\"note\">No validation summary kept for this campaign.</p>"),
    }
    s.push_str("</body></html>\n");
    s
}
