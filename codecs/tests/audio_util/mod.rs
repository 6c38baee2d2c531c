//! Shared helpers for the audio tests: signal generators, a WAV writer and measurements.
#![allow(dead_code)]

use sendbox_codecs::audio::{Law, g711};

/// Path of a committed fixture.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/audio/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Interleaved 16-bit PCM as a WAV file.
pub fn wav(rate: u32, channels: u16, pcm: &[i16]) -> Vec<u8> {
    let data_len = (pcm.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    w.extend_from_slice(&(channels * 2).to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    pcm.iter()
        .for_each(|s| w.extend_from_slice(&s.to_le_bytes()));
    w
}

/// A sine of `freq` Hz at `dbfs`, `secs` long, the same on every channel.
pub fn sine(freq: f64, rate: u32, secs: f64, dbfs: f64, channels: usize) -> Vec<i16> {
    let amp = 32767.0 * 10f64.powf(dbfs / 20.0);
    let n = (secs * f64::from(rate)).round() as usize;
    let mut v = Vec::with_capacity(n * channels);
    for i in 0..n {
        let s = (amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()).round();
        for _ in 0..channels {
            v.push(s as i16);
        }
    }
    v
}

/// G.711 bytes back to linear samples in [-1, 1).
pub fn linear(law: Law, samples: &[u8]) -> Vec<f64> {
    samples
        .iter()
        .map(|&c| {
            let v = match law {
                Law::ALaw => g711::alaw_decode(c),
                Law::MuLaw => g711::ulaw_decode(c),
            };
            f64::from(v) / 32768.0
        })
        .collect()
}

/// Least-squares fit of a sinusoid at `freq` (8 kHz signal, edges skipped):
/// returns (amplitude in dBFS, SNR in dB of the fit against the residual).
pub fn tone(x: &[f64], freq: f64) -> (f64, f64) {
    let skip = 400.min(x.len() / 4);
    let x = &x[skip..x.len() - skip];
    let w = std::f64::consts::TAU * freq / 8000.0;
    let (mut ss, mut cc, mut sc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = (w * i as f64).sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        xs += v * s;
        xc += v * c;
    }
    let det = ss * cc - sc * sc;
    let a = (xs * cc - xc * sc) / det;
    let b = (xc * ss - xs * sc) / det;
    let (mut sig, mut err) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = (w * i as f64).sin_cos();
        let fit = a * s + b * c;
        sig += fit * fit;
        err += (v - fit) * (v - fit);
    }
    let amp = (a * a + b * b).sqrt();
    (
        20.0 * (amp / (32767.0 / 32768.0)).log10(),
        10.0 * (sig / err.max(1e-30)).log10(),
    )
}

/// RMS of `x` in dBFS, edges skipped.
pub fn rms_dbfs(x: &[f64]) -> f64 {
    let skip = 400.min(x.len() / 4);
    let x = &x[skip..x.len() - skip];
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    10.0 * ms.max(1e-30).log10()
}

/// Frequency estimated from zero crossings over the middle half of `x`.
pub fn zero_crossing_hz(x: &[f64]) -> f64 {
    let x = &x[x.len() / 4..x.len() * 3 / 4];
    let crossings = x
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (x.len() as f64 / 8000.0)
}
