//! The consultation call's signalling and chat for the apps. The app brings the platform's
//! WebRTC library (Android `org.webrtc`, iOS `WebRTC.framework`) for the camera, microphone
//! and media; this module talks to the server's room: it enters with the stored session,
//! sends the app's offer, answer and ICE candidates and chat lines, and hands everything the
//! other side sends to the app's [`CallListener`].
//!
//! One `std::thread` per call holds the WebSocket (`tungstenite` over rustls: no OpenSSL to
//! cross-compile, the same TLS stack as the HTTP client). The socket is read with a short
//! timeout so the same thread also sends what the app queued. When the connection is lost
//! without the room ending, the thread reconnects with backoff (0.5 s doubling to 8 s, for
//! at most [`CallTiming::max_reconnects`] tries), telling the listener `Reconnecting`; the
//! server holds the participant's place for its grace period (30 s by default) and tells the
//! other side `PeerDropped`, then `PeerJoined { reconnected }`. Offers, answers and ICE
//! candidates queued while disconnected are dropped (the doctor's side offers again after a
//! reconnect); chat lines wait and are sent.
//!
//! The session token goes in the first message, never in the URL.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use sanjeevani_types::call::{
    CallSide as WireSide, ChatMessage, ClientMessage, IceCandidate, IceConfig, ServerMessage,
    SharedFile, MAX_CHAT_CHARS,
};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::client::{check_token_id, Core, SanjeevaniClient};
use crate::error::{Error, MobileError};

/// Which side of the call a participant is on (the CHO at a spoke is on the patient's side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallSide {
    Doctor,
    Patient,
}

impl From<WireSide> for CallSide {
    fn from(side: WireSide) -> Self {
        match side {
            WireSide::Doctor => CallSide::Doctor,
            WireSide::Patient => CallSide::Patient,
        }
    }
}

/// An ICE candidate as the platform WebRTC library gives and takes it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IceCandidateInit {
    pub candidate: String,
    #[uniffi(default)]
    pub sdp_mid: Option<String>,
    #[uniffi(default)]
    pub sdp_m_line_index: Option<i32>,
}

impl From<IceCandidate> for IceCandidateInit {
    fn from(c: IceCandidate) -> Self {
        Self {
            candidate: c.candidate,
            sdp_mid: c.sdp_mid,
            sdp_m_line_index: c
                .sdp_m_line_index
                .map(|index| crate::records::clamp_i32(index.into())),
        }
    }
}

impl From<IceCandidateInit> for IceCandidate {
    fn from(c: IceCandidateInit) -> Self {
        Self {
            candidate: c.candidate,
            sdp_mid: c.sdp_mid,
            // A negative index is no index.
            sdp_m_line_index: c
                .sdp_m_line_index
                .and_then(|index| u32::try_from(index).ok()),
            username_fragment: None,
        }
    }
}

/// One chat line of the consultation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatLine {
    pub id: String,
    pub side: CallSide,
    pub sender_name: String,
    pub text: String,
    pub sent_at: SystemTime,
}

impl From<ChatMessage> for ChatLine {
    fn from(m: ChatMessage) -> Self {
        Self {
            id: m.id,
            side: m.side.into(),
            sender_name: m.sender_name,
            text: m.text,
            sent_at: m.sent_at.into(),
        }
    }
}

/// A report the patient's side shared (fetch it from the files endpoint).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SharedReport {
    pub id: String,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
}

impl From<SharedFile> for SharedReport {
    fn from(f: SharedFile) -> Self {
        Self {
            id: f.id,
            file_name: f.file_name,
            media_type: f.media_type,
            size_bytes: f.size_bytes,
        }
    }
}

/// One STUN or TURN server for the platform's `PeerConnection`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CallIceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

