//! A minimal ESME on rusmpp's own codec, for driving the simulator over loopback.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rusmpp::{
    Command, CommandStatus, Pdu,
    pdus::{BindReceiver, BindTransceiver, BindTransmitter, SubmitSm},
    tlvs::TlvValue,
    tokio_codec::CommandCodec,
    types::{COctetString, OctetString},
    values::{EsmClass, InterfaceVersion, RegisteredDelivery},
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Bound for every wait in these tests.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Esme {
    pub framed: Framed<TcpStream, CommandCodec>,
    pub seq: u32,
}

impl Esme {
    pub async fn connect(addr: std::net::SocketAddr) -> Esme {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Esme {
            framed: Framed::new(stream, CommandCodec::new()),
            seq: 0,
        }
    }

    pub fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    pub async fn send(&mut self, pdu: impl Into<Pdu>) -> u32 {
        let seq = self.next_seq();
        self.framed
            .send(Command::new(CommandStatus::EsmeRok, seq, pdu))
            .await
            .expect("send");
        seq
    }

    pub async fn send_command(&mut self, c: Command) {
        self.framed.send(c).await.expect("send");
    }

    /// The next command, failing the test after [`WAIT`].
    pub async fn recv(&mut self) -> Command {
        tokio::time::timeout(WAIT, self.framed.next())
            .await
            .expect("timed out waiting for a PDU")
            .expect("connection closed")
            .expect("decode error")
    }

    /// Whether the simulator closed the connection (within [`WAIT`]).
    pub async fn closed(&mut self) -> bool {
        matches!(
            tokio::time::timeout(WAIT, self.framed.next()).await,
            Ok(None)
        )
    }

    /// Binds as a transceiver (3.4) and returns the response status.
    pub async fn bind_trx(&mut self, system_id: &str, password: &str) -> CommandStatus {
        self.bind(Bind::Trx, system_id, password).await
    }

    pub async fn bind(&mut self, kind: Bind, system_id: &str, password: &str) -> CommandStatus {
        let sid = COctetString::from_str(system_id).unwrap();
        let pw = COctetString::from_str(password).unwrap();
        let v = InterfaceVersion::Smpp3_4;
        match kind {
            Bind::Trx => {
                self.send(
                    BindTransceiver::builder()
                        .system_id(sid)
                        .password(pw)
                        .interface_version(v)
                        .build(),
                )
                .await
            }
            Bind::Tx => {
                self.send(
                    BindTransmitter::builder()
                        .system_id(sid)
                        .password(pw)
                        .interface_version(v)
                        .build(),
                )
                .await
            }
            Bind::Rx => {
                self.send(
                    BindReceiver::builder()
                        .system_id(sid)
                        .password(pw)
                        .interface_version(v)
                        .build(),
                )
                .await
            }
        };
        self.recv().await.status()
    }

    /// Sends a submit_sm asking for a receipt; returns its sequence number.
    pub async fn submit(&mut self, dest: &str, text: &[u8]) -> u32 {
        let sm = submit_sm("sendbox", dest, text, 1);
        self.send(sm).await
    }

    /// Answers a deliver_sm.
    pub async fn ack(&mut self, c: &Command) {
        let resp = rusmpp::pdus::DeliverSmResp::builder().build();
        self.send_command(Command::new(
            CommandStatus::EsmeRok,
            c.sequence_number(),
            resp,
        ))
        .await;
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Bind {
    Trx,
    Tx,
    Rx,
}

pub fn submit_sm(source: &str, dest: &str, text: &[u8], registered_delivery: u8) -> SubmitSm {
    SubmitSm::builder()
        .source_addr(COctetString::from_str(source).unwrap())
        .destination_addr(COctetString::from_str(dest).unwrap())
        .esm_class(EsmClass::default())
        .registered_delivery(RegisteredDelivery::from(registered_delivery))
        .short_message(OctetString::from_slice(text).unwrap())
        .build()
}

/// The message_id of a submit_sm_resp.
pub fn message_id(c: &Command) -> String {
    match c.pdu() {
        Some(Pdu::SubmitSmResp(r)) => r.message_id().as_str().to_owned(),
        other => panic!("not a submit_sm_resp: {other:?}"),
    }
}

/// (esm_class, short_message text, receipted_message_id, message_state) of a deliver_sm.
pub fn receipt_parts(c: &Command) -> (u8, String, Option<String>, Option<u8>) {
    let Some(Pdu::DeliverSm(d)) = c.pdu() else {
        panic!("not a deliver_sm: {c:?}")
    };
    let (mut id, mut state) = (None, None);
    for t in d.tlvs() {
        match t.value() {
            Some(TlvValue::ReceiptedMessageId(v)) => id = Some(v.as_str().to_owned()),
            Some(TlvValue::MessageState(s)) => state = Some(u8::from(*s)),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(d.short_message().as_ref()).into_owned();
    (u8::from(d.esm_class), text, id, state)
}

/// Reads one raw PDU (length-prefixed) from a plain stream.
pub async fn read_raw_pdu(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    tokio::time::timeout(WAIT, stream.read_exact(&mut len))
        .await
        .expect("timeout")
        .expect("read");
    let n = u32::from_be_bytes(len) as usize;
    let mut rest = vec![0u8; n - 4];
    tokio::time::timeout(WAIT, stream.read_exact(&mut rest))
        .await
        .expect("timeout")
        .expect("read");
    let mut all = len.to_vec();
    all.extend(rest);
    all
}

/// Polls `f` until it holds (bounded by [`WAIT`]).
pub async fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
