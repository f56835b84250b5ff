//! Engine-like message types and the decoder check shared by the property
//! tests (`tests/net.rs`) and the fuzz target (`fuzz/fuzz_targets/frame_decode.rs`).

use barks_runtime::cluster::net::{Role, decode_frame, encode_frame};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A small protocol shaped like the cluster engine's: nested structs,
/// options, results, sequences, maps as pairs, byte blobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EngineMsg {
    Register {
        worker: String,
        slots: u32,
        shuffle_addr: Option<String>,
    },
    Plan {
        job: String,
        args: Vec<u8>,
        stages: Vec<Stage>,
    },
    Launch {
        task: TaskId,
        attempt: u32,
        locations: Vec<(u32, String)>,
    },
    Finished {
        task: TaskId,
        result: Result<Vec<u8>, String>,
        metrics: Vec<(String, u64)>,
    },
    Heartbeat(u64),
    Shutdown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub id: u32,
    pub partitions: u32,
    pub parents: Vec<u32>,
    pub shuffle: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaskId {
    pub job: u64,
    pub stage: u32,
    pub partition: u32,
}

/// The shape of the handshake's messages (which are private to the crate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HandshakeLike {
    Hello {
        version: u32,
        fingerprint: String,
        role: Option<Role>,
        nonce: [u8; 32],
    },
    Proof {
        mac: Vec<u8>,
    },
    Accepted,
}

/// Decodes `data` as every message type. Never panics (that is the point);
/// whatever decodes must re-encode into something that decodes to the same
/// value. Returns how many types accepted the bytes.
pub fn decode_all(data: &[u8]) -> usize {
    usize::from(check::<EngineMsg>(data))
        + usize::from(check::<HandshakeLike>(data))
        + usize::from(check::<Vec<(String, Vec<u64>)>>(data))
        + usize::from(check::<Role>(data))
}

fn check<M: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) -> bool {
    match decode_frame::<M>(data) {
        Ok(msg) => {
            let again = encode_frame(&msg).expect("a decoded message re-encodes");
            let back: M = decode_frame(&again).expect("a re-encoded message decodes");
            assert_eq!(back, msg, "re-encoding changed the message");
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}
