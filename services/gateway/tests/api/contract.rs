//! The public contract holds against anyone: what the document allows, the gateway accepts;
//! what the gateway refuses, the document refuses too, and says so; nothing a client sends
//! reaches a database as a control character.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, problem_fields, spawn_platform};
use crate::platform::send;

/// The schema of a JSON request body of `method path` in the served document, with the
/// document's components so its references resolve.
fn body_schema(doc: &Value, method: &str, path: &str) -> jsonschema::Validator {
    let reference =
        &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    let root = json!({ "$ref": reference, "components": doc["components"] });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

#[tokio::test]
async fn control_characters_in_a_field_or_a_path_segment_are_a_400_naming_it() {
    let app = spawn_platform().await;
    // Each of these reached Postgres, which refused the NUL, and the client got a 500.
    let login = app
        .post(
            "/v1/auth/login",
            json!({"email": "a\u{0}@example.com", "password": "x"}),
        )
        .await;
    let body = assert_problem(login, 400, "INVALID_INPUT").await;
    assert_eq!(body["errors"][0]["field"], "email", "{body}");
    assert_eq!(
        body["errors"][0]["detail"],
        "must not contain control characters"
    );

    let tokens = app.register_with_profile("eu").await;
    let token = tokens["access_token"].as_str().unwrap();
    let patch = app
        .patch_me(token, json!({"bio": "line one\nline two\u{0}"}))
        .await;
    let body = assert_problem(patch, 400, "INVALID_INPUT").await;
    assert_eq!(body["errors"][0]["field"], "bio", "{body}");

    // A bio may span lines: line breaks and tabs are not refused there.
    let patch = app
        .patch_me(token, json!({"bio": "line one\n\tline two"}))
        .await;
    assert_eq!(patch.status(), 200);

    // Without any login: the variant route is public.
    let content = app
        .get("/v1/media/0192f4c1-0000-7000-8000-000000000000/%00")
        .await;
    let body = assert_problem(content, 400, "INVALID_INPUT").await;
    assert_eq!(body["errors"][0]["field"], "variant", "{body}");
}

#[tokio::test]
async fn every_status_a_json_route_gives_for_a_bad_body_is_in_the_document() {
    let app = spawn_platform().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    for path in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
    ] {
        // No content type: 415, as the document says.
        let response = send(app.request(Method::POST, path).body("{}")).await;
        assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
        // A body of the wrong shape: 400, as the document says.
        let response = app.post(path, json!({"unexpected": 1})).await;
        let body = assert_problem(response, 400, "INVALID_INPUT").await;
        assert!(
            problem_fields(&body).contains(&"unexpected".to_owned()),
            "{path}: an unknown field is named: {body}"
        );
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in ["400", "413", "415", "429", "503", "504"] {
            assert!(responses[status].is_object(), "{path} declares {status}");
        }
    }
}

#[tokio::test]
async fn what_the_server_refuses_the_document_refuses_too() {
    let app = spawn_platform().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();

    let register = body_schema(&doc, "post", "/v1/auth/register");
    let refused = app.post("/v1/auth/register", json!({})).await;
    let body = assert_problem(refused, 400, "INVALID_INPUT").await;
    assert_eq!(
        problem_fields(&body),
        ["email", "password", "display_name", "region"]
    );
    assert!(!register.is_valid(&json!({})), "the document requires them");

    // The regions are the configured ones.
    let region = &doc["components"]["schemas"]["RegisterBody"]["properties"]["region"];
    assert_eq!(region["enum"], json!(["eu", "us"]));
    let elsewhere = json!({"email": "a@example.com", "password": "long enough", "display_name": "A", "region": "mars"});
    assert!(!register.is_valid(&elsewhere));
    let refused = app.post("/v1/auth/register", elsewhere).await;
    assert_problem(refused, 400, "INVALID_INPUT").await;

    let avatar = body_schema(&doc, "put", "/v1/users/me/avatar");
    assert!(!avatar.is_valid(&json!({"media_id": ""})));
    let (_, _, tokens) = app.register("eu").await;
    let refused = send(
        app.request(Method::PUT, "/v1/users/me/avatar")
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .json(&json!({"media_id": ""})),
    )
    .await;
    assert_problem(refused, 400, "INVALID_INPUT").await;

    // And what it allows, it accepts.
    let fine = json!({"email": "Ada@Example.com", "password": "long enough", "display_name": " Ada ", "region": "us"});
    assert!(register.is_valid(&fine));
    assert_eq!(app.post("/v1/auth/register", fine).await.status(), 201);
}

#[tokio::test]
async fn token_answers_are_never_cached() {
    let app = spawn_platform().await;
    let email = format!("{}@example.com", platform_testkit::unique("nostore"));
    let password = crate::platform::PASSWORD;
    let registered = app.post_registration(&email, "eu").await;
    assert_eq!(registered.status(), 201);
    assert_eq!(registered.headers()["cache-control"], "no-store");
    let login = app.login(&email, password).await;
    assert_eq!(login.headers()["cache-control"], "no-store");
    let tokens: Value = login.json().await.unwrap();
    let refreshed = app.refresh(&tokens["refresh_token"]).await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(refreshed.headers()["cache-control"], "no-store");
}
