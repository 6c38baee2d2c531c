//! Counting everything the simulator receives and sends, so tests can prove nothing was lost or
//! duplicated.
//!
//! Counters are relaxed atomics. Duplicate detection hashes (source, destination, short_message,
//! message_payload, SAR ref/seq) — the UDH with its concat ref and part number is part of
//! short_message — into sharded sets, merged once per read batch.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

/// A snapshot of the simulator's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Successful binds.
    pub binds: u64,
    /// Binds answered with an error.
    pub bind_rejects: u64,
    /// submit_sm PDUs received (including throttled, dropped and refused ones).
    pub submits_received: u64,
    /// submit_sm answered ESME_ROK.
    pub submits_accepted: u64,
    /// Distinct accepted messages.
    pub unique_messages: u64,
    /// Accepted messages seen before.
    pub duplicates: u64,
    /// submit_sm answered ESME_RTHROTTLED.
    pub throttled: u64,
    /// Connections closed by `drop_every` (the submit that triggered it is not accepted).
    pub dropped_connections: u64,
    /// Receipts (deliver_sm, esm_class 0x04) written, including redeliveries.
    pub receipts_sent: u64,
    /// deliver_sm_resp ESME_ROK for receipts.
    pub receipts_acked: u64,
    /// Receipts put back for redelivery because their connection closed unacknowledged.
    pub receipts_redelivered: u64,
    /// MO deliver_sm written.
    pub mo_sent: u64,
    /// deliver_sm_resp ESME_ROK for MO messages.
    pub mo_acked: u64,
    /// deliver_sm_resp with an error status.
    pub deliver_nacks: u64,
    /// unbind requests received.
    pub unbinds: u64,
    /// enquire_link requests received.
    pub enquire_links: u64,
    /// generic_nack sent by the simulator (unknown command or undecodable PDU).
    pub generic_nacks_sent: u64,
    /// generic_nack received from the client.
    pub generic_nacks_received: u64,
    /// Requests refused for bind state (submit before bind, on a receiver bind).
    pub invalid_bind_state: u64,
    /// Malformed PDUs written on purpose.
    pub malformed_sent: u64,
    /// enquire_link sent by the simulator.
    pub enquire_links_sent: u64,
    /// enquire_link_resp received.
    pub enquire_link_resps: u64,
    /// unbind sent by the simulator ([`crate::SimHandle::unbind_all`]).
    pub unbinds_sent: u64,
    /// unbind_resp received.
    pub unbind_resps: u64,
}

/// Live counters behind [`SimStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub connections: AtomicU64,
    pub binds: AtomicU64,
    pub bind_rejects: AtomicU64,
    pub submits_received: AtomicU64,
    pub submits_accepted: AtomicU64,
    pub unique_messages: AtomicU64,
    pub duplicates: AtomicU64,
    pub throttled: AtomicU64,
    pub dropped_connections: AtomicU64,
    pub receipts_sent: AtomicU64,
    pub receipts_acked: AtomicU64,
    pub receipts_redelivered: AtomicU64,
    pub mo_sent: AtomicU64,
    pub mo_acked: AtomicU64,
    pub deliver_nacks: AtomicU64,
    pub unbinds: AtomicU64,
    pub enquire_links: AtomicU64,
    pub generic_nacks_sent: AtomicU64,
    pub generic_nacks_received: AtomicU64,
    pub invalid_bind_state: AtomicU64,
    pub malformed_sent: AtomicU64,
    pub enquire_links_sent: AtomicU64,
    pub enquire_link_resps: AtomicU64,
    pub unbinds_sent: AtomicU64,
    pub unbind_resps: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> SimStats {
        let g = |c: &AtomicU64| c.load(Relaxed);
        SimStats {
            connections: g(&self.connections),
            binds: g(&self.binds),
            bind_rejects: g(&self.bind_rejects),
            submits_received: g(&self.submits_received),
            submits_accepted: g(&self.submits_accepted),
            unique_messages: g(&self.unique_messages),
            duplicates: g(&self.duplicates),
            throttled: g(&self.throttled),
            dropped_connections: g(&self.dropped_connections),
            receipts_sent: g(&self.receipts_sent),
            receipts_acked: g(&self.receipts_acked),
            receipts_redelivered: g(&self.receipts_redelivered),
            mo_sent: g(&self.mo_sent),
            mo_acked: g(&self.mo_acked),
            deliver_nacks: g(&self.deliver_nacks),
            unbinds: g(&self.unbinds),
            enquire_links: g(&self.enquire_links),
            generic_nacks_sent: g(&self.generic_nacks_sent),
            generic_nacks_received: g(&self.generic_nacks_received),
            invalid_bind_state: g(&self.invalid_bind_state),
            malformed_sent: g(&self.malformed_sent),
            enquire_links_sent: g(&self.enquire_links_sent),
            enquire_link_resps: g(&self.enquire_link_resps),
            unbinds_sent: g(&self.unbinds_sent),
            unbind_resps: g(&self.unbind_resps),
        }
    }
}

/// A submit_sm as the simulator saw it (kept when capture is on).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// The bind's system_id.
    pub system_id: String,
    /// source_addr.
    pub source: String,
    /// destination_addr.
    pub dest: String,
    /// data_coding.
    pub data_coding: u8,
    /// esm_class (0x40: UDH present).
    pub esm_class: u8,
    /// registered_delivery.
    pub registered_delivery: u8,
    /// short_message octets, UDH included.
    pub short_message: Vec<u8>,
    /// The message_payload TLV, if any.
    pub message_payload: Option<Vec<u8>>,
    /// (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum) when all three TLVs are present.
    pub sar: Option<(u16, u8, u8)>,
    /// Tags of every TLV in the PDU, in order.
    pub tlv_tags: Vec<u16>,
    /// The message_id the simulator answered with (empty when not accepted).
    pub message_id: String,
}

/// The key identifying a message for duplicate detection.
pub(crate) fn message_key(
    source: &[u8],
    dest: &[u8],
    short_message: &[u8],
    payload: Option<&[u8]>,
    sar: Option<(u16, u8, u8)>,
) -> u64 {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    dest.hash(&mut h);
    short_message.hash(&mut h);
    payload.hash(&mut h);
    sar.hash(&mut h);
    h.finish()
}

const SHARDS: usize = 16;

/// Sharded set of seen message keys.
#[derive(Debug)]
pub(crate) struct Dedup {
    shards: Vec<Mutex<HashSet<u64>>>,
}

impl Default for Dedup {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashSet::new())).collect(),
        }
    }
}

impl Dedup {
    /// Records a batch of keys (drained from `keys`); returns (new, duplicates).
    pub fn record(&self, keys: &mut Vec<u64>) -> (u64, u64) {
        let (mut fresh, mut dup) = (0, 0);
        for k in keys.drain(..) {
            if self.shards[(k as usize) % SHARDS].lock().insert(k) {
                fresh += 1;
            } else {
                dup += 1;
            }
        }
        (fresh, dup)
    }
}

/// Bounded capture of received submits.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    pub limit: usize,
    pub items: Mutex<Vec<Received>>,
}

impl Capture {
    pub fn enabled(&self) -> bool {
        self.limit > 0
    }

    pub fn push(&self, r: Received) {
        let mut items = self.items.lock();
        if items.len() < self.limit {
            items.push(r);
        }
    }
}
