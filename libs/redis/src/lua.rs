//! Keeping a Lua script within Redis 6.2, what managed Redis 6 offers: [`redis_6_2_violations`]
//! reads a script's text and names every command, option word and `redis.*` function in it
//! that Redis 6.2 did not have. A crate with a script checks it in a unit test:
//!
//! ```
//! # const SCRIPT: &str = "return redis.call('GET', KEYS[1])";
//! // const SCRIPT: &str = include_str!("my_script.lua");
//! assert_eq!(platform_redis::redis_6_2_violations(SCRIPT), Vec::<String>::new());
//! ```
//!
//! Scripts run through `redis::Script` (a crate turns it on with the `script` feature of
//! `deadpool-redis`): EVALSHA, and on NOSCRIPT (after a restart, a failover or SCRIPT FLUSH)
//! SCRIPT LOAD, then EVALSHA again.

use std::collections::BTreeSet;

/// Every command of Redis 6.2 (`COMMAND` on 6.2.x, lower-cased there). Commands of 7.0 and
/// later (EXPIRETIME, LMPOP, SINTERCARD, ZINTERCARD, FUNCTION, FCALL, ...) are absent.
const REDIS_6_2_COMMANDS: &[&str] = &[
    "ACL",
    "APPEND",
    "ASKING",
    "AUTH",
    "BGREWRITEAOF",
    "BGSAVE",
    "BITCOUNT",
    "BITFIELD",
    "BITFIELD_RO",
    "BITOP",
    "BITPOS",
    "BLMOVE",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZPOPMAX",
    "BZPOPMIN",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "COPY",
    "DBSIZE",
    "DEBUG",
    "DECR",
    "DECRBY",
    "DEL",
    "DISCARD",
    "DUMP",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EXEC",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "FAILOVER",
    "FLUSHALL",
    "FLUSHDB",
    "GEOADD",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GEOSEARCHSTORE",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HELLO",
    "HEXISTS",
    "HGET",
    "HGETALL",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HRANDFIELD",
    "HSCAN",
    "HSET",
    "HSETNX",
    "HSTRLEN",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LMOVE",
    "LOLWUT",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MEMORY",
    "MGET",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "MOVE",
    "MSET",
    "MSETNX",
    "MULTI",
    "OBJECT",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PFADD",
    "PFCOUNT",
    "PFDEBUG",
    "PFMERGE",
    "PFSELFTEST",
    "PING",
    "POST",
    "PSETEX",
    "PSUBSCRIBE",
    "PSYNC",
    "PTTL",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "RENAME",
    "RENAMENX",
    "REPLCONF",
    "REPLICAOF",
    "RESET",
    "RESTORE",
    "RESTORE-ASKING",
    "ROLE",
    "RPOP",
    "RPOPLPUSH",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SAVE",
    "SCAN",
    "SCARD",
    "SCRIPT",
    "SDIFF",
    "SDIFFSTORE",
    "SELECT",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SHUTDOWN",
    "SINTER",
    "SINTERSTORE",
    "SISMEMBER",
    "SLAVEOF",
    "SLOWLOG",
    "SMEMBERS",
    "SMISMEMBER",
    "SMOVE",
    "SORT",
    "SPOP",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "STRALGO",
    "STRLEN",
    "SUBSCRIBE",
    "SUBSTR",
    "SUNION",
    "SUNIONSTORE",
    "SWAPDB",
    "SYNC",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WAIT",
    "WATCH",
    "XACK",
    "XADD",
    "XAUTOCLAIM",
    "XCLAIM",
    "XDEL",
    "XGROUP",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREAD",
    "XREADGROUP",
    "XREVRANGE",
    "XSETID",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINCRBY",
    "ZINTER",
    "ZINTERSTORE",
    "ZLEXCOUNT",
    "ZMSCORE",
    "ZPOPMAX",
    "ZPOPMIN",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANGESTORE",
    "ZRANK",
    "ZREM",
    "ZREMRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
    "ZUNIONSTORE",
];

/// The option words a command took in 6.2, for the commands the script may pass literal
/// options to. A command missing here may take no literal option word until someone checks
/// its 6.2 syntax and adds it: e.g. EXPIRE/PEXPIRE took none (NX, XX, GT, LT came in 7.0).
const REDIS_6_2_OPTIONS: &[(&str, &[&str])] = &[
    (
        "SET",
        &["EX", "PX", "EXAT", "PXAT", "NX", "XX", "KEEPTTL", "GET"],
    ),
    ("GETEX", &["EX", "PX", "EXAT", "PXAT", "PERSIST"]),
    ("EXPIRE", &[]),
    ("PEXPIRE", &[]),
    ("EXPIREAT", &[]),
    ("PEXPIREAT", &[]),
];

/// The `redis.*` members scripts had in 6.2 (7.0 added REDIS_VERSION, REDIS_VERSION_NUM,
/// acl_check_cmd and register_function).
const REDIS_6_2_LUA_API: &[&str] = &[
    "call",
    "pcall",
    "error_reply",
    "status_reply",
    "sha1hex",
    "log",
    "LOG_DEBUG",
    "LOG_VERBOSE",
    "LOG_NOTICE",
    "LOG_WARNING",
    "setresp",
    "set_repl",
    "replicate_commands",
    "REPL_ALL",
    "REPL_AOF",
    "REPL_REPLICA",
    "REPL_SLAVE",
    "REPL_NONE",
    "breakpoint",
    "debug",
];

