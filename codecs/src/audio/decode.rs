//! Demux and decode any supported upload into mono `f32` chunks at the input rate.
//!
//! symphonia 0.6 reads the containers (WAV, AIFF, MP3, Ogg, FLAC, MP4/M4A, CAF, MKV) and
//! decodes PCM, A/μ-law, ADPCM, MP3, Vorbis, FLAC, AAC-LC and ALAC. symphonia has no Opus
//! decoder, so Ogg Opus packets from its demuxer go to the pure-Rust `opus-decoder` crate
//! (decoding at 48 kHz; pre-skip and end trimming come from the Ogg granule positions).
//! HE-AAC (explicit SBR/PS signalling) is refused by name before decoding.
//!
//! MP3 goes to `sendbox-mp3-lowband` instead of symphonia's decoder (registered ahead of it in
//! our own codec registry): it decodes only the telephone band and hands over mono at a quarter
//! of the rate (11,025 Hz for 44.1 kHz), about twice as fast. So the rate of the decoded
//! samples (`SourceInfo::decode_rate`) can differ from the file's (`SourceInfo::rate`).
//!
//! Decoding is streaming: one packet at a time, downmixed into a reusable buffer, handed to a
//! sink. Nothing grows with the file's length.

use std::sync::LazyLock;

use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_OPUS};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::common::Tier;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use super::AudioError;
use super::mix::{downmix, downmix_planes};
use super::mp4::Edit;
use super::opus::OpusTrack;
use super::sniff;

/// symphonia's decoders, with the telephone-band MP3 decoder preferred for MP3.
static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
    let mut r = CodecRegistry::new();
    symphonia::default::register_enabled_codecs(&mut r);
    r.register_audio_decoder_at_tier::<sendbox_mp3_lowband::LowbandMp3Decoder>(Tier::Preferred);
    r
});

/// Decoder errors tolerated (packet skipped, as players do) before the file counts as corrupt.
const MAX_BAD_PACKETS: u32 = 8;

/// What the probe found.
#[derive(Debug, Clone)]
pub(crate) struct SourceInfo {
    /// e.g. "mp3", "ogg/opus", "wav/pcm_s16le", "mp4/aac".
    pub label: String,
    /// The file's sample rate in Hz.
    pub rate: u32,
    /// The file's channel count.
    pub channels: usize,
    /// Rate of the mono samples `Source::run` hands over (below `rate` for MP3).
    pub decode_rate: u32,
    /// Frames (at `decode_rate`) the container header promises, when it says.
    pub expected_frames: Option<u64>,
}

/// How decoding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The stream ended where the container said it would.
    Complete,
    /// The stream stopped early or mid-frame.
    Truncated,
}

enum Dec {
    Sym(Box<dyn AudioDecoder>),
    Opus(Box<OpusTrack>),
}

/// An opened upload, ready to stream mono samples.
pub(crate) struct Source<'s> {
    name: String,
    format: Box<dyn FormatReader + 's>,
    track_id: u32,
    dec: Dec,
    /// What the probe found.
    pub info: SourceInfo,
    /// Frames still to drop at the start (MP4 AAC priming).
    trim_skip: u64,
    /// Frames still to emit, when an MP4 edit list says how long the audio is.
    trim_left: Option<u64>,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("info", &self.info)
            .finish()
    }
}

fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> String {
    if id == CODEC_ID_OPUS {
        return "opus".into();
    }
    match CODECS.get_audio_decoder(id) {
        Some(reg) => reg.codec.info.short_name.to_string(),
        None => format!("codec id {id}"),
    }
}

/// Reads the MPEG-4 Audio Object Type from an AudioSpecificConfig.
fn aac_object_type(asc: &[u8]) -> Option<u8> {
    let first = *asc.first()?;
    let aot = first >> 3;
    if aot == 31 {
        let second = *asc.get(1)?;
        Some(32 + (((first & 0x07) << 3) | (second >> 5)))
    } else {
        Some(aot)
    }
}

fn map_err(name: &str, e: SymError) -> AudioError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Truncated {
                name: name.into(),
                at_ms: 0,
                expected_ms: None,
            }
        }
        SymError::DecodeError(msg) if msg.contains("exceeds") => AudioError::Corrupt {
            name: name.into(),
            detail: format!("a header claims more data than the file holds ({msg})"),
        },
        other => AudioError::Corrupt {
            name: name.into(),
            detail: other.to_string(),
        },
    }
}

