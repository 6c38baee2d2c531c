// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.
//
// Written for sendbox (not part of upstream symphonia-bundle-mp3).

//! Mixing the channels to mono before the IMDCT and the synthesis (both are linear, so the
//! mix of the transforms equals the transform of the mix).

use std::f32::consts::FRAC_1_SQRT_2;

use symphonia_core::errors::{Result, decode_error};

use super::{Granule, Layer3, hybrid_synthesis, requantize, stereo};
use crate::common::{ChannelMode, FrameHeader, Mode};

/// How the channels of a frame become the one mixed spectrum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Plan {
    /// One channel.
    Mono,
    /// Joint stereo with mid/side only: `(L + R) / 2 = M / sqrt(2)`, the side channel is unused.
    MidOnly,
    /// Intensity stereo: both channels in full through upstream's stereo decoding, then averaged.
    Intensity,
    /// Independent channels (stereo, dual mono, joint stereo with no tool on): averaged.
    Both,
}

impl Plan {
    pub(super) fn of(header: &FrameHeader) -> Plan {
        match header.channel_mode {
            ChannelMode::Mono => Plan::Mono,
            ChannelMode::JointStereo(Mode::Layer3 {
                intensity: true, ..
            }) => Plan::Intensity,
            ChannelMode::JointStereo(Mode::Layer3 { mid_side: true, .. }) => Plan::MidOnly,
            _ => Plan::Both,
        }
    }
}

impl Layer3 {
    /// Mixes granule `gr`'s channels into `self.mix` (spectral lines `0..limit`) and returns the
    /// mixed extent (rzero), or `None` when the channels use different block types and must be
    /// transformed separately.
    pub(super) fn mix_spectra(
        &mut self,
        header: &FrameHeader,
        plan: Plan,
        granule: &mut Granule,
        gr: usize,
        limit: usize,
    ) -> Result<Option<usize>> {
        let [ch0, ch1] = &mut self.samples[gr];
        match plan {
            Plan::Mono => {
                requantize::requantize(header, &granule.channels[0], ch0);
                self.mix[..limit].copy_from_slice(&ch0[..limit]);
                Ok(Some(granule.channels[0].rzero))
            }
            Plan::MidOnly => {
                if granule.channels[0].block_type != granule.channels[1].block_type {
                    return decode_error("mpa: stereo channel pair block_type mismatch");
                }
                requantize::requantize(header, &granule.channels[0], ch0);
                for (m, x) in self.mix[..limit].iter_mut().zip(&ch0[..limit]) {
                    *m = x * FRAC_1_SQRT_2;
                }
                Ok(Some(granule.channels[0].rzero))
            }
            Plan::Intensity | Plan::Both => {
                requantize::requantize(header, &granule.channels[0], ch0);
                requantize::requantize(header, &granule.channels[1], ch1);
                if plan == Plan::Intensity {
                    stereo::stereo(header, granule, &mut self.samples[gr])?;
                } else if granule.channels[0].block_type != granule.channels[1].block_type {
                    return Ok(None);
                }
                let [ch0, ch1] = &self.samples[gr];
                for ((m, a), b) in self.mix[..limit]
                    .iter_mut()
                    .zip(&ch0[..limit])
                    .zip(&ch1[..limit])
                {
                    *m = 0.5 * (a + b);
                }
                let rzero = granule.channels[0].rzero.max(granule.channels[1].rzero);
                Ok(Some(rzero.min(limit)))
            }
        }
    }

    /// Transforms the two channels of granule `gr` separately (different block types) and sums
    /// their halves into `self.mix`, sharing the one overlap buffer (everything is linear).
    pub(super) fn hybrid_separately(
        &mut self,
        header: &FrameHeader,
        granule: &mut Granule,
        gr: usize,
        keep_sb: usize,
    ) {
        let n = 18 * keep_sb;
        self.mix[..n].fill(0.0);
        let mut next = [[0f32; 18]; 32];
        for ch in 0..2 {
            let channel = &mut granule.channels[ch];
            let samples = &mut self.samples[gr][ch];
            for x in &mut samples[..channel.rzero] {
                *x *= 0.5;
            }
            let mut ov = [[0f32; 18]; 32];
            hybrid_synthesis::reorder(header, channel, samples);
            hybrid_synthesis::antialias(channel, samples, keep_sb);
            hybrid_synthesis::hybrid_synthesis(channel, &mut ov, samples, keep_sb);
            for (m, x) in self.mix[..n].iter_mut().zip(&samples[..n]) {
                *m += x;
            }
            for (acc, o) in next.iter_mut().zip(&ov).take(keep_sb) {
                for (a, b) in acc.iter_mut().zip(o) {
                    *a += b;
                }
            }
        }
        for sb in 0..keep_sb {
            for i in 0..18 {
                self.mix[18 * sb + i] += self.overlap[sb][i];
            }
            self.overlap[sb] = next[sb];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::GranuleChannel;
    use super::*;
    use crate::common::{Emphasis, MpegLayer, MpegVersion};
    use crate::layer3::common::BlockType;
    use crate::lowband::lines_needed;

    fn block(i: usize) -> BlockType {
        match i % 5 {
            0 => BlockType::Long,
            1 => BlockType::Start,
            2 => BlockType::Short { is_mixed: false },
            3 => BlockType::End,
            _ => BlockType::Short { is_mixed: true },
        }
    }

    /// Channels with different block types, transformed separately into the shared overlap,
    /// give what two independent per-channel decodes averaged give.
    #[test]
    fn separate_transforms_sum_like_per_channel_decoding() {
        let header = FrameHeader {
            version: MpegVersion::Mpeg1,
            layer: MpegLayer::Layer3,
            bitrate: 128_000,
            sample_rate: 44_100,
            sample_rate_idx: 0,
            channel_mode: ChannelMode::Stereo,
            emphasis: Emphasis::None,
            is_copyrighted: false,
            is_original: false,
            has_padding: false,
            has_crc: false,
            frame_size: 0,
        };
        let keep = 8;
        let mut seed = 0x2545_f491u32;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32) - 0.5
        };
        let mut layer = Layer3::new();
        let mut overlap_ref = [[[0f32; 18]; 32]; 2];
        for g in 0..20 {
            let mut granule = Granule::default();
            let mut want = [0f32; 144];
            for c in 0..2 {
                let t = block(g * (c + 1) + c);
                let limit = lines_needed(&header, &t, keep);
                let rzero = limit - 2 * (g % 3);
                let x = &mut layer.samples[0][c];
                x.fill(0.0);
                for v in &mut x[..rzero] {
                    *v = rand();
                }
                // Reference: this channel on its own, with its own overlap.
                let mut y = *x;
                let mut ch = GranuleChannel {
                    block_type: block(g * (c + 1) + c),
                    rzero,
                    ..Default::default()
                };
                hybrid_synthesis::reorder(&header, &mut ch, &mut y);
                hybrid_synthesis::antialias(&mut ch, &mut y, keep);
                hybrid_synthesis::hybrid_synthesis(&ch, &mut overlap_ref[c], &mut y, keep);
                for (w, v) in want.iter_mut().zip(&y[..144]) {
                    *w += 0.5 * v;
                }
                granule.channels[c].block_type = t;
                granule.channels[c].rzero = rzero;
            }
            layer.hybrid_separately(&header, &mut granule, 0, keep);
            for (i, (got, want)) in layer.mix[..144].iter().zip(&want).enumerate() {
                assert!(
                    (got - want).abs() < 1e-5,
                    "granule {g}, sample {i}: {got} vs {want}"
                );
            }
        }
    }
}
