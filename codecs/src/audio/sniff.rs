//! Naming what a file looks like from its first bytes, for errors about files we cannot read.
//!
//! The probe in symphonia only says "unsupported"; the uploader deserves "this is a text file"
//! or "this is a PDF". Also tells Ogg Opus apart from other Ogg streams before probing.

/// Describes the content of `head` (the first bytes of a file) in a few words.
pub(crate) fn describe(head: &[u8]) -> String {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let d = if head.is_empty() {
        "nothing (0 bytes)"
    } else if starts(b"%PDF") {
        "a PDF document"
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive or office document"
    } else if starts(b"\x89PNG") || starts(b"\xFF\xD8\xFF") || starts(b"GIF8") {
        "an image"
    } else if head.get(4..8) == Some(b"ftyp") {
        "an MP4/M4A file without its index (moov box), e.g. a truncated upload"
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        "a WAV file with a broken or unsupported header"
    } else if starts(b"RIFF") {
        "a RIFF file that is not WAV (e.g. AVI or WebP)"
    } else if starts(b"\x1A\x45\xDF\xA3") {
        "a Matroska/WebM file with no supported audio"
    } else if starts(b"OggS") {
        "an Ogg file with no supported audio stream"
    } else if starts(b"#!AMR") {
        "AMR speech (not supported)"
    } else if starts(b"MThd") {
        "a MIDI file"
    } else if looks_like_text(head) {
        "text"
    } else {
        "unknown binary data"
    };
    d.to_string()
}

/// For a WAV whose codec we cannot decode: the codec named by its `fmt ` format tag.
pub(crate) fn wav_codec(head: &[u8]) -> Option<String> {
    if !head.starts_with(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return None;
    }
    let at = head.windows(4).position(|w| w == b"fmt ")?;
    let tag = u16::from_le_bytes([*head.get(at + 8)?, *head.get(at + 9)?]);
    let known = match tag {
        0x0031 => "GSM 6.10",
        0x0055 => "MP3-in-WAV",
        0x0022 => "TrueSpeech",
        0x0040 | 0x0064 | 0x0065 => "G.721/G.726 ADPCM",
        0x0042 | 0x0270 => "G.723.1",
        0x0161..=0x0163 => "Windows Media Audio",
        0x0002 | 0x0011 | 0x0001 | 0x0003 | 0x0006 | 0x0007 | 0xFFFE => return None,
        _ => "unknown",
    };
    Some(format!("WAV format tag 0x{tag:04X} ({known})"))
}

/// True if `head` is plausibly text: valid UTF-8 (allowing a cut final character) without
/// control characters other than whitespace.
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            // The prefix up to valid_up_to is valid UTF-8 by construction.
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_named_text() {
        assert_eq!(describe(b"hello, this is not audio\n"), "text");
        assert_eq!(describe("Привет".as_bytes()), "text");
    }

    #[test]
    fn wav_codec_names_the_format_tag() {
        let mut h = b"RIFF\0\0\0\0WAVEfmt \x14\0\0\0\x31\0\x01\0".to_vec();
        h.resize(64, 0);
        assert_eq!(
            wav_codec(&h).as_deref(),
            Some("WAV format tag 0x0031 (GSM 6.10)")
        );
        h[20] = 1;
        assert_eq!(wav_codec(&h), None);
    }

    #[test]
    fn binary_is_not_text() {
        assert_eq!(describe(&[0, 1, 2, 3, 200]), "unknown binary data");
        assert_eq!(describe(b"%PDF-1.7"), "a PDF document");
    }
}
