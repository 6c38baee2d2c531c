//! Delivery receipts: the SMPP 3.4 Appendix B text and the receipted_message_id / message_state TLVs.
//!
//! A receipt is encoded once, when its submit is accepted, into a standalone PDU whose
//! sequence_number is patched when it is written (and again if it is redelivered on another bind).
//!
//! ```text
//! id:1234 sub:001 dlvrd:001 submit date:2611251830 done date:2611251830 stat:DELIVRD err:000 text:Hello
//! ```

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rand::{Rng, rngs::StdRng};

use crate::config::{ReceiptFormat, SimConfig, Stat};
use crate::wire::{self, DeliverSm};

/// Picks a state from the weighted mix (all DELIVRD when the mix is empty or all zero).
pub(crate) fn pick_stat(mix: &[(Stat, u32)], rng: &mut StdRng) -> Stat {
    let total: u64 = mix.iter().map(|&(_, w)| u64::from(w)).sum();
    if total == 0 {
        return Stat::Delivrd;
    }
    let mut roll = rng.random_range(0..total);
    for &(stat, w) in mix {
        if roll < u64::from(w) {
            return stat;
        }
        roll -= u64::from(w);
    }
    Stat::Delivrd
}

/// `YYMMDDhhmm` for a Unix time shifted by `offset_hours`.
pub(crate) fn receipt_date(unix_secs: i64, offset_hours: i8) -> [u8; 10] {
    let t = unix_secs + i64::from(offset_hours) * 3600;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm) = (secs / 3600, (secs % 3600) / 60);
    let mut out = [b'0'; 10];
    for (i, v) in [y.rem_euclid(100), m, d, hh, mm].into_iter().enumerate() {
        out[i * 2] = b'0' + (v / 10) as u8;
        out[i * 2 + 1] = b'0' + (v % 10) as u8;
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What a receipt is about.
#[derive(Debug)]
pub(crate) struct ReceiptInput<'a> {
    pub message_id: u64,
    pub stat: Stat,
    /// The submit's source (becomes the receipt's destination).
    pub submit_source: &'a [u8],
    /// The submit's destination (becomes the receipt's source).
    pub submit_dest: &'a [u8],
    /// The submit's data_coding and text octets (UDH stripped), for `text:`.
    pub data_coding: u8,
    pub text: &'a [u8],
    pub submit_date: [u8; 10],
    pub done_date: [u8; 10],
}

/// Encodes a receipt deliver_sm with sequence_number 0 (patch it with [`set_seq`]).
pub(crate) fn encode(cfg: &SimConfig, r: &ReceiptInput<'_>, scratch: &mut BytesMut) -> Bytes {
    let mut id_buf = [0u8; 20];
    let mut text_id_buf = [0u8; 20];
    let id = wire::format_id(r.message_id, cfg.hex_ids, &mut id_buf);
    let text_hex = cfg.hex_ids != cfg.receipt_text_id_mismatch;
    let text_id = wire::format_id(r.message_id, text_hex, &mut text_id_buf);

    let mut text = [0u8; 254];
    let text_len = if cfg.receipt_format == ReceiptFormat::TlvOnly {
        0
    } else {
        let mut cur = std::io::Cursor::new(&mut text[..]);
        let dlvrd = if r.stat == Stat::Delivrd {
            "001"
        } else {
            "000"
        };
        // The buffer (254) exceeds the longest receipt text (~150), so these writes cannot fail.
        let _ = cur.write_all(b"id:");
        let _ = cur.write_all(text_id);
        let _ = write!(cur, " sub:001 dlvrd:{dlvrd} submit date:");
        let _ = cur.write_all(&r.submit_date);
        let _ = cur.write_all(b" done date:");
        let _ = cur.write_all(&r.done_date);
        let _ = write!(cur, " stat:{} err:{:03} text:", r.stat.word(), r.stat.err());
        let printable = matches!(r.data_coding, 0x00 | 0x01 | 0x03);
        if printable {
            let head = &r.text[..r.text.len().min(20)];
            let clean = head
                .iter()
                .map(|&b| if (0x20..0x7F).contains(&b) { b } else { b'.' });
            for b in clean {
                let _ = cur.write_all(&[b]);
            }
        }
        cur.position() as usize
    };

    scratch.clear();
    let at = wire::start_deliver_sm(
        scratch,
        0,
        &DeliverSm {
            source: r.submit_dest,
            dest: r.submit_source,
            esm_class: 0x04,
            data_coding: 0x00,
            short_message: &text[..text_len],
        },
    );
    if cfg.receipt_format != ReceiptFormat::TextOnly {
        let mut cid = [0u8; 21];
        cid[..id.len()].copy_from_slice(id);
        wire::put_tlv(scratch, wire::TLV_RECEIPTED_MESSAGE_ID, &cid[..=id.len()]);
        wire::put_tlv(scratch, wire::TLV_MESSAGE_STATE, &[r.stat.message_state()]);
        if r.stat != Stat::Delivrd {
            wire::put_tlv(
                scratch,
                wire::TLV_NETWORK_ERROR_CODE,
                &[0x03, 0x00, r.stat.err()],
            );
        }
    }
    wire::finish(scratch, at);
    scratch.split().freeze()
}

/// Writes `pdu` into `out` with its sequence_number set to `seq`.
pub(crate) fn put_with_seq(out: &mut BytesMut, pdu: &[u8], seq: u32) {
    let at = out.len();
    out.extend_from_slice(pdu);
    out[at + 12..at + 16].copy_from_slice(&seq.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn dates_follow_the_offset_across_midnight() {
        // 2026-11-25T20:30:00Z is 2026-11-26 01:30 in Almaty (+5).
        let t = 1_795_638_600;
        assert_eq!(&receipt_date(t, 0), b"2611252030");
        assert_eq!(&receipt_date(t, 5), b"2611260130");
        // 2024-02-29 (leap day).
        assert_eq!(&receipt_date(1_709_164_800, 0), b"2402290000");
    }

    #[test]
    fn status_mix_respects_weights_and_the_seed() {
        let mix = [(Stat::Delivrd, 0), (Stat::Undeliv, 1)];
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..100).all(|_| pick_stat(&mix, &mut rng) == Stat::Undeliv));
        assert_eq!(pick_stat(&[], &mut rng), Stat::Delivrd);
        let mix = [(Stat::Delivrd, 50), (Stat::Expired, 50)];
        let a: Vec<Stat> = {
            let mut r = StdRng::seed_from_u64(9);
            (0..50).map(|_| pick_stat(&mix, &mut r)).collect()
        };
        let b: Vec<Stat> = {
            let mut r = StdRng::seed_from_u64(9);
            (0..50).map(|_| pick_stat(&mix, &mut r)).collect()
        };
        assert_eq!(a, b);
        assert!(a.contains(&Stat::Delivrd) && a.contains(&Stat::Expired));
    }
}
