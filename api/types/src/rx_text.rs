//! A prescription as readable text in English, Hindi or Bengali: the one renderer shared by the
//! apps (mobile-core, offline) and the web pages (the doctor's preview before issuing). Labels,
//! dates and the signature verdict are translated; medicines, doses and instructions stay
//! exactly as the doctor wrote them (translating a medicine name or a dose could change what
//! the patient takes). Dates are in India Standard Time, `DD-MM-YYYY`.

use chrono::{DateTime, FixedOffset, Utc};

use crate::domain::{Language, Sex};
use crate::prescription::{ItemInput, PrescriptionStatus};

/// What checking the signature found, as the reader is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVerdict {
    Valid,
    Expired,
    Tampered,
    UnknownKey,
}

/// One medicine line and how much of it was dispensed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetItem {
    pub prescribed: ItemInput,
    pub dispensed_quantity: i32,
}

/// Everything the text shows. `state` and `signature` are `None` for a prescription not yet
/// issued (the doctor's preview): it has neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub code: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub items: Vec<SheetItem>,
    pub state: Option<PrescriptionStatus>,
    pub cancelled_reason: Option<String>,
    pub signature: Option<SignatureVerdict>,
}

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
        Language::En => &ENGLISH,
        Language::Hi => &HINDI,
        Language::Bn => &BENGALI,
    }
}

/// India Standard Time, UTC+05:30 (no daylight saving).
fn ist_date(time: DateTime<Utc>) -> String {
    let ist = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("a valid offset");
    time.with_timezone(&ist).format("%d-%m-%Y").to_string()
}

/// When to take a dose (`after_food`, ...) in `language`; a value this version does not know
/// is returned as sent. The printed prescription of the spoke uses it too, so a dose reads the
/// same on paper, on the doctor's preview and in the app.
pub fn timing_text(timing_code: &str, language: Language) -> &str {
    timing(labels(language), timing_code)
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

fn medicine_lines(out: &mut Vec<String>, labels: &Labels, number: usize, item: &SheetItem) {
    let m = &item.prescribed;
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
pub fn render(sheet: &Sheet, language: Language) -> String {
    let labels = labels(language);
    let sex = match sheet.patient_sex {
        Sex::Female => labels.female,
        Sex::Male => labels.male,
        Sex::Other => labels.other_sex,
    };
    let mut out = vec![
        labels.title.to_owned(),
        format!("{}: {}", labels.code, sheet.code),
        format!(
            "{}: {}, {} {}, {}",
            labels.patient, sheet.patient_name, sheet.patient_age_years, labels.years, sex
        ),
        format!(
            "{}: {} ({} {})",
            labels.doctor, sheet.doctor_name, labels.registration, sheet.doctor_registration
        ),
        format!(
            "{}: {}; {}: {}",
            labels.opd, sheet.opd_name, labels.hub, sheet.hub_name
        ),
        format!(
            "{}: {}; {}: {}",
            labels.issued,
            ist_date(sheet.issued_at),
            labels.valid_until,
            ist_date(sheet.valid_until)
        ),
        String::new(),
        format!("{}:", labels.medicines),
    ];
    for (index, item) in sheet.items.iter().enumerate() {
        medicine_lines(&mut out, labels, index + 1, item);
    }
    if let Some(state) = sheet.state {
        let state = match state {
            PrescriptionStatus::Issued => labels.issued_state,
            PrescriptionStatus::PartlyDispensed => labels.partly_dispensed,
            PrescriptionStatus::Dispensed => labels.dispensed_state,
            PrescriptionStatus::Cancelled => labels.cancelled,
            PrescriptionStatus::Expired => labels.expired,
        };
        out.push(String::new());
        out.push(format!("{}: {state}", labels.status));
    }
    if let Some(reason) = &sheet.cancelled_reason {
        out.push(format!("{}: {reason}", labels.reason));
    }
    if let Some(signature) = sheet.signature {
        out.push(
            match signature {
                SignatureVerdict::Valid => labels.signature_valid,
                SignatureVerdict::Expired => labels.signature_expired,
                SignatureVerdict::Tampered => labels.signature_tampered,
                SignatureVerdict::UnknownKey => labels.signature_unknown_key,
            }
            .to_owned(),
        );
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_has_no_status_or_signature_lines() {
        let issued = DateTime::parse_from_rfc3339("2026-11-23T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let sheet = Sheet {
            code: "-".into(),
            patient_name: "সুমিতা দাস".into(),
            patient_age_years: 68,
            patient_sex: Sex::Female,
            doctor_name: "Dr. Arindam Sen".into(),
            doctor_registration: "WBMC-61234".into(),
            opd_name: "General Medicine OPD".into(),
            hub_name: "Medical College, Kolkata".into(),
            issued_at: issued,
            valid_until: issued + chrono::Duration::days(30),
            items: vec![SheetItem {
                prescribed: ItemInput {
                    medicine: "Amlodipine".into(),
                    form: "tablet".into(),
                    strength: "5 mg".into(),
                    dose: "1 tablet".into(),
                    frequency: "once daily".into(),
                    timing: "after_food".into(),
                    route: "oral".into(),
                    duration_days: 30,
                    quantity: 30,
                    instructions: String::new(),
                },
                dispensed_quantity: 0,
            }],
            state: None,
            cancelled_reason: None,
            signature: None,
        };
        let bengali = render(&sheet, Language::Bn);
        assert!(bengali.starts_with("ই-প্রেসক্রিপশন"), "{bengali}");
        assert!(bengali.contains("জারি: 24-11-2026"), "{bengali}");
        assert!(
            bengali.ends_with("খাওয়ার পরে, 30 দিন; oral\n   পরিমাণ: 30"),
            "{bengali}"
        );
    }
}
