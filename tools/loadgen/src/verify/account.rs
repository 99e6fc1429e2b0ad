//! Checking one account of the ledger: it logs in, its profile shows the last acknowledged
//! bio and avatar, and its uploads finished, retrying what is not there yet.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::{Check, Expected, Missing};
use crate::http::{Api, Body, Outcome, Route};
use crate::ledger::Account;

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
}

#[derive(Deserialize)]
struct Profile {
    bio: String,
    avatar: Option<AvatarRef>,
}

#[derive(Deserialize)]
struct AvatarRef {
    media_id: String,
}

#[derive(Deserialize)]
struct Media {
    status: String,
    error: Option<String>,
}

/// Every missing effect of one account, once each check passed or `deadline` passed.
pub(super) async fn check(api: &Api, e: Expected, deadline: Instant) -> Vec<Missing> {
    let user_id = e.account.user_id.clone();
    let miss = |check, media_id: Option<&String>, detail: String| Missing {
        check,
        user_id: user_id.clone(),
        media_id: media_id.cloned(),
        detail,
    };
    let token = match login(api, &e.account, deadline).await {
        Ok(token) => token,
        Err(detail) => {
            let mut missing = vec![miss(Check::Login, None, detail)];
            missing.extend(e.uploads.iter().map(|id| {
                miss(
                    Check::Upload,
                    Some(id),
                    "not checked: the owner cannot log in".into(),
                )
            }));
            return missing;
        }
    };
    let mut missing: Vec<Missing> = check_profile(api, &token, &e, deadline)
        .await
        .into_iter()
        .map(|(check, detail)| {
            let media = e
                .avatar
                .as_ref()
                .filter(|_| check == Check::Avatar)
                .map(|a| &a.0);
            miss(check, media, detail)
        })
        .collect();
    for media_id in &e.uploads {
        if let Err(detail) = check_upload(api, &token, media_id, deadline).await {
            missing.push(miss(Check::Upload, Some(media_id), detail));
        }
    }
    missing
}

/// Logs in; a 401 is final (the account is not there, and retrying wrong logins would only
/// trip the login throttle), anything else is retried until the deadline.
async fn login(api: &Api, account: &Account, deadline: Instant) -> Result<String, String> {
    let mut backoff = Backoff::new(deadline);
    loop {
        let body = json!({ "email": account.email, "password": account.password });
        let outcome = api
            .send(&Route::LOGIN, "/v1/auth/login", None, Body::Json(body))
            .await;
        if let Some(tokens) = outcome.json::<Tokens>() {
            return Ok(tokens.access_token);
        }
        let detail = format!("POST /v1/auth/login: {}", outcome.describe());
        if outcome.status() == Some(reqwest::StatusCode::UNAUTHORIZED)
            || !backoff.wait(&outcome).await
        {
            return Err(detail);
        }
    }
}

/// The profile exists with the expected bio and avatar; else what is wrong, at the deadline.
async fn check_profile(
    api: &Api,
    token: &str,
    e: &Expected,
    deadline: Instant,
) -> Vec<(Check, String)> {
    let mut backoff = Backoff::new(deadline);
    loop {
        let outcome = api
            .send(&Route::ME, "/v1/users/me", Some(token), Body::Empty)
            .await;
        let problems = match outcome.json::<Profile>() {
            None => vec![(
                Check::Profile,
                format!("GET /v1/users/me: {}", outcome.describe()),
            )],
            Some(profile) => profile_problems(&profile, e),
        };
        if problems.is_empty() || !backoff.wait(&outcome).await {
            return problems;
        }
    }
}

fn profile_problems(profile: &Profile, e: &Expected) -> Vec<(Check, String)> {
    let mut problems = Vec::new();
    if let Some((last, unknown)) = &e.bio
        && profile.bio != *last
        && !unknown.contains(&profile.bio)
    {
        problems.push((
            Check::Bio,
            format!(
                "bio is {:?}, the last acknowledged is {last:?}",
                profile.bio
            ),
        ));
    }
    if let Some((last, unknown)) = &e.avatar {
        let shown = profile.avatar.as_ref().map(|a| &a.media_id);
        if shown != Some(last) && !shown.is_some_and(|m| unknown.contains(m)) {
            problems.push((
                Check::Avatar,
                format!("avatar is {shown:?}, the last acknowledged is {last:?}"),
            ));
        }
    }
    problems
}

/// The upload reached `ready`, or `failed` with a reason.
async fn check_upload(
    api: &Api,
    token: &str,
    media_id: &str,
    deadline: Instant,
) -> Result<(), String> {
    let path = format!("/v1/media/{media_id}");
    let mut backoff = Backoff::new(deadline);
    loop {
        let outcome = api
            .send(&Route::MEDIA, &path, Some(token), Body::Empty)
            .await;
        let detail = match outcome.json::<Media>() {
            Some(m) if m.status == "ready" => return Ok(()),
            Some(m) if m.status == "failed" => match m.error {
                Some(reason) if !reason.is_empty() => return Ok(()),
                // Final: a failed image is not processed again.
                _ => return Err("failed without an error reason".into()),
            },
            Some(m) => format!("still {}", m.status),
            None => format!("GET {path}: {}", outcome.describe()),
        };
        if !backoff.wait(&outcome).await {
            return Err(detail);
        }
    }
}

/// Waits between attempts: doubling from 200 ms to 2 s, or the platform's `Retry-After`,
/// never past the deadline.
struct Backoff {
    next: Duration,
    deadline: Instant,
}

impl Backoff {
    fn new(deadline: Instant) -> Self {
        Self {
            next: Duration::from_millis(200),
            deadline,
        }
    }

    /// False when the deadline has passed: stop trying.
    async fn wait(&mut self, outcome: &Outcome) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let pause = outcome.back_off().unwrap_or(self.next);
        self.next = (self.next * 2).min(Duration::from_secs(2));
        tokio::time::sleep(pause.min(self.deadline - now)).await;
        true
    }
}
