//! The process's own memory, exported by every service: its resident memory (with the other
//! `process_*` gauges of the `metrics-process` crate: CPU, threads, file descriptors) and the
//! memory limit of its cgroup, so an alert can compare the two before the kernel's OOM killer
//! does.
//!
//! Metric names:
//! - `process_resident_memory_bytes` (gauge; [`RESIDENT_MEMORY`])
//! - `process_memory_limit_bytes` (gauge; [`MEMORY_LIMIT`]), absent when there is no limit

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The resident set size of the process, in bytes (recorded by `metrics-process`).
pub const RESIDENT_MEMORY: &str = "process_resident_memory_bytes";

/// The memory limit of the process's cgroup, in bytes; not recorded when it has none.
pub const MEMORY_LIMIT: &str = "process_memory_limit_bytes";

/// How often the gauges are sampled: often enough for a 5-minute alert, and each sample is a
/// few small reads of `/proc` and `/sys/fs/cgroup`.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// A limit at or above this is "no limit": cgroup v1 writes its unlimited value as
/// `i64::MAX` rounded down to a page (9223372036854771712), and no machine has 1 EiB.
const UNLIMITED_FROM: u64 = 1 << 60;

/// Samples the process gauges now, then every [`SAMPLE_EVERY`] until `stop`.
/// [`ServiceHost::start`](crate::ServiceHost::start) runs it for every service.
///
/// ```no_run
/// # fn run(lifecycle: &platform_runtime::Lifecycle) {
/// lifecycle.spawn("process metrics", platform_runtime::process::run_sampler);
/// # }
/// ```
pub async fn run_sampler(stop: CancellationToken) -> anyhow::Result<()> {
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = every.tick() => sample(),
        }
    }
}

/// Records the gauges once. Reads of /proc and /sys are served from kernel memory and never
/// block for long, so this runs on the async runtime rather than the blocking pool.
pub(crate) fn sample() {
    collector().collect();
    // Read each time: a pod's limit can be resized in place.
    if let Some(limit) = memory_limit() {
        metrics::gauge!(MEMORY_LIMIT).set(limit as f64);
    }
}

/// The `metrics-process` collector, its metrics described once per process.
fn collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        // The recorder must exist before anything is described or recorded.
        crate::metrics::handle();
        let collector = metrics_process::Collector::default();
        collector.describe();
        metrics::describe_gauge!(
            MEMORY_LIMIT,
            metrics::Unit::Bytes,
            "Memory limit of the process's cgroup; absent when unlimited."
        );
        collector
    })
}

/// The memory limit of this process's cgroup in bytes, or `None` when it has none ("max")
/// or none can be read (not Linux, no cgroup file system mounted).
///
/// ```
/// // On a laptop usually None; in a container with a 256 MiB limit, Some(268435456).
/// let _limit: Option<u64> = platform_runtime::process::memory_limit();
/// ```
pub fn memory_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    limit_under(Path::new("/sys/fs/cgroup"), &own)
}

/// The limit in the first of [`limit_files`] that can be read.
fn limit_under(root: &Path, own: &str) -> Option<u64> {
    limit_files(root, own)
        .iter()
        .find_map(|file| std::fs::read_to_string(file).ok())
        .and_then(|text| parse_limit(&text))
}

/// The files that may hold the limit, the process's own cgroup first, under `root` (where
/// the cgroup file system is mounted). `own` is `/proc/self/cgroup`: `0::<path>` on cgroup
/// v2, `<n>:memory:<path>` (among others) on v1. In a container with its own cgroup
/// namespace the path is `/`, and the files at the top are the container's.
fn limit_files(root: &Path, own: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut v1_path = None;
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if id == "0" && controllers.is_empty() {
            if !relative.is_empty() {
                files.push(root.join(relative).join("memory.max"));
            }
        } else if controllers.split(',').any(|c| c == "memory") && !relative.is_empty() {
            v1_path = Some(
                root.join("memory")
                    .join(relative)
                    .join("memory.limit_in_bytes"),
            );
        }
    }
    files.push(root.join("memory.max"));
    files.extend(v1_path);
    files.push(root.join("memory").join("memory.limit_in_bytes"));
    files
}

/// A cgroup memory limit file's content: `max` (v2's "no limit") and v1's huge "no limit"
/// are `None`, a number of bytes is that number.
fn parse_limit(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .filter(|&bytes| bytes > 0 && bytes < UNLIMITED_FROM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_is_no_limit_and_a_number_is_bytes() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("268435456\n"), Some(268_435_456));
        assert_eq!(parse_limit("9223372036854771712\n"), None, "v1's unlimited");
        assert_eq!(parse_limit(""), None);
        assert_eq!(parse_limit("lots"), None);
    }

    #[test]
    fn the_own_cgroup_is_read_before_the_top_one() {
        let root = Path::new("/cg");
        let v2 = limit_files(root, "0::/kubepods/pod1/ctr\n");
        assert_eq!(
            v2[..2],
            [
                PathBuf::from("/cg/kubepods/pod1/ctr/memory.max"),
                PathBuf::from("/cg/memory.max"),
            ]
        );
        // A cgroup namespace shows the container's own cgroup as the top one.
        assert_eq!(limit_files(root, "0::/\n")[0], Path::new("/cg/memory.max"));
        let v1 = limit_files(root, "5:cpu,cpuacct:/a\n4:memory:/docker/abc\n0::/\n");
        assert_eq!(
            v1,
            [
                PathBuf::from("/cg/memory.max"),
                PathBuf::from("/cg/memory/docker/abc/memory.limit_in_bytes"),
                PathBuf::from("/cg/memory/memory.limit_in_bytes"),
            ]
        );
    }

    #[test]
    fn a_limit_is_read_from_the_first_file_there_is() {
        let root = std::env::temp_dir().join(format!("cgroup-test-{}", std::process::id()));
        let own = root.join("memory/docker/abc");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(own.join("memory.limit_in_bytes"), "1073741824\n").unwrap();
        let found = limit_under(&root, "4:memory:/docker/abc\n");
        let unlimited_v2 = {
            std::fs::write(root.join("memory.max"), "max\n").unwrap();
            limit_under(&root, "4:memory:/docker/abc\n")
        };
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found, Some(1 << 30));
        assert_eq!(unlimited_v2, None, "v2's own answer comes first");
        assert_eq!(limit_under(&root, "0::/\n"), None, "nothing to read");
    }
}
