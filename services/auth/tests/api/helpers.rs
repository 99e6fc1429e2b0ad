//! `spawn_auth()`: the real auth service on port 0 with a fresh database.

use std::net::SocketAddr;

use auth_service::data::MIGRATOR;
use platform_grpc::{GrpcChannel, GrpcClientSettings};
use platform_kafka::EmbeddedKafka;
use platform_proto::auth::v1::auth_service_client::AuthServiceClient;
use platform_testkit::{TestDatabase, redis_url, unique};

pub struct TestAuth {
    pub grpc: SocketAddr,
    pub ops: SocketAddr,
    /// Sending on it starts the shutdown, as SIGTERM would.
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub _db: TestDatabase,
    pub _kafka: EmbeddedKafka,
}

pub async fn spawn_auth_with(tweak: impl FnOnce(&mut auth_service::Settings)) -> TestAuth {
    let db = TestDatabase::create(&MIGRATOR).await;
    let kafka =
        EmbeddedKafka::start(platform_kafka::events::TOPICS).expect("the embedded broker starts");
    let mut settings = auth_service::Settings::for_tests(
        db.url(),
        &redis_url(),
        &unique("test:"),
        kafka.bootstrap_servers(),
    );
    tweak(&mut settings);
    let app = auth_service::App::build(settings)
        .await
        .expect("auth starts");
    let (grpc, ops) = (app.grpc_addr(), app.ops_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestAuth {
        grpc,
        ops,
        stop,
        _db: db,
        _kafka: kafka,
    }
}

pub async fn spawn_auth() -> TestAuth {
    spawn_auth_with(|_| {}).await
}

impl TestAuth {
    pub fn channel(&self) -> GrpcChannel {
        platform_grpc::connect(&GrpcClientSettings::for_tests("auth", self.grpc)).unwrap()
    }

    pub fn client(&self) -> AuthServiceClient<GrpcChannel> {
        AuthServiceClient::new(self.channel())
    }
}
