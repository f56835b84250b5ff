//! Every decoder a driver or a worker runs on bytes from the network, in one
//! function: for the fuzz target (`fuzz/fuzz_targets/frame_decode.rs`) and
//! the corpus replay in `barks-runtime/tests/net.rs`. Not an API.

use super::net::{
    BadMessage, decode_frame, decode_message, decode_refusal, encode_frame, printable,
};
use super::protocol::{FetchReply, FetchRequest, ToDriver, ToWorker, Upstream};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decodes `bytes` as a frame body of every message type of the cluster
/// protocol (control, upstream and fetch streams), as a handshake message
/// (with its protocol version check), and as the reason of a refusing or
/// ordinary connection close. Returns the names of the types that accepted
/// the bytes.
///
/// Never panics on any input, unless a decoded message does not survive
/// being encoded and decoded again unchanged: that would be a bug in barks,
/// and the panic is how a fuzzer reports it.
///
/// ```
/// let accepted = barks_runtime::cluster::fuzz_decode(&[1]);
/// assert!(accepted.contains(&"ToDriver"), "{accepted:?}"); // a heartbeat
/// assert!(barks_runtime::cluster::fuzz_decode(&[0xff; 3]).is_empty());
/// ```
#[doc(hidden)]
pub fn fuzz_decode(bytes: &[u8]) -> Vec<&'static str> {
    let mut accepted = Vec::new();
    round_trip::<ToDriver>("ToDriver", bytes, &mut accepted);
    round_trip::<ToWorker>("ToWorker", bytes, &mut accepted);
    round_trip::<Upstream>("Upstream", bytes, &mut accepted);
    round_trip::<FetchRequest>("FetchRequest", bytes, &mut accepted);
    round_trip::<FetchReply>("FetchReply", bytes, &mut accepted);
    match decode_message(bytes) {
        Ok(message) => {
            let again = encode_frame(&message).expect("a decoded handshake message encodes");
            match decode_message(&again) {
                Ok(back) => same("handshake", &back, &again),
                Err(_) => panic!("a re-encoded handshake message does not decode"),
            }
            accepted.push("handshake");
        }
        Err(BadMessage::OtherVersion(_)) => accepted.push("handshake of another version"),
        Err(BadMessage::Undecodable(e)) => assert!(!e.to_string().is_empty()),
    }
    if decode_refusal(bytes).is_some() {
        accepted.push("refusal");
    }
    let reason = printable(bytes);
    assert!(
        !reason.chars().any(char::is_control),
        "a close reason printed with control characters"
    );
    accepted
}

/// Decodes `bytes` as an `M`; what decodes must encode into bytes that
/// decode to the same message.
fn round_trip<M: Serialize + DeserializeOwned>(
    name: &'static str,
    bytes: &[u8],
    accepted: &mut Vec<&'static str>,
) {
    match decode_frame::<M>(bytes) {
        Ok(message) => {
            let again = encode_frame(&message).expect("a decoded message encodes");
            let back: M = decode_frame(&again).expect("a re-encoded message decodes");
            same(name, &back, &again);
            accepted.push(name);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Panics unless `message` encodes to `encoded`.
fn same<M: Serialize>(name: &str, message: &M, encoded: &[u8]) {
    let encoded_again = encode_frame(message).expect("a decoded message encodes");
    assert_eq!(encoded_again, encoded, "re-encoding changed a {name}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::net::Role;
    use crate::cluster::net::handshake_samples;
    use crate::cluster::protocol::{Launch, ShuffleInput, WireTask};
    use crate::dag::{PlanDesc, StageDesc, StageKind};

    /// One encoded message of every kind, with the name it decodes as.
    fn samples() -> Vec<(&'static str, Vec<u8>)> {
        let addr = "127.0.0.1:7077".parse().unwrap();
        let frame = |m: &dyn erased::Encode| m.encode();
        let mut samples = vec![
            (
                "ToDriver",
                frame(&ToDriver::Register {
                    slots: 3,
                    blocks_at: addr,
                }),
            ),
            ("ToDriver", frame(&ToDriver::Heartbeat)),
            ("ToWorker", frame(&ToWorker::Welcome { worker: u64::MAX })),
            (
                "ToWorker",
                frame(&ToWorker::Job {
                    run: 7,
                    plan: PlanDesc {
                        job: "wörd_count ✓".into(),
                        args: (0..=255).collect(),
                        default_parallelism: 2,
                        stages: vec![
                            StageDesc {
                                id: 0,
                                kind: StageKind::ShuffleMap { shuffle: 4 },
                                partitions: 3,
                                parents: Vec::new(),
                            },
                            StageDesc {
                                id: 1,
                                kind: StageKind::Result,
                                partitions: 2,
                                parents: vec![0],
                            },
                        ],
                    },
                }),
            ),
            (
                "ToWorker",
                frame(&ToWorker::Launch(Launch {
                    run: 7,
                    task: WireTask {
                        stage: 1,
                        partition: 0,
                        attempt: 2,
                    },
                    inputs: vec![ShuffleInput {
                        shuffle: 4,
                        summary: vec![1, 2, 3],
                        maps: vec![addr, "[::1]:9".parse().unwrap()],
                    }],
                })),
            ),
            ("ToWorker", frame(&ToWorker::JobDone { run: 7 })),
            ("ToWorker", frame(&ToWorker::Shutdown)),
            (
                "Upstream",
                frame(&Upstream::Persisted {
                    id: 3,
                    partition: 1,
                }),
            ),
            (
                "FetchRequest",
                frame(&FetchRequest {
                    run: 7,
                    shuffle: 4,
                    map: 2,
                    reduce: 1,
                    summary: Vec::new(),
                }),
            ),
            ("FetchReply", frame(&FetchReply::Block { len: 1 << 40 })),
            (
                "FetchReply",
                frame(&FetchReply::Missing {
                    message: "nö such block".into(),
                }),
            ),
        ];
        samples.extend(
            handshake_samples(Role::Worker)
                .into_iter()
                .map(|b| ("handshake", b)),
        );
        samples
    }

    mod erased {
        use serde::Serialize;

        /// Any message, encoded as a frame body.
        pub trait Encode {
            fn encode(&self) -> Vec<u8>;
        }

        impl<M: Serialize> Encode for M {
            fn encode(&self) -> Vec<u8> {
                crate::cluster::net::encode_frame(self).unwrap()
            }
        }
    }

    #[test]
    fn every_real_message_decodes_and_every_truncation_or_extension_is_refused() {
        for (name, bytes) in samples() {
            let accepted = fuzz_decode(&bytes);
            assert!(accepted.contains(&name), "{name} {bytes:?}: {accepted:?}");
            for cut in 0..bytes.len() {
                let accepted = fuzz_decode(&bytes[..cut]);
                assert!(
                    !accepted.contains(&name),
                    "{name} cut at {cut}: {accepted:?}"
                );
            }
            let longer = [&bytes[..], &[0]].concat();
            assert!(
                !fuzz_decode(&longer).contains(&name),
                "{name} with a byte more"
            );
        }
    }

    #[test]
    fn a_hello_of_another_protocol_version_is_recognized_as_such() {
        let mut hello = handshake_samples(Role::Driver).swap_remove(0);
        hello[1] = 99; // the version, right after variant 0
        let accepted = fuzz_decode(&hello);
        assert!(
            accepted.contains(&"handshake of another version"),
            "{accepted:?}"
        );
        assert!(!accepted.contains(&"handshake"), "{accepted:?}");
    }
}
