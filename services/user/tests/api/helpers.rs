//! `spawn_user()`: the user service over an `eu` and a `us` shard.

use std::net::SocketAddr;

use platform_grpc::{GrpcChannel, GrpcClientSettings};
use platform_kafka::EmbeddedKafka;
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
