//! `spawn_app()`: auth and gateway started for one test.

use std::net::SocketAddr;
use std::time::Duration;

use auth_service::data::MIGRATOR;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use platform_kafka::EmbeddedKafka;
use platform_testkit::{TestDatabase, redis_url, unique};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub auth_addr: SocketAddr,
    pub gateway_ops: SocketAddr,
    /// The auth database; kept so it lives as long as the test.
    pub db: TestDatabase,
    /// The user service's regional shards.
    pub users_eu: TestDatabase,
    pub users_us: TestDatabase,
    /// The broker auth publishes to and user consumes from.
    pub _kafka: EmbeddedKafka,
}

/// An Ed25519 key pair as the PEMs auth reads.
pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
}

impl TestKey {
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        Self {
            private_pem: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public_pem: key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }
    }
}

/// Options for the apps a test starts: auth, user and gateway settings.
pub type Tweak = Box<
    dyn FnOnce(
        &mut auth_service::Settings,
        &mut user_service::Settings,
        &mut gateway_service::Settings,
    ),
>;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Box::new(|_, _, _| {})).await
}

pub async fn spawn_app_with(tweak: Tweak) -> TestApp {
    let db = TestDatabase::create(&MIGRATOR).await;
    let users_eu = TestDatabase::create(&user_service::data::MIGRATOR).await;
    let users_us = TestDatabase::create(&user_service::data::MIGRATOR).await;
    let kafka = EmbeddedKafka::start(&["user.registered"]).expect("the embedded broker starts");
    let mut auth = auth_service::Settings::for_tests(
        db.url(),
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
    let unset: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let mut gateway = gateway_service::Settings::for_tests(unset, unset);
    let (default_auth_url, default_user_url) =
        (gateway.auth.url.clone(), gateway.users.url.clone());
    tweak(&mut auth, &mut user, &mut gateway);

    let user_app = user_service::App::build(user).await.expect("user starts");
    let user_addr = user_app.grpc_addr();
    tokio::spawn(user_app.run_until(std::future::pending()));
    if gateway.users.url == default_user_url {
        gateway.users = platform_grpc::GrpcClientSettings::for_tests("user", user_addr);
    }

    let auth_app = auth_service::App::build(auth).await.expect("auth starts");
    let auth_addr = auth_app.grpc_addr();
    tokio::spawn(auth_app.run_until(std::future::pending()));
    // Point the gateway at this auth unless the test aimed it elsewhere.
    if gateway.auth.url == default_auth_url {
        gateway.auth = platform_grpc::GrpcClientSettings::for_tests("auth", auth_addr);
    }
    let gateway_app = gateway_service::App::build(gateway)
        .await
        .expect("gateway starts");
    let base = format!("http://{}", gateway_app.http_addr());
    let gateway_ops = gateway_app.ops_addr();
    tokio::spawn(gateway_app.run_until(std::future::pending()));

    TestApp {
        base,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        auth_addr,
        gateway_ops,
        db,
        users_eu,
        users_us,
        _kafka: kafka,
    }
}

impl TestApp {
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the gateway answers")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Registers a fresh user; returns (email, password, token response).
    pub async fn register(&self, region: &str) -> (String, String, Value) {
        let email = format!("{}@example.com", unique("user"));
        let password = "correct horse battery".to_owned();
        let response = self
            .post(
                "/v1/auth/register",
                json!({"email": email, "password": password, "display_name": "Ada", "region": region}),
            )
            .await;
        assert_eq!(response.status(), 201, "registration succeeds");
        (email, password, response.json().await.unwrap())
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/v1/auth/login",
            json!({"email": email, "password": password}),
        )
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

/// Asserts a problem+json answer with `status` and `code`, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "the problem names the request"
    );
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// An auth service stand-in: its `Login` waits until the test releases it (a slow upstream
/// under the test's control), and its `GetJwks` records what the caller sent.
pub struct StubAuth {
    pub arrived: std::sync::Arc<tokio::sync::Notify>,
    pub release: std::sync::Arc<tokio::sync::Semaphore>,
    pub seen: std::sync::Arc<std::sync::Mutex<Option<Seen>>>,
    /// How many times `GetJwks` was called.
    pub jwks_calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// What the stub observed of one inbound call.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Metadata as received.
    pub metadata: http::HeaderMap,
    /// The request id the server layer put in scope for the handler.
    pub request_id_in_scope: Option<String>,
    /// The trace the handler's span belongs to.
    pub trace_id: String,
}

#[tonic::async_trait]
impl platform_proto::auth::v1::auth_service_server::AuthService for StubAuth {
    async fn register(
        &self,
        _: tonic::Request<platform_proto::auth::v1::RegisterRequest>,
    ) -> Result<tonic::Response<platform_proto::auth::v1::RegisterResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("held auth only logs in"))
    }

    async fn login(
        &self,
        _: tonic::Request<platform_proto::auth::v1::LoginRequest>,
    ) -> Result<tonic::Response<platform_proto::auth::v1::TokenPair>, tonic::Status> {
        self.arrived.notify_one();
        self.release.acquire().await.expect("never closed").forget();
        Ok(tonic::Response::new(platform_proto::auth::v1::TokenPair {
            access_token: "a.b.c".into(),
            refresh_token: "r".into(),
            expires_in: 900,
            user_id: "eu_held".into(),
        }))
    }

    async fn refresh(
        &self,
        _: tonic::Request<platform_proto::auth::v1::RefreshRequest>,
    ) -> Result<tonic::Response<platform_proto::auth::v1::TokenPair>, tonic::Status> {
        Err(tonic::Status::unimplemented("held auth only logs in"))
    }

    async fn logout(
        &self,
        _: tonic::Request<platform_proto::auth::v1::LogoutRequest>,
    ) -> Result<tonic::Response<platform_proto::auth::v1::LogoutResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("held auth only logs in"))
    }

    async fn get_jwks(
        &self,
        request: tonic::Request<platform_proto::auth::v1::GetJwksRequest>,
    ) -> Result<tonic::Response<platform_proto::auth::v1::GetJwksResponse>, tonic::Status> {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let trace_id = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .trace_id()
            .to_string();
        self.jwks_calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.seen.lock().unwrap() = Some(Seen {
            metadata: request.metadata().clone().into_headers(),
            request_id_in_scope: platform_telemetry::context::current_request_id(),
            trace_id,
        });
        Ok(tonic::Response::new(Default::default()))
    }
}

