//! The auth service's gRPC server: the one service it exposes, plus health.

use std::sync::Arc;

use platform_domain::Region;
use platform_grpc::GrpcServer;
use platform_proto::auth::v1::auth_service_server::AuthServiceServer;

use crate::controller::AuthController;
use crate::service::Accounts;

pub fn grpc_server(accounts: Arc<Accounts>, regions: Vec<Region>) -> GrpcServer {
    GrpcServer::new().add_service(AuthServiceServer::new(AuthController::new(
        accounts, regions,
    )))
}