impl<'s> Source<'s> {
    /// Probes `mss`. `head` holds the file's first bytes, to describe unrecognised content;
    /// `edit` is the MP4 sound track's edit list, if any (applied to AAC).
    pub fn open(
        name: &str,
        mss: MediaSourceStream<'s>,
        head: &[u8],
        edit: Option<Edit>,
    ) -> Result<Self, AudioError> {
        let mut hint = Hint::new();
        if let Some(ext) = name.rsplit_once('.').map(|(_, e)| e) {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::Unsupported(_) => match sniff::wav_codec(head) {
                    Some(codec) => AudioError::UnsupportedCodec {
                        name: name.into(),
                        codec,
                        hint: HINT,
                    },
                    None => AudioError::UnsupportedFormat {
                        name: name.into(),
                        detected: sniff::describe(head),
                    },
                },
                other => map_err(name, other),
            })?;
        let container = match format.format_info().short_name {
            "wave" => "wav",
            "isomp4" => "mp4",
            other => other,
        };
        let track = format
            .default_track(TrackType::Audio)
            .or_else(|| format.first_track(TrackType::Audio))
            .ok_or_else(|| AudioError::NoAudioTrack { name: name.into() })?;
        let params: AudioCodecParameters = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .cloned()
            .ok_or_else(|| AudioError::NoAudioTrack { name: name.into() })?;
        let track_id = track.id;
        let mut expected_frames = track.num_frames;
        let codec = codec_name(params.codec);
        let label = if container == codec {
            codec.clone()
        } else {
            format!("{container}/{codec}")
        };

