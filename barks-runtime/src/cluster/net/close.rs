//! How barks closes a QUIC connection, and how a close is explained.
//!
//! The application error code of a CONNECTION_CLOSE says why: a normal
//! close carries a text reason, a refusal carries an encoded [`Refusal`], a
//! protocol violation carries a text reason. The reason travels in the close
//! frame itself, which QUIC delivers even when stream data is abandoned.

use quinn::{Connection, ConnectionError, VarInt};

use super::refusal::Refusal;

/// A normal close; the reason is text.
pub(crate) const CLOSE_NORMAL: u32 = 0;
/// The handshake refused the peer; the reason is an encoded [`Refusal`].
pub(crate) const CLOSE_REFUSED: u32 = 1;
/// The peer broke the frame protocol; the reason is text.
pub(crate) const CLOSE_VIOLATION: u32 = 2;

/// Longest reason put into a close frame (it must fit into one packet).
const MAX_REASON: usize = 400;

/// Closes `conn` with `code` and a text reason, cut to fit one packet.
pub(crate) fn close_with_text(conn: &Connection, code: u32, reason: &str) {
    conn.close(VarInt::from_u32(code), truncate(reason).as_bytes());
}

/// Closes `conn` because the handshake refused the peer.
pub(crate) fn close_refused(conn: &Connection, refusal: &Refusal) {
    let reason = postcard::to_stdvec(refusal).unwrap_or_default();
    conn.close(VarInt::from_u32(CLOSE_REFUSED), &reason);
}

/// The refusal a peer closed the connection with, if that is how it ended.
pub(crate) fn refusal_of(err: &ConnectionError) -> Option<Refusal> {
    match err {
        ConnectionError::ApplicationClosed(close)
            if close.error_code == VarInt::from_u32(CLOSE_REFUSED) =>
        {
            decode_refusal(&close.reason)
        }
        _ => None,
    }
}

/// The refusal encoded in a close reason, if it is one.
pub(crate) fn decode_refusal(reason: &[u8]) -> Option<Refusal> {
    postcard::from_bytes(reason).ok()
}

/// Why a connection ended, in words.
pub(crate) fn describe(err: &ConnectionError) -> String {
    match err {
        ConnectionError::ApplicationClosed(close) => {
            let code = close.error_code.into_inner();
            if let Some(refusal) = refusal_of(err) {
                return format!("the peer refused this node: {}", refusal.summary());
            }
            let reason = printable(&close.reason);
            match code {
                c if c == u64::from(CLOSE_NORMAL) => format!("closed by the peer: {reason}"),
                c if c == u64::from(CLOSE_VIOLATION) => {
                    format!("the peer closed the connection after a protocol violation: {reason}")
                }
                _ => format!("closed by the peer (code {code}): {reason}"),
            }
        }
        ConnectionError::TimedOut => {
            "no traffic within the idle timeout: the peer died or the network is down".to_owned()
        }
        ConnectionError::LocallyClosed => "closed by this node".to_owned(),
        ConnectionError::Reset => "reset by the peer (did it restart?)".to_owned(),
        ConnectionError::TransportError(e) => format!("QUIC/TLS failure: {e}"),
        ConnectionError::ConnectionClosed(close) => {
            format!("aborted by the peer's QUIC stack: {close}")
        }
        ConnectionError::VersionMismatch => {
            "the peer speaks no QUIC version this node knows".to_owned()
        }
        ConnectionError::CidsExhausted => "out of QUIC connection ids".to_owned(),
    }
}

/// A peer-supplied reason, made safe to print: valid UTF-8, no control
/// characters, bounded length.
pub(crate) fn printable(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    truncate(&text).to_owned()
}

fn truncate(text: &str) -> &str {
    if text.len() <= MAX_REASON {
        return text;
    }
    let mut end = MAX_REASON;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
