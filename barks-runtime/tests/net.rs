//! The cluster transport over real sockets on 127.0.0.1: framing, the
//! secret and fingerprint checks, hostile raw QUIC clients, redaction of the
//! secret, and the frame decoders under random and mutated input.

#[path = "net/messages.rs"]
mod messages;

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use barks_runtime::cluster::net::{
    ALPN, FrameReceiver, FrameSender, Listener, NetConfig, NetError, Peer, Role, Secret, connect,
    decode_frame, encode_frame,
};
use messages::{Msg, decode_all, decode_hello, decode_proof, heartbeat, hello_frame, proof_frame};
use proptest::prelude::*;

const SECRET: &str = "net-test-secret-7f3a9c2e41d8b605";
const WRONG_SECRET: &str = "net-test-wrong-secret-0b5e8d17a3";
const BUILD: &str = "build-aaaa1111";

// ---------------------------------------------------------------------------
// helpers

/// Every log line of this test binary, to check what was logged (and that
/// the secret never was).
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        LOGS.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Debug);
    });
}

/// Log lines that mention every one of `needles`.
fn logged(needles: &[&str]) -> Vec<String> {
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|line| needles.iter().all(|n| line.contains(n)))
        .cloned()
        .collect()
}

/// Waits (bounded) until a log line mentions every one of `needles`.
async fn wait_logged(needles: &[&str]) -> String {
    for _ in 0..200 {
        if let Some(line) = logged(needles).into_iter().next() {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "nothing logged mentions {needles:?}; log:\n{}",
        LOGS.lock().unwrap().join("\n")
    );
}

fn config(secret: &str, fingerprint: &str) -> Arc<NetConfig> {
    tuned(secret, fingerprint, |_| {})
}

/// The default configuration, adjusted by `tune`.
fn tuned(secret: &str, fingerprint: &str, tune: impl FnOnce(&mut NetConfig)) -> Arc<NetConfig> {
    capture_logs();
    let mut config = NetConfig::new(Secret::new(secret).unwrap(), fingerprint);
    tune(&mut config);
    Arc::new(config)
}

/// A listener on 127.0.0.1 and its address.
fn listen(config: &Arc<NetConfig>) -> (Listener, SocketAddr) {
    let listener = Listener::bind(loopback(), config.clone()).unwrap();
    let addr = listener.local_addr();
    (listener, addr)
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Runs a test body under a time limit, so a hang fails instead of blocking.
async fn bounded<F: std::future::Future>(body: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(90), body)
        .await
        .expect("test timed out")
}

/// Echoes every frame of every stream the peer opens, then finishes.
fn serve_echo(peer: Peer) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut streams = Vec::new();
        while let Some((send, recv)) = peer.accept_stream().await {
            streams.push(tokio::spawn(echo(send, recv)));
        }
        let mut frames = 0;
        for stream in streams {
            frames += stream.await.unwrap();
        }
        frames
    })
}

async fn echo(mut send: FrameSender, mut recv: FrameReceiver) -> usize {
    let mut frames = 0;
    while let Some(frame) = recv.recv_bytes().await.unwrap() {
        send.send_bytes(&frame).await.unwrap();
        frames += 1;
    }
    send.finish().await.unwrap();
    frames
}

fn sample_messages(stream: u32) -> Vec<Msg> {
    vec![
        vec![(
            format!("wörker-{stream} ✓"),
            Some(b"127.0.0.1:9".to_vec()),
            Ok(stream.into()),
        )],
        vec![
            ("word_count".into(), Some((0..=255).collect()), Ok(8)),
            ("stage".into(), None, Ok(3)),
        ],
        vec![
            (String::new(), None, Err(String::new())),
            ("records".into(), Some(Vec::new()), Ok(u64::MAX)),
        ],
        heartbeat(stream.into()),
        Vec::new(),
    ]
}

