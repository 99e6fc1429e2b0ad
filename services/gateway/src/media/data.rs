//! The media service's gRPC client, built the one platform way: metadata reads, content
//! streamed out, uploads streamed in (with a deadline of their own).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt as _};
use pb::media_service_client::MediaServiceClient;
use pb::{content_chunk, upload_request};
use platform_grpc::GrpcChannel;
use platform_proto::media::v1 as pb;
use tokio::sync::oneshot;
use tonic::{Code, Status};

/// The largest chunk sent in one upload message: far below gRPC's 4 MiB message limit, and
/// small enough that nothing sizeable is held in memory per upload.
const UPLOAD_CHUNK_BYTES: usize = 64 * 1024;

/// A cheap-to-clone handle on the media service.
#[derive(Clone)]
pub struct MediaClient {
    reads: MediaServiceClient<GrpcChannel>,
    uploads: MediaServiceClient<GrpcChannel>,
    channel: GrpcChannel,
    /// How long a content stream may go without a message before it is given up.
    stall_timeout: Duration,
}

/// One variant's bytes, on their way: the description first (type, size, ETag), then the
/// bytes as the media service sends them.
pub struct Content {
    pub variant: pb::Variant,
    pub bytes: BoxStream<'static, Result<Bytes, Status>>,
}

/// Why an upload did not complete.
#[derive(Debug)]
pub enum UploadError<E> {
    /// The request body failed (too large, or the client went away); the call to the media
    /// service was abandoned, so it keeps nothing.
    Body(E),
    /// The media service refused the size (RESOURCE_EXHAUSTED, by the Upload contract).
    TooLarge,
    Upstream(Status),
}

impl<E> From<Status> for UploadError<E> {
    fn from(status: Status) -> Self {
        if status.code() == Code::ResourceExhausted {
            Self::TooLarge
        } else {
            Self::Upstream(status)
        }
    }
}

impl MediaClient {
    /// `deadline` bounds each read and each wait for the next piece of content;
    /// `upload_deadline` bounds a whole upload.
    pub fn new(channel: GrpcChannel, deadline: Duration, upload_deadline: Duration) -> Self {
        Self {
            reads: MediaServiceClient::new(channel.with_deadline(deadline)),
            uploads: MediaServiceClient::new(channel.with_deadline(upload_deadline)),
            channel,
            stall_timeout: deadline,
        }
    }

    /// A read, so it is retried if the replica it reached went away.
    pub async fn get(&self, media_id: &str) -> Result<pb::Media, Status> {
        let request = pb::GetMediaRequest {
            media_id: media_id.to_owned(),
        };
        platform_grpc::retry_idempotent_unary(&self.reads, request, async |mut client, request| {
            client.get_media(request).await
        })
        .await
    }

    /// Opens one variant's content. Opening is retried like any read; once the description
    /// has arrived, the bytes follow as a stream that fails if the media service stalls.
    pub async fn content(&self, media_id: &str, variant: &str) -> Result<Content, Status> {
        let request = pb::GetContentRequest {
            media_id: media_id.to_owned(),
            variant: variant.to_owned(),
        };
        let mut stream = platform_grpc::retry_idempotent_unary(
            &self.reads,
            request,
            async |mut client, request| client.get_content(request).await,
        )
        .await?;
        let stall = self.stall_timeout;
        let first = tokio::time::timeout(stall, stream.message())
            .await
            .map_err(|_| stalled(stall))??;
        let Some(pb::ContentChunk {
            part: Some(content_chunk::Part::Variant(variant)),
        }) = first
        else {
            return Err(Status::internal(
                "the media service's content did not start with the variant",
            ));
        };
        let bytes = futures::stream::unfold(stream, move |mut stream| async move {
            let next = match tokio::time::timeout(stall, stream.message()).await {
                Err(_) => Err(stalled(stall)),
                Ok(Ok(None)) => return None,
                Ok(Ok(Some(pb::ContentChunk {
                    part: Some(content_chunk::Part::Chunk(chunk)),
                }))) => Ok(Bytes::from(chunk)),
                Ok(Ok(Some(_))) => Err(Status::internal(
                    "the media service sent a second variant description",
                )),
                Ok(Err(status)) => Err(status),
            };
            Some((next, stream))
        })
        .boxed();
        Ok(Content { variant, bytes })
    }

