"""The generated Python bindings driving the real library against a real API server."""

import datetime
import socket
import time

import pytest
import sanjeevani_mobile as sm
from conftest import (
    ROUND_THE_CLOCK,
    RecordingListener,
    patient_with_profile,
    person,
    small_round_the_clock_opd,
    todays_round_the_clock_session,
)


def test_logging_in_by_phone_keeps_the_session_on_the_device(base_url, request_code, tmp_path):
    phone = "+918000000001"
    client = sm.SanjeevaniClient(base_url, str(tmp_path))
    assert not client.is_logged_in()
    signed_in = client.verify_otp_phone(phone, request_code(client, phone))
    assert signed_in.user.role == sm.Role.PATIENT
    assert signed_in.user.phone == phone
    assert signed_in.expires_at > datetime.datetime.now(datetime.timezone.utc)
    assert client.is_logged_in()
    assert client.current_user().id == signed_in.user.id
    # The app restarts on the same data directory: still logged in.
    assert sm.SanjeevaniClient(base_url, str(tmp_path)).is_logged_in()


def test_a_wrong_otp_raises_otp_rejected(base_url, request_code, tmp_path):
    phone = "+918000000002"
    client = sm.SanjeevaniClient(base_url, str(tmp_path))
    right = request_code(client, phone)
    wrong = "111111" if right == "000000" else "000000"
    with pytest.raises(sm.MobileError.OtpRejected):
        client.verify_otp_phone(phone, wrong)
    assert not client.is_logged_in()


def test_an_invalid_phone_raises_validation_before_any_request(unreachable_url, tmp_path):
    # Nothing listens there: a request would raise Network instead.
    client = sm.SanjeevaniClient(unreachable_url, str(tmp_path))
    with pytest.raises(sm.MobileError.Validation) as raised:
        client.request_otp_phone("12345")
    [problem] = raised.value.fields
    assert (problem.field, problem.code) == ("phone", "invalid_phone")
    assert raised.value.message


def test_the_holder_and_a_family_member_with_a_bengali_name_are_added_and_listed(logged_in):
    client = logged_in("+918000000003")
    holder = client.add_family_member(person("Asha Das", sm.Sex.FEMALE))
    assert holder.relation == "self"
    mother = client.add_family_member(
        sm.FamilyMemberInput(
            name="সুমিতা দাস",
            sex=sm.Sex.FEMALE,
            preferred_language=sm.Language.BENGALI,
            birth_date="1958-03-14",
            # An ABHA number belongs to one person on the server: the Kotlin suite, run
            # against the same server, has its own.
            abha_number="91234567890123",
            relation="mother",
        )
    )
    assert mother.name == "সুমিতা দাস"
    assert len(mother.name) == 10
    assert mother.birth_date == "1958-03-14"
    assert mother.abha_number == "91-2345-6789-0123"
    family = client.family()
    assert [member.name for member in family] == ["Asha Das", "সুমিতা দাস"]
    assert family[1] == mother
    assert client.current_user().name == "Asha Das"


def test_a_family_member_is_updated(logged_in):
    client = logged_in("+918000000004")
    client.add_family_member(person("Asha Das", sm.Sex.FEMALE))
    son = client.add_family_member(person("রাহুল", sm.Sex.MALE, "son"))
    edited = person("রাহুল দাস", sm.Sex.MALE, "son")
    edited.preferred_language = sm.Language.HINDI
    updated = client.update_family_member(son.id, edited)
    assert (updated.id, updated.name) == (son.id, "রাহুল দাস")
    assert updated.preferred_language == sm.Language.HINDI
    assert [m.name for m in client.cached_family()] == ["Asha Das", "রাহুল দাস"]


def test_the_cached_family_is_readable_offline_with_the_same_data_directory(
    logged_in, unreachable_url, tmp_path
):
    client = logged_in("+918000000005")
    client.add_family_member(person("Asha Das", sm.Sex.FEMALE))
    client.add_family_member(person("সুমিতা দাস", sm.Sex.FEMALE, "mother"))
    online = client.family()
    offline = sm.SanjeevaniClient(unreachable_url, str(tmp_path))
    assert offline.cached_family() == online
    with pytest.raises(sm.MobileError.Network):
        offline.family()
    assert offline.is_logged_in(), "a network failure is not a logout"