/// The Lua source without `--` comments (the script has no `--` inside strings).
fn code(script: &str) -> String {
    script
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each `redis.call(...)` / `redis.pcall(...)`: its argument text, parentheses balanced.
fn calls(code: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for (start, _) in code.match_indices("redis.") {
        let rest = &code[start + "redis.".len()..];
        let Some(args) = rest
            .strip_prefix("call")
            .or_else(|| rest.strip_prefix("pcall"))
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('('))
        else {
            continue;
        };
        let mut depth = 1;
        let end = args
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .ok_or_else(|| format!("a redis.call without its closing parenthesis: {args:.40}"))?;
        found.push(args[..end].to_owned());
    }
    Ok(found)
}

/// The string literals (single or double quoted) in `text`, in order.
fn literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            out.push(chars.by_ref().take_while(|&d| d != c).collect());
        }
    }
    out
}

/// What in `script` (a Lua script for `EVAL`) Redis 6.2 would not run, one sentence each:
/// a `redis.call`/`redis.pcall` whose command name is not a string literal or not a Redis 6.2
/// command, an option word (`NX`, `GT`, ...) its command did not take in 6.2, a `redis.*`
/// member added after 6.2. Empty when the script stays within Redis 6.2.
///
/// A text check, not a Lua parser: `--` comments are skipped, and the script must not hold
/// `--` or parentheses inside string literals of its `redis.call`s.
///
/// ```
/// use platform_redis::redis_6_2_violations;
///
/// assert!(redis_6_2_violations("return redis.call('SET', KEYS[1], ARGV[1], 'PX', 100)").is_empty());
/// assert_eq!(
///     redis_6_2_violations("return redis.call('PEXPIRE', KEYS[1], 100, 'NX')"),
///     ["PEXPIRE NX: not an option PEXPIRE had in Redis 6.2"]
/// );
/// ```
pub fn redis_6_2_violations(script: &str) -> Vec<String> {
    let code = code(script);
    let mut bad = Vec::new();
    let calls = match calls(&code) {
        Ok(calls) => calls,
        Err(unclosed) => {
            bad.push(unclosed);
            return bad;
        }
    };
    if calls.is_empty() {
        bad.push("no redis.call found: is the parser still right?".to_owned());
    }
    for args in calls {
        let first = args.trim_start();
        if !first.starts_with(['\'', '"']) {
            bad.push(format!("command name is not a literal: redis.call({args})"));
            continue;
        }
        let words = literals(first);
        let command = words[0].to_ascii_uppercase();
        if !REDIS_6_2_COMMANDS.contains(&command.as_str()) {
            bad.push(format!("{command} is not a Redis 6.2 command"));
            continue;
        }
        let options = REDIS_6_2_OPTIONS
            .iter()
            .find(|(name, _)| *name == command)
            .map_or(&[][..], |(_, options)| *options);
        for word in &words[1..] {
            let upper = word.to_ascii_uppercase();
            if word.chars().all(|c| c.is_ascii_alphabetic()) && !options.contains(&upper.as_str()) {
                bad.push(format!(
                    "{command} {upper}: not an option {command} had in Redis 6.2"
                ));
            }
        }
    }
    let members: BTreeSet<String> = code
        .match_indices("redis.")
        .map(|(i, _)| {
            code[i + "redis.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    for member in members {
        if !REDIS_6_2_LUA_API.contains(&member.as_str()) {
            bad.push(format!("redis.{member} is not in the Redis 6.2 Lua API"));
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_catches_newer_commands_options_and_api() {
        let newer = [
            ("redis.call('EXPIRETIME', KEYS[1])", "EXPIRETIME is not"),
            ("redis.call('PEXPIRE', KEYS[1], 10, 'NX')", "PEXPIRE NX"),
            ("redis.pcall(\"lmpop\", 1, KEYS[1], 'LEFT')", "LMPOP is not"),
            ("local c = 'GET'\nredis.call(c, KEYS[1])", "not a literal"),
            (
                "if redis.REDIS_VERSION_NUM then end redis.call('GET', KEYS[1])",
                "REDIS_VERSION_NUM",
            ),
        ];
        for (script, expected) in newer {
            let found = redis_6_2_violations(script);
            assert!(
                found.iter().any(|v| v.contains(expected)),
                "{script:?}: expected {expected:?} in {found:?}"
            );
        }
        // Comments do not count.
        assert_eq!(
            redis_6_2_violations("-- redis.call('GETEX')\nredis.call('GET', KEYS[1])"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_script_within_6_2_passes_and_spacing_does_not_matter() {
        let script = "local t = redis.call('TIME')\nredis.pcall( 'SET', KEYS[1], t[1], 'PX', 10)\n\
                      return redis.error_reply('no')";
        assert_eq!(redis_6_2_violations(script), Vec::<String>::new());
    }

    #[test]
    fn a_script_the_check_cannot_read_is_a_violation() {
        assert_eq!(
            redis_6_2_violations("return 1"),
            ["no redis.call found: is the parser still right?"]
        );
        let unclosed = redis_6_2_violations("redis.call('GET', KEYS[1]");
        assert!(unclosed[0].contains("closing parenthesis"), "{unclosed:?}");
    }
}
