//! Random damage to real files (cuts, bit flips, overwritten runs) never panics.

mod audio_util;

use audio_util::fixture;
use proptest::prelude::*;
use sendbox_codecs::audio::{self, TranscodeOptions};

const FILES: &[&str] = &[
    "sine1k.mp3",
    "sine1k.ogg",
    "sine1k.opus",
    "sine1k.flac",
    "sine1k.aiff",
    "sine1k_aac.m4a",
    "sine1k_alac.m4a",
    "sine1k.aac",
    "gsm610.wav",
    "video_only.mp4",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_give_ok_or_a_named_error(
        file in 0..FILES.len(),
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..24),
    ) {
        let mut bytes = fixture(FILES[file]);
        for (at, v) in flips {
            let i = (at * bytes.len() as f64) as usize;
            if i < bytes.len() {
                bytes[i] = v;
            }
        }
        bytes.truncate(((cut * 1.2).min(1.0) * bytes.len() as f64) as usize);
        let name = format!("damaged-{}", FILES[file]);
        match audio::transcode(&name, &bytes, &TranscodeOptions::default(), &mut |_| {}) {
            Ok(p) => prop_assert!(!p.samples.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with(&name)),
        }
    }
}
