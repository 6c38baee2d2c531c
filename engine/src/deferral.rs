//! Dispatches waiting for a time: the next opening of the calling window (wall-clock time),
//! or a retry delay (monotonic time).
//!
//! One task owns two binary heaps. Window deferrals are keyed by wall-clock time and checked at
//! least once a second, so an injected clock (tests, the demo) is followed; retries are keyed by
//! `tokio::time::Instant`, so `tokio::time::pause()` drives them in tests. A due dispatch is
//! handed to the callback, which runs it through the window and balance checks again: nothing
//! leaves early.

use sendbox_dispatch::Ready;
use sendbox_dispatch::clock::WallClock;
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The longest the task sleeps before looking at the wall clock again.
const WALL_POLL: Duration = Duration::from_millis(250);

enum Deferred {
    Until(jiff::Timestamp, Ready),
    After(Instant, Ready),
}

struct Entry<K> {
    due: K,
    seq: u64,
    ready: Ready,
}

impl<K: Ord> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl<K: Ord> Eq for Entry<K> {}
impl<K: Ord> PartialOrd for Entry<K> {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord> Ord for Entry<K> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (&other.due, other.seq).cmp(&(&self.due, self.seq))
    }
}

/// Handle to the deferral task.
#[derive(Debug, Clone)]
pub struct Deferrals {
    tx: mpsc::UnboundedSender<Deferred>,
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deferred::Until(t, r) => write!(f, "Until({t}, {})", r.id),
            Deferred::After(_, r) => write!(f, "After({})", r.id),
        }
    }
}

impl Deferrals {
    /// Start the task; `on_due` receives each dispatch when its time comes.
    pub fn spawn(
        clock: Arc<dyn WallClock>,
        on_due: impl Fn(Ready) + Send + Sync + 'static,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(run(rx, clock, on_due, waiting.clone()));
        (Deferrals { tx, waiting }, task)
    }

    /// Hold `ready` until the wall clock reads `at`.
    pub fn until(&self, at: jiff::Timestamp, ready: Ready) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        // The task only stops when every sender is dropped, and we hold one.
        let _ = self.tx.send(Deferred::Until(at, ready));
    }

    /// Hold `ready` for `after`.
    pub fn after(&self, after: Duration, ready: Ready) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Deferred::After(Instant::now() + after, ready));
    }

    /// Dispatches waiting now.
    pub fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Deferred>,
    clock: Arc<dyn WallClock>,
    on_due: impl Fn(Ready),
    waiting: Arc<AtomicUsize>,
) {
    let mut wall: BinaryHeap<Entry<jiff::Timestamp>> = BinaryHeap::new();
    let mut mono: BinaryHeap<Entry<Instant>> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let mut wake = Instant::now() + WALL_POLL;
        if let Some(e) = mono.peek() {
            wake = wake.min(e.due);
        }
        if let Some(e) = wall.peek() {
            let left = e.due.duration_since(clock.now());
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            wake = wake.min(Instant::now() + left);
        }
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Deferred::Until(due, ready)) => { seq += 1; wall.push(Entry { due, seq, ready }); }
                Some(Deferred::After(due, ready)) => { seq += 1; mono.push(Entry { due, seq, ready }); }
                None => return,
            },
            () = tokio::time::sleep_until(wake) => {}
        }
        let now_wall = clock.now();
        while wall.peek().is_some_and(|e| e.due <= now_wall) {
            if let Some(e) = wall.pop() {
                waiting.fetch_sub(1, Ordering::Relaxed);
                on_due(e.ready);
            }
        }
        let now = Instant::now();
        while mono.peek().is_some_and(|e| e.due <= now) {
            if let Some(e) = mono.pop() {
                waiting.fetch_sub(1, Ordering::Relaxed);
                on_due(e.ready);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use sendbox_dispatch::clock::ManualClock;
    use sendbox_dispatch::{AccountId, Content, DispatchId, OperatorId, SmsContent, TrafficClass};

    fn ready(id: u64) -> Ready {
        Ready {
            id: DispatchId(id),
            account: AccountId(0),
            campaign: None,
            operator: OperatorId(0),
            msisdn: 77011234567,
            class: TrafficClass::Service,
            content: Arc::new(Content::Sms(SmsContent {
                sender: "S".into(),
                text: "t".into(),
                segments: 1,
            })),
            attempt: 1,
            retries: 0,
            reserved: 0,
            accepted_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn window_deferral_waits_for_the_wall_clock_not_a_moment_earlier() {
        let t0: jiff::Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        let clock = Arc::new(ManualClock::new(t0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let (d, _task) = Deferrals::spawn(clock.clone(), move |r| g.lock().push(r.id.0));
        d.until("2026-11-26T04:00:00Z".parse().unwrap(), ready(1));
        d.until("2026-11-26T04:00:00Z".parse().unwrap(), ready(2));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(got.lock().is_empty());
        assert_eq!(d.len(), 2);
        clock.set("2026-11-26T03:59:59Z".parse().unwrap());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(got.lock().is_empty(), "released a second early");
        clock.set("2026-11-26T04:00:00Z".parse().unwrap());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(*got.lock(), vec![1, 2]);
        assert!(d.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn retries_come_back_in_due_order() {
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::UNIX_EPOCH));
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let (d, _task) = Deferrals::spawn(clock, move |r| g.lock().push(r.id.0));
        d.after(Duration::from_secs(30), ready(3));
        d.after(Duration::from_secs(10), ready(4));
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(*got.lock(), vec![4]);
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(*got.lock(), vec![4, 3]);
    }
}
