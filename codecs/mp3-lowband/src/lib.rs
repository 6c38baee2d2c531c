// Symphonia
// Copyright (c) 2019-2026 The Project Symphonia Developers.
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.

//! A telephone-band MP3 (MPEG audio layer III) decoder for symphonia 0.6.
//!
//! Forked from `symphonia-bundle-mp3` 0.6.1 (see README.md for what changed and why): it
//! decodes only the low polyphase subbands of each frame and synthesises **mono** audio at a
//! quarter of the sample rate (11,025 Hz for 44.1 kHz input), which is all an 8 kHz telephone
//! path needs. Register [`LowbandMp3Decoder`] in a symphonia `CodecRegistry` (tier
//! `Preferred`) to use it for MP3 tracks; symphonia's own demuxer still reads the file.
//! Hand-written because no maintained Rust MP3 decoder offers reduced-band synthesis.

#![forbid(unsafe_code)]
// Upstream's allowances, kept so the forked code stays close to upstream.
#![allow(clippy::comparison_chain)]
#![allow(clippy::excessive_precision)]
#![allow(clippy::identity_op)]
#![allow(clippy::manual_range_contains)]
#![allow(clippy::needless_range_loop)]
#![allow(clippy::erasing_op)]

mod common;
mod decoder;
mod header;
mod layer3;
mod lowband;
mod synthesis;

pub use decoder::LowbandMp3Decoder;

/// The decimation factor used for a stream at `sample_rate`: 4 for 44.1 and 48 kHz (11,025 and
/// 12,000 Hz out), 2 for 22.05, 24 and 32 kHz, 1 below. The output keeps at least 5.5 kHz of
/// band: at 32 kHz a factor of 4 would put the band edge at 4 kHz, where the last kept subband's
/// transition folds back into the telephone band (measured 58 dB against upstream, 99 dB with 2).
pub fn decimation(sample_rate: u32) -> u32 {
    match sample_rate {
        44_100.. => 4,
        22_050.. => 2,
        _ => 1,
    }
}

/// The rate [`LowbandMp3Decoder`] outputs for a stream at `sample_rate`.
pub fn output_rate(sample_rate: u32) -> u32 {
    sample_rate / decimation(sample_rate)
}
