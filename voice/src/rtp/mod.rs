//! RTP: the pacer (core and thread), RFC 4733 DTMF, RTCP sender reports, G.711 transcoding.

pub mod dtmf;
pub mod g711;
pub mod pacer;
pub mod pacer_thread;
pub mod rtcp;
