//! Picking an avatar: only a ready media of one's own, as the media service says within its
//! deadline; the new avatar shows at once, cache or not.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use platform_grpc::GrpcClientSettings;
use platform_proto::media::v1 as media_pb;
use platform_proto::media::v1::MediaStatus;
use platform_proto::user::v1::{Profile, SetAvatarRequest};
use platform_testkit::{black_hole, error_reason, violated_fields};
use tonic::Code;

use crate::helpers::{TestUser, get, new_id, spawn_user_with};

async fn spawn_with_media() -> (TestUser, StubMedia) {
    let (addr, media) = StubMedia::spawn().await;
    let user = spawn_user_with(|settings| {
        settings.avatars_mut().media = GrpcClientSettings::for_tests("media", addr);
    })
    .await;
    (user, media)
}

fn set(user_id: &str, media_id: &str) -> SetAvatarRequest {
    SetAvatarRequest {
        user_id: user_id.to_owned(),
        media_id: media_id.to_owned(),
    }
}

impl TestUser {
    /// `SetAvatar`: `media_id` becomes `user_id`'s avatar.
    async fn set_avatar(&self, user_id: &str, media_id: &str) -> Result<Profile, tonic::Status> {
        self.client()
            .set_avatar(set(user_id, media_id))
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Asserts a failed call with `code` and the machine `reason`.
fn assert_status(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(error_reason(status), reason, "{status:?}");
}

#[tokio::test]
async fn a_ready_media_of_ones_own_becomes_the_avatar() {
    let (user, media) = spawn_with_media().await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;
    let media_id = media.add(&id, MediaStatus::Ready);

    let profile = user.set_avatar(&id, &media_id).await.unwrap();

    let avatar = profile.avatar.expect("the profile carries the avatar");
    assert_eq!(avatar.media_id, media_id);
    let sizes: Vec<_> = avatar
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.width, v.height))
        .collect();
    assert_eq!(sizes, [("original", 2400, 1600), ("thumb", 192, 128)]);
}

#[tokio::test]
async fn the_cached_profile_shows_the_new_avatar_at_once() {
    let (user, media) = spawn_with_media().await;
    let id = new_id("us");
    user.seed(&id, "Grace").await;
    let mut client = user.client();
    let before = client.get_user(get(&id)).await.unwrap().into_inner();
    assert!(before.avatar.is_none()); // and now cached without one

    let media_id = media.add(&id, MediaStatus::Ready);
    client.set_avatar(set(&id, &media_id)).await.unwrap();

    let after = client.get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(after.avatar.map(|a| a.media_id), Some(media_id));
}

#[tokio::test]
async fn anything_but_a_ready_media_of_ones_own_is_refused_saying_why() {
    let (user, media) = spawn_with_media().await;
    let (ada, grace, nobody) = (new_id("eu"), new_id("eu"), new_id("eu"));
    user.seed(&ada, "Ada").await;
    let refused =
        async |user_id: &str, media_id: &str| user.set_avatar(user_id, media_id).await.unwrap_err();

    let graces = media.add(&grace, MediaStatus::Ready);
    let status = refused(&ada, &graces).await;
    assert_status(&status, Code::FailedPrecondition, "MEDIA_NOT_YOURS");

    for not_ready in [
        MediaStatus::Pending,
        MediaStatus::Processing,
        MediaStatus::Failed,
    ] {
        let status = refused(&ada, &media.add(&ada, not_ready)).await;
        assert_status(&status, Code::FailedPrecondition, "MEDIA_NOT_READY");
    }

    let unknown = uuid::Uuid::now_v7().to_string();
    let status = refused(&ada, &unknown).await;
    assert_status(&status, Code::NotFound, "MEDIA_NOT_FOUND");

    let nobodys = media.add(&nobody, MediaStatus::Ready);
    let status = refused(&nobody, &nobodys).await;
    assert_status(&status, Code::NotFound, "USER_NOT_FOUND");

    let status = refused(&ada, "").await;
    assert_status(&status, Code::InvalidArgument, "INVALID_INPUT");
    assert_eq!(violated_fields(&status)[0], "media_id");
}

