//! RTCP sender reports (RFC 3550 §6.4.1) with the SDES CNAME every compound packet needs
//! (§6.1). We send one about every 5 s per stream so trunks that watch RTCP keep the call.
//!
//! ```
//! # use sendbox_voice::rtp::rtcp::{sender_report, ntp_from_unix};
//! let mut buf = Vec::new();
//! sender_report(&mut buf, 0x1234, ntp_from_unix(std::time::Duration::from_secs(1)), 160, 1, 160, "sendbox");
//! assert_eq!(buf[1], 200); // PT = SR
//! assert_eq!(buf.len() % 4, 0);
//! ```

use std::time::Duration;

/// Seconds from 1900 (NTP era 0) to 1970 (Unix epoch).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp for a time since the Unix epoch.
pub fn ntp_from_unix(since_epoch: Duration) -> u64 {
    let secs = since_epoch.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Append a compound SR + SDES(CNAME) packet to `buf`.
pub fn sender_report(
    buf: &mut Vec<u8>,
    ssrc: u32,
    ntp: u64,
    rtp_ts: u32,
    packets: u32,
    octets: u32,
    cname: &str,
) {
    // SR: header, SSRC, NTP (8), RTP ts, packet count, octet count = 28 bytes, no report blocks.
    buf.extend_from_slice(&[0x80, 200, 0, 6]);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    buf.extend_from_slice(&ntp.to_be_bytes());
    buf.extend_from_slice(&rtp_ts.to_be_bytes());
    buf.extend_from_slice(&packets.to_be_bytes());
    buf.extend_from_slice(&octets.to_be_bytes());
    // SDES: one chunk with CNAME, an END item, padded to 32 bits.
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    let start = buf.len();
    buf.extend_from_slice(&[0x81, 202, 0, 0]);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    buf.push(1);
    buf.push(cname.len() as u8);
    buf.extend_from_slice(cname);
    buf.push(0);
    while !(buf.len() - start).is_multiple_of(4) {
        buf.push(0);
    }
    let words = ((buf.len() - start) / 4 - 1) as u16;
    buf[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_report_layout_matches_rfc3550() {
        let mut b = Vec::new();
        let ntp = ntp_from_unix(Duration::from_millis(1_500));
        sender_report(&mut b, 0xdead_beef, ntp, 8000, 50, 8000, "sb@10.0.0.1");
        assert_eq!(&b[0..4], &[0x80, 200, 0, 6]);
        assert_eq!(&b[4..8], &0xdead_beefu32.to_be_bytes());
        assert_eq!(
            u64::from_be_bytes(b[8..16].try_into().unwrap()) >> 32,
            NTP_UNIX_OFFSET + 1
        );
        assert_eq!(
            u32::from_be_bytes(b[8..16][4..8].try_into().unwrap()),
            1 << 31,
            "half a second"
        );
        assert_eq!(u32::from_be_bytes(b[16..20].try_into().unwrap()), 8000);
        assert_eq!(u32::from_be_bytes(b[20..24].try_into().unwrap()), 50);
        let sdes = &b[28..];
        assert_eq!(sdes[1], 202);
        let words = u16::from_be_bytes([sdes[2], sdes[3]]) as usize;
        assert_eq!((words + 1) * 4, sdes.len());
        assert_eq!(&sdes[8..10], &[1, 11]);
        assert_eq!(&sdes[10..21], b"sb@10.0.0.1");
    }
}
