//! `GET /docs`: the interactive API reference, rendered by a real headless Chromium with
//! JavaScript on. Every operation of the live `/openapi.json` must be on the page, and the
//! page must request nothing from anywhere but the gateway (no CDN, no web fonts, no
//! validator badge): checked in Chromium's net log, where any host but the gateway's is made
//! to resolve to nothing.
//!
//! The browser reaches the gateway (on 127.0.0.1) by a name, [`GATEWAY_HOST`], as it would in
//! production: Swagger UI leaves out some of its requests for a page on `localhost` or
//! `127.0.0.1` (the validator badge), and the test must see them.
//!
//! Needs the `chromium` binary (Debian: `apt-get install -y --no-install-recommends
//! chromium`), or its path in `CHROMIUM`. Without it the test fails: it does not skip.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use platform_testkit::unique;
use serde_json::Value;

/// Chromium renders the page within this much virtual time; the wall-clock limit below is
/// what stops a browser that hangs.
const VIRTUAL_TIME_BUDGET_MS: u32 = 10_000;
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(90);
/// The gateway's name for the browser; its resolver maps it to 127.0.0.1.
const GATEWAY_HOST: &str = "gateway.test";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere() {
    let base = spawn_platform().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    // `/` sends a browser to the reference, and `/docs` without the slash gets there too.
    for (path, statuses) in [("/", &[307][..]), ("/docs", &[301, 302, 303, 307, 308][..])] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(statuses.contains(&status), "GET {path}: {status}");
        assert_eq!(response.headers()["location"], "/docs/", "GET {path}");
    }
    let page = client.get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{headers:?}"
    );
    assert!(
        headers.contains_key("content-security-policy"),
        "{headers:?}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // The operations the page must show, read from the document the gateway serves.
    let document: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    assert!(!expected.is_empty(), "no operations in {document}");

    let chromium = chromium_binary();
    let port = base.rsplit_once(':').unwrap().1;
    let base = format!("http://{GATEWAY_HOST}:{port}");
    let url = format!("{base}/docs/");
    let run = render(&chromium, &url).await;
    eprintln!("chromium rendered the page in {:?}", run.took);

    let listed = listed_operations(&run.dom);
    let missing: Vec<_> = expected.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "operations of /openapi.json missing from the rendered /docs/ page: {missing:?}\n\
         listed: {listed:?}\nDOM (first 3000 bytes): {}",
        &run.dom[..run.dom.len().min(3000)]
    );
    eprintln!(
        "all {} operations of /openapi.json are on the page",
        expected.len()
    );

    // Every request of the page (the navigation, and whatever it initiated) went to the
    // gateway, and it did fetch its assets and the document (so the log is not empty by
    // accident).
    let log = NetLog::parse(&run.net_log);
    let page: BTreeSet<&str> = log
        .requests
        .iter()
        .filter(|r| r.main_frame || r.initiator == base)
        .map(|r| r.url.as_str())
        .collect();
    let elsewhere: Vec<_> = page.iter().filter(|url| !is_local(url)).collect();
    assert!(
        elsewhere.is_empty(),
        "the docs page requested URLs outside the gateway: {elsewhere:?}"
    );
    for needed in ["/docs/", "/docs/swagger-initializer.js", "/openapi.json"] {
        let url = format!("{base}{needed}");
        assert!(page.contains(url.as_str()), "{url} not requested: {page:?}");
    }
    // Chromium also makes requests of its own, whatever the page (Debian's build: extension
    // updates, Google account and network-time checks, autofill), which no flag turns off
    // entirely; they are not the page's. None of them, nor anything else, left the machine:
    // every TCP connection the browser attempted was to 127.0.0.1. (QUIC is off, so HTTP
    // goes over TCP only; the log's UDP "connects" are an IPv6 reachability probe that
    // sends nothing.)
    let own: Vec<_> = log
        .requests
        .iter()
        .filter(|r| !page.contains(r.url.as_str()))
        .map(|r| r.url.as_str())
        .collect();
    eprintln!("chromium's own requests (not the page's): {own:?}");
    assert!(!log.connections.is_empty(), "the net log has no connection");
    let outside: Vec<_> = log
        .connections
        .iter()
        .filter(|address| !address.starts_with("127.0.0.1:"))
        .collect();
    assert!(
        outside.is_empty(),
        "chromium connected outside 127.0.0.1: {outside:?}"
    );

    // The page's own policy (see `security_headers`) blocked nothing it needed, and nothing
    // it tried: a violation is either.
    let violations: Vec<_> = run
        .console
        .lines()
        .filter(|line| line.contains("Content Security Policy"))
        .collect();
    assert!(
        violations.is_empty(),
        "Content-Security-Policy violations on /docs/: {violations:#?}"
    );
}

/// The gateway alone, on a port of 127.0.0.1: the page needs only `/docs` and
/// `/openapi.json`, neither of which calls an upstream (they point at a closed port).
async fn spawn_platform() -> String {
    let unset: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let settings = gateway_service::Settings::for_tests(unset, unset);
    assert_eq!(settings.http_addr.ip(), Ipv4Addr::LOCALHOST);
    let app = gateway_service::App::build(settings)
        .await
        .expect("gateway starts");
    let base = format!("http://{}", app.http_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    base
}

fn chromium_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test renders /docs in headless Chromium, and no `chromium` is on PATH: \
                 install it (Debian: `apt-get install -y --no-install-recommends chromium`) \
                 or set CHROMIUM to its path"
            )
        })
}

struct Rendered {
    dom: String,
    /// Chromium's net log (JSON).
    net_log: String,
    /// Chromium's stderr, with the page's console messages.
    console: String,
    took: Duration,
}

