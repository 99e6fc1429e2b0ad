//! A virtual user: registers its own account, then runs journeys on it one at a time, so its
//! writes reach the platform in order and "the last acknowledged bio" means what it says.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{Journey, RunConfig};
use crate::http::{Api, Body, Outcome, Route};
use crate::ledger::{Account, Ledger, NewAccount};
use crate::rng::Rng;

/// Registration attempts of one virtual user before it gives up (each with a new email).
const REGISTER_ATTEMPTS: u32 = 5;
/// How long a new account waits for its profile, created from the `user.registered` event.
const PROFILE_WAIT: Duration = Duration::from_secs(15);
/// Polls of an upload's status before the journey moves on without an avatar.
const MEDIA_POLLS: u32 = 60;
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Side of the `upload` journey's image: about 200 KB of noise, a small photo's cost to the
/// worker.
const UPLOAD_SIDE: u32 = 256;

/// What every virtual user of a run shares.
pub(crate) struct Shared {
    pub(crate) api: Api,
    pub(crate) config: RunConfig,
    /// Makes emails and bios unique across runs against the same platform.
    pub(crate) run_id: String,
    pub(crate) ledger: Mutex<Ledger>,
    /// Ids of accounts whose profile has been seen, for `read_other`.
    pub(crate) directory: Mutex<Vec<String>>,
    pub(crate) journeys: Mutex<BTreeMap<&'static str, u64>>,
    /// Numbers each bio and each image of the run.
    pub(crate) writes: AtomicU64,
    /// Cancelled when the run's time is up (or it is stopped): no new request starts.
    pub(crate) stop: CancellationToken,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking virtual user must not take the ledger of the others with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Waits `pause`, or less if the run stops meanwhile; false when it has stopped.
    async fn pause(&self, pause: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(pause) => !self.stopping(),
            () = self.stop.cancelled() => false,
        }
    }

    fn count(&self, name: &'static str) {
        *lock(&self.journeys).entry(name).or_default() += 1;
    }

    fn next_write(&self) -> u64 {
        self.writes.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a request and, after a 429 or 503, holds this user back for its `Retry-After`
    /// (capped) instead of sending again at once: errors are counted, not retried.
    async fn call(&self, route: &Route, path: &str, token: Option<&str>, body: Body) -> Outcome {
        let outcome = self.api.send(route, path, token, body).await;
        if let Some(pause) = outcome.back_off() {
            self.pause(pause).await;
        }
        outcome
    }
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct MediaStatus {
    status: String,
}

/// One account and its session.
pub(crate) struct VirtualUser {
    account: Account,
    token: String,
    /// When the access token should be replaced: before it expires, so journeys are not
    /// spoilt by 401s on long runs.
    renew_at: Instant,
    rng: Rng,
    in_directory: bool,
}

impl VirtualUser {
    /// Registers account number `index` (retrying with a new email after an error, a few
    /// times) and waits for its profile to exist. `None` if the run stopped or every attempt
    /// failed.
    pub(crate) async fn register(shared: &Shared, index: u64) -> Option<Self> {
        let config = &shared.config;
        let mut rng = Rng::derive(config.seed, index);
        let region = &config.regions[(index % config.regions.len() as u64) as usize];
        for attempt in 0..REGISTER_ATTEMPTS {
            if shared.stopping() {
                return None;
            }
            let new = NewAccount {
                email: format!("lg-{}-{index}-{attempt}@example.com", shared.run_id),
                password: format!("lg-{:016x}", rng.next_u64()),
                display_name: format!("Loadgen {index}"),
                region: region.clone(),
            };
            let body = json!({
                "email": new.email, "password": new.password,
                "display_name": new.display_name, "region": new.region,
            });
            let outcome = shared
                .call(
                    &Route::REGISTER,
                    "/v1/auth/register",
                    None,
                    Body::Json(body),
                )
                .await;
            let account = shared.ledger().record_registration(&new, &outcome);
            if let (Some(account), Some(tokens)) = (account, outcome.json::<Tokens>()) {
                shared.count("register");
                let mut user = Self {
                    account,
                    token: String::new(),
                    renew_at: Instant::now(),
                    rng,
                    in_directory: false,
                };
                user.take(tokens);
                user.await_profile(shared).await;
                return Some(user);
            }
            if outcome.back_off().is_none() && !shared.pause(Duration::from_secs(1)).await {
                return None;
            }
        }
        None
    }

    /// Runs one journey (logging in again first when the token is about to expire).
    pub(crate) async fn journey(&mut self, shared: &Shared, journey: Journey) {
        if shared.stopping() {
            return;
        }
        if Instant::now() >= self.renew_at {
            self.login(shared).await;
        }
        match journey {
            Journey::Login => self.login(shared).await,
            Journey::ReadMe => {
                self.read_me(shared, &Route::ME).await;
            }
            Journey::UpdateBio => self.update_bio(shared).await,
            Journey::ReadOther => self.read_other(shared).await,
            Journey::UploadAvatar => self.upload_avatar(shared).await,
            Journey::Upload => self.upload(shared).await,
        };
        shared.count(journey.name());
    }

    fn take(&mut self, tokens: Tokens) {
        self.token = tokens.access_token;
        // Renew at 80 % of the lifetime; never more often than every 10 s.
        let lifetime = Duration::from_secs(tokens.expires_in.max(13));
        self.renew_at = Instant::now() + lifetime.mul_f64(0.8);
    }

    async fn await_profile(&mut self, shared: &Shared) {
        let until = Instant::now() + PROFILE_WAIT;
        while !self.read_me(shared, &Route::ME_UNTIL_CREATED).await
            && Instant::now() < until
            && shared.pause(POLL_INTERVAL).await
        {}
    }

    /// Sends a request as this user (with its access token), through [`Shared::call`].
    async fn send(&self, shared: &Shared, route: &Route, path: &str, body: Body) -> Outcome {
        shared.call(route, path, Some(&self.token), body).await
    }

    async fn login(&mut self, shared: &Shared) {
        let body = json!({ "email": self.account.email, "password": self.account.password });
        let outcome = shared
            .call(&Route::LOGIN, "/v1/auth/login", None, Body::Json(body))
            .await;
        if let Some(tokens) = outcome.json::<Tokens>() {
            self.take(tokens);
        }
    }

    /// Reads the own profile; true when it exists (and then lists it for others to read).
    async fn read_me(&mut self, shared: &Shared, route: &Route) -> bool {
        let outcome = self.send(shared, route, "/v1/users/me", Body::Empty).await;
        let found = outcome.acknowledged();
        if found && !self.in_directory {
            self.in_directory = true;
            lock(&shared.directory).push(self.account.user_id.clone());
        }
        found
    }

    async fn update_bio(&mut self, shared: &Shared) {
        let bio = format!("loadgen {} write {}", shared.run_id, shared.next_write());
        let outcome = self
            .send(
                shared,
                &Route::PATCH_ME,
                "/v1/users/me",
                Body::Json(json!({ "bio": bio })),
            )
            .await;
        shared
            .ledger()
            .record_bio(&self.account.user_id, &bio, &outcome);
    }

    async fn read_other(&mut self, shared: &Shared) {
        let other = {
            let directory = lock(&shared.directory);
            let own = &self.account.user_id;
            // A few tries to find someone else; with no one else yet, read the own profile.
            (0..4)
                .filter_map(|_| {
                    let n = directory.len() as u64;
                    (n > 0).then(|| &directory[self.rng.below(n) as usize])
                })
                .find(|id| *id != own)
                .unwrap_or(own)
                .clone()
        };
        self.send(
            shared,
            &Route::USER,
            &format!("/v1/users/{other}"),
            Body::Empty,
        )
        .await;
    }

    async fn upload_avatar(&mut self, shared: &Shared) {
        let image = crate::png::tiny_png(shared.config.seed ^ shared.next_write());
        let Some(media_id) = self.post_image(shared, image).await else {
            return;
        };
        if !self.await_ready(shared, &media_id).await || shared.stopping() {
            return;
        }
        let outcome = self
            .send(
                shared,
                &Route::AVATAR,
                "/v1/users/me/avatar",
                Body::Json(json!({ "media_id": media_id })),
            )
            .await;
        shared
            .ledger()
            .record_avatar(&self.account.user_id, &media_id, &outcome);
    }

    async fn upload(&mut self, shared: &Shared) {
        let seed = shared.config.seed ^ shared.next_write();
        let image = crate::png::noisy_png(UPLOAD_SIDE, UPLOAD_SIDE, seed);
        self.post_image(shared, image).await;
    }

    /// Uploads `image` and records it in the ledger; its media id once acknowledged.
    async fn post_image(&self, shared: &Shared, image: Vec<u8>) -> Option<String> {
        let outcome = self
            .send(shared, &Route::UPLOAD, "/v1/media", Body::Png(image))
            .await;
        shared
            .ledger()
            .record_upload(&self.account.user_id, &outcome)
    }

    /// Polls the upload until `ready` (true) or `failed`, a bounded number of times.
    async fn await_ready(&mut self, shared: &Shared, media_id: &str) -> bool {
        let path = format!("/v1/media/{media_id}");
        for _ in 0..MEDIA_POLLS {
            if !shared.pause(POLL_INTERVAL).await {
                return false;
            }
            let outcome = self.send(shared, &Route::MEDIA, &path, Body::Empty).await;
            match outcome.json::<MediaStatus>().map(|m| m.status) {
                Some(status) if status == "ready" => return true,
                Some(status) if status == "failed" => return false,
                _ => {}
            }
        }
        false
    }
}
