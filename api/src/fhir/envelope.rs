//! The document envelope every record type rides on (the guide's `DocumentBundle`): entries
//! with `urn:uuid:` full URLs, the Bundle's `meta.versionId`, `identifier`, `timestamp`, the
//! Composition first; a `collection` of documents; and the checks that say a bundle keeps
//! those rules (the tests run them on every bundle the API serves).

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::profiles::{self, CONFIDENTIALITY};
use crate::clock::IST;

/// The namespace of every resource id: the same record always gives the same id.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://sanjeevani.gov.in/fhir")
}

/// The id of the resource of `kind` made from the record `key` (a UUID, name-based).
pub fn resource_id(kind: &str, key: &str) -> String {
    Uuid::new_v5(&namespace(), format!("{kind}/{key}").as_bytes()).to_string()
}

/// A FHIR `dateTime`/`instant` in India's time (`2026-11-23T09:05:00+05:30`).
pub(super) fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&IST)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A `{"reference": "urn:uuid:..."}` to a resource built here.
pub(super) fn reference(resource: &Value) -> Value {
    json!({"reference": full_url(resource)})
}

fn full_url(resource: &Value) -> String {
    format!(
        "urn:uuid:{}",
        resource["id"].as_str().expect("every resource has an id")
    )
}

/// A CodeableConcept of text only: what the record says, uncoded.
pub(super) fn text(text: &str) -> Value {
    json!({"text": text})
}

/// The resources of a document after its Composition, each once.
#[derive(Default)]
pub(super) struct Entries {
    resources: Vec<Value>,
}

impl Entries {
    /// Adds a resource and returns a reference to it.
    pub(super) fn add(&mut self, resource: Value) -> Value {
        let reference = reference(&resource);
        self.resources.push(resource);
        reference
    }
}

/// What the Bundle says about itself.
pub(super) struct Envelope<'a> {
    /// The system that minted the identifier (`https://sanjeevani.gov.in/fhir/consultations`)
    /// and the record's id in it.
    pub identifier_system: &'a str,
    pub identifier_value: &'a str,
    /// The record's version: a changed record is a new version of the same document.
    pub version: i64,
    /// When the record last changed: the Bundle's `meta.lastUpdated` and `timestamp`, so the
    /// same record always gives the same document.
    pub last_updated: DateTime<Utc>,
}

/// A `document` Bundle: the Composition first, then every resource it refers to.
pub(super) fn document(envelope: &Envelope<'_>, composition: Value, entries: Entries) -> Value {
    let updated = instant(envelope.last_updated);
    let mut all = vec![composition];
    all.extend(entries.resources);
    let entry: Vec<Value> = all
        .into_iter()
        .map(|resource| json!({"fullUrl": full_url(&resource), "resource": resource}))
        .collect();
    json!({
        "resourceType": "Bundle",
        "id": resource_id("Bundle", &format!("{}|{}", envelope.identifier_system, envelope.identifier_value)),
        "meta": {
            "versionId": envelope.version.to_string(),
            "lastUpdated": updated,
            "profile": [profiles::url(profiles::DOCUMENT_BUNDLE)],
            // A health record: very restricted, as in the guide's examples.
            "security": [{"system": CONFIDENTIALITY, "code": "V", "display": "very restricted"}],
        },
        "identifier": {"system": envelope.identifier_system, "value": envelope.identifier_value},
        "type": "document",
        "timestamp": updated,
        "entry": entry,
    })
}

/// A `collection` Bundle of documents (a patient's records), each document whole.
pub fn collection(key: &str, at: DateTime<Utc>, documents: Vec<Value>) -> Value {
    let entry: Vec<Value> = documents
        .into_iter()
        .map(|document| json!({"fullUrl": full_url(&document), "resource": document}))
        .collect();
    json!({
        "resourceType": "Bundle",
        "id": resource_id("Collection", key),
        "meta": {"lastUpdated": instant(at)},
        "type": "collection",
        "timestamp": instant(at),
        "entry": entry,
    })
}

/// How a bundle breaks the guide's envelope rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("Bundle.{0} is missing or wrong")]
    Envelope(&'static str),
    #[error("the first entry is not a Composition with the profile {0}")]
    Composition(String),
    #[error("entry {0} has no urn:uuid: fullUrl matching its id, or repeats one")]
    FullUrl(usize),
    #[error("the reference {0} does not resolve inside the bundle")]
    Dangling(String),
    #[error("{0} carries no NRCeS profile")]
    Profile(String),
}