        let dec = if params.codec == CODEC_ID_OPUS {
            // Ogg Opus: the last granule position counts the pre-skip too.
            let delay = u64::from(track.delay.unwrap_or(0));
            expected_frames = expected_frames.map(|n| n.saturating_sub(delay));
            Dec::Opus(Box::new(OpusTrack::new(
                name,
                &params,
                delay,
                expected_frames,
            )?))
        } else {
            if params.codec == CODEC_ID_AAC
                && let Some(asc) = params.extra_data.as_deref()
            {
                match aac_object_type(asc) {
                    Some(5) => return Err(unsupported(name, "HE-AAC")),
                    Some(29) => return Err(unsupported(name, "HE-AACv2")),
                    _ => {}
                }
            }
            let opts = AudioDecoderOptions::default();
            let d = CODECS
                .make_audio_decoder(&params, &opts)
                .map_err(|e| match e {
                    SymError::Unsupported(what) => AudioError::UnsupportedCodec {
                        name: name.into(),
                        codec: format!("{codec} ({what})"),
                        hint: HINT,
                    },
                    other => map_err(name, other),
                })?;
            Dec::Sym(d)
        };
        let (rate, channels, decode_rate) = match &dec {
            Dec::Opus(o) => (o.rate(), o.channels(), o.rate()),
            Dec::Sym(d) => {
                let p = d.codec_params();
                (
                    params.sample_rate.or(p.sample_rate).unwrap_or(0),
                    params
                        .channels
                        .as_ref()
                        .or(p.channels.as_ref())
                        .map_or(0, |c| c.count()),
                    p.sample_rate.or(params.sample_rate).unwrap_or(0),
                )
            }
        };
        if rate == 0 || decode_rate == 0 {
            return Err(AudioError::Corrupt {
                name: name.into(),
                detail: "the header gives no sample rate".into(),
            });
        }
        if decode_rate != rate {
            expected_frames =
                expected_frames.map(|n| n.saturating_mul(u64::from(decode_rate)) / u64::from(rate));
        }
        let (mut trim_skip, mut trim_left) = (0, None);
        if let Some(e) = edit.filter(|e| params.codec == CODEC_ID_AAC && e.timescale > 0) {
            let (rate, scale) = (u64::from(decode_rate), u64::from(e.timescale));
            trim_skip = e.skip.saturating_mul(rate) / scale;
            trim_left = e.keep.map(|k| k.saturating_mul(rate) / scale);
            expected_frames = trim_left.or(expected_frames);
        }
        Ok(Source {
            name: name.into(),
            format,
            track_id,
            dec,
            info: SourceInfo {
                label,
                rate,
                channels,
                decode_rate,
                expected_frames,
            },
            trim_skip,
            trim_left,
            interleaved: Vec::new(),
            mono: Vec::new(),
        })
    }

    /// Decodes to the end, handing mono chunks at `info.decode_rate` to `sink`. Returns the frames
    /// decoded and how the stream ended. A sink error stops decoding and is returned.
    pub fn run(
        &mut self,
        sink: &mut dyn FnMut(&[f32]) -> Result<(), AudioError>,
    ) -> Result<(u64, End), AudioError> {
        let mut frames = 0u64;
        let mut bad = 0u32;
        let end = loop {
            let packet: Packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) | Err(SymError::ResetRequired) => break End::Complete,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break End::Truncated;
                }
                Err(e) => return Err(map_err(&self.name, e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decode_packet(&packet) {
                Ok(()) => {}
                Err(SymError::DecodeError(d)) => {
                    bad += 1;
                    if bad > MAX_BAD_PACKETS {
                        return Err(self.corrupt(format!("{bad} undecodable packets; last: {d}")));
                    }
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break End::Truncated;
                }
                Err(SymError::Unsupported(what)) => {
                    return Err(AudioError::UnsupportedCodec {
                        name: self.name.clone(),
                        codec: format!("{} ({what})", self.info.label),
                        hint: HINT,
                    });
                }
                Err(e) => return Err(self.corrupt(e.to_string())),
            }
            self.apply_trim();
            if !self.mono.is_empty() {
                frames += self.mono.len() as u64;
                sink(&self.mono)?;
            }
        };
        let end = match (end, self.info.expected_frames) {
            // A header that promises more than 1% (and more than 50 ms) beyond what was there.
            (End::Complete, Some(exp))
                if exp > frames + (exp / 100).max(u64::from(self.info.decode_rate) / 20) =>
            {
                End::Truncated
            }
            (e, _) => e,
        };
        if end == End::Truncated && bad > 0 {
            let ms = frames * 1000 / u64::from(self.info.decode_rate.max(1));
            return Err(self.corrupt(format!(
                "{bad} undecodable packets, and the stream breaks off at {ms} ms"
            )));
        }
        Ok((frames, end))
    }

    /// Applies the MP4 edit list to the packet just decoded.
    fn apply_trim(&mut self) {
        if self.trim_skip > 0 {
            let k = self.trim_skip.min(self.mono.len() as u64);
            self.mono.drain(..k as usize);
            self.trim_skip -= k;
        }
        if let Some(left) = self.trim_left.as_mut() {
            let k = (*left).min(self.mono.len() as u64);
            self.mono.truncate(k as usize);
            *left -= k;
        }
    }

    fn corrupt(&self, detail: String) -> AudioError {
        AudioError::Corrupt {
            name: self.name.clone(),
            detail,
        }
    }

    /// Decodes one packet into `self.mono` (cleared first).
    fn decode_packet(&mut self, packet: &Packet) -> Result<(), SymError> {
        self.mono.clear();
        match &mut self.dec {
            Dec::Opus(o) => o.decode(packet, &mut self.mono),
            Dec::Sym(d) => {
                let buf = d.decode(packet)?;
                if buf.spec().rate() != self.info.decode_rate && buf.frames() > 0 {
                    return Err(SymError::DecodeError("the sample rate changes mid-stream"));
                }
                if let GenericAudioBufferRef::F32(b) = &buf {
                    // Fast path (MP3, AAC, Vorbis decode to planar f32): mix the planes directly.
                    downmix_planes(b, &mut self.mono);
                    return Ok(());
                }
                let ch = buf.spec().channels().count().max(1);
                let n = buf.frames();
                self.interleaved.resize(n * ch, 0.0);
                buf.copy_to_slice_interleaved::<f32, _>(&mut self.interleaved[..]);
                downmix(&self.interleaved, ch, &mut self.mono);
                Ok(())
            }
        }
    }
}

const HINT: &str = "; please upload MP3, WAV, FLAC, Ogg (Vorbis or Opus) or AAC-LC M4A";

fn unsupported(name: &str, codec: &str) -> AudioError {
    AudioError::UnsupportedCodec {
        name: name.into(),
        codec: codec.into(),
        hint: HINT,
    }
}
