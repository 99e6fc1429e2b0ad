//! `faults [--profile ci|full] [--only NAME,…] [--tansu]`: runs the fault suite (see the library's
//! documentation) and prints a Markdown table of what each scenario did; exits 1 when one
//! failed, 2 on a usage error. Build the binaries first: `cargo build --bins`.

use std::path::PathBuf;

use platform_faults::{Context, Outcome, Profile, SCENARIOS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (profile, only, tansu) = parse(&args).unwrap_or_else(|e| {
        eprintln!("faults: {e}\nusage: faults [--profile ci|full] [--only NAME,...] [--tansu]");
        std::process::exit(2);
    });
    let devstack = binary_dir()?.join("devstack");
    anyhow::ensure!(
        devstack.exists(),
        "{} is missing: run `cargo build --bins` first",
        devstack.display()
    );
    let context = Context {
        devstack,
        profile,
        tansu,
    };
    let mut outcomes = Vec::new();
    for (name, scenario) in SCENARIOS {
        if only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|o| o == name))
        {
            continue;
        }
        eprintln!("faults: {name} …");
        // On a task of its own, so a scenario that panics (a wait that timed out) is reported
        // as failed and the others still run.
        let task = {
            let context = context.clone();
            tokio::spawn(async move { scenario(&context).await })
        };
        let failed = |why: String| Outcome {
            scenario: name,
            failures: vec![why],
            ..Outcome::default()
        };
        let outcome = match task.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => failed(format!("{e:#}")),
            Err(e) => failed(panic_message(e)),
        };
        eprintln!(
            "faults: {name}: {}",
            if outcome.passed() { "pass" } else { "FAIL" }
        );
        for failure in &outcome.failures {
            eprintln!("faults: {name}: {failure}");
        }
        outcomes.push(outcome);
    }
    println!("{}", Outcome::header());
    for outcome in &outcomes {
        println!("{outcome}");
    }
    for outcome in &outcomes {
        println!("\n{}:", outcome.scenario);
        for check in &outcome.checks {
            println!("- {check}");
        }
        for failure in &outcome.failures {
            println!("- FAILED: {failure}");
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    println!("\n{} passed, {failed} failed", outcomes.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the scenario panicked".to_owned()),
        Err(e) => format!("the scenario did not finish: {e}"),
    }
}

fn parse(args: &[String]) -> Result<(Profile, Option<Vec<String>>, bool), String> {
    let mut profile = Profile::Full;
    let mut only = None;
    let mut tansu = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--profile" => {
                profile = match args.next().map(String::as_str) {
                    Some("ci") => Profile::Ci,
                    Some("full") => Profile::Full,
                    other => return Err(format!("--profile takes ci or full, not {other:?}")),
                }
            }
            "--only" => {
                let names: Vec<String> = args
                    .next()
                    .ok_or("--only takes scenario names")?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                if let Some(unknown) = names
                    .iter()
                    .find(|n| !SCENARIOS.iter().any(|(s, _)| s == n))
                {
                    return Err(format!("no scenario named {unknown:?}"));
                }
                only = Some(names);
            }
            "--tansu" => tansu = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((profile, only, tansu))
}

/// The directory of the binaries this one was built with (`target/debug` or `target/release`).
fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .ok_or_else(|| anyhow::anyhow!("the faults binary has no directory"))?
        .to_path_buf())
}
