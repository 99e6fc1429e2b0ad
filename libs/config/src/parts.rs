//! The settings of a service's removable parts (the gateway's media routes, the user
//! service's avatars): each part reads its own, and the service keeps them without naming
//! them, so deleting a part deletes its settings too.

use std::any::Any;
use std::fmt::Debug;

use crate::{ConfigError, Env};

/// How a part reads its settings: from the environment, validated, as a boxed
/// [`PartSettings`].
pub type ReadPart = fn(&Env) -> Result<Box<dyn PartSettings>, ConfigError>;

/// A part's settings, kept in [`Parts`] and found again by type. Any `Debug + Clone` settings
/// type is one.
pub trait PartSettings: Any + Debug + Send + Sync {
    /// A copy, boxed (so [`Parts`] is `Clone` like the settings holding it).
    fn clone_box(&self) -> Box<dyn PartSettings>;
}

impl<T: Any + Debug + Clone + Send + Sync> PartSettings for T {
    fn clone_box(&self) -> Box<dyn PartSettings> {
        Box::new(self.clone())
    }
}

/// Every part's settings, read once with the service's and found by type.
///
/// ```
/// use platform_config::{ConfigError, Env, PartSettings, Parts, ReadPart};
///
/// #[derive(Debug, Clone)]
/// struct AvatarSettings { max: u32 }
///
/// const READERS: &[ReadPart] = &[|env| {
///     Ok(Box::new(AvatarSettings { max: env.or("AVATAR_MAX", 4)? }) as Box<dyn PartSettings>)
/// }];
///
/// let mut parts = Parts::from_env(&Env::from_pairs([("AVATAR_MAX", "8")]), READERS)?;
/// assert_eq!(parts.get::<AvatarSettings>().unwrap().max, 8);
/// parts.get_mut::<AvatarSettings>().unwrap().max = 2;
/// assert_eq!(parts.get::<AvatarSettings>().unwrap().max, 2);
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Parts(Vec<Box<dyn PartSettings>>);

impl Parts {
    /// Reads every part's settings with its reader; the first error stops, naming its variable.
    pub fn from_env(env: &Env, readers: &[ReadPart]) -> Result<Self, ConfigError> {
        readers
            .iter()
            .map(|read| read(env))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The settings of type `T`, if a part has them.
    pub fn get<T: PartSettings>(&self) -> Option<&T> {
        self.0
            .iter()
            .find_map(|s| (&**s as &dyn Any).downcast_ref())
    }

    /// The settings of type `T`, to change before the service starts (tests).
    pub fn get_mut<T: PartSettings>(&mut self) -> Option<&mut T> {
        self.0
            .iter_mut()
            .find_map(|s| (&mut **s as &mut dyn Any).downcast_mut())
    }
}

impl Clone for Parts {
    fn clone(&self) -> Self {
        Self(self.0.iter().map(|s| (**s).clone_box()).collect())
    }
}
