//! Fuzzes the whole upload path (sniff, probe, demux, decode, resample, encode) with arbitrary
//! bytes under every common file name, so each probe hint is exercised.
//!
//! Run: `cd codecs/fuzz && cargo +nightly fuzz run audio_decode -- -max_len=65536`
//! (seed the corpus with `codecs/tests/fixtures/audio/*`).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use sendbox_codecs::audio::{self, TranscodeOptions};

const NAMES: &[&str] = &[
    "x.wav", "x.mp3", "x.ogg", "x.opus", "x.flac", "x.m4a", "x.aac", "x.aiff", "x",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    // Keep each run short: a hostile header may promise hours of audio.
    let opts = TranscodeOptions {
        max_duration: Duration::from_secs(20),
        single_pass_limit: Duration::from_secs(5),
        trim_silence: pick & 0x80 != 0,
        ..TranscodeOptions::default()
    };
    if let Err(e) = audio::transcode(name, bytes, &opts, &mut |_| {}) {
        // Every error names the file.
        assert!(e.to_string().starts_with(name));
    }
});
