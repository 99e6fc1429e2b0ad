//! `devstack broker`: the embedded Kafka-protocol broker as a process of its own, on a fixed
//! address, for the multi-process run (`devstack processes` starts it).
//!
//! librdkafka's mock broker listens on a port the kernel picks, and a restarted one gets
//! another, which clients that learned the old one would never find again (the group
//! coordinator's connection keeps the old address). So this process forwards a fixed address
//! (`DEVSTACK_BROKER_ADDRESS`, default `127.0.0.1:9092`) to it and makes the broker advertise
//! that address: in the two responses that name brokers (Metadata and FindCoordinator) the
//! mock's own port is replaced by the fixed one. Every client then only ever connects to the
//! fixed address, and a killed and restarted broker process is the same broker to them, with
//! an empty log and a new cluster id. The services' outbox relays see that id and publish again
//! what they keep (docs/events.md).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use platform_kafka::{EmbeddedKafka, events};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The fixed address clients bootstrap from.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:9092";

/// Kafka API keys of the responses that name brokers.
const METADATA: i16 = 3;
const FIND_COORDINATOR: i16 = 10;
/// No Kafka frame we proxy is larger (the brokers' default `message.max.bytes` is 1 MB; fetch
/// responses stay under `fetch.max.bytes`, 50 MB by default).
const MAX_FRAME: usize = 64 << 20;

pub async fn run(address: &str) -> anyhow::Result<()> {
    let kafka = EmbeddedKafka::start(events::TOPICS)?;
    let upstream: SocketAddr = kafka
        .bootstrap_servers()
        .parse()
        .context("the embedded broker's address")?;
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("binding the broker address {address}; is a broker running?"))?;
    let advertised = listener.local_addr()?.port();
    tracing::info!(%address, %upstream, "the embedded broker serves (it keeps nothing across a restart)");
    let serve = async {
        loop {
            match listener.accept().await {
                Ok((client, _)) => {
                    tokio::spawn(forward(client, upstream, advertised));
                }
                Err(e) => tracing::warn!(error = %e, "accepting a broker connection failed"),
            }
        }
    };
    tokio::select! {
        () = serve => {}
        () = platform_runtime::shutdown_signal() => {}
    }
    drop(kafka);
    Ok(())
}

/// Forwards one client connection to the broker, frame by frame, rewriting the broker's
/// port to `advertised` in the responses that name brokers.
async fn forward(client: TcpStream, upstream: SocketAddr, advertised: u16) {
    let broker = match TcpStream::connect(upstream).await {
        Ok(broker) => broker,
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the embedded broker");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = broker.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (broker_read, broker_write) = broker.into_split();
    // Which API each in-flight request (by correlation id) called.
    let apis = Arc::new(Mutex::new(HashMap::new()));
    let rewrite = Rewrite {
        from: port_pattern(upstream),
        to: advertised,
    };
    let requests = relay_frames(client_read, broker_write, {
        let apis = apis.clone();
        move |frame: &mut Vec<u8>| {
            // Request header: api key (i16), api version (i16), correlation id (i32).
            if let (Some(key), Some(correlation)) = (read_i16(frame, 0), read_i32(frame, 4)) {
                apis.lock()
                    .expect("never poisoned")
                    .insert(correlation, key);
            }
        }
    });
    let responses = relay_frames(broker_read, client_write, move |frame: &mut Vec<u8>| {
        // Response header: correlation id (i32).
        let api = read_i32(frame, 0)
            .and_then(|correlation| apis.lock().expect("never poisoned").remove(&correlation));
        if matches!(api, Some(METADATA | FIND_COORDINATOR)) {
            rewrite.apply(frame);
        }
    });
    tokio::select! {
        _ = requests => {}
        _ = responses => {}
    }
}

/// Replaces the mock's port after its host in a response (same length, so the frame's size
/// is unchanged, whatever the API version's string encoding).
struct Rewrite {
    from: Vec<u8>,
    to: u16,
}

impl Rewrite {
    fn apply(&self, frame: &mut [u8]) {
        let n = self.from.len();
        let mut at = 0;
        while at + n <= frame.len() {
            if frame[at..at + n] == self.from[..] {
                frame[at + n - 4..at + n].copy_from_slice(&i32::from(self.to).to_be_bytes());
                at += n;
            } else {
                at += 1;
            }
        }
    }
}

/// The host's text followed by the port as a big-endian i32: how a broker's address appears
/// in Metadata and FindCoordinator responses.
fn port_pattern(address: SocketAddr) -> Vec<u8> {
    let mut pattern = address.ip().to_string().into_bytes();
    pattern.extend_from_slice(&i32::from(address.port()).to_be_bytes());
    pattern
}

/// Copies size-prefixed Kafka frames from `from` to `to`, letting `inspect` see (and change)
/// each frame's body, until either side closes.
async fn relay_frames(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut inspect: impl FnMut(&mut Vec<u8>),
) -> std::io::Result<()> {
    let mut frame = Vec::new();
    loop {
        let size = from.read_i32().await?;
        let size = usize::try_from(size)
            .ok()
            .filter(|size| *size <= MAX_FRAME)
            .ok_or_else(|| std::io::Error::other("a Kafka frame of an impossible size"))?;
        frame.resize(size, 0);
        from.read_exact(&mut frame).await?;
        inspect(&mut frame);
        to.write_i32(size as i32).await?;
        to.write_all(&frame).await?;
    }
}

fn read_i16(frame: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?))
}

fn read_i32(frame: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(frame.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brokers_port_is_replaced_after_its_host_only() {
        let rewrite = Rewrite {
            from: port_pattern("127.0.0.1:37299".parse().unwrap()),
            to: 9092,
        };
        let mut frame = b"\x00\x01127.0.0.1".to_vec();
        frame.extend_from_slice(&37299i32.to_be_bytes());
        frame.extend_from_slice(&37299i32.to_be_bytes());
        rewrite.apply(&mut frame);
        let mut expected = b"\x00\x01127.0.0.1".to_vec();
        expected.extend_from_slice(&9092i32.to_be_bytes());
        expected.extend_from_slice(&37299i32.to_be_bytes());
        assert_eq!(frame, expected);
    }
}
