//! The client-side tower service every outbound gRPC call goes through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::HeaderValue;
use tonic::Status;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Sends the caller's context and deadline with each call, and fails the call with
/// `DEADLINE_EXCEEDED` when the peer has not answered in time (even if it never does).
#[derive(Clone)]
pub struct Outbound<S> {
    inner: S,
    peer: Arc<str>,
    deadline: Duration,
}

impl<S> Outbound<S> {
    pub fn new(inner: S, peer: &str, deadline: Duration) -> Self {
        Self {
            inner,
            peer: peer.into(),
            deadline,
        }
    }

    /// The same channel with another per-call deadline, for calls that legitimately need
    /// more (or less) time than the peer's default: a streamed upload, say. Per-call
    /// timeouts set with `Request::set_timeout` are still capped at this deadline, so a call
    /// can never ask for more than the channel it goes through allows.
    ///
    /// ```no_run
    /// # fn demo(channel: platform_grpc::GrpcChannel) {
    /// use std::time::Duration;
    /// // Reads keep the default deadline; uploads go through a channel that allows a minute.
    /// let uploads = channel.with_deadline(Duration::from_secs(60));
    /// // let client = MediaServiceClient::new(uploads);
    /// # }
    /// ```
    pub fn with_deadline(&self, deadline: Duration) -> Self
    where
        S: Clone,
    {
        Self {
            inner: self.inner.clone(),
            peer: self.peer.clone(),
            deadline,
        }
    }
}

impl<S, B, RB> tower::Service<http::Request<B>> for Outbound<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        platform_telemetry::context::inject(request.headers_mut());
        // A caller may ask for less time with `Request::set_timeout`; never send more than ours.
        let deadline = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| parse_grpc_timeout(v.to_str().ok()?))
            .map_or(self.deadline, |asked| asked.min(self.deadline));
        request
            .headers_mut()
            .insert("grpc-timeout", grpc_timeout_header(deadline));
        let call = self.inner.call(request);
        let peer = self.peer.clone();
        Box::pin(async move {
            let exceeded = || -> BoxError {
                Box::new(Status::deadline_exceeded(format!(
                    "{peer} did not answer within {deadline:?}"
                )))
            };
            match tokio::time::timeout(deadline, call).await {
                Ok(Ok(response)) => Ok(response),
                // tonic's channel enforces the `grpc-timeout` we send as well, and reports it
                // as `TimeoutExpired` (CANCELLED); both timers end at the same instant, so
                // whichever fires first, the caller sees the one status a deadline has.
                // Anything else the channel fails with is the connection's failure, not the
                // peer's answer (a peer killed mid-call resets it): tonic would report it as
                // UNKNOWN, which callers map to 500, though it is the peer being unavailable.
                Ok(Err(e)) => {
                    let e: BoxError = e.into();
                    Err(if is_timeout_expired(&*e) {
                        exceeded()
                    } else if e.is::<Status>() {
                        e
                    } else {
                        Box::new(Status::unavailable(format!(
                            "the connection to {peer} failed: {e}"
                        )))
                    })
                }
                Err(_) => Err(exceeded()),
            }
        })
    }
}

/// Whether `error`, or anything it wraps, is tonic's own `grpc-timeout` expiry.
fn is_timeout_expired(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<tonic::TimeoutExpired>())
}

/// `grpc-timeout` in milliseconds; the spec allows at most eight digits.
fn grpc_timeout_header(deadline: Duration) -> HeaderValue {
    let millis = deadline.as_millis().clamp(1, 99_999_999);
    HeaderValue::from_str(&format!("{millis}m")).expect("digits and a unit are a valid header")
}

/// Parses a `grpc-timeout` value (<https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md>).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_round_trips_in_milliseconds() {
        let header = grpc_timeout_header(Duration::from_millis(1500));
        assert_eq!(header, "1500m");
        assert_eq!(
            parse_grpc_timeout("1500m"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("2x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[tokio::test(start_paused = true)]
    async fn with_deadline_replaces_the_channel_deadline() {
        use tower::{Service as _, ServiceExt as _};
        // A peer that never answers, behind a channel that would wait ten seconds.
        let silent = tower::service_fn(|_: http::Request<()>| {
            std::future::pending::<Result<http::Response<()>, BoxError>>()
        });
        let mut shorter = Outbound::new(silent, "peer", Duration::from_secs(10))
            .with_deadline(Duration::from_secs(1));
        let started = tokio::time::Instant::now();
        let call = shorter.ready().await.unwrap().call(http::Request::new(()));
        let error = call.await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        let status = error.downcast::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }

    #[tokio::test]
    async fn tonics_own_timeout_is_reported_as_the_deadline_too() {
        use tower::{Service as _, ServiceExt as _};
        // What tonic's channel answers when its copy of our `grpc-timeout` fires first.
        let expired = tower::service_fn(|_: http::Request<()>| async {
            Err::<http::Response<()>, BoxError>(Box::new(tonic::TimeoutExpired(())))
        });
        let mut outbound = Outbound::new(expired, "peer", Duration::from_secs(10));
        let call = outbound.ready().await.unwrap().call(http::Request::new(()));
        let status = call.await.unwrap_err().downcast::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }

    #[tokio::test]
    async fn a_connection_that_fails_mid_call_is_the_peer_unavailable() {
        use tower::{Service as _, ServiceExt as _};
        // What the channel fails with when the peer process dies with the call in flight.
        let reset = tower::service_fn(|_: http::Request<()>| async {
            Err::<http::Response<()>, BoxError>(Box::new(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            )))
        });
        let mut outbound = Outbound::new(reset, "auth", Duration::from_secs(10));
        let call = outbound.ready().await.unwrap().call(http::Request::new(()));
        let status = call.await.unwrap_err().downcast::<Status>().unwrap();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(status.message().contains("auth"), "{}", status.message());
    }
}
