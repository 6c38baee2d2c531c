//! Signal quality of the 8 kHz path for MP3 input, which takes the telephone-band MP3 decoder
//! (`sendbox-mp3-lowband`: mono, quarter or half rate) instead of the full one: the same checks
//! as `audio_quality.rs` runs on WAV.
//!
//! Fixtures (`tests/fixtures/audio/mp3q/`, LAME via ffmpeg 5.1, joint stereo, both channels
//! equal; tone files are one tone after another, joined with ffmpeg's `concat` filter):
//! - `sine1k_44k1_stereo.mp3`: `ffmpeg -f lavfi -i "aevalsrc=exprs=0.5012*sin(2*PI*1000*t)|
//!   0.5012*sin(2*PI*1000*t):s=44100:d=2" -c:a libmp3lame -b:a 128k` (−6 dBFS, 2 s);
//! - `sweep_{44k1,48k,32k}.mp3`: −6 dBFS tones of 0.25 s at 300, 1000, 2000, 3000, 3100, 3200,
//!   3300, 3400 Hz, 192 kb/s (at 96-128 kb/s LAME itself moves single tones by up to 0.55 dB:
//!   a full decode by ffmpeg shows the same levels as ours);
//! - `high_{44k1,48k}.mp3`: −1 dBFS tones of 0.5 s at 4.5, 5, 6, 7, 8, 11, 15, 20 kHz, 96 kb/s.

mod audio_util;

use audio_util::{fixture, linear, rms_dbfs, tone, zero_crossing_hz};
use sendbox_codecs::audio::{self, Law, Prompt, TranscodeOptions};

const SWEEP: [f64; 8] = [
    300.0, 1000.0, 2000.0, 3000.0, 3100.0, 3200.0, 3300.0, 3400.0,
];
const HIGH: [f64; 8] = [
    4500.0, 5000.0, 6000.0, 7000.0, 8000.0, 11_000.0, 15_000.0, 20_000.0,
];

fn run(name: &str, law: Law, normalize: Option<f32>) -> Prompt {
    let opts = TranscodeOptions {
        law,
        normalize,
        ..TranscodeOptions::default()
    };
    let bytes = fixture(&format!("mp3q/{name}"));
    audio::transcode(name, &bytes, &opts, &mut |_| {}).expect("transcode")
}

/// Segment `k` of an 8 kHz signal cut in segments of `len` samples.
fn segment(x: &[f64], len: usize, k: usize) -> &[f64] {
    &x[k * len..(k + 1) * len]
}

#[test]
fn mp3_sine_1khz_44k1_stereo_comes_out_at_1khz_same_level_and_clean() {
    for law in [Law::ALaw, Law::MuLaw] {
        let p = run("sine1k_44k1_stereo.mp3", law, Some(-3.0));
        let x = linear(law, &p.samples);
        let hz = zero_crossing_hz(&x);
        assert!((hz - 1000.0).abs() < 2.0, "{law:?}: {hz} Hz");
        let (level, snr) = tone(&x, 1000.0);
        eprintln!("{law:?}: 1 kHz at {level:.2} dBFS, SNR {snr:.1} dB");
        assert!((level + 3.0).abs() < 0.5, "{law:?}: level {level} dBFS");
        assert!(snr >= 35.0, "{law:?}: SNR {snr} dB");
        assert_eq!(p.facts.input_rate, 44_100);
        assert_eq!(p.facts.input_channels, 2);
        assert_eq!(p.facts.format, "mp3");
        // 2 s in (gapless trimming), 2 s out, within one 20 ms frame.
        assert!(
            (p.samples.len() as i64 - 16_000).abs() <= 160,
            "{}",
            p.samples.len()
        );
        assert!((p.facts.duration_ms as i64 - 2000).abs() <= 20);
        assert!((p.facts.input_duration_ms as i64 - 2000).abs() <= 20);

        let p = run("sine1k_44k1_stereo.mp3", law, None);
        let (level, _) = tone(&linear(law, &p.samples), 1000.0);
        assert!((level + 6.0).abs() < 0.5, "{law:?}: level {level} dBFS");
    }
}

#[test]
fn mp3_passband_is_flat_within_half_a_db_up_to_3400hz() {
    for name in ["sweep_44k1.mp3", "sweep_48k.mp3", "sweep_32k.mp3"] {
        let p = run(name, Law::MuLaw, None);
        let x = linear(Law::MuLaw, &p.samples);
        assert!(
            (x.len() as i64 - 16_000).abs() <= 160,
            "{name}: {}",
            x.len()
        );
        for (k, f) in SWEEP.into_iter().enumerate() {
            let (level, _) = tone(segment(&x, 2000, k), f);
            eprintln!("{name}: {f} Hz at {level:.2} dBFS");
            assert!(
                (level + 6.0).abs() <= 0.5,
                "{name}, {f} Hz tone: {level} dBFS"
            );
        }
    }
}

#[test]
fn mp3_content_above_4500hz_comes_out_at_least_70db_down() {
    for name in ["high_44k1.mp3", "high_48k.mp3"] {
        let p = run(name, Law::MuLaw, None);
        let x = linear(Law::MuLaw, &p.samples);
        for (k, f) in HIGH.into_iter().enumerate() {
            let out = rms_dbfs(segment(&x, 4000, k));
            eprintln!("{name}: {f} Hz at {out:.1} dBFS");
            // Input RMS is -4 dBFS.
            assert!(out <= -74.0, "{name}, {f} Hz tone leaks at {out} dBFS");
        }
    }
}
