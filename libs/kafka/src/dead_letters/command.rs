//! The `dead-letters` subcommand every consuming service's binary has:
//!
//! ```text
//! SERVICE dead-letters list [TOPIC]
//! SERVICE dead-letters redrive [TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)
//! SERVICE dead-letters discard [TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)
//! ```
//!
//! It reads only the service's Kafka settings (`KAFKA_BROKERS`, `KAFKA_CONSUMER_GROUP`), so it
//! runs wherever the brokers are reachable. Exit status: 0 done, 1 Kafka failed or nothing
//! matched, 2 usage or configuration error.

use std::fmt::Write as _;

use platform_config::Env;

use super::args::{Request, parse};
use super::redrive::Action;
use super::table::render;
use super::{DeadLetterError, DeadLetters, Handled};
use crate::KafkaSettings;
use crate::wire::dead_letter_topic;

/// The subcommand's name: `user dead-letters list`.
pub const DEAD_LETTERS_COMMAND: &str = "dead-letters";

/// A service that consumes events: the topics whose dead letters its binary's
/// `dead-letters` command lists and re-drives, and its [`DeadLetterGauge`](super::DeadLetterGauge)
/// counts.
///
/// ```
/// use platform_kafka::dead_letters::{ConsumedTopics, dead_letters_command};
/// # use platform_config::{ConfigError, Env};
/// # use platform_runtime::{Readiness, Running, RuntimeSettings, ServiceHost, ServiceSettings};
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
///
/// pub struct App;
///
/// impl ConsumedTopics for App {
///     const CONSUMED_TOPICS: &'static [&'static str] = &["user.registered"];
/// }
///
/// impl platform_runtime::Service for App {
///     const NAME: &'static str = "billing";
///     const COMMANDS: &'static [platform_runtime::Command] = &[dead_letters_command::<Self>()];
///     type Settings = Settings;
///
///     async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
///         let host = ServiceHost::start(&settings.runtime, Readiness::new()).await?;
///         Ok(Running::new(host, App))
///     }
/// }
///
/// assert_eq!(<App as platform_runtime::Service>::COMMANDS[0].name, "dead-letters");
/// ```
pub trait ConsumedTopics: platform_runtime::Service {
    /// The topics the service consumes.
    const CONSUMED_TOPICS: &'static [&'static str];
}

/// The `dead-letters` command of `S`'s binary (for [`Service::COMMANDS`]): [`command`] with
/// `S`'s name and consumed topics.
///
/// [`Service::COMMANDS`]: platform_runtime::Service::COMMANDS
pub const fn dead_letters_command<S: ConsumedTopics>() -> platform_runtime::Command {
    platform_runtime::Command {
        name: DEAD_LETTERS_COMMAND,
        run: |args| Box::pin(command(S::NAME, S::CONSUMED_TOPICS, args)),
    }
}

/// What a run printed and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `SERVICE dead-letters ARGS` (`args` after `dead-letters`) with the Kafka settings
/// `service` reads from the environment, prints, and returns the exit status.
///
/// ```no_run
/// # async fn main_() {
/// let command = std::env::args().nth(1);
/// if command.as_deref() == Some(platform_kafka::DEAD_LETTERS_COMMAND) {
///     let args = std::env::args().skip(2);
///     std::process::exit(platform_kafka::dead_letters::command("user", &["user.registered"], args).await);
/// }
/// # }
/// ```
pub async fn command(
    service: &str,
    topics: &[&str],
    args: impl IntoIterator<Item = String>,
) -> i32 {
    let args: Vec<String> = args.into_iter().collect();
    let output = match KafkaSettings::from_env(&Env::from_process(), service) {
        Ok(settings) => execute(service, &settings, topics, &args).await,
        Err(e) => Output {
            status: 2,
            stdout: String::new(),
            stderr: format!("{service}: configuration error: {e}\n"),
        },
    };
    print!("{}", output.stdout);
    eprint!("{}", output.stderr);
    output.status
}

