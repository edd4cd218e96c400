//! Domain values that parse once: after `PhoneNumber::parse` succeeds the value is valid everywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused. `code()` is the stable machine-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "must be an Indian mobile number: +91 followed by 10 digits starting with 6, 7, 8 or 9"
    )]
    InvalidPhone,
    #[error("must be an email address such as name@example.org")]
    InvalidEmail,
    #[error("must be a 14-digit ABHA number, written as 12-3456-7890-1234 or 14 digits")]
    InvalidAbha,
    #[error(
        "must be an ABHA address such as asha.das@abdm: 4 to 32 letters, digits, dots or \
         underscores, starting with a letter or underscore, not ending with a dot, then @abdm"
    )]
    InvalidAbhaAddress,
    #[error("the sandbox suffix @sbx is accepted only in dev and demo mode; use @abdm")]
    SandboxAbhaAddress,
    #[error("must be a 6-digit code")]
    InvalidOtp,
    #[error("must be between 1 and {max} characters with no control characters")]
    InvalidText { max: usize },
    #[error(
        "contains U+{codepoint:04X}, an invisible character that can change how the text is \
         shown or read; remove it"
    )]
    HiddenCharacter { codepoint: u32 },
    #[error("must be one of: {allowed}")]
    NotOneOf { allowed: &'static str },
}

impl ParseError {
    /// A stable snake_case code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::InvalidPhone => "invalid_phone",
            ParseError::InvalidEmail => "invalid_email",
            ParseError::InvalidAbha => "invalid_abha_number",
            ParseError::InvalidAbhaAddress => "invalid_abha_address",
            ParseError::SandboxAbhaAddress => "sandbox_abha_address",
            ParseError::InvalidOtp => "invalid_otp_format",
            ParseError::InvalidText { .. } => "invalid_text",
            ParseError::HiddenCharacter { .. } => "hidden_character",
            ParseError::NotOneOf { .. } => "invalid_choice",
        }
    }
}

/// An Indian mobile number, kept in E.164 form: `+91` and 10 digits starting 6-9.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+919876543210`, `919876543210`, `09876543210` or `9876543210`, with spaces or
    /// hyphens between digit groups, as people write them.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        let has_plus = trimmed.starts_with('+');
        let body = if has_plus { &trimmed[1..] } else { trimmed };
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(ParseError::InvalidPhone);
        }
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        let national = match digits.len() {
            10 if !has_plus => digits.as_str(),
            11 if !has_plus && digits.starts_with('0') => &digits[1..],
            12 if digits.starts_with("91") => &digits[2..],
            _ => return Err(ParseError::InvalidPhone),
        };
        if !matches!(national.as_bytes()[0], b'6'..=b'9') {
            return Err(ParseError::InvalidPhone);
        }
        Ok(Self(format!("+91{national}")))
    }

    /// The number with all but the last four digits hidden, for logs and screens.
    pub fn masked(&self) -> String {
        format!("+91******{}", &self.0[9..])
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, checked for shape and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        let (local, domain) = trimmed.rsplit_once('@').ok_or(ParseError::InvalidEmail)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.');
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !local_ok || !domain_ok || trimmed.len() > 254 {
            return Err(ParseError::InvalidEmail);
        }
        // Lower-cased whole: as a login identity, Asha@ and asha@ must be one person.
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    /// The address with most of the local part hidden, for logs.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').expect("parsed address has @");
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ABHA (Ayushman Bharat Health Account) number: 14 digits, kept and shown as 2-4-4-4
/// (`91-1234-5678-9012`).
///
/// Sources (read 2026-12-02): the ABDM sandbox documentation ("Verify ABHA Address", "ABHA
/// Number creation", kiranma72.github.io/abdm-docs, mirrored from sandbox.abdm.gov.in/docs)
/// describes the number as 14 digits and shows it grouped 2-4-4-4; no published ABDM document
/// defines a check digit for it (Aadhaar's Verhoeff digit is UIDAI's, not ABHA's). ABDM's own
/// integrator notes (nha-in/docs, skills/abdm-fhir/SKILL.md) say "Do not validate an identifier
/// more strictly than the platform does": so the shape is checked and nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AbhaNumber(String);

impl AbhaNumber {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let separators_ok = trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
        if digits.len() != 14 || !separators_ok {
            return Err(ParseError::InvalidAbha);
        }
        if trimmed.contains(['-', ' ']) {
            // Grouped input must follow the 2-4-4-4 shape exactly.
            let groups: Vec<usize> = trimmed.split(['-', ' ']).map(str::len).collect();
            if groups != [2, 4, 4, 4] {
                return Err(ParseError::InvalidAbha);
            }
        }
        Ok(Self(format!(
            "{}-{}-{}-{}",
            &digits[0..2],
            &digits[2..6],
            &digits[6..10],
            &digits[10..14]
        )))
    }

    /// The number with all but its last four digits hidden: `XX-XXXX-XXXX-9012`.
    pub fn masked(&self) -> String {
        mask_abha_number(&self.0)
    }
}

