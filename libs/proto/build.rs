//! Compiles every `.proto` under the workspace's `proto/` with protox, a pure-Rust compiler,
//! so no `protoc` binary is needed on any machine.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs, not baked in when it is compiled: a copy of the workspace
    // sharing this target directory (CI's generated-service step) reuses the compiled script.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "auth/v1/auth.proto",
        "user/v1/user.proto",
        "media/v1/media.proto",
        "events/v1/user.proto",
        "events/v1/media.proto",
    ]
    .map(|file| root.join(file));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
