//! SIP message framing on a byte stream (RFC 3261 §18.3): a message is its header block up
//! to the first empty line plus exactly `Content-Length` bytes of body. Hand-written as a
//! `tokio_util` [`Decoder`]: no maintained crate frames SIP streams, and the rule is small.
//!
//! - CRLFs before a start line are skipped (RFC 3261 §7.5); a double CRLF there is an
//!   RFC 5626 §4.4.1 keep-alive ping ([`Frame::Ping`]; the transport answers with one CRLF).
//! - A message without Content-Length, or with an unreadable one, cannot be delimited on a
//!   stream: [`FrameError`], and the transport closes the connection (§18.3).
//! - Headers or whole messages above the size limit are an error too (no unbounded buffer).
//!
//! ```
//! # use sendbox_voice::transport::framing::{Frame, SipStreamCodec};
//! # use tokio_util::codec::Decoder;
//! let mut codec = SipStreamCodec::new(65_535);
//! let mut buf = bytes::BytesMut::from(&b"\r\n\r\nOPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n"[..]);
//! assert_eq!(codec.decode(&mut buf).unwrap(), Some(Frame::Ping));
//! assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Frame::Message(_))));
//! ```

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// One unit read from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole SIP message (start line, headers, body).
    Message(Bytes),
    /// A keep-alive ping (`\r\n\r\n`), to be answered with `\r\n`.
    Ping,
}

/// Why the stream cannot be read further; the connection must be closed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A message arrived without a Content-Length header.
    #[error("SIP message on a stream without Content-Length")]
    MissingContentLength,
    /// The Content-Length value is not a number.
    #[error("bad Content-Length {0:?}")]
    BadContentLength(String),
    /// The headers or the whole message exceed the limit.
    #[error("SIP message larger than {0} bytes")]
    TooLarge(usize),
    /// The socket failed.
    #[error("stream read: {0}")]
    Io(#[from] std::io::Error),
}

/// The decoder; `max` bounds one message (headers and body).
#[derive(Debug, Clone)]
pub struct SipStreamCodec {
    max: usize,
}

impl SipStreamCodec {
    /// A decoder accepting messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        SipStreamCodec { max }
    }
}

impl Decoder for SipStreamCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        // Leading CRLFs: a double one is a ping; a single one (a pong, or padding) is skipped
        // once we can tell it is not the start of a ping.
        while buf.starts_with(b"\r\n") {
            if buf.starts_with(b"\r\n\r\n") {
                buf.advance(4);
                return Ok(Some(Frame::Ping));
            }
            if buf.len() < 4 && b"\r\n\r\n".starts_with(buf) {
                return Ok(None);
            }
            buf.advance(2);
        }
        let Some(head_end) = find(buf, b"\r\n\r\n") else {
            if buf.len() > self.max {
                return Err(FrameError::TooLarge(self.max));
            }
            return Ok(None);
        };
        let body_len = content_length(&buf[..head_end])?;
        let total = head_end + 4 + body_len;
        if total > self.max {
            return Err(FrameError::TooLarge(self.max));
        }
        if buf.len() < total {
            buf.reserve(total - buf.len());
            return Ok(None);
        }
        Ok(Some(Frame::Message(buf.split_to(total).freeze())))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The Content-Length (or compact `l`) of a header block.
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = String::from_utf8_lossy(line[colon + 1..].trim_ascii()).into_owned();
            return value
                .parse()
                .map_err(|_| FrameError::BadContentLength(value));
        }
    }
    Err(FrameError::MissingContentLength)
}

#[cfg(test)]
#[path = "transport_framing_tests.rs"]
mod tests;
