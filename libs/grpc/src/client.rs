//! Building a client channel: balanced over DNS, with deadlines and context propagation.

use std::collections::HashSet;
use std::net::SocketAddr;

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
            let resolved = match tokio::net::lookup_host((self.host.as_str(), self.port)).await {
                Ok(addrs) => addrs.collect::<HashSet<_>>(),
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
