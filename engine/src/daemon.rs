//! `sendbox run`: the daemon's lifecycle.
//!
//! Configuration is loaded and validated before any port is bound (a bad one exits 64). Then
//! the metrics listener, the API listener and the store; systemd is told READY=1 only when
//! all of them are up, and WATCHDOG=1 from a task that checks the engine still makes progress.
//! SIGHUP reloads blacklists, portability, window rules and tariffs (a bad new file is refused
//! and the old tables stay); SIGTERM stops accepting, lets the links finish or hand back what
//! they hold, flushes the store and exits 0.

use crate::app::{App, blacklist_sources};
use crate::tables::Tables;
use anyhow::Context;
use sendbox_config::LogFormat;
use sendbox_dispatch::clock::SystemClock;
use sendbox_policy::blacklist::BlacklistSet;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long links get to finish what they hold at shutdown.
const GRACE: Duration = Duration::from_secs(20);

/// Run the daemon until SIGTERM or SIGINT.
pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match sendbox_config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(e.exit_code() as u8));
        }
    };
    match config.logging.format {
        LogFormat::Json => crate::logging::init_json(),
        _ => crate::logging::init_human(),
    }
    install_metrics(config.metrics.listen)?;
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("api.listen: cannot bind {}", config.api.listen))?;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    tracing::info!(api = %listener.local_addr()?, "sendbox is running.");
    notify(&[sd_notify::NotifyState::Ready]);
    spawn_watchdog(app.clone());
    let server = axum::serve(listener, crate::api::router(app.clone()))
        .with_graceful_shutdown(signals(app.clone(), path.to_path_buf()));
    server.await.context("API server")?;
    notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("Stopping: links finish what they hold, then the store is flushed.");
    app.stop(GRACE).await;
    tracing::info!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Install the Prometheus recorder with its own listener, and describe every metric.
pub fn install_metrics(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets(crate::metrics::LATENCY_BUCKETS)
        .context("metrics buckets")?
        // The one histogram that is not a duration.
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(sendbox_store::metrics::COMMIT_OPS.into()),
            sendbox_store::metrics::COMMIT_OPS_BUCKETS,
        )
        .context("metrics buckets")?
        .install()
        .with_context(|| format!("metrics.listen: cannot serve metrics on {listen}"))?;
    describe_all();
    Ok(())
}

/// Describe the metrics of every component.
pub fn describe_all() {
    crate::metrics::describe();
    sendbox_store::metrics::describe();
    sendbox_smpp::metrics::describe();
    sendbox_voice::metrics::describe();
}

fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::debug!(error = %e, "sd_notify failed (not under systemd?).");
    }
}

/// WATCHDOG=1 at half the interval systemd asks for, only while the engine's store answers
/// and its record writer keeps up: a wedged engine stops petting the dog and is restarted.
fn spawn_watchdog(app: Arc<App>) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let period = interval / 2;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            let alive = tokio::time::timeout(period, app.store.ping()).await;
            if matches!(alive, Ok(Ok(()))) {
                notify(&[sd_notify::NotifyState::Watchdog]);
            } else {
                tracing::error!("Watchdog: the store did not answer; not notifying systemd.");
            }
        }
    });
}

async fn signals(app: Arc<App>, path: std::path::PathBuf) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("Cannot install signal handlers; stop with the admin API or kill -9.");
        return std::future::pending().await;
    };
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                notify(&[sd_notify::NotifyState::Reloading]);
                match reload_from(&app, &path) {
                    Ok(report) => tracing::info!(%report, "Reloaded."),
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "Reload refused; the old configuration stays in force."),
                }
                notify(&[sd_notify::NotifyState::Ready]);
            }
            () = app.shutdown.cancelled() => break,
        }
    }
}

/// Reload blacklists only.
pub fn reload_blacklists(app: &App) -> anyhow::Result<Value> {
    let config = app.config.load();
    let (set, report) = BlacklistSet::load(&blacklist_sources(&config)).context("blacklist")?;
    app.blacklists.replace(set);
    Ok(json!({
        "entries": report.entries,
        "lines": report.lines,
        "bad_lines": report.bad_lines(),
        "errors": report.errors.iter().take(100).map(|e| e.to_string()).collect::<Vec<_>>(),
    }))
}

