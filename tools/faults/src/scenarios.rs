//! The scenarios. Each starts a native run of its own, puts load on it, injects its faults,
//! and checks both the ledger and what clients saw meanwhile.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use platform_testkit::native::{Account, GATEWAY, Layout, NativeRun};
use serde_json::Value;

use crate::load::Background;
use crate::redis::RedisServer;
use crate::tansu::{self, Tansu};
use crate::{Context, Outcome};

type Scenario = fn(&Context) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send + '_>>;

/// Every scenario, by name, in the order the suite runs them.
pub const SCENARIOS: [(&str, Scenario); 7] = [
    ("service-kills", |c| Box::pin(service_kills(c))),
    ("whole-run-kills", |c| Box::pin(whole_run_kills(c))),
    ("region-outage", |c| Box::pin(region_outage(c))),
    ("redis-outage", |c| Box::pin(redis_outage(c))),
    ("broker-outage", |c| Box::pin(broker_outage(c))),
    ("worker-mid-image", |c| Box::pin(worker_mid_image(c))),
    ("auth-database-outage", |c| {
        Box::pin(auth_database_outage(c))
    }),
];

/// The gateway's deadline for an upstream call (`*_GRPC_TIMEOUT`, 5 s), plus room for a
/// loaded 2-core machine: no answer about a missing upstream may take longer.
const ANSWER_WITHIN: Duration = Duration::from_secs(7);
/// The port of the suite's own Redis.
const REDIS_PORT: u16 = 6391;

/// Each service process SIGKILLed in turn, in rounds, under load; the supervisor restarts it.
/// While an upstream is down the gateway answers 503/504 problem+json within its deadline.
async fn service_kills(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, mut run, _broker) =
        start(context, "service-kills", Layout::Processes, &[]).await?;
    let (probe, token) = signed_in(&mut run, "eu").await;
    let load = Background::start(11).await;
    let mut kills = 0;
    for _ in 0..context.profile.kill_rounds() {
        for service in ["user", "media", "media-worker", "auth", "gateway"] {
            let started = Instant::now();
            let killed = run.kill_process(service);
            kills += 1;
            let probe = match service {
                "user" => Some(get(&run, "/v1/users/me", &token).await),
                "auth" => Some(login_with_wrong_password(&run, &probe).await),
                _ => None,
            };
            if let Some(answer) = probe {
                check_answer_about_a_missing_upstream(&mut outcome, service, &answer);
            }
            run.until_restarted(service, killed).await;
            run.until_ready().await;
            outcome.recovery = outcome.recovery.max(started.elapsed());
            // Let the load run against the whole platform between kills.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    outcome.faults = format!(
        "{kills} SIGKILLs: user, media, media-worker, auth, gateway in turn, {} round(s)",
        context.profile.kill_rounds()
    );
    load.finish(&mut outcome).await?;
    run.until_profile(&probe).await;
    Ok(outcome)
}

/// The whole one-process run (embedded broker included) SIGKILLed and restarted under load.
async fn whole_run_kills(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, mut run, _broker) =
        start(context, "whole-run-kills", Layout::OneProcess, &[]).await?;
    let load = Background::start(12).await;
    for _ in 0..context.profile.run_kills() {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let started = Instant::now();
        run.kill_all();
        run.restart().await;
        outcome.recovery = outcome.recovery.max(started.elapsed());
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    outcome.faults = format!(
        "{} SIGKILLs of the whole run, each restarted at once",
        context.profile.run_kills()
    );
    load.finish(&mut outcome).await?;
    Ok(outcome)
}

/// The `eu` database refuses connections: `us` keeps serving, `eu` reads that miss the cache
/// fail fast with 503, and an `eu` registration acknowledged meanwhile gets its profile after.
async fn region_outage(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, mut run, _broker) =
        start(context, "region-outage", Layout::Processes, &[]).await?;
    let (_, us_token) = signed_in(&mut run, "us").await;
    // An eu profile nobody has read, so it is not in the cache.
    let unread = run.register("eu").await;
    until_profile_row(&mut run, &unread).await;
    let load = Background::start(13).await;

    let outage = context.profile.outage();
    run.refuse_connections("user_eu", true).await;
    let during = run.register("eu").await;
    let (status, _, took) = get(&run, &format!("/v1/users/{}", unread.user_id), &us_token).await;
    outcome.check(
        format!("uncached eu read during the outage: {status} in {took:?}"),
        status == 503 && took < Duration::from_secs(3),
        format!("an uncached eu read during the outage answered {status} in {took:?}"),
    );
    let (status, _, took) = get(&run, "/v1/users/me", &us_token).await;
    outcome.check(
        format!("us read during the outage: {status} in {took:?}"),
        status == 200,
        format!("a us read during the outage answered {status}"),
    );
    tokio::time::sleep(outage).await;
    run.refuse_connections("user_eu", false).await;
    let back = Instant::now();
    run.until_profile(&during).await;
    outcome.recovery = back.elapsed();
    outcome.checks.push(format!(
        "eu registration acknowledged during the outage: profile {:.1} s after the database was back",
        outcome.recovery.as_secs_f64()
    ));
    outcome.faults = format!("user_eu refused connections for {} s", outage.as_secs());
    load.finish(&mut outcome).await?;
    Ok(outcome)
}

