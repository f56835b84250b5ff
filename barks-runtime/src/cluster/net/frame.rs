//! Frames on a QUIC stream: a `u32` little-endian length, then that many
//! bytes of body (postcard for typed messages, or an already-encoded body
//! such as a record batch).
//!
//! Both directions enforce a size limit. A receiver that meets an oversized,
//! truncated or undecodable frame logs it with the peer's address, closes
//! that connection (only that one) and returns [`NetError::Frame`].
//!
//! ```
//! use barks_runtime::cluster::net::{decode_frame, encode_frame};
//!
//! let body = encode_frame(&(7u32, "seven".to_string())).unwrap();
//! let back: (u32, String) = decode_frame(&body).unwrap();
//! assert_eq!(back, (7, "seven".to_string()));
//! assert!(decode_frame::<(u32, String)>(&body[..3]).is_err());
//! ```

use std::net::SocketAddr;

use quinn::{Connection, ReadError, ReadExactError, RecvStream, SendStream, WriteError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NetError;
use super::close::{CLOSE_VIOLATION, close_with_text};

/// Bytes of the length prefix.
const PREFIX: usize = 4;
/// A receive buffer starts at most this big and grows as bytes arrive, so a
/// length prefix alone cannot make us allocate `max_frame` bytes.
const INITIAL_BODY_CAPACITY: usize = 1 << 20;

/// Encodes a typed message into a frame body (postcard).
pub fn encode_frame<M: Serialize + ?Sized>(msg: &M) -> Result<Vec<u8>, NetError> {
    postcard::to_stdvec(msg).map_err(|e| NetError::Encode(e.to_string()))
}

/// Decodes a frame body into a typed message. Pure: never panics, whatever
/// the bytes; a body with bytes left over after the message is an error.
pub fn decode_frame<M: DeserializeOwned>(body: &[u8]) -> Result<M, NetError> {
    match postcard::take_from_bytes(body) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(NetError::Decode(format!(
            "{} unexpected byte(s) after the message",
            rest.len()
        ))),
        Err(e) => Err(NetError::Decode(format!("{e} ({} byte body)", body.len()))),
    }
}

/// The sending half of a stream.
pub struct FrameSender {
    stream: SendStream,
    peer: SocketAddr,
    max_frame: usize,
}

impl FrameSender {
    pub(crate) fn new(stream: SendStream, peer: SocketAddr, max_frame: usize) -> FrameSender {
        FrameSender {
            stream,
            peer,
            max_frame,
        }
    }

    /// Sends a typed message (postcard). A message over the frame limit is
    /// refused here, before anything is sent.
    pub async fn send<M: Serialize + ?Sized>(&mut self, msg: &M) -> Result<(), NetError> {
        let body = encode_frame(msg)?;
        self.send_bytes(&body).await
    }

    /// Sends an already-encoded frame body.
    pub async fn send_bytes(&mut self, body: &[u8]) -> Result<(), NetError> {
        let len = u32::try_from(body.len())
            .ok()
            .filter(|_| body.len() <= self.max_frame)
            .ok_or(NetError::TooLarge {
                peer: self.peer,
                size: body.len(),
                max: self.max_frame,
            })?;
        self.write(&len.to_le_bytes()).await?;
        self.write(body).await
    }

    /// Ends the stream: the receiver sees a clean end after the last frame.
    pub async fn finish(&mut self) -> Result<(), NetError> {
        self.stream.finish().map_err(|_| NetError::Closed {
            peer: self.peer,
            reason: "the stream was already finished or reset".to_owned(),
        })
    }

    /// The peer this stream goes to.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.stream.write_all(bytes).await.map_err(|e| match e {
            WriteError::ConnectionLost(e) => NetError::closed(self.peer, &e),
            WriteError::Stopped(code) => NetError::Closed {
                peer: self.peer,
                reason: format!("the peer stopped reading this stream (code {code})"),
            },
            other => NetError::Closed {
                peer: self.peer,
                reason: format!("stream unusable: {other}"),
            },
        })
    }
}

/// The receiving half of a stream.
pub struct FrameReceiver {
    stream: RecvStream,
    conn: Connection,
    peer: SocketAddr,
    max_frame: usize,
    /// Whether protocol violations are logged here (the handshake reports
    /// its own failures instead).
    log_violations: bool,
}

impl FrameReceiver {
    pub(crate) fn new(
        stream: RecvStream,
        conn: Connection,
        max_frame: usize,
        log_violations: bool,
    ) -> FrameReceiver {
        let peer = conn.remote_address();
        FrameReceiver {
            stream,
            conn,
            peer,
            max_frame,
            log_violations,
        }
    }

    /// The next typed message; `None` at a clean end of the stream.
    pub async fn recv<M: DeserializeOwned>(&mut self) -> Result<Option<M>, NetError> {
        match self.recv_bytes().await? {
            None => Ok(None),
            Some(body) => match decode_frame(&body) {
                Ok(msg) => Ok(Some(msg)),
                Err(e) => Err(self.violation(e.to_string())),
            },
        }
    }

    /// The next frame body; `None` at a clean end of the stream.
    pub async fn recv_bytes(&mut self) -> Result<Option<Vec<u8>>, NetError> {
        let mut body = Vec::new();
        Ok(self.recv_bytes_into(&mut body).await?.then_some(body))
    }

    /// Appends the next frame body to `out` (no copy in between, so a big
    /// payload sent in frames lands in one buffer); `false` at a clean end
    /// of the stream.
    pub async fn recv_bytes_into(&mut self, out: &mut Vec<u8>) -> Result<bool, NetError> {
        let mut prefix = [0u8; PREFIX];
        match self.stream.read_exact(&mut prefix).await {
            Ok(()) => {}
            Err(ReadExactError::FinishedEarly(0)) => return Ok(false),
            Err(ReadExactError::FinishedEarly(n)) => {
                return Err(self.violation(format!(
                    "the stream ended inside a frame header ({n} of {PREFIX} bytes)"
                )));
            }
            Err(ReadExactError::ReadError(e)) => return Err(self.read_failed(e)),
        }
        let len = u32::from_le_bytes(prefix) as usize;
        if len > self.max_frame {
            return Err(self.violation(format!(
                "a frame of {len} bytes is over the frame limit of {} bytes",
                self.max_frame
            )));
        }
        out.reserve(len.min(INITIAL_BODY_CAPACITY));
        let mut read = 0;
        while read < len {
            match self.stream.read_chunk(len - read, true).await {
                Ok(Some(chunk)) => {
                    read += chunk.bytes.len();
                    out.extend_from_slice(&chunk.bytes);
                }
                Ok(None) => {
                    return Err(self.violation(format!(
                        "the stream ended inside a frame ({read} of {len} bytes)"
                    )));
                }
                Err(e) => return Err(self.read_failed(e)),
            }
        }
        Ok(true)
    }

    /// The peer this stream comes from.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// A protocol violation: closes the connection, logs it, and names it.
    fn violation(&self, message: String) -> NetError {
        close_with_text(&self.conn, CLOSE_VIOLATION, &message);
        let err = NetError::Frame {
            peer: self.peer,
            message,
        };
        if self.log_violations {
            log::warn!("{err}");
        }
        err
    }

    fn read_failed(&self, err: ReadError) -> NetError {
        match err {
            ReadError::ConnectionLost(e) => NetError::closed(self.peer, &e),
            ReadError::Reset(code) => NetError::Closed {
                peer: self.peer,
                reason: format!("the peer reset the stream (code {code})"),
            },
            other => NetError::Closed {
                peer: self.peer,
                reason: format!("stream unusable: {other}"),
            },
        }
    }
}
