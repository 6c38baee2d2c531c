// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.
//
// Written for sendbox (not part of upstream symphonia-bundle-mp3).

//! Reduced-band decoding: which spectral lines the kept subbands need, and a polyphase
//! synthesis that computes only every `factor`-th output sample from the low `32 / factor`
//! subbands.
//!
//! The synthesis follows ISO/IEC 11172-3 (2.4.3.2.2 and Figure A.2): for each block of 32
//! subband samples `S`, `V[i] = Σ_k cos((16 + i)(2k + 1)π/64) · S[k]` (i in 0..64) is pushed into a
//! 16-slot FIFO, and output sample `i` (0..32) is
//! `Σ_j (V_{2j}[i] · D[64j + i] + V_{2j+1}[32 + i] · D[64j + 32 + i])` (j in 0..8). With
//! `S[k] = 0` for `k >= 32 / factor` and only outputs `i = factor · m` wanted, each V slot needs
//! just `2 · 32 / factor` entries, each a dot product over `32 / factor` subbands: a 16 × 8
//! matrix for factor 4 instead of a 32-point DCT, and 8 instead of 32 windowed sums. Taking
//! every 4th sample of a signal made from subbands 0–7 (0 to fs/8) is a plain decimation:
//! only the prototype filter's stop band of subband 7 folds back, below -90 dB.

use std::sync::LazyLock;

use crate::common::FrameHeader;
use crate::layer3::common::{BlockType, SFB_MIXED_BANDS, SFB_MIXED_SWITCH_POINT, SFB_SHORT_BANDS};
use crate::synthesis::SYNTHESIS_D;

/// The spectral lines (from 0) a granule channel must decode so subbands `0..keep_sb` come out
/// exact: the anti-alias butterflies at the top boundary read 8 lines of subband `keep_sb`, and
/// short blocks are reordered in whole 3-window bands.
pub(crate) fn lines_needed(header: &FrameHeader, block_type: &BlockType, keep_sb: usize) -> usize {
    if keep_sb >= 32 {
        return 576;
    }
    let idx = header.sample_rate_idx;
    let bands: &[usize] = match block_type {
        BlockType::Short { is_mixed: false } => &SFB_SHORT_BANDS[idx],
        BlockType::Short { is_mixed: true } => &SFB_MIXED_BANDS[idx][SFB_MIXED_SWITCH_POINT[idx]..],
        _ => return 18 * keep_sb + 8,
    };
    let target = 18 * keep_sb;
    bands
        .iter()
        .skip(3)
        .step_by(3)
        .copied()
        .find(|&end| end >= target)
        .unwrap_or(576)
}

/// The matrix producing the V entries in use and the window taps in use, for `K = 32 / factor`
/// kept subbands.
struct Tables<const K: usize> {
    /// `cols[k][r]`: the weight of subband k in V entry r, where entry r < K is V[factor·r] and
    /// entry K + r is V[32 + factor·r] (column-major so the product vectorises over r).
    cols: Vec<[f32; 32]>,
    /// `win[j][r]`: D[64j + factor·r] for r < K and D[64j + 32 + factor·r] for K + r.
    win: [[f32; 32]; 8],
}

impl<const K: usize> Tables<K> {
    fn new() -> Self {
        let factor = 32 / K;
        let mut cols = vec![[0f32; 32]; K];
        let mut win = [[0f32; 32]; 8];
        for r in 0..2 * K {
            let i = if r < K {
                factor * r
            } else {
                32 + factor * (r - K)
            };
            for (k, col) in cols.iter_mut().enumerate() {
                let angle = ((16 + i) * (2 * k + 1)) as f64 * std::f64::consts::PI / 64.0;
                col[r] = angle.cos() as f32;
            }
            for (j, w) in win.iter_mut().enumerate() {
                w[r] = SYNTHESIS_D[64 * j + i];
            }
        }
        Tables { cols, win }
    }
}

static TABLES_2: LazyLock<Tables<16>> = LazyLock::new(Tables::new);
static TABLES_4: LazyLock<Tables<8>> = LazyLock::new(Tables::new);

/// The persistent state of the reduced synthesis: the V FIFO (only the entries in use).
pub(crate) struct LowSynth {
    v: [[f32; 32]; 16],
    front: usize,
}

impl Default for LowSynth {
    fn default() -> Self {
        LowSynth {
            v: [[0f32; 32]; 16],
            front: 0,
        }
    }
}

impl LowSynth {
    /// Synthesises one granule: `samples` holds 18 samples per subband (subband-major) for the
    /// low `32 / factor` subbands; `out` receives `18 · 32 / factor` samples at `rate / factor`.
    /// `factor` is 2 or 4.
    pub(crate) fn synthesis(&mut self, factor: usize, samples: &[f32; 576], out: &mut [f32]) {
        if factor == 2 {
            self.run::<16>(&TABLES_2, samples, out);
        } else {
            self.run::<8>(&TABLES_4, samples, out);
        }
    }

    fn run<const K: usize>(&mut self, t: &Tables<K>, samples: &[f32; 576], out: &mut [f32]) {
        debug_assert_eq!(out.len(), 18 * K);
        for (b, block) in out.chunks_exact_mut(K).enumerate() {
            // Matrixing: the V entries in use, from the K kept subband samples.
            let mut v = [0f32; 32];
            for (k, col) in t.cols.iter().enumerate() {
                let s = samples[18 * k + b];
                for r in 0..2 * K {
                    v[r] += col[r] * s;
                }
            }
            self.v[self.front] = v;

            // Windowing: every factor-th output sample only.
            let mut o = [0f32; K];
            for (j, w) in t.win.iter().enumerate() {
                let v0 = &self.v[(self.front + 2 * j) & 0xf];
                let v1 = &self.v[(self.front + 2 * j + 1) & 0xf];
                for r in 0..K {
                    o[r] += v0[r] * w[r] + v1[K + r] * w[K + r];
                }
            }
            block.copy_from_slice(&o);
            self.front = (self.front + 15) & 0xf;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LowSynth;
    use crate::synthesis::{SynthesisState, synthesis};

    #[test]
    fn low_synthesis_equals_every_nth_sample_of_the_full_synthesis() {
        let mut seed = 0x1234_5678u32;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32) - 0.5
        };
        for factor in [2, 4] {
            let keep = 32 / factor;
            let mut full = SynthesisState::default();
            let mut low = LowSynth::default();
            for _granule in 0..12 {
                let mut x = [0f32; 576];
                for v in &mut x[..18 * keep] {
                    *v = rand();
                }
                let mut want = [0f32; 576];
                synthesis(&mut full, 18, &x, &mut want);
                let mut got = vec![0f32; 18 * keep];
                low.synthesis(factor, &x, &mut got);
                for (n, g) in got.iter().enumerate() {
                    let w = want[n * factor];
                    assert!(
                        (g - w).abs() < 1e-5,
                        "factor {factor}, sample {n}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
