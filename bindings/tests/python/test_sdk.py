"""What makes mobile-core an SDK an app team would choose, through the generated Python: errors
a person can read, the queue watch's push channel with no step skipped, the app's logger, who
is signed in without the network, the platform's certificate trust and the proxy the app
passes."""

import http.server
import json
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest
import sanjeevani_mobile as sm
from conftest import (
    DEMO_PASSWORD,
    RecordingListener,
    booked_in_own_opd,
    call_api,
    person,
    staff_client,
)


def readable(error: sm.MobileError) -> str:
    """The error's sentence, checked to be one a person can read."""
    text = error.user_message()
    assert text == error.message, (text, error.message)
    assert len(text) > 10 and "=" not in text and text.rstrip()[-1] in ".!?", text
    return text


def test_every_error_reads_as_a_sentence_and_says_what_happened(
    base_url, request_code, tmp_path, unreachable_url
):
    # Nobody signed in on this phone.
    fresh = sm.SanjeevaniClient(base_url, str(tmp_path / "fresh"))
    with pytest.raises(sm.MobileError.NotSignedIn) as raised:
        fresh.family()
    readable(raised.value)

    # A wrong code: the server's own words.
    phone = "+918000000041"
    device = sm.SanjeevaniClient(base_url, str(tmp_path / "device"))
    right = request_code(device, phone)
    with pytest.raises(sm.MobileError.OtpRejected) as raised:
        device.verify_otp_phone(phone, "111111" if right == "000000" else "000000")
    assert "code" in readable(raised.value)
    device.verify_otp_phone(phone, right)
    device.add_family_member(person("Tara Sen", sm.Sex.FEMALE))

    # No such token.
    with pytest.raises(sm.MobileError.NotFound) as raised:
        device.token("00000000-0000-7000-8000-00000000ffff")
    readable(raised.value)

    # A doctor calling a patient-only method is refused as such, not as a "conflict".
    doctor = staff_client(base_url, tmp_path / "doctor", "dr.ghosh")
    with pytest.raises(sm.MobileError.Forbidden) as raised:
        doctor.family()
    assert raised.value.code == "forbidden"
    readable(raised.value)

    # A closed set of refusals arrives as an enum.
    session = [o for o in device.list_opds() if o.code == "AC"][0].sessions[0].id
    [holder] = device.family()
    token = device.book_token(session, holder.id)
    with pytest.raises(sm.MobileError.Conflict) as raised:
        device.book_token(session, holder.id)
    assert raised.value.kind == sm.ConflictKind.ALREADY_BOOKED
    assert raised.value.code == "already_booked"
    readable(raised.value)
    device.cancel_token(token.id)

    # The session is signed out from another device: ended, not "not signed in".
    staff = sm.SanjeevaniClient(base_url, str(tmp_path / "staff"))
    signed_in = staff.login_staff("dr.sen", DEMO_PASSWORD)
    other = call_api(base_url, "POST", "/auth/login", {"username": "dr.sen", "password": DEMO_PASSWORD})
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/sessions/{signed_in.session_id}",
        method="DELETE",
        headers={"authorization": f"Bearer {other['token']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 204
    with pytest.raises(sm.MobileError.SessionEnded) as raised:
        staff.current_user()
    assert "sign in" in readable(raised.value)
    with pytest.raises(sm.MobileError.NotSignedIn):
        staff.current_user()

    # Offline.
    offline = sm.SanjeevaniClient(unreachable_url, str(tmp_path / "offline"))
    with pytest.raises(sm.MobileError.Network) as raised:
        offline.request_otp_phone(phone)
    readable(raised.value)
    assert raised.value.details, "the cause, for bug reports"


class Collector(sm.LogSink):
    def __init__(self):
        self.lock = threading.Lock()
        self.lines: list[tuple[sm.LogLevel, str, str]] = []

    def log(self, level, target, message):
        with self.lock:
            self.lines.append((level, target, message))

    def text(self) -> str:
        with self.lock:
            return "\n".join(f"{level} {target} {message}" for level, target, message in self.lines)


@pytest.fixture
def collector():
    collector = Collector()
    sm.set_logger(collector, sm.LogLevel.DEBUG)
    yield collector
    sm.clear_logger()


def test_the_apps_logger_hears_each_request_but_never_a_secret(
    base_url, request_code, tmp_path, collector
):
    phone = "+918000000042"
    client = sm.SanjeevaniClient(base_url, str(tmp_path))
    code = request_code(client, phone)
    client.verify_otp_phone(phone, code, "pytest")
    client.add_family_member(person("Mita Das", sm.Sex.FEMALE))
    client.family()
    with pytest.raises(sm.MobileError.NotFound):
        client.token("00000000-0000-7000-8000-00000000ffff")
    with sqlite3.connect(tmp_path / "sanjeevani-mobile.sqlite3") as db:
        [(token,)] = db.execute("SELECT token FROM session").fetchall()
    logged = collector.text()
    assert "POST /auth/otp/verify -> 200" in logged, logged
    assert "GET /tokens/…" in logged and "404 not_found" in logged, logged
    for secret in [token, code, phone, phone[3:], "Mita", "00000000-0000-7000-8000-00000000ffff"]:
        assert secret not in logged, f"{secret!r} reached the log"


def test_who_is_signed_in_is_known_without_the_network(
    base_url, request_code, tmp_path, unreachable_url
):
    pharmacist = staff_client(base_url, tmp_path / "pharmacist", "pharmacist.college")
    assert pharmacist.cached_user().role == sm.Role.PHARMACIST
    offline = sm.SanjeevaniClient(unreachable_url, str(tmp_path / "pharmacist"))
    user = offline.cached_user()
    assert (user.role, user.username) == (sm.Role.PHARMACIST, "pharmacist.college")
    offline.logout()
    assert offline.cached_user() is None
    assert sm.SanjeevaniClient(base_url, str(tmp_path / "nobody")).cached_user() is None


def test_the_watch_follows_the_event_stream_and_skips_no_step(
    base_url, request_code, tmp_path, collector, capsys
):
    """The doctor calls, then starts and completes within milliseconds: the phone hears every
    step, in order, each pushed rather than polled."""
    patient, token, session, opd_id, doctor = booked_in_own_opd(
        base_url, request_code, tmp_path, "PS", "+918000000043", "Rupa Roy"
    )

    listener = RecordingListener()
    watch = patient.watch_queue(token.id, listener)
    try:
        listener.wait_for("waiting", lambda u: u.status == sm.TokenStatus.WAITING)
        deadline = time.monotonic() + 10
        while "event stream is open" not in collector.text():
            assert time.monotonic() < deadline, collector.text()
            time.sleep(0.02)
        called_at = time.monotonic()
        assert doctor.call_next(session).id == token.id
        listener.wait_for("called", lambda u: u.status == sm.TokenStatus.CALLED)
        pushed_ms = (time.monotonic() - called_at) * 1000
        doctor.start_consultation(token.id)
        doctor.complete_consultation(token.id)
        listener.wait_for("completed", lambda u: u.status == sm.TokenStatus.COMPLETED)
    finally:
        watch.stop()
        doctor.set_online(opd_id, False)
    statuses = [u.status for u in listener.updates]
    # With the stream up the status is fetched only when the stream pushes, or every 30 s (more
    # than wait_for's 20 s): CALLED was pushed.
    assert "event stream is down" not in collector.text(), collector.text()
    with capsys.disabled():  # a figure, printed in the run's output (not a timed assertion)
        print(f"\n[push] CALLED reached the phone {pushed_ms:.0f} ms after call_next returned")
    assert statuses == [
        sm.TokenStatus.WAITING,
        sm.TokenStatus.CALLED,
        sm.TokenStatus.IN_CONSULTATION,
        sm.TokenStatus.COMPLETED,
    ], statuses
    times = [u.as_of for u in listener.updates]
    assert times == sorted(times), times
    assert listener.errors == []


def make_certificates(folder) -> tuple[str, str, str]:
    """A private certificate authority and a server certificate it signed for 127.0.0.1 (an
    organisation's own CA, as a user or a device policy would install it)."""
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca_key, ca, key, csr, cert, ext = (
        str(folder / name) for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem", "san.ext")
    )
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=Sanjeevani Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext)
    return ca, cert, key


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server with a certificate from a private CA, answering an OTP request."""
    ca, cert, key = make_certificates(tmp_path)

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["content-length"]))
            body = json.dumps({"channel": "sms", "expires_in_seconds": 300, "resend_after_seconds": 30}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", ca
    server.shutdown()


def test_https_trusts_what_the_platform_trusts(https_server, tmp_path, monkeypatch):
    """The platform's verifier decides (on Linux: the system bundle, or SSL_CERT_FILE), so a CA
    the device trusts is trusted, and one it does not is refused."""
    address, ca = https_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    untrusted = sm.SanjeevaniClient(address, str(tmp_path / "a"))
    with pytest.raises(sm.MobileError.Network):
        untrusted.request_otp_phone("+919876543210")
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    trusted = sm.SanjeevaniClient(address, str(tmp_path / "b"))
    assert trusted.request_otp_phone("+919876543210").channel == "sms"


@pytest.fixture
def connect_proxy():
    """An HTTP CONNECT proxy (what a phone's system proxy is), counting the tunnels it opened."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    tunnels = []

    def relay(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096)
            target = request.split(b" ")[1].decode()
            tunnels.append(target)
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=relay, args=(client, upstream), daemon=True).start()
            threading.Thread(target=relay, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", tunnels
    listener.close()


def test_requests_go_through_the_proxy_the_app_passes(base_url, tmp_path, connect_proxy):
    address, tunnels = connect_proxy
    client = sm.SanjeevaniClient(base_url, str(tmp_path))
    client.refresh_issuer_keys()
    assert tunnels == []
    client.set_proxy(address)
    client.refresh_issuer_keys()
    assert tunnels == [base_url.removeprefix("http://")]
    with pytest.raises(sm.MobileError.Validation):
        client.set_proxy("not a proxy")
    client.set_proxy(None)
    client.refresh_issuer_keys()
    assert len(tunnels) == 1
