//! The telephone-band decode against upstream symphonia's full MP3 decode: the upstream output,
//! averaged to mono, low-passed to 3.8 kHz and decimated, must match ours (low-passed the same
//! way) to within 80 dB SNR (measured 99-101 dB), for every stereo mode and rate family the fixtures cover.

use sendbox_mp3_lowband::{LowbandMp3Decoder, decimation};
use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Decodes `bytes` with the decoder `make` builds; returns (rate, mono samples).
fn decode(
    bytes: &[u8],
    make: &dyn Fn(&symphonia::core::codecs::audio::AudioCodecParameters) -> Box<dyn AudioDecoder>,
) -> (u32, Vec<f32>) {
    let mss = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        Default::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format: Box<dyn FormatReader> = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .expect("probe");
    let track = format.default_track(TrackType::Audio).expect("audio track");
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .cloned()
        .expect("audio params");
    let mut dec = make(&params);
    let (mut rate, mut out) = (0, Vec::new());
    while let Ok(Some(packet)) = format.next_packet() {
        let buf = dec.decode(&packet).expect("decode");
        let GenericAudioBufferRef::F32(b) = buf else {
            panic!("f32 output")
        };
        rate = b.spec().rate();
        let planes: Vec<&[f32]> = (0..b.num_planes()).filter_map(|i| b.plane(i)).collect();
        let k = 1.0 / planes.len() as f32;
        out.extend((0..planes[0].len()).map(|i| planes.iter().map(|p| p[i]).sum::<f32>() * k));
    }
    (rate, out)
}

/// A Blackman-windowed sinc low-pass (cut-off `fc` Hz at `rate`) with `taps` taps.
fn lowpass(fc: f64, rate: f64, taps: usize) -> Vec<f64> {
    let mid = (taps - 1) as f64 / 2.0;
    let w = 2.0 * fc / rate;
    let h: Vec<f64> = (0..taps)
        .map(|n| {
            let t = n as f64 - mid;
            let sinc = if t == 0.0 {
                w
            } else {
                (std::f64::consts::PI * w * t).sin() / (std::f64::consts::PI * t)
            };
            let x = 2.0 * std::f64::consts::PI * n as f64 / (taps - 1) as f64;
            sinc * (0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos())
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.into_iter().map(|v| v / sum).collect()
}

fn filtered_at(x: &[f32], h: &[f64], n: usize) -> f64 {
    h.iter()
        .enumerate()
        .filter_map(|(k, c)| {
            n.checked_sub(k)
                .and_then(|i| x.get(i))
                .map(|v| c * f64::from(*v))
        })
        .sum()
}

fn check(file: &str, want_factor: u32) {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let opts = AudioDecoderOptions::default().gapless(false);
    let (full_rate, full) = decode(&bytes, &|p| {
        symphonia::default::get_codecs()
            .make_audio_decoder(p, &opts)
            .expect("upstream decoder")
    });
    let (low_rate, low) = decode(&bytes, &|p| {
        Box::new(LowbandMp3Decoder::try_new(p, &opts).expect("lowband decoder"))
    });
    let f = decimation(full_rate);
    assert_eq!(f, want_factor, "{file}");
    assert_eq!(low_rate * f, full_rate, "{file}");
    assert_eq!(low.len() * f as usize, full.len(), "{file}: length");

    // The same filter in seconds at both rates: taps_full - 1 = f * (taps_low - 1).
    let taps_low = 129;
    let h_low = lowpass(3800.0, f64::from(low_rate), taps_low);
    let h_full = lowpass(
        3800.0,
        f64::from(full_rate),
        f as usize * (taps_low - 1) + 1,
    );
    let (mut sig, mut err) = (0.0, 0.0);
    for n in (taps_low..low.len()).step_by(3) {
        let want = filtered_at(&full, &h_full, n * f as usize);
        let got = filtered_at(&low, &h_low, n);
        sig += want * want;
        err += (want - got) * (want - got);
    }
    let snr = 10.0 * (sig / err).log10();
    eprintln!("{file}: {snr:.1} dB");
    assert!(
        sig > 0.0 && snr >= 80.0,
        "{file}: SNR {snr:.1} dB in 0-3.8 kHz"
    );
}

#[test]
fn joint_stereo_44k1_matches_upstream() {
    check("js44.mp3", 4);
}

#[test]
fn plain_stereo_44k1_matches_upstream() {
    check("st44.mp3", 4);
}

#[test]
fn mono_48k_matches_upstream() {
    check("mono48.mp3", 4);
}

#[test]
fn joint_stereo_32k_matches_upstream() {
    check("js32.mp3", 2);
}

#[test]
fn mpeg2_22k05_matches_upstream_at_half_rate() {
    check("js22.mp3", 2);
}

#[test]
fn mono_16k_is_decoded_at_full_rate() {
    check("mono16.mp3", 1);
}
