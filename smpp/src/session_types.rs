//! The session's vocabulary: its settings, states, inputs, events and errors.

use crate::frame::Header;
use crate::pdu::Deliver;
use bytes::{Bytes, BytesMut};
use std::time::Duration;

/// Largest sequence number (SMPP: 0x00000001..=0x7FFFFFFF).
pub const MAX_SEQ: u32 = 0x7FFF_FFFF;

/// Which bind PDU the session sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    /// bind_transceiver: submits and receipts on one connection.
    Transceiver,
    /// bind_transmitter: submits only.
    Transmitter,
    /// bind_receiver: receipts and incoming messages only.
    Receiver,
}

/// The session's settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The bind PDU.
    pub kind: BindKind,
    /// `system_id`.
    pub system_id: String,
    /// `password`.
    pub password: String,
    /// `system_type`.
    pub system_type: String,
    /// `interface_version` (0x34 or 0x50).
    pub interface_version: u8,
    /// `addr_ton`.
    pub addr_ton: u8,
    /// `addr_npi`.
    pub addr_npi: u8,
    /// `address_range`.
    pub address_range: String,
    /// Most submits outstanding at once.
    pub window: usize,
    /// Send enquire_link after this long without receiving anything.
    pub enquire_link: Duration,
    /// How long a request waits for its response.
    pub response_timeout: Duration,
    /// Largest PDU accepted.
    pub max_pdu_len: usize,
}

impl SessionConfig {
    /// Defaults: SMPP 3.4, window 64, enquire_link 30 s, response timeout 10 s, 64 KiB PDUs.
    pub fn new(kind: BindKind, system_id: &str, password: &str) -> Self {
        SessionConfig {
            kind,
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
            window: 64,
            enquire_link: Duration::from_secs(30),
            response_timeout: Duration::from_secs(10),
            max_pdu_len: 64 * 1024,
        }
    }
}

/// Session state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No connection, or the session ended.
    Closed,
    /// The bind was sent; waiting for its response.
    Binding,
    /// Bound: submits may flow.
    Bound,
    /// Our unbind was sent; waiting for unbind_resp.
    Unbinding,
}

/// What happens to the session.
#[derive(Debug)]
pub enum Input<'a> {
    /// The transport connected: the session sends its bind.
    Connected,
    /// Bytes arrived; complete PDUs are taken out of the buffer, a partial one stays.
    Received(&'a mut BytesMut),
    /// The transport closed or failed.
    Disconnected,
}

/// Why a session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The SMSC refused the bind with this status (0x0D bind failed, 0x0E bad password,
    /// 0x0F bad system_id, 0x05 already bound...).
    BindRejected(u32),
    /// No bind response in time.
    BindTimeout,
    /// The SMSC sent unbind (answered).
    PeerUnbind,
    /// Our unbind completed (or timed out).
    Unbound,
    /// No enquire_link_resp in time: the peer is gone.
    KeepaliveTimeout,
    /// The transport went away.
    Disconnected,
    /// A command_length below 16: the stream cannot be framed any more.
    Unframeable(u32),
}

/// What the session reports.
#[derive(Debug)]
pub enum Event {
    /// The bind succeeded.
    Bound,
    /// A submit was answered (submit_sm_resp, or generic_nack with its status).
    Response {
        /// The caller's token for the submit.
        token: u64,
        /// `command_status`.
        status: u32,
        /// The SMSC's `message_id` (empty when there is none).
        message_id: Bytes,
        /// How long the submit waited for this response (submit-to-response latency).
        waited: std::time::Duration,
    },
    /// A submit had no response within the timeout.
    Timeout {
        /// The caller's token.
        token: u64,
    },
    /// The session closed with this submit unanswered.
    Lost {
        /// The caller's token.
        token: u64,
    },
    /// A deliver_sm (already answered with deliver_sm_resp).
    Deliver(Box<Deliver>),
    /// A PDU neither decoder could read (answered as the spec says); the session goes on.
    Malformed(Header),
    /// The session closed; the driver drops the connection.
    Closed(CloseReason),
}

/// Why a submit could not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The session is not bound (or is a receiver).
    #[error("the session is not bound for submits")]
    NotBound,
    /// `window` submits are outstanding.
    #[error("the window is full")]
    WindowFull,
}
