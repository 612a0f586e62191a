//! Cancelling a running statement: from another thread (`Interrupt::request`,
//! Python's `Connection.interrupt()`) or by a poll the host installs (the
//! Python binding checks for Ctrl-C there). The executor calls
//! [`Interrupt::check`] before every batch an operator produces, so a
//! statement stops within one batch of work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// How often the poll runs at most.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A host callback: true when the running statement must stop.
pub type InterruptPoll = Box<dyn Fn() -> bool + Send + Sync>;

/// The cancellation state of one connection.
pub struct Interrupt {
    requested: AtomicBool,
    poll: Option<InterruptPoll>,
    /// When `poll` may run next, in nanoseconds since `epoch`.
    next_poll: AtomicU64,
    epoch: Instant,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new(None)
    }
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("requested", &self.requested.load(Ordering::Relaxed))
            .field("poll", &self.poll.is_some())
            .finish()
    }
}

impl Interrupt {
    /// A new state; `poll`, if given, is asked at most every 20 ms whether
    /// the running statement must stop.
    pub fn new(poll: Option<InterruptPoll>) -> Self {
        Interrupt {
            requested: AtomicBool::new(false),
            poll,
            next_poll: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Asks the running statement (if any) to stop at its next check.
    pub fn request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// Forgets an earlier request (done when a statement starts, so an
    /// interrupt that came while nothing ran does not cancel the next one).
    pub fn clear(&self) {
        self.requested.store(false, Ordering::Release);
    }

    /// True once a request came, or the poll asked to stop.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// `Err` ("interrupted", an `OperationalError`) when the statement must
    /// stop.
    pub fn check(&self) -> Result<()> {
        if let Some(poll) = &self.poll {
            let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
            if now >= self.next_poll.load(Ordering::Relaxed) {
                let next = now.saturating_add(POLL_INTERVAL.as_nanos() as u64);
                self.next_poll.store(next, Ordering::Relaxed);
                if poll() {
                    self.request();
                }
            }
        }
        if self.is_requested() {
            Err(Error::operational("interrupted"))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn a_request_fails_checks_until_cleared() {
        let interrupt = Interrupt::default();
        assert!(interrupt.check().is_ok());
        interrupt.request();
        let err = interrupt.check().unwrap_err();
        assert_eq!(err.message, "interrupted");
        assert_eq!(err.kind, crate::ErrorKind::Operational);
        interrupt.clear();
        assert!(interrupt.check().is_ok());
    }

    #[test]
    fn the_poll_runs_at_most_once_per_interval() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let interrupt = Interrupt::new(Some(Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        })));
        for _ in 0..1000 {
            interrupt.check().unwrap();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        std::thread::sleep(POLL_INTERVAL + Duration::from_millis(5));
        interrupt.check().unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_poll_that_says_stop_interrupts() {
        let interrupt = Interrupt::new(Some(Box::new(|| true)));
        assert!(interrupt.check().is_err());
        assert!(interrupt.is_requested());
    }
}
