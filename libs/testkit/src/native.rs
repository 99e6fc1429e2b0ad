//! The platform as users run it: the `devstack` binary, one process or one per service,
//! started, SIGKILLed and restarted by a test or the fault suite, with databases, Redis keys
//! and a working directory of its own (never a developer's data). It listens on the usual
//! ports (8080, 9100, 50051…, 9092), so one runs at a time.
//!
//! ```no_run
//! use platform_testkit::native::{Layout, NativeRun};
//! # async fn t() {
//! // In a test of the devstack package: env!("CARGO_BIN_EXE_devstack").
//! let mut run = NativeRun::start("target/debug/devstack", Layout::Processes).await;
//! let account = run.register("eu").await;
//! let killed = run.kill_process("user");
//! run.until_restarted("user", killed).await;
//! run.until_profile(&account).await;
//! # }
//! ```

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};

/// The gateway's public and ops addresses in the native run.
pub const GATEWAY: &str = "http://127.0.0.1:8080";
const GATEWAY_READY: &str = "http://127.0.0.1:9100/readyz";
/// Every test account's password.
const PASSWORD: &str = "correct horse battery";
/// How long any awaited condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(90);
/// Starts of a run, when they find one of its ports taken (see [`NativeRun::start`]).
const START_ATTEMPTS: u32 = 3;

/// An account registered through the gateway.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: String,
    pub email: String,
}

/// How the platform runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `devstack`: every service in one process with an embedded broker.
    OneProcess,
    /// `devstack processes`: each service, and the broker, a process of its own.
    Processes,
}

/// A native run with databases, Redis keys and a working directory of its own.
pub struct NativeRun {
    devstack: PathBuf,
    layout: Layout,
    prefix: String,
    dir: PathBuf,
    child: Option<Child>,
    starts: u32,
    env: Vec<(String, String)>,
    pub http: reqwest::Client,
}

impl NativeRun {
    /// Starts `devstack` (the binary's path) in `layout` and waits until it is ready. A start
    /// that finds one of its fixed ports taken by another socket (the gRPC ports lie in the
    /// kernel's ephemeral range, so any outgoing connection may hold one for a while) is made
    /// again, up to 3 times in all.
    pub async fn start(devstack: impl Into<PathBuf>, layout: Layout) -> Self {
        Self::start_with(devstack, layout, &[]).await
    }

