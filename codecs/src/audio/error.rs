//! The error every audio call returns: it names the file and the problem.
//!
//! ```
//! use sendbox_codecs::audio::AudioError;
//! let e = AudioError::Empty { name: "hello.wav".into() };
//! assert_eq!(e.to_string(), "hello.wav: the file is empty (0 bytes)");
//! ```

use std::time::Duration;

/// Why an upload could not be turned into a G.711 prompt. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// `transcode*`: the upload holds zero bytes.
    #[error("{name}: the file is empty (0 bytes)")]
    Empty {
        /// The upload's name.
        name: String,
    },
    /// `transcode*`: the upload is larger than `TranscodeOptions::max_bytes`.
    #[error("{name}: the file is {size} bytes, more than the limit of {max} bytes")]
    TooLarge {
        /// The upload's name.
        name: String,
        /// Its size in bytes.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// `transcode*`: the audio runs longer than `TranscodeOptions::max_duration`
    /// (decoding stops as soon as the limit is passed).
    #[error("{name}: the audio is longer than the limit of {}s", max.as_secs_f64())]
    TooLong {
        /// The upload's name.
        name: String,
        /// The configured limit.
        max: Duration,
    },
    /// `transcode*`: the file ends before its own headers say it should, or in the middle of a
    /// frame (a cut-off download, or a header that claims more audio than the file holds).
    #[error("{name}: the file is truncated: audio stops at {at_ms} ms{}", match expected_ms {
        Some(e) => format!(" but its header promises {e} ms"),
        None => String::new(),
    })]
    Truncated {
        /// The upload's name.
        name: String,
        /// How much audio could be decoded before the end, in milliseconds.
        at_ms: u64,
        /// How long the header said the audio was, when it said so.
        expected_ms: Option<u64>,
    },
    /// `transcode*`: the container or the coded audio is malformed.
    #[error("{name}: the file is corrupt: {detail}")]
    Corrupt {
        /// The upload's name.
        name: String,
        /// What was wrong, from the demuxer or decoder.
        detail: String,
    },
    /// `transcode*`: the bytes are not an audio container we read (e.g. a text file named `.wav`).
    #[error("{name}: not a supported audio file (the content looks like {detected})")]
    UnsupportedFormat {
        /// The upload's name.
        name: String,
        /// What the first bytes look like, e.g. "text", "a PDF document", "unknown binary data".
        detected: String,
    },
    /// `transcode*`: the container is fine but its codec cannot be decoded (e.g. "HE-AAC").
    #[error("{name}: the audio codec {codec} is not supported{}", hint)]
    UnsupportedCodec {
        /// The upload's name.
        name: String,
        /// The codec, e.g. "HE-AAC", "HE-AACv2", "opus (multichannel)".
        codec: String,
        /// A hint for the uploader (may be empty).
        hint: &'static str,
    },
    /// `transcode*`: the container holds no audio track (e.g. a video-only MP4).
    #[error("{name}: the file has no audio track")]
    NoAudioTrack {
        /// The upload's name.
        name: String,
    },
    /// `transcode*`: the file decoded to no samples at all (e.g. a WAV whose data chunk is empty),
    /// or only silence was left after trimming.
    #[error("{name}: the file contains no audio samples{}", if *after_trim { " after trimming silence" } else { "" })]
    NoSamples {
        /// The upload's name.
        name: String,
        /// True when samples existed but all were trimmed as silence.
        after_trim: bool,
    },
    /// `transcode_reader`: reading the source failed (not a property of the file's content).
    #[error("{name}: read error: {source}")]
    Io {
        /// The upload's name.
        name: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `transcode*`: the resampler refused its configuration (an internal error).
    #[error("{name}: resampler error: {detail}")]
    Resample {
        /// The upload's name.
        name: String,
        /// The resampler's message.
        detail: String,
    },
}

impl AudioError {
    /// A short stable class for metrics labels and API error codes, e.g. `"truncated"`.
    pub fn class(&self) -> &'static str {
        match self {
            AudioError::Empty { .. } => "empty",
            AudioError::TooLarge { .. } => "too_large",
            AudioError::TooLong { .. } => "too_long",
            AudioError::Truncated { .. } => "truncated",
            AudioError::Corrupt { .. } => "corrupt",
            AudioError::UnsupportedFormat { .. } => "unsupported_format",
            AudioError::UnsupportedCodec { .. } => "unsupported_codec",
            AudioError::NoAudioTrack { .. } => "no_audio_track",
            AudioError::NoSamples { .. } => "no_samples",
            AudioError::Io { .. } => "io",
            AudioError::Resample { .. } => "internal",
        }
    }
}
