//! A prescription as readable text in English, Hindi or Bengali, for the app to show, print
//! or share. Labels, dates and the signature verdict are translated; medicines, doses and
//! instructions stay exactly as the doctor wrote them (translating a medicine name or a dose
//! could change what the patient takes). Dates are in India Standard Time, `DD-MM-YYYY`.

use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Utc};

use crate::prescriptions::{PrescribedItem, PrescriptionDetail, PrescriptionState, SignatureCheck};
use crate::records::{Language, Sex};

/// The fixed words of a prescription in one language.
struct Labels {
    title: &'static str,
    code: &'static str,
    patient: &'static str,
    years: &'static str,
    female: &'static str,
    male: &'static str,
    other_sex: &'static str,
    doctor: &'static str,
    registration: &'static str,
    opd: &'static str,
    hub: &'static str,
    issued: &'static str,
    valid_until: &'static str,
    medicines: &'static str,
    days: &'static str,
    quantity: &'static str,
    dispensed: &'static str,
    before_food: &'static str,
    after_food: &'static str,
    with_food: &'static str,
    any_time: &'static str,
    status: &'static str,
    issued_state: &'static str,
    partly_dispensed: &'static str,
    dispensed_state: &'static str,
    cancelled: &'static str,
    expired: &'static str,
    reason: &'static str,
    signature_valid: &'static str,
    signature_expired: &'static str,
    signature_tampered: &'static str,
    signature_unknown_key: &'static str,
}

const ENGLISH: Labels = Labels {
    title: "e-Prescription",
    code: "Code",
    patient: "Patient",
    years: "years",
    female: "female",
    male: "male",
    other_sex: "other",
    doctor: "Doctor",
    registration: "Reg. no.",
    opd: "OPD",
    hub: "Hub",
    issued: "Issued",
    valid_until: "Valid until",
    medicines: "Medicines",
    days: "days",
    quantity: "Quantity",
    dispensed: "dispensed",
    before_food: "before food",
    after_food: "after food",
    with_food: "with food",
    any_time: "at any time",
    status: "Status",
    issued_state: "not yet dispensed",
    partly_dispensed: "partly dispensed",
    dispensed_state: "dispensed",
    cancelled: "cancelled",
    expired: "expired",
    reason: "Reason",
    signature_valid: "Digital signature: verified",
    signature_expired: "Digital signature: verified; the validity has ended",
    signature_tampered: "WARNING: this prescription has been altered and is not valid",
    signature_unknown_key: "Digital signature not checked: connect to the internet and sync",
};

const HINDI: Labels = Labels {
    title: "ई-पर्चा",
    code: "कोड",
    patient: "रोगी",
    years: "वर्ष",
    female: "महिला",
    male: "पुरुष",
    other_sex: "अन्य",
    doctor: "डॉक्टर",
    registration: "पंजीकरण सं.",
    opd: "ओपीडी",
    hub: "हब",
    issued: "जारी",
    valid_until: "मान्य तक",
    medicines: "दवाइयाँ",
    days: "दिन",
    quantity: "मात्रा",
    dispensed: "दी गई",
    before_food: "खाने से पहले",
    after_food: "खाने के बाद",
    with_food: "खाने के साथ",
    any_time: "किसी भी समय",
    status: "स्थिति",
    issued_state: "दवा अभी नहीं दी गई",
    partly_dispensed: "आंशिक रूप से दी गई",
    dispensed_state: "दवा दी जा चुकी है",
    cancelled: "रद्द",
    expired: "अवधि समाप्त",
    reason: "कारण",
    signature_valid: "डिजिटल हस्ताक्षर: सत्यापित",
    signature_expired: "डिजिटल हस्ताक्षर: सत्यापित; वैधता समाप्त हो चुकी है",
    signature_tampered: "चेतावनी: यह पर्चा बदला गया है और मान्य नहीं है",
    signature_unknown_key: "डिजिटल हस्ताक्षर की जाँच नहीं हुई: इंटरनेट से जुड़कर सिंक करें",
};

