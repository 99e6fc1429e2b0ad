use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How many requests a client may make: a burst of `requests`, replenished evenly over `per`
/// (one request back every `per / requests`).
///
/// Parsed from and shown as `REQUESTS/PERIOD`, the period in [`humantime`] form, so a service
/// can read it from its environment:
///
/// ```
/// use std::time::Duration;
/// use platform_ratelimit::Quota;
///
/// let reads: Quota = "600/1m".parse().unwrap();
/// assert_eq!(reads, Quota::per_minute(600));
/// assert_eq!(reads.emission_interval(), Duration::from_millis(100));
/// assert_eq!(Quota::new(10, Duration::from_secs(30)).to_string(), "10/30s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// The burst, and how many requests come back over `per`.
    pub requests: u32,
    /// The time in which an exhausted quota fills up again.
    pub per: Duration,
}

impl Quota {
    /// `requests` per `per`. [`crate::RateLimiterBuilder::build`] refuses a quota of zero
    /// requests, a zero period, one shorter than a microsecond per request, or one longer than
    /// a year.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let uploads = platform_ratelimit::Quota::new(20, Duration::from_secs(3600));
    /// ```
    pub const fn new(requests: u32, per: Duration) -> Self {
        Self { requests, per }
    }

    /// `requests` per second.
    ///
    /// ```
    /// assert_eq!(platform_ratelimit::Quota::per_second(5).to_string(), "5/1s");
    /// ```
    pub const fn per_second(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(1))
    }

    /// `requests` per minute.
    ///
    /// ```
    /// assert_eq!(platform_ratelimit::Quota::per_minute(600).to_string(), "600/1m");
    /// ```
    pub const fn per_minute(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(60))
    }

    /// The time one request takes to come back: `per / requests` (zero for zero requests).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let reads = platform_ratelimit::Quota::per_minute(600);
    /// assert_eq!(reads.emission_interval(), Duration::from_millis(100));
    /// ```
    pub fn emission_interval(&self) -> Duration {
        self.per.checked_div(self.requests).unwrap_or_default()
    }

    /// The emission interval in whole microseconds, rounded up so the limit is never looser
    /// than configured.
    pub(crate) fn emission_interval_us(&self) -> u64 {
        let per = self.per.as_micros();
        let requests = u128::from(self.requests.max(1));
        u64::try_from(per.div_ceil(requests)).unwrap_or(u64::MAX)
    }

    /// Why this quota cannot be enforced, if it cannot.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        if self.requests == 0 {
            Some("a quota needs at least one request")
        } else if self.per.is_zero() {
            Some("a quota needs a period longer than zero")
        } else if self.per.as_micros() < u128::from(self.requests) {
            Some("a quota must allow at most one request per microsecond")
        } else if self.per > Duration::from_secs(365 * 24 * 3600) {
            Some("a quota's period must be at most a year")
        } else {
            None
        }
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.requests,
            humantime::format_duration(self.per)
        )
    }
}

/// A quota that is not `REQUESTS/PERIOD` (e.g. `600/1m`).
///
/// ```
/// let error = "600 per minute".parse::<platform_ratelimit::Quota>().unwrap_err();
/// assert!(error.to_string().contains("REQUESTS/PERIOD"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (expected REQUESTS/PERIOD, e.g. 600/1m or 5/10s)")]
pub struct ParseQuotaError(String);

impl FromStr for Quota {
    type Err = ParseQuotaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (requests, per) = s
            .split_once('/')
            .ok_or_else(|| ParseQuotaError("no '/'".to_owned()))?;
        let requests = requests
            .trim()
            .parse()
            .map_err(|e| ParseQuotaError(format!("requests {requests:?}: {e}")))?;
        let per = humantime::parse_duration(per.trim())
            .map_err(|e| ParseQuotaError(format!("period {per:?}: {e}")))?;
        let quota = Self::new(requests, per);
        match quota.invalid() {
            Some(reason) => Err(ParseQuotaError(reason.to_owned())),
            None => Ok(quota),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("5/10s".parse(), Ok(Quota::new(5, Duration::from_secs(10))));
        assert_eq!(" 600 / 1m ".parse(), Ok(Quota::per_minute(600)));
        for bad in ["600", "0/1m", "5/0s", "x/1m", "5/soon", "2000000/1s"] {
            assert!(bad.parse::<Quota>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_interval_rounds_up() {
        assert_eq!(
            Quota::new(3, Duration::from_secs(1)).emission_interval_us(),
            333_334
        );
        assert_eq!(Quota::per_minute(600).emission_interval_us(), 100_000);
    }
}
