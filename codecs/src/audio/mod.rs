//! Any customer upload → 8 kHz mono G.711, once, shared by every call.
//!
//! [`transcode`] (bytes in memory) and [`transcode_reader`] (a seekable file) decode MP3, WAV
//! (PCM, float, A/μ-law, ADPCM), AIFF, FLAC, Ogg Vorbis, Ogg Opus, MP4/M4A (AAC-LC, ALAC) and CAF;
//! downmix to mono; resample to 8 kHz with an anti-aliasing FFT resampler; optionally trim
//! leading/trailing silence; normalise the peak to a target (default −3 dBFS, gain ≤ +30 dB);
//! and encode G.711 A-law (RTP PT 8) or μ-law (PT 0). Every failure is an [`AudioError`] naming
//! the file and the problem; nothing in here panics on input.
//!
//! MP3, the common upload, is decoded by `sendbox-mp3-lowband` (a fork of symphonia's decoder
//! that reconstructs only the telephone band, mono, at a quarter of the rate), which makes an
//! MP3 transcode about four times cheaper than a full decode; everything else by symphonia.
//!
//! Memory stays bounded: decoding, resampling and encoding run packet by packet. Normalising
//! needs the peak before the first byte is encoded, so pass 1 decodes and measures, keeping the
//! 8 kHz samples only while they fit in `single_pass_limit` (default 10 minutes = 19 MB); a
//! longer file is decoded a second time (pass 2) and encoded on the fly.
//!
//! ```
//! use sendbox_codecs::audio::{self, TranscodeOptions, Law};
//! // A 1 s 440 Hz tone as a 16-bit 8 kHz WAV.
//! let pcm: Vec<i16> = (0..8000)
//!     .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 8000.0).sin() * 8000.0) as i16)
//!     .collect();
//! let mut wav = Vec::new();
//! wav.extend_from_slice(b"RIFF");
//! wav.extend_from_slice(&(36 + 16000u32).to_le_bytes());
//! wav.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data");
//! wav.extend_from_slice(&16000u32.to_le_bytes());
//! pcm.iter().for_each(|s| wav.extend_from_slice(&s.to_le_bytes()));
//!
//! let prompt = audio::transcode("tone.wav", &wav, &TranscodeOptions::default(), &mut |_| {}).unwrap();
//! assert_eq!(prompt.law, Law::ALaw);
//! assert_eq!(prompt.samples.len(), 8000);
//! assert_eq!(prompt.facts.format, "wav/pcm_s16le");
//! assert!((prompt.facts.gain_db_applied - 9.25).abs() < 0.1); // peak −12.25 dBFS → −3 dBFS
//! ```

mod decode;
mod error;
mod frames;
pub mod g711;
mod level;
mod mix;
mod mp4;
mod opus;
mod pipeline;
mod report;
mod resample;
mod sniff;
pub mod wav;

use std::time::Duration;

pub use error::AudioError;
pub use frames::{FRAME_BYTES, Frame, frames};
pub use pipeline::{transcode, transcode_reader};
pub use report::TranscodeReport;

/// The G.711 companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Law {
    /// A-law: RTP payload type 8 (PCMA), WAV format tag 6. The norm outside North America/Japan.
    #[default]
    ALaw,
    /// μ-law: RTP payload type 0 (PCMU), WAV format tag 7.
    MuLaw,
}

impl Law {
    /// The static RTP payload type (RFC 3551): 8 for A-law, 0 for μ-law.
    pub fn rtp_payload_type(self) -> u8 {
        match self {
            Law::ALaw => 8,
            Law::MuLaw => 0,
        }
    }

    /// The WAV `wFormatTag`: 6 for A-law, 7 for μ-law.
    pub fn wav_format_tag(self) -> u16 {
        match self {
            Law::ALaw => 6,
            Law::MuLaw => 7,
        }
    }

    /// The code for digital silence (0xD5 for A-law, 0xFF for μ-law).
    pub fn silence(self) -> u8 {
        match self {
            Law::ALaw => 0xD5,
            Law::MuLaw => 0xFF,
        }
    }

