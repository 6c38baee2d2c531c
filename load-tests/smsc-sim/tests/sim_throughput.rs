//! Throughput of the simulator with 12 binds of pipelining raw-byte ESMEs (stress; `#[ignore]`).
//!
//! `cargo test --release -p sendbox-smsc-sim --test sim_throughput -- --ignored --nocapture`

use std::time::Duration;

use bytes::{Buf, BytesMut};
use sendbox_smsc_sim::SmscSim;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BINDS: usize = 12;
const PER_BIND: u32 = 100_000;
const WINDOW: u32 = 512;

fn bind_pdu() -> Vec<u8> {
    let body = b"a\0b\0\0\x34\0\0\0";
    let mut pdu = ((16 + body.len()) as u32).to_be_bytes().to_vec();
    pdu.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1]);
    pdu.extend_from_slice(body);
    pdu
}

/// A submit_sm template; the text's first 8 octets are patched with a counter so every message
/// is distinct.
fn submit_template(registered_delivery: u8) -> Vec<u8> {
    let text = b"00000000 Your code is 482913. Do not share it.";
    let mut body = b"\0\x05\x00SENDBOX\0\x01\x0177011234567\0".to_vec();
    body.extend_from_slice(&[
        0,
        0,
        0,
        0,
        0,
        registered_delivery,
        0,
        0,
        0,
        text.len() as u8,
    ]);
    body.extend_from_slice(text);
    let mut pdu = ((16 + body.len()) as u32).to_be_bytes().to_vec();
    pdu.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    pdu.extend(body);
    pdu
}

/// Sends `PER_BIND` submits with a window, acks receipts; returns (responses, receipts).
async fn esme(addr: std::net::SocketAddr, bind_no: usize, receipts: bool) -> (u32, u32) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(&bind_pdu()).await.unwrap();
    let mut resp = [0u8; 64];
    let n = s.read(&mut resp).await.unwrap();
    assert!(n >= 16 && resp[11] == 0, "bind failed");
    let (mut rd, mut wr) = s.into_split();
    let template = submit_template(u8::from(receipts));
    let text_at = template.len() - 46;
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let credit = std::sync::Arc::new(tokio::sync::Semaphore::new(WINDOW as usize));
    let credit_w = credit.clone();
    let writer = tokio::spawn(async move {
        let mut out = BytesMut::with_capacity(256 * 1024);
        let mut sent = 0u32;
        while sent < PER_BIND || !ack_rx.is_closed() {
            let mut wrote = false;
            while let Ok(seq) = ack_rx.try_recv() {
                out.extend_from_slice(&[0, 0, 0, 17, 0x80, 0, 0, 5, 0, 0, 0, 0]);
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&[0]);
                wrote = true;
            }
            while sent < PER_BIND {
                let Ok(permit) = credit_w.try_acquire() else {
                    break;
                };
                permit.forget();
                sent += 1;
                let at = out.len();
                out.extend_from_slice(&template);
                out[at + 12..at + 16].copy_from_slice(&sent.to_be_bytes());
                let tag = format!("{:08}", (bind_no as u32) * PER_BIND + sent);
                out[at + text_at..at + text_at + 8].copy_from_slice(tag.as_bytes());
                wrote = true;
            }
            if !out.is_empty() {
                wr.write_all_buf(&mut out).await.unwrap();
            }
            if !wrote {
                tokio::select! {
                    Some(seq) = ack_rx.recv() => {
                        out.extend_from_slice(&[0, 0, 0, 17, 0x80, 0, 0, 5, 0, 0, 0, 0]);
                        out.extend_from_slice(&seq.to_be_bytes());
                        out.extend_from_slice(&[0]);
                    }
                    _ = credit_w.acquire(), if sent < PER_BIND => {}
                    else => break,
                }
            }
        }
    });
    let mut buf = BytesMut::with_capacity(256 * 1024);
    let (mut resps, mut dlrs) = (0u32, 0u32);
    while resps < PER_BIND || (receipts && dlrs < PER_BIND) {
        if rd.read_buf(&mut buf).await.unwrap() == 0 {
            panic!("closed");
        }
        while buf.len() >= 16 {
            let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            if buf.len() < len {
                break;
            }
            let id = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let seq = u32::from_be_bytes([buf[12], buf[13], buf[14], buf[15]]);
            match id {
                0x8000_0004 => {
                    resps += 1;
                    credit.add_permits(1);
                }
                0x0000_0005 => {
                    dlrs += 1;
                    ack_tx.send(seq).unwrap();
                }
                other => panic!("unexpected {other:#x}"),
            }
            buf.advance(len);
        }
    }
    drop(ack_tx);
    writer.await.unwrap();
    (resps, dlrs)
}

async fn measure(receipts: bool) {
    let sim = SmscSim::builder().spawn().await.unwrap();
    #[allow(clippy::disallowed_methods)] // wall-clock measurement in a stress test
    let t0 = std::time::Instant::now();
    let tasks: Vec<_> = (0..BINDS)
        .map(|i| tokio::spawn(esme(sim.addr(), i, receipts)))
        .collect();
    let mut total = (0, 0);
    for t in tasks {
        let (r, d) = tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .unwrap()
            .unwrap();
        total.0 += r;
        total.1 += d;
    }
    let secs = t0.elapsed().as_secs_f64();
    let s = sim.stats();
    println!(
        "receipts={receipts}: {} submits in {secs:.2}s = {:.0} submit_sm/s ({} receipts acked), unique {} dup {}",
        total.0,
        f64::from(total.0) / secs,
        s.receipts_acked,
        s.unique_messages,
        s.duplicates
    );
    assert_eq!(s.unique_messages, u64::from(PER_BIND) * BINDS as u64);
    assert_eq!(s.duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run in release with --ignored --nocapture"]
async fn twelve_binds_without_receipts() {
    measure(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run in release with --ignored --nocapture"]
async fn twelve_binds_with_receipts() {
    measure(true).await;
}