#[tokio::test]
async fn a_silent_media_service_is_a_deadline_exceeded_within_its_deadline() {
    let silent = black_hole().await;
    let deadline = Duration::from_millis(300);
    let user = spawn_user_with(move |settings| {
        settings.avatars_mut().media = GrpcClientSettings::for_tests("media", silent);
        settings.avatars_mut().media.request_timeout = deadline;
    })
    .await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;

    let started = Instant::now();
    let media_id = uuid::Uuid::now_v7().to_string();
    let status = user.set_avatar(&id, &media_id).await.unwrap_err();
    assert_status(&status, Code::DeadlineExceeded, "MEDIA_TIMEOUT");
    assert!(
        started.elapsed() < deadline + Duration::from_secs(1),
        "answered after {:?}",
        started.elapsed()
    );
}

/// A media service that knows the media a test gives it. Only `GetMedia` is served: it is
/// all the user service asks.
#[derive(Clone, Default)]
pub struct StubMedia {
    media: Arc<Mutex<HashMap<String, media_pb::Media>>>,
}

impl StubMedia {
    /// Starts a stub with no media; returns its address and a handle to add some.
    pub async fn spawn() -> (SocketAddr, Self) {
        use media_pb::media_service_server::MediaServiceServer;
        let stub = Self::default();
        let server =
            platform_grpc::GrpcServer::new().add_service(MediaServiceServer::new(stub.clone()));
        (platform_testkit::serve_stub(server).await, stub)
    }

    /// Adds a media owned by `owner_id` in `status`; a ready one has two variants. Returns
    /// its id.
    pub fn add(&self, owner_id: &str, status: media_pb::MediaStatus) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let ready = status == media_pb::MediaStatus::Ready;
        let variant = |name: &str, width, height| media_pb::Variant {
            name: name.to_owned(),
            width,
            height,
            content_type: "image/jpeg".to_owned(),
            size_bytes: 1000,
            etag: "0".repeat(64),
        };
        let media = media_pb::Media {
            id: id.clone(),
            owner_id: owner_id.to_owned(),
            status: status.into(),
            content_type: "image/jpeg".to_owned(),
            width: if ready { 2400 } else { 0 },
            height: if ready { 1600 } else { 0 },
            variants: if ready {
                vec![variant("original", 2400, 1600), variant("thumb", 192, 128)]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        self.media.lock().unwrap().insert(id.clone(), media);
        id
    }
}

#[tonic::async_trait]
impl media_pb::media_service_server::MediaService for StubMedia {
    async fn upload(
        &self,
        _: tonic::Request<tonic::Streaming<media_pb::UploadRequest>>,
    ) -> Result<tonic::Response<media_pb::Media>, tonic::Status> {
        Err(tonic::Status::unimplemented(
            "the stub only answers GetMedia",
        ))
    }

    async fn get_media(
        &self,
        request: tonic::Request<media_pb::GetMediaRequest>,
    ) -> Result<tonic::Response<media_pb::Media>, tonic::Status> {
        let id = request.into_inner().media_id;
        let found = self.media.lock().unwrap().get(&id).cloned();
        found
            .map(tonic::Response::new)
            .ok_or_else(|| tonic::Status::not_found("no such media"))
    }

    type GetContentStream = futures::stream::Empty<Result<media_pb::ContentChunk, tonic::Status>>;

    async fn get_content(
        &self,
        _: tonic::Request<media_pb::GetContentRequest>,
    ) -> Result<tonic::Response<Self::GetContentStream>, tonic::Status> {
        Err(tonic::Status::unimplemented(
            "the stub only answers GetMedia",
        ))
    }
}
