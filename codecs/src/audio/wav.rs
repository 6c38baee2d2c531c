//! WAV container for G.711 output: format tag 6 (A-law) or 7 (μ-law), mono, 8 kHz, 8 bits.
//!
//! Non-PCM WAV needs an 18-byte `fmt ` chunk (with `cbSize = 0`) and a `fact` chunk holding the
//! sample count, as the RIFF spec for compressed formats asks.
//!
//! ```
//! use sendbox_codecs::audio::{wav, Law};
//! let mut out = Vec::new();
//! wav::write_g711(Law::ALaw, &[0xD5; 160], &mut out).unwrap();
//! assert_eq!(&out[0..4], b"RIFF");
//! assert_eq!(out.len(), 58 + 160);
//! ```

use std::io::{self, Write};

use super::Law;

/// Bytes of header before the sample data.
pub const HEADER_LEN: usize = 58;

/// Writes `samples` (G.711 bytes at 8 kHz mono, in `law`) as a WAV file to `writer`.
///
/// Returns an error only if the writer fails, or if `samples` exceed what a RIFF size field
/// (u32) can describe.
pub fn write_g711(law: Law, samples: &[u8], writer: &mut dyn Write) -> io::Result<()> {
    let data_len = u32::try_from(samples.len())
        .ok()
        .filter(|n| *n < u32::MAX - HEADER_LEN as u32)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too many samples for WAV"))?;
    let pad = data_len & 1;
    let riff_len = 4 + (8 + 18) + (8 + 4) + (8 + data_len + pad);
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_len.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&18u32.to_le_bytes());
    h.extend_from_slice(&law.wav_format_tag().to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // channels
    h.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    h.extend_from_slice(&8000u32.to_le_bytes()); // byte rate
    h.extend_from_slice(&1u16.to_le_bytes()); // block align
    h.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    h.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    h.extend_from_slice(b"fact");
    h.extend_from_slice(&4u32.to_le_bytes());
    h.extend_from_slice(&data_len.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    debug_assert_eq!(h.len(), HEADER_LEN);
    writer.write_all(&h)?;
    writer.write_all(samples)?;
    if pad == 1 {
        writer.write_all(&[0])?;
    }
    Ok(())
}