/// Masks a stored ABHA number (`XX-XXXX-XXXX-9012`), for anyone but the patient and the
/// treating doctor.
pub fn mask_abha_number(stored: &str) -> String {
    let last: String = stored
        .chars()
        .rev()
        .filter(char::is_ascii_digit)
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("XX-XXXX-XXXX-{last}")
}

impl AsRef<str> for AbhaNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Whether the ABDM sandbox's `@sbx` addresses are accepted: only off production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbhaDomains {
    /// `@abdm` only.
    Production,
    /// `@abdm` and the sandbox's `@sbx` (dev and demo mode).
    WithSandbox,
}

/// An ABHA address, the patient's name on the health-information exchange: `name@abdm`
/// (`name@sbx` in ABDM's sandbox), kept lower-cased.
///
/// The rules, from the ABDM sandbox documentation's "ABHA Address Policy" (pages "Create ABHA
/// address: using ABHA number" and "using mobile number", kiranma72.github.io/abdm-docs,
/// section 5-building-a-phr-app, read 2026-12-02) and "Verify ABHA Address" (the `@abdm` and
/// `@sbx` suffixes):
/// - at least 4 characters before the `@`: letters, digits and dots; ABDM's V3 enrolment also
///   takes an underscore (ABDM ABHA V3 APIs SOP 1.2, as carried by the open ABDM clients, e.g.
///   Intelehealth's `ValidationUtils.isValidAbhaRegex`), so one is accepted too;
/// - it cannot begin with a digit, and cannot begin or end with a dot;
/// - an all-digit name is only the default address of an ABHA number, `14 digits@abdm`.
///
/// No published maximum was found; 32 characters before the `@` bounds what we store (the
/// longest ABDM's creation forms offer is well under it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AbhaAddress(String);

impl AbhaAddress {
    pub const MIN_NAME: usize = 4;
    pub const MAX_NAME: usize = 32;

    pub fn parse(input: &str, domains: AbhaDomains) -> Result<Self, ParseError> {
        let lowered = input.trim().to_ascii_lowercase();
        let (name, domain) = lowered
            .rsplit_once('@')
            .ok_or(ParseError::InvalidAbhaAddress)?;
        match (domain, domains) {
            ("abdm", _) | ("sbx", AbhaDomains::WithSandbox) => {}
            ("sbx", AbhaDomains::Production) => return Err(ParseError::SandboxAbhaAddress),
            _ => return Err(ParseError::InvalidAbhaAddress),
        }
        let default_of_number = name.len() == 14 && name.chars().all(|c| c.is_ascii_digit());
        let chosen_name = (Self::MIN_NAME..=Self::MAX_NAME).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && !name.ends_with('.');
        if !(default_of_number || chosen_name) {
            return Err(ParseError::InvalidAbhaAddress);
        }
        Ok(Self(lowered))
    }
}

/// Masks a stored ABHA address: its first letter and the domain (`a***@abdm`).
pub fn mask_abha_address(stored: &str) -> String {
    let (name, domain) = stored.rsplit_once('@').unwrap_or((stored, ""));
    let first: String = name.chars().take(1).collect();
    format!("{first}***@{domain}")
}

