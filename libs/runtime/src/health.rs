//! The `health` subcommand of every service binary: a liveness probe that needs nothing but
//! the binary itself.
//!
//! The images are distroless (no shell, no curl), so a compose healthcheck runs
//! `["CMD", "/app/service", "health"]`: the binary reads its settings as when it serves,
//! asks its own ops listener for `/healthz` and exits 0 or 1. The request is written by hand
//! over a plain TCP stream, so the probe pulls in no HTTP client.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use crate::OpsSettings;

/// How long the `health` subcommand waits for the whole exchange: well under the few seconds
/// a container healthcheck allows, so a hung listener is reported by us, not killed by it.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// A status line longer than this is not one our ops listener sends.
const MAX_STATUS_LINE: u64 = 256;

/// Sends `GET /healthz` to the ops listener at `addr` and succeeds only on a `200` status line.
///
/// Everything (connecting, writing, reading the status line) must finish within `deadline`;
/// the error says what went wrong, for the healthcheck's log.
///
/// ```no_run
/// use platform_runtime::{probe_health, PROBE_DEADLINE};
///
/// # async fn run() -> Result<(), String> {
/// probe_health("127.0.0.1:9100".parse().unwrap(), PROBE_DEADLINE).await?;
/// # Ok(())
/// # }
/// ```
pub async fn probe_health(addr: SocketAddr, deadline: Duration) -> Result<(), String> {
    tokio::time::timeout(deadline, get_healthz(addr))
        .await
        .unwrap_or_else(|_| Err(format!("no answer from {addr} within {deadline:?}")))
}

async fn get_healthz(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    // HTTP/1.1 requires `Host`; `Connection: close` so the server does not wait for more.
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut status_line = String::new();
    BufReader::new(stream)
        .take(MAX_STATUS_LINE)
        .read_line(&mut status_line)
        .await
        .map_err(|e| format!("cannot read the answer from {addr}: {e}"))?;
    let status_line = status_line.trim_end();
    // "HTTP/1.1 200 OK": the version, then the status code.
    let mut parts = status_line.split(' ');
    match (parts.next(), parts.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(()),
        _ if status_line.is_empty() => {
            Err(format!("{addr} closed the connection without an answer"))
        }
        _ => Err(format!("{addr}/healthz answered {status_line:?}")),
    }
}

/// Runs the `health` subcommand against the ops listener `ops` describes and returns the
/// process exit status: 0 when it is healthy, 1 (with the reason on stderr) when not. Never 2,
/// which Docker reserves in healthchecks.
///
/// ```no_run
/// # async fn run(settings: platform_runtime::RuntimeSettings) {
/// std::process::exit(platform_runtime::health_command("auth", &settings.ops).await);
/// # }
/// ```
pub async fn health_command(service: &str, ops: &OpsSettings) -> i32 {
    match probe_health(ops.local_addr(), PROBE_DEADLINE).await {
        Ok(()) => 0,
        Err(reason) => {
            eprintln!("{service}: unhealthy: {reason}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::ServiceHost;

    #[tokio::test]
    async fn the_probe_succeeds_against_a_running_ops_listener() {
        let host = ServiceHost::for_tests().await;
        probe_health(host.ops_addr(), PROBE_DEADLINE).await.unwrap();
    }

    #[tokio::test]
    async fn the_probe_fails_at_once_when_nothing_listens() {
        let addr = platform_testkit::refused_addr().await;
        let started = Instant::now();
        let err = probe_health(addr, PROBE_DEADLINE).await.unwrap_err();
        assert!(err.contains("cannot connect"), "{err}");
        assert!(
            started.elapsed() < PROBE_DEADLINE,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_probe_gives_up_on_a_peer_that_never_answers_at_its_deadline() {
        let addr = platform_testkit::black_hole().await;
        let deadline = Duration::from_millis(200);
        let started = Instant::now();
        let err = probe_health(addr, deadline).await.unwrap_err();
        assert!(err.contains("no answer"), "{err}");
        assert!(started.elapsed() < deadline * 5, "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn the_probe_fails_on_any_status_but_200() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            // Read the whole request first: closing with unread data would reset the connection.
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut buf = [0; 256];
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the request ends with an empty line");
                request.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let err = probe_health(addr, PROBE_DEADLINE).await.unwrap_err();
        assert!(err.contains("503"), "{err}");
    }
}
