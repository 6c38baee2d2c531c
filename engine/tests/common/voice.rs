//! Voice for the loopback engine: one operator whose SIP trunk is the SIP UAS simulator, a
//! generated prompt, and the ledger read back from the SQLite store.

use super::{ACME, Engine};
use sendbox_sip_sim::{SimHandle, SipSim, SipSimBuilder};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The operator with the SIP trunk (DEF codes 707 and 747).
pub const SIP_OPERATOR: &str = "tele2";
/// Its fee per call attempt, answered or not.
pub const ATTEMPT_FEE: i64 = 500;
/// Its price per answered second.
pub const SECOND_PRICE: i64 = 30;

/// A SIP trunk simulator on 127.0.0.1, configured by `f`, running until the test ends.
pub async fn sip_sim(f: impl FnOnce(SipSimBuilder) -> SipSimBuilder) -> SimHandle {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    f(SipSim::builder().rtp_sockets(1))
        .build()
        .spawn(socket, std::future::pending())
        .unwrap()
}

/// Config for [`super::Opts::extra`]: the voice operator on `trunk`, its tariff, and
/// `[voice]` with at most 2 attempts `retry` apart and a 1 s minimum prompt.
pub fn extra(trunk: SocketAddr, retry: &str) -> &'static str {
    format!(
        r#"
[operators.{SIP_OPERATOR}]
name = "Tele2"
prefixes = ["707", "747"]
[operators.{SIP_OPERATOR}.sip]
host = "127.0.0.1"
port = {port}
from_uri = "sip:sendbox@127.0.0.1"
local_ip = "127.0.0.1"
max_calls_per_second = 100
ring_timeout = "5s"
min_ring_time = "1s"
rtp_port_min = 42100
rtp_port_max = 42199
[tariffs.{SIP_OPERATOR}]
call_attempt_tiyn = {ATTEMPT_FEE}
call_second_tiyn = {SECOND_PRICE}
billing_increment_seconds = 1
[voice]
min_prompt_seconds = 1
retry_interval = "{retry}"
max_attempts = 2
"#,
        port = trunk.port(),
    )
    .leak()
}

/// A 1.5 s 440 Hz tone as a 16-bit 8 kHz mono WAV.
pub fn prompt_wav() -> Vec<u8> {
    let rate = 8_000u32;
    let samples: Vec<u8> = (0..rate * 3 / 2)
        .flat_map(|i| {
            let t = i as f32 / rate as f32;
            let v = (std::f32::consts::TAU * 440.0 * t).sin() * 0.5 * f32::from(i16::MAX);
            (v as i16).to_le_bytes()
        })
        .collect();
    let mut w = Vec::with_capacity(44 + samples.len());
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    w.extend_from_slice(&samples);
    w
}

/// Upload [`prompt_wav`] as ACME; its audio id.
pub async fn upload_prompt(e: &Engine) -> String {
    let r = e
        .client
        .post(format!("{}/v1/audio?name=prompt.wav", e.api))
        .bearer_auth(ACME)
        .body(prompt_wav())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body["audio_id"].as_str().unwrap().to_owned()
}

/// Every debit in the ledger of the stopped engine's store in `dir`, per dispatch:
/// (ledger attempt, tiyn debited), in attempt order.
pub fn ledger_debits(dir: &std::path::Path) -> BTreeMap<u64, Vec<(u16, i64)>> {
    let db = rusqlite::Connection::open(dir.join("sendbox.db")).unwrap();
    let mut q = db
        .prepare(
            "SELECT dispatch_id, attempt, amount_tiyn FROM ledger
             WHERE kind = 'debit' AND dispatch_id IS NOT NULL ORDER BY dispatch_id, attempt",
        )
        .unwrap();
    let mut out: BTreeMap<u64, Vec<(u16, i64)>> = BTreeMap::new();
    let rows = q
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (id, attempt, amount) = row.unwrap();
        out.entry(id as u64)
            .or_default()
            .push((attempt as u16, -amount));
    }
    out
}
