//! A one-line summary of a transcode for the CLI and logs.
//!
//! ```
//! use std::time::Duration;
//! use sendbox_codecs::audio::TranscodeReport;
//! let r = TranscodeReport {
//!     name: "a.mp3".into(), format: "mp3".into(), input_bytes: 1000, input_duration_ms: 60_000,
//!     output_duration_ms: 60_000, output_bytes: 480_000, elapsed: Duration::from_millis(100),
//! };
//! assert_eq!(r.speed_x(), 600.0);
//! assert!(r.to_string().contains("600x real time"));
//! ```

use std::fmt;
use std::time::Duration;

use super::Prompt;

/// What `sendbox transcode` prints: input, output and speed.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeReport {
    /// The upload's name.
    pub name: String,
    /// Detected container/codec, e.g. "mp3".
    pub format: String,
    /// Upload size in bytes.
    pub input_bytes: u64,
    /// Decoded input duration in milliseconds.
    pub input_duration_ms: u64,
    /// Output duration in milliseconds.
    pub output_duration_ms: u64,
    /// Output G.711 bytes (without container).
    pub output_bytes: u64,
    /// Wall time the transcode took (measured by the caller).
    pub elapsed: Duration,
}

impl TranscodeReport {
    /// Builds a report from a finished prompt and the time it took.
    pub fn new(name: &str, input_bytes: u64, prompt: &Prompt, elapsed: Duration) -> Self {
        TranscodeReport {
            name: name.into(),
            format: prompt.facts.format.clone(),
            input_bytes,
            input_duration_ms: prompt.facts.input_duration_ms,
            output_duration_ms: prompt.facts.duration_ms,
            output_bytes: prompt.samples.len() as u64,
            elapsed,
        }
    }

    /// Input audio seconds transcoded per wall-clock second.
    pub fn speed_x(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.input_duration_ms as f64 / 1000.0 / secs
        } else {
            f64::INFINITY
        }
    }
}

impl fmt::Display for TranscodeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} bytes, {:.1} s) -> {} bytes G.711 ({:.1} s) in {:.0} ms, {:.0}x real time",
            self.name,
            self.format,
            self.input_bytes,
            self.input_duration_ms as f64 / 1000.0,
            self.output_bytes,
            self.output_duration_ms as f64 / 1000.0,
            self.elapsed.as_secs_f64() * 1000.0,
            self.speed_x()
        )
    }
}