/// Redis silent (`CLIENT PAUSE`), then refused (killed), each for the outage: profiles keep
/// being served, nothing is lost, and the services recover without a restart.
async fn redis_outage(context: &Context) -> anyhow::Result<Outcome> {
    let mut redis = RedisServer::start(REDIS_PORT).await?;
    let url = redis.url();
    let (mut outcome, mut run, _broker) = start(
        context,
        "redis-outage",
        Layout::Processes,
        &[("REDIS_URL", &url)],
    )
    .await?;
    let (_, token) = signed_in(&mut run, "eu").await;
    let services = run.services();
    let pids: Vec<u32> = services.iter().map(|s| run.pid_of(s)).collect();
    let load = Background::start(14).await;
    let outage = context.profile.outage();

    redis.pause(outage)?;
    let (status, _, took) = get(&run, "/v1/users/me", &token).await;
    outcome.check(
        format!("profile read, Redis silent: {status} in {took:?}"),
        status == 200,
        format!("a profile read with Redis silent answered {status}"),
    );
    tokio::time::sleep(outage).await;

    redis.kill();
    let (status, _, took) = get(&run, "/v1/users/me", &token).await;
    outcome.check(
        format!("profile read, Redis refused: {status} in {took:?}"),
        status == 200,
        format!("a profile read with Redis refused answered {status}"),
    );
    tokio::time::sleep(outage).await;
    redis.restart().await?;
    let back = Instant::now();
    run.until_ready().await;
    outcome.recovery = back.elapsed();
    let after: Vec<u32> = services.iter().map(|s| run.pid_of(s)).collect();
    outcome.check(
        "no service restarted; readiness back to ok",
        pids == after,
        "a service was restarted during the Redis outage",
    );
    outcome.faults = format!(
        "Redis silent (CLIENT PAUSE) {} s, then refused (killed) {} s",
        outage.as_secs(),
        outage.as_secs()
    );
    load.finish(&mut outcome).await?;
    Ok(outcome)
}

/// The broker process killed and kept down for the outage, then started again, empty:
/// registrations and uploads keep being acknowledged, and their events arrive once it is back.
async fn broker_outage(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, mut run, mut broker) =
        start(context, "broker-outage", Layout::Processes, &[]).await?;
    let load = Background::start(15).await;
    let outage = context.profile.outage();
    let killed = match &mut broker {
        Some(tansu) => {
            tansu.kill();
            None
        }
        None => {
            run.hold("broker", true);
            Some(run.kill_process("broker"))
        }
    };
    let during = run.register("eu").await;
    outcome
        .checks
        .push("a registration during the outage: 201".to_owned());
    tokio::time::sleep(outage).await;
    let back = Instant::now();
    match (&mut broker, killed) {
        (Some(tansu), _) => tansu.restart().await?,
        (None, Some(killed)) => {
            run.hold("broker", false);
            run.until_restarted("broker", killed).await;
        }
        (None, None) => {}
    }
    run.until_profile(&during).await;
    outcome.recovery = back.elapsed();
    outcome.faults = if broker.is_some() {
        format!(
            "tansu SIGKILLed, kept down {} s, restarted empty (a new cluster id)",
            outage.as_secs()
        )
    } else {
        format!(
            "broker process SIGKILLed, kept down {} s, restarted empty",
            outage.as_secs()
        )
    };
    load.finish(&mut outcome).await?;
    Ok(outcome)
}

