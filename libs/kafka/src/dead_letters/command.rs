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
use uuid::Uuid;

use super::table::render;
use super::{DeadLetterError, DeadLetters, Handled, Selection};
use crate::KafkaSettings;
use crate::wire::dead_letter_topic;

/// The subcommand's name: `user dead-letters list`.
pub const DEAD_LETTERS_COMMAND: &str = "dead-letters";

/// What the subcommand was asked.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Help,
    List(Option<String>),
    Redrive(Option<String>, Selection),
    Discard(Option<String>, Selection),
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
        Request::Redrive(topic, which) => {
            let handled = dead_letters.redrive(topic.as_deref(), &which).await?;
            report(
                &mut out,
                &handled,
                "re-drove",
                "(each to its original topic)",
            );
        }
        Request::Discard(topic, which) => {
            let handled = dead_letters.discard(topic.as_deref(), &which).await?;
            report(
                &mut out,
                &handled,
                "discarded",
                "(marked handled, not sent; still listed)",
            );
        }
    }
    Ok(out)
}

fn report(out: &mut String, handled: &Handled, done: &str, how: &str) {
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

fn parse(args: &[String]) -> Result<Request, String> {
    let Some((verb, rest)) = args.split_first() else {
        return Err("say what to do: list, redrive or discard".to_owned());
    };
    match verb.as_str() {
        "help" | "-h" | "--help" => Ok(Request::Help),
        "list" => match rest {
            [] => Ok(Request::List(None)),
            [topic] if !topic.starts_with('-') => Ok(Request::List(Some(topic.clone()))),
            _ => Err(format!(
                "list takes at most a TOPIC, not {:?}",
                rest.join(" ")
            )),
        },
        "redrive" => {
            let (topic, which) = parse_selection(rest)?;
            Ok(Request::Redrive(topic, which))
        }
        "discard" => {
            let (topic, which) = parse_selection(rest)?;
            Ok(Request::Discard(topic, which))
        }
        other => Err(format!("unknown subcommand {other:?}")),
    }
}

/// `[TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)`.
fn parse_selection(args: &[String]) -> Result<(Option<String>, Selection), String> {
    let (topic, flags) = match args.first() {
        Some(first) if !first.starts_with('-') => (Some(first.clone()), &args[1..]),
        _ => (None, args),
    };
    let (flag, values) = match flags.split_first() {
        None => {
            return Err(
                "say which: --all, --id EVENT_ID... or --offset PARTITION:OFFSET...".to_owned(),
            );
        }
        Some((flag, values)) => (flag.as_str(), values),
    };
    if let Some(extra) = values.iter().find(|v| v.starts_with("--")) {
        return Err(format!(
            "{extra} cannot follow {flag}: use one of --all, --id, --offset"
        ));
    }
    let which = match flag {
        "--all" if values.is_empty() => Selection::All,
        "--all" => return Err(format!("--all takes no values, not {:?}", values.join(" "))),
        "--id" if values.is_empty() => return Err("--id needs at least one EVENT_ID".to_owned()),
        "--id" => Selection::Ids(
            values
                .iter()
                .map(|v| {
                    v.parse::<Uuid>()
                        .map_err(|_| format!("{v:?} is not an event id (a UUID)"))
                })
                .collect::<Result<_, _>>()?,
        ),
        "--offset" if values.is_empty() => {
            return Err("--offset needs at least one PARTITION:OFFSET".to_owned());
        }
        "--offset" => Selection::Offsets(
            values
                .iter()
                .map(|v| parse_offset(v))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown option {other:?}")),
    };
    Ok((topic, which))
}

fn parse_offset(value: &str) -> Result<(i32, i64), String> {
    value
        .split_once(':')
        .and_then(|(p, o)| Some((p.parse().ok()?, o.parse().ok()?)))
        .filter(|&(p, o)| p >= 0 && o >= 0)
        .ok_or_else(|| format!("{value:?} is not PARTITION:OFFSET (e.g. 1:42, as `list` shows)"))
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

    fn parsed(args: &str) -> Result<Request, String> {
        parse(
            &args
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
    }

    const ID: &str = "0192f0c4-5b7e-7c8a-9d2e-3f4a5b6c7d8e";

    #[test]
    fn list_takes_an_optional_topic() {
        assert_eq!(parsed("list"), Ok(Request::List(None)));
        assert_eq!(
            parsed("list user.registered"),
            Ok(Request::List(Some("user.registered".to_owned())))
        );
        assert!(parsed("list a b").is_err());
    }

    #[test]
    fn redrive_takes_all_ids_or_offsets() {
        assert_eq!(
            parsed("redrive --all"),
            Ok(Request::Redrive(None, Selection::All))
        );
        let id: Uuid = ID.parse().unwrap();
        assert_eq!(
            parsed(&format!("redrive user.registered --id {ID} {ID}")),
            Ok(Request::Redrive(
                Some("user.registered".to_owned()),
                Selection::Ids(vec![id, id])
            ))
        );
        assert_eq!(
            parsed("discard --offset 1:42 0:3"),
            Ok(Request::Discard(
                None,
                Selection::Offsets(vec![(1, 42), (0, 3)])
            ))
        );
    }

    #[test]
    fn unclear_requests_are_refused_with_the_reason() {
        for (args, reason) in [
            ("", "list, redrive or discard"),
            ("replay", "unknown subcommand"),
            ("redrive", "say which"),
            ("redrive user.registered", "say which"),
            ("redrive --id", "at least one EVENT_ID"),
            ("redrive --id nope", "not an event id"),
            ("redrive --all --id x", "cannot follow --all"),
            ("redrive --all extra", "takes no values"),
            ("redrive --offset 1", "not PARTITION:OFFSET"),
            ("redrive --offset -1:2", "not PARTITION:OFFSET"),
            ("redrive --everything", "unknown option"),
        ] {
            let error = parsed(args).unwrap_err();
            assert!(error.contains(reason), "{args:?}: {error}");
        }
    }

    #[tokio::test]
    async fn usage_errors_exit_2_and_print_the_usage() {
        let settings = KafkaSettings::for_tests("127.0.0.1:1", "user");
        let output = execute(
            "user",
            &settings,
            &["user.registered"],
            &["replay".to_owned()],
        )
        .await;
        assert_eq!(output.status, 2);
        assert!(
            output.stderr.contains("unknown subcommand"),
            "{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("usage: user dead-letters list"),
            "{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("TOPIC: user.registered"),
            "{}",
            output.stderr
        );
    }

    #[tokio::test]
    async fn an_unknown_topic_is_a_usage_error_naming_the_known_ones() {
        let settings = KafkaSettings::for_tests("127.0.0.1:1", "user");
        let args = ["list".to_owned(), "media.uploaded".to_owned()];
        let output = execute("user", &settings, &["user.registered"], &args).await;
        assert_eq!(output.status, 2, "{output:?}");
        assert!(
            output.stderr.contains("\"media.uploaded\" is not a topic"),
            "{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("it consumes user.registered"),
            "{}",
            output.stderr
        );
    }
}
