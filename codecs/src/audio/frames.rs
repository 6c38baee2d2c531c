//! Splitting G.711 audio into 20 ms RTP payloads (160 bytes at 8 kHz).
//!
//! ```
//! use sendbox_codecs::audio::{frames, Law, FRAME_BYTES};
//! let f: Vec<_> = frames(&[1u8; 200], Law::ALaw).collect();
//! assert_eq!(f.len(), 2);
//! assert_eq!(f[1][40..], [0xD5; FRAME_BYTES - 40]);
//! ```

use super::Law;

/// Bytes (= samples) in one 20 ms G.711 frame at 8 kHz.
pub const FRAME_BYTES: usize = 160;

/// One 20 ms RTP payload.
pub type Frame = [u8; FRAME_BYTES];

/// Iterates `samples` as 160-byte frames; the last one is padded with the law's silence code.
pub fn frames(samples: &[u8], law: Law) -> impl ExactSizeIterator<Item = Frame> + '_ {
    let silence = law.silence();
    samples.chunks(FRAME_BYTES).map(move |chunk| {
        let mut f = [silence; FRAME_BYTES];
        f[..chunk.len()].copy_from_slice(chunk);
        f
    })
}
