//! Turning request bodies into domain values: every field problem is collected, so the client
//! learns all of them at once, and nothing is changed when any field is wrong.

use std::fmt::Display;
use std::ops::RangeInclusive;

use sanjeevani_types::domain::ParseError;
use sanjeevani_types::FieldError;

/// One or more invalid fields.
#[derive(Debug, thiserror::Error)]
#[error("{} invalid field(s)", fields.len())]
pub struct ValidationError {
    pub fields: Vec<FieldError>,
}

impl ValidationError {
    pub fn single(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            fields: vec![FieldError {
                field: field.into(),
                code: code.into(),
                message: message.into(),
            }],
        }
    }
}

/// Collects field problems while a request is parsed.
#[derive(Debug, Default)]
pub struct Fields {
    problems: Vec<FieldError>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records why the field is invalid.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ParseError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(field, e.code(), e.to_string());
                None
            }
        }
    }

    /// Like [`Fields::check`] for an optional field: absent is fine, present must parse.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        input: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        match input {
            None => None,
            Some(text) if text.trim().is_empty() => None,
            Some(text) => self.check(field, parse(text)),
        }
    }

    /// Keeps `value` when it lies in `range`, or records `out_of_range` naming the bounds.
    /// A number or date from a request can be anything its type holds: compare it here, before
    /// any arithmetic, so `i32::MIN` gets a 422 and never an overflow.
    pub fn within<T: PartialOrd + Display>(
        &mut self,
        field: &str,
        value: T,
        range: RangeInclusive<T>,
    ) -> Option<T> {
        if range.contains(&value) {
            Some(value)
        } else {
            self.add(
                field,
                "out_of_range",
                format!("must be from {} to {}", range.start(), range.end()),
            );
            None
        }
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.problems.push(FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        });
    }

    pub fn required(&mut self, field: &str) {
        self.add(field, "required", "is required");
    }

    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Ends parsing: `Ok(value)` only when no field was invalid.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationError> {
        if self.problems.is_empty() {
            Ok(value())
        } else {
            Err(ValidationError {
                fields: self.problems,
            })
        }
    }
}
