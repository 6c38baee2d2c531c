//! The pacer thread over real loopback sockets (a few hundred ms of real time).

use super::*;
use crate::rtp::dtmf;
use crate::sdp::Codec;
use bytes::Bytes;

fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

#[tokio::test]
async fn streams_a_prompt_to_the_peer_reports_done_and_digits() {
    let pacer = PacerThread::spawn("rtp-test").unwrap();
    let peer = bind();
    peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let (rtp, rtcp) = (bind(), bind());
    let ours = rtp.local_addr().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let spec = StreamSpec::random(Bytes::from(vec![0xd5; 1600]), 1, Codec::Pcma);
    let id = pacer.start(
        spec,
        MediaStream {
            rtp,
            rtcp,
            remote: peer.local_addr().unwrap(),
            dtmf_pt: Some(101),
            events: tx,
        },
    );

    let mut buf = [0u8; 1500];
    let mut seqs = Vec::new();
    for _ in 0..10 {
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(from, ours, "symmetric RTP: sent from the advertised port");
        let r = rtp_rs::RtpReader::new(&buf[..n]).unwrap();
        assert_eq!(r.payload().len(), 160);
        seqs.push(u16::from(r.sequence_number()));
        if seqs.len() == 1 {
            assert!(r.mark());
            // The callee presses 4: three end packets.
            for end in [false, true, true, true] {
                let p = dtmf::encode(4, end, 10, 800);
                let pkt = rtp_rs::RtpPacketBuilder::new()
                    .payload_type(101)
                    .ssrc(9)
                    .timestamp(777)
                    .payload(&p)
                    .build()
                    .unwrap();
                peer.send_to(&pkt, ours).unwrap();
            }
        }
    }
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
        "{seqs:?}"
    );
    let mut events = Vec::new();
    while events.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .unwrap()
            .unwrap();
        events.push(ev);
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MediaEvent::Digit('4', _))),
        "{events:?}"
    );
    assert!(events.contains(&MediaEvent::PromptDone));
    assert_eq!(pacer.lag().packets(), 10);
    pacer.stop(id);
}
