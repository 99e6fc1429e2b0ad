//! What the gateway's latency benchmarks share: starting the platform as the tests do, the
//! light-request loops and their statistics.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;

// Each bench uses a part of what the tests' platform offers.
#[allow(dead_code)]
#[path = "../../tests/api/platform.rs"]
pub mod platform;

/// The servers' runtime, with 2 workers like production on a 2-core machine, and the load's,
/// a current-thread runtime for this thread, so the client never runs on the servers' workers.
pub fn runtimes() -> (tokio::runtime::Runtime, tokio::runtime::Runtime) {
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the server runtime starts");
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client runtime starts");
    (servers, client)
}

/// The load's HTTP client: requests wait up to `timeout`, so queues are measured rather than
/// cut off.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("a client")
}

/// A gateway for one client that floods: quotas raised out of reach, so the limits are not
/// what is measured, and (`patient`) deadlines long enough that queues are measured rather
/// than cut off.
pub fn flooded_by_one_client(gateway: &mut gateway_service::Settings, patient: bool) {
    *gateway = gateway.clone().with_rate_limits_raised();
    if patient {
        gateway.auth.request_timeout = Duration::from_secs(120);
        gateway.http.request_timeout = Duration::from_secs(120);
    }
}

/// Concurrent loops sending light requests.
pub const LIGHT_LOOPS: usize = 8;

/// The light requests of one phase.
pub struct Phase {
    /// Each request's latency, sorted.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Phase {
    /// `requests | p50 | p90 | p99 | max | req/s` as Markdown cells (milliseconds; percentiles
    /// by nearest rank).
    pub fn cells(&self) -> String {
        let n = self.latencies.len();
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        let pct = |p: usize| ms(self.latencies[(n * p).div_ceil(100).max(1) - 1]);
        let rate = n as f64 / self.elapsed.as_secs_f64();
        format!(
            "{n} | {} | {} | {} | {} | {rate:.0}",
            pct(50),
            pct(90),
            pct(99),
            ms(self.latencies[n - 1]),
        )
    }
}

/// GETs of `url` from [`LIGHT_LOOPS`] loops, each timed on its own: `total` of them, or as
/// many as are made before `stop` is set.
pub async fn light_load(
    client: &reqwest::Client,
    url: &str,
    total: usize,
    stop: &AtomicBool,
) -> Phase {
    let (latencies, elapsed) = timed_loops(LIGHT_LOOPS, total, stop, |_| async {
        let response = client.get(url).send().await.expect("the gateway answers");
        assert!(
            response.status().is_success(),
            "light request: {}",
            response.status()
        );
        response.bytes().await.expect("a body");
    })
    .await;
    assert!(!latencies.is_empty(), "the phase made light requests");
    Phase { latencies, elapsed }
}

/// `total` requests from `loops` concurrent loops, or as many as are made before `stop` is
/// set; loop `i` makes `request(i)`. Returns each request's latency, sorted, and the time
/// they all took.
pub async fn timed_loops<F, Fut>(
    loops: usize,
    total: usize,
    stop: &AtomicBool,
    request: F,
) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    let request = &request;
    let loops = (0..loops).map(|i| async move {
        // Spread the remainder so exactly `total` requests are made.
        let count = total / loops + usize::from(i < total % loops);
        let mut latencies = Vec::new();
        while latencies.len() < count && !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            request(i).await;
            latencies.push(sent.elapsed());
        }
        latencies
    });
    let mut latencies: Vec<Duration> = join_all(loops).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    (latencies, elapsed)
}

/// `loops` loops that log in with `login` (a correct email and password, so the throttle
/// never triggers) until `stop` is set, counting completed logins in `done`.
pub async fn login_flood(
    client: &reqwest::Client,
    base: &str,
    login: &serde_json::Value,
    loops: usize,
    stop: &AtomicBool,
    done: &AtomicU64,
) {
    let url = format!("{base}/v1/auth/login");
    join_all((0..loops).map(|_| async {
        while !stop.load(Ordering::Relaxed) {
            let response = client
                .post(&url)
                .json(login)
                .send()
                .await
                .expect("the gateway answers");
            assert!(
                response.status().is_success(),
                "login failed: {}",
                response.status()
            );
            response.bytes().await.expect("a login body");
            done.fetch_add(1, Ordering::Relaxed);
        }
    }))
    .await;
}
