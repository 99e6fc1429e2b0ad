//! Sign-up, sign-in and sessions, end to end through the gateway.

use serde_json::json;

use crate::helpers::{assert_problem, problem_fields, spawn_platform, spawn_platform_with};

#[tokio::test]
async fn register_returns_201_with_a_token_pair() {
    let app = spawn_platform().await;
    let (_, _, body) = app.register("us").await;
    assert!(
        body["user_id"].as_str().unwrap().starts_with("us_"),
        "the id names its region"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
}

#[tokio::test]
async fn registering_a_taken_email_is_409_whatever_its_case() {
    let app = spawn_platform().await;
    let (email, _, _) = app.register("eu").await;
    let response = app
        .post(
            "/v1/auth/register",
            json!({"email": email.to_uppercase(), "password": "another password", "display_name": "B", "region": "eu"}),
        )
        .await;
    assert_problem(response, 409, "EMAIL_TAKEN").await;
}

#[tokio::test]
async fn invalid_registration_names_each_bad_field() {
    let app = spawn_platform().await;
    let response = app
        .post(
            "/v1/auth/register",
            json!({"email": "not-an-email", "password": "short", "region": "mars"}),
        )
        .await;
    let body = assert_problem(response, 400, "INVALID_INPUT").await;
    assert_eq!(
        problem_fields(&body),
        ["email", "password", "display_name", "region"]
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_identical_401_bodies() {
    let app = spawn_platform().await;
    let (email, _, _) = app.register("eu").await;
    let without_request_id = |mut body: serde_json::Value| {
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    let wrong_password = assert_problem(
        app.login(&email, "wrong password!").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let unknown_email = assert_problem(
        app.login("nobody@example.com", "wrong password!").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(
        without_request_id(wrong_password),
        without_request_id(unknown_email)
    );
}

#[tokio::test]
async fn login_with_the_right_password_opens_a_new_session() {
    let app = spawn_platform().await;
    let (email, password, registered) = app.register("eu").await;
    let response = app.login(&email.to_uppercase(), &password).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user_id"], registered["user_id"]);
    assert_ne!(body["refresh_token"], registered["refresh_token"]);
}

#[tokio::test]
async fn refresh_rotates_the_pair() {
    let app = spawn_platform().await;
    let (_, _, first) = app.register("eu").await;
    let response = app.refresh(&first["refresh_token"]).await;
    assert_eq!(response.status(), 200);
    let second: serde_json::Value = response.json().await.unwrap();
    assert_eq!(second["user_id"], first["user_id"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    // The new token works in turn.
    let third = app.refresh(&second["refresh_token"]).await;
    assert_eq!(third.status(), 200);
}

#[tokio::test]
async fn a_spent_refresh_token_is_refused_and_its_reuse_revokes_the_family() {
    let app = spawn_platform().await;
    let (_, _, first) = app.register("eu").await;
    let second: serde_json::Value = app
        .refresh(&first["refresh_token"])
        .await
        .json()
        .await
        .unwrap();
    // Replaying the spent token fails...
    let replay = app.refresh(&first["refresh_token"]).await;
    assert_problem(replay, 401, "INVALID_REFRESH_TOKEN").await;
    // ...and kills the live token of the same family, which a thief might hold.
    let legit = app.refresh(&second["refresh_token"]).await;
    assert_problem(legit, 401, "INVALID_REFRESH_TOKEN").await;
}

#[tokio::test]
async fn logout_is_204_and_the_refresh_token_is_dead() {
    let app = spawn_platform().await;
    let (_, _, session) = app.register("eu").await;
    let response = app.logout(&session["refresh_token"]).await;
    assert_eq!(response.status(), 204);
    let refresh = app.refresh(&session["refresh_token"]).await;
    assert_problem(refresh, 401, "INVALID_REFRESH_TOKEN").await;
    // Logging out twice is still 204: the session is over either way.
    let again = app.logout(&session["refresh_token"]).await;
    assert_eq!(again.status(), 204);
}

#[tokio::test]
async fn brute_force_login_is_429_with_retry_after() {
    let app = spawn_platform().await;
    let (email, password, _) = app.register("eu").await;
    for _ in 0..5 {
        assert_eq!(app.login(&email, "wrong password!").await.status(), 401);
    }
    let blocked = app.login(&email, "wrong password!").await;
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    assert_problem(blocked, 429, "TOO_MANY_ATTEMPTS").await;
    // Even the right password waits out the window: the attacker learns nothing.
    assert_eq!(app.login(&email, &password).await.status(), 429);
}

/// Behind the shipped ingress (one trusted hop), a stranger's failed logins count against the
/// stranger's address, not the ingress's: the owner, elsewhere, still signs in. With every
/// client seen as the ingress pod, the stranger locked everyone out.
#[tokio::test]
async fn behind_the_ingress_a_strangers_failures_do_not_lock_the_owner_out() {
    let app = spawn_platform_with(Box::new(|_, _, gateway| {
        gateway.http.trusted_proxy_hops = 1;
    }))
    .await;
    let (email, password, _) = app.register("eu").await;
    let login_from = |address: &'static str, password: &str| {
        app.client
            .post(format!("{}/v1/auth/login", app.base))
            .header("x-forwarded-for", format!("10.9.9.9, {address}"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..5 {
        let status = login_from("198.51.100.66", "wrong password!")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let blocked = login_from("198.51.100.66", "wrong password!")
        .await
        .unwrap();
    assert_problem(blocked, 429, "TOO_MANY_ATTEMPTS").await;
    // The client-written entry (10.9.9.9) is the same on both: only the ingress's counts.
    let owner = login_from("203.0.113.5", &password).await.unwrap();
    assert_eq!(
        owner.status(),
        200,
        "the owner, from their own address, signs in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_requests_keep_completing_while_50_logins_are_in_flight() {
    // Generous deadlines everywhere on the path: this test is about ordering, not about how
    // fast 50 hashes are on a loaded machine.
    let app = spawn_platform_with(Box::new(|auth, _, gateway| {
        let long = std::time::Duration::from_secs(120);
        auth.grpc.request_timeout = long;
        auth.redis.command_timeout = long;
        auth.database.acquire_timeout = long;
        gateway.auth.request_timeout = long;
        gateway.http.request_timeout = long;
    }))
    .await;
    let (email, password, _) = app.register("eu").await;
    app.jwks().await; // warm the JWKS cache so light requests never wait on auth

    let logins: Vec<_> = (0..50)
        .map(|_| {
            let (client, base, email, password) = (
                app.client.clone(),
                app.base.clone(),
                email.clone(),
                password.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(format!("{base}/v1/auth/login"))
                    .json(&json!({"email": email, "password": password}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    // 50 argon2id hashes take many times longer than these reads; if hashing ran on the
    // runtime's threads the reads would queue behind it.
    for _ in 0..20 {
        assert_eq!(app.get("/.well-known/jwks.json").await.status(), 200);
    }
    let finished = logins.iter().filter(|l| l.is_finished()).count();
    assert!(
        finished < 50,
        "the light reads finished before the logins did ({finished}/50 done)"
    );
    for login in logins {
        let status = login.await.unwrap();
        assert_eq!(status, 200, "every login completes: {status}");
    }
}
