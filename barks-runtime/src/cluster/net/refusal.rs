//! Why one side of a barks handshake refused the other. Sent, encoded, as
//! the reason of the QUIC close, and explained to the user on both sides.

use serde::{Deserialize, Serialize};

/// Longest fingerprint quoted in a refusal (the close must fit one packet).
const MAX_FINGERPRINT: usize = 200;

/// The reason a handshake was refused, as the refusing side states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Refusal {
    /// The refusing side speaks another protocol version (`speaks`).
    ProtocolVersion { speaks: u32 },
    /// The refusing side runs another build (`fingerprint`).
    OtherBuild { fingerprint: String },
    /// The other side's proof of the cluster secret did not verify.
    WrongSecret,
    /// The handshake did not complete in time.
    Timeout,
    /// A handshake message was not what the protocol expects.
    Malformed,
}

impl Refusal {
    /// A refusal naming the refusing side's build.
    pub(crate) fn other_build(fingerprint: &str) -> Refusal {
        let mut end = fingerprint.len().min(MAX_FINGERPRINT);
        while !fingerprint.is_char_boundary(end) {
            end -= 1;
        }
        Refusal::OtherBuild {
            fingerprint: fingerprint[..end].to_owned(),
        }
    }

    /// What the refusal says, without knowing who is who.
    pub(crate) fn summary(&self) -> String {
        match self {
            Refusal::ProtocolVersion { speaks } => {
                format!("other protocol version: the peer speaks barks protocol {speaks}")
            }
            Refusal::OtherBuild { fingerprint } => {
                format!("other build: the peer runs build {fingerprint}")
            }
            Refusal::WrongSecret => "wrong cluster secret".to_owned(),
            Refusal::Timeout => "the handshake took too long".to_owned(),
            Refusal::Malformed => "malformed handshake".to_owned(),
        }
    }

    /// The refusal told from the refused side: `refuser` is e.g. "the driver
    /// at 10.0.0.1:7077", `me` e.g. "this worker".
    pub(crate) fn explain(
        &self,
        refuser: &str,
        me: &str,
        my_version: u32,
        my_fingerprint: &str,
    ) -> String {
        match self {
            Refusal::ProtocolVersion { speaks } => format!(
                "{refuser} refused {me}: other protocol version: it speaks barks protocol \
                 {speaks}, {me} speaks {my_version}"
            ),
            Refusal::OtherBuild { fingerprint } => format!(
                "{refuser} refused {me}: other build: {refuser} runs build {fingerprint}, \
                 {me} runs build {my_fingerprint}; run the same binary everywhere"
            ),
            Refusal::WrongSecret => format!(
                "{refuser} refused {me}: wrong cluster secret (check --secret, --secret-file, \
                 BARKS_SECRET or BARKS_SECRET_FILE)"
            ),
            Refusal::Timeout => format!("{refuser} refused {me}: the handshake took too long"),
            Refusal::Malformed => format!("{refuser} refused {me}: malformed handshake"),
        }
    }
}
