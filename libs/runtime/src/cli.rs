//! The command line every service binary shares: no argument serves, `health` probes the ops
//! listener (see [`health_command`](crate::health_command)), and a service may add its own
//! commands (`migrate`).

use platform_config::ConfigError;

/// The subcommand that probes a running replica, for container healthchecks.
pub const HEALTH_COMMAND: &str = "health";

/// Stops the process on invalid configuration, naming the service and the variable: exit
/// status 2 (a usage error), or 1 under `health`, since Docker reserves 2 in healthchecks.
///
/// ```no_run
/// use platform_config::{ConfigError, Env};
///
/// let command = std::env::args().nth(1);
/// let port: u16 = Env::from_process()
///     .required("HTTP_PORT")
///     .unwrap_or_else(|e| platform_runtime::exit_on_config_error("gateway", command.as_deref(), &e));
/// ```
pub fn exit_on_config_error(service: &str, command: Option<&str>, error: &ConfigError) -> ! {
    eprintln!("{service}: configuration error: {error}");
    let status = if command == Some(HEALTH_COMMAND) {
        1
    } else {
        2
    };
    std::process::exit(status)
}
