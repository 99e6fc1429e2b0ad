//! The gRPC contract: statuses with machine-readable details, and refresh under races.

use platform_proto::auth::v1::{RefreshRequest, RegisterRequest};
use platform_testkit::{error_reason, violated_fields};
use tonic::Code;

use crate::helpers::spawn_auth;

fn registration(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: "Ada".into(),
        region: "eu".into(),
    }
}

#[tokio::test]
async fn invalid_input_carries_a_field_violation_per_bad_field() {
    let auth = spawn_auth().await;
    let status = auth
        .client()
        .register(RegisterRequest {
            region: "mars".into(),
            ..registration("nope")
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_reason(&status), "INVALID_INPUT");
    assert_eq!(violated_fields(&status), ["email", "region"]);
}

#[tokio::test]
async fn of_two_concurrent_refreshes_with_one_token_at_most_one_succeeds() {
    let auth = spawn_auth().await;
    let email = format!("{}@example.com", platform_testkit::unique("race"));
    let session = auth
        .client()
        .register(registration(&email))
        .await
        .unwrap()
        .into_inner();
    let token = session.tokens.unwrap().refresh_token;
    let refresh = |token: String| {
        let mut client = auth.client();
        async move {
            client
                .refresh(RefreshRequest {
                    refresh_token: token,
                })
                .await
        }
    };
    let (a, b) = tokio::join!(refresh(token.clone()), refresh(token));
    let succeeded = [a.is_ok(), b.is_ok()].into_iter().filter(|ok| *ok).count();
    assert!(succeeded <= 1, "one token, one rotation");
    for failed in [a, b].into_iter().filter_map(Result::err) {
        assert_eq!(failed.code(), Code::Unauthenticated);
    }
}
