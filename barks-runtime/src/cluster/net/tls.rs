//! QUIC and TLS 1.3 configuration for listeners and connecting sides.
//!
//! Every rustls config is built with an explicit ring provider, never the
//! process default (other crates compile aws-lc into the same binaries).
//! A listener presents a certificate generated at startup; connecting sides
//! do not check it against a CA. Peers are authenticated instead by the
//! barks handshake (see `handshake.rs`), which binds a proof of the cluster
//! secret to this TLS session's exporter secret.

use std::sync::Arc;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{IdleTimeout, MtuDiscoveryConfig, TransportConfig, VarInt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{NetConfig, NetError};

/// The ALPN protocol both sides must offer; a peer offering another one
/// fails the TLS handshake.
pub const ALPN: &[u8] = b"barks/1";
/// The name in the listener's certificate and the one clients ask for.
pub(crate) const SERVER_NAME: &str = "barks";

/// The ring provider. rustls 0.23.48 deprecates
/// `rustls::crypto::ring::default_provider` ("no support for post-quantum
/// algorithms") without a ring replacement: its only successor is the
/// aws-lc-rs provider, which barks leaves out (no aws-lc, no cmake). The
/// `allow` keeps the build warning-free on older and newer 0.23 releases
/// alike.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(e: impl std::fmt::Display) -> NetError {
    NetError::Config(format!("TLS setup: {e}"))
}

/// A QUIC server config with a fresh self-signed certificate.
pub(crate) fn server_config(config: &NetConfig) -> Result<quinn::ServerConfig, NetError> {
    let cert =
        rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_owned()]).map_err(tls_error)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .map_err(tls_error)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicServerConfig::try_from(tls).map_err(tls_error)?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    // One stream (the handshake's) until the peer is authenticated.
    server.transport_config(Arc::new(transport(config, 1)?));
    Ok(server)
}

/// A QUIC client config that accepts the listener's self-signed certificate
/// (still checking that the listener holds its key).
pub(crate) fn client_config(config: &NetConfig) -> Result<quinn::ClientConfig, NetError> {
    let provider = provider();
    let verifier = Arc::new(AnyCertificate(provider.signature_verification_algorithms));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(tls_error)?;
    let mut client = quinn::ClientConfig::new(Arc::new(crypto));
    // The listener may open no stream towards us until it is authenticated.
    client.transport_config(Arc::new(transport(config, 0)?));
    Ok(client)
}

/// Transport limits shared by both sides. `initial_streams` is how many
/// streams the peer may open before the handshake raises the limit.
fn transport(config: &NetConfig, initial_streams: u32) -> Result<TransportConfig, NetError> {
    let idle = IdleTimeout::try_from(config.idle_timeout).map_err(|_| {
        NetError::Config(format!(
            "idle timeout {:?} is too long",
            config.idle_timeout
        ))
    })?;
    // Path MTU discovery may grow packets past Ethernet's 1452 bytes, up to
    // what the path carries (64 KiB on loopback, 9000 with jumbo frames):
    // fewer packets, fewer system calls and less per-packet crypto for
    // every shuffle block. Probes that do not arrive cost nothing. Windows
    // sized for shuffle blocks of megabytes (quinn's defaults suit a web
    // client), with the connection's receive window bounding what a peer
    // may have in flight towards us.
    let mut mtu = MtuDiscoveryConfig::default();
    mtu.upper_bound(u16::MAX);
    let mut transport = TransportConfig::default();
    transport
        .mtu_discovery_config(Some(mtu))
        .stream_receive_window(VarInt::from_u32(16 << 20))
        .receive_window(VarInt::from_u32(64 << 20))
        .send_window(64 << 20)
        .max_idle_timeout(Some(idle))
        .keep_alive_interval(Some(config.keep_alive))
        .max_concurrent_bidi_streams(VarInt::from_u32(initial_streams))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .datagram_receive_buffer_size(None);
    Ok(transport)
}

/// Accepts any certificate: identity comes from the cluster secret, proven
/// in the barks handshake over this session's exporter secret. Signatures
/// are still verified, so the listener must hold the key it presents.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
