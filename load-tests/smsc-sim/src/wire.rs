//! Outbound PDUs written straight into the connection's write buffer, and inbound framing.
//!
//! The simulator's hot path (submit_sm_resp, receipts) writes bytes directly into one `BytesMut` per
//! connection: no per-PDU allocation, and the malformed variants real SMSCs produce (a message_id
//! without its NUL) are just a different byte layout. Inbound PDUs are framed here and decoded with
//! rusmpp's `Command` decoder, so a bad body costs one generic_nack instead of the connection.
//!
//! ```
//! use bytes::BytesMut;
//! use sendbox_smsc_sim::wire;
//! let mut out = BytesMut::new();
//! wire::put_header_only(&mut out, wire::ENQUIRE_LINK_RESP, 0, 7);
//! assert_eq!(&out[..], &[0, 0, 0, 16, 0x80, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7]);
//! ```

use bytes::{Buf, BufMut, BytesMut};
use rusmpp::{Command, decode::DecodeWithLength};

/// `generic_nack`.
pub const GENERIC_NACK: u32 = 0x8000_0000;
/// `bind_receiver`.
pub const BIND_RECEIVER: u32 = 0x0000_0001;
/// `bind_transmitter`.
pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
/// `submit_sm`.
pub const SUBMIT_SM: u32 = 0x0000_0004;
/// `submit_sm_resp`.
pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
/// `deliver_sm`.
pub const DELIVER_SM: u32 = 0x0000_0005;
/// `unbind`.
pub const UNBIND: u32 = 0x0000_0006;
/// `enquire_link`.
pub const ENQUIRE_LINK: u32 = 0x0000_0015;
/// `unbind_resp`.
pub const UNBIND_RESP: u32 = 0x8000_0006;
/// `bind_transceiver`.
pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
/// `enquire_link_resp`.
pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;

/// TLV `receipted_message_id`.
pub const TLV_RECEIPTED_MESSAGE_ID: u16 = 0x001E;
/// TLV `message_state`.
pub const TLV_MESSAGE_STATE: u16 = 0x0427;
/// TLV `network_error_code`.
pub const TLV_NETWORK_ERROR_CODE: u16 = 0x0423;
/// TLV `sc_interface_version`.
pub const TLV_SC_INTERFACE_VERSION: u16 = 0x0210;

/// The SMPP header length.
pub const HEADER_LEN: usize = 16;

/// Writes a PDU header with a placeholder length; returns the PDU's start offset for [`finish`].
pub fn start(out: &mut BytesMut, command_id: u32, status: u32, seq: u32) -> usize {
    let at = out.len();
    out.put_u32(0);
    out.put_u32(command_id);
    out.put_u32(status);
    out.put_u32(seq);
    at
}

