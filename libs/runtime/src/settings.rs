//! Settings every service shares. Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OPS_PORT` | one per service | port of the ops listener (`/healthz`, `/readyz`, `/metrics`) |
//! | `BIND_ADDRESS` | `0.0.0.0` | address the ops listener binds, and a service's gRPC or HTTP listener |
//! | `SHUTDOWN_DRAIN_DEADLINE` | `20s` | how long in-flight work may take to finish after SIGTERM |
//! | `SHUTDOWN_DELAY` | `0s` (a few seconds on Kubernetes) | how long to keep serving while reporting not-ready after SIGTERM, so load balancers stop sending new work first |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use platform_config::{ConfigError, Env};

/// Where the ops listener binds.
#[derive(Debug, Clone)]
pub struct OpsSettings {
    pub addr: SocketAddr,
}

impl OpsSettings {
    /// Where a probe on the same host (or in the same container) reaches the listener:
    /// loopback when it binds every interface (`BIND_ADDRESS` unset), else the address it binds.
    pub fn local_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }
}

/// How the process stops.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub ops: OpsSettings,
    pub drain_deadline: Duration,
    pub shutdown_delay: Duration,
}

impl RuntimeSettings {
    /// Reads the variables listed in this module's documentation; `default_ops_port` differs
    /// per service so a native run can start them all on one machine.
    pub fn from_env(env: &Env, default_ops_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            ops: OpsSettings {
                addr: SocketAddr::new(
                    env.or("BIND_ADDRESS", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
                    env.or("OPS_PORT", default_ops_port)?,
                ),
            },
            drain_deadline: env.duration_or("SHUTDOWN_DRAIN_DEADLINE", Duration::from_secs(20))?,
            shutdown_delay: env.duration_or("SHUTDOWN_DELAY", Duration::ZERO)?,
        })
    }

    /// Settings for tests: every port is 0 and nothing waits.
    pub fn for_tests() -> Self {
        Self {
            ops: OpsSettings {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            },
            drain_deadline: Duration::from_secs(5),
            shutdown_delay: Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_reaches_a_listener_on_every_interface_through_loopback() {
        let env = Env::from_pairs([("OPS_PORT", "9200")]);
        let settings = RuntimeSettings::from_env(&env, 9100).unwrap();
        assert_eq!(settings.ops.local_addr(), "127.0.0.1:9200".parse().unwrap());
        let env = Env::from_pairs([("BIND_ADDRESS", "10.0.0.7")]);
        let settings = RuntimeSettings::from_env(&env, 9100).unwrap();
        assert_eq!(settings.ops.local_addr(), "10.0.0.7:9100".parse().unwrap());
    }
}
