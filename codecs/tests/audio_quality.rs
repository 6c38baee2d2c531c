//! Signal quality of the 8 kHz path: tone frequency, level, SNR, anti-aliasing, passband.

mod audio_util;

use audio_util::{linear, rms_dbfs, sine, tone, wav, zero_crossing_hz};
use sendbox_codecs::audio::{self, Law, Prompt, TranscodeOptions};

fn run(bytes: &[u8], law: Law, normalize: Option<f32>) -> Prompt {
    let opts = TranscodeOptions {
        law,
        normalize,
        ..TranscodeOptions::default()
    };
    audio::transcode("test.wav", bytes, &opts, &mut |_| {}).expect("transcode")
}

#[test]
fn sine_1khz_44k1_stereo_comes_out_at_1khz_same_level_and_clean() {
    let input = wav(44_100, 2, &sine(1000.0, 44_100, 2.0, -6.0, 2));
    for law in [Law::ALaw, Law::MuLaw] {
        // Default options: peak-normalised to -3 dBFS.
        let p = run(&input, law, Some(-3.0));
        let x = linear(law, &p.samples);
        let hz = zero_crossing_hz(&x);
        assert!((hz - 1000.0).abs() < 2.0, "{law:?}: {hz} Hz");
        let (level, snr) = tone(&x, 1000.0);
        assert!((level + 3.0).abs() < 0.5, "{law:?}: level {level} dBFS");
        assert!(snr >= 35.0, "{law:?}: SNR {snr} dB");
        assert_eq!(p.facts.input_rate, 44_100);
        assert_eq!(p.facts.input_channels, 2);
        assert!((p.facts.gain_db_applied - 3.0).abs() < 0.1);

        // Level kept: 1 kHz is exactly fs/8, so G.711's rounding error repeats every 8 samples
        // and the SNR depends on the level (measured 34-46 dB); a 1010 Hz tone shows the
        // codec's ordinary SNR.
        let p = run(&input, law, None);
        let (level, snr) = tone(&linear(law, &p.samples), 1000.0);
        assert!((level + 6.0).abs() < 0.5, "{law:?}: level {level} dBFS");
        assert!(snr >= 33.0, "{law:?}: SNR {snr} dB");
        let off = wav(44_100, 2, &sine(1010.0, 44_100, 2.0, -6.0, 2));
        let (level, snr) = tone(&linear(law, &run(&off, law, None).samples), 1010.0);
        assert!((level + 6.0).abs() < 0.5, "{law:?}: level {level} dBFS");
        assert!(snr >= 35.0, "{law:?}: SNR {snr} dB at 1010 Hz");
    }
}

#[test]
fn tone_at_6khz_is_attenuated_at_least_60db() {
    let input = wav(44_100, 2, &sine(6000.0, 44_100, 1.0, -1.0, 2));
    let p = run(&input, Law::MuLaw, None);
    let out = rms_dbfs(&linear(Law::MuLaw, &p.samples));
    // A full-scale-ish sine has RMS 3 dB under its peak: input RMS is -4 dBFS.
    assert!(out <= -4.0 - 60.0, "6 kHz leaks at {out} dBFS");
}

#[test]
fn passband_is_flat_within_half_a_db_up_to_3400hz() {
    for rate in [44_100, 48_000, 16_000, 22_050] {
        for f in [
            300.0, 1000.0, 2000.0, 3000.0, 3100.0, 3200.0, 3300.0, 3400.0,
        ] {
            let input = wav(rate, 1, &sine(f, rate, 0.5, -6.0, 1));
            let p = run(&input, Law::MuLaw, None);
            let (level, _) = tone(&linear(Law::MuLaw, &p.samples), f);
            assert!(
                (level + 6.0).abs() <= 0.5,
                "{rate} Hz input, {f} Hz tone: {level} dBFS"
            );
        }
    }
}

