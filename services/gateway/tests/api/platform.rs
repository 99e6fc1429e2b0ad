//! The platform started in this process for one test or one bench: the gateway in front of
//! auth, user, media and the media worker, each on port 0 with databases of its own, one
//! embedded Kafka, and one object-storage directory shared by media and the worker.
//!
//! `spawn_platform()` starts all of it; [`PlatformBuilder`] leaves services out and tweaks
//! settings (the benches measure only what they start). The benches include this file too
//! (`benches/common/mod.rs`), so tests and benches start the platform one way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use platform_grpc::GrpcClientSettings;
use platform_kafka::EmbeddedKafka;
use platform_testkit::{TestDatabase, redis_url, unique};
use serde_json::{Value, json};

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery";

/// A started platform; its databases, broker and object store live as long as it does.
pub struct TestPlatform {
    /// The gateway's public URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    pub client: reqwest::Client,
    pub gateway_ops: SocketAddr,
    pub auth_addr: SocketAddr,
    /// The user service's ops listener, when it runs.
    pub user_ops: Option<SocketAddr>,
    pub auth_db: TestDatabase,
    /// The user service's regional shards.
    pub users_eu: TestDatabase,
    pub users_us: TestDatabase,
    /// Media and the media worker, when they run.
    pub media: Option<TestMedia>,
    /// The broker every service publishes to and consumes from.
    pub kafka: EmbeddedKafka,
}

/// Changes to the settings of auth, user and the gateway before they start.
pub type Tweak = Box<
    dyn FnOnce(
        &mut auth_service::Settings,
        &mut user_service::Settings,
        &mut gateway_service::Settings,
    ),
>;

/// Every service, as configured for tests.
pub async fn spawn_platform() -> TestPlatform {
    PlatformBuilder::new().start().await
}

/// Every service, with `tweak` applied to the settings.
pub async fn spawn_platform_with(tweak: Tweak) -> TestPlatform {
    PlatformBuilder::new().tweak(tweak).start().await
}

/// Which services a [`TestPlatform`] runs, and how they are configured.
pub struct PlatformBuilder {
    user: bool,
    media: bool,
    tweak: Tweak,
}

impl Default for PlatformBuilder {
    /// Every service, with the settings their `for_tests` gives.
    fn default() -> Self {
        Self {
            user: true,
            media: true,
            tweak: Box::new(|_, _, _| {}),
        }
    }
}

impl PlatformBuilder {
    /// Every service, with the settings their `for_tests` gives.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves the user service out: the gateway's user routes reach nothing.
    pub fn without_user(mut self) -> Self {
        self.user = false;
        self
    }

    /// Leaves media and the media worker out: the gateway's media routes reach nothing.
    pub fn without_media(mut self) -> Self {
        self.media = false;
        self
    }

    /// Changes the settings of auth, user and the gateway before they start. The gateway is
    /// pointed at this auth and user unless the tweak aims it elsewhere.
    pub fn tweak(mut self, tweak: Tweak) -> Self {
        self.tweak = tweak;
        self
    }

    pub async fn start(self) -> TestPlatform {
        let auth_db = TestDatabase::create(&auth_service::data::MIGRATOR).await;
        let users_eu = TestDatabase::create(&user_service::data::MIGRATOR).await;
        let users_us = TestDatabase::create(&user_service::data::MIGRATOR).await;
        let kafka = EmbeddedKafka::start(platform_kafka::events::TOPICS)
            .expect("the embedded broker starts");

        // Media first: user and the gateway are pointed at it before the tweak, so a test may
        // aim them elsewhere.
        let media = if self.media {
            Some(TestMedia::start(&kafka).await)
        } else {
            None
        };
        let mut auth = auth_service::Settings::for_tests(
            auth_db.url(),
            &redis_url(),
            &unique("test:"),
            kafka.bootstrap_servers(),
        );
        let mut user = user_service::Settings::for_tests(
            &[("eu", users_eu.url()), ("us", users_us.url())],
            &redis_url(),
            &unique("test:"),
            kafka.bootstrap_servers(),
        );
        let nowhere: SocketAddr = "127.0.0.1:1".parse().expect("a valid address");
        let mut gateway = gateway_service::Settings::for_tests(nowhere, nowhere);
        if let Some(media) = &media {
            user = user.with_media(media.grpc);
            gateway = gateway.with_media(media.grpc);
        }
        let (default_auth_url, default_user_url) =
            (gateway.auth.url.clone(), gateway.users.url.clone());
        (self.tweak)(&mut auth, &mut user, &mut gateway);

        let mut user_ops = None;
        if self.user {
            let app = user_service::App::build(user).await.expect("user starts");
            user_ops = Some(app.ops_addr());
            // Only the address: a deadline the test set stays.
            if gateway.users.url == default_user_url {
                gateway.users.url = GrpcClientSettings::for_tests("user", app.grpc_addr()).url;
            }
            tokio::spawn(app.run_until(std::future::pending()));
        }
        let app = auth_service::App::build(auth).await.expect("auth starts");
        let auth_addr = app.grpc_addr();
        if gateway.auth.url == default_auth_url {
            gateway.auth.url = GrpcClientSettings::for_tests("auth", auth_addr).url;
        }
        tokio::spawn(app.run_until(std::future::pending()));
        let app = gateway_service::App::build(gateway)
            .await
            .expect("gateway starts");
        let (base, gateway_ops) = (format!("http://{}", app.http_addr()), app.ops_addr());
        tokio::spawn(app.run_until(std::future::pending()));

        TestPlatform {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("a client"),
            gateway_ops,
            auth_addr,
            user_ops,
            auth_db,
            users_eu,
            users_us,
            media,
            kafka,
        }
    }
}

