//! A-law to μ-law transcoding for callees that answer PCMU only: prompts are stored as
//! A-law (the CIS norm), so a 256-entry table converts frames on the fly.
//!
//! ```
//! # use sendbox_voice::rtp::g711::{alaw_to_linear, ulaw_to_linear, ALAW_TO_ULAW};
//! let a = 0x2a; // some A-law sample
//! let (x, y) = (alaw_to_linear(a), ulaw_to_linear(ALAW_TO_ULAW[a as usize]));
//! assert!((x - y).abs() <= x.abs() / 8 + 8);
//! ```

/// A-law silence.
pub const ALAW_SILENCE: u8 = 0xd5;

/// Decode one A-law sample to 16-bit linear (ITU-T G.711).
pub const fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = ((a & 0x0f) as i16) << 4;
    let seg = (a & 0x70) >> 4;
    t = match seg {
        0 => t + 8,
        1 => t + 0x108,
        _ => (t + 0x108) << (seg - 1),
    };
    if a & 0x80 != 0 { t } else { -t }
}

/// Decode one μ-law sample to 16-bit linear.
pub const fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let t = ((((u & 0x0f) as i16) << 3) + 0x84) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }
}

/// Encode 16-bit linear to μ-law.
pub const fn linear_to_ulaw(pcm: i16) -> u8 {
    let mut x = pcm as i32;
    let sign = if x < 0 {
        x = -x;
        0x80
    } else {
        0
    };
    if x > 32635 {
        x = 32635;
    }
    x += 0x84;
    let mut exp = 7u8;
    while exp > 0 && x & (0x4000 >> (7 - exp)) == 0 {
        exp -= 1;
    }
    let mantissa = ((x >> (exp + 3)) & 0x0f) as u8;
    !(sign | (exp << 4) | mantissa)
}

/// A-law byte → μ-law byte.
pub const ALAW_TO_ULAW: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = linear_to_ulaw(alaw_to_linear(i as u8));
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcoding_keeps_every_sample_within_quantisation_error() {
        for a in 0..=255u8 {
            let x = i32::from(alaw_to_linear(a));
            let y = i32::from(ulaw_to_linear(ALAW_TO_ULAW[a as usize]));
            assert!((x - y).abs() <= x.abs() / 16 + 16, "a={a:#x}: {x} vs {y}");
            assert!(x.signum() * y.signum() >= 0, "sign kept for {a:#x}");
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(alaw_to_linear(ALAW_SILENCE), 8);
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(ulaw_to_linear(linear_to_ulaw(-8000)), -7932);
    }
}
