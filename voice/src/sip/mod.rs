//! SIP: message helpers over rsip, client transactions, dialogs and digest authentication.

pub mod dialog;
pub mod digest;
pub mod msg;
pub mod transaction;
pub mod uas_2xx;
