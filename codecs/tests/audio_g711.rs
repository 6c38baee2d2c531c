//! G.711 is bit-exact: every 16-bit input against the independent `audio-codec-algorithms`
//! implementation, plus points from the ITU-T tables; WAV and RTP framing.

use sendbox_codecs::audio::{FRAME_BYTES, Law, frames, g711, wav};

#[test]
fn alaw_encode_matches_reference_for_every_16bit_sample() {
    for s in i16::MIN..=i16::MAX {
        assert_eq!(
            g711::alaw_encode(s),
            audio_codec_algorithms::encode_alaw(s),
            "sample {s}"
        );
    }
}

#[test]
fn ulaw_encode_matches_reference_for_every_16bit_sample() {
    for s in i16::MIN..=i16::MAX {
        assert_eq!(
            g711::ulaw_encode(s),
            audio_codec_algorithms::encode_ulaw(s),
            "sample {s}"
        );
    }
}

#[test]
fn decoders_match_reference_for_every_code() {
    for c in 0..=255u8 {
        assert_eq!(
            g711::alaw_decode(c),
            audio_codec_algorithms::decode_alaw(c),
            "A-law {c:#04x}"
        );
        assert_eq!(
            g711::ulaw_decode(c),
            audio_codec_algorithms::decode_ulaw(c),
            "μ-law {c:#04x}"
        );
    }
}

#[test]
fn encode_of_decode_is_identity_for_every_code() {
    for c in 0..=255u8 {
        assert_eq!(g711::alaw_encode(g711::alaw_decode(c)), c, "A-law {c:#04x}");
        // μ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes as 0xFF.
        let back = g711::ulaw_encode(g711::ulaw_decode(c));
        assert!(
            back == c || (c == 0x7F && back == 0xFF),
            "μ-law {c:#04x} -> {back:#04x}"
        );
    }
}

#[test]
fn itu_table_points_are_exact() {
    // G.711 Table 1a/2a decision levels, on the 16-bit scale (A-law 13-bit << 3, μ-law 14-bit << 2).
    // A-law: segment 0 step 16, even bits inverted (0x55 mask); positive codes have bit 7 set.
    assert_eq!(g711::alaw_encode(0), 0xD5);
    assert_eq!(g711::alaw_encode(15), 0xD5);
    assert_eq!(g711::alaw_encode(16), 0xD4);
    assert_eq!(g711::alaw_encode(-16), 0x55);
    assert_eq!(g711::alaw_encode(-17), 0x54);
    assert_eq!(g711::alaw_encode(4095), 0x9A); // 13-bit 511: top of segment 4 (0x4F ^ 0xD5)
    assert_eq!(g711::alaw_decode(0xD5), 8);
    assert_eq!(g711::alaw_decode(0x55), -8);
    assert_eq!(g711::alaw_decode(0xAA), 32256);
    // μ-law: 0xFF is +0, 0x80 is the positive maximum (8031 on 14 bits = 32124).
    assert_eq!(g711::ulaw_encode(0), 0xFF);
    assert_eq!(g711::ulaw_decode(0xFF), 0);
    assert_eq!(g711::ulaw_decode(0x80), 32124);
    assert_eq!(g711::ulaw_decode(0x00), -32124);
    assert_eq!(g711::ulaw_encode(i16::MAX), 0x80);
}

#[test]
fn law_constants_match_rtp_and_wav_registries() {
    assert_eq!(Law::ALaw.rtp_payload_type(), 8);
    assert_eq!(Law::MuLaw.rtp_payload_type(), 0);
    assert_eq!(Law::ALaw.wav_format_tag(), 6);
    assert_eq!(Law::MuLaw.wav_format_tag(), 7);
    assert_eq!(Law::ALaw.sdp_name(), "PCMA");
    assert_eq!(Law::default(), Law::ALaw);
}

#[test]
fn wav_header_describes_g711_mono_8khz() {
    let mut out = Vec::new();
    wav::write_g711(Law::MuLaw, &[1, 2, 3], &mut out).unwrap();
    assert_eq!(
        out.len(),
        wav::HEADER_LEN + 3 + 1,
        "odd data is padded to even"
    );
    assert_eq!(&out[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
        out.len() - 8
    );
    assert_eq!(&out[8..16], b"WAVEfmt ");
    assert_eq!(u32::from_le_bytes(out[16..20].try_into().unwrap()), 18);
    assert_eq!(
        u16::from_le_bytes(out[20..22].try_into().unwrap()),
        7,
        "format tag"
    );
    assert_eq!(
        u16::from_le_bytes(out[22..24].try_into().unwrap()),
        1,
        "channels"
    );
    assert_eq!(
        u32::from_le_bytes(out[24..28].try_into().unwrap()),
        8000,
        "rate"
    );
    assert_eq!(
        u16::from_le_bytes(out[34..36].try_into().unwrap()),
        8,
        "bits"
    );
    assert_eq!(&out[38..42], b"fact");
    assert_eq!(
        u32::from_le_bytes(out[46..50].try_into().unwrap()),
        3,
        "fact sample count"
    );
    assert_eq!(&out[50..54], b"data");
    assert_eq!(u32::from_le_bytes(out[54..58].try_into().unwrap()), 3);
    assert_eq!(&out[58..61], &[1, 2, 3]);
}

#[test]
fn frames_are_160_bytes_and_the_last_is_padded_with_silence() {
    let samples: Vec<u8> = (0..400u32).map(|i| i as u8).collect();
    for law in [Law::ALaw, Law::MuLaw] {
        let f: Vec<_> = frames(&samples, law).collect();
        assert_eq!(f.len(), 3);
        assert_eq!(&f[0][..], &samples[..160]);
        assert_eq!(&f[1][..], &samples[160..320]);
        assert_eq!(&f[2][..80], &samples[320..]);
        assert!(f[2][80..].iter().all(|&b| b == law.silence()));
        assert_eq!(f[2].len(), FRAME_BYTES);
    }
    assert_eq!(frames(&[], Law::ALaw).count(), 0);
    assert_eq!(frames(&[0; 320], Law::ALaw).count(), 2);
}
