//! The real `gateway` binary: it refuses bad configuration by name, and on SIGTERM the
//! request in flight completes while new connections are refused.

use std::process::{Command, Stdio};
use std::time::Duration;

use platform_testkit::eventually;

use crate::helpers::{login_held_in_flight, spawn_held_auth};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_the_request_in_flight_completes_and_new_connections_are_refused() {
    let (held, arrived, release) = spawn_held_auth().await;
    let (http_port, ops_port) = (free_port(), free_port());
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("HTTP_PORT", http_port.to_string())
        .env("OPS_PORT", ops_port.to_string())
        .env("AUTH_GRPC_URL", format!("http://{held}"))
        .env("AUTH_GRPC_TIMEOUT", "30s")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the gateway binary starts");
    let base = format!("http://127.0.0.1:{http_port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let healthz = format!("http://127.0.0.1:{ops_port}/healthz");
    eventually("the gateway to come up", || async {
        client.get(&healthz).send().await.is_ok()
    })
    .await;

    let in_flight = login_held_in_flight(&client, &base, &arrived).await;
    let killed = Command::new("kill")
        .args(["-TERM", &gateway.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The listener closes: new connections are refused while the old request is still held.
    eventually(
        "new connections to be refused once draining starts",
        || async {
            tokio::net::TcpStream::connect(("127.0.0.1", http_port))
                .await
                .is_err()
        },
    )
    .await;
    assert!(!in_flight.is_finished());

    release.add_permits(1);
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request gets an answer");
    assert_eq!(response.status(), 200);
    let status = tokio::task::spawn_blocking(move || gateway.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "the gateway exits cleanly after draining: {status}"
    );
}

#[test]
fn an_invalid_variable_stops_the_binary_with_a_message_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env("HTTP_PORT", "eighty")
        .output()
        .expect("the gateway binary runs");
    assert_eq!(output.status.code(), Some(2), "a usage error, not a crash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("HTTP_PORT") && stderr.contains("eighty"),
        "{stderr}"
    );
}
