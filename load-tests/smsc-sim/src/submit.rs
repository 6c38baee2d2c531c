//! submit_sm handling: bind-state check, connection drops, throttling, acceptance, receipts.
//!
//! Order of decisions for one submit_sm: refused for bind state (0x04) → connection dropped
//! (`drop_every`, unanswered) → throttled (`throttle_every`, `throttle_above_tps`: 0x58) → accepted
//! (ESME_ROK with a fresh message_id; counted for duplicates; receipt per registered_delivery).

use std::cmp::Reverse;
use std::sync::atomic::Ordering::Relaxed;

use rusmpp::{pdus::SubmitSm, tlvs::TlvValue};
use tokio::time::Instant;

use crate::config::{Malformed, Stat};
use crate::receipt::{self, ReceiptInput};
use crate::session::{BindKind, Delayed, Session, Timed};
use crate::stats::{Received, bump, message_key};
use crate::wire;

/// The SMPP fields of a submit the simulator looks at.
struct Fields<'a> {
    source: &'a [u8],
    dest: &'a [u8],
    short_message: &'a [u8],
    payload: Option<&'a [u8]>,
    sar: Option<(u16, u8, u8)>,
    esm_class: u8,
    data_coding: u8,
    registered_delivery: u8,
}

fn fields(sm: &SubmitSm) -> Fields<'_> {
    let (mut payload, mut r, mut t, mut s) = (None, None, None, None);
    for tlv in sm.tlvs() {
        match tlv.value() {
            Some(TlvValue::MessagePayload(p)) => payload = Some(p.value.as_ref()),
            Some(TlvValue::SarMsgRefNum(v)) => r = Some(*v),
            Some(TlvValue::SarTotalSegments(v)) => t = Some(*v),
            Some(TlvValue::SarSegmentSeqnum(v)) => s = Some(*v),
            _ => {}
        }
    }
    let source: &[u8] = sm.source_addr.as_ref();
    let dest: &[u8] = sm.destination_addr.as_ref();
    Fields {
        // C-strings carry their NUL; drop it.
        source: &source[..source.len().saturating_sub(1)],
        dest: &dest[..dest.len().saturating_sub(1)],
        short_message: sm.short_message().as_ref(),
        payload,
        sar: match (r, t, s) {
            (Some(r), Some(t), Some(s)) => Some((r, t, s)),
            _ => None,
        },
        esm_class: u8::from(sm.esm_class),
        data_coding: u8::from(sm.data_coding),
        registered_delivery: u8::from(sm.registered_delivery),
    }
}

/// Whether `registered_delivery` asks for a receipt with this final state.
fn wants_receipt(registered_delivery: u8, stat: Stat) -> bool {
    match registered_delivery & 0x03 {
        1 => true,
        2 => stat != Stat::Delivrd,
        3 => stat == Stat::Delivrd,
        _ => false,
    }
}

