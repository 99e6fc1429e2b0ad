//! The media service's gRPC client, built the one platform way: what the user service needs
//! to know of a media before it becomes someone's avatar.

use pb::media_service_client::MediaServiceClient;
use platform_grpc::GrpcChannel;
use platform_proto::media::v1 as pb;
use tonic::Code;

use crate::service::AvatarVariant;

/// A media, as far as avatars care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: String,
    pub owner_id: String,
    /// Processed: its variants exist and can be served.
    pub ready: bool,
    /// Empty until ready.
    pub variants: Vec<AvatarVariant>,
}

/// Why the media service could not tell us about a media.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the media service did not answer in time: {0}")]
    Timeout(String),
    #[error("the media service is unavailable: {0}")]
    Unavailable(String),
    #[error("the media service failed")]
    Failed(#[source] tonic::Status),
}

impl From<tonic::Status> for MediaError {
    fn from(status: tonic::Status) -> Self {
        match status.code() {
            // tonic reports a deadline that fired on our side as Cancelled.
            Code::DeadlineExceeded | Code::Cancelled => Self::Timeout(status.message().to_owned()),
            Code::Unavailable => Self::Unavailable(status.message().to_owned()),
            _ => Self::Failed(status),
        }
    }
}

/// A cheap-to-clone handle on the media service.
#[derive(Clone)]
pub struct MediaClient {
    inner: MediaServiceClient<GrpcChannel>,
}

impl MediaClient {
    pub fn new(channel: GrpcChannel) -> Self {
        Self {
            inner: MediaServiceClient::new(channel),
        }
    }

    /// The media `id`, or `None` when there is no such media. A read, so it is retried if
    /// the replica it reached went away; each attempt has the channel's deadline.
    pub async fn find(&self, id: &str) -> Result<Option<Media>, MediaError> {
        let request = pb::GetMediaRequest {
            media_id: id.to_owned(),
        };
        let found = platform_grpc::retry_idempotent_unary(
            &self.inner,
            request,
            async |mut client, request| client.get_media(request).await,
        )
        .await;
        match found {
            Ok(media) => Ok(Some(media.into())),
            // An id that cannot name a media (malformed) is as unknown as one that names none.
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Ok(None)
            }
            Err(status) => Err(status.into()),
        }
    }
}

impl From<pb::Media> for Media {
    fn from(media: pb::Media) -> Self {
        Self {
            ready: media.status() == pb::MediaStatus::Ready,
            variants: media
                .variants
                .into_iter()
                .map(|v| AvatarVariant {
                    name: v.name,
                    width: v.width,
                    height: v.height,
                })
                .collect(),
            id: media.id,
            owner_id: media.owner_id,
        }
    }
}
