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

/// Package `user.v1`: profiles.
pub mod user {
    pub mod v1 {
        tonic::include_proto!("user.v1");
    }
}

/// Package `media.v1`: uploaded images and their variants.
pub mod media {
    pub mod v1 {
        tonic::include_proto!("media.v1");
    }
}

/// Package `events.v1`: the payloads of Kafka events, one message per event type.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("events.v1");
    }
}
