//! gRPC stub servers: a test's stand-in for a peer service, served as the real ones are (the
//! platform's server layers: request id, trace context) on a loopback port; and readers of
//! the details a refusal carries.

use std::net::SocketAddr;

use platform_grpc::{GrpcServer, GrpcServerSettings};
use platform_runtime::{CancellationToken, Readiness};
use tonic_types::StatusExt as _;

/// Serves `server` on a loopback port of its own for as long as the test's runtime lives;
/// returns the address.
///
/// ```no_run
/// # async fn t(server: platform_grpc::GrpcServer) {
/// // server: GrpcServer::new().add_service(AuthServiceServer::new(my_stub))
/// let addr = platform_testkit::serve_stub(server).await;
/// # let _ = addr;
/// # }
/// ```
pub async fn serve_stub(server: GrpcServer) -> SocketAddr {
    let (listener, addr) = crate::loopback_listener().await;
    tokio::spawn(server.serve(
        listener,
        GrpcServerSettings::for_tests(),
        Readiness::new(),
        CancellationToken::new(),
    ));
    addr
}

/// The machine-readable reason a refusal carries (its `ErrorInfo` detail). Panics when it
/// carries none: every refusal of the platform's services names its reason.
///
/// ```no_run
/// # fn t(status: tonic::Status) {
/// assert_eq!(platform_testkit::error_reason(&status), "USER_NOT_FOUND");
/// # }
/// ```
pub fn error_reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .unwrap_or_else(|| panic!("the refusal names its reason: {status:?}"))
        .reason
        .clone()
}

/// The field violations a refusal of invalid input carries (its `BadRequest` detail), as
/// (field, description), in order; none when it carries none.
///
/// ```
/// let status = tonic::Status::invalid_argument("bad");
/// assert!(platform_testkit::violations(&status).is_empty());
/// ```
pub fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of [`violations`], in order.
///
/// ```
/// let status = tonic::Status::invalid_argument("bad");
/// assert!(platform_testkit::violated_fields(&status).is_empty());
/// ```
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    violations(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}
