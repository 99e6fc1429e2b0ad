//! Single flight: concurrent loads of one key share one load. A burst of cache misses on a
//! hot profile then costs Postgres one query, not one per request (per process; replicas
//! each load once).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};

pub struct SingleFlight<V: Clone> {
    in_flight: Mutex<HashMap<String, Shared<BoxFuture<'static, V>>>>,
}

impl<V: Clone + Send + Sync + 'static> Default for SingleFlight<V> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone + Send + Sync + 'static> SingleFlight<V> {
    /// Runs `load` for `key`, unless a load of `key` is already running: then waits for that
    /// one and returns its result.
    pub async fn run<F>(&self, key: &str, load: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let shared = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match in_flight.get(key) {
                Some(running) => running.clone(),
                None => {
                    let shared = load().boxed().shared();
                    in_flight.insert(key.to_owned(), shared.clone());
                    shared
                }
            }
        };
        let value = shared.clone().await;
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        // Only the entry for this very load: a newer one may already have replaced it.
        if in_flight
            .get(key)
            .is_some_and(|current| current.ptr_eq(&shared))
        {
            in_flight.remove(key);
        }
        value
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
        while flights.in_flight.lock().unwrap().is_empty() {
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
        assert!(
            flights.in_flight.lock().unwrap().is_empty(),
            "nothing is left behind"
        );
    }
}
