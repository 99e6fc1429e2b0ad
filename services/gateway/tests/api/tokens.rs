//! Access tokens: verifiable by anyone from the JWKS alone, and refused at the gateway when
//! forged, expired, aimed elsewhere or signed by a key that is not (or no longer) published.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm as _, AlgorithmExt as _, TimeOptions, UntrustedToken};
use platform_grpc::GrpcClientSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestKey, TestPlatform, spawn_platform, spawn_platform_with, spawn_stub_auth};

/// The status of a protected route, `GET /v1/users/me`, called with `token`: the gateway's
/// extractor decides, as on every protected route.
async fn protected_status(app: &TestPlatform, token: &str) -> StatusCode {
    app.get_as(token, "/v1/users/me").await.status()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(user_id: &str) -> Value {
    json!({"sub": user_id, "region": "eu", "iss": "platform-auth", "aud": "platform",
           "iat": now(), "exp": now() + 600, "jti": "test"})
}

fn sign(key: &TestKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(key.private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// The RFC 7638 thumbprint auth uses as `kid`, computed from the JWKS entry.
fn kid_of(jwks: &Value, index: usize) -> String {
    jwks["keys"][index]["kid"].as_str().unwrap().to_owned()
}

async fn app_with_keys(current: &TestKey, previous: Option<&TestKey>) -> TestPlatform {
    let current = current.private_pem.clone();
    let previous = previous.map(|k| k.public_pem.clone());
    spawn_platform_with(Box::new(move |auth, _, gateway| {
        auth.tokens.signing_key_pem = Some(current.into());
        auth.tokens.previous_public_key_pem = previous;
        // The tests call the protected route more often than a client may.
        *gateway = gateway.clone().with_rate_limits_raised();
    }))
    .await
}

#[tokio::test]
async fn the_access_token_verifies_with_another_jwt_library_using_only_the_jwks() {
    let app = spawn_platform().await;
    let (_, _, session) = app.register("eu").await;
    let jwks = app.jwks().await;
    let token = UntrustedToken::new(session["access_token"].as_str().unwrap()).unwrap();
    let kid = token
        .header()
        .key_id
        .clone()
        .expect("the token names its key");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the JWKS publishes the signing key");
    let jwk: JsonWebKey<'_> = serde_json::from_value(jwk.clone()).unwrap();
    let key = <jwt_compact::alg::Ed25519 as jwt_compact::Algorithm>::VerifyingKey::try_from(&jwk)
        .unwrap();
    let verified = jwt_compact::alg::Ed25519
        .validator::<Value>(&key)
        .validate(&token)
        .expect("the signature verifies");
    verified
        .claims()
        .validate_expiration(&TimeOptions::default())
        .unwrap();
    let custom = &verified.claims().custom;
    assert_eq!(custom["sub"], session["user_id"]);
    assert_eq!(custom["region"], "eu");
    assert_eq!(custom["iss"], "platform-auth");
    assert_eq!(custom["aud"], "platform");
    assert!(custom["jti"].is_string());
    // jwt-compact lifts the registered time claims out of `custom`.
    assert!(verified.claims().issued_at.is_some() && verified.claims().expiration.is_some());
    assert_eq!(jwt_compact::alg::Ed25519.name(), token.algorithm());
}

#[tokio::test]
async fn a_genuine_token_is_accepted_by_the_gateway() {
    let app = spawn_platform().await;
    let session = app.register_with_profile("eu").await;
    let status = protected_status(&app, session["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_401_at_the_gateway() {
    let key = TestKey::generate();
    let app = app_with_keys(&key, None).await;
    let session = app.register_with_profile("eu").await;
    let user_id = session["user_id"].as_str().unwrap();
    let kid = kid_of(&app.jwks().await, 0);
    // Sanity: our own signing with the configured key is accepted.
    assert_eq!(
        protected_status(&app, &sign(&key, &kid, &claims(user_id))).await,
        StatusCode::OK
    );

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(&claims(user_id))
    );
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims(user_id),
            &EncodingKey::from_secret(key.public_pem.as_bytes()),
        )
        .unwrap()
    };
    let mut expired = claims(user_id);
    expired["exp"] = json!(now() - 3600);
    let mut wrong_aud = claims(user_id);
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = claims(user_id);
    wrong_iss["iss"] = json!("evil-issuer");
    let unknown_kid = sign(
        &TestKey::generate(),
        "not-a-published-kid",
        &claims(user_id),
    );
    let tampered = {
        let genuine = session["access_token"].as_str().unwrap();
        let parts: Vec<_> = genuine.split('.').collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["sub"] = json!("eu_someone_else");
        format!("{}.{}.{}", parts[0], b64(&payload), parts[2])
    };

    let cases = [
        ("alg none", alg_none),
        ("HS256 signed with the public key", hs256_with_public_key),
        ("expired", sign(&key, &kid, &expired)),
        ("wrong aud", sign(&key, &kid, &wrong_aud)),
        ("wrong iss", sign(&key, &kid, &wrong_iss)),
        ("unknown kid", unknown_kid),
        ("tampered payload", tampered),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        assert_eq!(
            protected_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
}

#[tokio::test]
async fn after_rotation_the_previous_key_still_verifies_and_a_retired_one_does_not() {
    let (retired, previous, current) = (
        TestKey::generate(),
        TestKey::generate(),
        TestKey::generate(),
    );
    // Learn each key's kid the way a client would: from a JWKS that publishes it.
    let kid_for = |key: &TestKey| {
        let key = TestKey {
            private_pem: key.private_pem.clone(),
            public_pem: key.public_pem.clone(),
        };
        async move { kid_of(&app_with_keys(&key, None).await.jwks().await, 0) }
    };
    let (retired_kid, previous_kid) = (kid_for(&retired).await, kid_for(&previous).await);

    let app = app_with_keys(&current, Some(&previous)).await;
    let jwks = app.jwks().await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "current and previous are published"
    );
    assert_eq!(kid_of(&jwks, 1), previous_kid);

    let session = app.register_with_profile("eu").await;
    let user_id = session["user_id"].as_str().unwrap();
    let status = |token: String| {
        let app = &app;
        async move { protected_status(app, &token).await }
    };
    assert_eq!(
        status(session["access_token"].as_str().unwrap().to_owned()).await,
        StatusCode::OK
    );
    assert_eq!(
        status(sign(&previous, &previous_kid, &claims(user_id))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(sign(&retired, &retired_kid, &claims(user_id))).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_with_made_up_kids_cannot_make_the_gateway_hammer_auth_for_keys() {
    let (stub_addr, stub) = spawn_stub_auth().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth.url = GrpcClientSettings::for_tests("auth", stub_addr).url;
        *gateway = gateway.clone().with_rate_limits_raised();
    }))
    .await;
    let forger = TestKey::generate();
    for i in 0..20 {
        let token = sign(&forger, &format!("made-up-{i}"), &claims("eu_x"));
        assert_eq!(
            protected_status(&app, &token).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let calls = stub.jwks_calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        calls, 1,
        "one fetch, then unknown kids wait for the refetch interval"
    );
}
