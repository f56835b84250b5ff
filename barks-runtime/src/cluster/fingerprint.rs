//! The build fingerprint driver and workers compare when they connect: a
//! worker whose registry holds other jobs (or other versions of them) would
//! rebuild other plans, so it is refused.

use crate::job::JOBS;

/// The version of the driver–worker protocol; bump it when a message changes.
pub(crate) const PROTOCOL: u32 = 1;

/// A digest of this binary's barks version, protocol and registered jobs
/// (each job id carries a fingerprint of the job's tokens).
pub fn build_fingerprint() -> String {
    let mut ids: Vec<&str> = JOBS.iter().map(|j| j.id).collect();
    ids.sort_unstable();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(env!("CARGO_PKG_VERSION").as_bytes());
    ctx.update(&PROTOCOL.to_le_bytes());
    for id in ids {
        ctx.update(id.as_bytes());
        ctx.update(b"\n");
    }
    ctx.finish()
        .as_ref()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}
