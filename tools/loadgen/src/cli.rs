//! The command line: `loadgen run …` and `loadgen verify …`, parsed by hand (a dozen options
//! do not need an argument-parsing crate).

use std::path::PathBuf;
use std::time::Duration;

use platform_loadgen::{Error, Load, RunConfig, VerifyConfig};

pub const USAGE: &str = "\
usage:
  loadgen run --url URL (--users N | --rate R [--max-in-flight N]) [--duration 30s]
              [--timeout 10s] [--ledger PATH] [--report PATH] [--seed N]
              [--mix login=1,read_me=4,update_bio=2,read_other=4,upload_avatar=1]
              [--regions eu,us] [--quiet]
  loadgen verify --url URL --ledger PATH [--within 60s] [--timeout 10s] [--concurrency 16]

run: --users N runs N virtual users back to back (closed loop); --rate R starts R journeys
a second whatever the latency (open loop). Each user registers its own account first.
verify: checks that every write acknowledged in the ledger has its effect; exit code 1 if
any is lost.";

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    Run {
        config: RunConfig,
        ledger: Option<PathBuf>,
        report: Option<PathBuf>,
    },
    Verify {
        config: VerifyConfig,
        ledger: PathBuf,
    },
    Help,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, Error> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    let mut options = Options::parse(rest)?;
    let parsed = match command.as_str() {
        "run" => parse_run(&mut options)?,
        "verify" => parse_verify(&mut options)?,
        "help" | "-h" | "--help" => return Ok(Command::Help),
        other => return Err(usage(format!("unknown command {other:?}"))),
    };
    options.finish()?;
    Ok(parsed)
}

fn parse_run(options: &mut Options) -> Result<Command, Error> {
    let url = options.required("url")?;
    let users = options.take("users");
    let rate = options.take("rate");
    let max_in_flight = options.take("max-in-flight");
    let load = match (users, rate) {
        (Some(users), None) => {
            if max_in_flight.is_some() {
                return Err(usage("--max-in-flight goes with --rate".into()));
            }
            Load::Users(number("users", &users)?)
        }
        (None, Some(rate)) => Load::Rate {
            per_second: number("rate", &rate)?,
            max_in_flight: max_in_flight.map_or(Ok(256), |n| number("max-in-flight", &n))?,
        },
        _ => return Err(usage("give either --users N or --rate R".into())),
    };
    let mut config = RunConfig::new(url, load);
    options.set("duration", &mut config.duration, duration)?;
    options.set("timeout", &mut config.timeout, duration)?;
    options.set("seed", &mut config.seed, number)?;
    options.set("mix", &mut config.mix, |_, mix| mix.parse())?;
    options.set("regions", &mut config.regions, |_, regions| {
        Ok(regions
            .split(',')
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect())
    })?;
    config.progress = !options.flag("quiet");
    Ok(Command::Run {
        config,
        ledger: options.take("ledger").map(PathBuf::from),
        report: options.take("report").map(PathBuf::from),
    })
}

fn parse_verify(options: &mut Options) -> Result<Command, Error> {
    let mut config = VerifyConfig::new(options.required("url")?);
    let ledger = PathBuf::from(options.required("ledger")?);
    options.set("within", &mut config.within, duration)?;
    options.set("timeout", &mut config.timeout, duration)?;
    options.set("concurrency", &mut config.concurrency, number)?;
    Ok(Command::Verify { config, ledger })
}

/// `--name value`, `--name=value` and bare flags, each named once.
struct Options(Vec<(String, Option<String>)>);

impl Options {
    fn parse(args: &[String]) -> Result<Self, Error> {
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        let mut args = args.iter().peekable();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(usage(format!("unexpected argument {arg:?}")));
            };
            let (name, value) = match name.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => {
                    let value = args.next_if(|next| !next.starts_with("--")).cloned();
                    (name.to_owned(), value)
                }
            };
            if options.iter().any(|(n, _)| *n == name) {
                return Err(usage(format!("--{name} is given twice")));
            }
            options.push((name, value));
        }
        Ok(Self(options))
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(n, _)| n == name)?;
        self.0.remove(at).1.or(Some(String::new()))
    }

    fn required(&mut self, name: &str) -> Result<String, Error> {
        self.take(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| usage(format!("--{name} is required")))
    }

    /// Replaces `value` (its default) with `--name`'s, read by `parse(name, text)`, when it
    /// is given.
    fn set<T>(
        &mut self,
        name: &str,
        value: &mut T,
        parse: impl FnOnce(&str, &str) -> Result<T, Error>,
    ) -> Result<(), Error> {
        if let Some(text) = self.take(name) {
            *value = parse(name, &text)?;
        }
        Ok(())
    }

    fn flag(&mut self, name: &str) -> bool {
        self.take(name).is_some()
    }

    /// Anything left over was not understood.
    fn finish(self) -> Result<(), Error> {
        match self.0.first() {
            Some((name, _)) => Err(usage(format!("unknown option --{name}"))),
            None => Ok(()),
        }
    }
}

fn usage(message: String) -> Error {
    Error::Config(message)
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Error> {
    value
        .parse()
        .map_err(|_| usage(format!("--{name}: {value:?} is not a valid number")))
}

fn duration(name: &str, value: &str) -> Result<Duration, Error> {
    humantime::parse_duration(value).map_err(|e| {
        usage(format!(
            "--{name}: {value:?} is not a duration such as 30s ({e})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_closed_loop_run_with_every_option_parses() {
        let Command::Run {
            config,
            ledger,
            report,
        } = parse(&args(
            "run --url http://x:8080 --users 4 --duration=20s --timeout 2s --seed 9 \
             --mix read_me=1 --regions eu --ledger l.json --report r.json --quiet",
        ))
        .unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!(config.load, Load::Users(4));
        assert_eq!(config.duration, Duration::from_secs(20));
        assert_eq!(config.timeout, Duration::from_secs(2));
        assert_eq!(config.seed, 9);
        assert_eq!(config.regions, ["eu"]);
        assert!(!config.progress);
        assert_eq!(ledger.unwrap(), PathBuf::from("l.json"));
        assert_eq!(report.unwrap(), PathBuf::from("r.json"));
    }

    #[test]
    fn an_open_loop_run_takes_a_rate() {
        let Command::Run { config, .. } =
            parse(&args("run --url http://x --rate 12.5 --max-in-flight 8")).unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!(
            config.load,
            Load::Rate {
                per_second: 12.5,
                max_in_flight: 8
            }
        );
    }

    #[test]
    fn bad_command_lines_are_refused_with_the_option_named() {
        for (line, says) in [
            ("run --url http://x", "--users N or --rate R"),
            (
                "run --url http://x --users 1 --rate 2",
                "--users N or --rate R",
            ),
            ("run --users 2", "--url"),
            ("run --url http://x --users 2 --colour red", "--colour"),
            ("run --url http://x --users two", "--users"),
            ("run --url http://x --users 2 --duration soon", "--duration"),
            ("verify --url http://x", "--ledger"),
            ("dance", "dance"),
        ] {
            let error = parse(&args(line)).unwrap_err().to_string();
            assert!(error.contains(says), "{line}: {error}");
        }
    }
}
