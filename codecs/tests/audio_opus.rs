//! The pure-Rust Opus decoder (opus-pure) against libopus.
//!
//! The `.libopus.s16` references were decoded from the committed `.opus` files by libopus
//! 1.3.1 (Debian 12's `libopus0`, through `ffmpeg -c:a libopus -i X.opus -f s16le`), which
//! trims the pre-skip. SILK, hybrid and CELT streams are covered. The Opus spec makes the
//! decoder's output normative only to a tolerance (RFC 6716 §6, `opus_compare`); libopus itself
//! changed its float path between 1.3 and 1.6, so CELT is checked by SNR; SILK and hybrid
//! (whose low band is SILK's fixed-point output) come out bit-identical.

mod audio_util;

use audio_util::fixture;
use opus_pure::OpusDecoder;
use sendbox_codecs::audio::{self, TranscodeOptions};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Decodes every packet of an Ogg Opus file with opus-pure (16-bit path, as `opus_decode`),
/// drops the pre-skip, returns interleaved samples and the channel count.
fn decode_with_opus_pure(file: &str) -> (Vec<i16>, usize) {
    let bytes = fixture(file);
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut fr = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .unwrap();
    let track = fr.default_track(TrackType::Audio).unwrap();
    let head = track
        .codec_params
        .as_ref()
        .unwrap()
        .audio()
        .unwrap()
        .extra_data
        .clone()
        .unwrap();
    let channels = usize::from(head[9]);
    let pre_skip = usize::from(u16::from_le_bytes([head[10], head[11]]));
    let mut dec = OpusDecoder::new(48_000, channels).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0i16; 5760 * channels];
    while let Ok(Some(p)) = fr.next_packet() {
        let n = dec.decode_s16(&p.data, 5760, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n * channels]);
    }
    (out.split_off(pre_skip * channels), channels)
}

fn snr_db(ours: &[i16], reference: &[i16]) -> f64 {
    let n = reference.len().min(ours.len());
    assert!(
        n + 960 * 2 >= reference.len(),
        "lengths differ: {} vs {}",
        ours.len(),
        reference.len()
    );
    let (mut sig, mut err) = (0f64, 0f64);
    for i in 0..n {
        let r = f64::from(reference[i]);
        sig += r * r;
        err += (r - f64::from(ours[i])).powi(2);
    }
    10.0 * (sig / err.max(1e-9)).log10()
}

fn reference(file: &str) -> Vec<i16> {
    fixture(file)
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[test]
fn opus_pure_matches_libopus_on_silk_hybrid_and_celt_streams() {
    // Measured: SILK and hybrid are bit-identical to libopus, CELT agrees to 101 dB.
    for (file, min_snr) in [
        ("opus_silk", 150.0),
        ("opus_hybrid", 150.0),
        ("opus_celt", 90.0),
    ] {
        let (ours, channels) = decode_with_opus_pure(&format!("{file}.opus"));
        let theirs = reference(&format!("{file}.libopus.s16"));
        let snr = snr_db(&ours, &theirs);
        println!("{file}: {channels} ch, SNR vs libopus 1.3.1 = {snr:.1} dB");
        assert!(snr >= min_snr, "{file}: SNR {snr:.1} dB against libopus");
        if min_snr > 100.0 {
            let n = theirs.len().min(ours.len());
            assert_eq!(ours[..n], theirs[..n], "{file}: not bit-exact");
        }
    }
}

#[test]
fn ogg_opus_voice_note_transcodes_to_the_exact_length() {
    for (file, ms) in [
        ("opus_silk.opus", 500),
        ("opus_hybrid.opus", 500),
        ("opus_celt.opus", 250),
    ] {
        let p = audio::transcode(
            file,
            &fixture(file),
            &TranscodeOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(p.facts.format, "ogg/opus");
        assert_eq!(p.facts.input_rate, 48_000);
        assert_eq!(p.facts.duration_ms, ms, "{file}");
        assert_eq!(p.samples.len() as u64, ms * 8, "{file}");
    }
}
