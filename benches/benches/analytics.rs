//! Analytics: validating a million-row CSV upload (parse, route with portability, blacklist,
//! history lookup, duplicates, result CSV written) and scoring a million recipients against a
//! history of a million numbers.
//!
//! `cargo bench -p sendbox-benches --features analytics --bench analytics -- --warm-up-time 1 --measurement-time 3`
//!
//! Targets (issue 7): validation under 2 s, scoring under 1 s per million.
//!
//! Times are the benchmark thread's **CPU time** (from `/proc/thread-self/schedstat`, as in
//! the policy bench), not wall time: the bench machine is shared by several jobs.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::history::{History, HistoryBuilder};
use sendbox_analytics::model::TrainConfig;
use sendbox_analytics::output::ResultCsv;
use sendbox_analytics::score::{Models, Scorer};
use sendbox_analytics::validate::{Run, Validator};
use sendbox_benches::ThreadCpuTime;
use sendbox_policy::blacklist::{Blacklist, BlacklistSet};
use sendbox_policy::number::parse;
use sendbox_policy::portability::Portability;
use sendbox_policy::route::Router;
use sendbox_policy::{AccountId, OperatorId};
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;

const ROWS: usize = 1_000_000;

/// A history of `n` numbers, built in batches so the rows never all sit in memory.
fn history(n: usize) -> History {
    let mut b = HistoryBuilder::new();
    for start in (0..n).step_by(100_000) {
        let g = Generator::new(GeneratorConfig {
            recipients: 100_000.min(n - start),
            first_recipient: start,
            max_attempts: 4,
            seed: start as u64,
            ..Default::default()
        })
        .generate();
        g.receipts.iter().for_each(|r| b.add_receipt(r));
        g.feedback.iter().for_each(|f| b.add_feedback(f));
    }
    b.build()
}

/// A million-row CSV: name, phone in mixed formats, ~5% invalid, ~5% duplicates.
fn upload() -> Vec<u8> {
    let mut out = Vec::with_capacity(ROWS * 32);
    out.extend_from_slice(b"name,phone\n");
    for i in 0..ROWS {
        let m = Generator::msisdn(i % 950_000);
        let _ = match i % 20 {
            0 => writeln!(out, "client {i},+7 916 {:07}", i % 10_000_000),
            1 => writeln!(
                out,
                "client {i},8 ({}) {}-{}",
                (m / 10_000_000) % 1000,
                (m / 10_000) % 1000,
                m % 10_000
            ),
            2 => writeln!(out, "\"Doe, {i}\",+{m}"),
            _ => writeln!(out, "client {i},{m}"),
        };
    }
    out
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let port = Portability::from_rows(
        (0..100_000u64).map(|i| (parse(&format!("7701{:07}", i * 13)).unwrap(), OperatorId(1))),
    );
    let router = Router::new([
        (701, OperatorId(0)),
        (705, OperatorId(1)),
        (707, OperatorId(2)),
    ])
    .unwrap()
    .with_portability(Arc::new(port));
    let ops = ["kcell", "beeline", "tele2"].map(String::from).to_vec();
    let lists = BlacklistSet::new(Blacklist::from_numbers(
        (0..100_000usize).map(|i| parse(&Generator::msisdn(i * 7).to_string()).unwrap()),
    ));
    let hist = history(ROWS);
    eprintln!("analytics: history of {} numbers", hist.len());
    let csv = upload();

    let mut g = c.benchmark_group("analytics");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .throughput(Throughput::Elements(ROWS as u64));
    let validator =
        Validator::new(&router, &ops, &lists, AccountId(0)).with_history(&hist, Some("acme"));
    g.bench_function("validate_1m_csv_rows", |b| {
        b.iter(|| {
            let mut out = ResultCsv::new(Vec::with_capacity(ROWS * 120)).unwrap();
            let mut run = Run::new(&validator);
            let mut write =
                |v: &sendbox_analytics::validate::Validation<'_>| out.write(v, &validator).unwrap();
            for chunk in csv.chunks(64 * 1024) {
                run.push(chunk, &mut write);
            }
            let summary = run.finish(&mut write);
            black_box((summary, out.finish().unwrap().len()))
        })
    });

    // Train on a smaller history (training is not what is measured here).
    let small = history(100_000);
    let now = hist.latest().unwrap() + 1;
    let models = Models::train_all(&small, now, &TrainConfig::default());
    let scorer = Scorer::for_account(&hist, &models, "acme", now).unwrap();
    let numbers: Vec<u64> = (0..ROWS).map(Generator::msisdn).collect();
    g.bench_function("score_1m_recipients", |b| {
        b.iter(|| black_box(scorer.score_values(&numbers)))
    });
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("score_10k_with_factors", |b| {
        b.iter(|| {
            numbers[..10_000]
                .iter()
                .map(|m| scorer.score(*m).score as u64)
                .sum::<u64>()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench
}
criterion_main!(benches);
