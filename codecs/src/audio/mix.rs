//! Downmixing decoded audio to mono by averaging the channels.
//!
//! Averaging (rather than summing) keeps a mono-compatible stereo file at the same level and
//! cannot clip; normalisation restores loudness afterwards.

use symphonia::core::audio::{Audio, AudioBuffer};

/// Averages the planes of a planar f32 buffer into `out` (appending).
pub(crate) fn downmix_planes(b: &AudioBuffer<f32>, out: &mut Vec<f32>) {
    let planes: Vec<&[f32]> = (0..b.num_planes()).filter_map(|i| b.plane(i)).collect();
    match planes.as_slice() {
        [] => {}
        [m] => out.extend_from_slice(m),
        [l, r] => out.extend(l.iter().zip(r.iter()).map(|(a, b)| (a + b) * 0.5)),
        many => {
            let k = 1.0 / many.len() as f32;
            let n = many.iter().map(|p| p.len()).min().unwrap_or(0);
            out.extend((0..n).map(|i| many.iter().map(|p| p[i]).sum::<f32>() * k));
        }
    }
}

/// Averages interleaved channels into `out` (appending).
pub(crate) fn downmix(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    match channels {
        1 => out.extend_from_slice(interleaved),
        2 => out.extend(interleaved.chunks_exact(2).map(|f| (f[0] + f[1]) * 0.5)),
        n => {
            let k = 1.0 / n as f32;
            out.extend(
                interleaved
                    .chunks_exact(n)
                    .map(|f| f.iter().sum::<f32>() * k),
            );
        }
    }
}
