//! Level analysis, normalisation gain, silence trimming and the final f32 → G.711 step.
//!
//! The first pass feeds every 8 kHz sample to [`Stats`]: peak, RMS and a peak per 20 ms block
//! (4 bytes per 20 ms: 720 KB for an hour), so the gain and the trim points can be chosen once
//! the whole file has been seen. [`Encoder`] then applies the gain and companding.

use super::Law;
use super::g711;

/// Samples per analysis block (20 ms at 8 kHz).
const BLOCK: usize = 160;
/// Most gain normalisation will apply, so hiss is not blown up to full scale.
pub const MAX_GAIN_DB: f32 = 30.0;
/// Silence, for trimming, is this far below the file's peak...
const TRIM_BELOW_PEAK_DB: f32 = 40.0;
/// ...or below this absolute level, whichever is higher.
const TRIM_FLOOR_DBFS: f32 = -70.0;
/// Blocks of quiet kept before and after the sound when trimming (100 ms).
const TRIM_PAD_BLOCKS: usize = 5;

/// Converts a linear amplitude to dBFS (−inf for 0).
pub fn dbfs(x: f64) -> f32 {
    (20.0 * x.log10()) as f32
}

/// Running level statistics over the 8 kHz mono signal.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Samples seen.
    pub n: u64,
    peak: f32,
    sum_sq: f64,
    block_peaks: Vec<f32>,
    cur_peak: f32,
    cur_len: usize,
}

impl Stats {
    /// Accounts for `chunk`.
    pub fn add(&mut self, chunk: &[f32]) {
        let mut sq = 0.0f64;
        for &s in chunk {
            let a = s.abs();
            sq += f64::from(s * s);
            if a > self.cur_peak {
                self.cur_peak = a;
            }
            self.cur_len += 1;
            if self.cur_len == BLOCK {
                self.close_block();
            }
        }
        self.sum_sq += sq;
        self.n += chunk.len() as u64;
    }

    fn close_block(&mut self) {
        self.peak = self.peak.max(self.cur_peak);
        self.block_peaks.push(self.cur_peak);
        self.cur_peak = 0.0;
        self.cur_len = 0;
    }

    /// Closes the last partial block.
    pub fn finish(&mut self) {
        if self.cur_len > 0 {
            self.close_block();
        }
    }

    /// Peak in dBFS.
    pub fn peak_dbfs(&self) -> f32 {
        dbfs(f64::from(self.peak))
    }

    /// RMS in dBFS.
    pub fn rms_dbfs(&self) -> f32 {
        if self.n == 0 {
            f32::NEG_INFINITY
        } else {
            dbfs((self.sum_sq / self.n as f64).sqrt())
        }
    }

    /// Gain in dB that brings the peak to `target_dbfs`, capped at [`MAX_GAIN_DB`].
    pub fn gain_db(&self, target_dbfs: f32) -> f32 {
        if self.peak <= 0.0 {
            return 0.0;
        }
        (target_dbfs - self.peak_dbfs()).min(MAX_GAIN_DB)
    }

    /// The sample range `[start, end)` that remains after trimming leading and trailing
    /// silence (empty if everything is silence).
    pub fn trim_range(&self) -> (u64, u64) {
        let thr_db = (self.peak_dbfs() - TRIM_BELOW_PEAK_DB).max(TRIM_FLOOR_DBFS);
        let thr = 10f32.powf(thr_db / 20.0);
        let loud = |p: &&f32| **p > thr;
        let Some(first) = self.block_peaks.iter().position(|p| loud(&p)) else {
            return (0, 0);
        };
        // `first` exists, so a last loud block exists too.
        let last = self
            .block_peaks
            .iter()
            .rposition(|p| loud(&p))
            .unwrap_or(first);
        let start = first.saturating_sub(TRIM_PAD_BLOCKS) as u64 * BLOCK as u64;
        let end = ((last + 1 + TRIM_PAD_BLOCKS) as u64 * BLOCK as u64).min(self.n);
        (start, end)
    }
}

/// Applies a gain and encodes to G.711, counting samples that had to be clipped.
#[derive(Debug)]
pub(crate) struct Encoder {
    law: Law,
    scale: f32,
    /// Samples clipped to full scale.
    pub clipped: u64,
}

impl Encoder {
    /// An encoder applying `gain_db`.
    pub fn new(law: Law, gain_db: f32) -> Self {
        Encoder {
            law,
            scale: 32768.0 * 10f32.powf(gain_db / 20.0),
            clipped: 0,
        }
    }

    /// Encodes `chunk`, appending to `out`.
    pub fn encode(&mut self, chunk: &[f32], out: &mut Vec<u8>) {
        let scale = self.scale;
        let mut clipped = 0u64;
        let lin = chunk.iter().map(|&s| {
            let v = (s * scale).round();
            clipped += u64::from(!(-32768.0..=32767.0).contains(&v));
            // `as` saturates floats to the i16 range (and maps NaN to 0).
            v as i16
        });
        match self.law {
            Law::ALaw => out.extend(lin.map(g711::alaw_encode)),
            Law::MuLaw => out.extend(lin.map(g711::ulaw_encode)),
        }
        self.clipped += clipped;
    }
}
