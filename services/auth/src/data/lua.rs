//! Running a Lua script in Redis with two commands only, as every Redis from 2.6 to 7 and
//! the managed ones take them: EVALSHA of the script's SHA-1, and EVAL of its source when
//! Redis does not have it cached (after a restart, a failover or SCRIPT FLUSH). No SCRIPT
//! LOAD, no MULTI: whatever a caller does in Redis, it does inside its script.

use std::sync::OnceLock;

use platform_redis::redis::aio::ConnectionLike;
use platform_redis::redis::{self, ErrorKind, FromRedisValue, RedisResult, ServerErrorKind};

/// A script and the SHA-1 Redis caches it under.
pub struct LuaScript {
    source: &'static str,
    sha1: OnceLock<String>,
}

impl LuaScript {
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            sha1: OnceLock::new(),
        }
    }

    /// Runs the script with `keys` and `args`: the only commands sent are these two.
    pub async fn eval<T: FromRedisValue>(
        &self,
        conn: &mut impl ConnectionLike,
        keys: &[String],
        args: &[String],
    ) -> RedisResult<T> {
        let call = |command: &str, script: &str| {
            let mut cmd = redis::cmd(command);
            cmd.arg(script).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        let sha1 = self.sha1.get_or_init(|| sha1_hex(self.source.as_bytes()));
        match call("EVALSHA", sha1).query_async(conn).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                call("EVAL", self.source).query_async(conn).await
            }
            other => other,
        }
    }
}

/// SHA-1 (FIPS 180-4), only as the name of the script in Redis's script cache, not for
/// security. `redis::Script` would compute it, but it sits behind redis's `script` feature,
/// which auth cannot turn on without changing the workspace's lock file.
fn sha1_hex(data: &[u8]) -> String {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = u64::try_from(data.len())
        .unwrap_or(u64::MAX)
        .wrapping_mul(8);
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0_u32; 80];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = state;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, next);
        }
        for (value, add) in state.iter_mut().zip([a, b, c, d, e]) {
            *value = value.wrapping_add(add);
        }
    }
    state.iter().map(|word| format!("{word:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commands that exist, with the arguments the script may give them, in Redis 6.2 (and
    /// older): what managed Redis 6 offers. Options added in 7 (`PEXPIRE ... NX|XX|GT|LT`,
    /// `EXPIRETIME`, `ZINTERCARD`, ...) are not here.
    const REDIS_6_2: &[&str] = &[
        "DECR",
        "DEL",
        "EXISTS",
        "GET",
        "INCR",
        "PEXPIRE",
        "PTTL",
        "SET",
        "TIME",
        "ZADD",
        "ZCARD",
        "ZREM",
        "ZREMRANGEBYRANK",
        "ZREMRANGEBYSCORE",
        "ZSCORE",
    ];

    /// The command names of every `redis.call('NAME'` and `redis.pcall('NAME'` in the script.
    fn called_commands(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for call in ["redis.call(", "redis.pcall("] {
            for (at, _) in source.match_indices(call) {
                let rest = source[at + call.len()..].trim_start();
                let name = rest
                    .strip_prefix('\'')
                    .and_then(|r| r.split_once('\''))
                    .map(|(name, _)| name.to_owned());
                // A computed name could be anything: refuse it rather than guess.
                names.push(
                    name.unwrap_or_else(|| {
                        panic!("a command name that is not a literal: {rest:.40}")
                    }),
                );
            }
        }
        names
    }

    #[test]
    fn the_throttle_script_calls_only_redis_6_2_commands() {
        let source = crate::data::throttle::SCRIPT.source;
        let called = called_commands(source);
        assert!(called.len() > 10, "the parser found the calls: {called:?}");
        for name in &called {
            assert!(
                REDIS_6_2.contains(&name.as_str()),
                "{name} is not in Redis 6.2's list"
            );
        }
        // PEXPIRE/EXPIRE options arrived in Redis 7; SET's PX is from 2.6.12.
        for option in [
            "'NX'",
            "'XX'",
            "'GT'",
            "'LT'",
            "'KEEPTTL'",
            "'EXAT'",
            "'PXAT'",
        ] {
            assert!(
                !source.contains(option),
                "{option} is not a Redis 6.2 option here"
            );
        }
    }

    #[test]
    fn the_parser_refuses_a_computed_command_name() {
        let result = std::panic::catch_unwind(|| called_commands("redis.call(name, KEYS[1])"));
        assert!(result.is_err());
        assert_eq!(called_commands("redis.pcall( 'GET', k)"), ["GET"]);
    }

    #[test]
    fn sha1_matches_the_fips_180_examples() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            sha1_hex(two_blocks),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }
}
