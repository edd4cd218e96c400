//! The canonical URLs, code systems and fixed codes of the NRCeS guide (`ndhm.in` 6.5.0) and
//! of FHIR R4 that the documents use. Sources: the guide's profiles
//! (`https://nrces.in/ndhm/fhir/r4/StructureDefinition/...`), its OPConsultRecord section
//! slices, and ABDM's integrator notes (nha-in/docs, skills/abdm-fhir/references/design.md:
//! the Composition type codes per record type and the Patient identifier types).

/// Where the guide's profiles live.
const BASE: &str = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/";

pub const DOCUMENT_BUNDLE: &str = "DocumentBundle";
pub const OP_CONSULT_RECORD: &str = "OPConsultRecord";
pub const PRESCRIPTION_RECORD: &str = "PrescriptionRecord";
pub const PATIENT: &str = "Patient";
pub const PRACTITIONER: &str = "Practitioner";
pub const ORGANIZATION: &str = "Organization";
pub const ENCOUNTER: &str = "Encounter";
pub const CONDITION: &str = "Condition";
pub const OBSERVATION: &str = "Observation";
pub const MEDICATION_REQUEST: &str = "MedicationRequest";
pub const SERVICE_REQUEST: &str = "ServiceRequest";
pub const APPOINTMENT: &str = "Appointment";

/// A profile's canonical URL (`https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient`).
pub fn url(profile: &str) -> String {
    format!("{BASE}{profile}")
}

pub const SNOMED: &str = "http://snomed.info/sct";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The WHO's ICD-10: the record holds a code typed as ICD-10 (`I10`, `E11.9`).
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
pub const V2_IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// The guide's own identifier types (`HIN`: ABHA number; `ABHA`: ABHA address).
pub const NDHM_IDENTIFIER_TYPE: &str =
    "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code";
/// The ABHA number's issuing system, as in every Patient of the guide's examples.
pub const ABHA_NUMBER_SYSTEM: &str = "https://healthid.ndhm.gov.in";
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

/// A document's type, fixed by its profile: (SNOMED CT code, display).
pub const OP_CONSULT_TYPE: (&str, &str) = ("371530004", "Clinical consultation report");
pub const PRESCRIPTION_TYPE: (&str, &str) = ("440545006", "Prescription record");

/// The OPConsultRecord's sections (title, SNOMED CT code, display), as the guide slices them.
pub const CHIEF_COMPLAINTS: (&str, &str, &str) =
    ("Chief complaints", "422843007", "Chief complaint section");
pub const MEDICAL_HISTORY: (&str, &str, &str) = (
    "Medical history",
    "371529009",
    "History and physical report",
);
pub const PHYSICAL_EXAMINATION: (&str, &str, &str) =
    ("Physical examination", "425044008", "Physical exam section");
pub const INVESTIGATION_ADVICE: (&str, &str, &str) =
    ("Investigation advice", "721963009", "Order document");
pub const MEDICATIONS: (&str, &str, &str) =
    ("Medications", "721912009", "Medication summary document");
pub const FOLLOW_UP: (&str, &str, &str) = ("Follow up", "736271009", "Outpatient care plan");
pub const REFERRAL: (&str, &str, &str) = ("Referral", "306206005", "Referral to service");