/// Patches the command_length of the PDU that starts at `at`.
pub fn finish(out: &mut BytesMut, at: usize) {
    // Lengths are bounded by the codec's max command length, far below u32::MAX.
    let len = (out.len() - at) as u32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// A body-less PDU (enquire_link_resp, unbind_resp, generic_nack).
pub fn put_header_only(out: &mut BytesMut, command_id: u32, status: u32, seq: u32) {
    let at = start(out, command_id, status, seq);
    finish(out, at);
}

/// `submit_sm_resp` with `message_id`; `nul: false` omits the C-string terminator, as some SMSCs do.
pub fn put_submit_sm_resp(out: &mut BytesMut, status: u32, seq: u32, message_id: &[u8], nul: bool) {
    let at = start(out, SUBMIT_SM_RESP, status, seq);
    out.put_slice(message_id);
    if nul {
        out.put_u8(0);
    }
    finish(out, at);
}

/// `bind_*_resp` with the SMSC's `system_id` and an `sc_interface_version` TLV.
pub fn put_bind_resp(
    out: &mut BytesMut,
    bind_id: u32,
    status: u32,
    seq: u32,
    system_id: &[u8],
    version: u8,
) {
    let at = start(out, bind_id | 0x8000_0000, status, seq);
    if status == 0 {
        put_cstr(out, system_id);
        put_tlv(out, TLV_SC_INTERFACE_VERSION, &[version]);
    }
    finish(out, at);
}

/// A C-octet string: the bytes then NUL.
pub fn put_cstr(out: &mut BytesMut, s: &[u8]) {
    out.put_slice(s);
    out.put_u8(0);
}

/// One TLV.
pub fn put_tlv(out: &mut BytesMut, tag: u16, value: &[u8]) {
    out.put_u16(tag);
    // TLV values written here are short (ids, states, payloads bounded by the PDU size).
    out.put_u16(value.len() as u16);
    out.put_slice(value);
}

/// The fixed part of a `deliver_sm` body, up to and including `short_message`.
#[derive(Debug, Clone, Copy)]
pub struct DeliverSm<'a> {
    /// Originator (for a receipt: the original destination).
    pub source: &'a [u8],
    /// Recipient (for a receipt: the original source).
    pub dest: &'a [u8],
    /// 0x04 for an SMSC delivery receipt, 0x00 for an MO message.
    pub esm_class: u8,
    /// data_coding of `short_message`.
    pub data_coding: u8,
    /// Text or receipt text (≤ 254 octets).
    pub short_message: &'a [u8],
}

/// Starts a `deliver_sm` and writes its mandatory fields; add TLVs, then call [`finish`].
pub fn start_deliver_sm(out: &mut BytesMut, seq: u32, d: &DeliverSm<'_>) -> usize {
    let at = start(out, DELIVER_SM, 0, seq);
    put_cstr(out, b""); // service_type
    out.put_u8(if d.source.iter().all(u8::is_ascii_digit) {
        1
    } else {
        5
    }); // ton
    out.put_u8(if d.source.iter().all(u8::is_ascii_digit) {
        1
    } else {
        0
    }); // npi
    put_cstr(out, d.source);
    out.put_u8(1); // dest ton
    out.put_u8(1); // dest npi
    put_cstr(out, d.dest);
    out.put_u8(d.esm_class);
    out.put_u8(0); // protocol_id
    out.put_u8(0); // priority_flag
    put_cstr(out, b""); // schedule_delivery_time
    put_cstr(out, b""); // validity_period
    out.put_u8(0); // registered_delivery
    out.put_u8(0); // replace_if_present_flag
    out.put_u8(d.data_coding);
    out.put_u8(0); // sm_default_msg_id
    let sm = &d.short_message[..d.short_message.len().min(254)];
    out.put_u8(sm.len() as u8);
    out.put_slice(sm);
    at
}

/// A deliver_sm whose body rusmpp (and any strict decoder) rejects: its service_type has no NUL.
pub fn put_garbage_pdu(out: &mut BytesMut, seq: u32) {
    let at = start(out, DELIVER_SM, 0, seq);
    out.put_slice(&[0xFF; 9]);
    finish(out, at);
}

/// The result of reading one frame from the input buffer.
// Frames are handled as soon as they are read and never stored; boxing would allocate per PDU.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Frame {
    /// A decoded command.
    Command(Command),
    /// A well-framed PDU whose body did not decode; answer with generic_nack.
    Undecodable {
        /// command_id from the header.
        command_id: u32,
        /// sequence_number from the header.
        seq: u32,
    },
}

/// Framing failures that leave the byte stream unusable (the connection must close).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// command_length is below 16 or above the limit.
    #[error("command_length {length} outside 16..={max}")]
    BadLength {
        /// The declared length.
        length: usize,
        /// The accepted maximum.
        max: usize,
    },
}

