//! The dispatch core's shared model, used by the engine and by every operator link.
//!
//! A dispatch is one recipient, one channel, one content. It is accepted by the ingest API,
//! passes the policy stages in the engine, and becomes a [`Ready`] dispatch waiting in its
//! operator's [`OperatorQueue`]. An operator link (SMPP binds for SMS, a SIP trunk for voice)
//! pops it, asks the core's [`LinkEvents::gate`] whether it may leave *now*, hands it to the
//! operator, and reports back through [`LinkEvents`]: handed off, retry later, final outcome.
//!
//! ```
//! use sendbox_dispatch::{ids::OperatorId, limiter::Gcra};
//! let beeline_rate = Gcra::new(100.0, 10); // 100 msg/s, bursts of 10
//! assert!(beeline_rate.try_acquire(0).is_ok());
//! # let _ = OperatorId(0);
//! ```

pub mod clock;
pub mod ids;
pub mod limiter;
pub mod link;
pub mod local_time;
pub mod model;
pub mod outcome;
pub mod queue;

pub use ids::{AccountId, CampaignId, DispatchId, OperatorId};
pub use link::{LinkEvents, RetryReason};
pub use local_time::LocalTime;
pub use model::{Channel, Content, Ready, SmsContent, TrafficClass, VoiceContent};
pub use outcome::{CallDetail, FinalState, Handoff, Outcome};
pub use queue::{OperatorQueue, QueueFull};