#[test]
fn content_above_4500hz_comes_out_at_least_70db_down() {
    for rate in [44_100, 48_000] {
        for f in [
            4500.0, 5000.0, 6000.0, 7000.0, 8000.0, 11_000.0, 15_000.0, 20_000.0,
        ] {
            let input = wav(rate, 1, &sine(f, rate, 0.5, -1.0, 1));
            let p = run(&input, Law::MuLaw, None);
            let out = rms_dbfs(&linear(Law::MuLaw, &p.samples));
            // Input RMS is -4 dBFS.
            assert!(
                out <= -74.0,
                "{rate} Hz input, {f} Hz tone leaks at {out} dBFS"
            );
        }
    }
}

#[test]
fn output_duration_matches_input_within_one_frame() {
    for (rate, secs) in [(44_100, 1.234), (48_000, 0.517), (8000, 2.0), (11_025, 3.3)] {
        let input = wav(rate, 1, &sine(440.0, rate, secs, -6.0, 1));
        let p = run(&input, Law::ALaw, Some(-3.0));
        let expected = secs * 8000.0;
        let got = p.samples.len() as f64;
        assert!(
            (got - expected).abs() <= 160.0,
            "{rate}: {got} samples, expected {expected}"
        );
        assert!((p.facts.duration_ms as f64 - secs * 1000.0).abs() <= 20.0);
    }
}

#[test]
fn quiet_input_is_normalised_to_the_target_peak() {
    let input = wav(16_000, 1, &sine(510.0, 16_000, 1.0, -30.0, 1));
    let p = run(&input, Law::ALaw, Some(-3.0));
    let (level, snr) = tone(&linear(Law::ALaw, &p.samples), 510.0);
    assert!((level + 3.0).abs() < 0.3, "level {level}");
    assert!(snr > 35.0, "snr {snr}");
    assert!(
        (p.facts.gain_db_applied - 27.0).abs() < 0.3,
        "{}",
        p.facts.gain_db_applied
    );
    assert!(
        (p.facts.peak_dbfs_in + 30.0).abs() < 0.3,
        "{}",
        p.facts.peak_dbfs_in
    );
    assert_eq!(p.facts.clipped_samples, 0);
}

#[test]
fn normalisation_gain_is_capped_at_30db() {
    let input = wav(16_000, 1, &sine(500.0, 16_000, 1.0, -50.0, 1));
    let p = run(&input, Law::ALaw, Some(-3.0));
    assert!(
        (p.facts.gain_db_applied - 30.0).abs() < 1e-3,
        "{}",
        p.facts.gain_db_applied
    );
    let (level, _) = tone(&linear(Law::ALaw, &p.samples), 500.0);
    assert!((level + 20.0).abs() < 0.3, "level {level}");
}

#[test]
fn full_scale_square_wave_does_not_clip_when_normalised() {
    let pcm: Vec<i16> = (0..44_100)
        .map(|i| if (i / 50) % 2 == 0 { 32767 } else { -32768 })
        .collect();
    let input = wav(44_100, 1, &pcm);
    let p = run(&input, Law::ALaw, Some(-3.0));
    assert_eq!(p.facts.clipped_samples, 0);
    assert!(
        p.facts.gain_db_applied < -3.0,
        "band-limiting overshoots, so gain is below -3 dB"
    );
    let peak = linear(Law::ALaw, &p.samples)
        .iter()
        .fold(0f64, |m, v| m.max(v.abs()));
    assert!(20.0 * peak.log10() <= -2.5, "peak {}", 20.0 * peak.log10());
}

#[test]
fn without_normalisation_overshoot_is_counted_as_clipping() {
    let pcm: Vec<i16> = (0..44_100)
        .map(|i| if (i / 50) % 2 == 0 { 32767 } else { -32768 })
        .collect();
    let p = run(&wav(44_100, 1, &pcm), Law::ALaw, None);
    assert!(p.facts.clipped_samples > 0);
    assert_eq!(p.facts.gain_db_applied, 0.0);
}
