//! The consultation call: the room a called token opens, the WebSocket signalling messages
//! (JSON with a `type` tag), ICE servers with TURN credentials, chat and shared files, and the
//! call facts kept with the consultation record.
//!
//! The media itself never touches the server: browsers and phones send it to each other over
//! WebRTC (through TURN when no direct path exists). The server relays the signalling between
//! the two participants, decides who may enter, and records what happened.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::TokenStatus;

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;
/// Largest signalling message a client may send, in bytes (an SDP offer is a few KB).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// Which side of the call a participant is on. For an assisted token the CHO at the spoke is
/// on the patient's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallSide {
    Doctor,
    Patient,
}

impl CallSide {
    pub fn as_str(self) -> &'static str {
        match self {
            CallSide::Doctor => "doctor",
            CallSide::Patient => "patient",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "doctor" => Some(CallSide::Doctor),
            "patient" => Some(CallSide::Patient),
            _ => None,
        }
    }

    pub fn other(self) -> Self {
        match self {
            CallSide::Doctor => CallSide::Patient,
            CallSide::Patient => CallSide::Doctor,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallEnd {
    /// The consultation was completed.
    Completed,
    /// The room closed (no-show, cancellation, or completion) and the patient's side never
    /// joined this call.
    PatientNeverJoined,
    /// A participant's connection was lost and not restored within the grace period, and the
    /// room emptied.
    Dropped,
    /// Everyone left on purpose (the consultation itself goes on or is completed later).
    Left,
    /// The room closed for another reason (the token was marked a no-show or cancelled after
    /// the patient had joined).
    Closed,
}

impl CallEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            CallEnd::Completed => "completed",
            CallEnd::PatientNeverJoined => "patient_never_joined",
            CallEnd::Dropped => "dropped",
            CallEnd::Left => "left",
            CallEnd::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            CallEnd::Completed,
            CallEnd::PatientNeverJoined,
            CallEnd::Dropped,
            CallEnd::Left,
            CallEnd::Closed,
        ]
        .into_iter()
        .find(|end| end.as_str() == text)
    }
}

/// One STUN or TURN server, in the shape `RTCPeerConnection`'s `iceServers` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceServer {
    pub urls: Vec<String>,
    /// TURN only: `<expiry unix time>:<user id>` (the TURN REST API scheme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN only: base64(HMAC-SHA1(shared secret, username)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The ICE servers for one participant; fetch again after `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceConfig {
    pub ice_servers: Vec<IceServer>,
    /// When the TURN credentials stop working (absent with no TURN configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a participant sees of a room before and while entering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallRoom {
    pub token_id: String,
    /// Read aloud: e.g. `AC-007`.
    pub display: String,
    pub status: TokenStatus,
    /// The caller's side.
    pub side: CallSide,
    /// The patient's name (for the doctor; the patient sees their own).
    pub patient_name: String,
    /// The doctor's name.
    pub doctor_name: String,
    /// A called patient must join before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_deadline: Option<DateTime<Utc>>,
    /// The room is open: the token is called or in consultation.
    pub open: bool,
    /// The WebSocket path: connect, then send `{"type": "auth", "token": ...}` first.
    pub socket_path: String,
}

/// An ICE candidate as the browser's `RTCIceCandidate.toJSON()` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(
        rename = "sdpMLineIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sdp_m_line_index: Option<u32>,
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

/// A message a participant sends on the room's WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message: the bearer session token (never in the URL, where it would be
    /// logged).
    Auth { token: String },
    /// A WebRTC offer (SDP), relayed to the other participant.
    Offer { sdp: String },
    /// A WebRTC answer (SDP), relayed to the other participant.
    Answer { sdp: String },
    /// An ICE candidate, relayed; `null` ends the candidates.
    Ice { candidate: Option<IceCandidate> },
    /// A chat line, stored with the consultation record and sent to both sides.
    Chat { text: String },
    /// Leaving on purpose (no reconnect expected).
    Leave,
    /// Keeps the connection alive through proxies; answered with `pong`.
    Ping,
}

/// A message the server sends on the room's WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Entered the room. `peer_present`: the other side is connected now.
    Welcome {
        side: CallSide,
        call_id: String,
        peer_present: bool,
        /// True when this connection replaced an earlier one of the same participant.
        reconnected: bool,
    },
    /// The other side entered (or came back after a drop).
    PeerJoined {
        side: CallSide,
        reconnected: bool,
    },
    /// The other side's connection was lost; they may come back within `grace_seconds`.
    PeerDropped {
        side: CallSide,
        grace_seconds: u64,
    },
    /// The other side left (on purpose, or their grace period ran out).
    PeerLeft {
        side: CallSide,
    },
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    Ice {
        candidate: Option<IceCandidate>,
    },
    Chat {
        message: ChatMessage,
    },
    /// The patient's side shared a file; fetch it from the files endpoint.
    FileShared {
        file: SharedFile,
    },
    /// The room closed: the consultation completed, or the token ended otherwise.
    Ended {
        how: CallEnd,
    },
    /// A refusal. Fatal ones (`unauthorized`, `not_found`, `room_not_open`, `room_closed`,
    /// `join_window_passed`, `replaced`) are followed by the socket closing.
    Error {
        code: String,
        message: String,
    },
    Pong,
}

/// One chat line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub id: String,
    pub side: CallSide,
    pub sender_name: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// A file shared in the consultation (an earlier report, an image of a prescription).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedFile {
    pub id: String,
    pub file_name: String,
    /// `application/pdf`, `image/png`, `image/jpeg` or `image/webp`, from the file's content.
    pub media_type: String,
    pub size_bytes: i64,
    pub uploaded_at: DateTime<Utc>,
}

/// One participant's coming and going.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallEvent {
    pub side: CallSide,
    /// `joined`, `left`, `dropped`, `reconnected` or `replaced`.
    pub event: String,
    pub at: DateTime<Utc>,
}

/// One call of a consultation (a token can have more than one if everyone left and came back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallFacts {
    pub id: String,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_joined_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_joined_at: Option<DateTime<Utc>>,
    /// When both sides were first in the room together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_how: Option<CallEnd>,
    /// From both sides being together to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    pub events: Vec<CallEvent>,
}

/// What the consultation record keeps of its calls: their facts, the chat and the shared files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallRecord {
    pub token_id: String,
    pub calls: Vec<CallFacts>,
    pub messages: Vec<ChatMessage>,
    pub files: Vec<SharedFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_a_type_tag_and_browser_candidate_names() {
        let ice = ClientMessage::Ice {
            candidate: Some(IceCandidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            }),
        };
        let json = serde_json::to_value(&ice).unwrap();
        assert_eq!(json["type"], "ice");
        assert_eq!(json["candidate"]["sdpMid"], "0");
        assert_eq!(json["candidate"]["sdpMLineIndex"], 0);
        let back: ClientMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, ice);
        let leave: ClientMessage = serde_json::from_str(r#"{"type":"leave"}"#).unwrap();
        assert_eq!(leave, ClientMessage::Leave);
        let ended = serde_json::to_value(ServerMessage::Ended {
            how: CallEnd::PatientNeverJoined,
        })
        .unwrap();
        assert_eq!(ended["how"], "patient_never_joined");
    }
}
