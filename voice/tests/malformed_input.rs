//! Peer input never panics: random and mutated bytes through every parser the trunk feeds.

use proptest::prelude::*;
use sendbox_voice::rtp::dtmf::DtmfReceiver;
use sendbox_voice::sdp;
use sendbox_voice::sip::msg;

const RESPONSE: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:b@127.0.0.1:5090>\r\nRecord-Route: <sip:p1;lr>\r\nContent-Length: 0\r\n\r\n";

const ANSWER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

fn mutate(base: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(i, b) in edits {
        let i = i % v.len();
        v[i] = b;
    }
    v
}

fn read_all_fields(data: &[u8]) {
    if let Ok(m) = msg::parse(data) {
        let _ = msg::branch(&m);
        let _ = msg::call_id(&m);
        let _ = msg::cseq(&m);
        let _ = msg::to_tag(&m);
        let _ = msg::status(&m);
        if let rsip::SipMessage::Response(r) = &m {
            let _ = msg::record_route(r);
            let _ = msg::contact_uri(&r.headers);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sip_parser_and_field_readers_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
        read_all_fields(&mutate(RESPONSE, &edits));
    }

    #[test]
    fn random_bytes_never_panic_sip(data in prop::collection::vec(any::<u8>(), 0..300)) {
        read_all_fields(&data);
    }

    #[test]
    fn sdp_answer_parser_never_panics(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
        let _ = sdp::parse_answer(&mutate(ANSWER, &edits));
    }

    #[test]
    fn dtmf_receiver_never_panics(packets in prop::collection::vec((any::<u32>(), prop::collection::vec(any::<u8>(), 0..6)), 0..50)) {
        let mut rx = DtmfReceiver::default();
        for (ts, p) in packets {
            rx.handle_packet(ts, &p, 0);
        }
        while rx.poll_digit().is_some() {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever a TCP trunk sends, in whatever pieces, the stream framer returns frames or an
    /// error; it never panics and never holds more than its limit.
    #[test]
    fn tcp_stream_framer_never_panics(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..20),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        use sendbox_voice::transport::framing::SipStreamCodec;
        use tokio_util::codec::Decoder;
        let mut codec = SipStreamCodec::new(512);
        let mut buf = bytes::BytesMut::from(&mutate(RESPONSE, &edits)[..]);
        for c in chunks {
            buf.extend_from_slice(&c);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        buf.clear();
                        break;
                    }
                }
            }
            prop_assert!(buf.len() <= 512 + 64);
        }
    }
}
