//! Receipts per second through `Store::write` on SQLite (a file in a temp dir, WAL,
//! `synchronous=FULL`) and PostgreSQL (`SENDBOX_BENCH_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a scratch schema dropped afterwards).
//!
//! Each measured write is a batch of `Final` receipts for dispatches accepted beforehand
//! (untimed), so it pays for the receipt insert, the unique check and making the dispatch
//! final. `8x1000` is eight concurrent callers of 1,000 each, group-committed together.
//!
//! Before the criterion groups, each backend prints a `store_cpu/...` line: receipts per
//! CPU-second (this process plus every `postgres` process), which does not depend on how
//! busy the shared machine is.
//!
//! `cargo bench -p sendbox-benches --features store --bench store -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sendbox_dispatch::{Channel, FinalState, LocalTime, TrafficClass};
use sendbox_store::{
    DispatchRow, DispatchState, Handoff, LedgerKind, LedgerRow, ReceiptRow, Store, WriteOp,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::runtime::Runtime;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn t0() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_600_000).expect("valid timestamp")
}

/// `at` as the engine records Almaty wall time.
fn almaty(at: jiff::Timestamp) -> LocalTime {
    LocalTime::new(at, jiff::tz::Offset::constant(5))
}

fn dispatch(id: u64) -> DispatchRow {
    DispatchRow {
        id,
        account: format!("account-{}", id % 8).into(),
        campaign: Some(id / 10_000),
        channel: Channel::Sms,
        class: TrafficClass::Service,
        msisdn: 77_010_000_000 + id % 1_000_000,
        operator: "beeline".into(),
        content_ref: "Your code is 1234".into(),
        sender: "SENDBOX".into(),
        segments: 1,
        reserved_tiyn: 1500,
        accepted_at: t0(),
        not_before: None,
        state: DispatchState::HandedOff,
    }
}

fn receipt(d: &DispatchRow) -> ReceiptRow {
    ReceiptRow {
        dispatch_id: d.id,
        account: d.account.clone(),
        campaign: d.campaign,
        operator: d.operator.clone(),
        channel: d.channel,
        msisdn: d.msisdn,
        state: FinalState::Delivered,
        error: None,
        segments: 1,
        billable_seconds: 0,
        cost_tiyn: 1200,
        accepted_at: d.accepted_at,
        handed_off_at_utc: Some(t0()),
        handed_off_local: Some(almaty(t0())),
        final_at_utc: t0(),
        final_local: almaty(t0()),
        inside_window: true,
        call: None,
        attempt: 1,
    }
}

/// Accept `n` fresh dispatches (untimed) and return their receipts as write ops.
async fn prepare(store: &Arc<dyn Store>, n: usize) -> Vec<WriteOp> {
    let first = NEXT_ID.fetch_add(n as u64, Ordering::Relaxed);
    let rows: Vec<_> = (first..first + n as u64).map(dispatch).collect();
    let finals = rows
        .iter()
        .map(|d| WriteOp::Final(Box::new(receipt(d))))
        .collect();
    store
        .write(rows.into_iter().map(WriteOp::AcceptDispatch).collect())
        .await
        .expect("accept");
    finals
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, name: &str, store: Arc<dyn Store>) {
    let mut g = c.benchmark_group(format!("store_receipts/{name}"));
    g.sample_size(10);
    for (callers, batch) in [(1usize, 1_000usize), (1, 10_000), (8, 1_000)] {
        g.throughput(Throughput::Elements((callers * batch) as u64));
        g.bench_function(
            BenchmarkId::from_parameter(format!("{callers}x{batch}")),
            |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut work = Vec::with_capacity(callers);
                            for _ in 0..callers {
                                work.push(prepare(&store, batch).await);
                            }
                            // Bench timing, not engine code: tokio's clock is not paused here.
                            let start = tokio::time::Instant::now();
                            let writes: Vec<_> =
                                work.into_iter().map(|ops| store.write(ops)).collect();
                            for r in futures::future::join_all(writes).await {
                                assert_eq!(r.expect("write").new_receipts.len(), batch);
                            }
                            total += start.elapsed();
                        }
                        total
                    })
                });
            },
        );
    }
    g.finish();
}

/// CPU seconds (user + system) used so far by process `pid` (`self` or a number).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the `(comm)` field: state is 3rd, utime the 14th, stime the 15th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux.
}

/// CPU seconds used so far by every `postgres` process on this machine.
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|p| cpu_seconds(&p))
        .sum()
}

