//! Refuses a request whose URL carries a control character (`%00`, `%0A`, ...) before any
//! route sees it. No id, code or query value of this API contains one, and PostgreSQL cannot
//! even compare text with a NUL in it (it fails the statement, which answered 500), so the
//! request is answered 400 `invalid_url` at the edge, on both backends alike.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::ApiError;

pub async fn refuse_control_characters(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri = request.uri();
    let refused = has_encoded_control(uri.path()) || uri.query().is_some_and(has_encoded_control);
    if refused {
        let response = actix_web::ResponseError::error_response(&ApiError::bad_request(
            "invalid_url",
            "The address contains a control character (such as %00), which no Sanjeevani address has.",
        ));
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A percent-encoded C0 control (`%00`-`%1F`) or DEL (`%7F`). Raw control bytes never get
/// this far: the HTTP parser refuses them in the request line.
fn has_encoded_control(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2].to_ascii_uppercase()),
                (b'0' | b'1', b'0'..=b'9' | b'A'..=b'F') | (b'7', b'F')
            )
    })
}

#[cfg(test)]
mod tests {
    use super::has_encoded_control;

    #[test]
    fn encoded_controls_are_found_and_ordinary_escapes_are_not() {
        for refused in ["/api/v1/tokens/%00", "a%0a", "x%1Fy", "%7f", "%7F"] {
            assert!(has_encoded_control(refused), "{refused}");
        }
        for allowed in [
            "/api/v1/patients",
            "q=%20a",
            "%E0%A6%AE",
            "%2F",
            "%7E",
            "100%",
        ] {
            assert!(!has_encoded_control(allowed), "{allowed}");
        }
    }
}