    /// The SDP encoding name: "PCMA" or "PCMU".
    pub fn sdp_name(self) -> &'static str {
        match self {
            Law::ALaw => "PCMA",
            Law::MuLaw => "PCMU",
        }
    }
}

/// How to transcode an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeOptions {
    /// Output law. Default A-law.
    pub law: Law,
    /// Peak-normalise to this level in dBFS (gain capped at +30 dB). `None` keeps the level.
    /// Default `Some(-3.0)`.
    pub normalize: Option<f32>,
    /// Drop leading and trailing silence (quieter than 40 dB below the peak, or −70 dBFS),
    /// keeping 100 ms of margin. Default false.
    pub trim_silence: bool,
    /// Largest accepted upload in bytes. Default 100 MiB.
    pub max_bytes: u64,
    /// Longest accepted audio. Default 1 hour.
    pub max_duration: Duration,
    /// Return what could be decoded from a truncated file (with `facts.truncated` set) instead
    /// of failing with [`AudioError::Truncated`]. Default false.
    pub accept_truncated: bool,
    /// Audio up to this long is decoded once and held as 8 kHz `f32` (4 bytes a sample) until
    /// the peak is known; longer audio is decoded twice. Default 10 minutes.
    pub single_pass_limit: Duration,
}

impl Default for TranscodeOptions {
    fn default() -> Self {
        TranscodeOptions {
            law: Law::ALaw,
            normalize: Some(-3.0),
            trim_silence: false,
            max_bytes: 100 * 1024 * 1024,
            max_duration: Duration::from_secs(3600),
            accept_truncated: false,
            single_pass_limit: Duration::from_secs(600),
        }
    }
}

/// Progress of a transcode, reported a few times per pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// 1 for the decode-and-measure pass, 2 for the re-decode pass of long files.
    pub pass: u8,
    /// Output audio produced so far in this pass, in milliseconds.
    pub done_ms: u64,
    /// The duration the container header announces, if it does.
    pub total_ms: Option<u64>,
}

/// What was learned about the upload while transcoding it.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFacts {
    /// Container and codec detected, e.g. "mp3", "ogg/opus", "wav/pcm_s16le", "mp4/aac".
    pub format: String,
    /// Input sample rate in Hz.
    pub input_rate: u32,
    /// Input channel count.
    pub input_channels: usize,
    /// Decoded input duration in milliseconds.
    pub input_duration_ms: u64,
    /// Output duration in milliseconds (after trimming).
    pub duration_ms: u64,
    /// Peak of the 8 kHz mono signal before gain, in dBFS.
    pub peak_dbfs_in: f32,
    /// RMS of the 8 kHz mono signal before gain, in dBFS.
    pub rms_dbfs_in: f32,
    /// Gain applied by normalisation, in dB (0 when off).
    pub gain_db_applied: f32,
    /// Output samples clipped to full scale.
    pub clipped_samples: u64,
    /// Milliseconds removed by silence trimming (start, end).
    pub trimmed_ms: (u64, u64),
    /// The file was truncated and `accept_truncated` let it through.
    pub truncated: bool,
    /// Decode passes used (1, or 2 for audio longer than `single_pass_limit`).
    pub passes: u8,
}

/// A ready-to-play prompt: 8 kHz mono G.711.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// G.711 bytes, one per sample, 8000 per second.
    pub samples: Vec<u8>,
    /// The law of `samples`.
    pub law: Law,
    /// What was learned about the upload.
    pub facts: AudioFacts,
}

impl Prompt {
    /// The prompt as 160-byte (20 ms) RTP payloads, the last padded with silence.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = Frame> + '_ {
        frames(&self.samples, self.law)
    }

    /// The prompt as a WAV file (format tag 6 or 7). Fails only past 4 GiB (149 hours).
    pub fn to_wav(&self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(wav::HEADER_LEN + self.samples.len() + 1);
        wav::write_g711(self.law, &self.samples, &mut out)?;
        Ok(out)
    }
}
