//! What the gateway's tests share besides the platform they start (`platform.rs`): a key pair,
//! problem+json checks, and stub peers that misbehave on cue.

use std::net::SocketAddr;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use platform_testkit::serve_stub;
use serde_json::Value;

pub use crate::platform::{TestPlatform, spawn_platform, spawn_platform_with};

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

/// The fields a problem's `errors` name, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
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

/// Sends a login through the gateway at `base` in the background and returns once the held
/// auth has it: the request stays in flight until the test adds a permit to `release`.
pub async fn login_held_in_flight(
    client: &reqwest::Client,
    base: &str,
    arrived: &tokio::sync::Notify,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let login = client
        .post(format!("{base}/v1/auth/login"))
        .json(&serde_json::json!({"email": "a@example.com", "password": "p"}))
        .send();
    let in_flight = tokio::spawn(login);
    arrived.notified().await;
    in_flight
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
    let server = platform_grpc::GrpcServer::new().add_service(AuthServiceServer::new(stub));
    (serve_stub(server).await, handle)
}

// ---- Media: the stub the upload tests use; the part to remove with media. ----

/// A media service stand-in: `Upload` drains the stream, recording what it saw, and answers
/// a pending media, or RESOURCE_EXHAUSTED past `max_bytes` as the real one does, or
/// `refusal` right after the metadata; `GetMedia` and `GetContent` know of no media.
#[derive(Clone)]
pub struct StubMedia {
    pub uploads: std::sync::Arc<std::sync::Mutex<Vec<SeenUpload>>>,
    max_bytes: u64,
    refusal: Option<tonic::Status>,
}

/// One upload as the stub saw it.
#[derive(Debug, Clone, Default)]
pub struct SeenUpload {
    pub metadata: Option<platform_proto::media::v1::UploadMetadata>,
    pub bytes: u64,
    /// The `complete` message arrived.
    pub completed: bool,
}

impl StubMedia {
    fn record(&self, index: usize, update: impl FnOnce(&mut SeenUpload)) {
        update(&mut self.uploads.lock().unwrap()[index]);
    }
}

#[tonic::async_trait]
impl platform_proto::media::v1::media_service_server::MediaService for StubMedia {
    async fn upload(
        &self,
        request: tonic::Request<tonic::Streaming<platform_proto::media::v1::UploadRequest>>,
    ) -> Result<tonic::Response<platform_proto::media::v1::Media>, tonic::Status> {
        use platform_proto::media::v1::upload_request::Part;
        let index = {
            let mut uploads = self.uploads.lock().unwrap();
            uploads.push(SeenUpload::default());
            uploads.len() - 1
        };
        let mut stream = request.into_inner();
        loop {
            match stream.message().await {
                Ok(Some(message)) => match message.part {
                    Some(Part::Metadata(metadata)) => {
                        self.record(index, |seen| seen.metadata = Some(metadata));
                        // As the real service refuses a full backlog: before any chunk.
                        if let Some(refusal) = &self.refusal {
                            return Err(refusal.clone());
                        }
                    }
                    Some(Part::Chunk(chunk)) => {
                        self.record(index, |seen| seen.bytes += chunk.len() as u64);
                    }
                    Some(Part::Complete(_)) => {
                        self.record(index, |seen| seen.completed = true);
                        break;
                    }
                    None => {}
                },
                // Without `complete`, the upload was cut short: nothing would be kept.
                Ok(None) => {
                    return Err(tonic::Status::cancelled(
                        "the upload ended without complete",
                    ));
                }
                Err(status) => return Err(status),
            }
        }
        let seen = self.uploads.lock().unwrap()[index].clone();
        if seen.bytes > self.max_bytes {
            return Err(tonic::Status::resource_exhausted("the upload is too large"));
        }
        let metadata = seen.metadata.unwrap_or_default();
        Ok(tonic::Response::new(platform_proto::media::v1::Media {
            id: uuid::Uuid::now_v7().to_string(),
            owner_id: metadata.owner_id,
            status: platform_proto::media::v1::MediaStatus::Pending.into(),
            content_type: metadata.content_type,
            size_bytes: seen.bytes,
            ..Default::default()
        }))
    }

    async fn get_media(
        &self,
        _: tonic::Request<platform_proto::media::v1::GetMediaRequest>,
    ) -> Result<tonic::Response<platform_proto::media::v1::Media>, tonic::Status> {
        Err(tonic::Status::not_found("no such media"))
    }

    type GetContentStream =
        futures::stream::Empty<Result<platform_proto::media::v1::ContentChunk, tonic::Status>>;

    async fn get_content(
        &self,
        _: tonic::Request<platform_proto::media::v1::GetContentRequest>,
    ) -> Result<tonic::Response<Self::GetContentStream>, tonic::Status> {
        Err(tonic::Status::not_found("no such media"))
    }
}

/// Starts a [`StubMedia`] that refuses uploads over `max_bytes`; returns its address and a
/// handle on what it sees.
pub async fn spawn_stub_media(max_bytes: u64) -> (SocketAddr, StubMedia) {
    serve_stub_media(StubMedia {
        uploads: Default::default(),
        max_bytes,
        refusal: None,
    })
    .await
}

/// Starts a [`StubMedia`] that answers every upload with `refusal` once its metadata is in.
pub async fn spawn_refusing_stub_media(refusal: tonic::Status) -> (SocketAddr, StubMedia) {
    serve_stub_media(StubMedia {
        uploads: Default::default(),
        max_bytes: u64::MAX,
        refusal: Some(refusal),
    })
    .await
}

async fn serve_stub_media(stub: StubMedia) -> (SocketAddr, StubMedia) {
    use platform_proto::media::v1::media_service_server::MediaServiceServer;
    let server =
        platform_grpc::GrpcServer::new().add_service(MediaServiceServer::new(stub.clone()));
    (serve_stub(server).await, stub)
}

// ---- End of the media part. ----
