//! Audio decode to 8 kHz G.711 and SMS text encoding (GSM 03.38 / UCS-2, segmentation).
pub mod audio;
pub mod sms;
