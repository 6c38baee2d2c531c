//! The SMSC→ESME direction of one connection: deliver_sm (receipts and MO) with a window, their
//! acknowledgements, and redelivery of what was never acknowledged.

use std::cmp::Reverse;

use bytes::Bytes;
use rusmpp::CommandStatus;

use crate::receipt;
use crate::server::{DeliverKind, Outbound};
use crate::session::{BindKind, Delayed, Session};
use crate::stats::bump;

impl Session {
    /// Writes a deliver_sm with a fresh sequence number and remembers it until acknowledged; holds
    /// it while `deliver_window` deliver_sm are unacknowledged.
    pub(crate) fn write_deliver(&mut self, o: Outbound) {
        if self
            .shared
            .cfg
            .deliver_window
            .is_some_and(|w| self.outstanding.len() >= w)
        {
            self.held.push_back(o);
            return;
        }
        let seq = self.take_seq();
        receipt::put_with_seq(&mut self.out, &o.pdu, seq);
        let c = &self.shared.counters;
        match o.kind {
            DeliverKind::Receipt => bump(&c.receipts_sent),
            DeliverKind::Mo => bump(&c.mo_sent),
        }
        self.outstanding.insert(seq, o);
    }

    /// Counts a deliver_sm_resp and lets the next held deliver_sm out.
    pub(crate) fn on_deliver_resp(&mut self, seq: u32, status: CommandStatus) {
        let c = &self.shared.counters;
        let Some(o) = self.outstanding.remove(&seq) else {
            return;
        };
        match (status == CommandStatus::EsmeRok, o.kind) {
            (true, DeliverKind::Receipt) => bump(&c.receipts_acked),
            (true, DeliverKind::Mo) => bump(&c.mo_acked),
            (false, _) => bump(&c.deliver_nacks),
        }
        if let Some(next) = self.held.pop_front() {
            self.write_deliver(next);
        }
    }

    /// Sends a receipt on this bind if it can receive, else through another bind of the same system_id.
    pub(crate) fn deliver_receipt(&mut self, pdu: Bytes) {
        let o = Outbound {
            kind: DeliverKind::Receipt,
            pdu,
            system_id: self.system_id.clone(),
        };
        if self.bind == Some(BindKind::Transceiver) {
            self.write_deliver(o);
        } else {
            self.shared.route(o);
        }
    }

    /// Puts unacknowledged, held and not-yet-due deliver_sm back for another bind (an SMSC
    /// redelivers them).
    pub(crate) fn requeue_unacked(&mut self) {
        let c = &self.shared.counters;
        for (_, o) in self.outstanding.drain() {
            if o.kind == DeliverKind::Receipt {
                bump(&c.receipts_redelivered);
            }
            self.shared.route(o);
        }
        for o in self.held.drain(..) {
            self.shared.route(o);
        }
        while let Some(Reverse(t)) = self.timers.pop() {
            if let Delayed::Receipt(pdu) = t.what {
                let system_id = self.system_id.clone();
                self.shared.route(Outbound {
                    kind: DeliverKind::Receipt,
                    pdu,
                    system_id,
                });
            }
        }
    }
}
