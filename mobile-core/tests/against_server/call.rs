//! The call's signalling client against the real server: a doctor's device and a patient's
//! enter the room, exchange an offer, an answer, ICE candidates and chat, the patient's
//! network drops and the client reconnects by itself, and the room closes when the doctor
//! completes the consultation. A stranger is refused.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sanjeevani_mobile::{CallListener, CallSession, CallSignal, CallTiming, IceCandidateInit, Sex};
use sanjeevani_tests::{spawn_app, Backend};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::support::{book, call, doctor, patient, person, round_the_clock_session, Device};

const PHONE: &str = "+919876543210";

const QUICK: CallTiming = CallTiming {
    first_retry: Duration::from_millis(100),
    max_retry: Duration::from_millis(400),
    max_reconnects: 20,
};

#[derive(Default)]
struct Heard {
    signals: Mutex<Vec<CallSignal>>,
}

impl CallListener for Heard {
    fn on_signal(&self, signal: CallSignal) {
        self.signals.lock().unwrap().push(signal);
    }
}

impl Heard {
    /// Waits (up to 10 s) for a signal matching `wanted` and returns it; later waits look
    /// only after it.
    async fn wait_for(&self, what: &str, wanted: impl Fn(&CallSignal) -> bool) -> CallSignal {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let mut signals = self.signals.lock().unwrap();
                if let Some(at) = signals.iter().position(&wanted) {
                    let found = signals[at].clone();
                    signals.drain(..=at);
                    return found;
                }
                assert!(Instant::now() < deadline, "never heard {what}: {signals:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A TCP relay in front of the server whose connections can be cut, like a phone losing its
/// network for a moment.
struct Flaky {
    address: String,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Flaky {
    async fn to(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let held = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            address,
            connections,
        }
    }

    fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

async fn join(device: &Device, token_id: &str, heard: &Arc<Heard>) -> Arc<CallSession> {
    let (token_id, listener) = (token_id.to_owned(), heard.clone() as Arc<dyn CallListener>);
    device
        .call(move |c| {
            c.join_call_with(token_id, listener, QUICK)
                .expect("the call starts")
        })
        .await
}

#[actix_web::test]
async fn a_doctor_and_a_patient_signal_chat_and_survive_a_network_drop() {
    let app = spawn_app(Backend::Sqlite).await;
    let flaky = Flaky::to(&app.address).await;
    // The patient's phone reaches the server through a network that can drop.
    let phone = Device::new(&flaky.address);
    phone
        .call(|c| c.request_otp_phone(PHONE.into()))
        .await
        .expect("the code is sent");
    let code = app.last_otp_for_phone(PHONE);
    phone
        .call(move |c| c.verify_otp_phone(PHONE.into(), code, None))
        .await
        .expect("signed in through the relay");
    let holder = phone
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .expect("the profile is added");
    let patient_id = holder.id;
    let session = round_the_clock_session(&phone).await;
    let token = book(&phone, &session, &patient_id).await.expect("booked");
    let doctor = doctor(&app).await;
    let called = doctor
        .call(move |c| c.call_next(session))
        .await
        .expect("called");
    assert_eq!(called.id, token.id);

    let ice = doctor
        .call({
            let id = token.id.clone();
            move |c| c.call_ice_servers(id)
        })
        .await
        .expect("ICE servers");
    assert!(ice.is_empty(), "no STUN/TURN configured in tests");

    let doctor_heard = Arc::new(Heard::default());
    let patient_heard = Arc::new(Heard::default());
    let doctor_call = join(&doctor, &token.id, &doctor_heard).await;
    doctor_heard
        .wait_for("entered", |s| {
            matches!(
                s,
                CallSignal::Entered {
                    peer_present: false,
                    ..
                }
            )
        })
        .await;
    let patient_call = join(&phone, &token.id, &patient_heard).await;
    patient_heard
        .wait_for("entered", |s| {
            matches!(
                s,
                CallSignal::Entered {
                    peer_present: true,
                    ..
                }
            )
        })
        .await;
    doctor_heard
        .wait_for("the patient", |s| {
            matches!(s, CallSignal::PeerJoined { .. })
        })
        .await;

    doctor_call.send_offer("v=0 offer".into());
    patient_heard
        .wait_for(
            "the offer",
            |s| matches!(s, CallSignal::Offer { sdp } if sdp == "v=0 offer"),
        )
        .await;
    patient_call.send_answer("v=0 answer".into());
    doctor_heard
        .wait_for(
            "the answer",
            |s| matches!(s, CallSignal::Answer { sdp } if sdp == "v=0 answer"),
        )
        .await;
    let candidate = IceCandidateInit {
        candidate: "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    patient_call.send_ice(Some(candidate.clone()));
    doctor_heard
        .wait_for(
            "the candidate",
            |s| matches!(s, CallSignal::Ice { candidate: Some(c) } if *c == candidate),
        )
        .await;
    patient_call
        .send_chat("আমার মাথা ব্যথা".into())
        .expect("a chat line");
    for heard in [&doctor_heard, &patient_heard] {
        heard
            .wait_for(
                "the chat",
                |s| matches!(s, CallSignal::Chat { line } if line.text == "আমার মাথা ব্যথা"),
            )
            .await;
    }
    assert!(
        patient_call.send_chat(" ".into()).is_err(),
        "blank chat refused on the phone"
    );

    // The patient's network drops: the client reconnects by itself into the same call.
    flaky.cut();
    doctor_heard
        .wait_for("the drop", |s| matches!(s, CallSignal::PeerDropped { .. }))
        .await;
    patient_heard
        .wait_for("reconnecting", |s| {
            matches!(s, CallSignal::Reconnecting { .. })
        })
        .await;
    patient_heard
        .wait_for("back in", |s| {
            matches!(
                s,
                CallSignal::Entered {
                    reconnected: true,
                    ..
                }
            )
        })
        .await;
    doctor_heard
        .wait_for("the patient back", |s| {
            matches!(s, CallSignal::PeerJoined { reconnected: true })
        })
        .await;
    assert!(patient_call.is_connected());

    // A stranger with a valid login has no place in this room.
    let (stranger, _) = patient(&app, "+919812345678", "Someone Else").await;
    let stranger_heard = Arc::new(Heard::default());
    let _stranger_call = join(&stranger, &token.id, &stranger_heard).await;
    stranger_heard
        .wait_for(
            "the refusal",
            |s| matches!(s, CallSignal::Refused { code, .. } if code == "not_found"),
        )
        .await;

    // The doctor completes the consultation: the room closes for both.
    let id = token.id.clone();
    call(&doctor.client, move |c| {
        c.start_consultation(id.clone())?;
        c.complete_consultation(id)
    })
    .await
    .expect("completed");
    for heard in [&doctor_heard, &patient_heard] {
        heard
            .wait_for(
                "the end",
                |s| matches!(s, CallSignal::Ended { how } if how == "completed"),
            )
            .await;
    }
    tokio::task::spawn_blocking(move || {
        patient_call.leave();
        doctor_call.leave();
        assert!(!patient_call.is_connected());
    })
    .await
    .unwrap();
}
