//! `media.v1.MediaService`: passes each RPC through the service's validation, calls
//! [`Uploads`] or [`MediaLibrary`] and maps to the wire.
//!
//! Upload chunks arrive as gRPC messages, so each is at most tonic's 4 MiB message limit;
//! senders should use much smaller ones (64 KiB to 1 MiB).

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt as _};
use pb::content_chunk::Part as ContentPart;
use pb::upload_request::Part as UploadPart;
use platform_proto::media::v1 as pb;
use tonic::{Request, Response, Status, Streaming};

use crate::MediaError;
use crate::service::{Media, MediaLibrary, MediaStatus, Uploads, Variant, validation};

pub struct MediaController {
    uploads: Arc<Uploads>,
    library: Arc<MediaLibrary>,
}

impl MediaController {
    pub fn new(uploads: Arc<Uploads>, library: Arc<MediaLibrary>) -> Self {
        Self { uploads, library }
    }
}

#[tonic::async_trait]
impl pb::media_service_server::MediaService for MediaController {
    #[tracing::instrument(skip_all)]
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadRequest>>,
    ) -> Result<Response<pb::Media>, Status> {
        let mut messages = request.into_inner();
        let metadata = match messages.next().await {
            Some(Ok(pb::UploadRequest {
                part: Some(UploadPart::Metadata(metadata)),
            })) => metadata,
            Some(Err(status)) => return Err(interrupted(status).into()),
            _ => {
                return Err(MediaError::invalid(
                    "metadata",
                    "the first message must be the metadata",
                )
                .into());
            }
        };
        let upload = validation::new_upload(metadata.owner_id, metadata.content_type)?;
        let media = self.uploads.upload(upload, chunks(messages)).await?;
        Ok(Response::new(to_wire(media)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_media(
        &self,
        request: Request<pb::GetMediaRequest>,
    ) -> Result<Response<pb::Media>, Status> {
        let media = self.library.get(&request.into_inner().media_id).await?;
        Ok(Response::new(to_wire(media)))
    }

    type GetContentStream = BoxStream<'static, Result<pb::ContentChunk, Status>>;

    #[tracing::instrument(skip_all)]
    async fn get_content(
        &self,
        request: Request<pb::GetContentRequest>,
    ) -> Result<Response<Self::GetContentStream>, Status> {
        let request = request.into_inner();
        let (variant, bytes) = self
            .library
            .content(&request.media_id, &request.variant)
            .await?;
        let description = pb::ContentChunk {
            part: Some(ContentPart::Variant(variant_to_wire(variant))),
        };
        let chunks = bytes.map(|chunk| {
            let bytes = chunk?;
            Ok(pb::ContentChunk {
                part: Some(ContentPart::Chunk(bytes.into())),
            })
        });
        Ok(Response::new(
            stream::once(async { Ok(description) })
                .chain(chunks)
                .boxed(),
        ))
    }
}

/// The bytes of an upload: every message after the metadata, up to `complete`. The stream
/// fails if the messages end without `complete` (an upload cut short must not be stored) or
/// if `complete` names another size than the chunks held.
fn chunks(
    messages: Streaming<pb::UploadRequest>,
) -> impl futures::Stream<Item = Result<Bytes, MediaError>> + Send {
    stream::try_unfold((messages, 0u64), |(mut messages, received)| async move {
        let message = messages
            .next()
            .await
            .ok_or_else(|| {
                MediaError::UploadInterrupted(
                    "the stream ended without the complete message".to_owned(),
                )
            })?
            .map_err(interrupted)?;
        match message.part {
            Some(UploadPart::Chunk(bytes)) => {
                let received = received + bytes.len() as u64;
                Ok(Some((Bytes::from(bytes), (messages, received))))
            }
            Some(UploadPart::Complete(complete)) if complete.size_bytes == received => Ok(None),
            Some(UploadPart::Complete(complete)) => Err(MediaError::invalid(
                "complete.size_bytes",
                format!(
                    "says {} bytes, but the chunks held {received}",
                    complete.size_bytes
                ),
            )),
            Some(UploadPart::Metadata(_)) => Err(MediaError::invalid(
                "metadata",
                "must be sent once, as the first message",
            )),
            None => Err(MediaError::invalid(
                "part",
                "every message must be the metadata, a chunk or complete",
            )),
        }
    })
}

/// The client's stream failed (it cancelled, or sent what does not decode).
fn interrupted(status: Status) -> MediaError {
    MediaError::UploadInterrupted(status.message().to_owned())
}

fn to_wire(media: Media) -> pb::Media {
    let status = match media.status {
        MediaStatus::Pending => pb::MediaStatus::Pending,
        MediaStatus::Processing => pb::MediaStatus::Processing,
        MediaStatus::Ready => pb::MediaStatus::Ready,
        MediaStatus::Failed => pb::MediaStatus::Failed,
    };
    pb::Media {
        id: media.id.to_string(),
        owner_id: media.owner_id,
        status: status.into(),
        content_type: media.content_type,
        width: media.width,
        height: media.height,
        variants: media.variants.into_iter().map(variant_to_wire).collect(),
        error: media.error.unwrap_or_default(),
        size_bytes: media.size_bytes,
        created_at: Some(std::time::SystemTime::from(media.created_at).into()),
        updated_at: Some(std::time::SystemTime::from(media.updated_at).into()),
    }
}

fn variant_to_wire(variant: Variant) -> pb::Variant {
    pb::Variant {
        name: variant.name,
        width: variant.width,
        height: variant.height,
        content_type: variant.content_type,
        size_bytes: variant.size_bytes,
        etag: variant.etag,
    }
}
