//! Patient-facing text in English, Hindi and Bengali with Project Fluent: the `.ftl` files under
//! `locales/` are embedded in the binary; English is the fallback for any missing message.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// A language patients can choose (`patients.preferred_language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    Hi,
    Bn,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Hi, Language::Bn];

    /// Unknown codes fall back to English.
    /// The language of a code, English for any other.
    pub fn parse(code: &str) -> Self {
        Self::from_code(code).unwrap_or(Language::En)
    }

    /// The language of a code we have texts in, if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Language::En),
            "hi" => Some(Language::Hi),
            "bn" => Some(Language::Bn),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Hi => "hi",
            Language::Bn => "bn",
        }
    }

    /// The messages (notifications) and the web pages' texts (the staff pages, the patient's web
    /// app, the administrators' console), in one bundle per language.
    fn sources(self) -> [&'static str; 4] {
        match self {
            Language::En => [
                include_str!("locales/en/messages.ftl"),
                include_str!("locales/en/pages.ftl"),
                include_str!("locales/en/app.ftl"),
                include_str!("locales/en/admin.ftl"),
            ],
            Language::Hi => [
                include_str!("locales/hi/messages.ftl"),
                include_str!("locales/hi/pages.ftl"),
                include_str!("locales/hi/app.ftl"),
                include_str!("locales/hi/admin.ftl"),
            ],
            Language::Bn => [
                include_str!("locales/bn/messages.ftl"),
                include_str!("locales/bn/pages.ftl"),
                include_str!("locales/bn/app.ftl"),
                include_str!("locales/bn/admin.ftl"),
            ],
        }
    }
}

/// Every template the outbox knows; each has `<id>-subject` and `<id>-text` in every language.
pub const TEMPLATES: [&str; 8] = [
    "otp",
    "token-booked",
    "turn-near",
    "called",
    "no-show",
    "cancelled",
    "prescription-issued",
    "prescription-dispensed",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("no message {0}")]
    Missing(String),
    #[error("message {id} did not format: {errors}")]
    Format { id: String, errors: String },
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

type Bundles = HashMap<Language, FluentBundle<FluentResource>>;

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        Language::ALL
            .into_iter()
            .map(|language| {
                let langid = language.code().parse().expect("a valid language id");
                let mut bundle = FluentBundle::new_concurrent(vec![langid]);
                // No Unicode isolation marks around placeholders: they cost SMS characters
                // (and force UCS-2 on English texts).
                bundle.set_use_isolating(false);
                for source in language.sources() {
                    let resource = FluentResource::try_new(source.to_owned())
                        .expect("the embedded .ftl files parse (checked by the tests)");
                    bundle
                        .add_resource(resource)
                        .expect("no duplicate message ids");
                }
                (language, bundle)
            })
            .collect()
    })
}

fn format(language: Language, id: &str, args: &FluentArgs) -> Result<String, RenderError> {
    let bundle = &bundles()[&language];
    let pattern = bundle
        .get_message(id)
        .and_then(|message| message.value())
        .ok_or_else(|| RenderError::Missing(format!("{id} ({})", language.code())))?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if !errors.is_empty() {
        return Err(RenderError::Format {
            id: id.to_owned(),
            errors: format!("{errors:?}"),
        });
    }
    Ok(text.trim().to_owned())
}

/// The neutral name of a sensitive programme's OPDs in a message, in the language with code
/// `language_code`: the programme's own wording (`{"en": ..., "hi": ...}`) when it set one,
/// else the platform's (`neutral-opd`).
pub fn neutral_label(programme_wording: Option<&str>, language_code: &str) -> String {
    let language = Language::parse(language_code);
    let own: HashMap<String, String> = programme_wording
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    own.get(language.code())
        .or_else(|| own.get(Language::En.code()))
        .cloned()
        .or_else(|| format(language, "neutral-opd", &FluentArgs::new()).ok())
        .unwrap_or_else(|| "the clinic".to_owned())
}