/// Starts a [`StubAuth`]; returns its address and the arrival and release handles.
pub async fn spawn_held_auth() -> (
    SocketAddr,
    std::sync::Arc<tokio::sync::Notify>,
    std::sync::Arc<tokio::sync::Semaphore>,
) {
    let (addr, stub) = spawn_stub_auth().await;
    (addr, stub.arrived, stub.release)
}

/// Starts a [`StubAuth`] and returns its address and a handle on what it sees.
pub async fn spawn_stub_auth() -> (SocketAddr, StubAuth) {
    use platform_proto::auth::v1::auth_service_server::AuthServiceServer;
    let handle = StubAuth {
        arrived: Default::default(),
        release: std::sync::Arc::new(tokio::sync::Semaphore::new(0)),
        seen: Default::default(),
        jwks_calls: Default::default(),
    };
    let stub = StubAuth {
        arrived: handle.arrived.clone(),
        release: handle.release.clone(),
        seen: handle.seen.clone(),
        jwks_calls: handle.jwks_calls.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = platform_grpc::GrpcServer::new().add_service(AuthServiceServer::new(stub));
    tokio::spawn(server.serve(
        listener,
        platform_grpc::GrpcServerSettings::for_tests(),
        platform_runtime::Readiness::new(),
        platform_runtime::CancellationToken::new(),
    ));
    (addr, handle)
}
