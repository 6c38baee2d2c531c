//! Stream framing: split reads, coalesced messages, bad Content-Length, keep-alives, limits.

use super::*;

const INVITE: &[u8] =
    b"INVITE sip:7701@h SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
Call-ID: c1\r\nContent-Length: 5\r\n\r\nv=0\r\n";
const BYE: &[u8] = b"BYE sip:7701@h SIP/2.0\r\nCall-ID: c2\r\nl: 0\r\n\r\n";

fn decode_all(codec: &mut SipStreamCodec, buf: &mut BytesMut) -> Vec<Frame> {
    std::iter::from_fn(|| codec.decode(buf).unwrap()).collect()
}

#[test]
fn a_message_split_across_reads_comes_out_whole_once_complete() {
    let mut codec = SipStreamCodec::new(65_535);
    let mut buf = BytesMut::new();
    for (i, b) in INVITE.iter().enumerate() {
        buf.extend_from_slice(&[*b]);
        let got = codec.decode(&mut buf).unwrap();
        if i + 1 < INVITE.len() {
            assert_eq!(got, None, "nothing before byte {i} of {}", INVITE.len());
        } else {
            assert_eq!(got, Some(Frame::Message(Bytes::from_static(INVITE))));
        }
    }
    assert!(buf.is_empty());
}

#[test]
fn several_messages_in_one_read_come_out_in_order() {
    let mut codec = SipStreamCodec::new(65_535);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(INVITE);
    buf.extend_from_slice(b"\r\n\r\n");
    buf.extend_from_slice(BYE);
    buf.extend_from_slice(&INVITE[..10]);
    let got = decode_all(&mut codec, &mut buf);
    assert_eq!(
        got,
        vec![
            Frame::Message(Bytes::from_static(INVITE)),
            Frame::Ping,
            Frame::Message(Bytes::from_static(BYE)),
        ]
    );
    assert_eq!(&buf[..], &INVITE[..10], "the partial third message waits");
}

#[test]
fn missing_or_bad_content_length_is_an_error() {
    let mut codec = SipStreamCodec::new(65_535);
    let mut buf = BytesMut::from(&b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n"[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::MissingContentLength)
    ));
    let mut buf = BytesMut::from(&b"OPTIONS sip:a SIP/2.0\r\nContent-Length: -3\r\n\r\n"[..]);
    let e = codec.decode(&mut buf).unwrap_err();
    assert!(
        matches!(&e, FrameError::BadContentLength(v) if v == "-3"),
        "{e}"
    );
    assert!(e.to_string().contains("Content-Length"));
}

#[test]
fn crlf_keepalives_ping_and_pong() {
    let mut codec = SipStreamCodec::new(65_535);
    // A ping split over two reads.
    let mut buf = BytesMut::from(&b"\r\n"[..]);
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        None,
        "could still become a ping"
    );
    buf.extend_from_slice(b"\r\n");
    assert_eq!(codec.decode(&mut buf).unwrap(), Some(Frame::Ping));
    // A pong (single CRLF) before a message is skipped.
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(BYE);
    assert_eq!(
        decode_all(&mut codec, &mut buf),
        vec![Frame::Message(Bytes::from_static(BYE))]
    );
}

#[test]
fn oversized_headers_or_bodies_are_refused() {
    let mut codec = SipStreamCodec::new(100);
    let mut buf = BytesMut::from(&b"INVITE sip:a SIP/2.0\r\nContent-Length: 500\r\n\r\n"[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::TooLarge(100))
    ));
    let mut buf = BytesMut::from(&b"INVITE sip:a SIP/2.0\r\nX: "[..]);
    buf.extend_from_slice(&[b'a'; 200]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::TooLarge(100))
    ));
}
