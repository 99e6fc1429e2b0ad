//! The `media` and `media_variants` tables: what was uploaded, and what the worker made of it.

use std::num::TryFromIntError;

use platform_kafka::idempotency::Token;
use platform_kafka::{OutboxRelay, outbox};
use platform_postgres::bounded;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::MediaError;
use crate::data::events;
use crate::service::{Applied, Media, MediaStatus, NewMedia, Outcome, Variant};

#[derive(sqlx::FromRow)]
struct MediaRow {
    id: Uuid,
    owner_id: String,
    #[sqlx(try_from = "String")]
    status: MediaStatus,
    content_type: String,
    size_bytes: i64,
    object_key: String,
    width: Option<i32>,
    height: Option<i32>,
    error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// A variant's columns in a left join: all null when there is no variant.
#[derive(sqlx::FromRow)]
struct VariantColumns {
    variant_name: Option<String>,
    variant_width: Option<i32>,
    variant_height: Option<i32>,
    variant_content_type: Option<String>,
    variant_size_bytes: Option<i64>,
    variant_object_key: Option<String>,
    variant_etag: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MediaWithVariant {
    #[sqlx(flatten)]
    media: MediaRow,
    #[sqlx(flatten)]
    variant: VariantColumns,
}

const MEDIA_COLUMNS: &str = "id, owner_id, status, content_type, size_bytes, object_key, width, \
     height, error, created_at, updated_at";

const JOINED_VARIANT_COLUMNS: &str = "v.name as variant_name, v.width as variant_width, \
     v.height as variant_height, v.content_type as variant_content_type, \
     v.size_bytes as variant_size_bytes, v.object_key as variant_object_key, \
     v.etag as variant_etag";

#[derive(Clone)]
pub struct MediaStore {
    pool: PgPool,
    relay: OutboxRelay,
}

impl MediaStore {
    /// `relay` is woken after an upload commits, so its event leaves at once.
    pub fn new(pool: PgPool, relay: OutboxRelay) -> Self {
        Self { pool, relay }
    }

    /// Records the upload as pending and enqueues `media.uploaded`, in one transaction: a
    /// media either exists and is announced, or neither.
    pub async fn create(&self, new: &NewMedia) -> Result<Media, MediaError> {
        let mut tx = bounded(self.pool.begin()).await?;
        let row: MediaRow = bounded(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "insert into media (id, owner_id, content_type, size_bytes, object_key) \
             values ($1, $2, $3, $4, $5) returning {MEDIA_COLUMNS}"
            )))
            .bind(new.id)
            .bind(&new.owner_id)
            .bind(&new.content_type)
            .bind(signed::<_, i64>(new.size_bytes)?)
            .bind(&new.object_key)
            .fetch_one(&mut *tx),
        )
        .await?;
        let media = row.into_media(Vec::new());
        outbox::enqueue(&mut tx, &events::media_uploaded(&media)).await?;
        bounded(tx.commit()).await?;
        self.relay.wake();
        Ok(media)
    }

    /// How many media wait for the worker (`pending`), counted up to `up_to` and no further:
    /// the answer is at most `up_to`, and the count reads at most that many entries of
    /// `media_pending_idx`, however long the backlog.
    pub async fn count_pending(&self, up_to: u32) -> Result<u32, MediaError> {
        let waiting: i64 = bounded(
            sqlx::query_scalar(
                "select count(*) from \
                 (select 1 from media where status = 'pending' limit $1) as waiting",
            )
            .bind(i64::from(up_to))
            .fetch_one(&self.pool),
        )
        .await?;
        signed(waiting)
    }

    /// The media with its variants, smallest first, read in one statement so the status and
    /// the variants agree.
    pub async fn find(&self, id: Uuid) -> Result<Option<Media>, MediaError> {
        let rows: Vec<MediaWithVariant> = bounded(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select m.id, m.owner_id, m.status, m.content_type, m.size_bytes, m.object_key, \
                    m.width, m.height, m.error, m.created_at, m.updated_at, {JOINED_VARIANT_COLUMNS} \
             from media m left join media_variants v on v.media_id = m.id \
             where m.id = $1 \
             order by v.width, v.height, v.name"
        )))
        .bind(id)
        .fetch_all(&self.pool))
        .await?;
        // One row per variant (one with null variant columns when there is none), each
        // repeating the media.
        let mut media = None;
        let mut variants = Vec::new();
        for row in rows {
            variants.extend(row.variant.into_variant());
            media.get_or_insert(row.media);
        }
        Ok(media.map(|media| media.into_media(variants)))
    }

    /// One variant of a media: [`MediaError::NotFound`] without the media,
    /// [`MediaError::VariantNotFound`] without the variant.
    pub async fn find_variant(&self, media_id: Uuid, name: &str) -> Result<Variant, MediaError> {
        let found: Option<VariantColumns> = bounded(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {JOINED_VARIANT_COLUMNS} \
             from media m left join media_variants v on v.media_id = m.id and v.name = $2 \
             where m.id = $1"
            )))
            .bind(media_id)
            .bind(name)
            .fetch_optional(&self.pool),
        )
        .await?;
        found
            .ok_or(MediaError::NotFound)?
            .into_variant()
            .ok_or(MediaError::VariantNotFound)
    }

    /// Records the worker's verdict unless the event `once` names was applied before or the
    /// media already has one. The event is recorded in the same transaction as the change, so
    /// a redelivery changes nothing.
    pub async fn apply(
        &self,
        once: Token,
        media_id: Uuid,
        outcome: &Outcome,
    ) -> Result<Applied, MediaError> {
        let mut tx = bounded(self.pool.begin()).await?;
        if !once.first_delivery(&mut tx).await? {
            return Ok(Applied::Duplicate);
        }
        // Locked, so a concurrent redelivery on another replica waits for this verdict.
        let status: Option<String> = bounded(
            sqlx::query_scalar("select status from media where id = $1 for update")
                .bind(media_id)
                .fetch_optional(&mut *tx),
        )
        .await?;
        let Some(status) = status else {
            // Rolled back: the event stays unapplied, should it be replayed once the media exists.
            return Ok(Applied::UnknownMedia);
        };
        let status = MediaStatus::try_from(status).map_err(anyhow::Error::msg)?;
        if status.is_final() {
            bounded(tx.commit()).await?;
            return Ok(Applied::AlreadyFinal(status));
        }
        match outcome {
            Outcome::Ready {
                width,
                height,
                variants,
            } => mark_ready(&mut tx, media_id, *width, *height, variants).await?,
            Outcome::Failed { error } => mark_failed(&mut tx, media_id, error).await?,
        }
        bounded(tx.commit()).await?;
        Ok(Applied::Applied)
    }
}

