//! The pacer thread's one sleep: an epoll set holding a timerfd (the next slot), an eventfd
//! (commands were queued) and every stream's RTP socket (the callee sent something, e.g. DTMF).
//!
//! One `epoll_wait` replaces both the command channel's timed receive and polling each
//! stream's socket for DTMF (at 5,000 calls that polling was ~50,000 empty `recvfrom`s a
//! second). The timerfd gives the wait nanosecond precision; `epoll_wait`'s own timeout is in
//! whole milliseconds, which would make slots up to 1 ms late. Sockets are edge-triggered: a
//! readiness event means "drain until empty". nix wraps all three safely.

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

const TIMER: u64 = 0;
const WAKER: u64 = 1;
/// Socket tokens are the stream number plus this.
const FIRST_SOCKET: u64 = 2;

/// What woke the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    /// The slot deadline passed.
    Timer,
    /// Commands were queued.
    Commands,
    /// Stream `n`'s RTP socket has datagrams.
    Socket(u64),
}

/// Wakes the pacer thread from another thread (after queueing a command).
#[derive(Debug, Clone)]
pub(crate) struct Waker(Arc<EventFd>);

impl Waker {
    /// Make the thread's next (or current) wait return [`Ready::Commands`].
    pub(crate) fn wake(&self) {
        // A full counter (2^64 - 2 wake-ups unread) is the only error; the thread is awake then.
        let _ = self.0.write(1);
    }
}

/// The epoll set with its timer and waker.
#[derive(Debug)]
pub(crate) struct Reactor {
    epoll: Epoll,
    timer: TimerFd,
    waker: Arc<EventFd>,
    events: Vec<EpollEvent>,
}

impl Reactor {
    /// A new set with the timer unarmed.
    pub(crate) fn new() -> io::Result<Self> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        let waker = Arc::new(EventFd::from_value_and_flags(
            0,
            EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC,
        )?);
        epoll.add(&timer, EpollEvent::new(EpollFlags::EPOLLIN, TIMER))?;
        epoll.add(&*waker, EpollEvent::new(EpollFlags::EPOLLIN, WAKER))?;
        Ok(Reactor {
            epoll,
            timer,
            waker,
            events: vec![EpollEvent::empty(); 256],
        })
    }

    /// A handle that wakes this reactor.
    pub(crate) fn waker(&self) -> Waker {
        Waker(self.waker.clone())
    }

    /// Watch `socket` (edge-triggered) as stream `n`.
    pub(crate) fn add_socket(&self, socket: impl AsFd, n: u64) -> io::Result<()> {
        let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLET;
        self.epoll
            .add(socket, EpollEvent::new(flags, n + FIRST_SOCKET))?;
        Ok(())
    }

    /// Stop watching `socket` (closing it would too; this keeps the set exact).
    pub(crate) fn remove_socket(&self, socket: impl AsFd) {
        let _ = self.epoll.delete(socket);
    }

    /// Wait until `timeout` has passed (`None`: forever; zero: just look) or something is
    /// ready, and call `on` for each readiness.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut on: impl FnMut(Ready),
    ) -> io::Result<()> {
        let epoll_timeout = match timeout {
            Some(d) if d.is_zero() => EpollTimeout::ZERO,
            Some(d) => {
                // Arm the timer; a new setting also clears an expiry left unread.
                let when = Expiration::OneShot(TimeSpec::from_duration(d));
                self.timer.set(when, TimerSetTimeFlags::empty())?;
                EpollTimeout::NONE
            }
            None => {
                self.timer.unset()?;
                EpollTimeout::NONE
            }
        };
        let n = match self.epoll.wait(&mut self.events, epoll_timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => return Err(e.into()),
        };
        for ev in &self.events[..n] {
            match ev.data() {
                TIMER => {
                    // Disarm so the level-triggered timer stops reporting.
                    self.timer.unset()?;
                    on(Ready::Timer);
                }
                WAKER => {
                    let _ = self.waker.read();
                    on(Ready::Commands);
                }
                t => on(Ready::Socket(t - FIRST_SOCKET)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn wakes_for_the_timer_the_waker_and_a_readable_socket() {
        let mut r = Reactor::new().unwrap();
        let mut got = vec![];
        r.wait(Some(Duration::from_millis(2)), |x| got.push(x))
            .unwrap();
        assert_eq!(got, [Ready::Timer]);

        let w = r.waker();
        std::thread::spawn(move || w.wake()).join().unwrap();
        got.clear();
        r.wait(None, |x| got.push(x)).unwrap();
        assert_eq!(got, [Ready::Commands]);

        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        r.add_socket(&s, 7).unwrap();
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send_to(b"x", s.local_addr().unwrap())
            .unwrap();
        got.clear();
        r.wait(Some(Duration::from_secs(5)), |x| got.push(x))
            .unwrap();
        assert_eq!(got, [Ready::Socket(7)]);

        // Edge-triggered: nothing new, so a zero wait reports nothing.
        got.clear();
        r.wait(Some(Duration::ZERO), |x| got.push(x)).unwrap();
        assert!(got.is_empty(), "{got:?}");
        r.remove_socket(&s);
    }
}
