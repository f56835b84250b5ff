//! The cluster transport: authenticated QUIC connections carrying frames.
//!
//! * TLS 1.3 is always on (quinn + rustls on ring). A [`Listener`] presents
//!   a certificate generated at startup; nobody checks it against a CA.
//! * Identity comes from the cluster [`Secret`]: after TLS, both sides prove
//!   knowledge of it with an HMAC bound to this TLS session's exporter
//!   secret, and compare protocol version and build fingerprint. Only then
//!   is a [`Peer`] handed out (see `handshake.rs` for the exchange).
//! * A peer's streams carry length-prefixed frames with a size limit;
//!   anything malformed closes that connection only and is logged with the
//!   peer's address.
//!
//! ```no_run
//! # async fn demo() -> Result<(), barks_runtime::cluster::net::NetError> {
//! use std::sync::Arc;
//! use barks_runtime::cluster::net::{Listener, NetConfig, Role, Secret, connect};
//!
//! let config = Arc::new(NetConfig::new(Secret::generate(), "build-1234"));
//! let listener = Listener::bind("127.0.0.1:0".parse().unwrap(), config.clone())?;
//! let worker = connect(listener.local_addr(), config, Role::Worker).await?;
//! let (mut send, mut recv) = worker.open().await?;
//! send.send(&"hello").await?;
//! let driver_side = listener.accept().await.unwrap();
//! let (_reply, mut incoming) = driver_side.accept_stream().await.unwrap();
//! assert_eq!(incoming.recv::<String>().await?, Some("hello".to_string()));
//! # drop(recv); Ok(()) }
//! ```

mod close;
mod config;
mod error;
mod frame;
mod handshake;
mod listener;
mod peer;
mod refusal;
mod secret;
mod tls;

pub(crate) use close::{decode_refusal, printable};
pub use config::{DEFAULT_MAX_FRAME, NetConfig, Role};
pub use error::NetError;
pub use frame::{FrameReceiver, FrameSender, decode_frame, encode_frame};
pub use handshake::PROTOCOL_VERSION;
#[cfg(test)]
pub(crate) use handshake::handshake_samples;
pub(crate) use handshake::{BadMessage, decode_message};
pub use listener::Listener;
pub use peer::{Peer, connect};
pub use secret::{MIN_SECRET_CHARS, SECRET_ENV, SECRET_FILE_ENV, Secret};
pub use tls::ALPN;
