//! Pipeline behaviour: two-pass equals one-pass, silence trimming, progress, file readers.

mod audio_util;

use std::io::Cursor;
use std::time::Duration;

use audio_util::{fixture, sine, wav};
use sendbox_codecs::audio::{self, Law, Progress, TranscodeOptions, TranscodeReport};

#[test]
fn long_audio_decoded_twice_gives_the_same_bytes_as_one_pass() {
    let input = wav(44_100, 2, &sine(700.0, 44_100, 3.0, -12.0, 2));
    let one = audio::transcode("a.wav", &input, &TranscodeOptions::default(), &mut |_| {}).unwrap();
    let opts = TranscodeOptions {
        single_pass_limit: Duration::from_secs(1),
        ..TranscodeOptions::default()
    };
    let two = audio::transcode("a.wav", &input, &opts, &mut |_| {}).unwrap();
    assert_eq!(one.facts.passes, 1);
    assert_eq!(two.facts.passes, 2);
    assert_eq!(one.samples, two.samples);
    assert_eq!(one.facts.gain_db_applied, two.facts.gain_db_applied);
}

#[test]
fn two_pass_mp3_matches_one_pass() {
    let mp3 = fixture("sine1k.mp3");
    let one = audio::transcode("a.mp3", &mp3, &TranscodeOptions::default(), &mut |_| {}).unwrap();
    let opts = TranscodeOptions {
        single_pass_limit: Duration::from_millis(100),
        ..TranscodeOptions::default()
    };
    let two = audio::transcode("a.mp3", &mp3, &opts, &mut |_| {}).unwrap();
    assert_eq!(two.facts.passes, 2);
    assert_eq!(one.samples, two.samples);
}

#[test]
fn trimming_drops_leading_and_trailing_silence_but_keeps_a_margin() {
    let rate = 16_000;
    let mut pcm = vec![0i16; rate as usize / 2]; // 0.5 s silence
    pcm.extend(sine(440.0, rate, 1.0, -10.0, 1));
    pcm.extend(vec![3i16; rate as usize * 7 / 10]); // 0.7 s of near-silence (-80 dBFS)
    let opts = TranscodeOptions {
        trim_silence: true,
        ..TranscodeOptions::default()
    };
    let p = audio::transcode("t.wav", &wav(rate, 1, &pcm), &opts, &mut |_| {}).unwrap();
    // 1 s of tone plus at most 100 ms margin on each side (and one 20 ms block of rounding).
    assert!(
        (1000..=1240).contains(&p.facts.duration_ms),
        "{}",
        p.facts.duration_ms
    );
    let (start, end) = p.facts.trimmed_ms;
    assert!((380..=500).contains(&start), "start trim {start}");
    assert!((580..=700).contains(&end), "end trim {end}");
    let untrimmed = audio::transcode(
        "t.wav",
        &wav(rate, 1, &pcm),
        &TranscodeOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(untrimmed.facts.duration_ms, 2200);
}

#[test]
fn progress_is_reported_and_ends_at_the_duration() {
    let input = wav(8000, 1, &sine(440.0, 8000, 12.0, -6.0, 1));
    let mut seen: Vec<Progress> = Vec::new();
    audio::transcode("p.wav", &input, &TranscodeOptions::default(), &mut |p| {
        seen.push(p)
    })
    .unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!(last.pass, 1);
    assert_eq!(last.done_ms, 12_000);
    assert_eq!(last.total_ms, Some(12_000));
    assert!(seen.windows(2).all(|w| w[0].done_ms <= w[1].done_ms));
}

#[test]
fn reader_and_bytes_give_the_same_prompt() {
    let ogg = fixture("sine1k.ogg");
    let a = audio::transcode("x.ogg", &ogg, &TranscodeOptions::default(), &mut |_| {}).unwrap();
    let b = audio::transcode_reader(
        "x.ogg",
        &mut Cursor::new(ogg),
        &TranscodeOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn mulaw_output_and_rtp_frames() {
    let opts = TranscodeOptions {
        law: Law::MuLaw,
        ..TranscodeOptions::default()
    };
    let p = audio::transcode("x.flac", &fixture("sine1k.flac"), &opts, &mut |_| {}).unwrap();
    assert_eq!(p.law, Law::MuLaw);
    assert_eq!(p.samples.len(), 4000);
    assert_eq!(p.frames().count(), 25);
    let w = p.to_wav().unwrap();
    assert_eq!(u16::from_le_bytes([w[20], w[21]]), 7);
}

#[test]
fn report_summarises_speed_and_sizes() {
    let p = audio::transcode(
        "x.flac",
        &fixture("sine1k.flac"),
        &TranscodeOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let r = TranscodeReport::new("x.flac", 11_767, &p, Duration::from_millis(5));
    assert_eq!(r.output_bytes, 4000);
    assert_eq!(r.input_duration_ms, 500);
    assert!((r.speed_x() - 100.0).abs() < 1e-9);
    assert!(
        r.to_string()
            .starts_with("x.flac: flac (11767 bytes, 0.5 s)"),
        "{r}"
    );
}
