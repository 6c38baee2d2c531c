//! The policy stages: the whole per-dispatch pipeline (parse → route with a 5M-row
//! portability table → 10M-number blacklist → window → reserve), each stage alone, and the
//! load time of a 10M-number blacklist file and a 5M-row portability CSV.
//!
//! `cargo bench -p sendbox-benches --features policy --bench policy -- --warm-up-time 1 --measurement-time 3`
//!
//! Memory per number is printed to stderr (`policy: ...` lines).
//!
//! Times are the benchmark thread's **CPU time** (from `/proc/thread-self/schedstat`), not
//! wall time: the bench machine is shared, and wall time there mostly measures the other
//! jobs. On an idle machine the two agree.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sendbox_benches::ThreadCpuTime;
use sendbox_policy::balance::Wallets;
use sendbox_policy::blacklist::{Blacklist, BlacklistSet, Blacklists};
use sendbox_policy::number::{Msisdn, parse};
use sendbox_policy::portability::Portability;
use sendbox_policy::route::Router;
use sendbox_policy::window::WindowPolicy;
use sendbox_policy::{AccountId, Channel, OperatorId, TrafficClass};
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// The DEF codes real traffic uses (domain.md §2), with their default operator.
const DEFS: [(u16, u16); 13] = [
    (701, 0),
    (702, 0),
    (775, 0),
    (778, 0),
    (705, 1),
    (706, 1),
    (771, 1),
    (776, 1),
    (777, 1),
    (707, 2),
    (747, 2),
    (700, 2),
    (708, 2),
];

const BLACKLIST_SIZE: usize = 10_000_000;
const PORTED_SIZE: usize = 5_000_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A mobile number in one of the DEF codes in use, uniform within it.
    fn number(&mut self) -> u64 {
        let x = self.next();
        let def = u64::from(DEFS[(x % DEFS.len() as u64) as usize].0);
        70_000_000_000 + def * 10_000_000 + (x >> 24) % 10_000_000
    }
}

/// The `i`-th of a sequence of distinct numbers spread over the DEF codes in use
/// (multiplying by a number coprime to 10^7 permutes the subscriber part).
fn distinct(i: usize) -> u64 {
    let i = i as u64;
    let def = u64::from(DEFS[(i % DEFS.len() as u64) as usize].0);
    let sub = (i / DEFS.len() as u64 * 7_654_321 + 12_345) % 10_000_000;
    70_000_000_000 + def * 10_000_000 + sub
}

fn msisdn(n: u64) -> Msisdn {
    Msisdn::from_e164(n).expect("generated numbers are Kazakh")
}

/// How a customer might write `n`.
fn formatted(n: u64, style: u64) -> String {
    let nat = n - 70_000_000_000;
    match style % 5 {
        0 => format!("{n}"),
        1 => format!("+{n}"),
        2 => format!("8{nat}"),
        3 => format!(
            "+7 ({}) {:03}-{:02}-{:02}",
            nat / 10_000_000,
            nat / 10_000 % 1000,
            nat / 100 % 100,
            nat % 100
        ),
        _ => format!("{nat}"),
    }
}

fn router(portability: Arc<Portability>) -> Router {
    Router::new(DEFS.map(|(d, o)| (d, OperatorId(o))))
        .expect("the DEF table is valid")
        .with_portability(portability)
}

fn big_blacklist() -> Blacklist {
    let list = Blacklist::from_numbers((0..BLACKLIST_SIZE).map(|i| msisdn(distinct(i))));
    eprintln!(
        "policy: blacklist {} numbers, {} bytes, {:.2} bytes/number",
        list.len(),
        list.memory_bytes(),
        list.memory_bytes() as f64 / list.len() as f64
    );
    list
}

