//! ITU-T G.711 A-law and μ-law companding, bit-exact to the standard.
//!
//! The encoders follow the reference algorithm of ITU-T G.191 (`g711.c`): A-law quantises the
//! top 13 bits of a 16-bit sample, μ-law the top 14 bits, negative values by their one's
//! complement magnitude. Encoding goes through tables built at
//! compile time, so the hot path is one shift and one load per sample.
//!
//! ```
//! use sendbox_codecs::audio::g711;
//! assert_eq!(g711::alaw_encode(0), 0xD5);
//! assert_eq!(g711::ulaw_encode(0), 0xFF);
//! assert_eq!(g711::alaw_decode(0xD5), 8);
//! ```

/// A-law segment end points (on the 13-bit magnitude).
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
/// μ-law bias on the 16-bit scale (used by the expander).
const ULAW_BIAS: i32 = 0x84;
/// μ-law bias on the 14-bit scale (used by the compressor).
const ULAW_BIAS_14: i32 = 33;

const fn search(val: i32, table: &[i32; 8]) -> usize {
    let mut i = 0;
    while i < 8 {
        if val <= table[i] {
            return i;
        }
        i += 1;
    }
    8
}

/// Reference A-law encoder on a 13-bit value (`pcm >> 3`).
const fn alaw_from_13(pcm13: i32) -> u8 {
    let (mask, mag) = if pcm13 >= 0 {
        (0xD5, pcm13)
    } else {
        (0x55, -pcm13 - 1)
    };
    let seg = search(mag, &SEG_AEND);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mut aval = (seg as i32) << 4;
    if seg < 2 {
        aval |= (mag >> 1) & 0xF;
    } else {
        aval |= (mag >> seg) & 0xF;
    }
    (aval ^ mask) as u8
}

/// Reference μ-law encoder on a 14-bit value (`pcm >> 2`), as G.191 `ulaw_compress`:
/// negative inputs take the one's complement magnitude, bias 33, clip at 0x1FFF.
const fn ulaw_from_14(pcm14: i32) -> u8 {
    let (positive, mag) = if pcm14 < 0 {
        (false, !pcm14)
    } else {
        (true, pcm14)
    };
    let mut absno = mag + ULAW_BIAS_14;
    if absno > 0x1FFF {
        absno = 0x1FFF;
    }
    let mut i = absno >> 6;
    let mut segno = 1;
    while i != 0 {
        segno += 1;
        i >>= 1;
    }
    let high = 8 - segno;
    let low = 0xF - ((absno >> segno) & 0xF);
    let out = (high << 4) | low;
    if positive {
        (out | 0x80) as u8
    } else {
        out as u8
    }
}

const fn build_alaw() -> [u8; 8192] {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        // Index is the 13-bit two's-complement value offset by 4096.
        t[i] = alaw_from_13(i as i32 - 4096);
        i += 1;
    }
    t
}

const fn build_ulaw() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        t[i] = ulaw_from_14(i as i32 - 8192);
        i += 1;
    }
    t
}

static ALAW_TABLE: [u8; 8192] = build_alaw();
static ULAW_TABLE: [u8; 16384] = build_ulaw();

const fn build_alaw_dec() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let a = (i as i32) ^ 0x55;
        let mut v = (a & 0xF) << 4;
        let seg = (a & 0x70) >> 4;
        match seg {
            0 => v += 8,
            1 => v += 0x108,
            _ => {
                v += 0x108;
                v <<= seg - 1;
            }
        }
        t[i] = if a & 0x80 != 0 { v as i16 } else { -v as i16 };
        i += 1;
    }
    t
}

const fn build_ulaw_dec() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let u = !(i as i32) & 0xFF;
        let mut v = ((u & 0xF) << 3) + ULAW_BIAS;
        v <<= (u & 0x70) >> 4;
        t[i] = if u & 0x80 != 0 {
            (ULAW_BIAS - v) as i16
        } else {
            (v - ULAW_BIAS) as i16
        };
        i += 1;
    }
    t
}

static ALAW_DEC: [i16; 256] = build_alaw_dec();
static ULAW_DEC: [i16; 256] = build_ulaw_dec();

/// Encodes one 16-bit linear sample to A-law (G.711 Table 1a / G.191 `alaw_compress`).
#[inline]
pub fn alaw_encode(pcm: i16) -> u8 {
    ALAW_TABLE[((pcm >> 3) as i32 + 4096) as usize]
}

/// Encodes one 16-bit linear sample to μ-law (G.711 Table 2a / G.191 `ulaw_compress`).
#[inline]
pub fn ulaw_encode(pcm: i16) -> u8 {
    ULAW_TABLE[((pcm >> 2) as i32 + 8192) as usize]
}

/// Decodes one A-law byte to a 16-bit linear sample (G.191 `alaw_expand`).
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DEC[code as usize]
}

/// Decodes one μ-law byte to a 16-bit linear sample (G.191 `ulaw_expand`).
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DEC[code as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_codes_match_the_standard() {
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
    }

    #[test]
    fn full_scale_codes_match_the_standard() {
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(ulaw_decode(0x80), 32124);
    }
}
