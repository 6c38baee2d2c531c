//! SMPP: sans-IO session core, tokio bind driver, receipts, and the SMS operator link.
