//! What every page's forms share: reading a typed field (a number, an optional text) and
//! showing a refusal (the error's code and message, each field's own problem, the API's status).
//! The rules themselves are the services': a form only reads what was typed.

use actix_web::http::StatusCode;
use sanjeevani_types::FieldError;

use crate::error::ApiError;

/// Why a form was refused: the error's code and message, and each field's own problem.
pub struct Problem {
    pub code: String,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl Problem {
    /// The status of a refused form (the API's own for that error) and what to show of it.
    pub fn refusal(error: impl Into<ApiError>) -> (StatusCode, Problem) {
        let error = error.into();
        (actix_web::ResponseError::status_code(&error), error.into())
    }

    /// A page's status and problem after a form was refused (`Some`), or shown plainly.
    pub fn of_refusal(refused: Option<ApiError>) -> (StatusCode, Option<Problem>) {
        match refused {
            Some(error) => {
                let (status, problem) = Self::refusal(error);
                (status, Some(problem))
            }
            None => (StatusCode::OK, None),
        }
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        Problem {
            code: error.code().to_owned(),
            message: error.message().to_owned(),
            fields: error
                .fields()
                .iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect(),
        }
    }
}

/// A field's own problem, if the refused form had one.
pub fn field_problem(problem: Option<&Problem>, field: &str) -> Option<String> {
    problem.and_then(|p| {
        p.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.clone())
    })
}

/// A field that must be a number if filled: `None` when empty; a text that is no number is
/// named in `bad` (`invalid_number`) and read as `None`.
pub fn number<T: std::str::FromStr>(
    field: &str,
    text: &str,
    bad: &mut Vec<FieldError>,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(value) => Some(value),
        Err(_) => {
            bad.push(FieldError {
                field: field.to_owned(),
                code: "invalid_number".into(),
                message: "must be a number".into(),
            });
            None
        }
    }
}

/// An optional text field: `None` when left blank.
pub fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_field_is_empty_a_number_or_named() {
        let mut bad = Vec::new();
        assert_eq!(number::<i32>("a", "  ", &mut bad), None);
        assert_eq!(number::<i32>("b", " 42 ", &mut bad), Some(42));
        assert_eq!(number::<i32>("c", "4x", &mut bad), None);
        let named: Vec<&str> = bad.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["c"]);
        assert_eq!(optional("  "), None);
        assert_eq!(optional(" x "), Some("x".into()));
    }
}