fn big_portability() -> Portability {
    let mut rng = Rng(0x0F0F_1234_5555_7777);
    let table = Portability::from_rows(
        (0..PORTED_SIZE).map(|i| (msisdn(rng.number()), OperatorId((i % 3) as u16))),
    );
    eprintln!(
        "policy: portability {} rows, {:.2} bytes/row",
        table.len(),
        table.memory_bytes() as f64 / table.len() as f64
    );
    table
}

/// Inputs per criterion iteration.
const BATCH: usize = 4096;
/// Distinct inputs cycled through: 1M numbers, so the tables' cache lines for them do not
/// stay in cache between passes (a warm 4096-number set would flatter every lookup).
const POOL: usize = 256 * BATCH;

/// Hands out consecutive `BATCH`-sized slices of a pool, wrapping around.
struct Cycle<T> {
    pool: Vec<T>,
    at: usize,
}

impl<T> Cycle<T> {
    fn next(&mut self) -> &[T] {
        let from = self.at;
        self.at = (self.at + BATCH) % self.pool.len();
        &self.pool[from..from + BATCH]
    }
}

fn bench_pipeline(c: &mut Criterion<ThreadCpuTime>) {
    let blacklist = big_blacklist();
    let portability = Arc::new(big_portability());
    let router = router(portability);
    let lists = Blacklists::new(BlacklistSet::new(blacklist));
    let window = WindowPolicy::almaty_default().expect("Asia/Almaty is bundled");
    let wallets = Wallets::new([i64::MAX / 2]);
    let now: sendbox_policy::jiff::Timestamp =
        "2026-11-25T09:03:00Z".parse().expect("valid timestamp");
    let mut rng = Rng(0xDEAD_BEEF_0000_0001);
    let strings: Vec<String> = (0..POOL)
        .map(|i| formatted(rng.number(), i as u64))
        .collect();
    let numbers: Vec<Msisdn> = strings.iter().map(|s| parse(s).expect("valid")).collect();
    let mut inputs = Cycle {
        pool: strings,
        at: 0,
    };
    let mut parsed = Cycle {
        pool: numbers,
        at: 0,
    };
    let account = AccountId(0);

    let mut group = c.benchmark_group("policy");
    // Equal samples of ~0.3 s each: the CPU clock advances in scheduler ticks.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("pipeline_per_dispatch", |b| {
        b.iter(|| {
            // One blacklist snapshot per batch, as the engine admits a request's recipients.
            let lists = lists.snapshot();
            let mut admitted = 0u32;
            for s in inputs.next() {
                let Ok(m) = parse(black_box(s)) else { continue };
                let Ok(op) = router.route(m, Channel::Sms) else {
                    continue;
                };
                if lists.is_blocked(account, m) {
                    continue;
                }
                if !window.is_open(now, op, TrafficClass::Service, account) {
                    continue;
                }
                if wallets.reserve(account, 500).is_ok() {
                    admitted += 1;
                }
            }
            admitted
        })
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            inputs
                .next()
                .iter()
                .filter(|s| parse(black_box(s)).is_ok())
                .count()
        })
    });
    group.bench_function("route_5m_ported", |b| {
        b.iter(|| {
            parsed
                .next()
                .iter()
                .filter(|&&m| router.route(black_box(m), Channel::Sms).is_ok())
                .count()
        })
    });
    let table = router
        .portability()
        .cloned()
        .expect("the bench router has a table");
    group.bench_function("portability_get_5m", |b| {
        b.iter(|| {
            parsed
                .next()
                .iter()
                .filter(|&&m| table.get(black_box(m)).is_some())
                .count()
        })
    });
    group.bench_function("blacklist_contains_10m", |b| {
        b.iter(|| {
            parsed
                .next()
                .iter()
                .filter(|&&m| lists.is_blocked(account, black_box(m)))
                .count()
        })
    });
    // Latency, not throughput: each probe depends on the previous answer, so the CPU cannot
    // overlap the memory accesses of consecutive lookups.
    group.bench_function("blacklist_contains_10m_dependent", |b| {
        b.iter(|| {
            let batch = parsed.next();
            let mut i = 0usize;
            for _ in 0..batch.len() {
                let hit = lists.is_blocked(account, black_box(batch[i % batch.len()]));
                i = i.wrapping_add(1 + usize::from(hit));
            }
            i
        })
    });
    let snapshot = lists.snapshot();
    group.bench_function("blacklist_contains_10m_snapshot", |b| {
        b.iter(|| {
            parsed
                .next()
                .iter()
                .filter(|&&m| snapshot.is_blocked(account, black_box(m)))
                .count()
        })
    });
    group.bench_function("window_is_open", |b| {
        b.iter(|| {
            (0..BATCH)
                .filter(|_| {
                    window.is_open(
                        black_box(now),
                        OperatorId(1),
                        TrafficClass::Marketing,
                        account,
                    )
                })
                .count()
        })
    });
    group.bench_function("reserve", |b| {
        b.iter(|| {
            (0..BATCH)
                .filter(|_| wallets.reserve(account, black_box(500)).is_ok())
                .count()
        })
    });
    group.finish();
}

