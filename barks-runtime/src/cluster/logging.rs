//! barks logs to stderr (`BARKS_LOG` = error, warn, info, debug or trace;
//! default warn), unless the program installed its own logger: drivers
//! (from their first context) and workers.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }
    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) && record.target().starts_with("barks") {
            eprintln!(
                "[barks {} pid {}] {}",
                level_name(record.level()),
                std::process::id(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

/// Installs the stderr logger if no logger is installed yet.
pub(crate) fn init() {
    if log::set_logger(&Stderr).is_ok() {
        let level = std::env::var("BARKS_LOG")
            .ok()
            .and_then(|l| l.parse::<LevelFilter>().ok())
            .unwrap_or(LevelFilter::Warn);
        log::set_max_level(level);
    }
}
