//! Settings of the gateway, read once at start. Variables read (besides those of
//! `platform_telemetry` and `platform_runtime`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `HTTP_PORT` | `8080` | the public HTTP listener |
//! | `OPS_PORT` | `9100` | `/healthz`, `/readyz`, `/metrics` |
//! | `AUTH_GRPC_URL` | `http://127.0.0.1:50051` | the auth service; every address the host resolves to is used |
//! | `AUTH_GRPC_CONNECT_TIMEOUT` | `1s` | connecting to one auth replica |
//! | `AUTH_GRPC_TIMEOUT` | `3s` | deadline of one call to auth (sent as `grpc-timeout`) |
//! | `AUTH_GRPC_RESOLVE_INTERVAL` | `10s` | how often the auth replica set is looked up again |
//! | `USER_GRPC_URL` | `http://127.0.0.1:50052` | the user service (and `USER_GRPC_CONNECT_TIMEOUT`, `USER_GRPC_TIMEOUT`, `USER_GRPC_RESOLVE_INTERVAL`, defaults as for auth) |
//! | `GATEWAY_REQUEST_TIMEOUT` | `10s` | a whole request; past it the answer is 504 |
//! | `GATEWAY_MAX_BODY_BYTES` | `65536` | JSON request bodies; larger is 413 |
//! | `GATEWAY_MAX_CONCURRENT_REQUESTS` | `1024` | requests in progress; more are shed with 503 |
//! | `GATEWAY_CORS_ALLOWED_ORIGINS` | empty (no CORS) | comma-separated origins, or `*` |
//! | `GATEWAY_TRUST_FORWARDED_FOR` | `false` | take the client address from `X-Forwarded-For` (behind an ingress) |
//! | `AUTH_ISSUER` | `platform-auth` | required `iss` of access tokens |
//! | `AUTH_AUDIENCE` | `platform` | required `aud` of access tokens |
//! | `GATEWAY_JWKS_REFRESH_INTERVAL` | `5m` | age after which the cached JWKS is fetched again |
//! | `GATEWAY_JWKS_MIN_REFETCH_INTERVAL` | `10s` | an unknown `kid` triggers a fetch at most this often |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use platform_config::{ConfigError, Env};
use platform_grpc::GrpcClientSettings;
use platform_runtime::RuntimeSettings;
use platform_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub http_addr: SocketAddr,
    pub auth: GrpcClientSettings,
    pub users: GrpcClientSettings,
    pub http: HttpSettings,
    pub tokens: TokenSettings,
}

/// Limits and policies of the public HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
    pub cors_allowed_origins: Vec<String>,
    pub trust_forwarded_for: bool,
}

/// What an access token must say to be accepted.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_refresh_interval: Duration,
    pub jwks_min_refetch_interval: Duration,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_concurrent_requests = env.or("GATEWAY_MAX_CONCURRENT_REQUESTS", 1024)?;
        if max_concurrent_requests == 0 {
            return Err(ConfigError::invalid(
                "GATEWAY_MAX_CONCURRENT_REQUESTS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, "gateway")?,
            runtime: RuntimeSettings::from_env(env, 9100)?,
            http_addr: SocketAddr::new(
                env.or("BIND_ADDRESS", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
                env.or("HTTP_PORT", 8080)?,
            ),
            auth: GrpcClientSettings::from_env(env, "AUTH_GRPC", "http://127.0.0.1:50051")?,
            users: GrpcClientSettings::from_env(env, "USER_GRPC", "http://127.0.0.1:50052")?,
            http: HttpSettings {
                request_timeout: env
                    .duration_or("GATEWAY_REQUEST_TIMEOUT", Duration::from_secs(10))?,
                max_body_bytes: env.or("GATEWAY_MAX_BODY_BYTES", 64 * 1024)?,
                max_concurrent_requests,
                cors_allowed_origins: env.list_or("GATEWAY_CORS_ALLOWED_ORIGINS", &[]),
                trust_forwarded_for: env.flag_or("GATEWAY_TRUST_FORWARDED_FOR", false)?,
            },
            tokens: TokenSettings {
                issuer: env.or("AUTH_ISSUER", "platform-auth".to_owned())?,
                audience: env.or("AUTH_AUDIENCE", "platform".to_owned())?,
                jwks_refresh_interval: env
                    .duration_or("GATEWAY_JWKS_REFRESH_INTERVAL", Duration::from_secs(300))?,
                jwks_min_refetch_interval: env
                    .duration_or("GATEWAY_JWKS_MIN_REFETCH_INTERVAL", Duration::from_secs(10))?,
            },
        })
    }

    /// Settings for tests: port 0, auth and user at the given addresses, short deadlines.
    pub fn for_tests(auth_addr: SocketAddr, user_addr: SocketAddr) -> Self {
        let mut settings = Self::from_env(&Env::default()).expect("defaults are valid");
        settings.runtime = RuntimeSettings::for_tests();
        settings.http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        settings.auth = GrpcClientSettings::for_tests("auth", auth_addr);
        settings.users = GrpcClientSettings::for_tests("user", user_addr);
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_upstream_url_names_the_variable() {
        let env = Env::from_pairs([("AUTH_GRPC_URL", "http://auth")]);
        let err = Settings::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("AUTH_GRPC_URL"), "{err}");
    }

    #[test]
    fn zero_concurrency_is_refused() {
        let env = Env::from_pairs([("GATEWAY_MAX_CONCURRENT_REQUESTS", "0")]);
        let err = Settings::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("GATEWAY_MAX_CONCURRENT_REQUESTS"), "{err}");
    }
}