def test_after_logout_the_next_call_raises_not_signed_in(logged_in):
    client = logged_in("+918000000006")
    client.family()
    client.logout()
    assert not client.is_logged_in()
    with pytest.raises(sm.MobileError.NotSignedIn):
        client.current_user()
    with pytest.raises(sm.MobileError.NotSignedIn):
        client.family()
    assert client.cached_family() == []


# --- Booking a token and watching the queue ------------------------------------------------


def test_a_patient_watches_the_queue_while_the_doctor_calls_and_completes(
    base_url, request_code, tmp_path
):
    asha, asha_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000011", "Asha Das")
    ravi, ravi_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000012", "Ravi Kumar")
    session = todays_round_the_clock_session(asha)
    first = asha.book_token(session, asha_id)
    assert first.status == sm.TokenStatus.WAITING and first.display.startswith("AC-")
    mine = ravi.book_token(session, ravi_id)
    assert ravi.pending_booking_count() == 0
    assert [t.id for t in ravi.my_tokens()] == [mine.id]

    # Booking the same session again is refused.
    with pytest.raises(sm.MobileError.Conflict) as raised:
        ravi.book_token(session, ravi_id)
    assert raised.value.code == "already_booked"

    doctor_dir = tmp_path / "doctor"
    doctor_dir.mkdir()
    doctor = sm.SanjeevaniClient(base_url, str(doctor_dir))
    assert doctor.login_staff("dr.ghosh", "sanjeevani-demo-2026").user.role == sm.Role.DOCTOR
    assert doctor.set_online(ROUND_THE_CLOCK, True).online
    doctor.heartbeat()

    listener = RecordingListener()
    watch = ravi.watch_queue(mine.id, listener)
    try:
        start = listener.wait_for("a first status", lambda u: u.position is not None)
        assert not start.stale and start.position >= 1
        # The doctor works through the queue until Ravi is called.
        while True:
            called = doctor.call_next(session)
            if called.id == mine.id:
                break
            doctor.start_consultation(called.id)
            doctor.complete_consultation(called.id)
        listener.wait_for("at position 0 or called", lambda u: u.position == 0 or u.status == sm.TokenStatus.CALLED)
        listener.wait_for("called", lambda u: u.status == sm.TokenStatus.CALLED)
        doctor.start_consultation(mine.id)
        done = doctor.complete_consultation(mine.id)
        assert done.status == sm.TokenStatus.COMPLETED
        listener.wait_for("completed", lambda u: u.status == sm.TokenStatus.COMPLETED)
    finally:
        watch.stop()
    assert not watch.is_running()
    positions = [u.position for u in listener.updates if u.position is not None]
    assert positions == sorted(positions, reverse=True), positions
    assert listener.errors == []


def test_offline_the_watch_reports_the_last_status_as_stale(
    base_url, request_code, tmp_path, unreachable_url
):
    client, patient_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000013", "Asha Das")
    token = client.book_token(todays_round_the_clock_session(client), patient_id)
    fresh = client.queue_status(token.id)
    assert not fresh.stale
    offline = sm.SanjeevaniClient(unreachable_url, str(tmp_path / "+918000000013"))
    listener = RecordingListener()
    watch = offline.watch_queue(token.id, listener)
    try:
        stale = listener.wait_for("stale", lambda u: u.stale)
    finally:
        watch.stop()
    assert (stale.token_id, stale.position, stale.as_of) == (token.id, fresh.position, fresh.as_of)
    assert isinstance(listener.errors[0], sm.MobileError.Network)
    client.cancel_token(token.id)


