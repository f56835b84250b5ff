//! How much execution memory a process may use, and where it spills the
//! rest: `--memory` / `BARKS_MEMORY` and `--spill-dir` / `BARKS_SPILL_DIR`,
//! read once at the edge (a driver's context, a worker's start).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The environment variable with a process's execution memory budget.
pub const MEMORY_ENV: &str = "BARKS_MEMORY";
/// The environment variable naming where a process makes its spill
/// directory.
pub const SPILL_DIR_ENV: &str = "BARKS_SPILL_DIR";
/// The share of the machine's memory (or of the cgroup's limit) the budget
/// takes when none is given: Spark's `spark.memory.fraction`.
pub const DEFAULT_SHARE: f64 = 0.6;

/// The variable that sets the driver's maximum result size.
pub const MAX_RESULT_SIZE_ENV: &str = "BARKS_MAX_RESULT_SIZE";

/// The driver's maximum result size when nothing sets it: 1 GiB, Spark's.
pub const DEFAULT_MAX_RESULT_SIZE: u64 = 1 << 30;

/// A process's execution memory budget and spill directory.
///
/// ```
/// use barks_runtime::memory::MemoryOptions;
///
/// let options = MemoryOptions::parse(Some("64m"), Some("/var/tmp/barks")).unwrap();
/// assert_eq!(options.memory, 64 << 20);
/// assert_eq!(options.spill_dir, std::path::Path::new("/var/tmp/barks"));
/// assert_eq!(MemoryOptions::parse(Some("unlimited"), None).unwrap().memory, u64::MAX);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryOptions {
    /// Bytes of execution memory the process's operators share; what does
    /// not fit is spilled. `0` spills everything that can spill;
    /// `u64::MAX` is unlimited.
    pub memory: u64,
    /// The directory in which the process makes its own spill directory
    /// (removed when the process is done with it).
    pub spill_dir: PathBuf,
}

impl Default for MemoryOptions {
    /// [`DEFAULT_SHARE`] of the memory this process may use, under the
    /// system temp directory.
    fn default() -> MemoryOptions {
        MemoryOptions {
            memory: default_memory(),
            spill_dir: std::env::temp_dir(),
        }
    }
}

impl MemoryOptions {
    /// The options from `BARKS_MEMORY` and `BARKS_SPILL_DIR`, with defaults
    /// for what they do not set.
    pub fn from_env() -> Result<MemoryOptions> {
        MemoryOptions::parse(None, None)
    }

    /// The options from `--memory` and `--spill-dir` flags, each falling
    /// back to its environment variable, then to the default.
    pub fn parse(memory: Option<&str>, spill_dir: Option<&str>) -> Result<MemoryOptions> {
        let memory = match given(memory, "--memory", MEMORY_ENV) {
            Some((source, text)) => parse_budget(&text)
                .map_err(|why| Error::Plan(format!("{source} `{text}`: {why}")))?,
            None => default_memory(),
        };
        let spill_dir = match given(spill_dir, "--spill-dir", SPILL_DIR_ENV) {
            Some((_, dir)) => PathBuf::from(dir),
            None => std::env::temp_dir(),
        };
        Ok(MemoryOptions { memory, spill_dir })
    }

    /// Whether `BARKS_MEMORY` sets the budget.
    pub fn memory_in_env() -> bool {
        given(None, "", MEMORY_ENV).is_some()
    }
}

/// The driver's maximum result size from `BARKS_MAX_RESULT_SIZE` (a size,
/// or `unlimited`; `0` is unlimited too, as in Spark), else
/// [`DEFAULT_MAX_RESULT_SIZE`].
pub fn max_result_size_from_env() -> Result<u64> {
    parse_max_result_size(given(None, "", MAX_RESULT_SIZE_ENV))
}

fn parse_max_result_size(given: Option<(String, String)>) -> Result<u64> {
    let Some((source, text)) = given else {
        return Ok(DEFAULT_MAX_RESULT_SIZE);
    };
    match parse_budget(&text) {
        Ok(0) => Ok(u64::MAX),
        Ok(bytes) => Ok(bytes),
        Err(why) => Err(Error::Plan(format!("{source} `{text}`: {why}"))),
    }
}

/// [`DEFAULT_SHARE`] of what this process may use: the cgroup's memory
/// limit when it has one (containers), else the machine's memory.
pub fn default_memory() -> u64 {
    let machine = machine_memory(Path::new("/proc/meminfo"));
    let limit = cgroup_limit(Path::new("/sys/fs/cgroup"));
    match (machine, limit) {
        (Some(m), Some(l)) => (m.min(l) as f64 * DEFAULT_SHARE) as u64,
        (Some(n), None) | (None, Some(n)) => (n as f64 * DEFAULT_SHARE) as u64,
        // Not Linux: no way to know; 4 GiB is a laptop's share.
        (None, None) => 4 << 30,
    }
}

