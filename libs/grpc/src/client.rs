//! Building a client channel: balanced over DNS, with deadlines and context propagation.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};

use crate::{GrpcClientSettings, Outbound};

/// What every generated client is built on: `AuthServiceClient::new(channel)`.
pub type GrpcChannel = Outbound<Channel>;

/// Opens a lazily connected channel to the upstream in `settings`.
///
/// The host is resolved now and every `resolve_interval` after; each address becomes an
/// endpoint of a power-of-two-choices balancer, so a Kubernetes headless Service spreads
/// calls over all ready replicas and picks up new ones. A name that does not resolve yet is
/// retried in the background; calls made meanwhile fail with their deadline.
///
/// Must be called inside a Tokio runtime.
pub fn connect(settings: &GrpcClientSettings) -> anyhow::Result<GrpcChannel> {
    connect_with(settings, Arc::new(dns_lookup))
}

/// How a host name becomes addresses; DNS in production, a fixed answer in tests.
type Lookup = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

fn dns_lookup(
    host: String,
    port: u16,
) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
    Box::pin(async move {
        Ok(tokio::net::lookup_host((host.as_str(), port))
            .await?
            .collect())
    })
}

fn connect_with(settings: &GrpcClientSettings, lookup: Lookup) -> anyhow::Result<GrpcChannel> {
    let host = settings
        .url
        .host()
        .ok_or_else(|| anyhow::anyhow!("{} has no host", settings.url))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = settings
        .url
        .port_u16()
        .ok_or_else(|| anyhow::anyhow!("{} has no port", settings.url))?;
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    let resolver = Resolver {
        host,
        port,
        settings: settings.clone(),
        changes,
        lookup,
    };
    tokio::spawn(resolver.run());
    Ok(Outbound::new(
        channel,
        &settings.peer,
        settings.request_timeout,
    ))
}

/// Keeps the balancer's endpoint set equal to what DNS says, until the channel is dropped.
struct Resolver {
    host: String,
    port: u16,
    settings: GrpcClientSettings,
    changes: tokio::sync::mpsc::Sender<Change<SocketAddr, Endpoint>>,
    lookup: Lookup,
}

impl Resolver {
    async fn run(self) {
        let mut known: HashSet<SocketAddr> = HashSet::new();
        let mut interval = tokio::time::interval(self.settings.resolve_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = self.changes.closed() => return,
            }
            let resolved = match (self.lookup)(self.host.clone(), self.port).await {
                Ok(addrs) => addrs.into_iter().collect::<HashSet<_>>(),
                Err(e) => {
                    tracing::warn!(peer = %self.settings.peer, host = %self.host, error = %e, "DNS lookup failed; keeping the known replicas");
                    continue;
                }
            };
            // An empty answer is treated like a failed lookup: better stale replicas than none.
            if resolved.is_empty() || resolved == known {
                continue;
            }
            for gone in known.difference(&resolved) {
                if self.changes.send(Change::Remove(*gone)).await.is_err() {
                    return;
                }
            }
            for new in resolved.difference(&known) {
                let endpoint = self.endpoint(*new);
                if self
                    .changes
                    .send(Change::Insert(*new, endpoint))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            tracing::debug!(peer = %self.settings.peer, replicas = resolved.len(), "replica set changed");
            known = resolved;
        }
    }

    fn endpoint(&self, addr: SocketAddr) -> Endpoint {
        let scheme = self.settings.url.scheme_str().unwrap_or("http");
        Endpoint::from_shared(format!("{scheme}://{addr}"))
            .expect("a socket address makes a valid URI")
            .connect_timeout(self.settings.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(std::time::Duration::from_secs(30))
            .keep_alive_while_idle(true)
    }
}

/// Asks an upstream's gRPC health service whether it serves; for readiness checks.
pub async fn health_check(channel: GrpcChannel, service: &str) -> Result<(), String> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| format!("{}: {}", status.code(), status.message()))?;
    match response.into_inner().status() {
        ServingStatus::Serving => Ok(()),
        other => Err(format!("reports {}", other.as_str_name())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A gRPC health server on `ip` that counts the calls it gets.
    async fn counting_server(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let (_, health) = tonic_health::server::health_reporter();
        let counted =
            tonic::service::interceptor::InterceptedService::new(health, move |request| {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(request)
            });
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(counted)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        (addr, calls)
    }

    /// A lookup whose answer the test changes, standing in for DNS.
    fn fixed_lookup(answer: Arc<Mutex<Vec<SocketAddr>>>) -> Lookup {
        Arc::new(move |_, _| {
            let addrs = answer.lock().unwrap().clone();
            Box::pin(async move { Ok(addrs) })
        })
    }

    #[tokio::test]
    async fn calls_spread_over_every_resolved_replica_and_follow_changes() {
        // Two replicas on two loopback addresses, as a headless Service's DNS name would give.
        let (a, a_calls) = counting_server("127.0.0.1").await;
        let (b, b_calls) = counting_server("127.0.0.2").await;
        let answer = Arc::new(Mutex::new(vec![a, b]));
        let mut settings = GrpcClientSettings::for_tests("peer", a);
        settings.url = "http://peer.internal:50051".parse().unwrap();
        settings.resolve_interval = Duration::from_millis(50);
        let channel = connect_with(&settings, fixed_lookup(answer.clone())).unwrap();

        for _ in 0..40 {
            health_check(channel.clone(), "").await.unwrap();
        }
        assert!(a_calls.load(Ordering::SeqCst) > 0, "replica a got calls");
        assert!(b_calls.load(Ordering::SeqCst) > 0, "replica b got calls");

        // Scale down to one replica: once the resolver has seen it, b gets nothing more.
        *answer.lock().unwrap() = vec![a];
        let mut last = b_calls.load(Ordering::SeqCst);
        let mut stable = 0;
        for _ in 0..400 {
            health_check(channel.clone(), "").await.unwrap();
            let now = b_calls.load(Ordering::SeqCst);
            // Calls that still reach b mean the resolver has not run yet; give it time.
            if now == last {
                stable += 1;
            } else {
                (last, stable) = (now, 0);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if stable >= 40 {
                break;
            }
        }
        assert!(
            stable >= 40,
            "after the replica left DNS, calls stopped reaching it"
        );
    }

    #[tokio::test]
    async fn a_silent_peer_fails_the_call_with_deadline_exceeded() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _held = tokio::spawn(async move {
            let mut sockets = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                sockets.push(socket);
            }
        });
        let mut settings = GrpcClientSettings::for_tests("silent", addr);
        settings.request_timeout = Duration::from_millis(200);
        let channel = connect(&settings).unwrap();
        let error = health_check(channel, "").await.unwrap_err();
        assert!(
            error.starts_with("DeadlineExceeded") || error.starts_with("Deadline"),
            "{error}"
        );
    }
}
