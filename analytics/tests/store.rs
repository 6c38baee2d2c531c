//! Loading from a real (SQLite, in-memory) store: the history pages through receipts and the
//! campaign report finds its receipts and replies.

use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::history::History;
use sendbox_analytics::report::{CampaignReport, load_campaign};
use sendbox_dispatch::Channel;
use sendbox_store::{CampaignRow, WriteOp};

#[tokio::test]
async fn history_and_campaign_report_load_from_the_store() {
    let store = sendbox_store::open("sqlite::memory:").await.unwrap();
    let g = Generator::new(GeneratorConfig {
        recipients: 300,
        ..Default::default()
    })
    .generate();
    let mut other = Generator::new(GeneratorConfig {
        recipients: 10,
        account: "other".into(),
        campaign: Some(2),
        seed: 3,
        first_recipient: 1000,
        ..Default::default()
    })
    .generate();
    for r in &mut other.receipts {
        r.dispatch_id += 1_000_000;
    }
    let mut ops = vec![WriteOp::Campaign(CampaignRow {
        id: 1,
        account: "acme".into(),
        channel: Channel::Sms,
        created_at: g.receipts[0].accepted_at,
        total: 300,
    })];
    ops.extend(
        g.receipts
            .iter()
            .chain(&other.receipts)
            .map(|r| WriteOp::Final(Box::new(r.clone()))),
    );
    ops.extend(g.feedback.iter().map(|f| WriteOp::Feedback(f.clone())));
    store.write(ops).await.unwrap();

    let all = History::load(store.as_ref(), None).await.unwrap();
    assert_eq!(all.len(), 310);
    let acme = History::load(store.as_ref(), Some("acme")).await.unwrap();
    assert_eq!(acme.len(), 300);
    // Replies stored as feedback reach the history (paged from the store's feedback feed).
    let replies: u32 = g
        .feedback
        .iter()
        .map(|f| f.msisdn)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|m| all.facts(m, None, jiff::Timestamp::now()).replies)
        .sum();
    assert_eq!(
        replies as usize,
        g.feedback.len(),
        "every stored reply is in the history"
    );

    let data = load_campaign(store.as_ref(), 1).await.unwrap().unwrap();
    assert_eq!(data.receipts.len(), g.receipts.len());
    assert_eq!(data.feedback.len(), g.feedback.len());
    let r = CampaignReport::build(&data, None, None);
    assert_eq!(r.recipients, 300);
    assert_eq!(data.recipients().len(), 300);
    assert_eq!(r.replies as usize, g.feedback.len());
    assert_eq!(r.account.as_deref(), Some("acme"));
    assert!(load_campaign(store.as_ref(), 99).await.unwrap().is_none());
    store.close().await.unwrap();
}
