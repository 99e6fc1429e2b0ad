//! The user service's gRPC server: the one service it exposes, plus health.

use platform_grpc::GrpcServer;
use platform_proto::user::v1::user_service_server::UserServiceServer;

use crate::controller::UserController;

pub fn grpc_server(users: UserController) -> GrpcServer {
    GrpcServer::new().add_service(UserServiceServer::new(users))
}