async fn mark_ready(
    conn: &mut PgConnection,
    media_id: Uuid,
    width: u32,
    height: u32,
    variants: &[Variant],
) -> Result<(), MediaError> {
    bounded(
        sqlx::query(
            "update media set status = 'ready', width = $2, height = $3, error = null, \
         updated_at = now() where id = $1",
        )
        .bind(media_id)
        .bind(signed::<_, i32>(width)?)
        .bind(signed::<_, i32>(height)?)
        .execute(&mut *conn),
    )
    .await?;
    let column = |field: fn(&Variant) -> String| variants.iter().map(field).collect::<Vec<_>>();
    let dimension = |field: fn(&Variant) -> u32| {
        variants
            .iter()
            .map(|v| signed::<_, i32>(field(v)))
            .collect::<Result<Vec<_>, _>>()
    };
    let sizes = variants
        .iter()
        .map(|v| signed::<_, i64>(v.size_bytes))
        .collect::<Result<Vec<_>, _>>()?;
    bounded(
        sqlx::query(
            "insert into media_variants \
             (media_id, name, width, height, content_type, size_bytes, object_key, etag) \
         select $1, * from unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::bigint[], \
                                  $7::text[], $8::text[])",
        )
        .bind(media_id)
        .bind(column(|v| v.name.clone()))
        .bind(dimension(|v| v.width)?)
        .bind(dimension(|v| v.height)?)
        .bind(column(|v| v.content_type.clone()))
        .bind(sizes)
        .bind(column(|v| v.object_key.clone()))
        .bind(column(|v| v.etag.clone()))
        .execute(&mut *conn),
    )
    .await?;
    Ok(())
}

async fn mark_failed(
    conn: &mut PgConnection,
    media_id: Uuid,
    error: &str,
) -> Result<(), MediaError> {
    bounded(
        sqlx::query(
            "update media set status = 'failed', error = $2, updated_at = now() where id = $1",
        )
        .bind(media_id)
        .bind(error)
        .execute(conn),
    )
    .await?;
    Ok(())
}

impl MediaRow {
    fn into_media(self, variants: Vec<Variant>) -> Media {
        Media {
            id: self.id,
            owner_id: self.owner_id,
            status: self.status,
            content_type: self.content_type,
            size_bytes: unsigned(self.size_bytes),
            object_key: self.object_key,
            width: self.width.map_or(0, unsigned),
            height: self.height.map_or(0, unsigned),
            error: self.error,
            variants,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl VariantColumns {
    /// The variant, or `None` when the join found none.
    fn into_variant(self) -> Option<Variant> {
        Some(Variant {
            name: self.variant_name?,
            width: unsigned(self.variant_width?),
            height: unsigned(self.variant_height?),
            content_type: self.variant_content_type?,
            size_bytes: unsigned(self.variant_size_bytes?),
            object_key: self.variant_object_key?,
            etag: self.variant_etag?,
        })
    }
}

/// A stored count as unsigned; the tables' check constraints keep them positive.
fn unsigned<T, U>(value: T) -> U
where
    U: TryFrom<T> + Default,
{
    U::try_from(value).unwrap_or_default()
}

/// An unsigned value as the signed column type, refused if it does not fit (the service
/// validates events first, so this guards only against a bug).
fn signed<T, U>(value: T) -> Result<U, MediaError>
where
    U: TryFrom<T, Error = TryFromIntError>,
{
    U::try_from(value).map_err(|e| MediaError::Unexpected(anyhow::Error::new(e)))
}
