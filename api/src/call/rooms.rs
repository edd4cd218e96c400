//! The live rooms of this process: who is connected on each side of a called token, and the
//! relay of signalling between them.
//!
//! Rooms are held in memory, per API process: the sockets of one room must meet in one
//! process. With several processes, the load balancer routes every request under
//! `/api/v1/calls/{token_id}/` by a hash of the token id (nginx `hash $token_id consistent;`,
//! HAProxy `balance uri` with a path depth), so both participants of a room land on the same
//! process; nothing else in the API needs stickiness. What crosses processes goes through the
//! database: a consultation completed through another process closes the room because every
//! process re-reads its rooms' tokens now and then (see [`super::spawn_watcher`]), and chat
//! and call facts are written before they are relayed. The alternative, relaying every
//! signalling message through PostgreSQL `LISTEN/NOTIFY` (a channel per process, the room's
//! owner in a table), would let participants land anywhere at the price of a database round
//! trip per ICE candidate; hashing by token id is simpler and keeps the database out of the
//! media set-up path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use sanjeevani_types::call::{CallEnd, CallSide, ServerMessage};
use tokio::sync::mpsc;

/// What the room sends a socket task: a message, or "close now" (replaced, room ended).
#[derive(Debug, Clone)]
pub enum Outbound {
    Message(ServerMessage),
    Close { code: u16, reason: &'static str },
}

/// Close codes the server uses (4000-4999 are the application's own).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const REPLACED: u16 = 4000;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const NOT_FOUND: u16 = 4404;
    pub const CONFLICT: u16 = 4409;
    pub const TOO_LARGE: u16 = 1009;
}

/// Messages queued for one socket before it counts as stuck.
pub const QUEUE: usize = 256;

#[derive(Debug)]
struct Slot {
    conn: u64,
    tx: mpsc::Sender<Outbound>,
    /// The connection was lost; the participant may come back until the grace period ends.
    dropped: bool,
}

#[derive(Debug)]
struct Room {
    session_id: String,
    call_id: String,
    doctor: Option<Slot>,
    patient: Option<Slot>,
    patient_joined: bool,
    dropped_any: bool,
}

impl Room {
    fn slot(&mut self, side: CallSide) -> &mut Option<Slot> {
        match side {
            CallSide::Doctor => &mut self.doctor,
            CallSide::Patient => &mut self.patient,
        }
    }

    fn live(&mut self, side: CallSide) -> Option<&Slot> {
        self.slot(side).as_ref().filter(|slot| !slot.dropped)
    }

    fn send(&mut self, side: CallSide, message: ServerMessage) -> bool {
        self.live(side)
            .is_some_and(|slot| slot.tx.try_send(Outbound::Message(message)).is_ok())
    }

    fn is_empty(&self) -> bool {
        self.doctor.is_none() && self.patient.is_none()
    }

    fn how_emptied(&self) -> CallEnd {
        if self.dropped_any {
            CallEnd::Dropped
        } else {
            CallEnd::Left
        }
    }
}

/// A socket's place in the room after entering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attached {
    pub conn: u64,
    /// The same side was here before (a drop, or a second device taking over).
    pub reconnected: bool,
    /// The other side is connected now.
    pub peer_present: bool,
}

/// What a departure changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Departed {
    /// This socket had already been replaced or the room closed: nothing to record.
    Stale,
    /// Recorded; the room goes on (or waits for a dropped participant).
    Stayed { call_id: String },
    /// The room is empty now: its call ended this way.
    Emptied { call_id: String, how: CallEnd },
}

/// A room this process holds, for the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub token_id: String,
    pub session_id: String,
    pub call_id: String,
    pub patient_joined: bool,
}