const BENGALI: Labels = Labels {
    title: "ই-প্রেসক্রিপশন",
    code: "কোড",
    patient: "রোগী",
    years: "বছর",
    female: "মহিলা",
    male: "পুরুষ",
    other_sex: "অন্যান্য",
    doctor: "ডাক্তার",
    registration: "রেজি. নং",
    opd: "ওপিডি",
    hub: "হাব",
    issued: "জারি",
    valid_until: "বৈধ পর্যন্ত",
    medicines: "ওষুধ",
    days: "দিন",
    quantity: "পরিমাণ",
    dispensed: "দেওয়া হয়েছে",
    before_food: "খাওয়ার আগে",
    after_food: "খাওয়ার পরে",
    with_food: "খাওয়ার সাথে",
    any_time: "যেকোনো সময়",
    status: "অবস্থা",
    issued_state: "এখনও ওষুধ দেওয়া হয়নি",
    partly_dispensed: "আংশিক দেওয়া হয়েছে",
    dispensed_state: "ওষুধ দেওয়া হয়েছে",
    cancelled: "বাতিল",
    expired: "মেয়াদ শেষ",
    reason: "কারণ",
    signature_valid: "ডিজিটাল স্বাক্ষর: যাচাই করা হয়েছে",
    signature_expired: "ডিজিটাল স্বাক্ষর: যাচাই করা হয়েছে; মেয়াদ শেষ হয়ে গেছে",
    signature_tampered: "সতর্কতা: এই প্রেসক্রিপশন বদলানো হয়েছে এবং বৈধ নয়",
    signature_unknown_key: "ডিজিটাল স্বাক্ষর যাচাই হয়নি: ইন্টারনেটে যুক্ত হয়ে সিঙ্ক করুন",
};

fn labels(language: Language) -> &'static Labels {
    match language {
        Language::English => &ENGLISH,
        Language::Hindi => &HINDI,
        Language::Bengali => &BENGALI,
    }
}

/// India Standard Time, UTC+05:30 (no daylight saving).
fn ist_date(time: SystemTime) -> String {
    let ist = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("a valid offset");
    DateTime::<Utc>::from(time)
        .with_timezone(&ist)
        .format("%d-%m-%Y")
        .to_string()
}

fn timing<'a>(labels: &'a Labels, timing: &'a str) -> &'a str {
    match timing {
        "before_food" => labels.before_food,
        "after_food" => labels.after_food,
        "with_food" => labels.with_food,
        "any" => labels.any_time,
        // A value this version does not know is shown as sent rather than hidden.
        other => other,
    }
}

fn medicine_lines(out: &mut Vec<String>, labels: &Labels, number: usize, item: &PrescribedItem) {
    let m = &item.medicine;
    out.push(format!(
        "{number}. {} {} ({})",
        m.medicine, m.strength, m.form
    ));
    out.push(format!(
        "   {}, {}, {}, {} {}; {}",
        m.dose,
        m.frequency,
        timing(labels, &m.timing),
        m.duration_days,
        labels.days,
        m.route
    ));
    let mut quantity = format!("   {}: {}", labels.quantity, m.quantity);
    if item.dispensed_quantity > 0 {
        quantity.push_str(&format!(
            " ({} {})",
            labels.dispensed, item.dispensed_quantity
        ));
    }
    out.push(quantity);
    if !m.instructions.is_empty() {
        out.push(format!("   {}", m.instructions));
    }
}

/// The prescription as lines of text in `language`.
pub fn prescription(detail: &PrescriptionDetail, language: Language) -> String {
    let labels = labels(language);
    let sex = match detail.patient_sex {
        Sex::Female => labels.female,
        Sex::Male => labels.male,
        Sex::Other => labels.other_sex,
    };
    let state = match detail.state {
        PrescriptionState::Issued => labels.issued_state,
        PrescriptionState::PartlyDispensed => labels.partly_dispensed,
        PrescriptionState::Dispensed => labels.dispensed_state,
        PrescriptionState::Cancelled => labels.cancelled,
        PrescriptionState::Expired => labels.expired,
    };
    let signature = match detail.signature {
        SignatureCheck::Valid => labels.signature_valid,
        SignatureCheck::Expired => labels.signature_expired,
        SignatureCheck::Tampered => labels.signature_tampered,
        SignatureCheck::UnknownKey => labels.signature_unknown_key,
    };
    let mut out = vec![
        labels.title.to_owned(),
        format!("{}: {}", labels.code, detail.code),
        format!(
            "{}: {}, {} {}, {}",
            labels.patient, detail.patient_name, detail.patient_age_years, labels.years, sex
        ),
        format!(
            "{}: {} ({} {})",
            labels.doctor, detail.doctor_name, labels.registration, detail.doctor_registration
        ),
        format!(
            "{}: {}; {}: {}",
            labels.opd, detail.opd_name, labels.hub, detail.hub_name
        ),
        format!(
            "{}: {}; {}: {}",
            labels.issued,
            ist_date(detail.issued_at),
            labels.valid_until,
            ist_date(detail.valid_until)
        ),
        String::new(),
        format!("{}:", labels.medicines),
    ];
    for (index, item) in detail.items.iter().enumerate() {
        medicine_lines(&mut out, labels, index + 1, item);
    }
    out.push(String::new());
    out.push(format!("{}: {state}", labels.status));
    if let Some(reason) = &detail.cancelled_reason {
        out.push(format!("{}: {reason}", labels.reason));
    }
    out.push(signature.to_owned());
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::prescriptions::Medicine;

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
                    timing: "after_food".into(),
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
