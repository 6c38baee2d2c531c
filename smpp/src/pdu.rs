//! PDU decoding (rusmpp's zero-copy decoder first, a tolerant parser second) and encoding.
//!
//! Every frame is decoded with `rusmpp_core`'s borrowed decoder. When that fails (real SMSCs send
//! a submit_sm_resp `message_id` without its NUL, non-ASCII addresses, truncated TLVs), a minimal
//! tolerant parse takes over: the header, the `message_id` up to the end of the body, or the
//! deliver_sm fields we need ([`crate::lenient`]). Fields are [`Bytes`] slices of the frame: no copy.
//!
//! The hot requests and responses (submit_sm, deliver_sm_resp, enquire_link…) are written by hand
//! into the session's write buffer (no allocation); bind goes through rusmpp's `CommandCodec`.
//! A test checks the hand-written submit_sm against rusmpp's decoder.

use crate::frame::{HEADER_LEN, Header};
use crate::lenient;
use bytes::{BufMut, Bytes, BytesMut};
use rusmpp_core::command::borrowed::Command as BorrowedCommand;
use rusmpp_core::decode::borrowed::DecodeWithLength;
use rusmpp_core::pdus::borrowed::Pdu as BPdu;
use rusmpp_core::tlvs::borrowed::TlvValue;

/// Command ids used here.
pub mod cmd {
    /// bind_receiver.
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    /// bind_transmitter.
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    /// submit_sm.
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    /// deliver_sm.
    pub const DELIVER_SM: u32 = 0x0000_0005;
    /// unbind.
    pub const UNBIND: u32 = 0x0000_0006;
    /// bind_transceiver.
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    /// enquire_link.
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    /// generic_nack.
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    /// The response bit.
    pub const RESP: u32 = 0x8000_0000;
}

/// Status codes used by the session itself.
pub mod status {
    /// ESME_ROK.
    pub const OK: u32 = 0x00;
    /// ESME_RINVMSGLEN: message length is invalid.
    pub const INVMSGLEN: u32 = 0x01;
    /// ESME_RINVCMDLEN: command length is invalid.
    pub const INVCMDLEN: u32 = 0x02;
    /// ESME_RINVCMDID: invalid command id.
    pub const INVCMDID: u32 = 0x03;
    /// ESME_RSYSERR: system error.
    pub const SYSERR: u32 = 0x08;
}

/// TLVs rusmpp's zero-copy decoder keeps per PDU. The decoded PDU is an enum holding this many
/// TLVs inline and is moved a few times while decoding, so a small number is much faster; a PDU
/// with more TLVs goes to the tolerant parser, which reads any number.
const MAX_TLVS: usize = 6;

/// A deliver_sm: a receipt or an incoming message. Fields are slices of the frame, without NULs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deliver {
    /// `source_addr_ton`.
    pub source_ton: u8,
    /// `source_addr` (the subscriber, for an incoming message).
    pub source_addr: Bytes,
    /// `destination_addr` (our address, for an incoming message).
    pub dest_addr: Bytes,
    /// `esm_class`.
    pub esm_class: u8,
    /// `data_coding`.
    pub data_coding: u8,
    /// `short_message` octets.
    pub short_message: Bytes,
    /// `receipted_message_id` TLV (0x001E).
    pub receipted_message_id: Option<Bytes>,
    /// `message_state` TLV (0x0427).
    pub message_state: Option<u8>,
    /// `network_error_code` TLV (0x0423): network type, error code.
    pub network_error: Option<(u8, u16)>,
    /// `message_payload` TLV (0x0424), used instead of `short_message` by some SMSCs.
    pub message_payload: Option<Bytes>,
}

impl Deliver {
    /// True when `esm_class` marks an SMSC delivery receipt.
    pub fn is_receipt(&self) -> bool {
        self.esm_class & 0x3C == 0x04
    }

    /// The text octets: `message_payload` when present, else `short_message`.
    pub fn text(&self) -> &[u8] {
        self.message_payload
            .as_deref()
            .unwrap_or(&self.short_message)
    }
}

/// The body of a decoded PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// bind_*_resp (the status is in the header).
    BindResp,
    /// submit_sm_resp with its `message_id` (empty for a header-only error response).
    SubmitSmResp(Bytes),
    /// deliver_sm.
    DeliverSm(Box<Deliver>),
    /// enquire_link.
    EnquireLink,
    /// enquire_link_resp.
    EnquireLinkResp,
    /// unbind.
    Unbind,
    /// unbind_resp.
    UnbindResp,
    /// generic_nack.
    GenericNack,
    /// A well-formed PDU we do not use.
    Other,
    /// A PDU that neither decoder could read.
    Malformed,
}

/// A decoded PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The header.
    pub header: Header,
    /// The body.
    pub body: Body,
    /// True when rusmpp refused it and the tolerant parser read it.
    pub tolerant: bool,
}

