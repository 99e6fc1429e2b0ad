//! The platform as users run it: the `devstack` binary, one process or one per service, started,
//! SIGKILLed and restarted by the test (`platform_testkit::native`). These tests use the usual
//! ports (8080, 9100, 50051…, 9092), so nextest runs them one at a time
//! (`.config/nextest.toml`), and databases and Redis keys of their own.

mod crash;
mod processes;

use platform_testkit::native::{Layout, NativeRun};

/// The platform as users start it: this package's `devstack` binary.
async fn start(layout: Layout) -> NativeRun {
    NativeRun::start(env!("CARGO_BIN_EXE_devstack"), layout).await
}