impl AsRef<str> for AbhaAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A one-time password as typed by the user: exactly six ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    pub const LENGTH: usize = 6;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        if trimmed.len() == Self::LENGTH && trimmed.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ParseError::InvalidOtp)
        }
    }
}

impl AsRef<str> for OtpCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    // Never print a code, even in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

/// Free text a person enters (a name, an address): trimmed, non-empty, bounded, printable,
/// and shown as it is stored.
///
/// "Shown as stored" is the one text rule of the service (the JSON endpoints and the roster CSV
/// alike): bidirectional controls and invisible characters are refused, because they make a
/// name or a medicine display differently from what is stored and signed (U+202E turns
/// "Amlodipine 5 mg" around at a pharmacy counter). Zero-width joiners (U+200C, U+200D) are
/// the one exception, and only in [`BoundedText::parse`]: Hindi, Bengali and the other Indic
/// scripts (and Urdu) use them to choose a half form or an explicit virama (ZWJ after the
/// virama of क्ष shows a half क; ZWNJ after the hasanta of উত্পল keeps it visible), so there
/// they are kept right after a letter or sign of such a script, and refused anywhere else
/// (between Latin letters they only hide a difference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText(String);

impl BoundedText {
    /// Names and free text: zero-width joiners are kept inside Indic and Arabic-script words.
    pub fn parse(input: &str, max_chars: usize) -> Result<Self, ParseError> {
        Self::parse_with(input, max_chars, true)
    }

    /// What is read at a counter and compared as written (a medicine's name, form, strength
    /// and route; a registration number): no zero-width joiner anywhere.
    pub fn parse_plain(input: &str, max_chars: usize) -> Result<Self, ParseError> {
        Self::parse_with(input, max_chars, false)
    }

