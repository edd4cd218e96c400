"""Checks an OpenAPI document against the OpenAPI specification (openapi-spec-validator 0.9).

Usage: openapi_check.py < openapi.json
Prints "valid" and exits 0 when the document is valid; otherwise prints the first problem the
validator found, with where it is, and exits 1.
"""

import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


def main() -> int:
    document = json.load(sys.stdin)
    try:
        validate(document)
    except OpenAPIValidationError as error:
        print(f"invalid: {error}")
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
