//! SMPP hot paths without sockets: the session's submit → submit_sm_resp round trip, and the
//! receipt path (deliver_sm decode, receipt text, id normalisation, correlation).
//!
//! `cargo bench -p sendbox-benches --features smpp --bench smpp -- --warm-up-time 1 --measurement-time 3`

use bytes::{BufMut, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sendbox_dispatch::{ids::*, model::*};
use sendbox_smpp::config::IdBase;
use sendbox_smpp::correlate::Correlator;
use sendbox_smpp::dlr::{MsgKey, parse_text};
use sendbox_smpp::pdu::SubmitSm;
use sendbox_smpp::session::{BindKind, Event, Input, Session, SessionConfig};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const WINDOW: usize = 256;

fn header(dst: &mut BytesMut, len: usize, id: u32, seq: u32) {
    dst.put_u32(len as u32);
    dst.put_u32(id);
    dst.put_u32(0);
    dst.put_u32(seq);
}

fn bound_session() -> Session {
    let mut cfg = SessionConfig::new(BindKind::Transceiver, "esme", "pw");
    cfg.window = WINDOW;
    let mut s = Session::new(cfg);
    let now = Instant::now();
    s.handle_input(now, Input::Connected);
    let mut out = BytesMut::new();
    s.poll_transmit(&mut out);
    let seq = u32::from_be_bytes([out[12], out[13], out[14], out[15]]);
    let mut resp = BytesMut::new();
    header(&mut resp, 21, 0x8000_0009, seq);
    resp.put_slice(b"smsc\0");
    s.handle_input(now, Input::Received(&mut resp));
    while s.poll_event().is_some() {}
    s
}

fn submit_round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("smpp_session");
    g.throughput(Throughput::Elements(WINDOW as u64));
    let m = SubmitSm {
        source_ton: 5,
        source_npi: 0,
        source_addr: b"SHOP",
        dest_addr: b"77011234567",
        esm_class: 0,
        registered_delivery: 1,
        data_coding: 0,
        validity_period: b"",
        short_message: b"Your code is 123456. Do not share it.",
        payload: false,
        sar: None,
    };
    let mut s = bound_session();
    let (mut out, mut resp) = (
        BytesMut::with_capacity(1 << 16),
        BytesMut::with_capacity(1 << 16),
    );
    g.bench_function("submit_and_response_window_256", |b| {
        b.iter(|| {
            let now = Instant::now();
            for t in 0..WINDOW as u64 {
                s.submit(now, t, &m).expect("window has room");
            }
            out.clear();
            s.poll_transmit(&mut out);
            // The SMSC's side: a submit_sm_resp for every submit (a fixed-size message id).
            let mut at = 0;
            while at + 16 <= out.len() {
                let len =
                    u32::from_be_bytes([out[at], out[at + 1], out[at + 2], out[at + 3]]) as usize;
                let seq =
                    u32::from_be_bytes([out[at + 12], out[at + 13], out[at + 14], out[at + 15]]);
                header(&mut resp, 16 + 11, 0x8000_0004, seq);
                resp.put_slice(b"0123456789\0");
                at += len;
            }
            s.handle_input(now, Input::Received(&mut resp));
            let mut n = 0;
            while let Some(e) = s.poll_event() {
                if matches!(e, Event::Response { .. }) {
                    n += 1;
                }
            }
            assert_eq!(n, WINDOW);
        })
    });
    g.finish();
}

fn receipt_frame(dst: &mut BytesMut, seq: u32, id: &str) {
    let text = format!(
        "id:{id} sub:001 dlvrd:001 submit date:2511251200 done date:2511251201 stat:DELIVRD err:000 text:Your code"
    );
    let mut body = BytesMut::new();
    body.put_slice(b"\0\x01\x0177011234567\0\x05\x00SHOP\0");
    body.put_slice(&[0x04, 0, 0]);
    body.put_slice(b"\0\0");
    body.put_slice(&[0, 0, 0, 0, text.len() as u8]);
    body.put_slice(text.as_bytes());
    body.put_u16(0x001E);
    body.put_u16(id.len() as u16 + 1);
    body.put_slice(id.as_bytes());
    body.put_u8(0);
    body.put_u16(0x0427);
    body.put_u16(1);
    body.put_u8(2);
    header(dst, 16 + body.len(), 0x0000_0005, seq);
    dst.put_slice(&body);
}

fn receipt_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("smpp_receipts");
    g.throughput(Throughput::Elements(WINDOW as u64));
    let content = Arc::new(Content::Sms(SmsContent {
        sender: "SHOP".into(),
        text: "hi".into(),
        segments: 1,
    }));
    let ready = |id: u64| Ready {
        id: DispatchId(id),
        account: AccountId(0),
        campaign: None,
        operator: OperatorId(0),
        msisdn: 77011234567,
        class: TrafficClass::Service,
        content: content.clone(),
        attempt: 1,
        retries: 0,
        reserved: 0,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    };
    let ids: Vec<String> = (0..WINDOW)
        .map(|i| format!("{:016x}", 0xABC0_0000u64 + i as u64))
        .collect();
    let mut frames = BytesMut::new();
    for (i, id) in ids.iter().enumerate() {
        receipt_frame(&mut frames, i as u32 + 1, id);
    }
    let mut s = bound_session();
    let mut corr = Correlator::new(Duration::from_secs(3600), Duration::from_secs(60));
    let mut out = BytesMut::with_capacity(1 << 16);
    g.bench_function("deliver_sm_decode_parse_correlate_256", |b| {
        b.iter_batched(
            || frames.clone(),
            |mut input| {
                let now = Instant::now();
                for (i, id) in ids.iter().enumerate() {
                    corr.register(
                        now,
                        ready(i as u64),
                        vec![MsgKey::new(id.as_bytes(), IdBase::Text)],
                    );
                }
                s.handle_input(now, Input::Received(&mut input));
                let mut done = 0;
                while let Some(e) = s.poll_event() {
                    if let Event::Deliver(d) = e {
                        let r = parse_text(d.text()).expect("receipt text");
                        let id = d.receipted_message_id.as_deref().unwrap_or(r.id);
                        let m = corr.on_receipt(now, MsgKey::new(id, IdBase::Text), r.stat, r.err);
                        black_box(&m);
                        done += 1;
                    }
                }
                assert_eq!(done, WINDOW);
                out.clear();
                s.poll_transmit(&mut out);
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, submit_round_trip, receipt_path);
criterion_main!(benches);
