//! How much shuffle output a worker keeps in memory, and where it spills the
//! rest: `--shuffle-memory` / `BARKS_SHUFFLE_MEMORY` and `--spill-dir` /
//! `BARKS_SPILL_DIR`.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// The environment variable with a worker's shuffle memory budget.
pub const SHUFFLE_MEMORY_ENV: &str = "BARKS_SHUFFLE_MEMORY";
/// The environment variable naming where a worker makes its spill directory.
pub const SPILL_DIR_ENV: &str = "BARKS_SPILL_DIR";
/// The budget when none is given: 1 GiB.
pub const DEFAULT_SHUFFLE_MEMORY: u64 = 1 << 30;

/// Where a worker keeps its shuffle map outputs.
///
/// ```
/// use barks_runtime::cluster::SpillOptions;
///
/// let options = SpillOptions::parse(Some("64m"), Some("/var/tmp/barks")).unwrap();
/// assert_eq!(options.shuffle_memory, 64 << 20);
/// assert_eq!(options.spill_dir, std::path::Path::new("/var/tmp/barks"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpillOptions {
    /// Bytes of map output (counted encoded) held in memory; an output that
    /// would go over goes to a spill file instead. `0` spills everything.
    pub shuffle_memory: u64,
    /// The directory in which the worker makes its own spill directory
    /// (removed when the worker exits).
    pub spill_dir: PathBuf,
}

impl Default for SpillOptions {
    /// 1 GiB, under the system temp directory.
    fn default() -> SpillOptions {
        SpillOptions {
            shuffle_memory: DEFAULT_SHUFFLE_MEMORY,
            spill_dir: std::env::temp_dir(),
        }
    }
}

impl SpillOptions {
    /// The options from `BARKS_SHUFFLE_MEMORY` and `BARKS_SPILL_DIR`, with
    /// defaults for what they do not set.
    pub fn from_env() -> Result<SpillOptions> {
        SpillOptions::parse(None, None)
    }

    /// The options from a worker's `--shuffle-memory` and `--spill-dir`
    /// flags, each falling back to its environment variable, then to the
    /// default.
    pub fn parse(shuffle_memory: Option<&str>, spill_dir: Option<&str>) -> Result<SpillOptions> {
        let defaults = SpillOptions::default();
        let shuffle_memory = match given(shuffle_memory, "--shuffle-memory", SHUFFLE_MEMORY_ENV) {
            Some((source, text)) => parse_bytes(&text)
                .map_err(|why| Error::Plan(format!("{source} `{text}`: {why}")))?,
            None => defaults.shuffle_memory,
        };
        let spill_dir = match given(spill_dir, "--spill-dir", SPILL_DIR_ENV) {
            Some((_, dir)) => PathBuf::from(dir),
            None => defaults.spill_dir,
        };
        Ok(SpillOptions {
            shuffle_memory,
            spill_dir,
        })
    }
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
fn parse_bytes(text: &str) -> std::result::Result<u64, String> {
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
        let options = SpillOptions::parse(Some("1"), Some("/some/where")).unwrap();
        assert_eq!(
            options,
            SpillOptions {
                shuffle_memory: 1,
                spill_dir: PathBuf::from("/some/where"),
            }
        );
        let err = SpillOptions::parse(Some("lots"), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--shuffle-memory `lots`: expected a number"),
            "{err}"
        );
    }
}
