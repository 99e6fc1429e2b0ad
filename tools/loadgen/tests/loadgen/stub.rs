//! A tiny in-process stand-in for the gateway: just the routes the journeys and the verifier
//! use, with state a test can read and change (a profile that never comes, a failing PATCH).
//! The access token is the user id; nothing here is secure, and nothing needs to be.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

/// The stub's data, and the faults it is told to have.
#[derive(Default)]
pub struct World {
    /// Email → (password, user id).
    pub accounts: HashMap<String, (String, String)>,
    pub profiles: HashMap<String, Profile>,
    pub media: HashMap<String, Media>,
    pub next_id: u64,
    /// A new profile appears this long after its registration (the event is asynchronous).
    pub profile_delay: Duration,
    /// Every PATCH answers 503 with `Retry-After`, changing nothing.
    pub fail_patches: bool,
    /// Uploads stay `pending` forever.
    pub stuck_uploads: bool,
}

pub struct Profile {
    pub email: String,
    pub bio: String,
    pub avatar: Option<String>,
    pub visible_from: Instant,
}

pub struct Media {
    pub owner: String,
    pub status: &'static str,
    pub error: Option<String>,
}

#[derive(Clone)]
pub struct Stub {
    pub url: String,
    world: Arc<Mutex<World>>,
}

impl Stub {
    /// Serves the stub on a loopback port until the test's runtime ends.
    pub async fn start(world: World) -> Self {
        let world = Arc::new(Mutex::new(world));
        let app = axum::Router::new()
            .route("/v1/auth/register", post(register))
            .route("/v1/auth/login", post(login))
            .route("/v1/users/me", get(me).patch(patch_me))
            .route("/v1/users/me/avatar", put(set_avatar))
            .route("/v1/users/{id}", get(user))
            .route("/v1/media", post(upload))
            .route("/v1/media/{id}", get(media))
            .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, world }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }
}

type Shared = State<Arc<Mutex<World>>>;

fn caller(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

fn tokens(user_id: &str) -> Value {
    json!({ "user_id": user_id, "access_token": user_id, "refresh_token": "r",
            "token_type": "Bearer", "expires_in": 900 })
}

fn status(code: StatusCode) -> Response {
    (code, Json(json!({ "status": code.as_u16() }))).into_response()
}

async fn register(State(world): Shared, Json(body): Json<Value>) -> Response {
    let mut world = world.lock().unwrap();
    let email = body["email"].as_str().unwrap_or_default().to_owned();
    if world.accounts.contains_key(&email) {
        return status(StatusCode::CONFLICT);
    }
    world.next_id += 1;
    let region = body["region"].as_str().unwrap_or("eu");
    let id = format!("{region}_{}", world.next_id);
    let password = body["password"].as_str().unwrap_or_default().to_owned();
    world.accounts.insert(email.clone(), (password, id.clone()));
    let visible_from = Instant::now() + world.profile_delay;
    world.profiles.insert(
        id.clone(),
        Profile {
            email,
            bio: String::new(),
            avatar: None,
            visible_from,
        },
    );
    (StatusCode::CREATED, Json(tokens(&id))).into_response()
}

async fn login(State(world): Shared, Json(body): Json<Value>) -> Response {
    let world = world.lock().unwrap();
    let email = body["email"].as_str().unwrap_or_default();
    match world.accounts.get(email) {
        Some((password, id)) if body["password"].as_str() == Some(password.as_str()) => {
            Json(tokens(id)).into_response()
        }
        _ => status(StatusCode::UNAUTHORIZED),
    }
}

fn profile_json(id: &str, p: &Profile) -> Value {
    let avatar = p
        .avatar
        .as_ref()
        .map(|m| json!({ "media_id": m, "variants": [] }));
    json!({ "id": id, "email": p.email, "display_name": "x", "bio": p.bio, "region": "eu",
            "avatar": avatar, "created_at": "", "updated_at": "" })
}

fn visible<'a>(world: &'a World, id: &str) -> Option<&'a Profile> {
    world
        .profiles
        .get(id)
        .filter(|p| Instant::now() >= p.visible_from)
}

async fn me(State(world): Shared, headers: HeaderMap) -> Response {
    let world = world.lock().unwrap();
    let Some(id) = caller(&headers) else {
        return status(StatusCode::UNAUTHORIZED);
    };
    match visible(&world, &id) {
        Some(p) => Json(profile_json(&id, p)).into_response(),
        None => status(StatusCode::NOT_FOUND),
    }
}

async fn patch_me(State(world): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut world = world.lock().unwrap();
    if world.fail_patches {
        let mut response = status(StatusCode::SERVICE_UNAVAILABLE);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, "1".parse().unwrap());
        return response;
    }
    let id = caller(&headers).unwrap_or_default();
    if visible(&world, &id).is_none() {
        return status(StatusCode::NOT_FOUND);
    }
    let profile = world.profiles.get_mut(&id).unwrap();
    if let Some(bio) = body["bio"].as_str() {
        profile.bio = bio.to_owned();
    }
    Json(profile_json(&id, profile)).into_response()
}

async fn user(State(world): Shared, Path(id): Path<String>) -> Response {
    let world = world.lock().unwrap();
    match visible(&world, &id) {
        Some(p) => Json(profile_json(&id, p)).into_response(),
        None => status(StatusCode::NOT_FOUND),
    }
}

async fn upload(State(world): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut world = world.lock().unwrap();
    let png = body.starts_with(b"\x89PNG")
        && headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()) == Some(b"image/png");
    if !png {
        return status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    world.next_id += 1;
    let id = format!("m{}", world.next_id);
    let owner = caller(&headers).unwrap_or_default();
    let status = if world.stuck_uploads {
        "pending"
    } else {
        "ready"
    };
    world.media.insert(
        id.clone(),
        Media {
            owner,
            status,
            error: None,
        },
    );
    (
        StatusCode::ACCEPTED,
        Json(json!({ "id": id, "status": "pending" })),
    )
        .into_response()
}

async fn media(State(world): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let world = world.lock().unwrap();
    match world.media.get(&id) {
        Some(m) if Some(&m.owner) == caller(&headers).as_ref() => Json(json!({
            "id": id, "owner_id": m.owner, "status": m.status, "error": m.error,
            "content_type": "image/png", "width": 32, "height": 32, "variants": []
        }))
        .into_response(),
        _ => status(StatusCode::NOT_FOUND),
    }
}

async fn set_avatar(State(world): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut world = world.lock().unwrap();
    let id = caller(&headers).unwrap_or_default();
    let media_id = body["media_id"].as_str().unwrap_or_default().to_owned();
    match world.media.get(&media_id) {
        Some(m) if m.owner == id && m.status == "ready" => {}
        Some(_) => return status(StatusCode::CONFLICT),
        None => return status(StatusCode::NOT_FOUND),
    }
    let Some(profile) = world.profiles.get_mut(&id) else {
        return status(StatusCode::NOT_FOUND);
    };
    profile.avatar = Some(media_id);
    Json(profile_json(&id, profile)).into_response()
}