/// The media worker SIGKILLed while it processes an image: the restarted worker completes the
/// job, once (one `ready`, each variant once).
async fn worker_mid_image(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, mut run, _broker) =
        start(context, "worker-mid-image", Layout::Processes, &[]).await?;
    let (_, token) = signed_in(&mut run, "eu").await;
    let image = big_png();
    // How long one job takes here, to kill the next one halfway.
    let first = upload(&run, &token, &image).await?;
    let started = Instant::now();
    until_media_settled(&mut run, &token, &first).await;
    let job = started.elapsed();

    let media = upload(&run, &token, &image).await?;
    tokio::time::sleep(job / 2).await;
    let killed = run.kill_process("media-worker");
    let back = Instant::now();
    run.until_restarted("media-worker", killed).await;
    let settled = until_media_settled(&mut run, &token, &media).await;
    outcome.recovery = back.elapsed();
    let variants: Vec<&str> = settled["variants"]
        .as_array()
        .map(|v| v.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default();
    let mut unique = variants.clone();
    unique.sort_unstable();
    unique.dedup();
    outcome.check(
        format!(
            "a {} KB PNG (one job takes {:.1} s here), the worker killed {:.1} s in: {}, variants {:?}",
            image.len() / 1024,
            job.as_secs_f64(),
            (job / 2).as_secs_f64(),
            settled["status"],
            variants
        ),
        settled["status"] == "ready" && !variants.is_empty() && unique.len() == variants.len(),
        format!("the job ended as {settled}"),
    );
    outcome.faults = "media-worker SIGKILLed halfway through a job".to_owned();
    outcome.load = "2 uploads".to_owned();
    outcome.acknowledged = "1 registration, 2 uploads".to_owned();
    outcome.errors = "none".to_owned();
    Ok(outcome)
}

