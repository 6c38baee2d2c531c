//! One call's task: drives a [`Call`] with the trunk socket, its timers, its media events and
//! the shutdown signal, then reports the outcome.

use super::*;

pub(super) async fn call_task(
    ctx: Arc<Ctx>,
    d: Ready,
    voice: VoiceContent,
    pair: RtpPair,
    lease: PortLease,
    shutdown: CancellationToken,
) {
    let params = CallParams {
        from_uri: ctx.cfg.from_uri.clone(),
        to_uri: format!(
            "sip:{}@{}:{}{}",
            d.msisdn,
            ctx.cfg.host,
            ctx.cfg.port,
            ctx.cfg.transport.uri_param()
        ),
        local_sip: ctx.transport.local_addr(),
        rtp_addr: pair.addr,
        t1: ctx.cfg.t1,
        ring_timeout: ctx.cfg.ring_timeout,
        min_ring_time: ctx.cfg.min_ring_time,
        credentials: ctx.credentials.clone(),
        prompt_ms: voice.prompt_ms(),
        repeat: voice.repeat,
    };
    let mut call = match Call::over(params, ctx.transport.kind()) {
        Ok(c) => c,
        Err(e) => {
            let o = Outcome::simple(
                FinalState::Failed,
                Some(format!("voice: {e}")),
                ctx.clock.now(),
            );
            ctx.events.finished(d, o);
            release(&ctx);
            return;
        }
    };
    let call_id = call.call_id().to_string();
    let mut sip_rx = ctx.transport.register(&call_id);
    let (media_tx, mut media_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut media_tx = Some(media_tx);
    let mut media_open = true;
    let mut sockets = Some(pair);
    let mut stream: Option<(usize, StreamId)> = None;
    let mut dispatch = Some(d);
    let mut hung_up = false;
    let mut invite_at = None;

    call.start(Instant::now());
    loop {
        while let Some(o) = call.poll_output() {
            match o {
                CallOutput::Transmit(b) => {
                    if let Err(e) = ctx.transport.send(&b).await {
                        tracing::debug!(error = %e, "SIP send failed.");
                        // Over TCP nothing retransmits: the transaction fails now. (Over UDP
                        // a lost datagram is what Timer A/E are for.)
                        if ctx.transport.kind().is_reliable() {
                            call.handle_transport_error(Instant::now());
                        }
                    }
                }
                CallOutput::InviteSent => {
                    invite_at = Some(Instant::now());
                    metrics::counter!(m::CALLS_STARTED_TOTAL, "operator" => ctx.operator.clone())
                        .increment(1);
                    if let Some(d) = &dispatch {
                        let h = Handoff {
                            at: ctx.clock.now(),
                            units: 1,
                            operator_ref: call_id.clone(),
                        };
                        ctx.events.handed_off(d, h);
                    }
                }
                CallOutput::Ringing => {
                    if let Some(t) = invite_at {
                        metrics::histogram!(m::SETUP_SECONDS, "operator" => ctx.operator.clone())
                            .record(t.elapsed().as_secs_f64());
                    }
                }
                CallOutput::StartMedia(a) => {
                    if let (Some(p), Some(tx)) = (sockets.take(), media_tx.take()) {
                        let i = ctx.next_pacer.fetch_add(1, Ordering::Relaxed) % ctx.pacers.len();
                        let spec = StreamSpec::random(voice.alaw.clone(), voice.repeat, a.codec);
                        let media = MediaStream {
                            rtp: p.rtp,
                            rtcp: p.rtcp,
                            remote: a.remote,
                            dtmf_pt: a.dtmf_pt,
                            events: tx,
                        };
                        stream = Some((i, ctx.pacers[i].start(spec, media)));
                    }
                }
                CallOutput::MediaChanged(a) => {
                    if let Some((i, id)) = stream {
                        ctx.pacers[i].retarget(id, a);
                    }
                }
                CallOutput::StopMedia => {
                    if let Some((i, id)) = stream.take() {
                        ctx.pacers[i].stop(id);
                    }
                }
                CallOutput::Ended(e) => {
                    if let Some(d) = dispatch.take() {
                        report(&ctx, d, &voice, *e);
                    }
                }
            }
        }
        if call.is_finished() {
            break;
        }
        let deadline = call.poll_timeout();
        tokio::select! {
            m = sip_rx.recv() => match m {
                Some(Inbound::Sip(m)) => call.handle_sip(Instant::now(), m),
                Some(Inbound::TransportLost) => call.handle_transport_error(Instant::now()),
                None => break,
            },
            ev = media_rx.recv(), if media_open => match ev {
                Some(MediaEvent::PromptDone) => call.handle_media_done(Instant::now()),
                Some(MediaEvent::Digit(c, at)) => call.handle_digit(c, at),
                None => media_open = false,
            },
            () = sleep_until(deadline), if deadline.is_some() => call.handle_timeout(Instant::now()),
            () = shutdown.cancelled(), if !hung_up => {
                hung_up = true;
                call.hangup(Instant::now());
            }
        }
    }
    if let Some((i, id)) = stream {
        ctx.pacers[i].stop(id);
    }
    let retransmits = call.retransmits();
    if retransmits > 0 {
        metrics::counter!(m::SIP_RETRANSMITS_TOTAL, "operator" => ctx.operator.clone())
            .increment(u64::from(retransmits));
    }
    ctx.transport.unregister(&call_id);
    if let Some(d) = dispatch {
        // The loop can only end without a report if the transport went away mid-call.
        let o = Outcome::simple(
            FinalState::Failed,
            Some("voice: transport closed".into()),
            ctx.clock.now(),
        );
        ctx.events.finished(d, o);
    }
    drop(sockets);
    drop(lease);
    release(&ctx);
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn release(ctx: &Ctx) {
    let n = ctx
        .shared
        .active
        .fetch_sub(1, Ordering::AcqRel)
        .saturating_sub(1);
    metrics::gauge!(m::CALLS_ACTIVE, "operator" => ctx.operator.clone()).set(n as f64);
    ctx.shared.ended.notify_waiters();
}

/// The wall-clock time of a monotonic instant in the past.
fn wall_of(clock: &dyn WallClock, t: Instant) -> jiff::Timestamp {
    let now = clock.now();
    let ago = Instant::now().saturating_duration_since(t);
    now.checked_sub(ago).unwrap_or(now)
}

fn report(ctx: &Ctx, mut d: Ready, voice: &VoiceContent, e: CallEnd) {
    let label = if e.retry && d.attempt < ctx.cfg.max_attempts {
        "retry"
    } else {
        e.state.as_str()
    };
    metrics::counter!(m::CALLS_ENDED_TOTAL, "operator" => ctx.operator.clone(), "result" => label)
        .increment(1);
    if label == "retry" {
        d.attempt += 1;
        d.retries = 0;
        ctx.events
            .retry(d, ctx.cfg.retry_interval, RetryReason::NewAttempt);
        return;
    }
    let clock = ctx.clock.as_ref();
    let wall = |t: Option<Instant>| t.map(|t| wall_of(clock, t));
    let detail = CallDetail {
        invite_at: wall(e.times.invite),
        ring_at: wall(e.times.ring),
        answer_at: wall(e.times.answer),
        end_at: wall(e.times.end),
        sip_status: e.sip_status,
        digits: e.digits,
        heard_ms: e.heard_ms,
        prompt_ms: voice.prompt_ms(),
    };
    let outcome = Outcome {
        state: e.state,
        error: e.error,
        billable_seconds: e.billable_seconds,
        at: clock.now(),
        call: Some(Box::new(detail)),
    };
    ctx.events.finished(d, outcome);
}
