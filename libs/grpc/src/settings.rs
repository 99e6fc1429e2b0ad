//! gRPC settings. For a client with prefix `P` (e.g. `AUTH_GRPC`) the variables are:
//! - `P_URL`: `http://host:port`; every address `host` resolves to receives calls.
//! - `P_CONNECT_TIMEOUT`: default `1s`.
//! - `P_TIMEOUT`: the per-call deadline, default `3s`.
//! - `P_RESOLVE_INTERVAL`: how often DNS is asked again for the replica set, default `10s`.
//!
//! Their names depend on the prefix, so each service lists its clients' variables in its own
//! settings table. The server reads (besides `BIND_ADDRESS`, documented by `platform_runtime`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GRPC_PORT` | one per service | port of the gRPC listener |
//! | `GRPC_REQUEST_TIMEOUT` | `10s` | longest call; a caller's shorter `grpc-timeout` still wins |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use platform_config::{ConfigError, Env};

/// How to reach one upstream service.
#[derive(Debug, Clone)]
pub struct GrpcClientSettings {
    /// Shown in errors and metrics, e.g. `auth`.
    pub peer: String,
    pub url: http::Uri,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub resolve_interval: Duration,
}

impl GrpcClientSettings {
    /// Reads `{prefix}_URL` and friends (see the module documentation).
    pub fn from_env(env: &Env, prefix: &str, default_url: &str) -> Result<Self, ConfigError> {
        let url_var = format!("{prefix}_URL");
        let url: http::Uri = env.or(
            &url_var,
            default_url
                .parse()
                .map_err(|e| ConfigError::invalid(&url_var, e))?,
        )?;
        if url.host().is_none() || url.port_u16().is_none() {
            return Err(ConfigError::invalid(
                &url_var,
                format!("{url} needs a host and a port, like http://auth:50051"),
            ));
        }
        let peer = prefix
            .split('_')
            .next()
            .unwrap_or(prefix)
            .to_ascii_lowercase();
        Ok(Self {
            peer,
            url,
            connect_timeout: env
                .duration_or(&format!("{prefix}_CONNECT_TIMEOUT"), Duration::from_secs(1))?,
            request_timeout: env
                .duration_or(&format!("{prefix}_TIMEOUT"), Duration::from_secs(3))?,
            resolve_interval: env.duration_or(
                &format!("{prefix}_RESOLVE_INTERVAL"),
                Duration::from_secs(10),
            )?,
        })
    }

    /// Settings for tests: an upstream at `addr` with short deadlines.
    pub fn for_tests(peer: &str, addr: SocketAddr) -> Self {
        Self {
            peer: peer.to_owned(),
            url: format!("http://{addr}")
                .parse()
                .expect("a socket address makes a valid URI"),
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(2),
            resolve_interval: Duration::from_secs(10),
        }
    }
}

/// Where the gRPC server binds and how long one call may run.
#[derive(Debug, Clone)]
pub struct GrpcServerSettings {
    pub addr: SocketAddr,
    pub request_timeout: Duration,
}

impl GrpcServerSettings {
    /// Reads `BIND_ADDRESS`, `GRPC_PORT` (default `default_port`) and `GRPC_REQUEST_TIMEOUT`
    /// (default `10s`).
    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        Self::from_env_with_timeout(env, default_port, Duration::from_secs(10))
    }

    /// As [`from_env`](Self::from_env), for a service whose calls may run longer by nature
    /// (a streamed upload): `GRPC_REQUEST_TIMEOUT` defaults to `default_timeout`. A caller's
    /// shorter `grpc-timeout` still wins.
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_config::Env;
    /// use platform_grpc::GrpcServerSettings;
    ///
    /// let env = Env::from_pairs::<&str, &str>([]);
    /// let settings = GrpcServerSettings::from_env_with_timeout(&env, 50053, Duration::from_secs(65))?;
    /// assert_eq!(settings.request_timeout, Duration::from_secs(65));
    /// # Ok::<(), platform_config::ConfigError>(())
    /// ```
    pub fn from_env_with_timeout(
        env: &Env,
        default_port: u16,
        default_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            addr: SocketAddr::new(
                env.or("BIND_ADDRESS", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
                env.or("GRPC_PORT", default_port)?,
            ),
            request_timeout: env.duration_or("GRPC_REQUEST_TIMEOUT", default_timeout)?,
        })
    }

    pub fn for_tests() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            request_timeout: Duration::from_secs(10),
        }
    }
}
