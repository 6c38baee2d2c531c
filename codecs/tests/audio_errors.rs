//! Bad uploads get an error naming the file and the problem, never a panic.

mod audio_util;

use std::time::Duration;

use audio_util::{fixture, sine, wav};
use sendbox_codecs::audio::{self, AudioError, Prompt, TranscodeOptions};

fn run(name: &str, bytes: &[u8]) -> Result<Prompt, AudioError> {
    run_with(name, bytes, &TranscodeOptions::default())
}

fn run_with(name: &str, bytes: &[u8], opts: &TranscodeOptions) -> Result<Prompt, AudioError> {
    let r = audio::transcode(name, bytes, opts, &mut |_| {});
    if let Err(e) = &r {
        assert!(
            e.to_string().starts_with(&format!("{name}: ")),
            "error does not name the file: {e}"
        );
    }
    r
}

fn tone_wav() -> Vec<u8> {
    wav(8000, 1, &sine(1000.0, 8000, 1.0, -6.0, 1))
}

#[test]
fn zero_byte_file_is_empty() {
    assert!(matches!(
        run("empty.mp3", &[]),
        Err(AudioError::Empty { .. })
    ));
}

#[test]
fn file_over_the_size_limit_is_too_large() {
    let opts = TranscodeOptions {
        max_bytes: 1000,
        ..TranscodeOptions::default()
    };
    let e = run_with("big.wav", &tone_wav(), &opts).unwrap_err();
    assert!(
        matches!(
            e,
            AudioError::TooLarge {
                size: 16044,
                max: 1000,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn audio_over_the_duration_limit_is_too_long() {
    let opts = TranscodeOptions {
        max_duration: Duration::from_millis(500),
        ..TranscodeOptions::default()
    };
    let e = run_with("long.wav", &tone_wav(), &opts).unwrap_err();
    assert!(matches!(e, AudioError::TooLong { .. }), "{e}");
    assert!(e.to_string().contains("0.5s"), "{e}");
}

#[test]
fn truncated_mp3_reports_where_it_stops() {
    let mp3 = fixture("sine1k.mp3");
    let e = run("cut.mp3", &mp3[..mp3.len() * 6 / 10]).unwrap_err();
    match e {
        AudioError::Truncated { at_ms, .. } => assert!((300..=800).contains(&at_ms), "{at_ms}"),
        other => panic!("{other}"),
    }
}

#[test]
fn truncated_mp3_can_be_accepted_and_is_flagged() {
    let mp3 = fixture("sine1k.mp3");
    let opts = TranscodeOptions {
        accept_truncated: true,
        ..TranscodeOptions::default()
    };
    let p = run_with("cut.mp3", &mp3[..mp3.len() * 6 / 10], &opts).unwrap();
    assert!(p.facts.truncated);
    assert!(p.facts.duration_ms > 300 && p.facts.duration_ms < 800);
}

#[test]
fn truncated_wav_flac_and_ogg_are_truncated() {
    let w = tone_wav();
    for (name, bytes) in [
        ("cut.wav", w[..w.len() / 2].to_vec()),
        ("cut.flac", fixture("sine1k.flac")[..6000].to_vec()),
        ("cut.ogg", fixture("sine1k.ogg")[..4000].to_vec()),
        ("cut.opus", fixture("sine1k.opus")[..8000].to_vec()),
    ] {
        let e = run(name, &bytes).unwrap_err();
        assert!(matches!(e, AudioError::Truncated { .. }), "{name}: {e}");
    }
}

#[test]
fn wav_header_claiming_gigabytes_is_refused() {
    let mut w = tone_wav();
    w.truncate(44 + 2000);
    w[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    w[40..44].copy_from_slice(&(0xFFFF_FFF0u32 - 36).to_le_bytes());
    let e = run("liar.wav", &w).unwrap_err();
    assert!(
        matches!(e, AudioError::Corrupt { .. } | AudioError::Truncated { .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("more data than the file holds") || e.class() == "truncated",
        "{e}"
    );
}

#[test]
fn text_named_wav_is_unsupported_format_text() {
    let e = run("prompt.wav", b"Hello, please call us back\n").unwrap_err();
    match &e {
        AudioError::UnsupportedFormat { detected, .. } => assert_eq!(detected, "text"),
        other => panic!("{other}"),
    }
}

#[test]
fn mislabelled_audio_is_decoded_by_content() {
    let p = run("really_an_mp3.wav", &fixture("sine1k.mp3")).unwrap();
    assert_eq!(p.facts.format, "mp3");
}

#[test]
fn garbled_mp3_is_corrupt() {
    let mut m = fixture("sine1k.mp3");
    let mut x = 12345u32;
    for b in m.iter_mut().skip(2000).step_by(7) {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    let e = run("garbled.mp3", &m).unwrap_err();
    assert!(matches!(e, AudioError::Corrupt { .. }), "{e}");
}

#[test]
fn wav_with_no_samples_is_refused() {
    let w = wav(8000, 1, &[]);
    let e = run("silent.wav", &w).unwrap_err();
    assert!(
        matches!(
            e,
            AudioError::NoSamples {
                after_trim: false,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn all_silence_with_trimming_is_refused() {
    let w = wav(8000, 1, &vec![0i16; 8000]);
    let opts = TranscodeOptions {
        trim_silence: true,
        ..TranscodeOptions::default()
    };
    let e = run_with("quiet.wav", &w, &opts).unwrap_err();
    assert!(
        matches!(
            e,
            AudioError::NoSamples {
                after_trim: true,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn video_without_audio_has_no_audio_track() {
    let e = run("clip.mp4", &fixture("video_only.mp4")).unwrap_err();
    assert!(matches!(e, AudioError::NoAudioTrack { .. }), "{e}");
}

#[test]
fn wav_with_gsm_codec_names_the_codec() {
    let e = run("gsm.wav", &fixture("gsm610.wav")).unwrap_err();
    match &e {
        AudioError::UnsupportedCodec { codec, .. } => {
            assert!(codec.contains("GSM 6.10"), "{codec}")
        }
        other => panic!("{other}"),
    }
}

fn patch_asc(m4a: &[u8], asc: [u8; 2]) -> Vec<u8> {
    let mut m = m4a.to_vec();
    let esds = m.windows(4).position(|w| w == b"esds").expect("esds box");
    // DecoderSpecificInfo (tag 5) holding the 2-byte AudioSpecificConfig of AAC-LC 44.1 kHz stereo.
    let at = esds
        + m[esds..]
            .windows(2)
            .position(|w| w == [0x12, 0x10])
            .expect("ASC");
    m[at..at + 2].copy_from_slice(&asc);
    m
}

#[test]
fn he_aac_is_refused_by_name() {
    let m4a = fixture("sine1k_aac.m4a");
    for (asc, codec) in [([0x2A, 0x10], "HE-AAC"), ([0xEA, 0x10], "HE-AACv2")] {
        let e = run("voice.m4a", &patch_asc(&m4a, asc)).unwrap_err();
        match &e {
            AudioError::UnsupportedCodec { codec: c, .. } => assert_eq!(c, codec),
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains(codec));
    }
}

#[test]
fn mp4_without_its_index_says_so() {
    let m = fixture("sine1k_aac.m4a");
    let e = run("cut.m4a", &m[..4000]).unwrap_err();
    assert!(
        e.to_string().contains("truncated upload") || e.class() == "truncated",
        "{e}"
    );
}