    /// [`start`](Self::start) with extra variables for every process (e.g. `REDIS_URL`).
    pub async fn start_with(
        devstack: impl Into<PathBuf>,
        layout: Layout,
        env: &[(&str, &str)],
    ) -> Self {
        let dir = std::env::temp_dir().join(crate::unique("native-run-"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut run = Self {
            devstack: devstack.into(),
            layout,
            prefix: crate::unique("native_"),
            dir,
            child: None,
            starts: 0,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        run.spawn().await;
        run
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The names of the run's services (those with a manifest), in start order.
    ///
    /// ```no_run
    /// # use platform_testkit::native::{Layout, NativeRun};
    /// # async fn t() {
    /// let run = NativeRun::start("target/debug/devstack", Layout::Processes).await;
    /// let pids: Vec<u32> = run.services().iter().map(|s| run.pid_of(s)).collect();
    /// # }
    /// ```
    pub fn services(&self) -> Vec<String> {
        services(&self.devstack)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    async fn spawn(&mut self) {
        assert!(
            self.child.is_none(),
            "the previous run is still there; kill it first"
        );
        let services = services(&self.devstack);
        if self.layout == Layout::Processes {
            let bin_dir = self.devstack.parent().unwrap().to_path_buf();
            for (service, _) in &services {
                assert!(
                    bin_dir.join(service).exists(),
                    "{service} is not built: run `cargo build --bins` (the workspace's test \
                     command builds it)"
                );
            }
        }
        let mut ports: Vec<u16> = services.into_iter().flat_map(|(_, ports)| ports).collect();
        ports.push(BROKER_PORT);
        for attempt in 1..=START_ATTEMPTS {
            until_ports_free(&ports).await;
            self.spawn_child();
            match self.until_ready_or_exit().await {
                Ok(()) => return,
                Err(status) => {
                    // A fixed port taken by another socket's ephemeral port: not the platform's
                    // fault, and gone once that socket closes. (The error comes before a long
                    // backtrace, so the whole log is searched.)
                    if attempt < START_ATTEMPTS && self.log().contains("Address already in use") {
                        eprintln!("native run: a port was taken by another socket; starting again");
                        self.kill_all();
                        continue;
                    }
                    panic!("the native run exited ({status}):\n{}", self.log_tail());
                }
            }
        }
    }

    fn spawn_child(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("run-{}.log", self.starts))).unwrap();
        let mut command = Command::new(&self.devstack);
        if self.layout == Layout::Processes {
            command.arg("processes");
        }
        let child = command
            .current_dir(&self.dir)
            .env("DEVSTACK_DATABASE_PREFIX", &self.prefix)
            .env("REDIS_KEY_PREFIX", format!("{}:", self.prefix))
            .env("DEVSTACK_RUN_DIR", self.dir.join("run"))
            .env("RUST_LOG", "warn")
            .env_remove("KAFKA_BROKERS")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // Its own process group, so the whole run (children included) can be killed at once.
            .process_group(0)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("devstack starts");
        self.child = Some(child);
    }

    /// Waits until the gateway reports every upstream serving.
    pub async fn until_ready(&mut self) {
        if let Err(status) = self.until_ready_or_exit().await {
            panic!("the native run exited ({status}):\n{}", self.log_tail());
        }
    }

    /// Like [`NativeRun::until_ready`], but the run exiting meanwhile is returned, not a panic.
    async fn until_ready_or_exit(&mut self) -> Result<(), ExitStatus> {
        let http = self.http.clone();
        self.try_eventually("the native run to be ready", || {
            let http = http.clone();
            async move {
                match http.get(GATEWAY_READY).send().await {
                    Ok(response) if response.status().is_success() => {
                        let body: Value = response.json().await.unwrap_or_default();
                        body["checks"]
                            .as_object()
                            .is_some_and(|checks| checks.values().all(|v| v == "ok"))
                    }
                    _ => false,
                }
            }
        })
        .await
    }

    /// SIGKILL to the whole run: the process, and in the multi-process layout every child.
    pub fn kill_all(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = killpg(pid, Signal::SIGKILL);
            let _ = child.wait();
        }
    }

    pub async fn restart(&mut self) {
        self.kill_all();
        self.spawn().await;
    }

    /// Keeps `name` down once it exits (the supervisor waits while its hold file exists),
    /// or lets it start again.
    pub fn hold(&self, name: &str, held: bool) {
        let file = self.dir.join("run").join(format!("{name}.hold"));
        if held {
            std::fs::write(&file, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(&file);
        }
    }

    /// SIGKILL to one process of the multi-process layout (`auth`, `user`, `broker`, …); the
    /// supervisor starts it again. Returns the killed pid.
    pub fn kill_process(&self, name: &str) -> u32 {
        assert_eq!(self.layout, Layout::Processes);
        let pid = self.pid_of(name);
        kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        pid
    }

    pub fn pid_of(&self, name: &str) -> u32 {
        let file = self.dir.join("run").join(format!("{name}.pid"));
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
            .trim()
            .parse()
            .unwrap()
    }

    /// Waits until `name` runs again under another pid than `killed`.
    pub async fn until_restarted(&mut self, name: &str, killed: u32) {
        let file = self.dir.join("run").join(format!("{name}.pid"));
        self.eventually(&format!("{name} to be started again"), || {
            let file = file.clone();
            async move {
                std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|pid| pid.trim().parse::<u32>().ok())
                    .is_some_and(|pid| pid != killed)
            }
        })
        .await;
    }

    /// A pool on one of this run's databases (`auth`, `user_eu`, …).
    pub async fn database(&self, suffix: &str) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.database_url(suffix))
            .await
            .unwrap()
    }

    fn database_url(&self, suffix: &str) -> String {
        crate::database_url(
            &crate::postgres_admin_url(),
            &format!("{}_{suffix}", self.prefix),
        )
    }

    /// Makes one database refuse new connections and ends the open ones, as an outage would.
    pub async fn refuse_connections(&self, suffix: &str, refuse: bool) {
        let mut admin = PgConnection::connect(&crate::postgres_admin_url())
            .await
            .unwrap();
        let name = format!("{}_{suffix}", self.prefix);
        let allow = if refuse { "false" } else { "true" };
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            r#"alter database "{name}" allow_connections {allow}"#
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        if refuse {
            sqlx::query(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1",
            )
            .bind(&name)
            .execute(&mut admin)
            .await
            .unwrap();
        }
    }

