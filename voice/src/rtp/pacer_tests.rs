//! The pacer core on a virtual clock.

use super::*;
use rtp_rs::RtpReader;

fn spec(bytes: usize, repeat: u8) -> StreamSpec {
    let prompt: Vec<u8> = (0..bytes).map(|i| i as u8).collect();
    StreamSpec {
        prompt: Bytes::from(prompt),
        repeat,
        codec: Codec::Pcma,
        ssrc: 42,
        first_seq: 65534,
        first_ts: u32::MAX - 159,
    }
}

/// Run the pacer until `until`, recording (time since t0, stream, kind, bytes) per packet.
fn run(
    p: &mut Pacer,
    t0: Instant,
    until: Duration,
) -> Vec<(Duration, StreamId, PacketKind, Vec<u8>)> {
    let mut got = Vec::new();
    while let Some(at) = p.poll_timeout() {
        if at > t0 + until {
            break;
        }
        p.handle_timeout(at, Duration::from_secs(1), |id, k, b| {
            got.push((at - t0, id, k, b.to_vec()))
        });
    }
    got
}

#[test]
fn sends_fifty_packets_a_second_with_correct_seq_timestamp_and_marker() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    p.add(t0, StreamId(7), spec(8000 * 3, 1)); // a 3 s prompt
    let got = run(&mut p, t0, Duration::from_millis(999));
    let rtp: Vec<_> = got.iter().filter(|g| g.2 == PacketKind::Rtp).collect();
    assert_eq!(rtp.len(), 50, "50 packets in the first second");
    for (i, (at, _, _, bytes)) in rtp.iter().enumerate() {
        let r = RtpReader::new(bytes).unwrap();
        assert_eq!(
            *at,
            rtp[0].0 + Duration::from_millis(20 * i as u64),
            "20 ms apart"
        );
        assert_eq!(r.payload_type(), 8);
        assert_eq!(r.ssrc(), 42);
        assert_eq!(
            u16::from(r.sequence_number()),
            65534u16.wrapping_add(i as u16),
            "seq wraps"
        );
        assert_eq!(
            r.timestamp(),
            (u32::MAX - 159).wrapping_add(160 * i as u32),
            "ts wraps"
        );
        assert_eq!(r.mark(), i == 0, "marker on the first packet only");
        assert_eq!(r.payload().len(), FRAME);
        assert_eq!(
            r.payload()[0],
            (i * FRAME) as u8,
            "payload follows the prompt"
        );
    }
}

#[test]
fn streams_spread_across_the_period_and_wakeups_stay_per_slot() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    for i in 0..100 {
        p.add(t0, StreamId(i), spec(16_000, 1));
    }
    let mut wakeups = 0;
    let mut per_ms = HashMap::<Duration, u32>::new();
    while let Some(at) = p.poll_timeout() {
        if at >= t0 + Duration::from_secs(1) {
            break;
        }
        wakeups += 1;
        p.handle_timeout(at, Duration::ZERO, |_, k, _| {
            if k == PacketKind::Rtp {
                *per_ms.entry(at - t0).or_default() += 1
            }
        });
    }
    assert_eq!(wakeups, 1000, "one wakeup per millisecond, not per packet");
    assert!(
        per_ms.values().all(|&n| n == 5),
        "100 streams over 20 slots = 5 per ms"
    );
    assert_eq!(per_ms.values().sum::<u32>(), 100 * 50);
}

#[test]
fn repeats_play_back_to_back_then_report_done_once() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    p.add(t0, StreamId(1), spec(410, 2)); // 820 bytes = 6 packets, the last mostly silence
    let got = run(&mut p, t0, Duration::from_secs(1));
    let rtp: Vec<_> = got.iter().filter(|g| g.2 == PacketKind::Rtp).collect();
    assert_eq!(rtp.len(), 6);
    let third = RtpReader::new(&rtp[2].3).unwrap();
    assert_eq!(third.payload()[89], 409u16 as u8, "end of first play");
    assert_eq!(third.payload()[90], 0, "second play starts mid-packet");
    let last = RtpReader::new(&rtp[5].3).unwrap();
    assert_eq!(last.payload()[19], 409u16 as u8, "end of the second play");
    assert_eq!(last.payload()[20], ALAW_SILENCE, "padding after the prompt");
    assert_eq!(p.poll_event(), Some(PacerEvent::PromptDone(StreamId(1))));
    assert_eq!(p.poll_event(), None);
    assert_eq!(
        p.remove(StreamId(1)),
        Some(StreamStats {
            packets: 6,
            octets: 960
        })
    );
    assert!(p.poll_timeout().is_none());
}

#[test]
fn rtcp_sender_report_every_five_seconds() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    p.add(t0, StreamId(1), spec(8000 * 12, 1));
    let got = run(&mut p, t0, Duration::from_secs(11));
    let rtcp: Vec<_> = got.iter().filter(|g| g.2 == PacketKind::Rtcp).collect();
    assert_eq!(rtcp.len(), 2, "at 5 s and 10 s");
    let gap = rtcp[1].0 - rtcp[0].0;
    assert_eq!(gap, Duration::from_secs(5));
    assert_eq!(rtcp[0].3[1], 200);
    assert_eq!(
        u32::from_be_bytes(rtcp[0].3[20..24].try_into().unwrap()),
        250,
        "packet count"
    );
}

#[test]
fn pcmu_answer_gets_transcoded_payload() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    let mut s = spec(160, 1);
    s.codec = Codec::Pcmu;
    s.prompt = Bytes::from(vec![ALAW_SILENCE; 160]);
    p.add(t0, StreamId(1), s);
    let got = run(&mut p, t0, Duration::from_secs(1));
    let r = RtpReader::new(&got[0].3).unwrap();
    assert_eq!(r.payload_type(), 0);
    assert_eq!(r.payload()[0], ALAW_TO_ULAW[ALAW_SILENCE as usize]);
}

#[test]
fn removing_mid_stream_stops_its_packets() {
    let t0 = Instant::now();
    let mut p = Pacer::new(t0);
    p.add(t0, StreamId(1), spec(8000, 1));
    p.add(t0, StreamId(2), spec(8000, 1));
    let _ = run(&mut p, t0, Duration::from_millis(100));
    p.remove(StreamId(1));
    let later = run(&mut p, t0, Duration::from_millis(300));
    assert!(later.iter().all(|g| g.1 == StreamId(2)));
    assert!(!later.is_empty());
}
