//! A SIP UAS simulator that answers, rings, busies, challenges and measures RTP, for tests and `sendbox sim sip`.
