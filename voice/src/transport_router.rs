//! The routing table shared by the UDP and TCP transports: messages from the trunk go to
//! their call by Call-ID; requests outside any call are answered here (OPTIONS keepalive
//! with 200, ACK ignored, anything else 481); responses for no call (late retransmissions
//! of a finished call) and unparsable messages are dropped and counted.

use crate::metrics as m;
use crate::sip::msg;
use bytes::Bytes;
use parking_lot::RwLock;
use rsip::{Method, SipMessage};
use std::collections::HashMap;
use tokio::sync::mpsc;

/// What a call's task receives from its transport.
// Nearly every value is a message; boxing it would add an allocation per message for the
// sake of the rare `TransportLost`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Inbound {
    /// A message with the call's Call-ID.
    Sip(SipMessage),
    /// The connection the call's requests went out on is gone (TCP only): pending
    /// transactions cannot complete.
    TransportLost,
}

/// Call-ID → call task.
#[derive(Debug)]
pub(crate) struct CallRouter {
    calls: RwLock<HashMap<String, mpsc::UnboundedSender<Inbound>>>,
    operator: String,
}

impl CallRouter {
    pub(crate) fn new(operator: String) -> Self {
        CallRouter {
            calls: RwLock::new(HashMap::new()),
            operator,
        }
    }

    pub(crate) fn register(&self, call_id: &str) -> mpsc::UnboundedReceiver<Inbound> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.calls.write().insert(call_id.to_string(), tx);
        rx
    }

    pub(crate) fn unregister(&self, call_id: &str) {
        self.calls.write().remove(call_id);
    }

    /// Tell every registered call that the connection is gone.
    pub(crate) fn transport_lost(&self) {
        for tx in self.calls.read().values() {
            let _ = tx.send(Inbound::TransportLost);
        }
    }

    /// Count a message that goes nowhere.
    pub(crate) fn dropped(&self) {
        metrics::counter!(m::SIP_DROPPED_TOTAL, "operator" => self.operator.clone()).increment(1);
    }

    /// Route one message from the trunk; returns the reply to send back, if any.
    pub(crate) fn route(&self, data: &[u8]) -> Option<Bytes> {
        let Ok(message) = msg::parse(data) else {
            tracing::debug!(len = data.len(), "Unparsable SIP message dropped.");
            self.dropped();
            return None;
        };
        let Ok(call_id) = msg::call_id(&message) else {
            self.dropped();
            return None;
        };
        let sender = self.calls.read().get(&call_id).cloned();
        let reply = |r: &rsip::Request, status| {
            Some(msg::encode(msg::response_to(
                r,
                status,
                Some(&msg::new_tag()),
            )))
        };
        match (sender, message) {
            (Some(tx), m) => match tx.send(Inbound::Sip(m)) {
                Err(mpsc::error::SendError(Inbound::Sip(SipMessage::Request(r))))
                    if r.method != Method::Ack =>
                {
                    reply(&r, 481)
                }
                _ => None,
            },
            (None, SipMessage::Request(r)) if r.method == Method::Options => reply(&r, 200),
            (None, SipMessage::Request(r)) if r.method == Method::Ack => None,
            (None, SipMessage::Request(r)) => reply(&r, 481),
            (None, SipMessage::Response(_)) => {
                self.dropped();
                None
            }
        }
    }
}