/// What happens in the room, as the app hears it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CallSignal {
    /// In the room. With `peer_present` the other side is there: the doctor's side offers.
    Entered {
        side: CallSide,
        peer_present: bool,
        reconnected: bool,
    },
    /// The other side came in (or back): the doctor's side offers (again).
    PeerJoined {
        reconnected: bool,
    },
    /// The other side's connection was lost; they may be back within `grace_seconds`.
    PeerDropped {
        grace_seconds: i64,
    },
    PeerLeft,
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    /// `None`: the other side has no more candidates.
    Ice {
        candidate: Option<IceCandidateInit>,
    },
    Chat {
        line: ChatLine,
    },
    FileShared {
        report: SharedReport,
    },
    /// This side's connection was lost; trying again (`attempt` from 1).
    Reconnecting {
        attempt: i32,
    },
    /// The room closed: `completed`, `patient_never_joined`, `closed`. The call is over.
    Ended {
        how: String,
    },
    /// The server refused (`not_found`, `room_not_open`, `room_closed`,
    /// `join_window_passed`, `unauthorized`, `replaced`) or reconnecting failed (`network`).
    /// The call is over.
    Refused {
        code: String,
        message: String,
    },
    /// A message was not accepted (`validation_failed` for chat, `peer_absent`); the call
    /// goes on.
    Problem {
        code: String,
        message: String,
    },
}

/// Implemented by the app. Called on the call's own thread, in order; post to the UI thread
/// from here. Must not throw.
#[uniffi::export(with_foreign)]
pub trait CallListener: Send + Sync {
    fn on_signal(&self, signal: CallSignal);
}

/// Reconnect rhythm (tests shorten it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTiming {
    pub first_retry: Duration,
    pub max_retry: Duration,
    pub max_reconnects: u32,
}

impl CallTiming {
    pub const DEFAULT: CallTiming = CallTiming {
        first_retry: Duration::from_millis(500),
        max_retry: Duration::from_secs(8),
        max_reconnects: 8,
    };
}

/// The socket is read with this timeout, so queued messages go out at least this often.
const POLL: Duration = Duration::from_millis(50);
/// A ping this often keeps the server (and NATs) from counting the socket as dead.
const KEEPALIVE: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

enum Command {
    Send(ClientMessage),
    Leave,
}

/// A call in progress. `leave()` when the consultation screen closes; dropping it leaves too.
#[derive(Debug, uniffi::Object)]
pub struct CallSession {
    commands: Mutex<Sender<Command>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    connected: Arc<AtomicBool>,
}

#[uniffi::export]
impl CallSession {
    pub fn send_offer(&self, sdp: String) {
        self.send(ClientMessage::Offer { sdp });
    }

    pub fn send_answer(&self, sdp: String) {
        self.send(ClientMessage::Answer { sdp });
    }

    /// `None` when the platform library reports the end of candidates.
    pub fn send_ice(&self, candidate: Option<IceCandidateInit>) {
        self.send(ClientMessage::Ice {
            candidate: candidate.map(Into::into),
        });
    }

    /// A chat line (1-2000 characters), stored with the consultation record by the server and
    /// heard back by both sides as `Chat`.
    pub fn send_chat(&self, text: String) -> Result<(), MobileError> {
        let length = text.trim().chars().count();
        if length == 0 || length > MAX_CHAT_CHARS {
            return Err(Error::InvalidInput {
                field: "text",
                code: "out_of_range",
                message: format!("must have 1-{MAX_CHAT_CHARS} characters"),
            }
            .into());
        }
        self.send(ClientMessage::Chat { text });
        Ok(())
    }

    /// Whether the socket is in the room now (false while reconnecting).
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Leaves the room on purpose and waits for the call's thread to end (unless called from
    /// the listener, on that thread). Calling it again does nothing.
    pub fn leave(&self) {
        let _ = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(Command::Leave);
        crate::queue::join_worker(&self.thread);
    }
}

impl CallSession {
    fn send(&self, message: ClientMessage) {
        let _ = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(Command::Send(message));
    }
}

impl Drop for CallSession {
    fn drop(&mut self) {
        self.leave();
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Send(_) => "Send",
            Command::Leave => "Leave",
        })
    }
}

