//! `spawn_user()`: the user service over an `eu` and a `us` shard; `StubMedia`: a media
//! service stand-in for picking avatars.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use platform_grpc::{GrpcChannel, GrpcClientSettings};
use platform_kafka::EmbeddedKafka;
use platform_proto::media::v1 as media_pb;
use platform_proto::user::v1::GetUserRequest;
use platform_proto::user::v1::user_service_client::UserServiceClient;
use platform_testkit::{TestDatabase, redis_url, unique};
use sqlx::PgPool;
use user_service::data::MIGRATOR;

pub struct TestUser {
    pub grpc: SocketAddr,
    pub ops: SocketAddr,
    pub eu: TestDatabase,
    pub us: TestDatabase,
    pub kafka: EmbeddedKafka,
}

pub async fn spawn_user_with(tweak: impl FnOnce(&mut user_service::Settings)) -> TestUser {
    let (eu, us) = (
        TestDatabase::create(&MIGRATOR).await,
        TestDatabase::create(&MIGRATOR).await,
    );
    let kafka =
        EmbeddedKafka::start(platform_kafka::events::TOPICS).expect("the embedded broker starts");
    let mut settings = user_service::Settings::for_tests(
        &[("eu", eu.url()), ("us", us.url())],
        &redis_url(),
        &unique("test:"),
        kafka.bootstrap_servers(),
    );
    tweak(&mut settings);
    let app = user_service::App::build(settings)
        .await
        .expect("user starts");
    let (grpc, ops) = (app.grpc_addr(), app.ops_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    TestUser {
        grpc,
        ops,
        eu,
        us,
        kafka,
    }
}

pub async fn spawn_user() -> TestUser {
    spawn_user_with(|_| {}).await
}

/// The request that reads the profile `id`.
pub fn get(id: &str) -> GetUserRequest {
    GetUserRequest {
        user_id: id.to_owned(),
    }
}

/// A new, well-formed user id in `region`.
pub fn new_id(region: &str) -> String {
    format!("{region}_{}", uuid::Uuid::now_v7().simple())
}

impl TestUser {
    pub fn client(&self) -> UserServiceClient<GrpcChannel> {
        let settings = GrpcClientSettings::for_tests("user", self.grpc);
        UserServiceClient::new(platform_grpc::connect(&settings).unwrap())
    }

    pub async fn shard(&self, region: &str) -> PgPool {
        let url = if region == "eu" {
            self.eu.url()
        } else {
            self.us.url()
        };
        PgPool::connect(url).await.unwrap()
    }

    /// Writes a profile straight into its shard, as the registration consumer does.
    pub async fn seed(&self, id: &str, display_name: &str) {
        let region = &id[..2];
        sqlx::query(
            "insert into profiles (id, email, display_name, region) values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(format!("{id}@example.com"))
        .bind(display_name)
        .bind(region)
        .execute(&self.shard(region).await)
        .await
        .unwrap();
    }
}

/// A media service that knows the media a test gives it. Only `GetMedia` is served: it is
/// all the user service asks.
#[derive(Clone, Default)]
pub struct StubMedia {
    media: Arc<Mutex<HashMap<String, media_pb::Media>>>,
}

impl StubMedia {
    /// Starts a stub with no media; returns its address and a handle to add some.
    pub async fn spawn() -> (SocketAddr, Self) {
        use media_pb::media_service_server::MediaServiceServer;
        let stub = Self::default();
        let server =
            platform_grpc::GrpcServer::new().add_service(MediaServiceServer::new(stub.clone()));
        (platform_testkit::serve_stub(server).await, stub)
    }

    /// Adds a media owned by `owner_id` in `status`; a ready one has two variants. Returns
    /// its id.
    pub fn add(&self, owner_id: &str, status: media_pb::MediaStatus) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let ready = status == media_pb::MediaStatus::Ready;
        let variant = |name: &str, width, height| media_pb::Variant {
            name: name.to_owned(),
            width,
            height,
            content_type: "image/jpeg".to_owned(),
            size_bytes: 1000,
            etag: "0".repeat(64),
        };
        let media = media_pb::Media {
            id: id.clone(),
            owner_id: owner_id.to_owned(),
            status: status.into(),
            content_type: "image/jpeg".to_owned(),
            width: if ready { 2400 } else { 0 },
            height: if ready { 1600 } else { 0 },
            variants: if ready {
                vec![variant("original", 2400, 1600), variant("thumb", 192, 128)]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        self.media.lock().unwrap().insert(id.clone(), media);
        id
    }
}

#[tonic::async_trait]
impl media_pb::media_service_server::MediaService for StubMedia {
    async fn upload(
        &self,
        _: tonic::Request<tonic::Streaming<media_pb::UploadRequest>>,
    ) -> Result<tonic::Response<media_pb::Media>, tonic::Status> {
        Err(tonic::Status::unimplemented(
            "the stub only answers GetMedia",
        ))
    }

    async fn get_media(
        &self,
        request: tonic::Request<media_pb::GetMediaRequest>,
    ) -> Result<tonic::Response<media_pb::Media>, tonic::Status> {
        let id = request.into_inner().media_id;
        let found = self.media.lock().unwrap().get(&id).cloned();
        found
            .map(tonic::Response::new)
            .ok_or_else(|| tonic::Status::not_found("no such media"))
    }

    type GetContentStream = futures::stream::Empty<Result<media_pb::ContentChunk, tonic::Status>>;

    async fn get_content(
        &self,
        _: tonic::Request<media_pb::GetContentRequest>,
    ) -> Result<tonic::Response<Self::GetContentStream>, tonic::Status> {
        Err(tonic::Status::unimplemented(
            "the stub only answers GetMedia",
        ))
    }
}
