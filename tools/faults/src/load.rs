//! Load in the background while a scenario injects its faults: the load generator's journeys
//! (reads, patches, logins, uploads, avatars), plus a stream of registrations, the writes
//! whose effect (a profile, created from an event) crosses every part that can fail.

use std::collections::BTreeMap;
use std::time::Duration;

use platform_loadgen::{
    Ledger, Load, NewAccount, Outcome as Answered, Report, RunConfig, Verification, VerifyConfig,
};
use platform_testkit::native::GATEWAY;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Outcome, describe_errors};

/// Virtual users of every scenario's load: enough to keep every route busy on 2 cores
/// without saturating them (saturation is the benchmarks' business).
const USERS: u32 = 4;
/// One registration this often, alternating regions.
const REGISTER_EVERY: Duration = Duration::from_millis(250);
/// How long acknowledged writes may take to show after the load stops.
const VERIFY_WITHIN: Duration = Duration::from_secs(120);
/// The load generator's route for its wait until a new account's profile exists: its 404s
/// are the wait, not errors.
const UNTIL_CREATED: &str = "(until created)";

pub(crate) struct Background {
    stop: CancellationToken,
    journeys: JoinHandle<Result<Report, platform_loadgen::Error>>,
    registrations: JoinHandle<Ledger>,
}

impl Background {
    /// Starts the load, and lets it run until the journeys are past their first
    /// registration, so faults land on a platform at work.
    pub(crate) async fn start(seed: u64) -> Self {
        let stop = CancellationToken::new();
        let config = RunConfig {
            // A cap: the scenario stops it long before.
            duration: Duration::from_secs(3600),
            seed,
            ..RunConfig::new(GATEWAY, Load::Users(USERS))
        };
        let journeys = tokio::spawn(platform_loadgen::run_until(
            config,
            stop.clone().cancelled_owned(),
        ));
        let registrations = tokio::spawn(register_until(seed, stop.clone()));
        // A deliberate warm-up of the load, not a wait for a condition.
        tokio::time::sleep(Duration::from_secs(5)).await;
        Self {
            stop,
            journeys,
            registrations,
        }
    }

    /// Stops the load, checks every acknowledged write, and fills `outcome`'s load,
    /// acknowledged, lost and errors.
    pub(crate) async fn finish(self, outcome: &mut Outcome) -> anyhow::Result<()> {
        self.stop.cancel();
        let report = self.journeys.await??;
        let registered = self.registrations.await?;
        let mut ledger = report.ledger.clone();
        let streamed = registered.users.len();
        ledger.users.extend(registered.users);
        ledger.unknown.extend(registered.unknown);
        let verification = verify(&ledger).await?;

        outcome.load = format!(
            "{USERS} users + 4 registrations/s, {:.0} req/s over {:.0} s",
            report.total.per_second, report.elapsed_seconds
        );
        let s = &report.ledger_summary;
        outcome.acknowledged = format!(
            "{} registrations, {} bios, {} uploads, {} avatars",
            s.registrations + streamed,
            s.bios,
            s.uploads,
            s.avatars
        );
        outcome.lost = verification.missing.len();
        let mut errors = BTreeMap::new();
        let (mut timeouts, mut transport) = (0, 0);
        for route in report
            .routes
            .iter()
            .filter(|r| !r.route.contains(UNTIL_CREATED))
        {
            for (status, n) in &route.errors {
                *errors.entry(*status).or_insert(0) += n;
            }
            timeouts += route.timeouts;
            transport += route.transport_errors;
            if !route.errors.is_empty() || route.timeouts + route.transport_errors > 0 {
                outcome.checks.push(format!(
                    "load errors on {}: {} of {} requests",
                    route.route,
                    describe_errors(&route.errors, route.timeouts, route.transport_errors),
                    route.requests
                ));
            }
        }
        outcome.errors = describe_errors(&errors, timeouts, transport);
        if !verification.passed() {
            outcome.failures.push(format!("{verification}"));
        }
        outcome.expect(
            timeouts == 0,
            format!("{timeouts} requests hung until the load generator's timeout"),
        );
        outcome.expect(streamed > 0, "no registration was acknowledged");
        Ok(())
    }
}

/// Registers a new account every [`REGISTER_EVERY`] until `stop`, and keeps the ledger of
/// what was acknowledged.
async fn register_until(seed: u64, stop: CancellationToken) -> Ledger {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client with a timeout");
    let mut ledger = Ledger::default();
    let mut tick = tokio::time::interval(REGISTER_EVERY);
    for n in 0u64.. {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let account = NewAccount {
            email: format!(
                "faults-{seed}-{n}-{}@example.com",
                platform_testkit::unique("")
            ),
            password: "correct horse battery".to_owned(),
            display_name: format!("Fault {n}"),
            region: if n % 2 == 0 { "eu" } else { "us" }.to_owned(),
        };
        let answered = match http
            .post(format!("{GATEWAY}/v1/auth/register"))
            .json(&account)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                Answered::answer(status, &body)
            }
            Err(e) if e.is_timeout() => Answered::Timeout,
            Err(e) => Answered::Transport(e.to_string()),
        };
        ledger.record_registration(&account, &answered);
    }
    ledger
}

async fn verify(ledger: &Ledger) -> anyhow::Result<Verification> {
    let config = VerifyConfig {
        within: VERIFY_WITHIN,
        ..VerifyConfig::new(GATEWAY)
    };
    Ok(platform_loadgen::verify(&config, ledger).await?)
}
