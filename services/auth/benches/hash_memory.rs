//! What one argon2id hash (m = 19 MiB, t = 2, p = 1) costs when its memory is allocated per
//! hash, as argon2's own `hash_password` does (auth before issue 17), and when each thread
//! hashes into a block it keeps, as `service/passwords.rs` does now.
//!
//! `THREADS` threads (default 2, auth's pool on 2 cores) hash 20 passwords each per round;
//! rounds alternate between the two ways, 6 of each, so load from elsewhere on the machine
//! falls on both alike. Prints the median hashes/s of each.
//!
//! Run: `cargo bench -p auth-service --bench hash_memory` (`THREADS=1 cargo bench ...`).
#![allow(clippy::print_stdout)] // printing the result is this program's job

use std::time::Instant;

use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Block, Params, Version};

const ROUNDS: usize = 6;
const HASHES_PER_THREAD: usize = 20;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes/s of one round, every thread allocating per hash or keeping one block.
fn round(threads: usize, kept: bool) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(move || {
                let mut blocks = if kept {
                    vec![Block::new(); argon2().params().block_count()]
                } else {
                    Vec::new()
                };
                for i in 0..HASHES_PER_THREAD {
                    let password = format!("password number {i}");
                    if kept {
                        let mut output = [0u8; 32];
                        argon2()
                            .hash_password_into_with_memory(
                                password.as_bytes(),
                                b"a sixteen b salt",
                                &mut output,
                                &mut blocks[..],
                            )
                            .expect("hashing succeeds");
                    } else {
                        argon2()
                            .hash_password(password.as_bytes())
                            .expect("hashing succeeds");
                    }
                }
            });
        }
    });
    (threads * HASHES_PER_THREAD) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let threads: usize = std::env::var("THREADS").map_or(2, |v| v.parse().expect("a number"));
    let (mut allocating, mut kept) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        allocating.push(round(threads, false));
        kept.push(round(threads, true));
    }
    println!(
        "THREADS={threads}: allocating per hash {:.1} hashes/s, one kept block per thread \
         {:.1} hashes/s (medians of {ROUNDS} rounds of {} hashes)",
        median(allocating),
        median(kept),
        threads * HASHES_PER_THREAD,
    );
}