/// Enters the token's room on a new thread.
pub fn join(
    core: &Core,
    token_id: &str,
    listener: Arc<dyn CallListener>,
    timing: CallTiming,
) -> Result<CallSession, Error> {
    check_token_id(token_id)?;
    let token = core.store().session()?.ok_or(Error::NotLoggedIn)?.token;
    let url = socket_url(core.api().base_url(), token_id);
    let (commands, rx) = mpsc::channel();
    let connected = Arc::new(AtomicBool::new(false));
    let flag = connected.clone();
    let thread = thread::Builder::new()
        .name("sanjeevani-call".into())
        .spawn(move || run(&url, &token, listener.as_ref(), &rx, &flag, timing))?;
    Ok(CallSession {
        commands: Mutex::new(commands),
        thread: Mutex::new(Some(thread)),
        connected,
    })
}

fn socket_url(base_url: &str, token_id: &str) -> String {
    let base = base_url
        .strip_prefix("https://")
        .map(|rest| format!("wss://{rest}"))
        .or_else(|| {
            base_url
                .strip_prefix("http://")
                .map(|rest| format!("ws://{rest}"))
        })
        .unwrap_or_else(|| base_url.to_owned());
    format!("{base}/api/v1/calls/{token_id}/ws")
}

/// How one connection ended.
enum Outcome {
    /// Over for good: left, ended, refused.
    Finished,
    /// Lost: reconnect. `entered`: it had reached the room (the retry count starts again).
    Lost { entered: bool },
}

fn run(
    url: &str,
    token: &str,
    listener: &dyn CallListener,
    commands: &Receiver<Command>,
    connected: &AtomicBool,
    timing: CallTiming,
) {
    let mut failures = 0;
    // Chat lines written while reconnecting, sent once back in the room.
    let mut pending_chat = Vec::new();
    let mut last_problem = String::from("connection lost");
    loop {
        let outcome = match connect(url) {
            Ok(mut socket) => converse(
                &mut socket,
                token,
                listener,
                commands,
                connected,
                &mut pending_chat,
            ),
            Err(ConnectError::Refused(status)) => {
                listener.on_signal(CallSignal::Refused {
                    code: "refused".into(),
                    message: format!("the server refused the call connection (HTTP {status})"),
                });
                Outcome::Finished
            }
            Err(ConnectError::Network(details)) => {
                last_problem = details;
                Outcome::Lost { entered: false }
            }
        };
        connected.store(false, Ordering::SeqCst);
        match outcome {
            Outcome::Finished => return,
            Outcome::Lost { entered } => {
                failures = if entered { 1 } else { failures + 1 };
            }
        }
        if failures > timing.max_reconnects {
            listener.on_signal(CallSignal::Refused {
                code: "network".into(),
                message: format!("the call connection could not be restored: {last_problem}"),
            });
            return;
        }
        listener.on_signal(CallSignal::Reconnecting {
            attempt: crate::records::clamp_i32(failures.into()),
        });
        let wait = timing
            .first_retry
            .saturating_mul(1 << (failures - 1).min(16))
            .min(timing.max_retry);
        // Waits, unless the app leaves meanwhile; keeps the chat lines queued meanwhile.
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match commands.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Command::Leave) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Command::Send(message @ ClientMessage::Chat { .. })) => {
                    pending_chat.push(message)
                }
                Ok(Command::Send(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

enum ConnectError {
    Refused(u16),
    Network(String),
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(url: &str) -> Result<Socket, ConnectError> {
    let network = |e: &dyn std::fmt::Display| ConnectError::Network(e.to_string());
    let (host, port) = host_and_port(url).ok_or_else(|| network(&"bad address"))?;
    let address = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| network(&e))?
        .next()
        .ok_or_else(|| network(&"no address"))?;
    let stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT).map_err(|e| network(&e))?;
    stream.set_nodelay(true).map_err(|e| network(&e))?;
    // The handshake blocks (with a bound); the conversation then polls.
    stream
        .set_read_timeout(Some(CONNECT_TIMEOUT))
        .map_err(|e| network(&e))?;
    let (socket, _) =
        tungstenite::client_tls_with_config(url, stream, None, crate::tls::websocket_connector())
            .map_err(|error| match error {
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response)) => {
                ConnectError::Refused(response.status().as_u16())
            }
            other => network(&other),
        })?;
    let tcp = match socket.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp,
        MaybeTlsStream::Rustls(tls) => tls.get_ref(),
        _ => return Err(network(&"unexpected stream")),
    };
    tcp.set_read_timeout(Some(POLL)).map_err(|e| network(&e))?;
    Ok(socket)
}