impl Session {
    pub(crate) fn on_submit(&mut self, seq: u32, sm: &SubmitSm) {
        let shared = self.shared.clone();
        let cfg = &shared.cfg;
        let c = &shared.counters;
        bump(&c.submits_received);
        if !matches!(
            self.bind,
            Some(BindKind::Transmitter | BindKind::Transceiver)
        ) {
            bump(&c.invalid_bind_state);
            wire::put_submit_sm_resp(&mut self.out, 0x04, seq, b"", true); // ESME_RINVBNDSTS
            return;
        }
        self.conn_submits += 1;
        if cfg
            .drop_every
            .is_some_and(|n| self.conn_submits.is_multiple_of(n))
        {
            bump(&c.dropped_connections);
            self.closing = true;
            return;
        }
        let nth = shared.submit_count.fetch_add(1, Relaxed) + 1;
        let now = Instant::now();
        if cfg.throttle_every.is_some_and(|n| nth.is_multiple_of(n)) || !self.take_token(now) {
            bump(&c.throttled);
            wire::put_submit_sm_resp(&mut self.out, 0x58, seq, b"", true); // ESME_RTHROTTLED
            return;
        }

        let f = fields(sm);
        let id = shared.next_message_id.fetch_add(1, Relaxed);
        bump(&c.submits_accepted);
        if cfg.dedup {
            self.keys.push(message_key(
                f.source,
                f.dest,
                f.short_message,
                f.payload,
                f.sar,
            ));
        }
        if shared.capture.enabled() {
            self.capture(sm, &f, id);
        }

        let accepted = shared.accepted_count.fetch_add(1, Relaxed) + 1;
        let mut nul = true;
        let mut garbage_after = false;
        for m in &cfg.malformed {
            match *m {
                Malformed::SubmitRespWithoutNul { every } => {
                    nul &= !accepted.is_multiple_of(every.max(1))
                }
                Malformed::GarbagePdu { every } => {
                    garbage_after |= accepted.is_multiple_of(every.max(1))
                }
            }
        }

        let stat = receipt::pick_stat(&cfg.status_mix, &mut self.rng);
        let receipt = wants_receipt(f.registered_delivery, stat).then(|| {
            let now_unix = receipt::unix_now();
            let date = receipt::receipt_date(now_unix, cfg.receipt_utc_offset_hours);
            let udh = if f.esm_class & 0x40 != 0 {
                f.short_message.first().map_or(0, |&l| usize::from(l) + 1)
            } else {
                0
            };
            let text = f.short_message.get(udh..).unwrap_or(&[]);
            let input = ReceiptInput {
                message_id: id,
                stat,
                submit_source: f.source,
                submit_dest: f.dest,
                data_coding: f.data_coding,
                text: if text.is_empty() {
                    f.payload.unwrap_or(&[])
                } else {
                    text
                },
                submit_date: date,
                done_date: receipt::receipt_date(
                    now_unix + cfg.latency.as_secs() as i64 + cfg.receipt_delay.as_secs() as i64,
                    cfg.receipt_utc_offset_hours,
                ),
            };
            receipt::encode(cfg, &input, &mut self.scratch)
        });

        if cfg.receipt_before_response {
            if let Some(pdu) = receipt {
                self.deliver_receipt(pdu);
            }
            self.write_submit_resp(seq, id, nul, garbage_after);
            return;
        }
        let resp_due = now + cfg.latency;
        if cfg.latency.is_zero() {
            self.write_submit_resp(seq, id, nul, garbage_after);
        } else {
            self.schedule(
                resp_due,
                Delayed::SubmitResp {
                    seq,
                    id,
                    nul,
                    garbage_after,
                },
            );
        }
        if let Some(pdu) = receipt {
            if cfg.latency.is_zero() && cfg.receipt_delay.is_zero() {
                self.deliver_receipt(pdu);
            } else {
                self.schedule(resp_due + cfg.receipt_delay, Delayed::Receipt(pdu));
            }
        }
    }

    /// Token bucket for `throttle_above_tps` (burst: one second's worth, at least 1).
    fn take_token(&mut self, now: Instant) -> bool {
        let Some(tps) = self.shared.cfg.throttle_above_tps else {
            return true;
        };
        let burst = tps.max(1.0);
        let (tokens, last) = self.bucket.get_or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * tps).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn schedule(&mut self, due: Instant, what: Delayed) {
        self.timer_order += 1;
        self.timers.push(Reverse(Timed {
            due,
            order: self.timer_order,
            what,
        }));
    }

    pub(crate) fn write_submit_resp(&mut self, seq: u32, id: u64, nul: bool, garbage_after: bool) {
        let mut buf = [0u8; 20];
        let id_bytes = wire::format_id(id, self.shared.cfg.hex_ids, &mut buf);
        wire::put_submit_sm_resp(&mut self.out, 0, seq, id_bytes, nul);
        if !nul {
            bump(&self.shared.counters.malformed_sent);
        }
        if garbage_after {
            let gseq = self.take_seq();
            wire::put_garbage_pdu(&mut self.out, gseq);
            bump(&self.shared.counters.malformed_sent);
        }
    }

    fn capture(&self, sm: &SubmitSm, f: &Fields<'_>, id: u64) {
        let mut buf = [0u8; 20];
        let message_id = wire::format_id(id, self.shared.cfg.hex_ids, &mut buf);
        self.shared.capture.push(Received {
            system_id: self.system_id.as_deref().unwrap_or_default().to_owned(),
            source: String::from_utf8_lossy(f.source).into_owned(),
            dest: String::from_utf8_lossy(f.dest).into_owned(),
            data_coding: f.data_coding,
            esm_class: f.esm_class,
            registered_delivery: f.registered_delivery,
            short_message: f.short_message.to_vec(),
            message_payload: f.payload.map(<[u8]>::to_vec),
            sar: f.sar,
            tlv_tags: sm.tlvs().iter().map(|t| u16::from(t.tag())).collect(),
            message_id: String::from_utf8_lossy(message_id).into_owned(),
        });
    }
}