    /// Registers a new account in `region`.
    pub async fn register(&self, region: &str) -> Account {
        let email = format!("{}@example.com", crate::unique("native-"));
        let response = self
            .http
            .post(format!("{GATEWAY}/v1/auth/register"))
            .json(&json!({
                "email": email,
                "password": PASSWORD,
                "display_name": "Native",
                "region": region,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        Account {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            email,
        }
    }

    /// A fresh access token for `account` (the native run's signing key does not survive a
    /// restart of auth, so tokens from before one are refused).
    pub async fn login(&self, account: &Account) -> Option<String> {
        let response = self
            .http
            .post(format!("{GATEWAY}/v1/auth/login"))
            .json(&json!({"email": account.email, "password": PASSWORD}))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body: Value = response.json().await.ok()?;
        body["access_token"].as_str().map(str::to_owned)
    }

    /// Waits until `account` has its profile.
    pub async fn until_profile(&mut self, account: &Account) {
        let token = self.login(account).await.expect("the account logs in");
        let (http, token) = (self.http.clone(), token);
        self.eventually(&format!("the profile of {}", account.user_id), || {
            let (http, token) = (http.clone(), token.clone());
            async move {
                http.get(format!("{GATEWAY}/v1/users/me"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        })
        .await;
    }

    /// Polls `condition` until it holds; on timeout fails with the run's log.
    pub async fn eventually<F, Fut>(&mut self, what: &str, condition: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        if let Err(status) = self.try_eventually(what, condition).await {
            panic!("the native run exited ({status}):\n{}", self.log_tail());
        }
    }

    /// Polls `condition` until it holds, or the run exits (its status); on timeout fails with
    /// the run's log.
    async fn try_eventually<F, Fut>(
        &mut self,
        what: &str,
        mut condition: F,
    ) -> Result<(), ExitStatus>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if condition().await {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(status);
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The last lines the current run logged.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("run-{}.log", self.starts)))
            .unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The prefix of this run's database names and Redis keys.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// The port of the broker process the multi-process layout starts.
const BROKER_PORT: u16 = 9092;

/// Every service of the native run with the ports it listens on, as `devstack services` lists
/// them from the services' manifests (`auth 50051 9101`, one service a line).
///
/// ```no_run
/// let services = platform_testkit::native::services("target/debug/devstack".as_ref());
/// assert!(services.iter().any(|(name, ports)| name == "gateway" && ports.contains(&8080)));
/// ```
pub fn services(devstack: &Path) -> Vec<(String, Vec<u16>)> {
    listing(devstack, "services")
        .iter()
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().expect("a service's name").to_owned();
            (name, words.map(|port| port.parse().unwrap()).collect())
        })
        .collect()
}

/// The platform's topics, one a line from `devstack topics` (`platform_kafka::events::TOPICS`):
/// what a broker that does not create topics on produce must be given.
///
/// ```no_run
/// let topics = platform_testkit::native::topics("target/debug/devstack".as_ref());
/// assert!(topics.iter().any(|topic| topic == "user.registered"));
/// ```
pub fn topics(devstack: &Path) -> Vec<String> {
    listing(devstack, "topics")
}

/// The lines `devstack COMMAND` prints; panics with its error output if it fails.
fn listing(devstack: &Path, command: &str) -> Vec<String> {
    let output = Command::new(devstack)
        .arg(command)
        .output()
        .unwrap_or_else(|e| panic!("running {} {command}: {e}", devstack.display()));
    assert!(
        output.status.success(),
        "{} {command} failed: {}",
        devstack.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until the native run's ports can be bound: a run killed a moment ago (or one a
/// killed harness left behind) may still be draining, and any outgoing connection may hold one
/// of the gRPC ports as its ephemeral port for a while. Binding, not connecting, is the test,
/// since such a connection does not listen; once it closes, its port stays unbindable for the
/// kernel's TIME_WAIT (60 s on Linux). Panics naming the port after two minutes.
async fn until_ports_free(ports: &[u16]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let taken = ports
            .iter()
            .copied()
            .find(|port| std::net::TcpListener::bind(("0.0.0.0", *port)).is_err());
        let Some(port) = taken else { return };
        assert!(
            tokio::time::Instant::now() < deadline,
            "port {port} is still in use: is another native run (devstack) running?"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl Drop for NativeRun {
    fn drop(&mut self) {
        self.kill_all();
        // Synchronously, since a test's runtime may be gone: psql is on every machine of ours.
        // Every database with this run's prefix, whichever services it had.
        let drop_all = format!(
            "select format('drop database if exists %I with (force)', datname) from pg_database \
             where starts_with(datname, '{}_')\n\\gexec\n",
            self.prefix
        );
        if let Ok(mut psql) = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            if let Some(mut stdin) = psql.stdin.take() {
                let _ = std::io::Write::write_all(&mut stdin, drop_all.as_bytes());
            }
            let _ = psql.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
