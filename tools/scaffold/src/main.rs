//! `scaffold`: the workspace's generator. The justfile's `new-service` and `rename-platform`
//! recipes run it; see `docs/guides/forking.md`.
//!
//! ```text
//! scaffold new-service NAME         # services/NAME and every entry a service needs
//! scaffold rename-platform NEW_NAME # crate prefix, image names, k8s labels, database names
//! ```
//!
//! Both work from the workspace root found above the current directory, check everything
//! before writing anything, and exit 2 with one line naming the problem when they refuse.

use std::process::ExitCode;

use platform_scaffold::{Refusal, new_service, rename_platform, workspace_root};

const USAGE: &str = "usage: scaffold new-service NAME | scaffold rename-platform NEW_NAME";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["new-service", name] => workspace_root().and_then(|root| new_service::run(&root, name)),
        ["rename-platform", name] => {
            workspace_root().and_then(|root| rename_platform::run(&root, name))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) if e.is::<Refusal>() => {
            eprintln!("scaffold: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("scaffold: {e:#}");
            ExitCode::FAILURE
        }
    }
}