    /// Streams an upload to the media service: the metadata, then `body` as it arrives, never
    /// held whole, then the `complete` message with the size sent. If `body` fails, the call
    /// is dropped without `complete` (HTTP/2 RST_STREAM CANCEL), so the media service keeps
    /// nothing, and the body's error comes back as [`UploadError::Body`].
    ///
    /// Why `complete` exists: tonic 0.14's server presents a request stream that its client
    /// cancelled as a clean end (`Streaming::message` gives `Ok(None)`), so a server cannot
    /// tell a cancelled upload from a finished one by the stream alone.
    //
    // Not an `async fn`: borrowing `self` across the client-streaming call leaves rustc unable
    // to prove the future `Send` for every lifetime of the borrow (a known limitation of its
    // auto-trait checks), which axum handlers need. The future owns a clone of the client.
    pub fn upload<E>(
        &self,
        owner_id: String,
        content_type: String,
        body: impl Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    ) -> impl Future<Output = Result<pb::Media, UploadError<E>>> + Send + 'static
    where
        E: Send + 'static,
    {
        let mut client = self.uploads.clone();
        async move {
            let (failed, body_failed) = oneshot::channel();
            let requests = UploadRequests {
                metadata: Some(pb::UploadMetadata {
                    owner_id,
                    content_type,
                }),
                body,
                rest: Bytes::new(),
                sent: 0,
                finished: false,
                failed: Some(failed),
            };
            tokio::select! {
                // The body's error, if any, wins: the call is dropped with this future.
                Ok(error) = body_failed => Err(UploadError::Body(error)),
                uploaded = client.upload(requests) => Ok(uploaded?.into_inner()),
            }
        }
    }

    /// Readiness: does the media service report itself serving?
    pub async fn check(&self) -> Result<(), String> {
        platform_grpc::health_check(self.channel.clone(), "media.v1.MediaService").await
    }
}

fn stalled(after: Duration) -> Status {
    Status::deadline_exceeded(format!("the media service sent nothing for {after:?}"))
}

/// The messages of one upload: the metadata, then the body in chunks of at most
/// [`UPLOAD_CHUNK_BYTES`], then `complete` once the body has ended well.
struct UploadRequests<S, E> {
    metadata: Option<pb::UploadMetadata>,
    body: S,
    /// What is left of the body's last frame.
    rest: Bytes,
    /// Bytes sent in chunks so far.
    sent: u64,
    /// `complete` has been sent: the stream ends.
    finished: bool,
    /// Taken when the body fails.
    failed: Option<oneshot::Sender<E>>,
}

impl<S, E> Stream for UploadRequests<S, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = pb::UploadRequest;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(metadata) = this.metadata.take() {
            return Poll::Ready(Some(part(upload_request::Part::Metadata(metadata))));
        }
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if !this.rest.is_empty() {
                let chunk = this.rest.split_to(this.rest.len().min(UPLOAD_CHUNK_BYTES));
                this.sent += chunk.len() as u64;
                return Poll::Ready(Some(part(upload_request::Part::Chunk(chunk.into()))));
            }
            if this.failed.is_none() {
                // The body failed: never send `complete`; the call is being dropped instead.
                return Poll::Pending;
            }
            match ready!(this.body.poll_next_unpin(cx)) {
                Some(Ok(bytes)) => this.rest = bytes,
                Some(Err(error)) => {
                    if let Some(failed) = this.failed.take() {
                        // The receiver is gone only if the call has already finished.
                        let _ = failed.send(error);
                    }
                    return Poll::Pending;
                }
                None => {
                    this.finished = true;
                    let complete = pb::UploadComplete {
                        size_bytes: this.sent,
                    };
                    return Poll::Ready(Some(part(upload_request::Part::Complete(complete))));
                }
            }
        }
    }
}

fn part(part: upload_request::Part) -> pb::UploadRequest {
    pb::UploadRequest { part: Some(part) }
}