fn host_and_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let default = if scheme == "wss" { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            Some((host.trim_matches(['[', ']']).to_owned(), port.parse().ok()?))
        }
        _ => Some((authority.trim_matches(['[', ']']).to_owned(), default)),
    }
}

fn converse(
    socket: &mut Socket,
    token: &str,
    listener: &dyn CallListener,
    commands: &Receiver<Command>,
    connected: &AtomicBool,
    pending_chat: &mut Vec<ClientMessage>,
) -> Outcome {
    let mut entered = false;
    if write(
        socket,
        &ClientMessage::Auth {
            token: token.into(),
        },
    )
    .is_err()
    {
        return Outcome::Lost { entered };
    }
    let mut last_ping = Instant::now();
    loop {
        // What the app queued.
        loop {
            let message = match commands.try_recv() {
                Ok(Command::Send(message)) => message,
                Ok(Command::Leave) | Err(TryRecvError::Disconnected) => {
                    let _ = write(socket, &ClientMessage::Leave);
                    let _ = socket.close(None);
                    let _ = socket.flush();
                    return Outcome::Finished;
                }
                Err(TryRecvError::Empty) => break,
            };
            if write(socket, &message).is_err() {
                return Outcome::Lost { entered };
            }
        }
        if last_ping.elapsed() >= KEEPALIVE {
            last_ping = Instant::now();
            if write(socket, &ClientMessage::Ping).is_err() {
                return Outcome::Lost { entered };
            }
        }
        // What the server sent (a pong to its ping is sent by tungstenite on the next flush).
        let frame = match socket.read() {
            Ok(frame) => frame,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                if socket.flush().is_err() {
                    return Outcome::Lost { entered };
                }
                continue;
            }
            Err(_) => return Outcome::Lost { entered },
        };
        match frame {
            Message::Text(text) => {
                let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                    continue;
                };
                match to_signal(message) {
                    Some(signal @ CallSignal::Entered { .. }) => {
                        entered = true;
                        connected.store(true, Ordering::SeqCst);
                        listener.on_signal(signal);
                        for message in std::mem::take(pending_chat) {
                            if write(socket, &message).is_err() {
                                return Outcome::Lost { entered };
                            }
                        }
                    }
                    Some(signal @ (CallSignal::Ended { .. } | CallSignal::Refused { .. })) => {
                        listener.on_signal(signal);
                        let _ = socket.close(None);
                        let _ = socket.flush();
                        return Outcome::Finished;
                    }
                    Some(signal) => listener.on_signal(signal),
                    None => {}
                }
            }
            Message::Close(frame) => {
                // The server's own refusals and endings came as messages before this.
                let code = frame.map(|f| f.code);
                return match code {
                    Some(CloseCode::Normal) => Outcome::Finished,
                    Some(CloseCode::Library(4000..=4999)) => Outcome::Finished,
                    _ => Outcome::Lost { entered },
                };
            }
            _ => {}
        }
    }
}

/// The server's message as the app hears it; `None` for what the app need not see.
fn to_signal(message: ServerMessage) -> Option<CallSignal> {
    Some(match message {
        ServerMessage::Welcome {
            side,
            peer_present,
            reconnected,
            ..
        } => CallSignal::Entered {
            side: side.into(),
            peer_present,
            reconnected,
        },
        ServerMessage::PeerJoined { reconnected, .. } => CallSignal::PeerJoined { reconnected },
        ServerMessage::PeerDropped { grace_seconds, .. } => CallSignal::PeerDropped {
            grace_seconds: i64::try_from(grace_seconds).unwrap_or(i64::MAX),
        },
        ServerMessage::PeerLeft { .. } => CallSignal::PeerLeft,
        ServerMessage::Offer { sdp } => CallSignal::Offer { sdp },
        ServerMessage::Answer { sdp } => CallSignal::Answer { sdp },
        ServerMessage::Ice { candidate } => CallSignal::Ice {
            candidate: candidate.map(Into::into),
        },
        ServerMessage::Chat { message } => CallSignal::Chat {
            line: message.into(),
        },
        ServerMessage::FileShared { file } => CallSignal::FileShared {
            report: file.into(),
        },
        ServerMessage::Ended { how } => CallSignal::Ended {
            how: how.as_str().into(),
        },
        ServerMessage::Error { code, message } => {
            if FATAL.contains(&code.as_str()) {
                CallSignal::Refused { code, message }
            } else {
                CallSignal::Problem { code, message }
            }
        }
        ServerMessage::Pong => return None,
    })
}

