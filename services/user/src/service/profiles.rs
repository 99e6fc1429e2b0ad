//! Reading and changing profiles: route by the id's region, read through the cache, load a
//! missing entry once however many ask at the same time, invalidate on every write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use platform_domain::{DisplayName, Region, UserId};
use platform_kafka::idempotency::Token;

use crate::UserError;
use crate::data::{Cached, ProfileCache, ProfileStore, SingleFlight};
use crate::service::{Avatar, NewProfile, Profile};

/// A partial update, validated (`service::validation::patch`); `None` leaves the field
/// unchanged.
#[derive(Debug, Default)]
pub struct ProfilePatch {
    pub display_name: Option<DisplayName>,
    pub bio: Option<String>,
}

type Load = Result<Option<Profile>, UserError>;

/// Longer than one cache-miss load takes (a Postgres read and a Redis write, each bounded).
const SECOND_INVALIDATION_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Profiles {
    store: ProfileStore,
    cache: ProfileCache,
    loads: Arc<SingleFlight<Load>>,
}

impl Profiles {
    pub fn new(store: ProfileStore, cache: ProfileCache) -> Self {
        Self {
            store,
            cache,
            loads: Arc::default(),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = id))]
    pub async fn get(&self, id: &str) -> Result<Profile, UserError> {
        let user_id = self.shard_of(id)?;
        match self.cache.get(id).await {
            Some(Cached::Hit(profile)) => return Ok(profile),
            Some(Cached::Absent) => return Err(UserError::NotFound),
            Some(Cached::Miss) | None => {}
        }
        let (store, cache) = (self.store.clone(), self.cache.clone());
        let loaded = self
            .loads
            .run(id, move || async move {
                let found = store.find(&user_id).await?;
                match &found {
                    Some(profile) => cache.put(profile).await,
                    None => cache.put_absent(user_id.as_ref()).await,
                }
                Ok(found)
            })
            .await?;
        loaded.ok_or(UserError::NotFound)
    }

    /// The profiles of `ids` that exist, in the order asked: cache first, then one query per
    /// shard for the rest, the shards asked concurrently.
    #[tracing::instrument(skip_all, fields(count = ids.len()))]
    pub async fn get_many(&self, ids: &[String]) -> Result<Vec<Profile>, UserError> {
        let user_ids: Vec<UserId> = ids.iter().filter_map(|id| self.shard_of(id).ok()).collect();
        let ids: Vec<String> = user_ids.iter().map(ToString::to_string).collect();
        let cached = self
            .cache
            .get_many(&ids)
            .await
            .unwrap_or_else(|| vec![Cached::Miss; ids.len()]);
        let mut found: HashMap<String, Profile> = HashMap::new();
        let mut missing: BTreeMap<&Region, Vec<UserId>> = BTreeMap::new();
        for (id, cached) in user_ids.iter().zip(cached) {
            match cached {
                Cached::Hit(profile) => {
                    found.insert(id.to_string(), profile);
                }
                Cached::Absent => {}
                Cached::Miss => missing.entry(id.region()).or_default().push(id.clone()),
            }
        }
        let loads = missing
            .iter()
            .map(|(region, ids)| self.store.find_many(region, ids));
        for loaded in futures::future::join_all(loads).await {
            for profile in loaded? {
                self.cache.put(&profile).await;
                found.insert(profile.id.clone(), profile);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    #[tracing::instrument(skip_all, fields(user_id = id))]
    pub async fn update(&self, id: &str, patch: ProfilePatch) -> Result<Profile, UserError> {
        let user_id = self.shard_of(id)?;
        let updated = self
            .store
            .update(
                &user_id,
                patch.display_name.as_ref().map(AsRef::as_ref),
                patch.bio.as_deref(),
            )
            .await?;
        // Invalidate even when nothing matched: a stale "absent" must not hide a new user.
        self.cache.invalidate(id).await;
        updated.ok_or(UserError::NotFound)
    }

    /// Stores `avatar` as the user's profile picture. Whether it may be is the caller's
    /// question (see `Avatars`); this is the write, and the invalidation every write makes.
    #[tracing::instrument(skip_all, fields(user_id = id))]
    pub async fn set_avatar(&self, id: &str, avatar: &Avatar) -> Result<Profile, UserError> {
        let user_id = self.shard_of(id)?;
        let updated = self.store.set_avatar(&user_id, avatar).await?;
        self.cache.invalidate(id).await;
        updated.ok_or(UserError::NotFound)
    }

    /// Creates the profile of a newly registered user in its home shard, once per event.
    #[tracing::instrument(skip_all, fields(user_id = %profile.id))]
    pub async fn create(&self, once: Token, profile: NewProfile) -> Result<(), UserError> {
        let region = self.shard_of(&profile.id)?.region().clone();
        if region != *profile.region {
            return Err(UserError::InvalidInput(vec![
                crate::error::FieldViolation {
                    field: "region",
                    description: format!(
                        "{} does not match the id's region {region}",
                        profile.region
                    ),
                },
            ]));
        }
        let created = self.store.create_once(once, &profile).await?;
        // A read before the event arrived may have cached the user as absent. A read that
        // missed just before the insert can still write "absent" just after this delete, so
        // delete once more when any such read has finished (a load is bounded by its deadlines).
        self.cache.invalidate(&profile.id).await;
        let (cache, id) = (self.cache.clone(), profile.id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(SECOND_INVALIDATION_AFTER).await;
            cache.invalidate(&id).await;
        });
        if created {
            tracing::info!("profile created");
        } else {
            tracing::info!("event already applied; nothing to do");
        }
        Ok(())
    }

    /// `id` parsed, if its region has a shard here; any other id cannot exist.
    fn shard_of(&self, id: &str) -> Result<UserId, UserError> {
        UserId::parse(id)
            .ok()
            .filter(|id| self.store.serves(id.region()))
            .ok_or(UserError::NotFound)
    }
}
