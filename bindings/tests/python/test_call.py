"""The consultation call's signalling client through the generated bindings: the app's listener
is written in Python, as an app's would be in Kotlin or Swift. The call runs in an OPD of its
own, so whatever happens here leaves no patient called in the queue the other tests use."""

import threading

import sanjeevani_mobile as sm
from conftest import booked_in_own_opd, first_heard


def kind(signal) -> str:
    """The variant's name in lower case without underscores (`entered`, `peerjoined`). The
    generated classes are named `CallSignal.ENTERED`: the last part is the variant. (The first
    version of this test compared the whole name, never matched, and so "never heard the doctor
    enter".)"""
    return type(signal).__name__.rsplit(".", 1)[-1].replace("_", "").lower()


class Signals(sm.CallListener):
    """The app's side of join_call: called on the call's own thread, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.heard = []

    def on_signal(self, signal):
        with self.lock:
            self.heard.append(signal)

    def wait_for(self, what, wanted, timeout=20.0):
        return first_heard(self.lock, self.heard, what, wanted, timeout)


def test_a_doctor_and_a_patient_signal_and_chat_through_the_room(base_url, request_code, tmp_path):
    patient, token, session, _, doctor = booked_in_own_opd(
        base_url, request_code, tmp_path, "CL", "+918000000051", "Mina Roy"
    )
    assert doctor.call_next(session).id == token.id

    assert doctor.call_ice_servers(token.id) == []  # no STUN/TURN configured for the tests
    at_doctor, at_patient = Signals(), Signals()
    doctor_call = doctor.join_call(token.id, at_doctor)
    at_doctor.wait_for("the doctor in", lambda s: kind(s) == "entered")
    patient_call = patient.join_call(token.id, at_patient)
    try:
        entered = at_patient.wait_for("the patient in", lambda s: kind(s) == "entered")
        assert entered.peer_present and entered.side == sm.CallSide.PATIENT
        at_doctor.wait_for("the patient", lambda s: kind(s) == "peerjoined")

        doctor_call.send_offer("v=0 offer")
        at_patient.wait_for("the offer", lambda s: kind(s) == "offer" and s.sdp == "v=0 offer")
        patient_call.send_answer("v=0 answer")
        at_doctor.wait_for("the answer", lambda s: kind(s) == "answer" and s.sdp == "v=0 answer")
        candidate = sm.IceCandidateInit(
            candidate="candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host", sdp_mid="0", sdp_m_line_index=0
        )
        doctor_call.send_ice(candidate)
        at_patient.wait_for("the candidate", lambda s: kind(s) == "ice" and s.candidate == candidate)
        patient_call.send_chat("মাথা ব্যথা তিন দিন")
        for heard in (at_doctor, at_patient):
            heard.wait_for("the chat", lambda s: kind(s) == "chat" and s.line.text == "মাথা ব্যথা তিন দিন")

        doctor.start_consultation(token.id)
        doctor.complete_consultation(token.id)
        for heard in (at_doctor, at_patient):
            heard.wait_for("the end", lambda s: kind(s) == "ended" and s.how == "completed")
    finally:
        patient_call.leave()
        doctor_call.leave()
    assert not patient_call.is_connected()
