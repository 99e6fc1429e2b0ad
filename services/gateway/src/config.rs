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
//! | `USER_GRPC_URL` | `http://127.0.0.1:50052` | the user service; every address the host resolves to is used |
//! | `USER_GRPC_CONNECT_TIMEOUT` | `1s` | connecting to one user replica |
//! | `USER_GRPC_TIMEOUT` | `3s` | deadline of one call to user (sent as `grpc-timeout`) |
//! | `USER_GRPC_RESOLVE_INTERVAL` | `10s` | how often the user replica set is looked up again |
//! | `GATEWAY_REQUEST_TIMEOUT` | `10s` | a whole request other than an upload; past it the answer is 504 |
//! | `GATEWAY_MAX_BODY_BYTES` | `65536` | JSON request bodies; larger is 413 |
//! | `GATEWAY_PUBLIC_URL` | empty (relative links) | the gateway's public origin, e.g. `https://api.example.com`, put in front of image links |
//! | `GATEWAY_MAX_CONCURRENT_REQUESTS` | `1024` | requests in progress; more are shed with 503 |
//! | `GATEWAY_CORS_ALLOWED_ORIGINS` | empty (no CORS) | comma-separated origins, or `*` |
//! | `GATEWAY_TRUSTED_PROXY_HOPS` | `0` | proxies in front of the gateway that append the address they saw to `X-Forwarded-For` (1 behind the shipped ingress); the client is that many entries from the right. 0: the TCP peer |
//! | `GATEWAY_TRUST_FORWARDED_FOR` | none | removed (it trusted the last entry whatever the proxies); the start fails while it is set |
//! | `GATEWAY_RATE_LIMIT_AUTH` | `600/1m` | per client, `/v1/auth/*`: a burst of 600, then 10/s |
//! | `GATEWAY_RATE_LIMIT_READS` | `100/1s` | per client, every `GET` |
//! | `GATEWAY_RATE_LIMIT_WRITES` | `20/1s` | per client, `PATCH`, `PUT`, `DELETE` and `POST` other than auth and uploads |
//! | `GATEWAY_RATE_LIMIT_UPLOADS` | `60/1m` | per client, `POST /v1/media` |
//! | `GATEWAY_RATE_LIMIT_TIMEOUT` | `100ms` | the longest a request waits for its decision from Redis; past it this replica decides alone |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | where the rate limits are counted, shared by every replica (and `REDIS_CONNECT_TIMEOUT`, `REDIS_COMMAND_TIMEOUT`, `REDIS_KEY_PREFIX` of `platform_redis`) |
//! | `AUTH_REGIONS` | `eu,us` | the regions a registration may name (auth's own list: the same variable), listed in the OpenAPI document |
//! | `AUTH_ISSUER` | `platform-auth` | required `iss` of access tokens |
//! | `AUTH_AUDIENCE` | `platform` | required `aud` of access tokens |
//! | `GATEWAY_JWKS_REFRESH_INTERVAL` | `5m` | age after which the cached JWKS is fetched again |
//! | `GATEWAY_JWKS_MIN_REFETCH_INTERVAL` | `10s` | an unknown `kid` triggers a fetch at most this often |
//!
//! A client is the user of a valid bearer token, or else the client address. A quota is
//! `N/window` (`600/1m`: a burst of 600, then one back every 100 ms); the limits are high
//! enough that no real client meets them (the fault suite's load passes under them). The
//! throughput benchmark raises `GATEWAY_RATE_LIMIT_READS` rather than turning limits off.
//! Without Redis each replica limits on its own (see `platform_ratelimit`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use platform_config::{ConfigError, Env};
use platform_grpc::GrpcClientSettings;
use platform_ratelimit::Quota;
use platform_redis::RedisSettings;
use platform_runtime::{RuntimeSettings, ServiceSettings};
use platform_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub http_addr: SocketAddr,
    pub auth: GrpcClientSettings,
    pub users: GrpcClientSettings,
    /// The settings of the gateway's parts (`crate::parts`), each read by its part.
    pub parts: platform_config::Parts,
    pub http: HttpSettings,
    pub rate_limits: RateLimitSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    /// The regions a registration may name (`AUTH_REGIONS`, auth's own list).
    pub regions: Vec<String>,
    /// Prefixed to the links the API hands out (`{public_url}/v1/media/{id}/{variant}`);
    /// empty for relative links. Never ends with `/`.
    pub public_url: String,
}

/// Limits and policies of the public HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
    pub cors_allowed_origins: Vec<String>,
    /// Proxies in front that append to `X-Forwarded-For`; 0 trusts none.
    pub trusted_proxy_hops: usize,
}

/// The per-client quota of each class of route (see `rate_limit`).
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub auth: Quota,
    pub reads: Quota,
    pub writes: Quota,
    pub uploads: Quota,
    /// The longest a request waits for the shared decision.
    pub timeout: Duration,
}

