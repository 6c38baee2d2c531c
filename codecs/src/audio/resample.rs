//! Streaming mono resampling to 8 kHz with rubato's FFT resampler (anti-aliased).
//!
//! rubato 5's `Fft` is a synchronous resampler: it multiplies in the frequency domain by a
//! windowed (Blackman-Harris²) low-pass, so content above the output Nyquist is removed before
//! decimation. Larger FFT blocks make the transition band narrower; `SUB_CHUNK_OUT` is chosen so
//! the passband stays flat to 3.4 kHz and everything above 4.5 kHz is at least 70 dB down (see
//! `tests/audio_quality.rs`). The resampler's start-up delay is trimmed and the tail flushed,
//! so output length is `ceil(input * 8000 / rate)`.

use std::cell::RefCell;

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use super::AudioError;

/// Output sample rate.
pub const OUT_RATE: u32 = 8000;
/// Output frames per FFT block (sets filter length and thus transition width). 1280 = 16 × 80,
/// so from 44.1 kHz the input block is 16 × 441 and the FFT sizes factor into 2, 3 and 7.
const SUB_CHUNK_OUT: usize = 1280;
/// Output frames per resampler call.
const CHUNK_OUT: usize = 5120;

/// Resamplers kept per thread for reuse (by input rate): building one plans two FFTs and a
/// windowed-sinc filter, which costs more than transcoding a one-second prompt.
const CACHE_MAX: usize = 4;

thread_local! {
    static CACHE: RefCell<Vec<(u32, Fft<f32>)>> = const { RefCell::new(Vec::new()) };
}

fn cached(rate: u32) -> Option<Fft<f32>> {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let i = c.iter().position(|(r, _)| *r == rate)?;
        Some(c.swap_remove(i).1)
    })
}

/// Resamples a mono stream from some rate to 8 kHz, chunk by chunk.
pub(crate) struct Resample {
    fft: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
    to_skip: usize,
    in_total: u64,
    out_total: u64,
    rate: u32,
}

impl std::fmt::Debug for Resample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resample")
            .field("rate", &self.rate)
            .finish()
    }
}

impl Resample {
    /// A resampler from `rate` Hz to 8 kHz (a pass-through when `rate` is 8 kHz).
    pub fn new(name: &str, rate: u32) -> Result<Self, AudioError> {
        let fft = if rate == OUT_RATE {
            None
        } else if let Some(f) = cached(rate) {
            Some(f)
        } else {
            let sub_chunks = CHUNK_OUT / SUB_CHUNK_OUT;
            let f = Fft::<f32>::new_custom(
                rate as usize,
                OUT_RATE as usize,
                CHUNK_OUT,
                sub_chunks,
                1,
                rubato::WindowFunction::BlackmanHarris2,
                FixedSync::Output,
            )
            .map_err(|e| AudioError::Resample {
                name: name.into(),
                detail: e.to_string(),
            })?;
            Some(f)
        };
        let (to_skip, out_len, in_cap) = match &fft {
            Some(f) => (
                f.output_delay(),
                f.output_frames_max(),
                f.input_frames_max(),
            ),
            None => (0, 0, 0),
        };
        Ok(Resample {
            fft,
            pending: Vec::with_capacity(in_cap * 2),
            out: vec![0.0; out_len],
            to_skip,
            in_total: 0,
            out_total: 0,
            rate,
        })
    }

    /// Feeds `input`; complete output chunks go to `sink`.
    pub fn push(
        &mut self,
        input: &[f32],
        sink: &mut dyn FnMut(&[f32]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        self.in_total += input.len() as u64;
        let Some(fft) = self.fft.as_mut() else {
            self.out_total += input.len() as u64;
            return sink(input);
        };
        self.pending.extend_from_slice(input);
        let mut pos = 0;
        loop {
            let need = fft.input_frames_next();
            if self.pending.len() - pos < need {
                break;
            }
            let written = run(fft, &self.pending[pos..pos + need], &mut self.out, None);
            pos += need;
            emit(
                &self.out[..written],
                &mut self.to_skip,
                &mut self.out_total,
                None,
                sink,
            )?;
        }
        self.pending.drain(..pos);
        Ok(())
    }

    /// Flushes the remaining input and the filter tail.
    pub fn finish(
        &mut self,
        sink: &mut dyn FnMut(&[f32]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        let Some(fft) = self.fft.as_mut() else {
            return Ok(());
        };
        let expected = (self.in_total * u64::from(OUT_RATE)).div_ceil(u64::from(self.rate.max(1)));
        let mut partial = self.pending.len();
        let mut guard = 0;
        while self.out_total < expected && guard < 64 {
            let ix = Indexing::new().partial_len(partial);
            let need = fft.input_frames_next();
            self.pending.resize(need.max(self.pending.len()), 0.0);
            let written = run(fft, &self.pending[..need], &mut self.out, Some(&ix));
            self.pending.clear();
            partial = 0;
            let limit = Some(expected);
            emit(
                &self.out[..written],
                &mut self.to_skip,
                &mut self.out_total,
                limit,
                sink,
            )?;
            guard += 1;
        }
        Ok(())
    }
}

impl Drop for Resample {
    fn drop(&mut self) {
        if let Some(mut f) = self.fft.take() {
            f.reset();
            let rate = self.rate;
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() >= CACHE_MAX {
                    c.remove(0);
                }
                c.push((rate, f));
            });
        }
    }
}

fn run(fft: &mut Fft<f32>, input: &[f32], out: &mut [f32], ix: Option<&Indexing>) -> usize {
    let frames_in = input.len();
    let frames_out = out.len();
    // Both adapters are built from slices whose lengths equal channels (1) × frames, which is
    // exactly what `InterleavedSlice::new` checks; the resampler's buffer sizes come from its
    // own `input_frames_next`/`output_frames_max`, so `process_into_buffer` cannot fail.
    let a_in = InterleavedSlice::new(input, 1, frames_in).expect("mono input adapter");
    let mut a_out = InterleavedSlice::new_mut(out, 1, frames_out).expect("mono output adapter");
    let (_, written) = fft
        .process_into_buffer(&a_in, &mut a_out, ix)
        .expect("sized buffers");
    written
}

fn emit(
    mut chunk: &[f32],
    to_skip: &mut usize,
    out_total: &mut u64,
    limit: Option<u64>,
    sink: &mut dyn FnMut(&[f32]) -> Result<(), AudioError>,
) -> Result<(), AudioError> {
    let skip = (*to_skip).min(chunk.len());
    *to_skip -= skip;
    chunk = &chunk[skip..];
    if let Some(limit) = limit {
        let room = limit.saturating_sub(*out_total) as usize;
        chunk = &chunk[..chunk.len().min(room)];
    }
    *out_total += chunk.len() as u64;
    if chunk.is_empty() {
        Ok(())
    } else {
        sink(chunk)
    }
}
