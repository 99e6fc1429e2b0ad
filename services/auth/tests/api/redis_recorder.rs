//! `RedisRecorder`: a TCP proxy in front of the test Redis that records the name of every
//! command sent through it, and makes Redis answer the first EVALSHA with NOSCRIPT (as after
//! a restart or a failover), so the script is loaded again (SCRIPT LOAD) as it would be then.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub struct RedisRecorder {
    addr: SocketAddr,
    commands: Arc<Mutex<Vec<String>>>,
}

impl RedisRecorder {
    /// Listens on a loopback port and relays each connection to the test Redis.
    pub async fn start() -> Self {
        let upstream = upstream_addr(&platform_testkit::redis_url()).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let first_evalsha = Arc::new(AtomicBool::new(true));
        let log = Arc::clone(&commands);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (log, first_evalsha) = (Arc::clone(&log), Arc::clone(&first_evalsha));
                tokio::spawn(relay(client, upstream, log, first_evalsha));
            }
        });
        Self { addr, commands }
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The names of the commands relayed so far, upper-cased, in order.
    pub fn commands(&self) -> Vec<String> {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn upstream_addr(url: &str) -> SocketAddr {
    let rest = url.strip_prefix("redis://").expect("a redis:// URL");
    let host = rest.rsplit('@').next().unwrap().split('/').next().unwrap();
    tokio::net::lookup_host(host).await.unwrap().next().unwrap()
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    first_evalsha: Arc<AtomicBool>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    // Replies go back untouched.
    tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
    let (mut pending, mut chunk) = (Vec::new(), vec![0; 16 * 1024]);
    while let Ok(read @ 1..) = from_client.read(&mut chunk).await {
        pending.extend_from_slice(&chunk[..read]);
        while let Some((used, mut args)) = parse_command(&pending) {
            pending.drain(..used);
            let name = String::from_utf8_lossy(&args[0]).to_uppercase();
            if name == "EVALSHA" && first_evalsha.swap(false, Ordering::SeqCst) {
                args[1] = vec![b'0'; 40]; // a script Redis does not have
            }
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(name);
            if to_server.write_all(&encode(&args)).await.is_err() {
                return;
            }
        }
    }
}

/// One command as clients send it (an array of bulk strings), and the bytes it took; `None`
/// until all of it has arrived.
fn parse_command(buffer: &[u8]) -> Option<(usize, Vec<Vec<u8>>)> {
    let (count, mut at) = header(buffer, 0, b'*')?;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, start) = header(buffer, at, b'$')?;
        let end = start + len;
        if buffer.len() < end + 2 {
            return None;
        }
        args.push(buffer[start..end].to_vec());
        at = end + 2;
    }
    Some((at, args))
}

/// `<kind><number>\r\n` at `at`: the number and where the line ends.
fn header(buffer: &[u8], at: usize, kind: u8) -> Option<(usize, usize)> {
    let first = *buffer.get(at)?;
    assert_eq!(
        first, kind,
        "clients send commands as arrays of bulk strings"
    );
    let end = at + buffer[at..].windows(2).position(|w| w == b"\r\n")?;
    let number = std::str::from_utf8(&buffer[at + 1..end]).unwrap();
    Some((number.parse().unwrap(), end + 2))
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}