    fn parse_with(
        input: &str,
        max_chars: usize,
        joiners_in_words: bool,
    ) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        let count = trimmed.chars().count();
        if count == 0 || count > max_chars || trimmed.chars().any(is_line_or_control) {
            return Err(ParseError::InvalidText { max: max_chars });
        }
        let mut previous = None;
        for c in trimmed.chars() {
            let refused = if matches!(c, ZWNJ | ZWJ) {
                !(joiners_in_words && previous.is_some_and(joins_in_words))
            } else {
                is_hidden(c)
            };
            if refused {
                return Err(ParseError::HiddenCharacter {
                    codepoint: u32::from(c),
                });
            }
            previous = Some(c);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Control characters and line breaks: free text here is one line.
fn is_line_or_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Characters that are not seen but change what is seen, or hide a difference: bidirectional
/// marks, embeddings, overrides and isolates; zero-width spaces and joiners; the invisible
/// operators, the soft hyphen, deprecated format controls, interlinear annotation, tag
/// characters, variation selectors, the combining grapheme joiner and the Hangul fillers
/// (which look like a blank).
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Letters and signs of the scripts whose words take zero-width joiners: the Indic scripts
/// from Devanagari to Malayalam (and Sinhala), Devanagari Extended, and Arabic (Urdu).
fn joins_in_words(c: char) -> bool {
    matches!(c,
        '\u{0900}'..='\u{0DFF}' | '\u{A8E0}'..='\u{A8FF}' | '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}')
        && !is_hidden(c)
        && !c.is_whitespace()
}

impl AsRef<str> for BoundedText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Declares a closed set of string values that (de)serialise as snake_case and parse from text.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Result<Self, ParseError> {
                match input {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseError::NotOneOf { allowed: concat!($($text, " "),+) }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What a signed-in user may do. Patients log in by OTP; staff by password.
    Role {
        Patient => "patient",
        Doctor => "doctor",
        Cho => "cho",
        Pharmacist => "pharmacist",
        Admin => "admin",
    }
);

string_enum!(
    /// Sex as recorded on a prescription.
    Sex {
        Female => "female",
        Male => "male",
        Other => "other",
    }
);

string_enum!(
    /// Languages patient-facing text is available in.
    Language {
        En => "en",
        Hi => "hi",
        Bn => "bn",
    }
);

string_enum!(
    /// What a facility is in the hub-and-spoke model.
    FacilityKind {
        Hub => "hub",
        Spoke => "spoke",
        Pharmacy => "pharmacy",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_in_common_written_forms_normalise_to_e164() {
        for input in [
            "+919876543210",
            "919876543210",
            "09876543210",
            "9876543210",
            "+91 98765 43210",
            "+91-98765-43210",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).unwrap().as_ref(),
                "+919876543210",
                "{input}"
            );
        }
    }

    #[test]
    fn phone_numbers_outside_the_indian_mobile_range_are_refused() {
        for input in [
            "",
            "+915876543210",
            "987654321",
            "98765432100",
            "+449876543210",
            "+91987654321a",
            "++919876543210",
            "९८७६५४३२१०",
        ] {
            assert_eq!(
                PhoneNumber::parse(input),
                Err(ParseError::InvalidPhone),
                "{input}"
            );
        }
    }

    #[test]
    fn masked_phone_shows_only_last_four_digits() {
        assert_eq!(
            PhoneNumber::parse("9876543210").unwrap().masked(),
            "+91******3210"
        );
    }

    #[test]
    fn email_is_lower_cased_and_bad_shapes_refused() {
        assert_eq!(
            EmailAddress::parse(" Asha@Example.ORG ").unwrap().as_ref(),
            "asha@example.org"
        );
        for input in [
            "asha",
            "asha@",
            "@example.org",
            "asha@localhost",
            "a b@example.org",
            "asha@-x.org",
        ] {
            assert!(EmailAddress::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn abha_number_accepts_grouped_or_plain_digits() {
        assert_eq!(
            AbhaNumber::parse("12-3456-7890-1234").unwrap().as_ref(),
            "12-3456-7890-1234"
        );
        assert_eq!(
            AbhaNumber::parse("12345678901234").unwrap().as_ref(),
            "12-3456-7890-1234"
        );
        for input in [
            "1234-5678-9012-34",
            "1234567890123",
            "12-3456-7890-123a",
            "123456789012345",
        ] {
            assert_eq!(
                AbhaNumber::parse(input),
                Err(ParseError::InvalidAbha),
                "{input}"
            );
        }
    }

    #[test]
    fn abha_number_is_masked_but_its_last_four_digits() {
        let number = AbhaNumber::parse("91 1234 5678 9012").unwrap();
        assert_eq!(number.masked(), "XX-XXXX-XXXX-9012");
    }

    #[test]
    fn abha_address_follows_the_abdm_policy() {
        use AbhaDomains::{Production, WithSandbox};
        for ok in [
            "asha.das@abdm",
            " Asha_Das@ABDM ",
            "abcd@abdm",
            "91123456789012@abdm",
            "_asha@abdm",
        ] {
            assert!(AbhaAddress::parse(ok, Production).is_ok(), "{ok}");
        }
        assert_eq!(
            AbhaAddress::parse(" Asha_Das@ABDM ", Production)
                .unwrap()
                .as_ref(),
            "asha_das@abdm"
        );
        for bad in [
            "abc@abdm",
            "1asha@abdm",
            ".asha@abdm",
            "asha.@abdm",
            "asha das@abdm",
            "asha-das@abdm",
            "asha@gmail.com",
            "asha",
            "9876543210@abdm",
            "a23456789012345678901234567890123@abdm",
        ] {
            assert_eq!(
                AbhaAddress::parse(bad, WithSandbox),
                Err(ParseError::InvalidAbhaAddress),
                "{bad}"
            );
        }
        assert_eq!(
            AbhaAddress::parse("asha.das@sbx", Production),
            Err(ParseError::SandboxAbhaAddress)
        );
        assert!(AbhaAddress::parse("asha.das@sbx", WithSandbox).is_ok());
        assert_eq!(mask_abha_address("asha.das@abdm"), "a***@abdm");
    }

    #[test]
    fn otp_code_is_six_digits_and_never_printed() {
        let code = OtpCode::parse(" 123456 ").unwrap();
        assert_eq!(code.as_ref(), "123456");
        assert!(!format!("{code:?}").contains("123456"));
        assert!(OtpCode::parse("12345").is_err());
        assert!(OtpCode::parse("12345a").is_err());
    }

    #[test]
    fn bounded_text_is_trimmed_and_limited_in_characters_not_bytes() {
        assert_eq!(
            BoundedText::parse("  সুমিতা দাস ", 20).unwrap().as_ref(),
            "সুমিতা দাস"
        );
        assert!(BoundedText::parse("   ", 20).is_err());
        assert!(BoundedText::parse("a\u{0}b", 20).is_err());
        assert!(BoundedText::parse(&"क".repeat(21), 20).is_err());
    }

    #[test]
    fn bidirectional_controls_are_refused_wherever_text_is_entered() {
        for bidi in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let spoofed = format!("Amlodipine {bidi}gm 01");
            for parsed in [
                BoundedText::parse(&spoofed, 100),
                BoundedText::parse_plain(&spoofed, 100),
            ] {
                assert_eq!(
                    parsed,
                    Err(ParseError::HiddenCharacter {
                        codepoint: u32::from(bidi)
                    }),
                    "U+{:04X}",
                    u32::from(bidi)
                );
            }
        }
        // Also inside Indic text, where joiners are otherwise fine.
        assert!(BoundedText::parse("सुमिता\u{202E}दास", 100).is_err());
    }

    #[test]
    fn zero_width_and_invisible_characters_are_refused() {
        for hidden in [
            "\u{200B}Asha",
            "Asha\u{FEFF}",
            "As\u{2060}ha",
            "Amlo\u{00AD}dipine",
            "Asha\u{E0041}",
            "\u{3164}",
            "Para\u{FE0F}cetamol",
        ] {
            let error = BoundedText::parse(hidden, 100).unwrap_err();
            assert_eq!(error.code(), "hidden_character", "{hidden:?}");
            assert!(error.to_string().contains("U+"), "{error}");
        }
        assert_eq!(
            BoundedText::parse("Ram\u{2028}Das", 100),
            Err(ParseError::InvalidText { max: 100 })
        );
    }

    #[test]
    fn indic_text_keeps_its_zero_width_joiners() {
        // Names as people type them: a Devanagari half form chosen with ZWJ (लक्ष्मी), a Bengali
        // explicit hasanta with ZWNJ (উত্পল), the ya-phala after ra with ZWJ (র্যাশন, as on a
        // ration card), an Urdu name with ZWNJ, and names from the seeds with no joiner at all.
        for name in [
            "लक\u{094D}\u{200D}ष्मी देवी",
            "উত\u{09CD}\u{200C}পল দাস",
            "র\u{200D}\u{09CD}যাশন কার্ড",
            "मनसुख मांडविया",
            "সুমিতা দাস",
            "نرگس\u{200C}بانو",
        ] {
            assert_eq!(BoundedText::parse(name, 100).unwrap().as_ref(), name);
        }
    }

    #[test]
    fn joiners_outside_indic_words_and_in_plain_text_are_refused() {
        for name in [
            "Asha\u{200D}Das",
            "\u{200C}সুমিতা",
            "সুমিতা \u{200D}দাস",
            "ক\u{09CD}\u{200C}\u{200C}ষ",
        ] {
            assert_eq!(
                BoundedText::parse(name, 100).unwrap_err().code(),
                "hidden_character",
                "{name:?}"
            );
        }
        // A medicine name or a code is compared as written: no joiner even in an Indic word.
        assert!(BoundedText::parse_plain("पैरासिटामोल", 100).is_ok());
        assert!(BoundedText::parse_plain("क\u{094D}\u{200D}ष", 100).is_err());
        assert!(BoundedText::parse_plain("Amlo\u{200C}dipine", 100).is_err());
    }

    #[test]
    fn string_enums_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), *role);
        }
        assert!(Language::parse("fr").is_err());
    }
}
