//! The user service's gRPC server: the one service it exposes, plus health.

use std::sync::Arc;

use platform_grpc::GrpcServer;
use platform_proto::user::v1::user_service_server::UserServiceServer;

use crate::controller::UserController;
use crate::service::{Avatars, Profiles};

pub fn grpc_server(profiles: Arc<Profiles>, avatars: Arc<Avatars>) -> GrpcServer {
    GrpcServer::new().add_service(UserServiceServer::new(UserController::new(
        profiles, avatars,
    )))
}
