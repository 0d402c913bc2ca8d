//! The free steps of the connection test: the requests that find out which step of a browser's
//! call a provider refuses, before the one paid request is sent (see
//! [`crate::domain::provider::probe`] for the steps, the inference and the messages).
//!
//! 1. `GET /models` with the key header (and the protocol's other headers, never
//!    `Content-Type`): any answer proves the preflight passed and reads the model list. Refused,
//!    it is told apart: a server that answers nothing is unreachable; one that answers simple
//!    requests but refuses this one is retried with only the key header, then with the key
//!    header plus each other header alone, to name the header it refuses, or else to say it
//!    refuses every preflight.
//! 2. The real `POST` is the caller's: it sends it through the executor
//!    ([`crate::web::exec::once`]) when [`ProbeReport::is_clear`], and hands its outcome to
//!    [`finish`]. Refused without an answer after the `GET` passed, its preflight was refused
//!    and nothing was sent or billed: [`finish`] retries it as a free `POST` of `{}` (which
//!    providers refuse with a 400 before any generation) with only the key header, then with
//!    each other header: a relay that blocks `POST` refuses even the first.
//!
//! Every request goes only to the connection's own base URL.

use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::domain::provider::model_map::list_models_path;
use crate::domain::provider::probe::{
    classify_listing, diagnose_refusal, is_key_header, probe_headers, refused_before_sending,
    ListingVerdict, Note, ProbeReport, Problem, Status, Step, EMPTY_BODY,
};
use crate::web::http::{probe_fetch, server_is_up, Probed};

/// The most of a model list read to count it (a longer one is listed without a count).
const LIST_CAP: usize = 4 * 1024 * 1024;
/// The most of an error body read.
const ERROR_CAP: usize = 64 * 1024;
/// The time limit of the model list, in milliseconds (a server silent that long is treated as
/// unreachable).
const LIST_TIMEOUT_MS: u32 = 20_000;
/// The time limit of each retry that names a refusal, in milliseconds (a refusal is quick).
const RETRY_TIMEOUT_MS: u32 = 10_000;

/// Runs the free steps ([`Step::Preflight`], [`Step::Models`]) and returns the report, with the
/// `POST` steps still pending unless a step failed. `on_progress` sees the report after each
/// step.
pub async fn free_steps(
    conn: &Connection,
    key: &ApiKey,
    mut on_progress: impl FnMut(&ProbeReport),
) -> ProbeReport {
    let mut report = ProbeReport::new(conn);
    let protocol = conn.protocol();
    let Ok(models_url) = conn.api_url(&list_models_path(protocol, None)) else {
        report.fail(Step::Preflight, Problem::Api(ApiError::network(false)));
        return report;
    };

    // 1. Preflight and the model list.
    let get_headers = probe_headers(conn, key, false);
    let listed = probe_fetch(
        conn,
        key,
        &models_url,
        &get_headers,
        None,
        LIST_CAP,
        LIST_TIMEOUT_MS,
    )
    .await;
    match listed {
        Err(error) => {
            report.fail(Step::Preflight, Problem::Api(error));
            return report;
        }
        Ok(Probed::TimedOut) => {
            report.fail(Step::Preflight, Problem::Api(ApiError::network(false)));
            return report;
        }
        Ok(Probed::Refused) => {
            let problem = if server_is_up(conn, &models_url).await {
                diagnose(conn, key, &models_url, &get_headers, None).await
            } else {
                Problem::Api(ApiError::network(false))
            };
            report.fail(Step::Preflight, problem);
            return report;
        }
        Ok(Probed::Answered {
            status,
            body,
            truncated,
        }) => {
            report.pass(Step::Preflight, None);
            let verdict = match classify_listing(status, &body) {
                // Cut short, a long list is still a list, just not counted.
                ListingVerdict::Listed(_) if truncated => ListingVerdict::Listed(None),
                verdict => verdict,
            };
            match verdict {
                ListingVerdict::Listed(count) => report.pass(Step::Models, count.map(Note::Models)),
                ListingVerdict::NoList(status) => {
                    report.skip(Step::Models, Some(Note::NoModelList(status)))
                }
                ListingVerdict::Answered(status) => {
                    report.skip(Step::Models, Some(Note::Answered(status)))
                }
                ListingVerdict::Failed(error) => {
                    report.fail(Step::Models, Problem::Api(error));
                    return report;
                }
            }
        }
    }
    on_progress(&report);
    report
}

/// Records the real request's outcome in `report` (see [`ProbeReport::complete`]); when it was
/// refused without an answer, names why with free requests.
pub async fn finish(
    conn: &Connection,
    key: &ApiKey,
    report: &mut ProbeReport,
    outcome: Result<(f64, String), ApiError>,
) {
    // The `GET` was answered, so the server is up: no answer to the `POST` is a refusal.
    let refused = matches!(&outcome, Err(error) if refused_before_sending(error))
        && report.status(Step::Preflight) == Status::Ok;
    let chat_url = conn.chat_url();
    let (true, Ok(chat_url)) = (refused, chat_url) else {
        report.complete(outcome);
        return;
    };
    let headers = probe_headers(conn, key, true);
    let problem = diagnose(conn, key, &chat_url, &headers, Some(EMPTY_BODY)).await;
    report.fail(Step::Post, problem);
}

/// Why a request with `headers` was refused by a server that is up: the same request with only
/// the key header, then with the key header and each other header alone. A `POST` when there
/// is a `body`, else a `GET`.
async fn diagnose(
    conn: &Connection,
    key: &ApiKey,
    url: &str,
    headers: &[(&'static str, String)],
    body: Option<&str>,
) -> Problem {
    let post = body.is_some();
    let (minimal, others): (Vec<_>, Vec<_>) = headers
        .iter()
        .cloned()
        .partition(|(name, _)| is_key_header(name));
    let passes = |headers: Vec<(&'static str, String)>| async move {
        matches!(
            probe_fetch(conn, key, url, &headers, body, ERROR_CAP, RETRY_TIMEOUT_MS).await,
            Ok(Probed::Answered { .. })
        )
    };
    if !passes(minimal.clone()).await {
        return diagnose_refusal(post, false, Vec::new());
    }
    let mut refused = Vec::new();
    for header in others {
        let mut tried = minimal.clone();
        tried.push(header.clone());
        if !passes(tried).await {
            refused.push(header.0.to_string());
        }
    }
    diagnose_refusal(post, true, refused)
}
