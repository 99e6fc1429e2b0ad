//! What the gateway's latency benchmarks share: starting the gateway, the light-request loops
//! and their statistics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;

/// Starts the gateway with `settings` on its own task; returns its base URL.
pub async fn serve_gateway(settings: gateway_service::Settings) -> String {
    let gateway = gateway_service::App::build(settings)
        .await
        .expect("gateway starts");
    let base = format!("http://{}", gateway.http_addr());
    tokio::spawn(gateway.run_until(std::future::pending()));
    base
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
    let started = Instant::now();
    let loops = (0..LIGHT_LOOPS).map(|i| async move {
        // Spread the remainder so exactly `total` requests are made.
        let count = total / LIGHT_LOOPS + usize::from(i < total % LIGHT_LOOPS);
        let mut latencies = Vec::new();
        while latencies.len() < count && !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            let response = client.get(url).send().await.expect("the gateway answers");
            assert!(
                response.status().is_success(),
                "light request: {}",
                response.status()
            );
            response.bytes().await.expect("a body");
            latencies.push(sent.elapsed());
        }
        latencies
    });
    let mut latencies: Vec<Duration> = join_all(loops).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    assert!(!latencies.is_empty(), "the phase made light requests");
    Phase { latencies, elapsed }
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
