//! The dispatch core's queue handoff: a dispatch pushed by the policy stage and popped by an
//! operator link, through the fair lock-free `OperatorQueue`. Target: at least 10 million/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendbox_dispatch::{
    AccountId, Content, DispatchId, OperatorId, OperatorQueue, Ready, SmsContent, TrafficClass,
};
use std::hint::black_box;
use std::sync::Arc;

fn ready(content: &Arc<Content>, id: u64, account: u32) -> Ready {
    Ready {
        id: DispatchId(id),
        account: AccountId(account),
        campaign: None,
        operator: OperatorId(0),
        msisdn: 77_011_234_567,
        class: TrafficClass::Service,
        content: content.clone(),
        attempt: 1,
        retries: 0,
        reserved: 1200,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

fn handoff(c: &mut Criterion) {
    let content = Arc::new(Content::Sms(SmsContent {
        sender: "ACME".into(),
        text: "Your code is 482913".into(),
        segments: 1,
    }));
    const BATCH: u64 = 10_000;
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("push_pop_one_account", |b| {
        let q = OperatorQueue::new(1, usize::MAX);
        b.iter(|| {
            for i in 0..BATCH {
                let _ = q.push(ready(&content, i, 0));
            }
            for _ in 0..BATCH {
                black_box(q.pop());
            }
        });
    });
    g.bench_function("push_pop_16_accounts_fair", |b| {
        let q = OperatorQueue::new(16, usize::MAX);
        b.iter(|| {
            for i in 0..BATCH {
                let _ = q.push(ready(&content, i, (i % 16) as u32));
            }
            for _ in 0..BATCH {
                black_box(q.pop());
            }
        });
    });
    g.finish();
}

criterion_group!(benches, handoff);
criterion_main!(benches);
