//! Feeds arbitrary bytes to `decode_frame` for engine-like message types and
//! the handshake's shape; a panic, a hang or a re-encoding mismatch is a bug.
//! `barks-runtime/tests/net.rs` replays the corpus in every test run.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../barks-runtime/tests/net/messages.rs"]
mod messages;

fuzz_target!(|data: &[u8]| {
    messages::decode_all(data);
});