/// Loads `url` in a fresh headless Chromium, JavaScript on, and returns the DOM once the
/// virtual time budget has run out. [`GATEWAY_HOST`] resolves to 127.0.0.1 and any other
/// name to nothing, so a request for anything else fails (and is still in the net log), and
/// no proxy is used.
async fn render(chromium: &Path, url: &str) -> Rendered {
    let dir = ScratchDir::new();
    let net_log = dir.0.join("netlog.json");
    let started = Instant::now();
    let mut child = tokio::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            // Less of the browser's own traffic, which is not the page's.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-features=NetworkTimeServiceQuerying,AutofillServerCommunication",
            &format!(
                "--host-resolver-rules=MAP {GATEWAY_HOST} 127.0.0.1, MAP * ~NOTFOUND, \
                 EXCLUDE 127.0.0.1"
            ),
            "--no-proxy-server",
            "--disable-quic",
            // The page's console messages (CSP violations among them) on stderr.
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", dir.0.join("profile").display()),
            &format!("--log-net-log={}", net_log.display()),
            "--net-log-capture-mode=Default",
            &format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"),
            "--dump-dom",
            url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(dir.0.join("dom.html")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.0.join("stderr.txt")).unwrap(),
        ))
        // Its own process group, so a timeout kills its renderer and GPU processes too.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
    let status = match tokio::time::timeout(CHROMIUM_DEADLINE, child.wait()).await {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let pid = child.id().map(|id| id.to_string()).unwrap_or_default();
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let _ = child.wait().await;
            panic!(
                "chromium did not finish within {CHROMIUM_DEADLINE:?}; its stderr:\n{}",
                std::fs::read_to_string(dir.0.join("stderr.txt")).unwrap_or_default()
            );
        }
    };
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(dir.0.join("stderr.txt")).unwrap_or_default();
    assert!(
        status.success(),
        "chromium: {status}; its stderr:\n{stderr}"
    );
    let dom = std::fs::read_to_string(dir.0.join("dom.html")).unwrap();
    assert!(
        !dom.is_empty(),
        "chromium dumped no DOM; its stderr:\n{stderr}"
    );
    let net_log = std::fs::read_to_string(&net_log)
        .unwrap_or_else(|e| panic!("reading the net log {}: {e}", net_log.display()));
    Rendered {
        dom,
        net_log,
        console: stderr,
        took,
    }
}

/// What the net log says the browser asked for. Chromium ends the file properly when it
/// exits normally, and it did (checked in `render`).
struct NetLog {
    requests: Vec<Request>,
    /// The address of every TCP connection attempt.
    connections: Vec<String>,
}

/// A URL_REQUEST_START_JOB event: one per request and per redirect it follows.
struct Request {
    url: String,
    /// The origin that caused it: the page's for its subresources and fetches, "not an
    /// origin" for a typed navigation and the browser's own requests.
    initiator: String,
    main_frame: bool,
}

impl NetLog {
    fn parse(log: &str) -> Self {
        let log: Value = serde_json::from_str(log).expect("the net log is JSON");
        let event_type = |name: &str| {
            log["constants"]["logEventTypes"][name]
                .as_u64()
                .unwrap_or_else(|| panic!("the net log names {name}"))
        };
        let (start_job, connect_attempt) = (
            event_type("URL_REQUEST_START_JOB"),
            event_type("TCP_CONNECT_ATTEMPT"),
        );
        let events = log["events"].as_array().expect("the net log has events");
        let requests = events
            .iter()
            .filter(|event| event["type"].as_u64() == Some(start_job))
            .filter_map(|event| {
                let params = &event["params"];
                Some(Request {
                    url: params["url"].as_str()?.to_owned(),
                    initiator: params["initiator"].as_str().unwrap_or_default().to_owned(),
                    main_frame: params["request_type"] == "main frame",
                })
            })
            .collect();
        let connections = events
            .iter()
            .filter(|event| event["type"].as_u64() == Some(connect_attempt))
            .filter_map(|event| event["params"]["address"].as_str())
            .map(str::to_owned)
            .collect();
        Self {
            requests,
            connections,
        }
    }
}

/// http(s) and ws(s) only to the gateway; the schemes that never touch the network (data:,
/// blob:, about:) are fine.
fn is_local(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    match scheme {
        "data" | "blob" | "about" => true,
        "http" | "https" | "ws" | "wss" => {
            let authority = rest
                .strip_prefix("//")
                .unwrap_or_default()
                .split(['/', '?', '#'])
                .next()
                .unwrap_or_default();
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            host == GATEWAY_HOST || host == "127.0.0.1"
        }
        _ => false,
    }
}

/// (METHOD, path) of each operation Swagger UI rendered: an `opblock-summary-method` span
/// followed by the `opblock-summary-path` element carrying the path in `data-path`.
fn listed_operations(dom: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for chunk in dom.split("class=\"opblock-summary-method\"").skip(1) {
        let Some(method) = chunk
            .split_once('>')
            .and_then(|(_, rest)| rest.split_once('<'))
            .map(|(text, _)| text.trim().to_uppercase())
        else {
            continue;
        };
        let Some(path) = chunk
            .split_once("class=\"opblock-summary-path")
            .and_then(|(_, rest)| rest.split_once("data-path=\""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(path, _)| path.replace("&amp;", "&"))
        else {
            continue;
        };
        found.insert((method, path));
    }
    found
}

/// A fresh directory for one browser run (profile, net log, output), removed afterwards.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("gateway-docs-chromium-"));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