fn fluent_args<'a>(args: &'a [(&'a str, String)]) -> FluentArgs<'a> {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    fluent_args
}

/// One text of the web pages (`locales/*/{pages,app,admin}.ftl`) in `language`, else in English, else the
/// id itself (so a missing text shows up on the page instead of failing it).
pub fn text(language: Language, id: &str, args: &[(&str, String)]) -> String {
    let fluent_args = fluent_args(args);
    format(language, id, &fluent_args)
        .or_else(|_| format(Language::En, id, &fluent_args))
        .unwrap_or_else(|_| id.to_owned())
}

/// Renders template `id` in `language`, or in English if the language lacks it.
pub fn render(
    language: Language,
    id: &str,
    args: &[(&str, String)],
) -> Result<Rendered, RenderError> {
    let fluent_args = fluent_args(args);
    let one = |language| -> Result<Rendered, RenderError> {
        Ok(Rendered {
            subject: format(language, &format!("{id}-subject"), &fluent_args)?,
            text: format(language, &format!("{id}-text"), &fluent_args)?,
        })
    };
    match one(language) {
        Err(RenderError::Missing(_)) if language != Language::En => one(Language::En),
        other => other,
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_HI: [&str; 12] = [
    "जनवरी",
    "फ़रवरी",
    "मार्च",
    "अप्रैल",
    "मई",
    "जून",
    "जुलाई",
    "अगस्त",
    "सितंबर",
    "अक्टूबर",
    "नवंबर",
    "दिसंबर",
];
const MONTHS_BN: [&str; 12] = [
    "জানুয়ারি",
    "ফেব্রুয়ারি",
    "মার্চ",
    "এপ্রিল",
    "মে",
    "জুন",
    "জুলাই",
    "আগস্ট",
    "সেপ্টেম্বর",
    "অক্টোবর",
    "নভেম্বর",
    "ডিসেম্বর",
];

/// A moment in IST as people there write it: "23 Nov 2026, 2:30 pm"; in Hindi and Bengali
/// with the month's name and the part of the day ("23 नवंबर 2026, दोपहर 2:30"). Digits stay
/// the international ones, which every phone shows and everyone reads on tokens and receipts.
pub fn format_time_ist(at: DateTime<Utc>, language: Language) -> String {
    let ist = at.with_timezone(&chrono_tz::Asia::Kolkata);
    let (hour, minute) = (ist.hour(), ist.minute());
    let hour12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    let month = ist.month0() as usize;
    match language {
        Language::En => {
            let half = if hour < 12 { "am" } else { "pm" };
            format!(
                "{} {} {}, {hour12}:{minute:02} {half}",
                ist.day(),
                MONTHS_EN[month],
                ist.year()
            )
        }
        Language::Hi | Language::Bn => {
            let part = match (language, hour) {
                (Language::Hi, 4..=11) => "सुबह",
                (Language::Hi, 12..=15) => "दोपहर",
                (Language::Hi, 16..=19) => "शाम",
                (Language::Hi, _) => "रात",
                (_, 4..=11) => "সকাল",
                (_, 12..=15) => "দুপুর",
                (_, 16..=18) => "বিকেল",
                (_, _) => "রাত",
            };
            let months = if language == Language::Hi {
                &MONTHS_HI
            } else {
                &MONTHS_BN
            };
            format!(
                "{} {} {}, {part} {hour12}:{minute:02}",
                ist.day(),
                months[month],
                ist.year()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_args() -> Vec<(&'static str, String)> {
        vec![
            ("code", "482913".into()),
            ("minutes", "5".into()),
            ("token", "GM-003".into()),
            ("opd", "General Medicine".into()),
            ("time", "23 Nov 2026, 2:30 pm".into()),
            ("requeued", "yes".into()),
            ("link", "https://sanjeevani.example.in/app/tokens/1".into()),
        ]
    }

    #[test]
    fn every_message_exists_in_every_language_with_placeholders_filled() {
        for language in Language::ALL {
            let bundle = &bundles()[&language];
            for id in TEMPLATES {
                for part in ["subject", "text"] {
                    let name = format!("{id}-{part}");
                    assert!(bundle.has_message(&name), "{name} in {}", language.code());
                }
                let rendered = render(language, id, &sample_args())
                    .unwrap_or_else(|e| panic!("{id} in {}: {e}", language.code()));
                for text in [&rendered.subject, &rendered.text] {
                    assert!(!text.contains("{$") && !text.contains('{'), "{text}");
                    assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'));
                    assert!(!text.is_empty());
                }
            }
        }
    }

    #[test]
    fn a_missing_argument_is_an_error_not_a_silent_gap() {
        assert!(matches!(
            render(Language::Hi, "called", &[]),
            Err(RenderError::Format { .. })
        ));
    }

    #[test]
    fn unknown_language_falls_back_to_english() {
        assert_eq!(Language::parse("ta"), Language::En);
    }

    #[test]
    fn times_are_written_in_ist_as_people_there_expect() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_time_ist(at, Language::En), "23 Nov 2026, 2:30 pm");
        assert_eq!(
            format_time_ist(at, Language::Hi),
            "23 नवंबर 2026, दोपहर 2:30"
        );
        assert_eq!(
            format_time_ist(at, Language::Bn),
            "23 নভেম্বর 2026, দুপুর 2:30"
        );
        let midnight = DateTime::parse_from_rfc3339("2026-11-22T18:35:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            format_time_ist(midnight, Language::En),
            "23 Nov 2026, 12:05 am"
        );
    }

    #[test]
    fn every_page_text_exists_in_every_language() {
        let ids = |source: &str| -> Vec<String> {
            source
                .lines()
                .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
                .map(|l| l.split(" =").next().unwrap_or("").trim().to_owned())
                .collect()
        };
        let english = Language::En.sources();
        for language in [Language::Hi, Language::Bn] {
            let bundle = &bundles()[&language];
            for source in &english[1..] {
                for id in ids(source) {
                    assert!(
                        bundle.has_message(&id),
                        "{id} missing in {}",
                        language.code()
                    );
                }
            }
        }
    }
}