/// The auth database refuses connections: registration and login answer 503 with
/// `Retry-After`, and nothing is half-written (the refused registration can be made afterwards
/// and gets its profile).
async fn auth_database_outage(context: &Context) -> anyhow::Result<Outcome> {
    let (mut outcome, run, _broker) =
        start(context, "auth-database-outage", Layout::Processes, &[]).await?;
    let existing = run.register("eu").await;
    run.refuse_connections("auth", true).await;
    let email = format!("{}@example.com", platform_testkit::unique("refused-"));
    let body = serde_json::json!({
        "email": email, "password": "correct horse battery", "display_name": "R", "region": "us"
    });
    for (what, path, body) in [
        ("register", "/v1/auth/register", body.clone()),
        (
            "login",
            "/v1/auth/login",
            serde_json::json!({"email": existing.email, "password": "correct horse battery"}),
        ),
    ] {
        let (status, retry_after, took) = post(&run, path, &body).await;
        outcome.check(
            format!(
                "{what} with the auth database refusing: {status}, Retry-After {retry_after:?}, in {took:?}"
            ),
            status == 503 && retry_after.is_some() && took < ANSWER_WITHIN,
            format!("{what} answered {status} (Retry-After {retry_after:?}) in {took:?}"),
        );
    }
    tokio::time::sleep(context.profile.outage()).await;
    run.refuse_connections("auth", false).await;
    let back = Instant::now();
    // The refused registration left nothing behind: the same email registers now.
    let mut again = false;
    while back.elapsed() < Duration::from_secs(60) && !again {
        again = post(&run, "/v1/auth/register", &body).await.0 == 201;
        if !again {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    outcome.recovery = back.elapsed();
    outcome.check(
        "the refused email registered afterwards: 201",
        again,
        "the refused registration could not be made afterwards",
    );
    outcome.faults = format!(
        "the auth database refused connections for {} s",
        context.profile.outage().as_secs()
    );
    outcome.load = "probes".to_owned();
    outcome.acknowledged = "2 registrations".to_owned();
    outcome.errors = "503 ×2 (expected)".to_owned();
    Ok(outcome)
}

/// The outcome of `scenario` so far, and a native run in `layout`, with its own tansu when the
/// suite runs against tansu (the guard stops it and drops its storage).
async fn start(
    context: &Context,
    scenario: &'static str,
    layout: Layout,
    env: &[(&str, &str)],
) -> anyhow::Result<(Outcome, NativeRun, Option<Tansu>)> {
    let outcome = Outcome {
        scenario,
        layout: match layout {
            Layout::OneProcess => "one process",
            Layout::Processes => "processes",
        },
        ..Outcome::default()
    };
    let mut env = env.to_vec();
    let tansu = if context.tansu {
        env.push(("KAFKA_BROKERS", tansu::ADDRESS));
        Some(Tansu::start(&context.devstack).await?)
    } else {
        None
    };
    let run = NativeRun::start_with(&context.devstack, layout, &env).await;
    Ok((outcome, run, tansu))
}

/// A new account in `region` whose profile exists, and its access token (empty when the login
/// failed: the requests made with it then say so).
async fn signed_in(run: &mut NativeRun, region: &str) -> (Account, String) {
    let account = run.register(region).await;
    run.until_profile(&account).await;
    let token = run.login(&account).await.unwrap_or_default();
    (account, token)
}

/// What the gateway answered while `service` was down: a 2xx or 401 means it was already
/// back; anything else must be 503/504 problem+json, in time.
fn check_answer_about_a_missing_upstream(
    outcome: &mut Outcome,
    service: &str,
    (status, content_type, took): &(u16, Option<String>, Duration),
) {
    let back_already = (200..300).contains(status) || *status == 401;
    let problem = content_type.as_deref() == Some("application/problem+json");
    outcome.check(
        format!("{service} down: the gateway answered {status} in {took:?}"),
        back_already || ([503, 504].contains(status) && problem && *took < ANSWER_WITHIN),
        format!("with {service} down the gateway answered {status} ({content_type:?}) in {took:?}"),
    );
}

/// One request's status, the value of `header` in its answer, and how long it took; status 0
/// when there was no answer.
async fn answer(request: reqwest::RequestBuilder, header: &str) -> (u16, Option<String>, Duration) {
    let started = Instant::now();
    match request.send().await {
        Ok(response) => (
            response.status().as_u16(),
            response
                .headers()
                .get(header)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            started.elapsed(),
        ),
        Err(_) => (0, None, started.elapsed()),
    }
}

/// Status, content type and time of an authenticated GET.
async fn get(run: &NativeRun, path: &str, token: &str) -> (u16, Option<String>, Duration) {
    let request = run.http.get(format!("{GATEWAY}{path}")).bearer_auth(token);
    answer(request, "content-type").await
}

/// Status, `Retry-After` and time of a JSON POST.
async fn post(run: &NativeRun, path: &str, body: &Value) -> (u16, Option<String>, Duration) {
    answer(
        run.http.post(format!("{GATEWAY}{path}")).json(body),
        "retry-after",
    )
    .await
}

/// Status, content type and time of a login that must be refused.
async fn login_with_wrong_password(
    run: &NativeRun,
    account: &Account,
) -> (u16, Option<String>, Duration) {
    let body = serde_json::json!({"email": account.email, "password": "not the password"});
    let request = run
        .http
        .post(format!("{GATEWAY}/v1/auth/login"))
        .json(&body);
    answer(request, "content-type").await
}

/// Waits until the profile row exists in its shard, without reading it through the API (which
/// would cache it).
async fn until_profile_row(run: &mut NativeRun, account: &Account) {
    let pool = run.database("user_eu").await;
    let id = account.user_id.clone();
    run.eventually("the profile row", || {
        let (pool, id) = (pool.clone(), id.clone());
        async move {
            sqlx::query_scalar::<_, bool>("select exists (select 1 from profiles where id = $1)")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap_or(false)
        }
    })
    .await;
    pool.close().await;
}

async fn upload(run: &NativeRun, token: &str, image: &[u8]) -> anyhow::Result<String> {
    let response = run
        .http
        .post(format!("{GATEWAY}/v1/media"))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(image.to_vec())
        .send()
        .await?;
    anyhow::ensure!(response.status() == 202, "upload: {}", response.status());
    let body: Value = response.json().await?;
    Ok(body["id"].as_str().unwrap_or_default().to_owned())
}

/// Waits until the media is `ready` or `failed`, and returns it.
async fn until_media_settled(run: &mut NativeRun, token: &str, media: &str) -> Value {
    let http = run.http.clone();
    let url = format!("{GATEWAY}/v1/media/{media}");
    let settled = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
    run.eventually("the media to settle", || {
        let (http, url, token, settled) =
            (http.clone(), url.clone(), token.to_owned(), settled.clone());
        async move {
            let Ok(response) = http.get(&url).bearer_auth(&token).send().await else {
                return false;
            };
            let body: Value = response.json().await.unwrap_or_default();
            let done = body["status"] == "ready" || body["status"] == "failed";
            *settled.lock().expect("never poisoned") = body;
            done
        }
    })
    .await;
    settled.lock().expect("never poisoned").clone()
}

/// A PNG large enough that decoding and resizing it takes a while: noise compresses badly.
fn big_png() -> Vec<u8> {
    platform_loadgen::noisy_png(1600, 1200, 7)
}
