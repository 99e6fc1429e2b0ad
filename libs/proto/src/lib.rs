//! The platform's protobuf contracts (`proto/`), compiled once for every service.
//!
//! ```
//! use platform_proto::auth::v1::LoginRequest;
//! let request = LoginRequest { email: "ada@example.com".into(), ..Default::default() };
//! assert_eq!(request.email, "ada@example.com");
//! ```

/// Package `auth.v1`: credentials, sessions and signing keys.
pub mod auth {
    pub mod v1 {
        tonic::include_proto!("auth.v1");
    }
}
