//! Bounds on what the worker accepts, so one hostile upload cannot exhaust a worker's memory.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `MEDIA_MAX_WIDTH` | `10000` | widest image accepted, in pixels, as stored (before EXIF rotation) |
//! | `MEDIA_MAX_HEIGHT` | `10000` | tallest image accepted, in pixels, as stored |
//! | `MEDIA_MAX_PIXELS` | `40000000` | most pixels (width × height) accepted |
//! | `MEDIA_MAX_INPUT_BYTES` | `52428800` (50 MiB) | largest upload accepted |
//! | `MEDIA_MAX_DECODE_BYTES` | `536870912` (512 MiB) | most memory a decoder may allocate, output buffer included |
//!
//! One job holds at most the decoded image (bounded by `MEDIA_MAX_DECODE_BYTES`) plus one
//! converted copy: a 40 MP JPEG photo needs about 240 MB, a 40 MP 16-bit RGBA PNG about 480 MB.
//! Size the pool's threads and the pod's memory limit together.

use platform_config::{ConfigError, Env};

/// Limits checked against an image's header before any pixel is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    pub max_input_bytes: u64,
    /// Handed to the decoder as `image::Limits::max_alloc`: a second fence behind the
    /// header checks, which also covers the decoder's own working buffers.
    pub max_decode_alloc_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_width: 10_000,
            max_height: 10_000,
            max_pixels: 40_000_000,
            max_input_bytes: 50 * 1024 * 1024,
            max_decode_alloc_bytes: 512 * 1024 * 1024,
        }
    }
}

impl ImageLimits {
    /// Reads the `MEDIA_MAX_*` variables, each defaulting as in [`ImageLimits::default`].
    /// A zero is refused: it would make every upload fail.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            max_width: positive(env, "MEDIA_MAX_WIDTH", defaults.max_width)?,
            max_height: positive(env, "MEDIA_MAX_HEIGHT", defaults.max_height)?,
            max_pixels: positive(env, "MEDIA_MAX_PIXELS", defaults.max_pixels)?,
            max_input_bytes: positive(env, "MEDIA_MAX_INPUT_BYTES", defaults.max_input_bytes)?,
            max_decode_alloc_bytes: positive(
                env,
                "MEDIA_MAX_DECODE_BYTES",
                defaults.max_decode_alloc_bytes,
            )?,
        })
    }
}

fn positive<T>(env: &Env, name: &str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + Default + PartialEq,
    T::Err: std::fmt::Display,
{
    let value = env.or(name, default)?;
    if value == T::default() {
        return Err(ConfigError::invalid(name, "must be greater than zero"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use platform_testkit::refusal;

    use super::*;

    #[test]
    fn unset_variables_give_the_defaults() {
        let limits = ImageLimits::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(limits, ImageLimits::default());
    }

    #[test]
    fn each_variable_overrides_its_limit() {
        let env = Env::from_pairs([
            ("MEDIA_MAX_WIDTH", "4000"),
            ("MEDIA_MAX_HEIGHT", "3000"),
            ("MEDIA_MAX_PIXELS", "12000000"),
            ("MEDIA_MAX_INPUT_BYTES", "1048576"),
            ("MEDIA_MAX_DECODE_BYTES", "67108864"),
        ]);
        let limits = ImageLimits::from_env(&env).unwrap();
        assert_eq!(
            limits,
            ImageLimits {
                max_width: 4000,
                max_height: 3000,
                max_pixels: 12_000_000,
                max_input_bytes: 1 << 20,
                max_decode_alloc_bytes: 64 << 20,
            }
        );
    }

    #[test]
    fn a_zero_or_garbage_limit_is_refused_by_name() {
        for (name, value) in [("MEDIA_MAX_PIXELS", "0"), ("MEDIA_MAX_WIDTH", "wide")] {
            let err = refusal(ImageLimits::from_env, &[(name, value)]);
            assert!(err.contains(name), "{err}");
        }
    }
}
