//! The per-operator queue between the policy stage and the operator link: lock-free, bounded,
//! and fair between accounts.
//!
//! Each account has its own lane (a `crossbeam_queue::SegQueue`); a ring of the accounts that
//! have work is served round-robin, one dispatch per turn, so one account's million-row campaign
//! cannot starve another account's ten messages. A front lane takes dispatches coming back
//! from the link (throttled, link down): they go out before anything new.
//!
//! ```
//! # use sendbox_dispatch::{queue::OperatorQueue, ids::*, model::*};
//! # use std::sync::Arc;
//! let q = OperatorQueue::new(2, 1000);
//! # let content = Arc::new(Content::Sms(SmsContent { sender: "SHOP".into(), text: "hi".into(), segments: 1 }));
//! # let ready = |id: u64, acct: u32| Ready { id: DispatchId(id), account: AccountId(acct), campaign: None,
//! #   operator: OperatorId(0), msisdn: 77011234567, class: TrafficClass::Service, content: content.clone(),
//! #   attempt: 1, retries: 0, reserved: 0, accepted_at: jiff::Timestamp::UNIX_EPOCH };
//! for i in 0..3 { q.push(ready(i, 0)).unwrap(); }  // a big account
//! q.push(ready(100, 1)).unwrap();                   // a small one
//! assert_eq!(q.pop().unwrap().id.0, 0);
//! assert_eq!(q.pop().unwrap().id.0, 100);          // served on its turn, not after the big one
//! ```

use crate::model::Ready;
use crossbeam_queue::SegQueue;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::Notify;

/// The queue is at capacity; the dispatch is handed back so nothing is lost.
#[derive(Debug)]
pub struct QueueFull(pub Box<Ready>);

#[derive(Debug, Default)]
struct Lane {
    items: SegQueue<Ready>,
    /// True while the account is in the ring (or about to be put back by a popper).
    scheduled: AtomicBool,
}

/// A bounded, fair, lock-free multi-producer multi-consumer queue for one operator and channel.
#[derive(Debug)]
pub struct OperatorQueue {
    lanes: Vec<Lane>,
    ring: SegQueue<u32>,
    front: SegQueue<Ready>,
    len: AtomicUsize,
    capacity: usize,
    notify: Notify,
}

impl OperatorQueue {
    /// A queue for `accounts` accounts (ids `0..accounts`) holding at most `capacity` new dispatches.
    pub fn new(accounts: usize, capacity: usize) -> Self {
        OperatorQueue {
            lanes: (0..accounts.max(1)).map(|_| Lane::default()).collect(),
            ring: SegQueue::new(),
            front: SegQueue::new(),
            len: AtomicUsize::new(0),
            capacity,
            notify: Notify::new(),
        }
    }

