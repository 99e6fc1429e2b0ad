//! What a service tells the shared binary shell ([`run`](crate::run)) about itself, once, in
//! its library: its name, its settings, how it starts, and the commands it adds.

use std::future::Future;

use futures::future::BoxFuture;
use platform_config::{ConfigError, Env};
use platform_telemetry::TelemetrySettings;

use crate::{Running, RuntimeSettings};

/// A service's settings, as the shell reads and uses them: implemented once, next to the
/// service's `Settings`; `from_env` is where the variables are read, and `shell` gives the
/// two parts every service has.
///
/// ```
/// use platform_config::{ConfigError, Env};
/// use platform_runtime::{RuntimeSettings, ServiceSettings};
/// use platform_telemetry::TelemetrySettings;
///
/// pub struct Settings {
///     telemetry: TelemetrySettings,
///     runtime: RuntimeSettings,
/// }
///
/// impl ServiceSettings for Settings {
///     fn from_env(env: &Env) -> Result<Self, ConfigError> {
///         Ok(Self {
///             telemetry: TelemetrySettings::from_env(env, "billing")?,
///             runtime: RuntimeSettings::from_env(env, 9106)?,
///         })
///     }
///     fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
///         (&self.runtime, &self.telemetry)
///     }
/// }
///
/// let settings = Settings::from_env(&Env::from_pairs([("OPS_PORT", "9200")])).unwrap();
/// assert_eq!(settings.shell().0.ops.addr.port(), 9200);
/// ```
pub trait ServiceSettings: Sized + Send {
    /// Reads and validates everything the service reads from the environment; an error names
    /// the variable.
    fn from_env(env: &Env) -> Result<Self, ConfigError>;

    /// The two parts the shell uses itself: the ops listener and shutdown settings (probed by
    /// `health`), and how the process logs and traces (installed before serving or migrating).
    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings);
}

/// A service, as its binary sees it: what differs from one service to the next. `main` is
/// then one line: `platform_runtime::run::<auth_service::App>().await`.
///
/// ```no_run
/// # use platform_config::{ConfigError, Env};
/// # use platform_runtime::{RuntimeSettings, ServiceSettings};
/// # use platform_telemetry::TelemetrySettings;
/// # pub struct Settings { telemetry: TelemetrySettings, runtime: RuntimeSettings }
/// # impl ServiceSettings for Settings {
/// #     fn from_env(env: &Env) -> Result<Self, ConfigError> {
/// #         Ok(Self {
/// #             telemetry: TelemetrySettings::from_env(env, "billing")?,
/// #             runtime: RuntimeSettings::from_env(env, 9106)?,
/// #         })
/// #     }
/// #     fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
/// #         (&self.runtime, &self.telemetry)
/// #     }
/// # }
/// use platform_runtime::{Readiness, Running, Service, ServiceHost};
///
/// pub struct App;
///
/// impl Service for App {
///     const NAME: &'static str = "billing";
///     type Settings = Settings;
///
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

    /// Variables `from_env` lets be unset that serving needs: a publishing or consuming
    /// service cannot start without `KAFKA_BROKERS`, which tests and the native run fill in
    /// with an embedded broker after reading. Devstack's `env-vars` reports them as required.
    const SERVING_NEEDS: &'static [&'static str] = &[];

    /// Everything the service reads from the environment, validated.
    type Settings: ServiceSettings;

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
