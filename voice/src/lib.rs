//! Voice: sans-IO SIP transactions and dialogs, digest auth, SDP, RTP pacing, DTMF, and the call operator link.
