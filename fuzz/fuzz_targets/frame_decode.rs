//! Feeds arbitrary bytes to every decoder the driver and workers run on
//! network bytes (`barks_runtime::cluster::fuzz_decode`: the cluster
//! protocol's messages, the handshake, close reasons); a panic, a hang or a
//! re-encoding mismatch is a bug. `barks-runtime/tests/net.rs` replays the
//! corpus in every test run.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    barks_runtime::cluster::fuzz_decode(data);
});
