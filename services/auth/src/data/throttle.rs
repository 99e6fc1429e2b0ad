//! Login throttling in Redis, shared by every replica. Three buckets, all taken from before
//! the password is checked, in one script call (`throttle.lua`), so parallel guesses cannot
//! all pass the check before any of them is counted:
//!
//! - **account + address**, strict: a few attempts per window. The person guessing is
//!   stopped; the owner, elsewhere, is not.
//! - **account**, a slow-down only (GCRA): a burst, then one attempt per interval, whoever
//!   sends it. It bounds a guesser who spreads over many addresses, and costs the owner at
//!   most an interval. Addresses the account logged in from before are exempt from it.
//! - **address**, generous: caps a password spray over many accounts from one address.
//!
//! An attempt counts as a failure from the moment it is taken; a correct password gives it
//! back (and clears the account + address count), a wrong one leaves it. A bucket that is
//! full only of attempts still in flight makes the next attempt wait for their outcome
//! rather than refusing it: parallel logins with the right password all get through.
//!
//! If Redis does not answer, logins fail closed (`DependencyUnavailable`): an attacker must
//! not get unlimited guesses by knocking Redis over.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use platform_redis::redis::{RedisError, Script};
use platform_redis::{Pool, PoolError};
use sha2::{Digest as _, Sha256};

use crate::AuthError;
use crate::config::ThrottleSettings;
use crate::data::waiters::Waiters;

/// The script that takes and settles attempts, sent as EVALSHA; when Redis does not have it
/// cached (after a restart, a failover or SCRIPT FLUSH) it answers NOSCRIPT, and the script
/// is loaded (SCRIPT LOAD) and sent again. A unit test checks it uses only Redis 6.2.
static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("throttle.lua")));

/// An address that logged in to an account skips the account's slow-down this long after.
const KNOWN_ADDRESS_TTL: Duration = Duration::from_secs(30 * 86_400);
/// How many such addresses an account keeps (the most recent), to bound its memory.
const KNOWN_ADDRESSES_KEPT: u32 = 8;
/// Waiting for the outcome of attempts in flight on other replicas: first and longest pause
/// between two looks (an outcome settled on this replica wakes its waiters at once).
const BUSY_FIRST_PAUSE: Duration = Duration::from_millis(10);
const BUSY_LONGEST_PAUSE: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct LoginThrottle {
    pool: Pool,
    prefix: String,
    limits: ThrottleSettings,
    lease: Duration,
    /// Attempts on this replica waiting for others in flight, per account + address.
    waiters: Arc<Waiters>,
}

/// One attempt, taken from every bucket; hand it back to [`LoginThrottle::settle`].
#[must_use = "an attempt stays counted as a failure until it is settled"]
pub struct Attempt {
    id: String,
    keys: Keys,
    address_digest: String,
    slowed: bool,
}

/// What the password check said.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// The right password: the attempt is given back, the account + address count cleared.
    Succeeded,
    /// A wrong password or an unknown account: the attempt stays counted.
    Failed,
    /// No answer was given (the check itself failed): the attempt is given back.
    Void,
}

enum Verdict {
    Taken { slowed: bool },
    Busy,
    Refused { retry_after: Duration },
}

/// The script's keys, in the order `throttle.lua` documents.
struct Keys([String; 7]);

impl Attempt {
    /// Account + address: the bucket parallel logins of one client wait on.
    fn pair_key(&self) -> &str {
        &self.keys.0[0]
    }
}

impl From<RedisError> for AuthError {
    fn from(e: RedisError) -> Self {
        tracing::warn!(error = %e, "redis command failed");
        if e.is_timeout() {
            AuthError::DependencyTimeout("redis")
        } else {
            AuthError::DependencyUnavailable("redis")
        }
    }
}

impl From<PoolError> for AuthError {
    fn from(e: PoolError) -> Self {
        tracing::warn!(error = %e, "no redis connection");
        AuthError::DependencyUnavailable("redis")
    }
}