/// Takes one complete PDU off the front of `buf`, or `Ok(None)` when more bytes are needed.
pub fn next_frame(buf: &mut BytesMut, max_len: usize) -> Result<Option<Frame>, FrameError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if !(HEADER_LEN..=max_len).contains(&length) {
        return Err(FrameError::BadLength {
            length,
            max: max_len,
        });
    }
    if buf.len() < length {
        buf.reserve(length - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(length);
    let command_id = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let seq = u32::from_be_bytes([frame[12], frame[13], frame[14], frame[15]]);
    frame.advance(4);
    match Command::decode(&mut frame, length - 4) {
        Ok((command, _)) => Ok(Some(Frame::Command(command))),
        Err(_) => Ok(Some(Frame::Undecodable { command_id, seq })),
    }
}

/// Writes `n` as decimal or lower-case hex into `buf`, returning the used tail slice.
pub fn format_id(n: u64, hex: bool, buf: &mut [u8; 20]) -> &[u8] {
    let base = if hex { 16 } else { 10 };
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        let d = (v % base) as u8;
        buf[i] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        v /= base;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusmpp::{CommandStatus, Pdu};

    fn decode_one(mut buf: BytesMut) -> Frame {
        next_frame(&mut buf, 4096).unwrap().unwrap()
    }

    #[test]
    fn submit_sm_resp_decodes_with_rusmpp() {
        let mut out = BytesMut::new();
        put_submit_sm_resp(&mut out, 0, 9, b"1a2b", true);
        let Frame::Command(c) = decode_one(out) else {
            panic!("undecodable")
        };
        assert_eq!(c.sequence_number(), 9);
        let Some(Pdu::SubmitSmResp(r)) = c.pdu() else {
            panic!("{c:?}")
        };
        assert_eq!(r.message_id().as_str(), "1a2b");
    }

    #[test]
    fn submit_sm_resp_without_nul_is_undecodable_for_rusmpp() {
        let mut out = BytesMut::new();
        put_submit_sm_resp(&mut out, 0, 3, b"42", false);
        assert_eq!(&out[..4], &[0, 0, 0, 18]);
        assert!(matches!(
            decode_one(out),
            Frame::Undecodable {
                command_id: SUBMIT_SM_RESP,
                seq: 3
            }
        ));
    }

    #[test]
    fn bind_resp_and_throttle_resp_decode_with_rusmpp() {
        let mut out = BytesMut::new();
        put_bind_resp(&mut out, BIND_TRANSCEIVER, 0, 1, b"sim", 0x34);
        let Frame::Command(c) = decode_one(out) else {
            panic!("undecodable")
        };
        assert!(matches!(c.pdu(), Some(Pdu::BindTransceiverResp(_))));
        let mut out = BytesMut::new();
        put_submit_sm_resp(&mut out, 0x58, 2, b"", true);
        let Frame::Command(c) = decode_one(out) else {
            panic!("undecodable")
        };
        assert_eq!(c.status(), CommandStatus::EsmeRthrottled);
    }

    #[test]
    fn garbage_pdu_keeps_framing_but_does_not_decode() {
        let mut out = BytesMut::new();
        put_garbage_pdu(&mut out, 5);
        put_header_only(&mut out, ENQUIRE_LINK_RESP, 0, 6);
        assert!(matches!(
            next_frame(&mut out, 4096),
            Ok(Some(Frame::Undecodable { seq: 5, .. }))
        ));
        assert!(matches!(
            next_frame(&mut out, 4096),
            Ok(Some(Frame::Command(_)))
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn bad_length_is_a_framing_error() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(
            next_frame(&mut buf, 4096).unwrap_err(),
            FrameError::BadLength {
                length: 3,
                max: 4096
            }
        );
    }

    #[test]
    fn ids_format_in_both_bases() {
        let mut buf = [0u8; 20];
        assert_eq!(format_id(255, true, &mut buf), b"ff");
        assert_eq!(format_id(255, false, &mut buf), b"255");
        assert_eq!(format_id(0, false, &mut buf), b"0");
        assert_eq!(
            format_id(u64::MAX, false, &mut buf),
            b"18446744073709551615"
        );
    }
}
