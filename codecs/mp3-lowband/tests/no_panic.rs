//! Damaged MP3 data gives decode errors, never a panic: every fixture with bytes flipped at
//! random (deterministic seeds) is decoded packet by packet to the end.

use sendbox_mp3_lowband::LowbandMp3Decoder;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

fn decode_all(bytes: Vec<u8>) -> (usize, usize) {
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let Ok(mut format) = symphonia::default::get_probe().probe(
        &hint,
        mss,
        FormatOptions::default(),
        MetadataOptions::default(),
    ) else {
        return (0, 0);
    };
    let Some(params) = format
        .default_track(TrackType::Audio)
        .and_then(|t| t.codec_params.as_ref())
        .and_then(|p| p.audio())
        .cloned()
    else {
        return (0, 0);
    };
    let Ok(mut dec) = LowbandMp3Decoder::try_new(&params, &AudioDecoderOptions::default()) else {
        return (0, 0);
    };
    let (mut ok, mut bad) = (0, 0);
    while let Ok(Some(packet)) = format.next_packet() {
        use symphonia::core::codecs::audio::AudioDecoder;
        match dec.decode(&packet) {
            Ok(_) => ok += 1,
            Err(_) => bad += 1,
        }
    }
    (ok, bad)
}

#[test]
fn flipped_bytes_give_errors_not_panics() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut seed = 0x9e37_79b9u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let (mut ok, mut bad) = (0, 0);
    for file in [
        "js44.mp3",
        "st44.mp3",
        "mono48.mp3",
        "js32.mp3",
        "js22.mp3",
        "mono16.mp3",
    ] {
        let clean = std::fs::read(format!("{dir}/{file}")).expect("fixture");
        for _ in 0..40 {
            let mut m = clean.clone();
            let flips = 1 + next() as usize % 64;
            for _ in 0..flips {
                let i = 200 + next() as usize % (m.len() - 200);
                m[i] ^= 1 << (next() % 8);
            }
            let (o, b) = decode_all(m);
            ok += o;
            bad += b;
        }
    }
    assert!(ok > 0 && bad > 0, "{ok} packets decoded, {bad} refused");
}