/// Server error codes after which the socket closes.
const FATAL: [&str; 7] = [
    "unauthorized",
    "not_found",
    "room_not_open",
    "room_closed",
    "join_window_passed",
    "replaced",
    "internal_error",
];

fn write(socket: &mut Socket, message: &ClientMessage) -> Result<(), tungstenite::Error> {
    let text = serde_json::to_string(message).unwrap_or_default();
    socket.send(Message::text(text))
}

impl Core {
    /// STUN and TURN servers (with short-lived credentials) for a call's `PeerConnection`.
    pub fn call_ice_servers(&self, token_id: &str) -> Result<Vec<CallIceServer>, Error> {
        check_token_id(token_id)?;
        let config: IceConfig = self.get(&format!("/calls/{token_id}/ice-servers"))?;
        Ok(config
            .ice_servers
            .into_iter()
            .map(|server| CallIceServer {
                urls: server.urls,
                username: server.username,
                credential: server.credential,
            })
            .collect())
    }
}

#[uniffi::export]
impl SanjeevaniClient {
    /// Enters the consultation room of a called token (the patient, the CHO at the spoke for
    /// an assisted token, or the calling doctor) on a background thread; `listener` hears
    /// everything that happens. For the patient's side, entering is joining the queue's call
    /// (refused with `join_window_passed` after the join window).
    pub fn join_call(
        &self,
        token_id: String,
        listener: Arc<dyn CallListener>,
    ) -> Result<Arc<CallSession>, MobileError> {
        Ok(self.join_call_with(token_id, listener, CallTiming::DEFAULT)?)
    }

    /// The ICE servers for the call's `PeerConnection` (fetch again for a call longer than an
    /// hour: the TURN credentials expire).
    pub fn call_ice_servers(&self, token_id: String) -> Result<Vec<CallIceServer>, MobileError> {
        Ok(self.core.call_ice_servers(&token_id)?)
    }
}

impl SanjeevaniClient {
    /// [`Self::join_call`] with another reconnect rhythm (tests retry faster).
    pub fn join_call_with(
        &self,
        token_id: String,
        listener: Arc<dyn CallListener>,
        timing: CallTiming,
    ) -> Result<Arc<CallSession>, Error> {
        join(&self.core, &token_id, listener, timing).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_follow_the_server_address() {
        assert_eq!(
            socket_url("https://sanjeevani.example.in", "t1"),
            "wss://sanjeevani.example.in/api/v1/calls/t1/ws"
        );
        assert_eq!(
            socket_url("http://127.0.0.1:8080", "t1"),
            "ws://127.0.0.1:8080/api/v1/calls/t1/ws"
        );
        assert_eq!(
            host_and_port("wss://sanjeevani.example.in/api"),
            Some(("sanjeevani.example.in".into(), 443))
        );
        assert_eq!(
            host_and_port("ws://10.0.2.2:8080/api"),
            Some(("10.0.2.2".into(), 8080))
        );
    }

    #[test]
    fn refusals_end_the_call_and_problems_do_not() {
        let refused = to_signal(ServerMessage::Error {
            code: "join_window_passed".into(),
            message: "late".into(),
        });
        assert!(matches!(refused, Some(CallSignal::Refused { .. })));
        let problem = to_signal(ServerMessage::Error {
            code: "peer_absent".into(),
            message: "wait".into(),
        });
        assert!(matches!(problem, Some(CallSignal::Problem { .. })));
    }
}
