//! One async fn per behaviour; each gets a fresh database.

mod billing;
mod outbox;

pub use billing::*;
pub use outbox::*;