def test_booking_a_full_session_is_refused(base_url, request_code, tmp_path):
    opd_id = small_round_the_clock_opd(base_url, "FP", capacity=1)
    asha, asha_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000014", "Asha Das")
    ravi, ravi_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000015", "Ravi Kumar")
    [opd] = [opd for opd in asha.list_opds() if opd.id == opd_id]
    session = opd.sessions[0]
    assert session.tokens_left == 1
    asha.book_token(session.id, asha_id)
    with pytest.raises(sm.MobileError.Conflict) as raised:
        ravi.book_token(session.id, ravi_id)
    assert raised.value.code == "session_full"
    assert ravi.pending_booking_count() == 0, "a definite refusal leaves nothing to retry"
    assert ravi.my_tokens() == []


class ThrowingListener(RecordingListener):
    """An app whose on_status throws the first time (touching a view from the watch's thread)."""

    def on_status(self, update):
        super().on_status(update)
        if len(self.updates) == 1:
            raise RuntimeError("Only the original thread that created a view may touch its views")


def test_a_listener_that_throws_is_told_and_the_watch_goes_on(base_url, request_code, tmp_path):
    client, patient_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000031", "Mita Pal")
    token = client.book_token(todays_round_the_clock_session(client), patient_id)
    listener = ThrowingListener()
    watch = client.watch_queue(token.id, listener)
    try:
        listener.wait_for("a first status", lambda u: u.status == sm.TokenStatus.WAITING)
        deadline = time.monotonic() + 10
        while not listener.errors and time.monotonic() < deadline:
            time.sleep(0.05)
        [error] = listener.errors
        assert isinstance(error, sm.MobileError.Listener), error
        assert "original thread" in error.details
        assert watch.is_running(), "the watch survived the listener's failure"
        # It still hears what happens next: the token ends, and the watch with it.
        client.cancel_token(token.id)
        listener.wait_for("cancelled", lambda u: u.status == sm.TokenStatus.CANCELLED)
    finally:
        watch.stop()
    assert not watch.is_running()


@pytest.fixture
def silent_server():
    """A server that takes connections and never answers (a stuck proxy, a captive portal)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # the kernel accepts; nobody reads or answers
    yield sock
    sock.close()


def test_stop_returns_at_once_and_no_call_follows_it(base_url, request_code, tmp_path, silent_server):
    phone = "+918000000032"
    client, patient_id = patient_with_profile(base_url, request_code, tmp_path, phone, "Mita Pal")
    token = client.book_token(todays_round_the_clock_session(client), patient_id)
    port = silent_server.getsockname()[1]
    stuck = sm.SanjeevaniClient(f"http://127.0.0.1:{port}", str(tmp_path / phone))
    listener = RecordingListener()
    watch = stuck.watch_queue(token.id, listener)
    time.sleep(0.5)  # the first poll now waits for an answer that never comes
    started = time.monotonic()
    watch.stop()
    took = time.monotonic() - started
    assert took < 1.0, f"stop() took {took:.1f} s"
    assert not watch.is_running()
    heard = (len(listener.updates), len(listener.errors))
    # The server goes away: the abandoned poll fails at once, and the listener hears nothing.
    silent_server.close()
    time.sleep(1.0)
    assert (len(listener.updates), len(listener.errors)) == heard == (0, 0)
    client.cancel_token(token.id)


def test_a_call_to_a_silent_server_ends_at_the_apps_deadline_and_cancel_all_ends_the_rest(
    tmp_path, silent_server
):
    port = silent_server.getsockname()[1]
    client = sm.SanjeevaniClient(f"http://127.0.0.1:{port}", str(tmp_path))
    client.set_deadline_ms(1500)
    started = time.monotonic()
    with pytest.raises(sm.MobileError.Network):
        client.request_otp_phone("+919876543210")
    took = time.monotonic() - started
    assert 1.0 < took < 3.0, f"gave up after {took:.1f} s"
    # A safe request retries, but within the same deadline.
    started = time.monotonic()
    with pytest.raises(sm.MobileError.Network):
        client.refresh_issuer_keys()
    took = time.monotonic() - started
    assert took < 3.0, f"retries took {took:.1f} s"
    # After cancel_all nothing more is sent: a call fails at once.
    client.cancel_all()
    started = time.monotonic()
    with pytest.raises(sm.MobileError.Closed):
        client.request_otp_phone("+919876543210")
    assert time.monotonic() - started < 0.5
