// Symphonia
// Copyright (c) 2019-2026 The Project Symphonia Developers.
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.
//
// Modified for sendbox: layer III only, mono output at a reduced rate (see README.md).

use symphonia_core::audio::{
    AsGenericAudioBufferRef, Audio, AudioBuffer, AudioSpec, GenericAudioBufferRef, layouts,
};
use symphonia_core::codecs::CodecInfo;
use symphonia_core::codecs::audio::well_known::CODEC_ID_MP3;
use symphonia_core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia_core::codecs::registry::{RegisterableAudioDecoder, SupportedAudioCodec};
use symphonia_core::errors::{Result, decode_error, unsupported_error};
use symphonia_core::io::FiniteStream;
use symphonia_core::packet::PacketRef;
use symphonia_core::support_audio_codec;

use crate::common::{Layer, MpegLayer};
use crate::{decimation, header, layer3};

/// MPEG audio layer III decoder producing mono, band-limited audio at `rate / decimation(rate)`
/// (see the crate docs).
pub struct LowbandMp3Decoder {
    opts: AudioDecoderOptions,
    /// The track's parameters as the caller sees the output: mono, reduced rate.
    out_params: AudioCodecParameters,
    state: Box<layer3::Layer3>,
    buf: AudioBuffer<f32>,
}

impl std::fmt::Debug for LowbandMp3Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LowbandMp3Decoder")
            .field("out_params", &self.out_params)
            .finish()
    }
}

impl LowbandMp3Decoder {
    /// A decoder for an MP3 track.
    pub fn try_new(params: &AudioCodecParameters, opts: &AudioDecoderOptions) -> Result<Self> {
        if params.codec != CODEC_ID_MP3 {
            return unsupported_error("mp3-lowband: not an mp3 track");
        }
        let mut out_params = params.clone();
        if let Some(rate) = params.sample_rate {
            out_params.with_sample_rate(rate / decimation(rate));
        }
        out_params.with_channels(layouts::CHANNEL_LAYOUT_MONO);
        Ok(LowbandMp3Decoder {
            opts: *opts,
            out_params,
            state: Box::new(layer3::Layer3::new()),
            buf: Default::default(),
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> Result<()> {
        let mut reader = packet.as_buf_reader();

        let header = header::read_frame_header(&mut reader)?;

        // The packet should be the size stated in the header.
        if header.frame_size != reader.bytes_available() as usize {
            return decode_error("mpa: invalid packet length");
        }
        if header.layer != MpegLayer::Layer3 {
            return decode_error("mpa: invalid mpeg audio layer");
        }

        let factor = decimation(header.sample_rate) as usize;
        let spec = AudioSpec::new(
            header.sample_rate / factor as u32,
            layouts::CHANNEL_LAYOUT_MONO,
        );

        // The audio buffer can only be created after the first frame is decoded.
        if self.buf.is_unused() {
            self.buf = AudioBuffer::new(spec, 1152 / factor);
        } else if self.buf.spec() != &spec {
            return decode_error("mpa: invalid audio buffer signal spec for packet");
        }

        self.buf.clear();
        self.state.decode(&mut reader, &header, &mut self.buf)?;

        // Trim gaps (the demuxer counts them in frames at the stream's full rate; rounding both
        // to the nearest keeps the total at the exact full-rate length / factor).
        if self.opts.gapless {
            let start = (packet.trim_start.get() as usize + factor / 2) / factor;
            let end = (packet.trim_end.get() as usize + factor / 2) / factor;
            self.buf.trim(start, end);
        }

        Ok(())
    }
}

impl AudioDecoder for LowbandMp3Decoder {
    fn codec_info(&self) -> &CodecInfo {
        &Self::supported_codecs()[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.out_params
    }

    fn reset(&mut self) {
        *self.state = layer3::Layer3::new();
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        if let Err(e) = self.decode_inner(packet) {
            self.buf.clear();
            Err(e)
        } else {
            Ok(self.buf.as_generic_audio_buffer_ref())
        }
    }

    fn finalize(&mut self) -> FinalizeResult {
        Default::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for LowbandMp3Decoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        opts: &AudioDecoderOptions,
    ) -> Result<Box<dyn AudioDecoder>>
    where
        Self: Sized,
    {
        Ok(Box::new(LowbandMp3Decoder::try_new(params, opts)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        &[support_audio_codec!(
            CODEC_ID_MP3,
            "mp3",
            "MPEG Audio Layer 3 (telephone band)"
        )]
    }
}
