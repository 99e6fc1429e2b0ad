//! What a service tells the shared binary shell ([`run`](crate::run)) about itself, once, in
//! its library: its name, its settings, how it starts, and the commands it adds.

use std::future::Future;

use futures::future::BoxFuture;
use platform_config::{ConfigError, Env};
use platform_telemetry::TelemetrySettings;

use crate::{Running, RuntimeSettings};

/// A service, as its binary sees it. `main` is then one line:
/// `platform_runtime::run::<auth_service::App>().await`.
///
/// ```no_run
/// use platform_config::{ConfigError, Env};
/// use platform_runtime::{Readiness, Running, RuntimeSettings, Service, ServiceHost};
/// use platform_telemetry::TelemetrySettings;
///
/// pub struct Settings {
///     telemetry: TelemetrySettings,
///     runtime: RuntimeSettings,
/// }
///
/// pub struct App;
///
/// impl Service for App {
///     const NAME: &'static str = "billing";
///     type Settings = Settings;
///
///     fn settings(env: &Env) -> Result<Settings, ConfigError> {
///         Ok(Settings {
///             telemetry: TelemetrySettings::from_env(env, Self::NAME)?,
///             runtime: RuntimeSettings::from_env(env, 9106)?,
///         })
///     }
///     fn runtime(settings: &Settings) -> &RuntimeSettings {
///         &settings.runtime
///     }
///     fn telemetry(settings: &Settings) -> &TelemetrySettings {
///         &settings.telemetry
///     }
///     async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
///         let host = ServiceHost::start(&settings.runtime, Readiness::new()).await?;
///         Ok(Running::new(host, App))
///     }
///     fn migrate(_settings: &Settings) -> Option<impl Future<Output = anyhow::Result<()>> + Send> {
///         Some(async { Ok(()) })
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     platform_runtime::run::<App>().await
/// }
/// ```
pub trait Service: Sized + Send + 'static {
    /// The binary's name, in its messages (`auth: unknown command …`).
    const NAME: &'static str;

    /// Commands of the service's own, run before its settings are read: each reads only what
    /// it needs (`dead-letters` needs the Kafka settings, not a database). Listed in the
    /// usage message after `health`.
    const COMMANDS: &'static [Command] = &[];

    /// Everything the service reads from the environment, validated.
    type Settings: Send;

    /// Reads the settings; an error names the variable.
    fn settings(env: &Env) -> Result<Self::Settings, ConfigError>;

    /// The ops listener and shutdown settings, for `health`.
    fn runtime(settings: &Self::Settings) -> &RuntimeSettings;

    /// How the process logs and traces, installed before serving or migrating.
    fn telemetry(settings: &Self::Settings) -> &TelemetrySettings;

    /// Binds every listener and starts serving (the service's `App::build`).
    fn start(
        settings: Self::Settings,
    ) -> impl Future<Output = anyhow::Result<Running<Self>>> + Send;

    /// `migrate`: applies the database migrations and exits (the Kubernetes migration Job and
    /// the compose one-shot run it). `None`, the default, for a service without a database:
    /// its binary then has no `migrate` command.
    fn migrate(
        settings: &Self::Settings,
    ) -> Option<impl Future<Output = anyhow::Result<()>> + Send> {
        let _ = settings;
        None::<std::future::Ready<anyhow::Result<()>>>
    }
}

/// A command a service adds to its binary ([`Service::COMMANDS`]).
///
/// ```
/// use platform_runtime::Command;
///
/// const HELLO: Command = Command {
///     name: "hello",
///     run: |args| Box::pin(async move {
///         println!("hello {}", args.join(" "));
///         0
///     }),
/// };
/// ```
pub struct Command {
    /// The binary's first argument that runs it.
    pub name: &'static str,
    /// Runs it with the arguments after its name; resolves to the exit status.
    pub run: fn(Vec<String>) -> BoxFuture<'static, i32>,
}
