//! Voice hot paths, sans IO: the RTP pacer wheel (one 20 ms period of 5,000 streams, no
//! sockets) and one whole call through the SIP core (INVITE, 100, 180, 200 + SDP, ACK, BYE,
//! 200), every message encoded and parsed with rsip as on the wire.
//!
//! `cargo bench -p sendbox-benches --features voice --bench voice -- --warm-up-time 1 --measurement-time 3`
//!
//! The pacer's times are the bench thread's CPU time (`/proc/thread-self/schedstat`, which
//! moves in scheduler ticks, so it is used only for the long pacer iterations): the machine is
//! shared and wall time mostly measures other jobs. The call bench is wall time (an upper
//! bound), and includes building and encoding the fake UAS's responses.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendbox_voice::call::{Call, CallOutput, CallParams};
use sendbox_voice::rtp::pacer::{Pacer, StreamId, StreamSpec};
use sendbox_voice::sdp::Codec;
use sendbox_voice::sip::msg;
use std::hint::black_box;
use std::time::Duration;
use tokio::time::Instant;

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn pacer(c: &mut Criterion) {
    const STREAMS: u64 = 5000;
    let mut g = c.benchmark_group("voice_pacer");
    g.throughput(Throughput::Elements(STREAMS));
    g.bench_function("period_5000_streams", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            let mut p = Pacer::new(t0);
            let prompt = bytes::Bytes::from(vec![0xd5; 8000 * 600]);
            for i in 0..STREAMS {
                p.add(
                    t0,
                    StreamId(i),
                    StreamSpec::random(prompt.clone(), 1, Codec::Pcma),
                );
            }
            let mut now = t0;
            let start = cpu_ns();
            for _ in 0..iters {
                now += Duration::from_millis(20);
                p.handle_timeout(now, Duration::ZERO, |id, _, bytes| {
                    black_box((id, bytes.len()));
                });
            }
            Duration::from_nanos(cpu_ns() - start)
        })
    });
    g.finish();
}

fn one_call(t0: Instant) {
    let p = CallParams {
        from_uri: "sip:777@127.0.0.1".into(),
        to_uri: "sip:77011234567@127.0.0.1:5090".into(),
        local_sip: "127.0.0.1:5060".parse().unwrap(),
        rtp_addr: "127.0.0.1:20000".parse().unwrap(),
        t1: Duration::from_millis(500),
        ring_timeout: Duration::from_secs(45),
        min_ring_time: Duration::from_secs(20),
        credentials: None,
        prompt_ms: 1000,
        repeat: 1,
    };
    let mut call = Call::new(p).unwrap();
    call.start(t0);
    let mut wire = Vec::new();
    let drain = |call: &mut Call, wire: &mut Vec<bytes::Bytes>| {
        while let Some(o) = call.poll_output() {
            if let CallOutput::Transmit(b) = o {
                wire.push(b);
            }
        }
    };
    drain(&mut call, &mut wire);
    let Ok(rsip::SipMessage::Request(invite)) = msg::parse(&wire[0]) else {
        panic!("INVITE")
    };
    for status in [100u16, 180, 200] {
        let mut r = msg::response_to(&invite, status, Some("uas"));
        if status == 200 {
            msg::push::<rsip::headers::Contact>(&mut r.headers, "<sip:uas@127.0.0.1:5090>");
            r.body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\n".to_vec();
        }
        let bytes = msg::encode(r);
        call.handle_sip(t0, msg::parse(&bytes).unwrap());
    }
    drain(&mut call, &mut wire);
    call.handle_media_done(t0);
    drain(&mut call, &mut wire);
    let Ok(rsip::SipMessage::Request(bye)) = msg::parse(wire.last().unwrap()) else {
        panic!("BYE")
    };
    let ok = msg::encode(msg::response_to(&bye, 200, None));
    call.handle_sip(t0, msg::parse(&ok).unwrap());
    drain(&mut call, &mut wire);
    assert!(call.is_done());
    black_box(wire);
}

fn call_setup(c: &mut Criterion) {
    let mut g = c.benchmark_group("voice_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("full_call_sip_core_with_fake_uas", |b| {
        let t0 = Instant::now();
        b.iter(|| one_call(t0))
    });
    g.finish();
}

criterion_group!(benches, pacer, call_setup);
criterion_main!(benches);
