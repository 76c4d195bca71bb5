//! The points ledger: transfers by hand and their reversal, accounts and
//! monthly statements.

use super::prelude::*;
use yijia_service::points::{AccountView, PointApproval, Posted, RejectInput, ReverseInput, Statement, TransferInput};

/// 201 when the points moved now, 200 when this id moved them before, 202
/// while an adjustment waits for a second person; a request that failed for
/// lack of points answers 422 each time, one rejected 409.
fn answer(p: Posted, lang: Lang) -> Result<(StatusCode, Json<Posted>), ApiError> {
    if p.status == "pending" {
        return Ok((StatusCode::ACCEPTED, Json(p)));
    }
    if p.status == "rejected" {
        let message = if lang.en() { p.message_en } else { p.message };
        return Err(ApiError::new(StatusCode::CONFLICT, "rejected", message.unwrap_or_default(), None));
    }
    if !p.done() {
        let message = if lang.en() { p.message_en } else { p.message };
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_points",
            message.unwrap_or_default(),
            p.field,
        ));
    }
    Ok((if p.replayed { StatusCode::OK } else { StatusCode::CREATED }, Json(p)))
}

/// Move points by hand: awards from the community's pool, adjustments. The transfers of one
/// request happen together or not at all; an adjustment above the limit waits for a second
/// person (202). The `client_id` makes it safe to send again: the
/// same id answers as the first time (a failed one stays failed); with other contents it is
/// refused (409).
#[utoipa::path(post, path = "/api/v1/points/transfers", tag = "points", request_body = TransferInput,
    responses(
        (status = 201, description = "The points moved", body = Posted),
        (status = 200, description = "Moved before with this client id; nothing changed", body = Posted),
        (status = 202, description = "An adjustment above the limit: waiting for a second person", body = Posted),
        (status = 404, description = "An account outside your community", body = ErrorBody),
        (status = 409, description = "The client id was used for other transfers, or rejected", body = ErrorBody),
        (status = 422, description = "A field is wrong, or not enough points (`insufficient_points`)", body = ErrorBody),
    ))]
pub async fn transfer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<TransferInput>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    answer(st.svc.transfer(&c, b).await.api(lang)?, lang)
}

/// Undo a transfer by a new one the other way, with the reason. Each transfer is undone at most
/// once; a reversal is not undone.
#[utoipa::path(post, path = "/api/v1/points/transfers/{id}/reversal", tag = "points",
    params(("id" = i64, Path, description = "The transfer to undo")), request_body = ReverseInput,
    responses(
        (status = 201, description = "Reversed", body = Posted),
        (status = 200, description = "Reversed before with this client id", body = Posted),
        (status = 404, description = "No such transfer in your community", body = ErrorBody),
        (status = 409, description = "Reversed already, or the client id was used otherwise", body = ErrorBody),
        (status = 422, description = "No reason, or the points were spent (`insufficient_points`)", body = ErrorBody),
    ))]
pub async fn reverse(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ReverseInput>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    answer(st.svc.reverse(&c, id, b).await.api(lang)?, lang)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommunityParam {
    /// A community's code; default: yours.
    pub community: Option<String>,
}

/// The community's own accounts: its points pool, its shop, its adjustments.
#[utoipa::path(get, path = "/api/v1/points/accounts", tag = "points", params(CommunityParam),
    responses(
        (status = 200, description = "The accounts", body = Vec<AccountView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn community_accounts(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(st.svc.community_accounts(&c, q.community.as_deref()).await.api(lang)?))
}

/// A resident's points account.
#[utoipa::path(get, path = "/api/v1/residents/{id}/points", tag = "points",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 404, description = "No such resident in your scope", body = ErrorBody),
    ))]
pub async fn resident_account(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(st.svc.resident_account(&c, id).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonthParam {
    /// `2026-11`; default: this month.
    pub month: Option<String>,
}

/// An account's statement for a month: the opening balance, each transfer with the balance
/// after it, the closing balance.
#[utoipa::path(get, path = "/api/v1/points/accounts/{id}/statement", tag = "points",
    params(("id" = i64, Path, description = "Account id"), MonthParam),
    responses(
        (status = 200, description = "The statement", body = Statement),
        (status = 404, description = "No such account in your scope", body = ErrorBody),
        (status = 422, description = "The month is not like 2026-11", body = ErrorBody),
    ))]
pub async fn statement(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthParam>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(st.svc.statement(&c, id, q.month.as_deref()).await.api(lang)?))
}

/// Adjustments waiting for a second person, oldest first.
#[utoipa::path(get, path = "/api/v1/points/approvals", tag = "points", params(CommunityParam),
    responses(
        (status = 200, description = "Waiting adjustments", body = Vec<PointApproval>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn approvals(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<PointApproval>>, ApiError> {
    Ok(Json(st.svc.pending_approvals(&c, q.community.as_deref()).await.api(lang)?))
}

/// Approve an adjustment someone else asked for: it goes through the ledger now.
#[utoipa::path(post, path = "/api/v1/points/approvals/{client_id}/approve", tag = "points",
    params(("client_id" = String, Path, description = "The adjustment's client id")),
    responses(
        (status = 201, description = "Approved: the points moved", body = Posted),
        (status = 404, description = "No such adjustment in your community", body = ErrorBody),
        (status = 409, description = "Decided already, or you asked for it yourself", body = ErrorBody),
        (status = 422, description = "Approved, but not enough points (`insufficient_points`)", body = ErrorBody),
    ))]
pub async fn approve(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    answer(st.svc.decide_approval(&c, &id, true, None).await.api(lang)?, lang)
}

/// Reject an adjustment someone else asked for, with the reason.
#[utoipa::path(post, path = "/api/v1/points/approvals/{client_id}/reject", tag = "points",
    params(("client_id" = String, Path, description = "The adjustment's client id")), request_body = RejectInput,
    responses(
        (status = 200, description = "Rejected", body = Posted),
        (status = 404, description = "No such adjustment in your community", body = ErrorBody),
        (status = 409, description = "Decided already, or you asked for it yourself", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    ))]
pub async fn reject(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RejectInput>,
) -> Result<Json<Posted>, ApiError> {
    Ok(Json(st.svc.decide_approval(&c, &id, false, Some(&b.reason)).await.api(lang)?))
}
