//! The answer to one request, and the HTTP header fields that tell the client about it (see
//! "Headers" in the crate documentation).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::Quota;

/// The draft whose syntax [`Decision::headers`] follows, for a service's API documentation.
///
/// ```
/// assert!(platform_ratelimit::HEADERS_DRAFT.starts_with("draft-ietf-httpapi-ratelimit-headers"));
/// ```
pub const HEADERS_DRAFT: &str = "draft-ietf-httpapi-ratelimit-headers-11";

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-11 §3), e.g. for CORS's
/// `Access-Control-Expose-Headers`.
///
/// ```
/// assert_eq!(platform_ratelimit::RATELIMIT_POLICY, "ratelimit-policy");
/// assert_eq!(platform_ratelimit::RATELIMIT, "ratelimit");
/// ```
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11 §4).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Whether one request may go ahead, and what the client has left.
///
/// ```
/// use std::time::Duration;
/// use platform_ratelimit::{Decision, Quota};
///
/// let decision = Decision {
///     class: "reads".into(),
///     quota: Quota::per_minute(600),
///     allowed: true,
///     remaining: 599,
///     reset_after: Duration::from_millis(100),
///     retry_after: None,
///     local: false,
/// };
/// assert_eq!(decision.policy_header(), r#""reads";q=600;w=60"#);
/// assert_eq!(decision.ratelimit_header(), r#""reads";r=599;t=1"#);
/// assert_eq!(decision.retry_after_secs(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The class (policy) the request was counted in.
    pub class: Arc<str>,
    /// The class's quota; its `requests` is the limit.
    pub quota: Quota,
    /// Whether the request may go ahead (if not: answer 429).
    pub allowed: bool,
    /// Requests the client may still make at once, after this one.
    pub remaining: u32,
    /// Until the client's quota is full again if it makes no more requests.
    pub reset_after: Duration,
    /// When refused: until one more request would be allowed. `None` when allowed.
    pub retry_after: Option<Duration>,
    /// Decided by this replica's in-process fallback, because Redis did not answer: the limit
    /// then holds per replica, not across them.
    pub local: bool,
}

impl Decision {
    /// The quota's requests: the most a client may send at once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use platform_ratelimit::{Decision, Quota};
    /// # let decision = Decision {
    /// #     class: "reads".into(), quota: Quota::per_minute(600), allowed: true, remaining: 599,
    /// #     reset_after: Duration::from_millis(100), retry_after: None, local: false,
    /// # };
    /// assert_eq!(decision.limit(), 600);
    /// ```
    pub fn limit(&self) -> u32 {
        self.quota.requests
    }

    /// `Retry-After` in whole seconds, rounded up and at least 1; `None` when allowed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use platform_ratelimit::{Decision, Quota};
    /// let refused = Decision {
    ///     class: "auth".into(), quota: Quota::per_minute(10), allowed: false, remaining: 0,
    ///     reset_after: Duration::from_secs(60), retry_after: Some(Duration::from_millis(1)),
    ///     local: false,
    /// };
    /// assert_eq!(refused.retry_after_secs(), Some(1));
    /// ```
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|after| ceil_secs(after).max(1))
    }

    /// The `RateLimit-Policy` field value: `"class";q=REQUESTS;w=SECONDS`, the window rounded
    /// up to whole seconds (the draft has no sub-second windows), at least 1.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use platform_ratelimit::{policy_item, Quota};
    /// assert_eq!(policy_item("uploads", Quota::new(20, Duration::from_secs(3600))),
    ///            r#""uploads";q=20;w=3600"#);
    /// ```
    pub fn policy_header(&self) -> String {
        policy_item(&self.class, self.quota)
    }

    /// The `RateLimit` field value: `"class";r=REMAINING;t=SECONDS`.
    ///
    /// `t` is the effective window of draft -11 §4.1.2, in whole seconds rounded up: when
    /// allowed, the time until the quota is full again ([`Decision::reset_after`]); when
    /// refused (`r=0`), the time until the next request is allowed, equal to `Retry-After`,
    /// since §6 asks that `Retry-After` not point earlier than the end of that window.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use platform_ratelimit::{Decision, Quota};
    /// let refused = Decision {
    ///     class: "auth".into(), quota: Quota::per_minute(10), allowed: false, remaining: 0,
    ///     reset_after: Duration::from_secs(60), retry_after: Some(Duration::from_millis(5_500)),
    ///     local: false,
    /// };
    /// assert_eq!(refused.ratelimit_header(), r#""auth";r=0;t=6"#);
    /// ```
    pub fn ratelimit_header(&self) -> String {
        let t = match self.retry_after_secs() {
            Some(retry) if !self.allowed => retry,
            _ => ceil_secs(self.reset_after),
        };
        format!("{};r={};t={t}", sf_string(&self.class), self.remaining)
    }

    /// The response header fields: `RateLimit-Policy`, `RateLimit`, and `Retry-After` when
    /// refused. Meant for every response of a limited route, 429 or not.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use platform_ratelimit::{Decision, Quota};
    /// # let decision = Decision {
    /// #     class: "reads".into(), quota: Quota::per_minute(600), allowed: false, remaining: 0,
    /// #     reset_after: Duration::from_secs(60), retry_after: Some(Duration::from_millis(100)),
    /// #     local: false,
    /// # };
    /// let mut response = http::Response::new(());
    /// response.headers_mut().extend(decision.headers());
    /// assert_eq!(response.headers()["retry-after"], "1");
    /// assert_eq!(response.headers()["ratelimit"], r#""reads";r=0;t=1"#);
    /// ```
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (RATELIMIT_POLICY, header_value(self.policy_header())),
            (RATELIMIT, header_value(self.ratelimit_header())),
        ];
        if let Some(retry) = self.retry_after_secs().filter(|_| !self.allowed) {
            headers.push((http::header::RETRY_AFTER, HeaderValue::from(retry)));
        }
        headers
    }
}

/// One `RateLimit-Policy` list item for `class` and `quota`: `"class";q=600;w=60`. Join
/// several with `, ` to advertise more than one policy.
///
/// ```
/// use platform_ratelimit::{policy_item, Quota};
///
/// assert_eq!(policy_item("reads", Quota::per_minute(600)), r#""reads";q=600;w=60"#);
/// ```
pub fn policy_item(class: &str, quota: Quota) -> String {
    format!(
        "{};q={};w={}",
        sf_string(class),
        quota.requests,
        ceil_secs(quota.per).max(1)
    )
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// An RFC 9651 sf-string: quoted, `"` and `\` escaped, and anything outside printable ASCII
/// (which an sf-string cannot hold) replaced by `?`. Class names the limiter accepts never
/// need either.
fn sf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

fn header_value(value: String) -> HeaderValue {
    // Printable ASCII only (see `sf_string`), which a header value always accepts.
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}