/// Writes `lines` lines to a file in the temp dir once, and returns its path.
fn bench_file(name: &str, lines: usize, line: impl Fn(&mut Rng, usize) -> String) -> PathBuf {
    let path = std::env::temp_dir().join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        return path;
    }
    let mut rng = Rng(0xABCD_EF01_2345_6789);
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(&path).expect("temp dir is writable"));
    for i in 0..lines {
        writeln!(out, "{}", line(&mut rng, i)).expect("temp dir is writable");
    }
    out.flush().expect("temp dir is writable");
    path
}

fn bench_loads(c: &mut Criterion<ThreadCpuTime>) {
    // 90 % canonical lines, 10 % in other accepted formats, a few bad lines.
    let blacklist = bench_file(
        "sendbox-bench-blacklist-10m.txt",
        BLACKLIST_SIZE,
        |rng, i| {
            if i % 1_000_000 == 999 {
                "not a number".to_string()
            } else {
                let n = rng.number();
                formatted(
                    n,
                    if i % 10 == 0 {
                        (i / 10) as u64 % 4 + 1
                    } else {
                        0
                    },
                )
            }
        },
    );
    let ported = bench_file("sendbox-bench-portability-5m.csv", PORTED_SIZE, |rng, i| {
        if i == 0 {
            "msisdn,operator".to_string()
        } else {
            format!("{},{}", rng.number(), ["kcell", "beeline", "tele2"][i % 3])
        }
    });
    let ops = |name: &str| match name {
        "kcell" => Some(OperatorId(0)),
        "beeline" => Some(OperatorId(1)),
        "tele2" => Some(OperatorId(2)),
        _ => None,
    };

    // One wall-clock load for the record (criterion below reports CPU time).
    #[allow(clippy::disallowed_methods)] // a bench, not a sans-IO core: real time is the point
    let started = std::time::Instant::now();
    let (list, _) = Blacklist::load(&[&blacklist]).expect("bench file is readable");
    eprintln!(
        "policy: blacklist load of {} numbers took {:?} wall clock (load average {})",
        list.len(),
        started.elapsed(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    drop(list);

    let mut group = c.benchmark_group("policy_load");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(BLACKLIST_SIZE as u64));
    group.bench_function("blacklist_10m_file", |b| {
        b.iter(|| {
            let (list, report) = Blacklist::load(&[&blacklist]).expect("bench file is readable");
            assert_eq!(report.bad_lines(), 10);
            list.len()
        })
    });
    group.throughput(Throughput::Elements(PORTED_SIZE as u64));
    group.bench_function("portability_5m_csv", |b| {
        b.iter(|| {
            let (table, report) =
                Portability::load(&[&ported], ops).expect("bench file is readable");
            assert!(report.errors.is_empty());
            table.len()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_pipeline, bench_loads
}
criterion_main!(benches);
