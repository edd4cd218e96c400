"""Fixtures for testing the generated Python bindings against a real API server.

bindings/test.sh starts the server, puts the generated module and the library on PYTHONPATH
(the .so beside sanjeevani_mobile.py) and sets SANJEEVANI_BASE_URL and SANJEEVANI_SERVER_LOG
(the server's captured stdout, where demo mode prints OTP codes), and SANJEEVANI_SERVER_CTL,
the script that stops and restarts the server for the offline part of the story.
"""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sanjeevani_mobile as sm


@pytest.fixture(scope="session")
def base_url() -> str:
    return os.environ["SANJEEVANI_BASE_URL"]


@pytest.fixture(scope="session")
def server_log() -> Path:
    return Path(os.environ["SANJEEVANI_SERVER_LOG"])


@pytest.fixture
def unreachable_url() -> str:
    """An address where nothing listens, as if the phone were offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def codes_printed_for(server_log: Path, phone: str) -> list[str]:
    pattern = re.compile(rf"\[console sms to {re.escape(phone)}\] (\d{{6}}) ")
    return pattern.findall(server_log.read_text(encoding="utf-8"))


@pytest.fixture
def request_code(server_log):
    """Asks for a code for `phone` and returns it once the server has printed it."""

    def request(client: sm.SanjeevaniClient, phone: str) -> str:
        before = len(codes_printed_for(server_log, phone))
        sent = client.request_otp_phone(phone)
        assert sent.channel == "sms"
        for _ in range(100):
            codes = codes_printed_for(server_log, phone)
            if len(codes) > before:
                return codes[-1]
            time.sleep(0.1)
        raise AssertionError(f"no code for {phone} in {server_log}")

    return request


@pytest.fixture
def logged_in(base_url, request_code, tmp_path):
    """A client logged in on `phone`, with its data in the test's temporary directory."""

    def login(phone: str) -> sm.SanjeevaniClient:
        client = sm.SanjeevaniClient(base_url, str(tmp_path))
        client.verify_otp_phone(phone, request_code(client, phone), "pytest")
        return client

    return login


def person(name: str, sex: sm.Sex, relation: str | None = None) -> sm.FamilyMemberInput:
    return sm.FamilyMemberInput(
        name=name,
        sex=sex,
        preferred_language=sm.Language.BENGALI,
        birth_year=1990,
        relation=relation,
    )


# --- Booking, the queue, staff and the server itself ---------------------------------------

ROUND_THE_CLOCK = "00000000-0000-7000-8000-000000002003"  # the demo's AC OPD, dr.ghosh


class RecordingListener(sm.QueueListener):
    """The app's side of watch_queue: called on the watch's own thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.updates: list[sm.QueueUpdate] = []
        self.errors: list[sm.MobileError] = []

    def on_status(self, update):
        with self.lock:
            self.updates.append(update)

    def on_error(self, error):
        with self.lock:
            self.errors.append(error)

    def wait_for(self, what, wanted, timeout=20.0):
        return first_heard(self.lock, self.updates, what, wanted, timeout, also=self.errors)


def first_heard(lock, heard, what, wanted, timeout=20.0, also=()):
    """The first of `heard` (filled by a listener's thread under `lock`) that is `wanted`,
    waiting for it up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            for item in heard:
                if wanted(item):
                    return item
        time.sleep(0.05)
    raise AssertionError(f"never heard {what}: {heard} {list(also)}")


def patient_with_profile(base_url, request_code, tmp_path, phone, name):
    data_dir = tmp_path / phone
    data_dir.mkdir()
    client = sm.SanjeevaniClient(base_url, str(data_dir))
    client.verify_otp_phone(phone, request_code(client, phone), "pytest")
    holder = client.add_family_member(person(name, sm.Sex.FEMALE))
    return client, holder.id


def todays_round_the_clock_session(client):
    [opd] = [opd for opd in client.list_opds() if opd.id == ROUND_THE_CLOCK]
    assert opd.code == "AC" and opd.always_open
    session = opd.sessions[0]
    assert session.tokens_left > 0
    return session.id



DEMO_PASSWORD = "sanjeevani-demo-2026"
SILIGURI_HUB = "00000000-0000-7000-8000-000000000102"
DR_GHOSH = "00000000-0000-7000-8000-000000001003"


def staff_client(base_url, data_dir, username) -> sm.SanjeevaniClient:
    data_dir.mkdir(parents=True, exist_ok=True)
    client = sm.SanjeevaniClient(base_url, str(data_dir))
    client.login_staff(username, DEMO_PASSWORD, "pytest")
    return client


def call_api(base_url, method, path, body=None, token=None):
    """A plain HTTP call for what the phone app does not do (an administrator's setup)."""
    request = urllib.request.Request(
        f"{base_url}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"}
        | ({"authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def small_round_the_clock_opd(base_url, code: str, capacity: int) -> str:
    """An administrator creates an always-open OPD with `capacity` tokens per session."""
    admin = call_api(
        base_url, "POST", "/auth/login", {"username": "admin.wb", "password": DEMO_PASSWORD}
    )["token"]
    opd = call_api(
        base_url,
        "POST",
        "/admin/opds",
        {
            "hub_id": SILIGURI_HUB,
            "code": code,
            "name": f"Small OPD {code}",
            "specialty": "General Medicine",
            "languages": ["bn", "en"],
            "always_open": True,
            "schedule": [],
            "capacity_per_session": capacity,
            "booking_days_ahead": 0,
            "priority_every": 0,
            "doctor_ids": [DR_GHOSH],
        },
        admin,
    )
    return opd["id"]


def booked_in_own_opd(base_url, request_code, tmp_path, code, phone, name):
    """A patient booked in an always-open OPD of their own (its queue touched by no other
    test), and dr.ghosh online for it: (patient, token, session id, OPD id, doctor)."""
    opd_id = small_round_the_clock_opd(base_url, code, capacity=5)
    patient, patient_id = patient_with_profile(base_url, request_code, tmp_path, phone, name)
    [opd] = [opd for opd in patient.list_opds() if opd.id == opd_id]
    session = opd.sessions[0].id
    token = patient.book_token(session, patient_id)
    doctor = staff_client(base_url, tmp_path / "doctor", "dr.ghosh")
    assert doctor.set_online(opd_id, True).online
    return patient, token, session, opd_id, doctor


class Server:
    """Stops and restarts the test server (same port, same database)."""

    def __init__(self, control: str):
        self.control = control

    def stop(self):
        subprocess.run(["bash", self.control, "stop"], check=True, timeout=60)

    def start(self):
        subprocess.run(["bash", self.control, "start"], check=True, timeout=60)


@pytest.fixture
def server():
    """The running server; it is running again after the test, whatever happened."""
    server = Server(os.environ["SANJEEVANI_SERVER_CTL"])
    yield server
    server.start()