/// `MemTotal` of a `/proc/meminfo`.
fn machine_memory(meminfo: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(meminfo).ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of this process's cgroup: `memory.max` (cgroup v2) or
/// `memory/memory.limit_in_bytes` (v1) under `root`; none when unlimited.
fn cgroup_limit(root: &Path) -> Option<u64> {
    let v2 = std::fs::read_to_string(root.join("memory.max"));
    let v1 = || std::fs::read_to_string(root.join("memory/memory.limit_in_bytes"));
    let text = v2.or_else(|_| v1()).ok()?;
    // v1 says "unlimited" with a huge number near i64::MAX.
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|&limit| limit < 1 << 60)
}

/// A budget: `unlimited`, or a byte count (see [`parse_bytes`]).
fn parse_budget(text: &str) -> std::result::Result<u64, String> {
    if text.trim().eq_ignore_ascii_case("unlimited") {
        return Ok(u64::MAX);
    }
    parse_bytes(text)
}

/// The flag's value if given, else the variable's if set and not blank,
/// with where it came from.
fn given(flag: Option<&str>, flag_name: &str, env: &str) -> Option<(String, String)> {
    match flag {
        Some(value) => Some((flag_name.to_string(), value.to_string())),
        None => std::env::var(env)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (env.to_string(), v)),
    }
}

/// Parses a byte count: a whole number with an optional binary unit, `k`,
/// `m`, `g` or `t` (also written `KiB`, `MiB`, ...; case does not matter)
/// or `b`.
pub fn parse_bytes(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| "expected a number of bytes such as 1073741824, 512m or 2g".to_string())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use b, k, m, g or t: multiples of 1024)"
            ));
        }
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_binary_units() {
        for (text, bytes) in [
            ("0", 0),
            ("1", 1),
            ("1073741824", 1 << 30),
            ("12b", 12),
            ("4k", 4096),
            ("4 KiB", 4096),
            ("512m", 512 << 20),
            ("512MiB", 512 << 20),
            ("2G", 2 << 30),
            (" 3gib ", 3 << 30),
            ("1t", 1 << 40),
        ] {
            assert_eq!(parse_bytes(text), Ok(bytes), "{text}");
        }
        for (text, why) in [
            ("", "expected a number"),
            ("m", "expected a number"),
            ("-1", "expected a number"),
            ("1.5g", "unknown unit `.5g`"),
            ("2 MB", "unknown unit `mb`"),
            ("99999999999999999999", "expected a number"),
            ("99999999999t", "too large"),
        ] {
            let err = parse_bytes(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn flags_win_over_defaults_and_bad_values_name_their_source() {
        let options = MemoryOptions::parse(Some("1"), Some("/some/where")).unwrap();
        assert_eq!(
            options,
            MemoryOptions {
                memory: 1,
                spill_dir: PathBuf::from("/some/where"),
            }
        );
        let err = MemoryOptions::parse(Some("lots"), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--memory `lots`: expected a number"),
            "{err}"
        );
    }

    #[test]
    fn the_maximum_result_size_is_a_size_or_unlimited() {
        let given = |text: &str| Some((MAX_RESULT_SIZE_ENV.to_string(), text.to_string()));
        assert_eq!(parse_max_result_size(None), Ok(1 << 30));
        assert_eq!(parse_max_result_size(given("2g")), Ok(2 << 30));
        assert_eq!(parse_max_result_size(given("0")), Ok(u64::MAX));
        assert_eq!(parse_max_result_size(given("Unlimited")), Ok(u64::MAX));
        let err = parse_max_result_size(given("big")).unwrap_err().to_string();
        assert!(
            err.starts_with("BARKS_MAX_RESULT_SIZE `big`: expected a number"),
            "{err}"
        );
    }

    #[test]
    fn the_default_is_a_share_of_the_cgroup_limit_or_the_machine() {
        let dir = std::env::temp_dir().join(format!("barks-test-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("memory")).unwrap();
        assert_eq!(cgroup_limit(&dir), None, "no files: no limit");
        std::fs::write(
            dir.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        assert_eq!(cgroup_limit(&dir), None, "v1's unlimited");
        std::fs::write(dir.join("memory/memory.limit_in_bytes"), "2147483648\n").unwrap();
        assert_eq!(cgroup_limit(&dir), Some(2 << 30));
        std::fs::write(dir.join("memory.max"), "max\n").unwrap();
        assert_eq!(cgroup_limit(&dir), None, "v2's unlimited");
        std::fs::write(dir.join("memory.max"), "1073741824\n").unwrap();
        assert_eq!(cgroup_limit(&dir), Some(1 << 30));
        std::fs::write(
            dir.join("meminfo"),
            "MemTotal:       24576000 kB\nMemFree: 1 kB\n",
        )
        .unwrap();
        assert_eq!(
            machine_memory(&dir.join("meminfo")),
            Some(24_576_000 * 1024)
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let default = default_memory();
        assert!(default > 0 && default < u64::MAX, "{default}");
    }
}
