//! SMS text encoding throughput: `count_segments` (billing at ingest) and `split` (PDU building),
//! reported as segments per second for typical texts.
//!
//! `cargo bench -p sendbox-benches --features smstext --bench smstext -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendbox_codecs::sms::{Concat, count_segments, split};
use std::hint::black_box;

/// (name, text): an OTP, a long Latin marketing text, a Russian notice, a long Kazakh text with emoji.
fn texts() -> Vec<(&'static str, String)> {
    vec![
        ("otp_gsm_1seg", "Your code: 482913. Do not share it with anyone.".to_string()),
        (
            "promo_gsm_3seg",
            "Big sale this weekend! Up to 50% off on all items [online & in stores]. Use code {SALE50} \
             at checkout. Free delivery over 10000 KZT. Terms apply, see shop.kz/sale. "
                .repeat(2),
        ),
        ("notice_ru_1seg", "Ваш заказ №1234 доставлен. Спасибо!".to_string()),
        ("promo_kz_3seg", "Қазақстан бойынша жеткізу тегін! 🎉 Тапсырыс беріңіз: shop.kz ".repeat(3)),
    ]
}

fn bench_smstext(c: &mut Criterion) {
    let mut group = c.benchmark_group("smstext");
    for (name, text) in texts() {
        let segments = u64::from(count_segments(&text, Concat::Udh8));
        group.throughput(Throughput::Elements(segments));
        group.bench_function(format!("count_segments/{name}"), |b| {
            b.iter(|| count_segments(black_box(&text), Concat::Udh8))
        });
        group.bench_function(format!("split/{name}"), |b| {
            b.iter(|| split(black_box(&text), Concat::Udh8, 7))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_smstext);
criterion_main!(benches);
