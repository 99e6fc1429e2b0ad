//! Settings tests: what a service says when it refuses its variables.

use platform_config::{ConfigError, Env};

/// The message `read` refuses the variables `pairs` with, for a test to check that it names
/// the variable at fault. Panics if `read` accepts them.
///
/// ```
/// use platform_config::{ConfigError, Env};
/// use platform_testkit::refusal;
///
/// fn workers(env: &Env) -> Result<usize, ConfigError> {
///     env.count_or("WORKERS", 4)
/// }
///
/// let err = refusal(workers, &[("WORKERS", "0")]);
/// assert!(err.contains("WORKERS"), "{err}");
/// ```
pub fn refusal<T>(
    read: impl FnOnce(&Env) -> Result<T, ConfigError>,
    pairs: &[(&str, &str)],
) -> String {
    match read(&Env::from_pairs(pairs.iter().copied())) {
        Ok(_) => panic!("settings from {pairs:?} were accepted"),
        Err(e) => e.to_string(),
    }
}
