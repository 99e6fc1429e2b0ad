//! Login attempts waiting, on this replica, for the outcome of others in flight with the same
//! key. When an attempt is settled here, one waiter for its key looks again at once, so the
//! hashing threads do not idle while parallel logins queue; waiters for attempts on other
//! replicas find out by looking again after a pause.

use std::collections::HashMap;
use std::future::{Future as _, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

#[derive(Default)]
pub struct Waiters(Mutex<HashMap<String, Arc<Notify>>>);

impl Waiters {
    /// Joins the queue of `key` for as long as the returned value lives.
    pub fn join(self: &Arc<Self>, key: &str) -> Waiting {
        let notify = Arc::clone(self.lock().entry(key.to_owned()).or_default());
        Waiting {
            waiters: Arc::clone(self),
            key: key.to_owned(),
            notify,
        }
    }

    /// Wakes one waiter of `key`, if any: an attempt with that key was settled.
    pub fn wake_one(&self, key: &str) {
        if let Some(notify) = self.lock().get(key) {
            notify.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A place in a key's queue.
pub struct Waiting {
    waiters: Arc<Waiters>,
    key: String,
    notify: Arc<Notify>,
}

impl Waiting {
    /// A wake-up to wait for; enabled at once, so one sent before it is awaited still counts.
    pub fn wake_up(&self) -> Pin<Box<Notified<'_>>> {
        let mut woken = Box::pin(self.notify.notified());
        woken.as_mut().enable();
        woken
    }

    /// Leaves the queue. A waiter that waited, or got a wake-up it no longer needs, passes one
    /// on: the next waiter then looks for itself (it may be refused, or find a free slot).
    pub async fn leave(&self, mut woken: Pin<Box<Notified<'_>>>, waited: bool) {
        let got_one = poll_fn(|cx| Poll::Ready(woken.as_mut().poll(cx).is_ready())).await;
        if waited || got_one {
            self.notify.notify_one();
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut queues = self.waiters.lock();
        // The map's and this one: nobody else waits on the key.
        if Arc::strong_count(&self.notify) == 2 {
            queues.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_up_sent_while_looking_is_not_lost() {
        let waiters = Arc::new(Waiters::default());
        let waiting = waiters.join("k");
        let woken = waiting.wake_up();
        waiters.wake_one("k"); // while the waiter is still asking Redis
        woken.await;
    }

    #[tokio::test]
    async fn a_waiter_leaving_passes_a_wake_up_on_and_the_queue_empties() {
        let waiters = Arc::new(Waiters::default());
        let (first, second) = (waiters.join("k"), waiters.join("k"));
        let next = second.wake_up();
        let woken = first.wake_up();
        waiters.wake_one("k"); // lands on the first, which no longer needs it
        first.leave(woken, false).await;
        next.await;
        drop((first, second));
        assert!(
            waiters.lock().is_empty(),
            "no queue is kept without waiters"
        );
    }
}
