//! A prescription as readable text in English, Hindi or Bengali, for the app to show, print
//! or share: the shared renderer of `sanjeevani_types::rx_text` (the web pages use the same),
//! fed with what this phone stored and what checking the signature found.

use chrono::{DateTime, Utc};
use sanjeevani_types::prescription::{ItemInput, PrescriptionStatus};
use sanjeevani_types::rx_text::{self, Sheet, SheetItem, SignatureVerdict};

use crate::prescriptions::{PrescriptionDetail, PrescriptionState, SignatureCheck};
use crate::records::Language;

/// The prescription as lines of text in `language`.
pub fn prescription(detail: &PrescriptionDetail, language: Language) -> String {
    let sheet = Sheet {
        code: detail.code.clone(),
        patient_name: detail.patient_name.clone(),
        patient_age_years: detail.patient_age_years,
        patient_sex: detail.patient_sex.into(),
        doctor_name: detail.doctor_name.clone(),
        doctor_registration: detail.doctor_registration.clone(),
        opd_name: detail.opd_name.clone(),
        hub_name: detail.hub_name.clone(),
        issued_at: DateTime::<Utc>::from(detail.issued_at),
        valid_until: DateTime::<Utc>::from(detail.valid_until),
        items: detail
            .items
            .iter()
            .map(|item| {
                let m = &item.medicine;
                SheetItem {
                    prescribed: ItemInput {
                        medicine: m.medicine.clone(),
                        form: m.form.clone(),
                        strength: m.strength.clone(),
                        dose: m.dose.clone(),
                        frequency: m.frequency.clone(),
                        timing: m.timing.as_str().into(),
                        route: m.route.clone(),
                        duration_days: m.duration_days,
                        quantity: m.quantity,
                        instructions: m.instructions.clone(),
                    },
                    dispensed_quantity: item.dispensed_quantity,
                }
            })
            .collect(),
        state: Some(match detail.state {
            PrescriptionState::Issued => PrescriptionStatus::Issued,
            PrescriptionState::PartlyDispensed => PrescriptionStatus::PartlyDispensed,
            PrescriptionState::Dispensed => PrescriptionStatus::Dispensed,
            PrescriptionState::Cancelled => PrescriptionStatus::Cancelled,
            PrescriptionState::Expired => PrescriptionStatus::Expired,
        }),
        cancelled_reason: detail.cancelled_reason.clone(),
        signature: Some(match detail.signature {
            SignatureCheck::Valid => SignatureVerdict::Valid,
            SignatureCheck::Expired => SignatureVerdict::Expired,
            SignatureCheck::Tampered => SignatureVerdict::Tampered,
            SignatureCheck::UnknownKey => SignatureVerdict::UnknownKey,
        }),
    };
    rx_text::render(&sheet, language.into())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::prescriptions::{Medicine, PrescribedItem};
    use crate::records::Sex;

    fn detail() -> PrescriptionDetail {
        // 2026-11-23 20:00 UTC is already 24 November in India.
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_464_000);
        PrescriptionDetail {
            id: "p1".into(),
            code: "ABCDE-FGHIJ-K".into(),
            state: PrescriptionState::PartlyDispensed,
            signature: SignatureCheck::Valid,
            consultation_id: "c1".into(),
            patient_id: "pt1".into(),
            patient_name: "সুমিতা দাস".into(),
            patient_age_years: 68,
            patient_sex: Sex::Female,
            doctor_name: "Dr. Arindam Sen".into(),
            doctor_registration: "WBMC-61234".into(),
            opd_name: "General Medicine OPD".into(),
            hub_name: "Medical College, Kolkata".into(),
            issued_at: issued,
            valid_until: issued + Duration::from_secs(30 * 86_400),
            cancelled_reason: None,
            items: vec![PrescribedItem {
                id: "i1".into(),
                medicine: Medicine {
                    medicine: "Amlodipine".into(),
                    form: "tablet".into(),
                    strength: "5 mg".into(),
                    dose: "1 tablet".into(),
                    frequency: "once daily".into(),
                    timing: crate::prescriptions::MedicineTiming::AfterFood,
                    route: "oral".into(),
                    duration_days: 30,
                    quantity: 30,
                    instructions: "Check blood pressure weekly".into(),
                },
                dispensed_quantity: 10,
            }],
            qr_text: "sjv:/00".into(),
            synced_at: issued,
        }
    }

    #[test]
    fn labels_are_translated_and_medicines_stay_as_written() {
        let english = prescription(&detail(), Language::English);
        let hindi = prescription(&detail(), Language::Hindi);
        let bengali = prescription(&detail(), Language::Bengali);
        assert!(
            english.contains("Patient: সুমিতা দাস, 68 years, female"),
            "{english}"
        );
        assert!(
            english.contains("Issued: 24-11-2026; Valid until: 24-12-2026"),
            "{english}"
        );
        assert!(english.contains("after food"));
        assert!(english.contains("Quantity: 30 (dispensed 10)"));
        assert!(hindi.starts_with("ई-पर्चा"), "{hindi}");
        assert!(hindi.contains("रोगी: সুমিতা দাস, 68 वर्ष, महिला"), "{hindi}");
        assert!(hindi.contains("खाने के बाद"));
        assert!(hindi.contains("डिजिटल हस्ताक्षर: सत्यापित"));
        assert!(bengali.contains("খাওয়ার পরে"), "{bengali}");
        assert!(bengali.contains("আংশিক দেওয়া হয়েছে"));
        for text in [&english, &hindi, &bengali] {
            assert!(text.contains("1. Amlodipine 5 mg (tablet)"), "{text}");
            assert!(text.contains("1 tablet, once daily"));
            assert!(text.contains("Check blood pressure weekly"));
            assert!(text.contains("ABCDE-FGHIJ-K"));
        }
    }

    #[test]
    fn a_tampered_prescription_says_so_in_every_language() {
        let mut altered = detail();
        altered.signature = SignatureCheck::Tampered;
        assert!(prescription(&altered, Language::English).contains("WARNING"));
        assert!(prescription(&altered, Language::Hindi).contains("चेतावनी"));
        assert!(prescription(&altered, Language::Bengali).contains("সতর্কতা"));
    }
}