/// Decodes one frame (length prefix included). Never panics, never fails: an unreadable body
/// gives [`Body::Malformed`] with the header.
pub fn decode(frame: Bytes) -> Decoded {
    // The framer only yields frames of at least 16 octets; a shorter slice reads as malformed.
    let Some(header) = Header::parse(&frame) else {
        return Decoded {
            header: Header {
                len: 0,
                id: 0,
                status: 0,
                seq: 0,
            },
            body: Body::Malformed,
            tolerant: true,
        };
    };
    if header.id == cmd::RESP | cmd::SUBMIT_SM
        && let Some(id) = plain_message_id(&frame[HEADER_LEN..])
    {
        return Decoded {
            header,
            body: Body::SubmitSmResp(frame.slice_ref(id)),
            tolerant: false,
        };
    }
    decode_general(frame, header)
}

/// The `message_id` of a submit_sm_resp body when it is a plain one: printable ASCII without
/// spaces, NUL-terminated, at most 64 octets (SMPP's 65 with the NUL). What follows the NUL
/// (SMPP 5.0 TLVs) is not used.
///
/// This is where rusmpp stops for us: its decoder builds its whole command (584 octets with
/// our TLV capacity) and moves it several times, 5.6 % of the SMPP threads' samples in the SMS
/// throughput run, for the one field of the commonest PDU (one per message part). Such an id
/// decodes to the same octets through rusmpp or the tolerant parser (`pdu_tests` checks
/// both); anything else goes the general way.
fn plain_message_id(body: &[u8]) -> Option<&[u8]> {
    let end = body.iter().take(65).position(|&b| b == 0)?;
    let id = &body[..end];
    id.iter().all(u8::is_ascii_graphic).then_some(id)
}

/// Decodes with rusmpp, else with the tolerant parser.
fn decode_general(frame: Bytes, header: Header) -> Decoded {
    let strict =
        <BorrowedCommand<'_, MAX_TLVS> as DecodeWithLength>::decode(&frame[4..], frame.len() - 4);
    if let Ok((command, _)) = strict
        && let Some(body) = from_rusmpp(&frame, &header, command.pdu())
    {
        return Decoded {
            header,
            body,
            tolerant: false,
        };
    }
    let body = lenient::body(&frame, &header);
    Decoded {
        header,
        body,
        tolerant: true,
    }
}

fn from_rusmpp(frame: &Bytes, h: &Header, pdu: Option<&BPdu<'_, MAX_TLVS>>) -> Option<Body> {
    let cstr = |b: &[u8]| frame.slice_ref(b.strip_suffix(&[0]).unwrap_or(b));
    Some(match pdu {
        None if h.id == cmd::RESP | cmd::SUBMIT_SM => Body::SubmitSmResp(Bytes::new()),
        None if matches!(h.id & !cmd::RESP, 1 | 2 | 9) && h.is_response() => Body::BindResp,
        None if h.id == cmd::DELIVER_SM => return None,
        None if h.id == cmd::GENERIC_NACK => Body::GenericNack,
        None => Body::Other,
        Some(
            BPdu::BindTransceiverResp(_) | BPdu::BindTransmitterResp(_) | BPdu::BindReceiverResp(_),
        ) => Body::BindResp,
        Some(BPdu::SubmitSmResp(r)) => Body::SubmitSmResp(cstr(r.message_id().bytes())),
        Some(BPdu::DeliverSm(d)) => {
            let mut out = Deliver {
                source_ton: d.source_addr_ton.into(),
                source_addr: cstr(d.source_addr.bytes()),
                dest_addr: cstr(d.destination_addr.bytes()),
                esm_class: d.esm_class.into(),
                data_coding: d.data_coding.into(),
                short_message: frame.slice_ref(d.short_message().bytes()),
                ..Deliver::default()
            };
            for tlv in d.tlvs() {
                match tlv.value() {
                    Some(TlvValue::ReceiptedMessageId(id)) => {
                        out.receipted_message_id = Some(cstr(id.bytes()))
                    }
                    Some(TlvValue::MessageState(s)) => out.message_state = Some((*s).into()),
                    Some(TlvValue::NetworkErrorCode(e)) => {
                        out.network_error = Some((e.network_type.into(), e.error_code))
                    }
                    Some(TlvValue::MessagePayload(p)) => {
                        out.message_payload = Some(frame.slice_ref(p.value.bytes()))
                    }
                    _ => {}
                }
            }
            Body::DeliverSm(Box::new(out))
        }
        Some(BPdu::EnquireLink) => Body::EnquireLink,
        Some(BPdu::EnquireLinkResp) => Body::EnquireLinkResp,
        Some(BPdu::Unbind) => Body::Unbind,
        Some(BPdu::UnbindResp) => Body::UnbindResp,
        Some(BPdu::GenericNack) => Body::GenericNack,
        Some(_) => Body::Other,
    })
}

// === encoding ===

