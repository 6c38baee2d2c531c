//! `sendbox demo`: the engine against built-in simulators of the three Kazakhstan operators,
//! with a realistic sample campaign, a printed summary, and receipts in SQLite.
//!
//! Everything is real except the operators: SMPP binds to three SMSC simulators and SIP trunks
//! to three UAS simulators over loopback, the HTTP API on a loopback port, the SQLite store in
//! a fresh directory. The engine's clock starts at 10:00 Almaty today, so the sample goes out
//! whatever the hour the demo is run; one account's window is closed at that moment, to show
//! deferral (its messages wait for 18:00 and the summary says so).

use crate::app::App;
use crate::auth::hash_hex;
use anyhow::Context;
use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sendbox_dispatch::clock::{OffsetClock, WallClock};
use sendbox_dispatch::{Channel, FinalState};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `sendbox demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// SMS to send (split between two accounts).
    #[arg(long, default_value_t = 100_000)]
    pub sms: usize,
    /// Calls to place.
    #[arg(long, default_value_t = 300)]
    pub calls: usize,
    /// Where to keep the SQLite store (default: a new directory under the system temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Random seed of the sample.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

const TOKENS: [(&str, &str); 3] = [
    ("acme", "demo-acme-token"),
    ("bazar", "demo-bazar-token"),
    ("nightowl", "demo-nightowl-token"),
];
const ADMIN_TOKEN: &str = "demo-admin-token";

/// Run the demo.
#[allow(clippy::disallowed_methods)] // the demo reports wall-clock throughput
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init_quiet();
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!(
            "sendbox-demo-{}",
            jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S")
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sims = crate::demo_sims::Sims::start().await?;
    let config_text = demo_config(&dir, &sims);
    std::fs::write(dir.join("sendbox.toml"), &config_text)?;
    write_lists(&dir)?;
    let config = sendbox_config::load(&dir.join("sendbox.toml"))
        .map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let clock: Arc<dyn WallClock> = Arc::new(OffsetClock::starting_at(ten_am_almaty()?));
    println!("sendbox demo");
    println!("  store       {}", dir.join("sendbox.db").display());
    println!(
        "  clock       starts at {} (10:00 Almaty today, inside the 09:00-20:00 window)",
        clock.now().strftime("%Y-%m-%d %H:%M UTC")
    );
    println!(
        "  operators   kcell, beeline, tele2: SMSC simulators at {}, SIP trunks at {}",
        sims.smsc_addrs(),
        sims.sip_addrs()
    );
    let app = App::build(config, clock.clone()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(axum::serve(listener, crate::api::router(app.clone())).into_future());
    wait_ready(&app).await;
    let started = std::time::Instant::now();
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let sample = crate::demo_sample::sms_sample(&mut rng, args.sms);
    println!(
        "\nSending {} SMS through POST /v1/sms: acme {}, bazar {} (runs out of money), nightowl {} (window closed now)...",
        sample.total(),
        sample.acme.len(),
        sample.bazar.len(),
        sample.nightowl.len()
    );
    let api_latency = Arc::new(crate::stats::Latency::default());
    let mut posts = Vec::new();
    for (account, msgs) in [(0, sample.acme), (1, sample.bazar), (2, sample.nightowl)] {
        let (client, api, latency) = (client.clone(), api.clone(), api_latency.clone());
        posts.push(tokio::spawn(async move {
            post_all(&client, &api, TOKENS[account].1, &msgs, &latency).await
        }));
    }
    for p in posts {
        p.await??;
    }
    let accepted_at = started.elapsed();
    println!(
        "  accepted in {:.1} s; waiting for handoffs and receipts...",
        accepted_at.as_secs_f64()
    );
    wait_settled(&app, Duration::from_secs(120)).await;
    let sms_elapsed = started.elapsed();
    let mut calls_campaign = None;
    if args.calls > 0 {
        calls_campaign = Some(
            crate::demo_sample::voice_campaign(&client, &api, TOKENS[0].1, &mut rng, args.calls)
                .await?,
        );
        wait_settled(&app, Duration::from_secs(120)).await;
    }
    let elapsed = started.elapsed();
    app.core.sink.drained().await;
    print!(
        "{}",
        summary(&app, elapsed, sms_elapsed, &api_latency, &dir).await?
    );
    if args.calls > 0 {
        println!("{}", sims.rtp_summary());
    }
    if let Some(c) = &calls_campaign
        && let Ok(id) = c.parse::<u64>()
        && let Ok(Some(data)) =
            sendbox_analytics::report::load_campaign(app.store.as_ref(), id).await
    {
        let (report, _) = crate::api::build_report(&app, &data).await;
        let path = dir.join(format!("campaign-{id}.html"));
        std::fs::write(&path, sendbox_analytics::html::render(&report))?;
        println!(
            "Campaign report (voice, with DTMF answers and scores): {}",
            path.display()
        );
    }
    if let Some(c) = calls_campaign {
        println!(
            "  voice campaign {c}: GET {api}/v1/campaigns/{c} (token {})",
            TOKENS[0].1
        );
    }
    app.stop(Duration::from_secs(5)).await;
    server.abort();
    sims.stop();
    Ok(ExitCode::SUCCESS)
}

fn ten_am_almaty() -> anyhow::Result<jiff::Timestamp> {
    let tz = jiff::tz::TimeZone::get("Asia/Almaty").context("Asia/Almaty in the bundled tzdb")?;
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let ten = today
        .at(10, 0, 0, 0)
        .to_zoned_datetime(tz)
        .context("10:00 Almaty")?;
    Ok(ten.timestamp())
}

async fn wait_ready(app: &App) {
    for _ in 0..200 {
        if app.links.ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eprintln!("warning: not every operator link came up within 5 s");
}

async fn post_all(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    msgs: &[Value],
    latency: &crate::stats::Latency,
) -> anyhow::Result<()> {
    for chunk in msgs.chunks(10_000) {
        let body = json!({ "messages": chunk });
        loop {
            let t = tokio::time::Instant::now();
            let resp = client
                .post(format!("{api}/v1/sms"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .context("POST /v1/sms")?;
            latency.record(t.elapsed());
            match resp.status().as_u16() {
                202 => break,
                429 => tokio::time::sleep(Duration::from_millis(200)).await,
                s => anyhow::bail!(
                    "POST /v1/sms answered {s}: {}",
                    resp.text().await.unwrap_or_default()
                ),
            }
        }
    }
    Ok(())
}

/// Wait until every dispatch is final, deferred or parked for funds.
async fn wait_settled(app: &App, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let s = &app.core.stats;
        let accepted = s.accepted.load(std::sync::atomic::Ordering::Relaxed);
        let finals = s.finals_total();
        let waiting = app.core.deferred_len() as u64
            + (0..app.accounts.len() as u32)
                .map(|a| app.core.paused_len(a) as u64)
                .sum::<u64>();
        if finals + waiting >= accepted || tokio::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn summary(
    app: &App,
    elapsed: Duration,
    sms_elapsed: Duration,
    api_latency: &crate::stats::Latency,
    dir: &std::path::Path,
) -> anyhow::Result<String> {
    let s = &app.core.stats;
    let tables = app.core.tables.load();
    let mut out = String::new();
    let rel = std::sync::atomic::Ordering::Relaxed;
    writeln!(out, "\n=== Summary ({:.1} s) ===", elapsed.as_secs_f64())?;
    let mut total_handed = 0;
    let mut total_debited = 0;
    for (ch, label) in [(Channel::Sms, "SMS"), (Channel::Voice, "Calls")] {
        let ci = crate::stats::channel_index(ch);
        let any = s
            .links
            .iter()
            .any(|l| l[ci].handed_off.load(rel) > 0 || !l[ci].finals().is_empty());
        if !any {
            continue;
        }
        writeln!(out, "\n{label} per operator:")?;
        for (i, name) in tables.operators.iter().enumerate() {
            let l = &s.links[i][ci];
            let handed = l.handed_off.load(rel);
            let debited = l.debited.load(rel);
            total_handed += handed;
            total_debited += debited;
            let finals = l
                .finals()
                .into_iter()
                .map(|(st, n)| format!("{} {n}", st.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "  {:<8} handed off {:>7}   {}   debited {}",
                name,
                handed,
                if finals.is_empty() {
                    "-".into()
                } else {
                    finals
                },
                sendbox_config::kzt(debited)
            )?;
            let errors = l.errors();
            if !errors.is_empty() {
                let e: Vec<String> = errors.iter().map(|(k, v)| format!("{k} x{v}")).collect();
                writeln!(out, "           failures by reason: {}", e.join(", "))?;
            }
        }
    }
    let rejected = s.rejected.lock().clone();
    let refused: u64 = rejected.values().sum();
    writeln!(
        out,
        "\nRefused before leaving (final receipts written): {refused}"
    )?;
    for (reason, n) in &rejected {
        writeln!(out, "  {reason:<20} {n}")?;
    }
    let deferred = app.core.deferred_len();
    writeln!(
        out,
        "Deferred by the calling window: {deferred} still waiting (account nightowl's window opens at 18:00 Almaty; they leave then, never before)"
    )?;
    for (i, a) in app.accounts.iter().enumerate() {
        let w = app
            .core
            .wallets
            .snapshot(sendbox_dispatch::AccountId(i as u32))
            .ok();
        let paused = app.core.paused_len(i as u32);
        if let Some(w) = w {
            writeln!(
                out,
                "Account {:<9} spent {:>16}  left {:>16}{}",
                a.id,
                sendbox_config::kzt(w.spent as u64),
                sendbox_config::kzt(w.available as u64),
                if paused > 0 {
                    format!("  insufficient_funds: {paused} dispatches wait for a top-up")
                } else {
                    String::new()
                }
            )?;
        }
    }
    writeln!(
        out,
        "Money debited in total: {}",
        sendbox_config::kzt(total_debited)
    )?;
    let sms_final: u64 = s
        .links
        .iter()
        .map(|l| l[0].finals().iter().map(|(_, n)| n).sum::<u64>())
        .sum();
    let sms_handed: u64 = s.links.iter().map(|l| l[0].handed_off.load(rel)).sum();
    writeln!(
        out,
        "\nThroughput: {sms_handed} SMS handed off and {sms_final} receipts stored in {:.1} s \
         (first API request to last receipt) = {:.0} SMS/s; {total_handed} handoffs in all",
        sms_elapsed.as_secs_f64(),
        sms_final as f64 / sms_elapsed.as_secs_f64(),
    )?;
    let p = |l: crate::stats::LatencySummary| {
        format!(
            "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.count
        )
    };
    writeln!(
        out,
        "Latency  API request (10,000 SMS):  {}",
        p(api_latency.summary())
    )?;
    writeln!(
        out,
        "         SMS accept -> handoff:      {}",
        p(s.accept_to_handoff[0].summary())
    )?;
    writeln!(
        out,
        "         SMS handoff -> receipt:     {}",
        p(s.handoff_to_final[0].summary())
    )?;
    if s.accept_to_handoff[1].summary().count > 0 {
        writeln!(
            out,
            "         call accept -> INVITE:      {}",
            p(s.accept_to_handoff[1].summary())
        )?;
        writeln!(
            out,
            "         call INVITE -> end:         {}",
            p(s.handoff_to_final[1].summary())
        )?;
    }
    let delivered: u64 = s
        .links
        .iter()
        .map(|l| l[0].final_count(FinalState::Delivered))
        .sum();
    writeln!(
        out,
        "\nReceipts: {} delivered SMS among them; all receipts are in SQLite:",
        delivered
    )?;
    writeln!(out, "  {}", dir.join("sendbox.db").display())?;
    writeln!(
        out,
        "  sqlite3 {} 'select state, count(*), sum(cost_tiyn) from receipts group by state'",
        dir.join("sendbox.db").display()
    )?;
    writeln!(out, "  config used: {}", dir.join("sendbox.toml").display())?;
    Ok(out)
}

fn write_lists(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut bl = String::from("# demo global blacklist: numbers that asked not to be contacted\n");
    for n in crate::demo_sample::blacklisted() {
        let _ = writeln!(bl, "+{n}");
    }
    bl.push_str("not-a-number\n");
    std::fs::write(dir.join("blacklist.txt"), bl)?;
    let mut mnp = String::from("msisdn,operator\n");
    for (n, op) in crate::demo_sample::ported() {
        let _ = writeln!(mnp, "{n},{op}");
    }
    std::fs::write(dir.join("portability.csv"), mnp)?;
    Ok(())
}

fn demo_config(dir: &std::path::Path, sims: &crate::demo_sims::Sims) -> String {
    let mut ops = String::new();
    let names = [
        (
            "kcell",
            "Kcell",
            "\"701\", \"702\", \"775\", \"778\"",
            1200,
            2500,
        ),
        (
            "beeline",
            "Beeline",
            "\"705\", \"706\", \"771\", \"776\", \"777\"",
            1100,
            2400,
        ),
        (
            "tele2",
            "Tele2/Altel",
            "\"707\", \"747\", \"700\", \"708\"",
            1000,
            2200,
        ),
    ];
    for (i, (id, name, prefixes, sms_price, call_attempt)) in names.iter().enumerate() {
        let smsc = sims.smsc[i].addr();
        let sip = sims.sip[i].addr();
        let portability = if i == 0 {
            "portability_csv = \"portability.csv\"\n"
        } else {
            ""
        };
        let _ = write!(
            ops,
            r#"
[operators.{id}]
name = "{name}"
prefixes = [{prefixes}]
{portability}max_sms_per_second = 60000

[operators.{id}.smpp]
enquire_link = "30s"
response_timeout = "5s"
dlr_timeout = "60s"
reconnect_min = "100ms"
reconnect_max = "2s"
throttle_pause = "100ms"
temp_retry_base = "200ms"

[[operators.{id}.smpp.binds]]
host = "127.0.0.1"
port = {smsc_port}
system_id = "sendbox"
password = "demo"
count = 4
window = 256
max_tps = 10000

[operators.{id}.sip]
host = "127.0.0.1"
port = {sip_port}
from_uri = "sip:sendbox@127.0.0.1"
max_concurrent_calls = 200
max_calls_per_second = 200
ring_timeout = "25s"
min_ring_time = "20s"
local_ip = "127.0.0.1"
rtp_port_min = {rtp_min}
rtp_port_max = {rtp_max}

[tariffs.{id}]
sms_segment_tiyn = {sms_price}
call_attempt_tiyn = {call_attempt}
call_second_tiyn = 150
billing_increment_seconds = 1
"#,
            smsc_port = smsc.port(),
            sip_port = sip.port(),
            rtp_min = 30000 + i * 1000,
            rtp_max = 30000 + i * 1000 + 999,
        );
    }
    format!(
        r#"# Written by `sendbox demo`: the engine against local simulators.
[api]
listen = "127.0.0.1:0"
admin_token_sha256 = "{admin}"

[metrics]
listen = "127.0.0.1:0"

[store]
url = "sqlite:{db}"

[blacklist]
files = ["blacklist.txt"]

[voice]
min_prompt_seconds = 3
retry_interval = "3s"
max_attempts = 2

[window]
timezone = "Asia/Almaty"
[window.default]
start = "09:00"
end = "20:00"
{ops}
[accounts.acme]
name = "Acme Retail"
token_sha256 = "{acme}"
opening_balance_tiyn = 1000000000
senders = ["ACME", "7575"]

[accounts.bazar]
name = "Bazar.kz"
token_sha256 = "{bazar}"
opening_balance_tiyn = 10000000
senders = ["BAZAR"]

[accounts.nightowl]
name = "Night Owl Club"
token_sha256 = "{nightowl}"
opening_balance_tiyn = 100000000
senders = ["NIGHTOWL"]
window = {{ start = "18:00", end = "20:00" }}
"#,
        admin = hash_hex(ADMIN_TOKEN),
        db = dir.join("sendbox.db").display(),
        acme = hash_hex(TOKENS[0].1),
        bazar = hash_hex(TOKENS[1].1),
        nightowl = hash_hex(TOKENS[2].1),
    )
}
