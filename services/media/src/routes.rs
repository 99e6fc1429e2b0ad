//! The media service's gRPC server: the one service it exposes, plus health.

use std::sync::Arc;

use platform_grpc::GrpcServer;
use platform_proto::media::v1::media_service_server::MediaServiceServer;

use crate::controller::MediaController;
use crate::service::{MediaLibrary, Uploads};

pub fn grpc_server(uploads: Arc<Uploads>, library: Arc<MediaLibrary>) -> GrpcServer {
    GrpcServer::new().add_service(MediaServiceServer::new(MediaController::new(
        uploads, library,
    )))
}
