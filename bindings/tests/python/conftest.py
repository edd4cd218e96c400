"""Fixtures for testing the generated Python bindings against a real API server.

bindings/test.sh starts the server, puts the generated module and the library on PYTHONPATH
(the .so beside sanjeevani_mobile.py) and sets SANJEEVANI_BASE_URL and SANJEEVANI_SERVER_LOG
(the server's captured stdout, where demo mode prints OTP codes).
"""

import os
import re
import socket
import time
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
