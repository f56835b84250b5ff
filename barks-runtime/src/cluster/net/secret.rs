//! The cluster secret: where it comes from, and how it stays out of logs.
//!
//! ```
//! use barks_runtime::cluster::net::Secret;
//!
//! let secret = Secret::new("correct horse battery staple").unwrap();
//! assert_eq!(format!("{secret:?} {secret}"), "Secret(redacted) Secret(redacted)");
//! assert!(Secret::new("short").is_err());
//! assert_eq!(Secret::generate().expose().len(), 64);
//! ```

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use ring::rand::{SecureRandom, SystemRandom};

use super::NetError;

/// The shortest secret accepted, in characters.
pub const MIN_SECRET_CHARS: usize = 16;

/// Environment variable holding the secret itself.
pub const SECRET_ENV: &str = "BARKS_SECRET";
/// Environment variable naming a file that holds the secret.
pub const SECRET_FILE_ENV: &str = "BARKS_SECRET_FILE";

/// The cluster secret. Every driver, worker and shuffle fetch proves that it
/// knows it; it never crosses the wire and never appears in `Debug`,
/// `Display` or any error.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A secret from user-supplied text; refuses text shorter than
    /// [`MIN_SECRET_CHARS`] characters.
    pub fn new(text: &str) -> Result<Secret, NetError> {
        Secret::from_source(text, "the given secret")
    }

    /// A fresh random secret: 32 random bytes, as 64 hex digits.
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the operating system's random number generator failed");
        Secret(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The secret's text, to print once (local-cluster) or pass to a child
    /// process. Everything else must use the redacted `Debug`/`Display`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret from the first source that is set, in this order: the
    /// `--secret` flag, the `--secret-file` flag, `BARKS_SECRET`,
    /// `BARKS_SECRET_FILE`. `Ok(None)` when none is set. A source that is set
    /// but unusable (empty, too short, unreadable file) is an error naming
    /// the source, never its content.
    pub fn from_sources(
        flag: Option<&str>,
        flag_file: Option<&Path>,
    ) -> Result<Option<Secret>, NetError> {
        Secret::from_sources_in(flag, flag_file, |name| std::env::var_os(name))
    }

    /// [`from_sources`](Secret::from_sources) with the environment variables
    /// looked up by `env` instead of in this process's environment.
    ///
    /// ```
    /// use barks_runtime::cluster::net::Secret;
    ///
    /// let env = |name: &str| (name == "BARKS_SECRET").then(|| "from-the-environment-0123".into());
    /// let secret = Secret::from_sources_in(None, None, env).unwrap().unwrap();
    /// assert_eq!(secret.expose(), "from-the-environment-0123");
    /// ```
    pub fn from_sources_in(
        flag: Option<&str>,
        flag_file: Option<&Path>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Option<Secret>, NetError> {
        if let Some(text) = flag {
            return Secret::from_source(text, "--secret").map(Some);
        }
        if let Some(path) = flag_file {
            return Secret::from_file(path, "--secret-file").map(Some);
        }
        if let Some(text) = env(SECRET_ENV) {
            let text = text
                .into_string()
                .map_err(|_| NetError::Config(format!("{SECRET_ENV} is not valid UTF-8")))?;
            return Secret::from_source(&text, SECRET_ENV).map(Some);
        }
        if let Some(path) = env(SECRET_FILE_ENV) {
            return Secret::from_file(Path::new(&path), SECRET_FILE_ENV).map(Some);
        }
        Ok(None)
    }

    /// The key every handshake MAC is computed with.
    pub(crate) fn hmac_key(&self) -> ring::hmac::Key {
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.0.as_bytes())
    }

    fn from_source(text: &str, source: &str) -> Result<Secret, NetError> {
        if text.is_empty() {
            return Err(NetError::Config(format!(
                "the cluster secret from {source} is empty"
            )));
        }
        if text.chars().count() < MIN_SECRET_CHARS {
            return Err(NetError::Config(format!(
                "the cluster secret from {source} is too short: use at least {MIN_SECRET_CHARS} \
                 characters (for example 64 random hex digits from `openssl rand -hex 32`)"
            )));
        }
        Ok(Secret(text.to_owned()))
    }

    /// Reads a secret file; one trailing line break is not part of the secret.
    fn from_file(path: &Path, source: &str) -> Result<Secret, NetError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            NetError::Config(format!(
                "cannot read the cluster secret file {} (from {source}): {e}",
                path.display()
            ))
        })?;
        warn_if_readable_by_others(path);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        Secret::from_source(text, &format!("{source} ({})", path.display()))
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o004 != 0
    {
        log::warn!(
            "the cluster secret file {} is readable by every user; consider `chmod 600`",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}
