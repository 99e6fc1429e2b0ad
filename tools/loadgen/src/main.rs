//! `loadgen`: runs journeys against a platform at a URL, or verifies a ledger. See the
//! library's documentation and `docs/loadgen.md`.

mod cli;

use std::process::ExitCode;

use cli::Command;
use platform_loadgen::{Error, Ledger};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            config,
            ledger,
            report,
        } => run(config, ledger, report).await,
        Command::Verify { config, ledger } => verify(config, ledger).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("loadgen: {e}");
        ExitCode::from(if matches!(e, Error::Config(_)) { 2 } else { 1 })
    })
}

async fn run(
    config: platform_loadgen::RunConfig,
    ledger: Option<std::path::PathBuf>,
    report_path: Option<std::path::PathBuf>,
) -> Result<ExitCode, Error> {
    eprintln!(
        "loadgen: {} against {} for {}, mix {}",
        config.load,
        config.url,
        humantime::format_duration(config.duration),
        config.mix
    );
    let report = platform_loadgen::run_until(config, async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("loadgen: stopping; requests in flight finish (Ctrl-C again: quit, no ledger)");
        tokio::spawn(async {
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        });
    })
    .await?;
    println!("{report}");
    if let Some(path) = ledger {
        report.ledger.save(&path)?;
        eprintln!("loadgen: ledger written to {}", path.display());
    }
    if let Some(path) = report_path {
        platform_loadgen::write_atomically(&path, report.to_json().as_bytes())?;
        eprintln!("loadgen: report written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(
    config: platform_loadgen::VerifyConfig,
    ledger: std::path::PathBuf,
) -> Result<ExitCode, Error> {
    let ledger = Ledger::load(&ledger)?;
    eprintln!(
        "loadgen: verifying {} against {}, waiting up to {} for effects",
        ledger.summary(),
        config.url,
        humantime::format_duration(config.within)
    );
    let verification = platform_loadgen::verify(&config, &ledger).await?;
    println!("{verification}");
    Ok(if verification.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
