//! Campaign reports on generated histories: JSON numbers, per-recipient CSV, HTML charts.

use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::html::{CHART_IDS, render};
use sendbox_analytics::report::{
    CampaignData, CampaignReport, Percentiles, RECIPIENT_HEADER, recipients_csv,
};
use std::collections::HashMap;

fn data() -> CampaignData {
    let g = Generator::new(GeneratorConfig {
        recipients: 200,
        ..Default::default()
    })
    .generate();
    CampaignData::from_rows(1, g.receipts, g.feedback)
}

#[test]
fn report_counts_add_up_to_the_receipts() {
    let d = data();
    let r = CampaignReport::build(&d, None, Some(&[5, 15, 95, 100]));
    let n = d.receipts.len() as u64;
    assert_eq!(r.states.values().sum::<u64>(), n);
    assert_eq!(
        r.by_operator.values().flat_map(|m| m.values()).sum::<u64>(),
        n
    );
    assert_eq!(r.by_result.values().sum::<u64>(), n);
    assert_eq!(r.hourly.iter().map(|h| h.sent).sum::<u64>(), n);
    assert_eq!(
        r.cost_tiyn,
        d.receipts.iter().map(|x| x.cost_tiyn).sum::<i64>()
    );
    assert_eq!(
        r.score_distribution,
        Some(vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    );
    assert_eq!(
        r.delivery_latency_ms.p50,
        Some(45_000),
        "the generator hands off 45 s before the receipt"
    );
    assert!(r.answer_latency_ms.count > 0 && r.answered > 0);
    assert!(r.dtmf_by_digit.values().sum::<u64>() > 0);
    assert!(r.replies > 0);
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["campaign"], 1);
    assert_eq!(json["hourly"].as_array().unwrap().len(), 24);
}

#[test]
fn percentiles_use_nearest_rank() {
    let p = Percentiles::of((1..=100).collect());
    assert_eq!(
        (p.p50, p.p90, p.p99, p.max),
        (Some(50), Some(90), Some(99), Some(100))
    );
    assert_eq!(Percentiles::of(vec![]).p50, None);
}

#[test]
fn recipient_csv_has_one_row_per_receipt() {
    let d = data();
    let scores: HashMap<u64, u8> = d.receipts.iter().map(|r| (r.msisdn, 42)).collect();
    let out = String::from_utf8(recipients_csv(&d, &scores, Vec::new()).unwrap()).unwrap();
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        RECIPIENT_HEADER
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), d.receipts.len());
    assert!(rows.iter().all(|r| &r[15] == "42"));
    assert!(
        rows.iter()
            .map(|r| r[14].parse::<u32>().unwrap())
            .sum::<u32>()
            > 0,
        "replies are counted"
    );
}

#[test]
fn html_is_self_contained_with_every_chart() {
    let d = data();
    let page = render(&CampaignReport::build(&d, None, Some(&[50; 10])));
    for id in CHART_IDS {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert_eq!(page.matches("<svg").count(), CHART_IDS.len());
    assert!(!page.contains("<script"));
    assert!(!page.contains("src="), "no external resources");
    assert!(
        !page
            .replace("http://www.w3.org/2000/svg", "")
            .contains("http"),
        "no links out"
    );
}

#[test]
fn html_escapes_names() {
    let mut r = CampaignReport {
        account: Some("<b>evil</b>".into()),
        ..Default::default()
    };
    r.states.insert("<x>".into(), 1);
    let page = render(&r);
    assert!(!page.contains("<b>evil") && !page.contains("<x>"));
    assert!(page.contains("&lt;b&gt;evil"));
}