impl LoginThrottle {
    /// `lease`: how long an attempt may stay in flight (the longest a login request can run);
    /// after it, an attempt never settled stops making others wait, and stays a failure.
    pub fn new(pool: Pool, prefix: &str, limits: ThrottleSettings, lease: Duration) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            limits,
            lease,
            waiters: Arc::default(),
        }
    }

    /// Takes one attempt for `email` (normalised) from `address`, or refuses with when to
    /// retry. While a bucket is full only of attempts in flight, waits for their outcome.
    pub async fn begin(&self, email: &str, address: &str) -> Result<Attempt, AuthError> {
        let attempt = Attempt {
            id: uuid::Uuid::new_v4().simple().to_string(),
            keys: self.keys(email, address),
            address_digest: hex_digest(address_bucket(address).as_bytes()),
            slowed: false,
        };
        let waiting = self.waiters.join(attempt.pair_key());
        let (started, mut pause) = (Instant::now(), BUSY_FIRST_PAUSE);
        loop {
            let woken = waiting.wake_up();
            let verdict = match self.take(&attempt).await {
                Ok(Verdict::Busy) if started.elapsed() <= self.lease => {
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep(jittered(pause)) => {}
                    }
                    pause = (pause * 2).min(BUSY_LONGEST_PAUSE);
                    continue;
                }
                verdict => verdict,
            };
            waiting.leave(woken, pause > BUSY_FIRST_PAUSE).await;
            return match verdict? {
                Verdict::Taken { slowed } => Ok(Attempt { slowed, ..attempt }),
                Verdict::Refused { retry_after } => Err(AuthError::Throttled { retry_after }),
                // In-flight attempts end within the lease: still busy after it means new ones
                // keep coming, and this one may as well come back later.
                Verdict::Busy => Err(AuthError::Throttled {
                    retry_after: Duration::from_secs(1),
                }),
            };
        }
    }

    /// Records what the password check said about `attempt`.
    pub async fn settle(&self, attempt: Attempt, outcome: Outcome) -> Result<(), AuthError> {
        let outcome = match outcome {
            Outcome::Succeeded => "ok",
            Outcome::Failed => "failed",
            Outcome::Void => "void",
        };
        let args = [
            "settle".to_owned(),
            attempt.id.clone(),
            attempt.address_digest.clone(),
            outcome.to_owned(),
            u8::from(attempt.slowed).to_string(),
            millis(self.limits.account_slowdown_interval),
            millis(KNOWN_ADDRESS_TTL),
            KNOWN_ADDRESSES_KEPT.to_string(),
        ];
        let mut conn = self.pool.get().await?;
        let settled = SCRIPT
            .key(&attempt.keys.0)
            .arg(&args)
            .invoke_async::<i64>(&mut conn)
            .await;
        self.waiters.wake_one(attempt.pair_key());
        settled?;
        Ok(())
    }

    async fn take(&self, attempt: &Attempt) -> Result<Verdict, AuthError> {
        let limits = &self.limits;
        let args = [
            "take".to_owned(),
            attempt.id.clone(),
            attempt.address_digest.clone(),
            limits.max_failures_per_account_address.to_string(),
            limits.max_failures_per_address.to_string(),
            millis(limits.window),
            limits.account_slowdown_burst.to_string(),
            millis(limits.account_slowdown_interval),
            millis(self.lease),
            millis(KNOWN_ADDRESS_TTL),
        ];
        let mut conn = self.pool.get().await?;
        let (verdict, value): (i64, i64) = SCRIPT
            .key(&attempt.keys.0)
            .arg(&args)
            .invoke_async(&mut conn)
            .await?;
        Ok(match verdict {
            0 => Verdict::Taken { slowed: value == 1 },
            1 => Verdict::Busy,
            _ => Verdict::Refused {
                retry_after: Duration::from_millis(u64::try_from(value).unwrap_or(1)),
            },
        })
    }

    /// Emails are hashed so Redis never holds them in clear.
    fn keys(&self, email: &str, address: &str) -> Keys {
        let p = &self.prefix;
        let account = format!("{p}login:acct:{}", hex_digest(email.as_bytes()));
        let address = address_bucket(address);
        Keys([
            format!("{account}:addr:{address}"),
            format!("{account}:addr:{address}:flight"),
            format!("{account}:slow"),
            format!("{account}:slow:flight"),
            format!("{p}login:addr:{address}"),
            format!("{p}login:addr:{address}:flight"),
            format!("{account}:known"),
        ])
    }
}

/// The address a bucket is kept for. An IPv6 host usually holds a whole /64, so a /64 is
/// one address here: otherwise one host would have 2^64 fresh buckets.
fn address_bucket(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !u128::from(u64::MAX);
                format!("{}/64", Ipv6Addr::from(network))
            }
        },
        Err(_) => address.to_owned(),
    }
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

/// `pause` ± 50 %, so waiters do not ask Redis in lockstep.
fn jittered(pause: Duration) -> Duration {
    let spread = u32::try_from(pause.as_micros()).unwrap_or(u32::MAX).max(1);
    let offset = getrandom::u32().unwrap_or(0) % spread;
    pause / 2 + Duration::from_micros(u64::from(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_uses_only_redis_6_2_commands_and_options() {
        let script = include_str!("throttle.lua");
        assert_eq!(
            platform_redis::redis_6_2_violations(script),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_ipv6_host_is_one_bucket_per_64_and_ipv4_stays_as_is() {
        assert_eq!(address_bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_bucket("2001:db8:1:2:aaaa::1"),
            address_bucket("2001:db8:1:2:bbbb::9")
        );
        assert_eq!(address_bucket("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_bucket("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_bucket("unknown"), "unknown");
    }

    #[test]
    fn keys_hold_no_email_in_clear() {
        let env = platform_config::Env::from_pairs([
            ("DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "kafka:9092"),
        ]);
        let settings =
            <crate::Settings as platform_runtime::ServiceSettings>::from_env(&env).unwrap();
        let pool = platform_redis::connect(&settings.redis).unwrap();
        let throttle = LoginThrottle::new(pool, "p:", settings.throttle, Duration::from_secs(1));
        for key in throttle.keys("ada@example.com", "192.0.2.7").0 {
            assert!(key.starts_with("p:login:"), "{key}");
            assert!(!key.contains("ada") && !key.contains("example"), "{key}");
        }
    }
}