/// What an access token must say to be accepted.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_refresh_interval: Duration,
    pub jwks_min_refetch_interval: Duration,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_concurrent_requests = env.count_or("GATEWAY_MAX_CONCURRENT_REQUESTS", 1024)?;
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, "gateway")?,
            runtime: RuntimeSettings::from_env(env, 9100)?,
            http_addr: SocketAddr::new(
                env.or("BIND_ADDRESS", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
                env.or("HTTP_PORT", 8080)?,
            ),
            auth: GrpcClientSettings::from_env(env, "AUTH_GRPC", "http://127.0.0.1:50051")?,
            users: GrpcClientSettings::from_env(env, "USER_GRPC", "http://127.0.0.1:50052")?,
            parts: crate::parts::settings(env)?,
            http: HttpSettings {
                request_timeout: env
                    .duration_or("GATEWAY_REQUEST_TIMEOUT", Duration::from_secs(10))?,
                max_body_bytes: env.or("GATEWAY_MAX_BODY_BYTES", 64 * 1024)?,
                max_concurrent_requests,
                cors_allowed_origins: env.list_or("GATEWAY_CORS_ALLOWED_ORIGINS", &[]),
                trusted_proxy_hops: trusted_proxy_hops(env)?,
            },
            rate_limits: RateLimitSettings {
                auth: env.or("GATEWAY_RATE_LIMIT_AUTH", Quota::per_minute(600))?,
                reads: env.or("GATEWAY_RATE_LIMIT_READS", Quota::per_second(100))?,
                writes: env.or("GATEWAY_RATE_LIMIT_WRITES", Quota::per_second(20))?,
                uploads: env.or("GATEWAY_RATE_LIMIT_UPLOADS", Quota::per_minute(60))?,
                timeout: env
                    .duration_or("GATEWAY_RATE_LIMIT_TIMEOUT", Duration::from_millis(100))?,
            },
            redis: RedisSettings::from_env(env)?,
            public_url: public_url(env.raw("GATEWAY_PUBLIC_URL").unwrap_or_default())?,
            regions: env.list_or("AUTH_REGIONS", &["eu", "us"]),
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

    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
        (&self.runtime, &self.telemetry)
    }
}

impl Settings {
    /// Settings for tests: port 0, auth and user at the given addresses, short deadlines,
    /// and each part's upstream where nothing listens until a test points it elsewhere.
    pub fn for_tests(auth_addr: SocketAddr, user_addr: SocketAddr) -> Self {
        let mut settings = Self::from_env(&Env::default()).expect("defaults are valid");
        settings.runtime = RuntimeSettings::for_tests();
        settings.http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        settings.auth = GrpcClientSettings::for_tests("auth", auth_addr);
        settings.users = GrpcClientSettings::for_tests("user", user_addr);
        // Rate limits of their own: tests share one Redis and one client address.
        settings.redis.key_prefix = test_key_prefix();
        for part in crate::parts::PARTS {
            (part.for_tests)(&mut settings);
        }
        settings
    }

    /// The same settings, with every quota raised out of reach: for benchmarks that flood from
    /// one client. Limiting still runs (a Redis call per request), it just never refuses.
    pub fn with_rate_limits_raised(mut self) -> Self {
        let out_of_reach = Quota::per_second(1_000_000);
        self.rate_limits = RateLimitSettings {
            auth: out_of_reach,
            reads: out_of_reach,
            writes: out_of_reach,
            uploads: out_of_reach,
            ..self.rate_limits
        };
        self
    }
}

/// A Redis key prefix no other test process or test uses.
fn test_key_prefix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("test:{}:{nanos}:{n}:", std::process::id())
}

/// `GATEWAY_TRUSTED_PROXY_HOPS`, refusing the variable it replaced.
fn trusted_proxy_hops(env: &Env) -> Result<usize, ConfigError> {
    const REMOVED: &str = "GATEWAY_TRUST_FORWARDED_FOR";
    if env.raw(REMOVED).is_some() {
        return Err(ConfigError::invalid(
            REMOVED,
            "was removed: set GATEWAY_TRUSTED_PROXY_HOPS to the number of proxies in front of \
             the gateway (1 behind the shipped ingress)",
        ));
    }
    env.or("GATEWAY_TRUSTED_PROXY_HOPS", 0)
}

/// `GATEWAY_PUBLIC_URL`: empty, or an absolute `http(s)://host[:port][/path]`, kept without a
/// trailing `/` so links can be appended.
fn public_url(raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim().trim_end_matches('/');
    if url.is_empty() {
        return Ok(String::new());
    }
    let valid = url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.authority().is_some()
            && uri.query().is_none()
    });
    if valid {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::invalid(
            "GATEWAY_PUBLIC_URL",
            "must be empty or an absolute http(s) URL without a query, like https://api.example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    use platform_testkit::refusal;

    use super::*;

    #[test]
    fn the_public_url_is_kept_without_a_trailing_slash() {
        let env = Env::from_pairs([("GATEWAY_PUBLIC_URL", "https://api.example.com/")]);
        let settings = Settings::from_env(&env).unwrap();
        assert_eq!(settings.public_url, "https://api.example.com");
        assert_eq!(Settings::from_env(&Env::default()).unwrap().public_url, "");
    }

    #[test]
    fn bad_settings_are_refused_naming_the_variable() {
        for (variable, value, named) in [
            ("AUTH_GRPC_URL", "http://auth", "AUTH_GRPC_URL"),
            (
                "GATEWAY_PUBLIC_URL",
                "api.example.com",
                "GATEWAY_PUBLIC_URL",
            ),
            // The removed flag stops the start, naming its replacement.
            (
                "GATEWAY_TRUST_FORWARDED_FOR",
                "true",
                "GATEWAY_TRUSTED_PROXY_HOPS",
            ),
            (
                "GATEWAY_RATE_LIMIT_READS",
                "lots",
                "GATEWAY_RATE_LIMIT_READS",
            ),
            (
                "GATEWAY_MAX_CONCURRENT_REQUESTS",
                "0",
                "GATEWAY_MAX_CONCURRENT_REQUESTS",
            ),
        ] {
            let err = refusal(Settings::from_env, &[(variable, value)]);
            assert!(err.contains(named), "{variable}={value}: {err}");
        }
    }
}