impl TestPlatform {
    /// A request to the gateway's `path`, for a test to add headers or a body to, then
    /// [`send`].
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    /// `POST path` with `body` sent as it is, declared as `content_type`.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &'static str,
    ) -> reqwest::Response {
        send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        send(self.request(reqwest::Method::GET, path).bearer_auth(token)).await
    }

    /// `POST /v1/auth/register` for `email` in `region`, answered as it comes.
    pub async fn post_registration(&self, email: &str, region: &str) -> reqwest::Response {
        self.post(
            "/v1/auth/register",
            json!({"email": email, "password": PASSWORD, "display_name": "Ada", "region": region}),
        )
        .await
    }

    /// `PATCH /v1/users/me` with `body`, signed in with `token`.
    pub async fn patch_me(&self, token: &str, body: Value) -> reqwest::Response {
        send(
            self.request(reqwest::Method::PATCH, "/v1/users/me")
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// Registers a fresh user; returns (email, password, token response).
    pub async fn register(&self, region: &str) -> (String, String, Value) {
        let email = format!("{}@example.com", unique("user"));
        let response = self.post_registration(&email, region).await;
        assert_eq!(response.status(), 201, "registration succeeds");
        (email, PASSWORD.to_owned(), response.json().await.unwrap())
    }

    /// Registers a user and waits (bounded) until their profile is readable; returns the
    /// session. The event travels auth → outbox → Kafka → user.
    pub async fn register_with_profile(&self, region: &str) -> Value {
        let (_, _, session) = self.register(region).await;
        let token = session["access_token"].as_str().unwrap().to_owned();
        platform_testkit::eventually("the profile to appear", || async {
            self.get_as(&token, "/v1/users/me").await.status() == 200
        })
        .await;
        session
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &Value) -> reqwest::Response {
        self.post("/v1/auth/refresh", json!({"refresh_token": refresh_token}))
            .await
    }

    pub async fn logout(&self, refresh_token: &Value) -> reqwest::Response {
        self.post("/v1/auth/logout", json!({"refresh_token": refresh_token}))
            .await
    }

    pub async fn jwks(&self) -> Value {
        self.get("/.well-known/jwks.json")
            .await
            .json()
            .await
            .unwrap()
    }
}

/// Sends `request`; panics when the gateway does not answer.
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the gateway answers")
}

// ---- Media and the media worker: the part to remove with them. ----

/// Media and the media worker, sharing an object store in a directory of their own.
pub struct TestMedia {
    pub grpc: SocketAddr,
    /// The worker's CPU pool's threads.
    pub worker_threads: usize,
    pub db: TestDatabase,
    pub storage: TempDir,
}

impl TestMedia {
    async fn start(kafka: &EmbeddedKafka) -> Self {
        let db = TestDatabase::create(&media_service::data::MIGRATOR).await;
        let storage = TempDir::new("platform-test-objects-");
        let settings =
            media_service::Settings::for_tests(db.url(), kafka.bootstrap_servers(), storage.path());
        let media = media_service::App::build(settings)
            .await
            .expect("media starts");
        let grpc = media.grpc_addr();
        tokio::spawn(media.run_until(std::future::pending()));
        let settings = media_worker::Settings::for_tests(kafka.bootstrap_servers(), storage.path());
        let worker_threads = settings.threads;
        let worker = media_worker::App::build(settings)
            .await
            .expect("the media worker starts");
        tokio::spawn(worker.run_until(std::future::pending()));
        Self {
            grpc,
            worker_threads,
            db,
            storage,
        }
    }
}

// ---- End of the media part. ----

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        Self(std::env::temp_dir().join(unique(prefix)))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
