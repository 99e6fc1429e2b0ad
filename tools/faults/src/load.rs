//! Load from the load generator in the background while a scenario injects its faults.

use std::time::Duration;

use platform_loadgen::{Load, Report, RunConfig, Verification, VerifyConfig};
use platform_testkit::native::GATEWAY;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Outcome, describe_errors};

/// Virtual users of every scenario's load: enough to keep every route busy on 2 cores
/// without saturating them (saturation is the benchmarks' business).
const USERS: u32 = 4;
/// How long acknowledged writes may take to show after the load stops.
const VERIFY_WITHIN: Duration = Duration::from_secs(120);

pub(crate) struct Background {
    stop: CancellationToken,
    running: JoinHandle<Result<Report, platform_loadgen::Error>>,
}

impl Background {
    /// Starts closed-loop journeys of [`USERS`] users until [`finish`](Self::finish).
    pub(crate) fn start(seed: u64) -> Self {
        let stop = CancellationToken::new();
        let config = RunConfig {
            // A cap: the scenario stops it long before.
            duration: Duration::from_secs(3600),
            seed,
            ..RunConfig::new(GATEWAY, Load::Users(USERS))
        };
        let running = tokio::spawn(platform_loadgen::run_until(
            config,
            stop.clone().cancelled_owned(),
        ));
        Self { stop, running }
    }

    /// Stops the load, checks its ledger, and fills `outcome`'s load, acknowledged, lost and
    /// errors.
    pub(crate) async fn finish(self, outcome: &mut Outcome) -> anyhow::Result<()> {
        self.stop.cancel();
        let report = self.running.await??;
        let verification = verify(&report).await?;
        outcome.load = format!(
            "{USERS} users, {:.0} req/s over {:.0} s",
            report.total.per_second, report.elapsed_seconds
        );
        let s = &report.ledger_summary;
        outcome.acknowledged = format!(
            "{} registrations, {} bios, {} uploads, {} avatars",
            s.registrations, s.bios, s.uploads, s.avatars
        );
        outcome.lost = verification.missing.len();
        outcome.errors = describe_errors(
            &report.total.errors,
            report.total.timeouts,
            report.total.transport_errors,
        );
        if !verification.passed() {
            outcome.failures.push(format!("{verification}"));
        }
        outcome.expect(
            report.total.timeouts == 0,
            format!(
                "{} requests hung until the load generator's timeout",
                report.total.timeouts
            ),
        );
        outcome.expect(
            s.registrations > 0,
            "the load got no registration acknowledged",
        );
        Ok(())
    }
}

async fn verify(report: &Report) -> anyhow::Result<Verification> {
    let config = VerifyConfig {
        within: VERIFY_WITHIN,
        ..VerifyConfig::new(GATEWAY)
    };
    Ok(platform_loadgen::verify(&config, &report.ledger).await?)
}