/// Reload the configuration file the daemon runs from.
pub fn reload(app: &App) -> anyhow::Result<Value> {
    let file = app.config.load().file.clone();
    reload_from(app, Path::new(&file))
}

/// Reload blacklists, portability, window rules and tariffs from `path`. Operators, accounts,
/// binds and trunks need a restart; a change to them is reported, not applied.
pub fn reload_from(app: &App, path: &Path) -> anyhow::Result<Value> {
    let new = sendbox_config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let old = app.config.load();
    let mut not_applied = Vec::new();
    if new.operators.keys().ne(old.operators.keys()) {
        not_applied.push("operators (restart to apply)");
    }
    if new.accounts.keys().ne(old.accounts.keys()) {
        not_applied.push("accounts (restart to apply)");
    }
    let tables = Tables::from_config(&new)?;
    let (set, report) = BlacklistSet::load(&blacklist_sources(&new)).context("blacklist")?;
    if not_applied.is_empty() {
        app.core.tables.store(Arc::new(tables));
        app.blacklists.replace(set);
        app.config.store(Arc::new(new));
    } else {
        anyhow::bail!("the new file changes {}", not_applied.join(", "));
    }
    Ok(json!({
        "reloaded": ["blacklists", "portability", "window", "tariffs"],
        "blacklist_entries": report.entries,
        "blacklist_bad_lines": report.bad_lines(),
    }))
}

/// Start every latency histogram of [`stats_json`] afresh; counters are kept.
pub fn reset_latencies(app: &App) {
    let s = &app.core.stats;
    for l in s.accept_to_handoff.iter().chain(&s.handoff_to_final) {
        l.reset();
    }
    for op in app.links.operators.lock().iter() {
        if let Some(sms) = &op.sms {
            sms.reset_submit_latency();
        }
    }
}

/// The admin statistics: counters and latency percentiles (hdrhistogram) of this run.
pub fn stats_json(app: &App) -> Value {
    let s = &app.core.stats;
    let tables = app.core.tables.load();
    let mut operators = Vec::new();
    for (i, name) in tables.operators.iter().enumerate() {
        for (ci, ch) in ["sms", "voice"].iter().enumerate() {
            let l = &s.links[i][ci];
            let finals: serde_json::Map<String, Value> = l
                .finals()
                .into_iter()
                .map(|(st, n)| (st.as_str().to_owned(), json!(n)))
                .collect();
            operators.push(json!({
                "operator": &**name,
                "channel": ch,
                "queued": app.core.queues[i][ci].len(),
                "handed_off": l.handed_off.load(std::sync::atomic::Ordering::Relaxed),
                "retried": l.retried.load(std::sync::atomic::Ordering::Relaxed),
                "debited_tiyn": l.debited.load(std::sync::atomic::Ordering::Relaxed),
                "final": finals,
                "errors": l.errors(),
            }));
        }
    }
    // SMPP submit_sm -> submit_sm_resp over every operator's binds (exact, this run).
    let mut submit = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
        .expect("valid histogram bounds");
    for op in app.links.operators.lock().iter() {
        if let Some(sms) = &op.sms {
            let _ = submit.add(sms.submit_latency());
        }
    }
    json!({
        "accepted": s.accepted.load(std::sync::atomic::Ordering::Relaxed),
        "deferred_now": app.core.deferred_len(),
        "deferred_total": s.deferred.load(std::sync::atomic::Ordering::Relaxed),
        "insufficient_funds_total": s.funds_paused.load(std::sync::atomic::Ordering::Relaxed),
        "rejected": *s.rejected.lock(),
        "store_backlog": app.core.sink.pending() + app.store.pending_writes(),
        "latency_ms": {
            "sms_accept_to_handoff": s.accept_to_handoff[0].summary(),
            "sms_handoff_to_receipt": s.handoff_to_final[0].summary(),
            "smpp_submit_to_response": crate::stats::LatencySummary::of(&submit),
            "voice_accept_to_invite": s.accept_to_handoff[1].summary(),
            "voice_invite_to_end": s.handoff_to_final[1].summary(),
        },
        "operators": operators,
    })
}
