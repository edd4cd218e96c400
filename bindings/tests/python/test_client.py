"""The generated Python bindings driving the real library against a real API server."""

import datetime

import pytest
import sanjeevani_mobile as sm
from conftest import person


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
            abha_number="12345678901234",
            relation="mother",
        )
    )
    assert mother.name == "সুমিতা দাস"
    assert len(mother.name) == 10
    assert mother.birth_date == "1958-03-14"
    assert mother.abha_number == "12-3456-7890-1234"
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


def test_after_logout_the_next_call_raises_unauthorized(logged_in):
    client = logged_in("+918000000006")
    client.family()
    client.logout()
    assert not client.is_logged_in()
    with pytest.raises(sm.MobileError.Unauthorized):
        client.current_user()
    with pytest.raises(sm.MobileError.Unauthorized):
        client.family()
    assert client.cached_family() == []