/// [`command`] with the settings given: what it would print, and its status.
///
/// ```no_run
/// # async fn run(settings: &platform_kafka::KafkaSettings) {
/// let args = ["list".to_owned()];
/// let output = platform_kafka::dead_letters::execute("user", settings, &["user.registered"], &args).await;
/// assert_eq!(output.status, 0, "{}", output.stderr);
/// # }
/// ```
pub async fn execute(
    service: &str,
    settings: &KafkaSettings,
    topics: &[&str],
    args: &[String],
) -> Output {
    let fail = |status, message: String| Output {
        status,
        stdout: String::new(),
        stderr: format!("{service} {DEAD_LETTERS_COMMAND}: {message}\n"),
    };
    let request = match parse(args) {
        Ok(request) => request,
        Err(e) => return fail(2, format!("{e}\n{}", usage(service, topics))),
    };
    if request == Request::Help {
        return Output {
            status: 0,
            stdout: usage(service, topics),
            stderr: String::new(),
        };
    }
    if let Err(e) = settings.bootstrap_servers() {
        return fail(2, format!("configuration error: {e}"));
    }
    match run(&DeadLetters::new(settings, topics), request).await {
        Ok(stdout) => Output {
            status: 0,
            stdout,
            stderr: String::new(),
        },
        Err(e) if e.is_usage() => fail(2, e.to_string()),
        Err(e @ DeadLetterError::NotFound { .. }) => fail(1, e.to_string()),
        Err(e) => {
            let brokers = settings.brokers.as_deref().unwrap_or_default();
            let group = &settings.consumer_group;
            let error = anyhow::Error::from(e);
            fail(
                1,
                format!("{error:#}\n(KAFKA_BROKERS={brokers}, KAFKA_CONSUMER_GROUP={group})"),
            )
        }
    }
}

async fn run(dead_letters: &DeadLetters, request: Request) -> Result<String, DeadLetterError> {
    let mut out = String::new();
    match request {
        Request::Help => {}
        Request::List(topic) => {
            for original in dead_letters.resolve(topic.as_deref())? {
                let topic = dead_letter_topic(original);
                let letters = dead_letters.list(Some(original)).await?;
                let waiting = letters.iter().filter(|l| l.waiting).count();
                let _ = writeln!(
                    out,
                    "{topic}: {}, {waiting} waiting (redrive group {})",
                    self::letters(letters.len()),
                    dead_letters.group()
                );
                if !letters.is_empty() {
                    out.push_str(&render(&letters));
                }
            }
        }
        Request::Handle(action, topic, which) => {
            let handled = dead_letters
                .handle(topic.as_deref(), &which, action)
                .await?;
            report(&mut out, &handled, action);
        }
    }
    Ok(out)
}

fn report(out: &mut String, handled: &Handled, action: Action) {
    let (done, how) = match action {
        Action::Redrive => ("re-drove", "(each to its original topic)"),
        Action::Discard => ("discarded", "(marked handled, not sent; still listed)"),
    };
    if handled.handled.is_empty() && handled.already.is_empty() {
        out.push_str("no dead letter waits: nothing to do\n");
        return;
    }
    if !handled.handled.is_empty() {
        let _ = writeln!(out, "{done} {} {how}", letters(handled.handled.len()));
        out.push_str(&render(&handled.handled));
    }
    if !handled.already.is_empty() {
        let _ = writeln!(
            out,
            "not sent again, re-driven or discarded before: {}",
            letters(handled.already.len())
        );
        out.push_str(&render(&handled.already));
    }
}

/// `1 dead letter`, `2 dead letters`.
fn letters(count: usize) -> String {
    match count {
        1 => "1 dead letter".to_owned(),
        n => format!("{n} dead letters"),
    }
}

fn usage(service: &str, topics: &[&str]) -> String {
    format!(
        "usage: {service} {DEAD_LETTERS_COMMAND} list [TOPIC]\n\
         \x20      {service} {DEAD_LETTERS_COMMAND} redrive [TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)\n\
         \x20      {service} {DEAD_LETTERS_COMMAND} discard [TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)\n\
         TOPIC: {} (or its .dlq); without it, every one. redrive publishes waiting dead letters\n\
         back to their topic; discard marks them handled without sending them.\n",
        topics.join(", ")
    )
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the `user` service's command (it consumes `user.registered`) with `args`.
    async fn user_command(args: &[&str]) -> Output {
        let settings = KafkaSettings::for_tests("127.0.0.1:1", "user");
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        execute("user", &settings, &["user.registered"], &args).await
    }

    fn assert_says(stderr: &str, expected: &[&str]) {
        for says in expected {
            assert!(stderr.contains(says), "no {says:?} in: {stderr}");
        }
    }

    #[tokio::test]
    async fn usage_errors_exit_2_and_print_the_usage() {
        let output = user_command(&["replay"]).await;
        assert_eq!(output.status, 2);
        assert_says(
            &output.stderr,
            &[
                "unknown subcommand",
                "usage: user dead-letters list",
                "TOPIC: user.registered",
            ],
        );
    }

    #[tokio::test]
    async fn an_unknown_topic_is_a_usage_error_naming_the_known_ones() {
        let output = user_command(&["list", "media.uploaded"]).await;
        assert_eq!(output.status, 2, "{output:?}");
        assert_says(
            &output.stderr,
            &[
                "\"media.uploaded\" is not a topic",
                "it consumes user.registered",
            ],
        );
    }
}
