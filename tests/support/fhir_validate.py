"""Validates FHIR R4 Bundles with the `fhir.resources` models (PyPI; their R4B package, which
reads R4 JSON) and, asked for `summary`, reads back what the parsed models say a consultation
prescribed and diagnosed.

Usage: python fhir_validate.py validate|summary < bundles.json   (a JSON array of Bundles)
  validate: prints "valid", or the validation errors and exits 1.
  summary:  prints JSON {"medicines": [...], "diagnoses": [...]} read from the parsed models of
            the first bundle (a collection's documents included), for a round trip.
"""

import json
import sys

from fhir.resources.R4B.bundle import Bundle


def documents(bundle):
    """The document bundles in `bundle`: itself, or a collection's entries."""
    if bundle.type == "collection":
        return [entry.resource for entry in bundle.entry or []]
    return [bundle]


def resources(bundle, kind):
    for document in documents(bundle):
        for entry in document.entry or []:
            if entry.resource.get_resource_type() == kind:
                yield entry.resource


def summary(bundle):
    medicines = []
    for request in resources(bundle, "MedicationRequest"):
        dosage = request.dosageInstruction[0]
        medicines.append(
            {
                "medicine": request.medicationCodeableConcept.text,
                "dosage": dosage.text,
                "frequency": dosage.timing.code.text,
                "days": float(dosage.timing.repeat.boundsDuration.value),
                "route": dosage.route.text,
                "quantity": float(request.dispenseRequest.quantity.value),
                "status": request.status,
            }
        )
    diagnoses = []
    for condition in resources(bundle, "Condition"):
        for coding in condition.code.coding or []:
            diagnoses.append({"system": coding.system, "code": coding.code, "text": condition.code.text})
    return {"medicines": medicines, "diagnoses": diagnoses}


def main():
    mode = sys.argv[1]
    bundles = []
    for number, data in enumerate(json.load(sys.stdin)):
        try:
            bundles.append(Bundle.model_validate(data))
        except Exception as error:  # pydantic's ValidationError names every bad element
            print(f"bundle {number} is invalid: {error}")
            sys.exit(1)
    if mode == "summary":
        print(json.dumps(summary(bundles[0])))
    else:
        print("valid")


if __name__ == "__main__":
    main()