/// The machine is shared, so wall-clock rates depend on the load. This writes 200,000
/// receipts in batches of 10,000 and prints the rate per CPU-second spent by this process
/// (the writer, validation, the runtime) and by PostgreSQL: what one idle core would do.
fn cpu_accounted(rt: &Runtime, name: &str, store: &Arc<dyn Store>) {
    const BATCH: usize = 10_000;
    const BATCHES: usize = 20;
    rt.block_on(async {
        let mut work = Vec::with_capacity(BATCHES);
        for _ in 0..BATCHES {
            work.push(prepare(store, BATCH).await);
        }
        store.flush().await.expect("flush");
        let (cpu0, pg0) = (cpu_seconds("self"), postgres_cpu_seconds());
        // Bench timing, not engine code: tokio's clock is not paused here.
        let start = tokio::time::Instant::now();
        for ops in work {
            store.write(ops).await.expect("write");
        }
        let wall = start.elapsed().as_secs_f64();
        let (cpu, pg) = (cpu_seconds("self") - cpu0, postgres_cpu_seconds() - pg0);
        let n = (BATCH * BATCHES) as f64;
        eprintln!(
            "store_cpu/{name}: {n} receipts in {wall:.2} s wall = {:.0}/s; CPU: bench process {cpu:.2} s + postgres {pg:.2} s = {:.0} receipts per CPU-second; load average {}",
            n / wall,
            n / (cpu + pg),
            std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
        );
    });
}

/// An SMS's whole life in the store, as the engine writes it: dispatches accepted in API
/// batches of 10,000, then the records writer's batches holding, per dispatch, the handoff (a
/// `handoffs` row plus the ledger debit) and the final receipt. Prints the store's CPU per
/// SMS (this process plus PostgreSQL's), the figure the SMS load test's store has to beat.
fn lifecycle_cpu(rt: &Runtime, name: &str, store: &Arc<dyn Store>) {
    const ACCEPT_BATCH: usize = 10_000;
    const RECORD_BATCH: usize = 5_000; // dispatches per records batch: 3 ops each
    const N: usize = 200_000;
    rt.block_on(async {
        let first = NEXT_ID.fetch_add(N as u64, Ordering::Relaxed);
        let rows: Vec<_> = (first..first + N as u64).map(dispatch).collect();
        let mut later = Vec::with_capacity(N / RECORD_BATCH);
        for chunk in rows.chunks(RECORD_BATCH) {
            let mut ops = Vec::with_capacity(chunk.len() * 3);
            for d in chunk {
                ops.push(WriteOp::HandedOff {
                    id: d.id,
                    handoff: Handoff {
                        at_utc: t0(),
                        at_local: almaty(t0()),
                        operator_ref: format!("{:08x}", d.id),
                        units: 1,
                        cost_tiyn: 1200,
                    },
                });
                ops.push(WriteOp::Ledger(LedgerRow {
                    dispatch_id: Some(d.id),
                    account: d.account.clone(),
                    kind: LedgerKind::Debit,
                    attempt: 1,
                    amount_tiyn: -1200,
                    at: t0(),
                }));
                ops.push(WriteOp::Final(Box::new(receipt(d))));
            }
            later.push(ops);
        }
        let accepts: Vec<Vec<WriteOp>> = rows
            .chunks(ACCEPT_BATCH)
            .map(|c| c.iter().cloned().map(WriteOp::AcceptDispatch).collect())
            .collect();
        store.flush().await.expect("flush");
        let (cpu0, pg0) = (cpu_seconds("self"), postgres_cpu_seconds());
        for ops in accepts {
            store.write(ops).await.expect("accept");
        }
        for ops in later {
            store.write(ops).await.expect("handoff and final");
        }
        store.flush().await.expect("flush");
        let (cpu, pg) = (cpu_seconds("self") - cpu0, postgres_cpu_seconds() - pg0);
        eprintln!(
            "store_cpu_lifecycle/{name}: {N} SMS (accept, handoff, debit, receipt): {:.2} µs of CPU per SMS (bench process {cpu:.2} s + postgres {pg:.2} s)",
            (cpu + pg) * 1e6 / N as f64
        );
    });
}

fn sqlite(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = rt.block_on(sendbox_store::open(&url)).expect("open sqlite");
    cpu_accounted(&rt, "sqlite", &store);
    lifecycle_cpu(&rt, "sqlite", &store);
    bench_backend(c, &rt, "sqlite", store.clone());
    rt.block_on(store.close()).expect("close");
}

fn postgres(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let base = std::env::var("SENDBOX_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", std::process::id());
    let admin = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
        Ok::<_, tokio_postgres::Error>(client)
    });
    let admin = match admin {
        Ok(a) => a,
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL not reachable at {base}: {e}");
            return;
        }
    };
    let url = format!("{base}?options=-c%20search_path%3D{schema}");
    let store = rt
        .block_on(sendbox_store::open(&url))
        .expect("open postgres");
    cpu_accounted(&rt, "postgres", &store);
    lifecycle_cpu(&rt, "postgres", &store);
    bench_backend(c, &rt, "postgres", store.clone());
    rt.block_on(async {
        store.close().await.expect("close");
        admin
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop bench schema");
    });
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
