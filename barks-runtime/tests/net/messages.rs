//! What the property tests (`tests/net.rs`) send and decode: the cluster's
//! real decoders (`barks_runtime::cluster::fuzz_decode`, which the fuzz
//! target `fuzz/fuzz_targets/frame_decode.rs` runs too), a plain message
//! type for the transport tests, and the handshake's frames written by hand
//! in its wire layout (postcard: an enum is its variant index, then its
//! fields in order), for the tests that play a hostile peer.

use barks_runtime::cluster::fuzz_decode;
use barks_runtime::cluster::net::{Role, decode_frame, encode_frame};

/// A message for the transport tests (any serde type travels in frames):
/// sequences, strings, options, results and byte blobs.
pub type Msg = Vec<(String, Option<Vec<u8>>, Result<u64, String>)>;

/// A small `Msg`.
pub fn heartbeat(n: u64) -> Msg {
    vec![("heartbeat".into(), None, Ok(n))]
}

/// Decodes `data` with every decoder of the cluster protocol; never panics.
/// Returns how many message types accepted the bytes.
pub fn decode_all(data: &[u8]) -> usize {
    fuzz_decode(data).len()
}

/// A handshake hello: variant 0 {version, fingerprint, role, nonce}.
pub type Hello = (u32, u32, String, Option<Role>, [u8; 32]);

pub fn hello_frame(
    version: u32,
    fingerprint: &str,
    role: Option<Role>,
    nonce: [u8; 32],
) -> Vec<u8> {
    encode_frame(&(0u32, version, fingerprint, role, nonce)).unwrap()
}

/// A handshake proof: variant 1 {mac}.
pub fn proof_frame(mac: &[u8]) -> Vec<u8> {
    encode_frame(&(1u32, mac)).unwrap()
}

pub fn decode_hello(body: &[u8]) -> Option<Hello> {
    decode_frame::<Hello>(body).ok().filter(|h| h.0 == 0)
}

pub fn decode_proof(body: &[u8]) -> Option<Vec<u8>> {
    decode_frame::<(u32, Vec<u8>)>(body)
        .ok()
        .filter(|p| p.0 == 1)
        .map(|p| p.1)
}
