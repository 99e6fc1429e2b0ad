//! The command line every service binary shares ([`run`]): no argument serves, `migrate`
//! applies a service's database migrations, `health` probes the ops listener (see
//! [`health_command`](crate::health_command)), and a service may add commands of its own
//! ([`Service::COMMANDS`]: `dead-letters`).

use std::process::ExitCode;

use platform_config::{ConfigError, Env};

use crate::{Service, ServiceSettings, health_command, shutdown_signal};

/// The subcommand that probes a running replica, for container healthchecks.
pub const HEALTH_COMMAND: &str = "health";

/// The subcommand that applies a service's database migrations, for services that have one.
pub const MIGRATE_COMMAND: &str = "migrate";

/// Runs the binary of service `S` with the process's arguments and environment, and returns
/// its exit status:
///
/// 1. a command of the service's own ([`Service::COMMANDS`]) runs first, before the
///    settings are read;
/// 2. invalid settings stop the process ([`exit_on_config_error`]);
/// 3. `health` probes the ops listener (before telemetry: it only prints its verdict);
/// 4. an unknown command (`migrate` too, for a service without a database) prints the
///    usage and exits with 2;
/// 5. telemetry is installed, then `migrate` migrates, or no argument serves until SIGTERM.
///
/// An error of `migrate` or serving is printed as `main` returning it would print it
/// (`Error: ` and its causes) and exits with 1.
///
/// ```no_run
/// async fn main_of<App: platform_runtime::Service>() -> std::process::ExitCode {
///     platform_runtime::run::<App>().await
/// }
/// ```
pub async fn run<S: Service>() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    if let Some(own) = S::COMMANDS
        .iter()
        .find(|c| Some(c.name) == command.as_deref())
    {
        return exit_code((own.run)(args.collect()).await);
    }
    let settings = S::Settings::from_env(&Env::from_process())
        .unwrap_or_else(|e| exit_on_config_error(S::NAME, command.as_deref(), &e));
    let (runtime, telemetry) = settings.shell();
    // `migrate` only builds its future: nothing runs until it is awaited.
    let has_migrate = S::migrate(&settings).is_some();
    let migrating = match command.as_deref() {
        None => false,
        Some(HEALTH_COMMAND) => {
            return exit_code(health_command(S::NAME, &runtime.ops).await);
        }
        Some(MIGRATE_COMMAND) if has_migrate => true,
        Some(other) => {
            eprintln!("{}", unknown_command::<S>(other, has_migrate));
            return ExitCode::from(2);
        }
    };
    let telemetry = match platform_telemetry::init(telemetry) {
        Ok(guard) => guard,
        Err(e) => return failure(&e),
    };
    let outcome = if migrating {
        migrate::<S>(&settings).await
    } else {
        serve::<S>(settings).await
    };
    // Flushed before the error is printed, as when `main` returned it.
    drop(telemetry);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(&e),
    }
}

/// The message for an unknown command: the service's commands, `migrate` first when it has
/// one, then `health`, then its own.
fn unknown_command<S: Service>(command: &str, has_migrate: bool) -> String {
    let commands: Vec<_> = has_migrate
        .then_some(MIGRATE_COMMAND)
        .into_iter()
        .chain([HEALTH_COMMAND])
        .chain(S::COMMANDS.iter().map(|c| c.name))
        .collect();
    format!(
        "{name}: unknown command {command:?}; usage: {name} [{commands}]",
        name = S::NAME,
        commands = commands.join("|"),
    )
}

async fn migrate<S: Service>(settings: &S::Settings) -> anyhow::Result<()> {
    match S::migrate(settings) {
        Some(migration) => migration.await,
        None => unreachable!("`migrate` is a usage error for a service without a database"),
    }
}

async fn serve<S: Service>(settings: S::Settings) -> anyhow::Result<()> {
    let app = S::start(settings).await?;
    app.run_until(shutdown_signal()).await
}

/// What `main` returning `Err(error)` would print and return.
fn failure(error: &anyhow::Error) -> ExitCode {
    eprintln!("Error: {error:?}");
    ExitCode::FAILURE
}

/// A command's exit status (0, 1 or 2) as the process's.
fn exit_code(status: i32) -> ExitCode {
    u8::try_from(status).map_or(ExitCode::FAILURE, ExitCode::from)
}

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

#[cfg(test)]
mod tests {
    use platform_telemetry::TelemetrySettings;

    use super::*;
    use crate::{Command, Readiness, Running, RuntimeSettings, ServiceHost};

    struct Consumer;

    struct Settings(RuntimeSettings, TelemetrySettings);

    impl ServiceSettings for Settings {
        fn from_env(env: &Env) -> Result<Self, ConfigError> {
            Ok(Self(
                RuntimeSettings::for_tests(),
                TelemetrySettings::from_env(env, Consumer::NAME)?,
            ))
        }
        fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
            (&self.0, &self.1)
        }
    }

    impl Service for Consumer {
        const NAME: &'static str = "user";
        const COMMANDS: &'static [Command] = &[Command {
            name: "dead-letters",
            run: |_args| Box::pin(async { 0 }),
        }];
        type Settings = Settings;

        async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
            let host = ServiceHost::start(&settings.0, Readiness::new()).await?;
            Ok(Running::new(host, Self))
        }
    }

    #[test]
    fn the_usage_lists_migrate_then_health_then_the_services_own_commands() {
        assert_eq!(
            unknown_command::<Consumer>("frob", true),
            "user: unknown command \"frob\"; usage: user [migrate|health|dead-letters]"
        );
        assert_eq!(
            unknown_command::<Consumer>("migrate", false),
            "user: unknown command \"migrate\"; usage: user [health|dead-letters]"
        );
    }

    #[test]
    fn a_commands_status_is_the_processs() {
        assert_eq!(exit_code(0), ExitCode::SUCCESS);
        assert_eq!(exit_code(2), ExitCode::from(2));
        assert_eq!(exit_code(-1), ExitCode::FAILURE);
    }
}
