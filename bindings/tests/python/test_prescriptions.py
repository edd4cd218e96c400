"""The whole story through the generated Python bindings: a patient books and watches the
queue while the doctor calls, records the consultation and issues a prescription; the patient
syncs; the server is stopped and the patient still lists, opens and verifies the prescription,
and a pharmacist verifies its QR code, all offline; the server comes back and the pharmacist
dispenses."""

import pytest
import sanjeevani_mobile as sm
from conftest import ROUND_THE_CLOCK, RecordingListener, patient_with_profile, staff_client
from conftest import todays_round_the_clock_session

MEDICINES = [
    sm.Medicine(
        medicine="Amlodipine",
        form="tablet",
        strength="5 mg",
        dose="1 tablet",
        frequency="once daily",
        timing=sm.MedicineTiming.AFTER_FOOD,
        route="oral",
        duration_days=30,
        quantity=30,
        instructions="Check blood pressure weekly",
    ),
    sm.Medicine(
        medicine="প্যারাসিটামল",  # written in Bengali by the doctor: kept as written
        form="tablet",
        strength="500 mg",
        dose="1 tablet",
        frequency="when needed, at most 3 a day",
        timing=sm.MedicineTiming.ANY,
        route="oral",
        duration_days=5,
        quantity=10,
        instructions="",
    ),
]

NOTE = sm.ConsultationNote(
    chief_complaint="Headache and dizziness for 3 days",
    history="Known hypertensive",
    examination="BP 160/100",
    provisional_diagnosis="Essential hypertension",
    icd10_code="I10",
    investigations="",
    advice="Low salt diet",
    follow_up_on=None,
    referral_opd_id=None,
)


def tampered(qr_text: str) -> str:
    """The QR text with one digit of the signed content changed."""
    middle = len(qr_text) // 2
    digit = "1" if qr_text[middle] != "1" else "2"
    return qr_text[:middle] + digit + qr_text[middle + 1 :]


def test_prescription_from_consultation_to_pharmacy_with_the_server_stopped_between(
    base_url, request_code, tmp_path, server
):
    asha, asha_id = patient_with_profile(base_url, request_code, tmp_path, "+918000000021", "Asha Das")
    session = todays_round_the_clock_session(asha)
    token = asha.book_token(session, asha_id)

    doctor = staff_client(base_url, tmp_path / "doctor", "dr.ghosh")
    doctor.set_online(ROUND_THE_CLOCK, True)
    listener = RecordingListener()
    watch = asha.watch_queue(token.id, listener)
    try:
        while True:
            called = doctor.call_next(session)
            doctor.start_consultation(called.id)
            if called.id == token.id:
                break
            doctor.complete_consultation(called.id)
        listener.wait_for("in consultation", lambda u: u.status == sm.TokenStatus.IN_CONSULTATION)
        record = doctor.record_consultation(token.id, NOTE)
        assert record.token_id == token.id and record.patient_id == asha_id
        issued = doctor.issue_prescription(record.id, MEDICINES)
        assert issued.state == sm.PrescriptionState.ISSUED
        assert issued.medicines == ["Amlodipine", "প্যারাসিটামল"]
        doctor.complete_consultation(token.id)
        listener.wait_for("completed", lambda u: u.status == sm.TokenStatus.COMPLETED)
    finally:
        watch.stop()

    # The patient syncs while online; the pharmacist's phone fetches the issuer keys.
    [synced] = asha.sync_prescriptions()
    assert (synced.id, synced.code, synced.patient_name) == (issued.id, issued.code, "Asha Das")
    pharmacist = staff_client(base_url, tmp_path / "pharmacist", "pharmacist.college")
    assert pharmacist.refresh_issuer_keys() >= 1

    server.stop()
    # The app restarts with no network: everything below is read from the phone.
    offline = sm.SanjeevaniClient(base_url, str(tmp_path / "+918000000021"))
    with pytest.raises(sm.MobileError.Network):
        offline.sync_prescriptions()
    assert offline.prescriptions() == [synced]
    opened = offline.open_prescription(synced.id)
    assert opened.signature == sm.SignatureCheck.VALID
    assert (opened.doctor_name, opened.opd_name) == ("Dr. Partha Ghosh", "Round-the-clock General OPD")
    assert [item.medicine for item in opened.items] == MEDICINES
    hindi = offline.render_prescription(synced.id, sm.Language.HINDI)
    assert hindi.startswith("ई-पर्चा") and "खाने के बाद" in hindi and "प्यारासिटामल" not in hindi
    assert "প্যারাসিটামল" in hindi and "डिजिटल हस्ताक्षर: सत्यापित" in hindi
    bengali = offline.render_prescription(synced.id, sm.Language.BENGALI)
    assert "ডিজিটাল স্বাক্ষর: যাচাই করা হয়েছে" in bengali and "Amlodipine 5 mg" in bengali
    qr = offline.prescription_qr(synced.id)
    assert qr == opened.qr_text and qr.startswith("sjv:/")

    # The pharmacist scans the QR code with no network.
    scanned = pharmacist.verify_scanned(qr)
    assert scanned.signature == sm.SignatureCheck.VALID
    assert scanned.signed.code == synced.code
    assert scanned.signed.patient_name == "Asha Das"
    assert scanned.signed.medicines == MEDICINES
    forged = pharmacist.verify_scanned(tampered(qr))
    assert forged.signature == sm.SignatureCheck.TAMPERED and forged.signed is None
    with pytest.raises(sm.MobileError.Network):
        pharmacist.check_prescription(qr)

    server.start()
    check = pharmacist.check_prescription(qr)
    assert check.status == sm.PharmacyStatus.VALID
    amlodipine = check.prescription.items[0]
    assert (amlodipine.medicine.medicine, amlodipine.remaining) == ("Amlodipine", 30)
    after = pharmacist.dispense(synced.code, [sm.DispenseQuantity(item_id=amlodipine.id, quantity=10)])
    assert after.items[0].dispensed_quantity == 10 and after.items[0].remaining == 20
    assert pharmacist.check_prescription(synced.code).status == sm.PharmacyStatus.PARTLY_DISPENSED
    with pytest.raises(sm.MobileError.Conflict) as refused:
        pharmacist.dispense(synced.code, [sm.DispenseQuantity(item_id=amlodipine.id, quantity=21)])
    assert refused.value.code == "exceeds_prescribed_quantity"
    # The patient's next sync shows the partial dispense.
    [resynced] = offline.sync_prescriptions()
    assert resynced.state == sm.PrescriptionState.PARTLY_DISPENSED
    assert offline.open_prescription(synced.id).items[0].dispensed_quantity == 10


def test_a_mistyped_code_and_a_tampered_qr_are_refused(base_url, tmp_path):
    pharmacist = staff_client(base_url, tmp_path, "pharmacist.college")
    pharmacist.refresh_issuer_keys()
    with pytest.raises(sm.MobileError.Validation) as raised:
        pharmacist.check_prescription("ABCDE-FGHIJ-0")
    assert raised.value.fields[0].code in ("invalid_check_character",)
    assert pharmacist.verify_scanned("sjv:/0123").signature == sm.SignatureCheck.TAMPERED
    assert pharmacist.verify_scanned("not a code").signature == sm.SignatureCheck.TAMPERED
    with pytest.raises(sm.MobileError.NotFound):
        pharmacist.open_prescription("no-such-prescription")
