//! RTP: the pacer (core and thread), RFC 4733 DTMF, RTCP sender reports, G.711 transcoding.

pub mod dtmf;
pub mod g711;
mod lag;
pub mod pacer;
pub mod pacer_thread;
mod reactor;
pub mod rtcp;
pub mod send_timing;
