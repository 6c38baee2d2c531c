//! Every supported container/codec decodes to a 1 kHz tone of the right length.

mod audio_util;

use audio_util::{fixture, linear, sine, tone, wav, zero_crossing_hz};
use sendbox_codecs::audio::{self, Law, TranscodeOptions};

/// (fixture, detected format, input rate, input channels, seconds, allowed duration error ms)
const FIXTURES: &[(&str, &str, u32, usize, f64, u64)] = &[
    ("sine1k.mp3", "mp3", 44_100, 2, 1.0, 20),
    ("sine1k.ogg", "ogg/vorbis", 44_100, 2, 1.0, 20),
    ("sine1k.opus", "ogg/opus", 48_000, 2, 1.0, 20),
    ("sine1k.flac", "flac", 22_050, 1, 0.5, 20),
    ("sine1k.aiff", "aiff/pcm_s16be", 22_050, 1, 0.5, 20),
    ("sine1k_alac.m4a", "mp4/alac", 22_050, 1, 0.5, 20),
    // M4A AAC: the encoder's 1024 priming samples and final padding are cut by the MP4 edit
    // list (read by `audio::mp4`, since symphonia 0.6.1 ignores it).
    ("sine1k_aac.m4a", "mp4/aac", 44_100, 2, 1.0, 0),
    // Raw ADTS carries no such information: priming and padding stay in (44 ms at 44.1 kHz).
    ("sine1k.aac", "aac", 44_100, 2, 1.0, 50),
];

#[test]
fn every_supported_format_decodes_to_the_tone() {
    for &(file, format, rate, channels, secs, tol_ms) in FIXTURES {
        let bytes = fixture(file);
        let p = audio::transcode(file, &bytes, &TranscodeOptions::default(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.facts.format, format, "{file}");
        assert_eq!(p.facts.input_rate, rate, "{file}");
        assert_eq!(p.facts.input_channels, channels, "{file}");
        let ms = (secs * 1000.0) as u64;
        assert!(
            p.facts.duration_ms.abs_diff(ms) <= tol_ms,
            "{file}: {} ms",
            p.facts.duration_ms
        );
        let x = linear(Law::ALaw, &p.samples);
        let hz = zero_crossing_hz(&x);
        assert!((hz - 1000.0).abs() < 10.0, "{file}: {hz} Hz");
        let (level, snr) = tone(&x, 1000.0);
        // Peak-normalised to -3 dBFS; lossy codecs' onset overshoot can put the peak above the
        // steady tone, so the tone sits at or a little under -3 dBFS.
        assert!(
            (-6.0..=-2.5).contains(&level),
            "{file}: normalised level {level}"
        );
        assert!(snr > 30.0, "{file}: SNR {snr}");
    }
}

#[test]
fn wav_variants_decode_8bit_24bit_float_and_g711() {
    // 24-bit and float WAVs from the 16-bit one would need an encoder; G.711 WAV is our own.
    let src = wav(8000, 1, &sine(1000.0, 8000, 1.0, -6.0, 1));
    let opts = TranscodeOptions {
        normalize: None,
        ..TranscodeOptions::default()
    };
    for law in [Law::ALaw, Law::MuLaw] {
        let p = audio::transcode(
            "a.wav",
            &src,
            &TranscodeOptions {
                law,
                ..opts.clone()
            },
            &mut |_| {},
        )
        .expect("pcm wav");
        let g711_wav = p.to_wav().expect("wav");
        let q = audio::transcode(
            "g711.wav",
            &g711_wav,
            &TranscodeOptions {
                law,
                ..opts.clone()
            },
            &mut |_| {},
        )
        .expect("g711 wav");
        let tag = if law == Law::ALaw {
            "wav/pcm_alaw"
        } else {
            "wav/pcm_mulaw"
        };
        assert_eq!(q.facts.format, tag);
        // Decoding G.711 and re-encoding it with the same law gives back the same bytes.
        assert_eq!(q.samples, p.samples, "{law:?}");
    }
}