/// A deterministic pseudo-random body of `len` bytes.
fn blob(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// round trips

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_messages_and_large_frames_round_trip_over_concurrent_streams() {
    bounded(async {
        let config = config(SECRET, BUILD);
        let (listener, addr) = listen(&config);
        let (client, server) = tokio::join!(
            connect(addr, config.clone(), Role::Worker),
            listener.accept()
        );
        let (client, server) = (client.unwrap(), server.unwrap());
        assert_eq!(server.role(), Role::Worker);
        assert_eq!(client.role(), Role::Driver);
        assert_eq!(client.remote(), addr);
        let echoed = serve_echo(server.clone());

        const STREAMS: u32 = 24;
        const LARGE: usize = (16 << 20) + 3;
        let mut tasks = Vec::new();
        for stream in 0..STREAMS {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let (mut send, mut recv) = client.open().await.unwrap();
                let messages = sample_messages(stream);
                let large = (stream % 8 == 0).then(|| blob(LARGE, stream.into()));
                let reader = tokio::spawn(async move {
                    let mut got = Vec::new();
                    for _ in 0..5 {
                        got.push(recv.recv::<Msg>().await.unwrap().unwrap());
                    }
                    let large = match recv.recv_bytes().await.unwrap() {
                        Some(body) if body.is_empty() => None,
                        other => other,
                    };
                    assert_eq!(
                        recv.recv_bytes().await.unwrap(),
                        None,
                        "clean end after the last frame"
                    );
                    (got, large)
                });
                for msg in &messages {
                    send.send(msg).await.unwrap();
                }
                send.send_bytes(large.as_deref().unwrap_or_default())
                    .await
                    .unwrap();
                send.finish().await.unwrap();
                let (got, got_large) = reader.await.unwrap();
                assert_eq!(got, messages);
                assert!(got_large == large, "large frame of stream {stream} differs");
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        client.close("done");
        assert_eq!(echoed.await.unwrap(), (STREAMS * 6) as usize);
        let reason = server.closed().await.to_string();
        assert!(
            reason.contains("done") && reason.contains("127.0.0.1"),
            "{reason}"
        );
    })
    .await
}

// ---------------------------------------------------------------------------
// secret and fingerprint checks

fn assert_no_secret(text: &str) {
    for secret in [SECRET, WRONG_SECRET] {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

fn assert_no_secret_logged() {
    for line in LOGS.lock().unwrap().iter() {
        assert_no_secret(line);
    }
}

/// Connects a good peer as a shuffle fetcher and checks one round trip,
/// proving that the listener still serves.
async fn assert_serves(listener: &Listener, config: Arc<NetConfig>) {
    let addr = listener.local_addr();
    let (client, server) =
        tokio::join!(connect(addr, config, Role::ShuffleFetch), listener.accept());
    let (client, server) = (client.unwrap(), server.unwrap());
    assert_eq!(server.role(), Role::ShuffleFetch);
    let echoed = serve_echo(server);
    let (mut send, mut recv) = client.open().await.unwrap();
    send.send(&heartbeat(42)).await.unwrap();
    send.finish().await.unwrap();
    assert_eq!(recv.recv::<Msg>().await.unwrap(), Some(heartbeat(42)));
    assert_eq!(recv.recv::<Msg>().await.unwrap(), None);
    client.close("bye");
    assert_eq!(echoed.await.unwrap(), 1);
}

/// Checks that `err` names `peer`, says `expected`, and leaks no secret.
fn assert_says(err: &NetError, peer: SocketAddr, expected: &str) {
    assert_eq!(err.peer(), Some(peer), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(expected), "expected {expected:?} in: {text}");
    assert_no_secret(&text);
    assert_no_secret(&format!("{err:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_refused_on_both_sides_and_the_listener_keeps_serving() {
    bounded(async {
        let good = config(SECRET, BUILD);
        let (listener, addr) = listen(&good);
        for _ in 0..3 {
            let bad = config(WRONG_SECRET, BUILD);
            let err = connect(addr, bad, Role::Worker).await.unwrap_err();
            assert!(matches!(err, NetError::Refused { .. }), "{err:?}");
            let expected =
                format!("the driver at {addr} refused this worker: wrong cluster secret");
            assert_says(&err, addr, &expected);
            let text = err.to_string();
            let barks_err = barks_runtime::Error::from(err);
            assert_eq!(barks_err.to_string(), text);
            assert!(
                matches!(barks_err, barks_runtime::Error::Net { peer: Some(p), .. } if p == addr)
            );
        }
        let line = wait_logged(&[
            &format!("listener {addr}: refused the peer at 127.0.0.1:"),
            "wrong cluster secret",
        ])
        .await;
        assert!(line.contains("the worker at 127.0.0.1:"), "{line}");
        // The refused peers were never handed out: the next peer is the good one.
        assert_serves(&listener, good).await;
        assert_no_secret_logged();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_build_is_refused_on_both_sides() {
    bounded(async {
        let good = config(SECRET, BUILD);
        let (listener, addr) = listen(&good);
        let other = "build-bbbb2222";
        let err = connect(addr, config(SECRET, other), Role::Worker).await.unwrap_err();
        assert!(matches!(err, NetError::Refused { .. }), "{err:?}");
        let expected = format!(
            "the driver at {addr} refused this worker: other build: the driver at {addr} runs build \
             {BUILD}, this worker runs build {other}; run the same binary everywhere"
        );
        assert_says(&err, addr, &expected);
        let line = wait_logged(&[&format!("listener {addr}: "), "other build"]).await;
        assert!(line.contains("the worker at 127.0.0.1:"), "{line}");
        let expected = format!("runs build {other}, this node runs build {BUILD}");
        assert!(line.contains(&expected), "{line}");
        assert_serves(&listener, good).await;
    })
    .await
}

/// A listener that plays the barks protocol without the secret: it answers
/// a hello with its own (naming `fingerprint`) and a proof with a forged
/// proof. Yields the close code the connecting side ended it with.
fn impostor(fingerprint: &'static str) -> (SocketAddr, tokio::task::JoinHandle<Option<u64>>) {
    let endpoint = raw::server(ALPN);
    let addr = endpoint.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let conn = endpoint.accept().await.unwrap().await.unwrap();
        let (mut send, mut recv) = conn.accept_bi().await.unwrap();
        let hello = decode_hello(&raw::read_frame(&mut recv).await.unwrap()).unwrap();
        assert!(matches!(hello, (0, 1, _, Some(_), _)), "{hello:?}");
        let reply = hello_frame(1, fingerprint, None, [7; 32]);
        raw::write_frame(&mut send, &reply).await;
        if let Some(proof) = raw::read_frame(&mut recv).await {
            let mac = decode_proof(&proof).unwrap();
            assert_eq!(mac.len(), 32);
            raw::write_frame(&mut send, &proof_frame(&[0; 32])).await;
        }
        raw::close_code(&conn.closed().await)
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_cannot_prove_the_secret_is_refused_by_the_connecting_side() {
    bounded(async {
        let (addr, impostor) = impostor(BUILD);
        let err = connect(addr, config(SECRET, BUILD), Role::Worker)
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::Unauthenticated { .. }), "{err:?}");
        let expected = format!("the driver at {addr} could not prove it knows the cluster secret");
        assert_says(&err, addr, &expected);
        let code = impostor.await.unwrap();
        assert_eq!(code, Some(1), "the impostor is told it was refused");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_of_another_build_is_refused_by_the_connecting_side() {
    bounded(async {
        let (addr, impostor) = impostor("build-zzzz");
        let err = connect(addr, config(SECRET, BUILD), Role::ShuffleFetch)
            .await
            .unwrap_err();
        let expected = format!(
            "other build: the worker at {addr} runs build build-zzzz, this shuffle fetcher runs \
             build {BUILD}"
        );
        assert_says(&err, addr, &expected);
        assert_eq!(impostor.await.unwrap(), Some(1));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relaying_man_in_the_middle_cannot_pass() {
    bounded(async {
        let good = config(SECRET, BUILD);
        let (listener, addr) = listen(&good);
        let mitm = raw::server(ALPN);
        let mitm_addr = mitm.local_addr().unwrap();
        // Terminates the worker's TLS, opens its own TLS to the listener and
        // relays the handshake stream byte for byte in both directions.
        let relay = tokio::spawn(async move {
            let downstream = mitm.accept().await.unwrap().await.unwrap();
            let (upstream, upstream_addr) = raw::connect(addr).await;
            let (mut d_send, mut d_recv) = downstream.accept_bi().await.unwrap();
            let (mut u_send, mut u_recv) = upstream.open_bi().await.unwrap();
            let up = async { tokio::io::copy(&mut d_recv, &mut u_send).await };
            let down = async { tokio::io::copy(&mut u_recv, &mut d_send).await };
            let _ = tokio::join!(up, down);
            let code = raw::close_code(&upstream.closed().await);
            downstream.close(0u32.into(), b"relay: upstream closed");
            (upstream_addr, code)
        });
        let err = connect(mitm_addr, good.clone(), Role::Worker)
            .await
            .unwrap_err();
        assert_no_secret(&err.to_string());
        let (upstream_addr, code) = relay.await.unwrap();
        assert_eq!(code, Some(1), "the listener refused the relayed proof");
        let line = wait_logged(&[
            &format!("refused the peer at {upstream_addr}"),
            "wrong cluster secret",
        ])
        .await;
        assert!(line.contains(&format!("listener {addr}")), "{line}");
        assert_serves(&listener, good).await;
    })
    .await
}

// ---------------------------------------------------------------------------
// hostile raw QUIC clients: TLS works, the barks handshake does not

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_clients_sending_garbage_are_closed_and_logged_and_the_listener_keeps_serving() {
    bounded(async {
        let cfg = tuned(SECRET, BUILD, |c| {
            c.handshake_timeout = Duration::from_secs(2);
        });
        let (listener, addr) = listen(&cfg);
        let wrong_version = hello_frame(99, BUILD, Some(Role::Worker), [0; 32]);
        let with_prefix = |body: &[u8]| [&(body.len() as u32).to_le_bytes()[..], body].concat();
        let cases: Vec<(&str, Option<Vec<u8>>, u64, &str)> = vec![
            ("garbage", Some(blob(300, 5)), 2, "over the frame limit"),
            (
                "nothing at all",
                None,
                1,
                "the barks handshake took longer than 2s",
            ),
            (
                "an empty stream",
                Some(Vec::new()),
                1,
                "the handshake stream ended early",
            ),
            (
                "an oversized length prefix",
                Some(vec![0, 0, 0, 0x10]),
                2,
                "a frame of 268435456 bytes is over the frame limit of 4096 bytes",
            ),
            (
                "a truncated frame",
                Some([&100u32.to_le_bytes()[..], &[1; 10]].concat()),
                2,
                "the stream ended inside a frame (10 of 100 bytes)",
            ),
            (
                "a truncated header",
                Some(vec![9, 0]),
                2,
                "the stream ended inside a frame header (2 of 4 bytes)",
            ),
            (
                "an undecodable frame",
                Some(with_prefix(&[0xff; 20])),
                1,
                "undecodable handshake message",
            ),
            (
                "a hello of another protocol version",
                Some(with_prefix(&wrong_version)),
                1,
                "other protocol version: the peer at",
            ),
            (
                "a proof before any hello",
                Some(with_prefix(&proof_frame(&[1; 32]))),
                1,
                "expected a hello",
            ),
        ];
        for (what, bytes, code, logged_reason) in cases {
            let (conn, local) = raw::connect(addr).await;
            if let Some(bytes) = bytes {
                let (mut send, _recv) = conn.open_bi().await.unwrap();
                send.write_all(&bytes).await.unwrap();
                send.finish().unwrap();
                let closed = conn.closed().await;
                assert_eq!(raw::close_code(&closed), Some(code), "{what}: {closed:?}");
            } else {
                let closed = conn.closed().await;
                assert_eq!(raw::close_code(&closed), Some(code), "{what}: {closed:?}");
            }
            let line = wait_logged(&[
                &format!("listener {addr}: "),
                &local.to_string(),
                logged_reason,
            ])
            .await;
            assert!(line.starts_with("WARN"), "{what}: {line}");
        }
        assert_serves(&listener, cfg).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_the_secret_cannot_open_a_usable_stream() {
    bounded(async {
        let good = config(SECRET, BUILD);
        let (listener, addr) = listen(&good);
        let (conn, _) = raw::connect(addr).await;
        // The first stream is the handshake's: an engine message there is
        // not a hello. No second stream is allowed before authentication.
        let (mut send, _recv) = conn.open_bi().await.unwrap();
        let second = tokio::time::timeout(Duration::from_millis(500), conn.open_bi()).await;
        assert!(
            second.is_err(),
            "a second stream opened before authentication"
        );
        let msg = encode_frame(&heartbeat(1)).unwrap();
        raw::write_frame(&mut send, &msg).await;
        let nobody = tokio::time::timeout(Duration::from_millis(500), listener.accept()).await;
        assert!(nobody.is_err(), "an unauthenticated peer was handed out");
        assert_eq!(raw::close_code(&conn.closed().await), Some(1));
        assert_serves(&listener, good).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_pending_handshakes_are_refused_with_a_clear_error() {
    bounded(async {
        let cfg = tuned(SECRET, BUILD, |c| {
            c.handshake_timeout = Duration::from_secs(2);
            c.max_handshakes = 2;
        });
        let (listener, addr) = listen(&cfg);
        // Two silent connections take both handshake slots.
        let silent = [raw::connect(addr).await, raw::connect(addr).await];
        let err = connect(addr, cfg.clone(), Role::Worker).await.unwrap_err();
        assert!(matches!(err, NetError::Connect { .. }), "{err:?}");
        assert_says(&err, addr, "too many handshakes in progress");
        wait_logged(&[
            &format!("listener {addr}: refused a connection from"),
            "2 handshakes already in progress",
        ])
        .await;
        // Once the silent ones time out, peers get in again.
        for (conn, _) in &silent {
            assert_eq!(raw::close_code(&conn.closed().await), Some(1));
        }
        assert_serves(&listener, cfg).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_does_not_speak_barks_fails_tls_with_a_clear_error() {
    bounded(async {
        let other = raw::server(b"h3");
        let addr = other.local_addr().unwrap();
        let server = tokio::spawn(async move { other.accept().await.unwrap().await.is_err() });
        let err = connect(addr, config(SECRET, BUILD), Role::Worker)
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::Connect { .. }), "{err:?}");
        assert_says(
            &err,
            addr,
            "the listener does not speak barks/1 (no common ALPN protocol)",
        );
        assert!(
            server.await.unwrap(),
            "the TLS handshake failed on its side too"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_listening_is_a_timeout_naming_the_address() {
    bounded(async {
        let cfg = tuned(SECRET, BUILD, |c| {
            c.handshake_timeout = Duration::from_millis(500)
        });
        // A bound UDP socket that never answers.
        let silent = std::net::UdpSocket::bind(loopback()).unwrap();
        let addr = silent.local_addr().unwrap();
        let err = connect(addr, cfg, Role::Worker).await.unwrap_err();
        assert!(matches!(err, NetError::Timeout { .. }), "{err:?}");
        assert_says(&err, addr, &format!("the peer at {addr} timed out"));
    })
    .await
}

// ---------------------------------------------------------------------------
// frames on authenticated connections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_from_an_authenticated_peer_close_that_connection_only() {
    bounded(async {
        let cfg = tuned(SECRET, BUILD, |c| {
            c.max_frame = 1000;
        });
        let (listener, addr) = listen(&cfg);
        let client = connect(addr, cfg.clone(), Role::Worker).await.unwrap();
        let server = listener.accept().await.unwrap();
        // Sending over the limit is refused locally, before anything is sent.
        let (mut send, _recv) = client.open().await.unwrap();
        let err = send.send_bytes(&[0; 1001]).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("frame for {addr} not sent: 1001 bytes is over the frame limit of 1000 bytes")
        );
        // A peer whose limit is larger than ours sends a frame over our limit:
        // its connection closes, the error names it, the other connection lives.
        let mut big = (*cfg).clone();
        big.max_frame = 5000;
        let bad_client = connect(addr, Arc::new(big), Role::Worker).await.unwrap();
        let bad_server = listener.accept().await.unwrap();
        let (mut bad_send, _bad_recv) = bad_client.open().await.unwrap();
        bad_send.send_bytes(&[1; 2000]).await.unwrap();
        let (_, mut recv) = bad_server.accept_stream().await.unwrap();
        let err = recv.recv_bytes().await.unwrap_err();
        assert!(
            matches!(err, NetError::Frame { peer, .. } if peer == bad_server.remote()),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("a frame of 2000 bytes is over the frame limit of 1000 bytes"),
            "{text}"
        );
        wait_logged(&[
            &format!("bad frame from {}", bad_server.remote()),
            "over the frame limit",
        ])
        .await;
        let gone = bad_client.closed().await.to_string();
        assert!(
            gone.contains("protocol violation") && gone.contains("over the frame limit"),
            "{gone}"
        );

        // The first connection still works...
        send.send(&Msg::new()).await.unwrap();
        let (_, mut recv) = server.accept_stream().await.unwrap();
        assert_eq!(recv.recv::<Msg>().await.unwrap(), Some(Msg::new()));
        // ...until it sends a frame that is not the expected message type.
        send.send(&"not an engine message").await.unwrap();
        let err = recv.recv::<Msg>().await.unwrap_err();
        assert!(matches!(err, NetError::Frame { .. }), "{err:?}");
        assert!(err.to_string().contains("undecodable frame"), "{err}");
        let gone = client.closed().await.to_string();
        assert!(gone.contains("protocol violation"), "{gone}");
    })
    .await
}

// ---------------------------------------------------------------------------
// the secret stays secret

#[test]
fn the_secret_never_appears_in_debug_display_or_errors() {
    let secret = Secret::new(SECRET).unwrap();
    assert_eq!(format!("{secret:?}"), "Secret(redacted)");
    assert_eq!(format!("{secret}"), "Secret(redacted)");
    assert_eq!(secret.expose(), SECRET);
    let config = NetConfig::new(secret, BUILD);
    assert_no_secret(&format!("{config:?}"));
    assert!(format!("{config:?}").contains("Secret(redacted)"));

    let short = "tiny-Secret-9";
    let err = Secret::new(short).unwrap_err().to_string();
    assert!(
        err.contains("too short") && err.contains("at least 16"),
        "{err}"
    );
    assert!(!err.contains(short), "{err}");
    assert!(
        Secret::new("")
            .unwrap_err()
            .to_string()
            .contains("is empty")
    );
    assert!(
        Secret::new("ünïcödé-sëcret-16").is_ok(),
        "16 characters, more bytes"
    );

    let generated = Secret::generate();
    assert_eq!(generated.expose().len(), 64);
    assert!(generated.expose().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(generated.expose(), Secret::generate().expose());
}

#[test]
fn secret_sources_are_taken_in_order_flag_file_env_env_file() {
    let dir = std::env::temp_dir().join(format!("barks-net-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    std::fs::write(&file, "from-the-secret-file-0123\r\n").unwrap();
    let env_file = dir.join("env-secret");
    std::fs::write(&env_file, "from-the-env-secret-file-0123\n").unwrap();
    let short_file = dir.join("short");
    std::fs::write(&short_file, "tiny-Secret-9\n").unwrap();
    let expose = |s: Option<Secret>| s.map(|s| s.expose().to_owned());
    // The environment, as a map the test sets (not this process's own).
    let env = |vars: &[(&str, &OsStr)]| {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_os_string()))
            .collect();
        move |name: &str| vars.get(name).cloned()
    };
    let both = env(&[
        ("BARKS_SECRET", OsStr::new("from-the-environment-0123")),
        ("BARKS_SECRET_FILE", env_file.as_os_str()),
    ]);

    let flag = Secret::from_sources_in(Some("from-the-flag-0123456"), Some(&file), &both).unwrap();
    assert_eq!(expose(flag).as_deref(), Some("from-the-flag-0123456"));
    let from_file = Secret::from_sources_in(None, Some(&file), &both).unwrap();
    assert_eq!(
        expose(from_file).as_deref(),
        Some("from-the-secret-file-0123")
    );
    let from_env = Secret::from_sources_in(None, None, &both).unwrap();
    assert_eq!(
        expose(from_env).as_deref(),
        Some("from-the-environment-0123")
    );
    let env_file_only = env(&[("BARKS_SECRET_FILE", env_file.as_os_str())]);
    let from_env_file = Secret::from_sources_in(None, None, &env_file_only).unwrap();
    assert_eq!(
        expose(from_env_file).as_deref(),
        Some("from-the-env-secret-file-0123")
    );
    let missing = dir.join("missing");
    let missing_file = env(&[("BARKS_SECRET_FILE", missing.as_os_str())]);
    let err = Secret::from_sources_in(None, None, &missing_file)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing") && err.contains("BARKS_SECRET_FILE"),
        "{err}"
    );
    let empty = env(&[
        ("BARKS_SECRET", OsStr::new("")),
        ("BARKS_SECRET_FILE", missing.as_os_str()),
    ]);
    let err = Secret::from_sources_in(None, None, &empty)
        .unwrap_err()
        .to_string();
    assert!(err.contains("BARKS_SECRET is empty"), "{err}");
    let nothing = env(&[]);
    assert!(
        Secret::from_sources_in(None, None, &nothing)
            .unwrap()
            .is_none()
    );
    let err = Secret::from_sources_in(None, Some(&short_file), &nothing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("too short") && err.contains("--secret-file"),
        "{err}"
    );
    assert!(!err.contains("tiny-Secret-9"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// decoders under random and mutated input (CI's stand-in for the fuzzer)

fn msg() -> impl Strategy<Value = Msg> {
    let text = || "\\PC{0,12}";
    prop::collection::vec(
        (
            text(),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
            prop::result::maybe_ok(any::<u64>(), text()),
        ),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
    }

    #[test]
    fn messages_round_trip_and_any_truncation_or_extension_is_an_error(
        msg in msg(),
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let body = encode_frame(&msg).unwrap();
        prop_assert_eq!(decode_frame::<Msg>(&body).unwrap(), msg);
        let short = &body[..cut.index(body.len())];
        prop_assert!(decode_frame::<Msg>(short).is_err());
        let long = [&body[..], &extra].concat();
        let err = decode_frame::<Msg>(&long).unwrap_err().to_string();
        prop_assert!(err.contains("after the message"), "{}", err);
    }

    #[test]
    fn mutated_messages_never_panic_a_decoder(
        msg in msg(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut body = encode_frame(&msg).unwrap();
        for (at, byte) in flips {
            let at = at.index(body.len());
            body[at] = byte;
        }
        decode_all(&body);
    }
}

#[test]
fn the_hand_written_handshake_frames_are_what_the_real_decoder_reads() {
    let accepted = barks_runtime::cluster::fuzz_decode;
    let hello = hello_frame(1, BUILD, Some(Role::ShuffleFetch), [9; 32]);
    assert!(
        accepted(&hello).contains(&"handshake"),
        "{:?}",
        accepted(&hello)
    );
    let other = hello_frame(99, BUILD, None, [0; 32]);
    assert!(accepted(&other).contains(&"handshake of another version"));
    assert!(accepted(&proof_frame(&[1; 32])).contains(&"handshake"));
    // A worker's heartbeat: variant 1 of ToDriver, no fields.
    assert!(accepted(&[1]).contains(&"ToDriver"));
}

#[test]
fn the_fuzz_corpus_decodes_without_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frame_decode");
    let mut files = 0;
    let mut accepted = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        accepted += decode_all(&bytes);
        files += 1;
    }
    assert!(
        files >= 20,
        "only {files} corpus files in {}",
        dir.display()
    );
    assert!(accepted > 0, "no corpus file decodes as any message type");
}

// ---------------------------------------------------------------------------
// a plain quinn peer, speaking TLS with ALPN barks/1 but no barks handshake

mod raw {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
    use quinn::{Connection, ConnectionError, Endpoint, RecvStream, SendStream};
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{
        CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime,
    };

    use super::{ALPN, loopback};

    /// The ring provider, as the library uses (deprecated since rustls
    /// 0.23.48 with no ring replacement: see `tls.rs`).
    #[allow(deprecated)]
    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// Connects with TLS only; returns the connection and our address.
    pub async fn connect(addr: SocketAddr) -> (Connection, SocketAddr) {
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustAnything))
            .with_no_client_auth();
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let mut endpoint = Endpoint::client(loopback()).unwrap();
        let local = endpoint.local_addr().unwrap();
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(
            QuicClientConfig::try_from(tls).unwrap(),
        )));
        (
            endpoint.connect(addr, "barks").unwrap().await.unwrap(),
            local,
        )
    }

    /// A plain QUIC+TLS server offering `alpn` on 127.0.0.1.
    pub fn server(alpn: &[u8]) -> Endpoint {
        let cert = rcgen::generate_simple_self_signed(vec!["barks".to_owned()]).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        tls.alpn_protocols = vec![alpn.to_vec()];
        let config =
            quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls).unwrap()));
        Endpoint::server(config, loopback()).unwrap()
    }

    pub async fn write_frame(send: &mut SendStream, body: &[u8]) {
        send.write_all(&(body.len() as u32).to_le_bytes())
            .await
            .unwrap();
        send.write_all(body).await.unwrap();
    }

    pub async fn read_frame(recv: &mut RecvStream) -> Option<Vec<u8>> {
        let mut len = [0; 4];
        recv.read_exact(&mut len).await.ok()?;
        let mut body = vec![0; u32::from_le_bytes(len) as usize];
        recv.read_exact(&mut body).await.ok()?;
        Some(body)
    }

    /// The application close code a connection ended with.
    pub fn close_code(err: &ConnectionError) -> Option<u64> {
        match err {
            ConnectionError::ApplicationClosed(close) => Some(close.error_code.into_inner()),
            _ => None,
        }
    }

    #[derive(Debug)]
    struct TrustAnything;

    impl ServerCertVerifier for TrustAnything {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}
