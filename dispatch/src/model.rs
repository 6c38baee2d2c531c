//! What waits in an operator queue: a dispatch that passed every policy stage.

use crate::ids::{AccountId, CampaignId, DispatchId, OperatorId};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which kind of link carries a dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// SMS over SMPP.
    Sms,
    /// A robocall over a SIP trunk with an RTP G.711 prompt.
    Voice,
}

impl Channel {
    /// The lower-case name used in the API, the store and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }
}

/// Traffic class: the calling-window rules and operator rules differ per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TrafficClass {
    /// Notifications a customer asked for (order status, appointment reminders).
    #[default]
    Service,
    /// Promotional traffic.
    Marketing,
    /// One-time passwords.
    Otp,
}

impl TrafficClass {
    /// The lower-case name used in the API, config and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficClass::Service => "service",
            TrafficClass::Marketing => "marketing",
            TrafficClass::Otp => "otp",
        }
    }
}

/// An SMS body and its sender, shared by every dispatch of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsContent {
    /// Sender id: alphanumeric (at most 11 characters) or numeric.
    pub sender: String,
    /// The message text as the customer wrote it.
    pub text: String,
    /// Segments this text takes (what is billed), computed once at ingest.
    pub segments: u16,
}

/// A voice prompt, shared by every call of a campaign: the bytes are held once in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceContent {
    /// The audio id returned by `POST /v1/audio` (the content hash).
    pub audio_id: String,
    /// The prompt as 8 kHz G.711 A-law samples, one byte each; `Bytes` is reference counted.
    pub alaw: Bytes,
    /// How many times the prompt is played before the call is ended.
    pub repeat: u8,
}

impl VoiceContent {
    /// Prompt length in milliseconds (8 samples per millisecond).
    pub fn prompt_ms(&self) -> u64 {
        self.alaw.len() as u64 / 8
    }
}

/// The content of a dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// An SMS.
    Sms(SmsContent),
    /// A robocall.
    Voice(VoiceContent),
}

impl Content {
    /// The channel that carries this content.
    pub fn channel(&self) -> Channel {
        match self {
            Content::Sms(_) => Channel::Sms,
            Content::Voice(_) => Channel::Voice,
        }
    }
}

/// A dispatch admitted by every policy stage, with its balance reserved, waiting for its link.
///
/// It is small (the content is shared through an `Arc`), so a queue of millions stays well
/// under 1 KB per dispatch.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The dispatch.
    pub id: DispatchId,
    /// Who pays.
    pub account: AccountId,
    /// The campaign it belongs to, if any.
    pub campaign: Option<CampaignId>,
    /// The operator that serves the number (portability first, then prefix).
    pub operator: OperatorId,
    /// Recipient, E.164 digits (`77011234567`).
    pub msisdn: u64,
    /// Traffic class, for the window rules.
    pub class: TrafficClass,
    /// What to send; shared by the whole campaign.
    pub content: Arc<Content>,
    /// Attempt number, from 1. Voice retries (busy, no answer) are new attempts.
    pub attempt: u16,
    /// Retries of this attempt spent on temporary errors (throttling does not count).
    pub retries: u16,
    /// Tiyn reserved on the account for this dispatch.
    pub reserved: i64,
    /// When the API accepted it.
    pub accepted_at: jiff::Timestamp,
}

impl Ready {
    /// The channel that carries this dispatch.
    pub fn channel(&self) -> Channel {
        self.content.channel()
    }
}
