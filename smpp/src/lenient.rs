//! The tolerant parser used when rusmpp's strict decoder refuses a PDU.
//!
//! It reads only what the link needs and forgives what real SMSCs get wrong: a `message_id` or
//! `receipted_message_id` without its NUL, non-ASCII addresses, an `sm_length` longer than the
//! body, a truncated last TLV. Anything it cannot read is [`Body::Malformed`].

use crate::frame::{HEADER_LEN, Header};
use crate::pdu::{Body, Deliver, cmd};
use bytes::Bytes;

/// Reads the body of `frame` (length prefix included) under header `h`.
pub fn body(frame: &Bytes, h: &Header) -> Body {
    let body = frame.get(HEADER_LEN..).unwrap_or(&[]);
    match h.id {
        id if id == cmd::RESP | cmd::SUBMIT_SM => {
            let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
            Body::SubmitSmResp(frame.slice_ref(trim(&body[..end])))
        }
        id if h.is_response() && matches!(id & !cmd::RESP, 1 | 2 | 9) => Body::BindResp,
        cmd::DELIVER_SM => {
            deliver_sm(frame).map_or(Body::Malformed, |d| Body::DeliverSm(Box::new(d)))
        }
        cmd::ENQUIRE_LINK => Body::EnquireLink,
        id if id == cmd::RESP | cmd::ENQUIRE_LINK => Body::EnquireLinkResp,
        cmd::UNBIND => Body::Unbind,
        id if id == cmd::RESP | cmd::UNBIND => Body::UnbindResp,
        cmd::GENERIC_NACK => Body::GenericNack,
        _ => Body::Malformed,
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }

    /// A C-string: up to its NUL (which must be there, or the next field cannot be found).
    fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.pos..)?;
        let n = rest.iter().position(|&c| c == 0)?;
        self.pos += n + 1;
        Some(&rest[..n])
    }

    /// Up to `n` octets: fewer if the body ends first.
    fn take(&mut self, n: usize) -> &'a [u8] {
        let rest = self.b.get(self.pos..).unwrap_or(&[]);
        let n = n.min(rest.len());
        self.pos += n;
        &rest[..n]
    }

    fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
}

/// The deliver_sm fields, read leniently.
fn deliver_sm(frame: &Bytes) -> Option<Deliver> {
    let mut c = Cursor {
        b: frame.get(HEADER_LEN..)?,
        pos: 0,
    };
    let slice = |s: &[u8]| frame.slice_ref(s);
    c.cstr()?; // service_type
    let source_ton = c.u8()?;
    c.u8()?;
    let source_addr = slice(c.cstr()?);
    c.u8()?;
    c.u8()?;
    let dest_addr = slice(c.cstr()?);
    let esm_class = c.u8()?;
    c.u8()?; // protocol_id
    c.u8()?; // priority_flag
    c.cstr()?; // schedule_delivery_time
    c.cstr()?; // validity_period
    c.u8()?; // registered_delivery
    c.u8()?; // replace_if_present_flag
    let data_coding = c.u8()?;
    c.u8()?; // sm_default_msg_id
    let sm_length = c.u8()?;
    let short_message = slice(c.take(usize::from(sm_length)));
    let mut d = Deliver {
        source_ton,
        source_addr,
        dest_addr,
        esm_class,
        data_coding,
        short_message,
        ..Deliver::default()
    };
    while c.remaining() >= 4 {
        let (Some(tag), Some(len)) = (c.u16(), c.u16()) else {
            break;
        };
        let value = c.take(usize::from(len));
        match tag {
            0x001E => {
                let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
                d.receipted_message_id = Some(slice(trim(&value[..end])));
            }
            0x0427 => d.message_state = value.first().copied(),
            0x0423 if value.len() >= 3 => {
                d.network_error = Some((value[0], u16::from(value[1]) << 8 | u16::from(value[2])));
            }
            0x0424 => d.message_payload = Some(slice(value)),
            _ => {}
        }
    }
    Some(d)
}