/// Checks a document Bundle against the guide's envelope: `type` document, `meta.versionId`,
/// `identifier` with system and value, `timestamp`, the Composition first with the profile
/// `composition_profile`, every entry's `fullUrl` a unique `urn:uuid:` of its id, every
/// resource with its NRCeS profile, and every reference resolving inside the bundle.
pub fn document_checks(bundle: &Value, composition_profile: &str) -> Result<(), DocumentError> {
    let nonempty = |value: &Value| value.as_str().is_some_and(|s| !s.trim().is_empty());
    if bundle["resourceType"] != "Bundle" || bundle["type"] != "document" {
        return Err(DocumentError::Envelope("type"));
    }
    if !nonempty(&bundle["meta"]["versionId"]) {
        return Err(DocumentError::Envelope("meta.versionId"));
    }
    if bundle["meta"]["profile"][0] != profiles::url(profiles::DOCUMENT_BUNDLE) {
        return Err(DocumentError::Envelope("meta.profile"));
    }
    if !nonempty(&bundle["identifier"]["system"]) || !nonempty(&bundle["identifier"]["value"]) {
        return Err(DocumentError::Envelope("identifier"));
    }
    if !nonempty(&bundle["timestamp"]) {
        return Err(DocumentError::Envelope("timestamp"));
    }
    let entries = bundle["entry"]
        .as_array()
        .ok_or(DocumentError::Envelope("entry"))?;
    let wanted = profiles::url(composition_profile);
    let first = entries.first().map(|e| &e["resource"]);
    if !first.is_some_and(|c| {
        c["resourceType"] == "Composition" && c["meta"]["profile"][0] == wanted.as_str()
    }) {
        return Err(DocumentError::Composition(wanted));
    }
    let mut urls = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let resource = &entry["resource"];
        let id = resource["id"].as_str().unwrap_or_default();
        let url = entry["fullUrl"].as_str().unwrap_or_default();
        if id.is_empty() || url != format!("urn:uuid:{id}") || !urls.insert(url.to_owned()) {
            return Err(DocumentError::FullUrl(i));
        }
        let kind = resource["resourceType"].as_str().unwrap_or_default();
        let profiled = resource["meta"]["profile"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("https://nrces.in/ndhm/fhir/r4/StructureDefinition/"));
        if !profiled {
            return Err(DocumentError::Profile(kind.to_owned()));
        }
    }
    let mut references = Vec::new();
    collect_references(bundle, &mut references);
    match references.into_iter().find(|r| !urls.contains(r)) {
        Some(dangling) => Err(DocumentError::Dangling(dangling)),
        None => Ok(()),
    }
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("reference", Value::String(reference)) => found.push(reference.clone()),
                    _ => collect_references(inner, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn a_document(reference_to: &str) -> Value {
        let mut entries = Entries::default();
        let patient = entries.add(json!({
            "resourceType": "Patient", "id": resource_id("Patient", "p1"),
            "meta": {"profile": [profiles::url(profiles::PATIENT)]},
        }));
        let composition = json!({
            "resourceType": "Composition", "id": resource_id("Composition", "c1"),
            "meta": {"profile": [profiles::url(profiles::PRESCRIPTION_RECORD)]},
            "subject": patient,
            "author": [{"reference": reference_to}],
        });
        let envelope = Envelope {
            identifier_system: "https://sanjeevani.gov.in/fhir/prescriptions",
            identifier_value: "rx1",
            version: 2,
            last_updated: Utc.with_ymd_and_hms(2026, 11, 23, 4, 5, 0).unwrap(),
        };
        document(&envelope, composition, entries)
    }

    #[test]
    fn a_document_keeps_the_envelope_and_its_references_resolve() {
        let patient_url = format!("urn:uuid:{}", resource_id("Patient", "p1"));
        let bundle = a_document(&patient_url);
        assert_eq!(bundle["timestamp"], "2026-11-23T09:35:00+05:30");
        assert_eq!(bundle["meta"]["versionId"], "2");
        assert_eq!(
            document_checks(&bundle, profiles::PRESCRIPTION_RECORD),
            Ok(())
        );
        assert_eq!(
            document_checks(&bundle, profiles::OP_CONSULT_RECORD),
            Err(DocumentError::Composition(profiles::url(
                profiles::OP_CONSULT_RECORD
            )))
        );
        let dangling = a_document("urn:uuid:00000000-0000-5000-8000-000000000000");
        assert!(matches!(
            document_checks(&dangling, profiles::PRESCRIPTION_RECORD),
            Err(DocumentError::Dangling(_))
        ));
    }

    #[test]
    fn the_same_record_always_gets_the_same_id() {
        assert_eq!(resource_id("Patient", "a"), resource_id("Patient", "a"));
        assert_ne!(
            resource_id("Patient", "a"),
            resource_id("Practitioner", "a")
        );
    }
}
