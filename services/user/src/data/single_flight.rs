//! Single flight: concurrent loads of one key share one load. A burst of cache misses on a
//! hot profile then costs Postgres one query, not one per request (per process; replicas
//! each load once). A load lives only while someone waits for it: when every caller has
//! been cancelled, it is dropped and its pooled connection goes back.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared, WeakShared};

/// The loads running now, by key. The map holds them weakly: only callers keep a load alive,
/// so when every caller has gone (a client gave up, a deadline fired), the load is dropped
/// with whatever it holds, such as a pooled Postgres or Redis connection.
pub struct SingleFlight<V: Clone> {
    in_flight: Mutex<HashMap<String, Flight<V>>>,
    next_id: AtomicU64,
}

struct Flight<V> {
    /// Tells this load from a newer one of the same key.
    id: u64,
    load: WeakShared<BoxFuture<'static, V>>,
}

impl<V: Clone + Send + Sync + 'static> Default for SingleFlight<V> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }
}

impl<V: Clone + Send + Sync + 'static> SingleFlight<V> {
    /// Runs `load` for `key`, unless a load of `key` is already running: then waits for that
    /// one and returns its result. A load runs while at least one caller waits for it.
    pub async fn run<F>(&self, key: &str, load: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (id, shared) = {
            let mut in_flight = self.lock();
            let running = in_flight
                .get(key)
                .and_then(|flight| Some((flight.id, flight.load.upgrade()?)));
            match running {
                Some(joined) => joined,
                None => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let shared = load().boxed().shared();
                    let weak = shared
                        .downgrade()
                        .expect("a load that was never polled has not finished");
                    in_flight.insert(key.to_owned(), Flight { id, load: weak });
                    (id, shared)
                }
            }
        };
        let mut waiter = Waiter {
            flights: self,
            key,
            id,
            load: Some(shared),
            finished: false,
        };
        let value = waiter
            .load
            .as_mut()
            .expect("the waiter holds its load until dropped")
            .await;
        waiter.finished = true;
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flight<V>>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One caller's hold on a load. Dropped when the caller returns or is cancelled; the last
/// one out removes the load's entry.
struct Waiter<'a, V: Clone + Send + Sync + 'static> {
    flights: &'a SingleFlight<V>,
    key: &'a str,
    id: u64,
    load: Option<Shared<BoxFuture<'static, V>>>,
    finished: bool,
}

impl<V: Clone + Send + Sync + 'static> Drop for Waiter<'_, V> {
    fn drop(&mut self) {
        // Our hold goes first: if it was the last, the load (and its connection) goes now.
        drop(self.load.take());
        let mut in_flight = self.flights.lock();
        let Some(flight) = in_flight.get(self.key) else {
            return;
        };
        // Only the entry for this very load: a newer one may already have replaced it.
        if flight.id != self.id {
            return;
        }
        let still_waited_for = flight.load.upgrade();
        // A finished load leaves at once, so the next caller reads fresh data.
        if self.finished || still_waited_for.is_none() {
            in_flight.remove(self.key);
        }
        drop(in_flight);
        // If another waiter left meanwhile, this was the last hold: drop it outside the lock.
        drop(still_waited_for);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_loads_of_one_key_run_once() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let loads = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let (flights, loads, gate) = (flights.clone(), loads.clone(), gate.clone());
                tokio::spawn(async move {
                    flights
                        .run("hot", move || async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            gate.notified().await;
                            7
                        })
                        .await
                })
            })
            .collect();
        // Let every caller join the flight before the load finishes.
        while flights.lock().is_empty() {
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        gate.notify_one();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 7);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(flights.lock().is_empty(), "nothing is left behind");
    }

    /// A pool of one connection: a load holds its permit while it runs, as a Postgres or
    /// Redis load holds its pooled connection.
    fn pool_of_one() -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(1))
    }

    /// Starts a caller whose load takes the pool's connection and never finishes, and returns
    /// once the load holds it.
    async fn caller_holding_the_connection(
        flights: &Arc<SingleFlight<u32>>,
        pool: &Arc<tokio::sync::Semaphore>,
    ) -> tokio::task::JoinHandle<u32> {
        let (flights, held) = (flights.clone(), pool.clone());
        let caller = tokio::spawn(async move {
            flights
                .run("hot", move || async move {
                    let _connection = held.acquire_owned().await;
                    std::future::pending::<u32>().await
                })
                .await
        });
        while pool.available_permits() == 1 {
            assert!(!caller.is_finished(), "the load never finishes");
            tokio::task::yield_now().await;
        }
        caller
    }

    #[tokio::test]
    async fn a_load_whose_callers_all_left_gives_its_connection_back() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let pool = pool_of_one();
        let first = caller_holding_the_connection(&flights, &pool).await;
        let second = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.run("hot", || async { 1 }).await })
        };
        tokio::task::yield_now().await;
        assert_eq!(pool.available_permits(), 0, "the load holds the connection");

        first.abort();
        second.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        assert!(second.await.unwrap_err().is_cancelled());
        assert_eq!(
            pool.available_permits(),
            1,
            "nobody waits for the load any more, so its connection is back in the pool"
        );
        assert!(
            flights.lock().is_empty(),
            "the abandoned load left no entry"
        );
    }

    #[tokio::test]
    async fn a_caller_after_everyone_left_starts_a_new_load() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let pool = pool_of_one();
        let abandoned = caller_holding_the_connection(&flights, &pool).await;
        abandoned.abort();
        let _ = abandoned.await;

        let value = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            flights.run("hot", || async { 8 }),
        )
        .await
        .expect("the new caller does not wait on the abandoned load");
        assert_eq!(value, 8);
    }

    #[tokio::test]
    async fn one_caller_leaving_does_not_cancel_the_load_others_wait_for() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let leader = {
            let (flights, gate) = (flights.clone(), gate.clone());
            tokio::spawn(async move {
                flights
                    .run("hot", move || async move {
                        let _open = gate.acquire().await;
                        9
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        let follower = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.run("hot", || async { 0 }).await })
        };
        tokio::task::yield_now().await;
        leader.abort();
        let _ = leader.await;
        gate.add_permits(1);
        assert_eq!(
            follower.await.unwrap(),
            9,
            "the follower gets the shared load"
        );
    }
}
