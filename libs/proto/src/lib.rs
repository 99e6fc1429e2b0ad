//! The platform's protobuf contracts (`proto/`), compiled once for every service.
//!
//! ```
//! use platform_proto::auth::v1::LoginRequest;
//! let request = LoginRequest { email: "ada@example.com".into(), ..Default::default() };
//! assert_eq!(request.email, "ada@example.com");
//! ```

// One module per package in `proto/` (`auth::v1`, `events::v1`, ...), written by build.rs.
include!(concat!(env!("OUT_DIR"), "/modules.rs"));