#[derive(Debug, Default)]
pub struct Rooms {
    inner: Mutex<HashMap<String, Room>>,
    next_conn: AtomicU64,
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a socket on its side of the room (one live socket per side: an earlier one is
    /// told `replaced` and closed) and tells the other side.
    pub fn attach(
        &self,
        token_id: &str,
        session_id: &str,
        call_id: &str,
        side: CallSide,
        tx: mpsc::Sender<Outbound>,
    ) -> Attached {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        let mut rooms = self.lock();
        let room = rooms.entry(token_id.to_owned()).or_insert_with(|| Room {
            session_id: session_id.to_owned(),
            call_id: call_id.to_owned(),
            doctor: None,
            patient: None,
            patient_joined: false,
            dropped_any: false,
        });
        room.call_id = call_id.to_owned();
        let previous = room.slot(side).replace(Slot {
            conn,
            tx,
            dropped: false,
        });
        let reconnected = previous.is_some();
        if let Some(old) = previous.filter(|old| !old.dropped) {
            let _ = old.tx.try_send(Outbound::Message(ServerMessage::Error {
                code: "replaced".into(),
                message: "You joined this call from another connection.".into(),
            }));
            let _ = old.tx.try_send(Outbound::Close {
                code: close::REPLACED,
                reason: "replaced",
            });
        }
        if side == CallSide::Patient {
            room.patient_joined = true;
        }
        let peer_present = room.send(
            side.other(),
            ServerMessage::PeerJoined { side, reconnected },
        );
        Attached {
            conn,
            reconnected,
            peer_present,
        }
    }

    /// Relays a message to the other side. False when this socket is not the live one of its
    /// side or the other side is not connected.
    pub fn relay(&self, token_id: &str, side: CallSide, conn: u64, message: ServerMessage) -> bool {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(token_id) else {
            return false;
        };
        if room.live(side).is_none_or(|slot| slot.conn != conn) {
            return false;
        }
        room.send(side.other(), message)
    }

    /// Sends to both sides (chat, a shared file).
    pub fn broadcast(&self, token_id: &str, message: ServerMessage) {
        if let Some(room) = self.lock().get_mut(token_id) {
            room.send(CallSide::Doctor, message.clone());
            room.send(CallSide::Patient, message);
        }
    }

    /// A socket ended. `on_purpose`: the participant sent `leave`; otherwise the connection
    /// was lost and the side is held for the grace period ([`Rooms::expire`] ends it).
    pub fn depart(
        &self,
        token_id: &str,
        side: CallSide,
        conn: u64,
        on_purpose: bool,
        grace_seconds: u64,
    ) -> Departed {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(token_id) else {
            return Departed::Stale;
        };
        if room
            .slot(side)
            .as_ref()
            .is_none_or(|slot| slot.conn != conn)
        {
            return Departed::Stale;
        }
        let call_id = room.call_id.clone();
        if on_purpose {
            *room.slot(side) = None;
            room.send(side.other(), ServerMessage::PeerLeft { side });
        } else {
            if let Some(slot) = room.slot(side).as_mut() {
                slot.dropped = true;
            }
            room.send(
                side.other(),
                ServerMessage::PeerDropped {
                    side,
                    grace_seconds,
                },
            );
            return Departed::Stayed { call_id };
        }
        if room.is_empty() {
            let how = room.how_emptied();
            rooms.remove(token_id);
            return Departed::Emptied { call_id, how };
        }
        Departed::Stayed { call_id }
    }

    /// The grace period of a dropped socket ended: if it did not come back, its side leaves.
    pub fn expire(&self, token_id: &str, side: CallSide, conn: u64) -> Departed {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(token_id) else {
            return Departed::Stale;
        };
        let still_dropped = room
            .slot(side)
            .as_ref()
            .is_some_and(|slot| slot.conn == conn && slot.dropped);
        if !still_dropped {
            return Departed::Stale;
        }
        *room.slot(side) = None;
        room.dropped_any = true;
        let call_id = room.call_id.clone();
        room.send(side.other(), ServerMessage::PeerLeft { side });
        if room.is_empty() {
            let how = room.how_emptied();
            rooms.remove(token_id);
            return Departed::Emptied { call_id, how };
        }
        Departed::Stayed { call_id }
    }

    /// Closes a room whose consultation ended: both sides are told how and disconnected.
    pub fn close(&self, token_id: &str, how: CallEnd) -> Option<String> {
        let room = self.lock().remove(token_id)?;
        for slot in [room.doctor, room.patient].into_iter().flatten() {
            let _ = slot
                .tx
                .try_send(Outbound::Message(ServerMessage::Ended { how }));
            let _ = slot.tx.try_send(Outbound::Close {
                code: close::NORMAL,
                reason: "ended",
            });
        }
        Some(room.call_id)
    }

    pub fn summaries(&self) -> Vec<RoomSummary> {
        self.lock()
            .iter()
            .map(|(token_id, room)| RoomSummary {
                token_id: token_id.clone(),
                session_id: room.session_id.clone(),
                call_id: room.call_id.clone(),
                patient_joined: room.patient_joined,
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket() -> (mpsc::Sender<Outbound>, mpsc::Receiver<Outbound>) {
        mpsc::channel(QUEUE)
    }

    fn next(rx: &mut mpsc::Receiver<Outbound>) -> ServerMessage {
        match rx.try_recv().expect("a message") {
            Outbound::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn offers_reach_only_the_other_side_and_a_second_socket_replaces_the_first() {
        let rooms = Rooms::default();
        let (doctor_tx, mut doctor_rx) = socket();
        let doctor = rooms.attach("t1", "s1", "c1", CallSide::Doctor, doctor_tx);
        assert!(!doctor.peer_present);
        let (patient_tx, mut patient_rx) = socket();
        let patient = rooms.attach("t1", "s1", "c1", CallSide::Patient, patient_tx);
        assert!(patient.peer_present);
        assert_eq!(
            next(&mut doctor_rx),
            ServerMessage::PeerJoined {
                side: CallSide::Patient,
                reconnected: false
            }
        );
        let offer = ServerMessage::Offer { sdp: "v=0".into() };
        assert!(rooms.relay("t1", CallSide::Doctor, doctor.conn, offer.clone()));
        assert_eq!(next(&mut patient_rx), offer);
        assert!(doctor_rx.try_recv().is_err(), "no echo to the sender");

        let (again_tx, _again_rx) = socket();
        let again = rooms.attach("t1", "s1", "c1", CallSide::Patient, again_tx);
        assert!(again.reconnected);
        assert!(
            matches!(next(&mut patient_rx), ServerMessage::Error { code, .. } if code == "replaced")
        );
        assert!(
            !rooms.relay("t1", CallSide::Patient, patient.conn, offer),
            "the replaced socket relays nothing"
        );
        assert_eq!(
            rooms.depart("t1", CallSide::Patient, patient.conn, false, 30),
            Departed::Stale
        );
    }

    #[test]
    fn a_drop_is_held_for_the_grace_period_then_empties_the_room() {
        let rooms = Rooms::default();
        let (doctor_tx, mut doctor_rx) = socket();
        let doctor = rooms.attach("t1", "s1", "c1", CallSide::Doctor, doctor_tx);
        let (patient_tx, _patient_rx) = socket();
        let patient = rooms.attach("t1", "s1", "c1", CallSide::Patient, patient_tx);
        let _ = next(&mut doctor_rx);
        rooms.depart("t1", CallSide::Patient, patient.conn, false, 30);
        assert_eq!(
            next(&mut doctor_rx),
            ServerMessage::PeerDropped {
                side: CallSide::Patient,
                grace_seconds: 30
            }
        );
        rooms.expire("t1", CallSide::Patient, patient.conn);
        assert_eq!(
            next(&mut doctor_rx),
            ServerMessage::PeerLeft {
                side: CallSide::Patient
            }
        );
        assert_eq!(
            rooms.depart("t1", CallSide::Doctor, doctor.conn, true, 30),
            Departed::Emptied {
                call_id: "c1".into(),
                how: CallEnd::Dropped
            }
        );
        assert!(rooms.is_empty());
    }
}
