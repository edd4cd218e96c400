//! Waiting-room boards: the index of today's sessions and one session's board in large type,
//! kept live by the session's server-sent event stream (`static/board.js`). Public, like the
//! JSON board: display numbers and counts only, never a name.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::queue::SessionBoard;

use super::{render, Chrome};
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::services::opds::{self, SessionOfDay};
use crate::services::queue;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index).service(board);
}

#[derive(Template)]
#[template(path = "boards.html")]
struct BoardsPage {
    c: Chrome,
    sessions: Vec<SessionOfDay>,
}

#[get("/boards")]
async fn index(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match opds::sessions_today(&state).await {
        Ok(sessions) => render(
            &req,
            StatusCode::OK,
            &BoardsPage {
                c: Chrome::new(&req, None),
                sessions,
            },
        ),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    c: Chrome,
    board: SessionBoard,
    /// The "N min" text with `{m}` where the number goes, for the script.
    minutes_pattern: String,
    expected_wait: String,
    as_of: String,
}

#[get("/board/{session_id}")]
async fn board(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let c = Chrome::new(&req, None);
    let board = match queue::session_board(&state, path.into_inner(), c.language).await {
        Ok(board) => board,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let minutes_pattern = c.t1("board-minutes", "minutes", &"{m}");
    let expected_wait = match board.expected_wait_minutes {
        Some(m) => minutes_pattern.replace("{m}", &m.to_string()),
        None => c.t("board-none"),
    };
    let as_of = format_time_ist(board.as_of, c.language);
    let page = BoardPage {
        c,
        board,
        minutes_pattern,
        expected_wait,
        as_of,
    };
    render(&req, StatusCode::OK, &page)
}