/// The fields of a submit_sm that vary; the rest are zero or empty.
#[derive(Debug, Clone, Copy)]
pub struct SubmitSm<'a> {
    /// `source_addr_ton` (5 alphanumeric, 1 international).
    pub source_ton: u8,
    /// `source_addr_npi` (0 alphanumeric, 1 E.164).
    pub source_npi: u8,
    /// `source_addr`.
    pub source_addr: &'a [u8],
    /// `destination_addr` digits (TON 1, NPI 1).
    pub dest_addr: &'a [u8],
    /// `esm_class`.
    pub esm_class: u8,
    /// `registered_delivery`.
    pub registered_delivery: u8,
    /// `data_coding`.
    pub data_coding: u8,
    /// `validity_period` (16 characters, or empty for the SMSC default).
    pub validity_period: &'a [u8],
    /// The text octets (with the UDH when UDHI is set).
    pub short_message: &'a [u8],
    /// Put the octets in `message_payload` and send `sm_length` 0.
    pub payload: bool,
    /// SAR TLVs: reference, total, sequence.
    pub sar: Option<(u16, u8, u8)>,
}

fn put_cstr(dst: &mut BytesMut, s: &[u8]) {
    dst.put_slice(s);
    dst.put_u8(0);
}

fn finish_len(dst: &mut BytesMut, start: usize) {
    let len = (dst.len() - start) as u32;
    dst[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends a submit_sm with sequence number `seq` to `dst`.
pub fn encode_submit_sm(dst: &mut BytesMut, seq: u32, m: &SubmitSm<'_>) {
    let start = dst.len();
    dst.reserve(64 + m.source_addr.len() + m.dest_addr.len() + m.short_message.len());
    dst.put_u32(0);
    dst.put_u32(cmd::SUBMIT_SM);
    dst.put_u32(0);
    dst.put_u32(seq);
    dst.put_u8(0); // service_type ""
    dst.put_u8(m.source_ton);
    dst.put_u8(m.source_npi);
    put_cstr(dst, m.source_addr);
    dst.put_u8(1);
    dst.put_u8(1);
    put_cstr(dst, m.dest_addr);
    dst.put_u8(m.esm_class);
    dst.put_u8(0); // protocol_id
    dst.put_u8(0); // priority_flag
    dst.put_u8(0); // schedule_delivery_time ""
    put_cstr(dst, m.validity_period);
    dst.put_u8(m.registered_delivery);
    dst.put_u8(0); // replace_if_present_flag
    dst.put_u8(m.data_coding);
    dst.put_u8(0); // sm_default_msg_id
    if m.payload {
        dst.put_u8(0);
        dst.put_u16(0x0424);
        dst.put_u16(m.short_message.len().min(usize::from(u16::MAX)) as u16);
        dst.put_slice(&m.short_message[..m.short_message.len().min(usize::from(u16::MAX))]);
    } else {
        let n = m.short_message.len().min(254);
        dst.put_u8(n as u8);
        dst.put_slice(&m.short_message[..n]);
    }
    if let Some((reference, total, seqnum)) = m.sar {
        dst.put_u16(0x020C);
        dst.put_u16(2);
        dst.put_u16(reference);
        dst.put_u16(0x020E);
        dst.put_u16(1);
        dst.put_u8(total);
        dst.put_u16(0x020F);
        dst.put_u16(1);
        dst.put_u8(seqnum);
    }
    finish_len(dst, start);
}

/// Appends a 16-octet PDU with no body (enquire_link, unbind, their responses, generic_nack).
pub fn encode_header_only(dst: &mut BytesMut, id: u32, status: u32, seq: u32) {
    dst.reserve(HEADER_LEN);
    dst.put_u32(HEADER_LEN as u32);
    dst.put_u32(id);
    dst.put_u32(status);
    dst.put_u32(seq);
}

/// Appends a deliver_sm_resp (its `message_id` is always empty).
pub fn encode_deliver_sm_resp(dst: &mut BytesMut, status: u32, seq: u32) {
    dst.reserve(HEADER_LEN + 1);
    dst.put_u32(HEADER_LEN as u32 + 1);
    dst.put_u32(cmd::RESP | cmd::DELIVER_SM);
    dst.put_u32(status);
    dst.put_u32(seq);
    dst.put_u8(0);
}

/// The relative validity period `0000DDhhmmss000R` for `secs` (capped at 99 days).
pub fn relative_validity(secs: u64) -> [u8; 16] {
    let secs = secs.min(99 * 86_400 + 86_399);
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = *b"0000DDhhmmss000R";
    for (i, v) in [(4, d), (6, h), (8, m), (10, s)] {
        out[i] = b'0' + (v / 10) as u8;
        out[i + 1] = b'0' + (v % 10) as u8;
    }
    out
}

/// Writes `n` in decimal into `buf`, returning the digits.
pub fn digits(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
#[path = "pdu_tests.rs"]
mod tests;
