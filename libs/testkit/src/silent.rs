//! A peer that answers at first and then stops: a proxy that falls silent on demand, for
//! deadlines that only matter once a connection is established (a statement, a command).

use std::net::{SocketAddr, ToSocketAddrs as _};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

/// A TCP proxy to `upstream` that forwards both ways until [`silence`](Self::silence). From
/// then on it keeps every connection open and never sends another byte, and new connections
/// are accepted and never answered: a server that hangs mid-conversation, which only a
/// deadline gets out of. Dropping it silences it too; its connections live as long as the
/// test's runtime.
///
/// ```no_run
/// # async fn t() {
/// use platform_testkit::{GoesSilent, postgres_addr, postgres_admin_url_via};
///
/// let proxy = GoesSilent::start(postgres_addr()).await;
/// let url = postgres_admin_url_via(proxy.addr()); // connect, run a statement: it answers
/// proxy.silence(); // the next statement never gets an answer
/// # let _ = url;
/// # }
/// ```
pub struct GoesSilent {
    addr: SocketAddr,
    silent: watch::Sender<bool>,
}

impl GoesSilent {
    /// Listens on a loopback port and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let (listener, addr) = crate::loopback_listener().await;
        let (silent, _) = watch::channel(false);
        let subscribe = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, upstream, subscribe.subscribe()));
            }
        });
        Self { addr, silent }
    }

    /// Where to connect instead of `upstream`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering, on every connection, for good.
    pub fn silence(&self) {
        self.silent.send_replace(true);
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, silent: watch::Receiver<bool>) {
    if *silent.borrow() {
        return hold(client).await;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pump(client_read, server_write, silent.clone()),
        pump(server_read, client_write, silent),
    );
}

/// Copies `from` to `to` until either closes, or until silenced: then holds both open.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut silent: watch::Receiver<bool>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = silent.wait_for(|silent| *silent) => break,
        };
        let Ok(n @ 1..) = read else {
            return;
        };
        // Bytes that arrive after the switch are swallowed, never passed on.
        if *silent.borrow() {
            break;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
    hold((from, to)).await;
}

/// Keeps `sockets` open and silent for as long as the runtime runs.
async fn hold<T>(sockets: T) {
    std::future::pending::<()>().await;
    drop(sockets);
}

/// The address of the test Postgres (the host and port of
/// [`postgres_admin_url`](crate::postgres_admin_url)), e.g. for a [`GoesSilent`] in front of it.
pub fn postgres_addr() -> SocketAddr {
    let url = crate::postgres_admin_url();
    let host_port = authority(&url).1;
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("no address for the Postgres of {url:?}"))
}

/// [`postgres_admin_url`](crate::postgres_admin_url) with its host and port replaced by
/// `addr`: the same server, user and database, through a proxy.
pub fn postgres_admin_url_via(addr: SocketAddr) -> String {
    let url = crate::postgres_admin_url();
    let (start, host_port) = authority(&url);
    let end = start + host_port.len();
    format!("{}{addr}{}", &url[..start], &url[end..])
}

/// Where the `host:port` of `url` starts, and that part.
fn authority(url: &str) -> (usize, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let path_at = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..path_at];
    let host_at = authority.rfind('@').map_or(0, |i| i + 1);
    (after_scheme + host_at, &authority[host_at..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn the_url_keeps_everything_but_host_and_port() {
        let (start, host_port) = authority("postgres://u:p@db.local:5433/postgres?sslmode=disable");
        assert_eq!(host_port, "db.local:5433");
        assert_eq!(start, "postgres://u:p@".len());
        assert_eq!(authority("postgres://127.0.0.1:5432").1, "127.0.0.1:5432");
    }

    #[tokio::test]
    async fn it_forwards_until_silenced_and_then_holds_the_connection_open() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = echo.accept().await.unwrap();
            let mut buffer = [0; 64];
            while let Ok(n @ 1..) = socket.read(&mut buffer).await {
                socket.write_all(&buffer[..n]).await.unwrap();
            }
        });
        let proxy = GoesSilent::start(echo_addr).await;
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut answer = [0; 4];
        client.write_all(b"ping").await.unwrap();
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"ping");

        proxy.silence();
        client.write_all(b"ping").await.unwrap();
        let silent = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            client.read(&mut answer),
        )
        .await;
        assert!(
            silent.is_err(),
            "no answer, and no close either: {silent:?}"
        );
    }
}
