//! Tolerant framing: cut the byte stream into PDUs by `command_length` (a 4-byte big-endian
//! prefix that counts itself) before any decoding, so one bad PDU never desynchronises the stream.
//!
//! A frame larger than the limit is skipped (its bytes are discarded as they arrive) and reported
//! with its header, so the session can answer generic_nack and carry on. Only a length below 16,
//! which cannot be skipped, is fatal to the connection.
//!
//! ```
//! use bytes::BytesMut;
//! use sendbox_smpp::frame::{Framer, FrameItem};
//! let mut buf = BytesMut::from(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7][..]);
//! let mut framer = Framer::new(1024);
//! match framer.next_frame(&mut buf) {
//!     Some(Ok(FrameItem::Frame(f))) => assert_eq!(f.len(), 16),
//!     other => panic!("{other:?}"),
//! }
//! ```

use bytes::{Buf, BytesMut};

/// The SMPP header length: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;

/// A PDU header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `command_length`, including the header.
    pub len: u32,
    /// `command_id`.
    pub id: u32,
    /// `command_status`.
    pub status: u32,
    /// `sequence_number`.
    pub seq: u32,
}

impl Header {
    /// Reads a header from the first 16 octets; `None` if there are fewer.
    pub fn parse(b: &[u8]) -> Option<Header> {
        let word = |i: usize| -> Option<u32> {
            let w: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
            Some(u32::from_be_bytes(w))
        };
        Some(Header {
            len: word(0)?,
            id: word(4)?,
            status: word(8)?,
            seq: word(12)?,
        })
    }

    /// True for a response PDU (bit 31 of the command id).
    pub fn is_response(&self) -> bool {
        self.id & 0x8000_0000 != 0
    }
}

/// What the framer found.
#[derive(Debug)]
pub enum FrameItem {
    /// A complete PDU, length prefix included.
    Frame(BytesMut),
    /// A PDU longer than the limit; its bytes are being skipped.
    Oversize(Header),
}

/// The stream cannot be framed any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("command_length {len} is below the 16-octet header: the stream cannot be resynchronised")]
pub struct FrameError {
    /// The length found.
    pub len: u32,
}

/// Cuts PDUs out of a read buffer.
#[derive(Debug)]
pub struct Framer {
    max_len: usize,
    skip: usize,
}

impl Framer {
    /// A framer accepting PDUs up to `max_len` octets.
    pub fn new(max_len: usize) -> Self {
        Framer {
            max_len: max_len.max(HEADER_LEN),
            skip: 0,
        }
    }

    /// Takes the next complete frame out of `buf`, or `None` if more bytes are needed.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Option<Result<FrameItem, FrameError>> {
        if self.skip > 0 {
            let n = self.skip.min(buf.len());
            buf.advance(n);
            self.skip -= n;
            if self.skip > 0 {
                return None;
            }
        }
        if buf.len() < 4 {
            return None;
        }
        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let ulen = len as usize;
        if ulen < HEADER_LEN {
            return Some(Err(FrameError { len }));
        }
        if ulen > self.max_len {
            let header = Header::parse(buf)?;
            let n = ulen.min(buf.len());
            buf.advance(n);
            self.skip = ulen - n;
            return Some(Ok(FrameItem::Oversize(header)));
        }
        if buf.len() < ulen {
            buf.reserve(ulen - buf.len());
            return None;
        }
        Some(Ok(FrameItem::Frame(buf.split_to(ulen))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdu(id: u32, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn frames_split_across_reads_are_joined() {
        let bytes = pdu(0x15, 1, b"");
        let mut f = Framer::new(100);
        let mut buf = BytesMut::from(&bytes[..10]);
        assert!(f.next_frame(&mut buf).is_none());
        buf.extend_from_slice(&bytes[10..]);
        assert!(matches!(
            f.next_frame(&mut buf),
            Some(Ok(FrameItem::Frame(_)))
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn oversize_frame_is_skipped_and_the_next_one_read() {
        let mut bytes = pdu(0x05, 9, &[b'x'; 200]);
        bytes.extend(pdu(0x15, 10, b""));
        let mut f = Framer::new(64);
        let mut buf = BytesMut::from(&bytes[..50]);
        match f.next_frame(&mut buf) {
            Some(Ok(FrameItem::Oversize(h))) => assert_eq!((h.id, h.seq), (5, 9)),
            other => panic!("{other:?}"),
        }
        assert!(f.next_frame(&mut buf).is_none());
        buf.extend_from_slice(&bytes[50..]);
        match f.next_frame(&mut buf) {
            Some(Ok(FrameItem::Frame(fr))) => assert_eq!(Header::parse(&fr).unwrap().seq, 10),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn length_below_header_is_an_error() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 3, 1, 2, 3][..]);
        assert_eq!(
            Framer::new(64)
                .next_frame(&mut buf)
                .unwrap()
                .unwrap_err()
                .len,
            3
        );
    }
}