    /// Queue a new dispatch at the back of its account's lane.
    pub fn push(&self, d: Ready) -> Result<(), QueueFull> {
        if self.len.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Err(QueueFull(Box::new(d)));
        }
        let idx = self.lane_index(d.account.0);
        let lane = &self.lanes[idx];
        lane.items.push(d);
        if !lane.scheduled.swap(true, Ordering::AcqRel) {
            self.ring.push(idx as u32);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Put a dispatch back at the very front (throttled, link down). Never refused: it was
    /// already admitted, and its place was counted before.
    pub fn push_front(&self, d: Ready) {
        self.len.fetch_add(1, Ordering::AcqRel);
        self.front.push(d);
        self.notify.notify_one();
    }

    /// Take the next dispatch, if any: the front lane first, then the next account in turn.
    pub fn pop(&self) -> Option<Ready> {
        if let Some(d) = self.front.pop() {
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Some(d);
        }
        while let Some(idx) = self.ring.pop() {
            let lane = &self.lanes[idx as usize];
            match lane.items.pop() {
                Some(d) => {
                    if lane.items.is_empty() {
                        self.unschedule(idx);
                    } else {
                        self.ring.push(idx);
                    }
                    self.len.fetch_sub(1, Ordering::AcqRel);
                    return Some(d);
                }
                None => self.unschedule(idx),
            }
        }
        None
    }

    /// Take the next dispatch, waiting until one arrives.
    pub async fn pop_wait(&self) -> Ready {
        loop {
            if let Some(d) = self.pop() {
                return d;
            }
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(d) = self.pop() {
                return d;
            }
            notified.await;
        }
    }

    /// Wake every waiting consumer (used at shutdown so links notice it).
    pub fn wake_all(&self) {
        self.notify.notify_waiters();
    }

    /// Dispatches waiting now.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity for new dispatches.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Remove and return everything queued (at shutdown, to persist it).
    pub fn drain(&self) -> Vec<Ready> {
        std::iter::from_fn(|| self.pop()).collect()
    }

    fn unschedule(&self, idx: u32) {
        let lane = &self.lanes[idx as usize];
        lane.scheduled.store(false, Ordering::Release);
        // A producer may have pushed after our pop saw the lane empty but before the store:
        // it saw `scheduled == true` and did not ring the lane, so we must.
        if !lane.items.is_empty() && !lane.scheduled.swap(true, Ordering::AcqRel) {
            self.ring.push(idx);
        }
    }

    fn lane_index(&self, account: u32) -> usize {
        // Accounts are numbered 0..n by the engine at start; a later account (added by a
        // reload) shares a lane rather than panicking.
        account as usize % self.lanes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::*;
    use crate::model::*;
    use std::sync::Arc;

    fn ready(id: u64, account: u32) -> Ready {
        Ready {
            id: DispatchId(id),
            account: AccountId(account),
            campaign: None,
            operator: OperatorId(0),
            msisdn: 77011234567,
            class: TrafficClass::Service,
            content: Arc::new(Content::Sms(SmsContent {
                sender: "SHOP".into(),
                text: "hi".into(),
                segments: 1,
            })),
            attempt: 1,
            retries: 0,
            reserved: 0,
            accepted_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn small_account_is_not_starved_by_a_big_campaign() {
        let q = OperatorQueue::new(2, 2_000_000);
        for i in 0..1_000_000 {
            q.push(ready(i, 0)).unwrap();
        }
        for i in 0..10 {
            q.push(ready(10_000_000 + i, 1)).unwrap();
        }
        // The ten small dispatches come out within the first 20 pops.
        let first: Vec<_> = (0..20).map(|_| q.pop().unwrap()).collect();
        assert_eq!(first.iter().filter(|d| d.account.0 == 1).count(), 10);
        assert_eq!(q.len(), 1_000_000 - 10);
    }

    #[test]
    fn full_queue_hands_the_dispatch_back() {
        let q = OperatorQueue::new(1, 2);
        q.push(ready(1, 0)).unwrap();
        q.push(ready(2, 0)).unwrap();
        let QueueFull(back) = q.push(ready(3, 0)).unwrap_err();
        assert_eq!(back.id.0, 3);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn front_lane_goes_first() {
        let q = OperatorQueue::new(1, 10);
        q.push(ready(1, 0)).unwrap();
        q.push_front(ready(9, 0));
        assert_eq!(q.pop().unwrap().id.0, 9);
        assert_eq!(q.pop().unwrap().id.0, 1);
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }

    #[test]
    fn concurrent_producers_and_consumers_lose_and_duplicate_nothing() {
        let q = Arc::new(OperatorQueue::new(4, usize::MAX));
        const PER: u64 = 50_000;
        let producers: Vec<_> = (0..4u32)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in 0..PER {
                        q.push(ready(u64::from(p) * PER + i, p)).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut idle = 0;
                    while idle < 1000 {
                        match q.pop() {
                            Some(d) => {
                                got.push(d.id.0);
                                idle = 0;
                            }
                            None => {
                                idle += 1;
                                std::thread::yield_now();
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<u64> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.extend(q.drain().into_iter().map(|d| d.id.0));
        all.sort_unstable();
        assert_eq!(all.len() as u64, 4 * PER);
        all.dedup();
        assert_eq!(all.len() as u64, 4 * PER, "a dispatch came out twice");
    }

    #[tokio::test]
    async fn pop_wait_wakes_on_push() {
        let q = Arc::new(OperatorQueue::new(1, 10));
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.pop_wait().await.id.0 });
        tokio::task::yield_now().await;
        q.push(ready(42, 0)).unwrap();
        assert_eq!(waiter.await.unwrap(), 42);
    }
}
