//! A resident's own account: the invitation staff give, signing up with
//! it, and then their points, activities and shop, all for themself only.

use super::prelude::*;
use axum::response::Response;
use yijia_service::activities::{ActivityView, SignupView};
use yijia_service::approvals::Approvals;
use yijia_service::auth::UserView;
use yijia_service::data_copy::DataCopy;
use yijia_service::honours::HonourConsent;
use yijia_service::invitations::{GridContact, InvitationView, JoinInput};
use yijia_service::points::Statement;
use yijia_service::registry::MyRecordView;
use yijia_service::shop::{ItemView, MyRedeemInput, Redeemed, RedemptionView};

use super::points::MonthParam;
use crate::policy::ClientIp;

/// A one-time invitation code for a resident to sign up with (valid 14 days; an earlier unused
/// one stops working). For a resident with an account it sets a new password instead (a
/// forgotten one): `for_reset`. The code is shown only in this answer.
#[utoipa::path(post, path = "/api/v1/residents/{id}/invitation", tag = "me",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 201, description = "The code", body = InvitationView),
        (status = 404, description = "No such resident in your grids", body = ErrorBody),
        (status = 409, description = "The resident moved away or died: not on the register", body = ErrorBody),
    ))]
pub async fn invite_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.invite_resident(&c, id).await.api(lang)?)))
}

/// Sign up with an invitation code: the mobile number becomes the login name. With a code given
/// to a resident who has an account, the password of that account is set anew (the number must
/// be the one they log in with) and its sessions end. Wrong codes count against the address like
/// failed logins.
#[utoipa::path(post, path = "/api/v1/join", tag = "me", request_body = JoinInput,
    responses(
        (status = 201, description = "The account (new, or with its new password): now log in", body = UserView),
        (status = 409, description = "That mobile number has an account, or the resident is no longer on the register", body = ErrorBody),
        (status = 422, description = "Wrong, used or expired code; bad number or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ))]
pub async fn join(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    lang: Lang,
    ApiJson(b): ApiJson<JoinInput>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.join(b, &ip).await.api(lang)?)))
}

/// 待我审批: funding applications, large expenses, full-data exports and point adjustments
/// waiting for your decision, and those decided in the last 30 days in your scope. Each is
/// decided at its own address (`/api/v1/fundings/{id}/decision`, …).
#[utoipa::path(get, path = "/api/v1/me/approvals", tag = "me",
    responses(
        (status = 200, description = "What waits for you, and what was decided lately", body = Approvals),
        (status = 404, description = "Your role approves nothing", body = ErrorBody),
    ))]
pub async fn my_approvals(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<Approvals>, ApiError> {
    Ok(Json(st.svc.approvals(&c).await.api(lang)?))
}

/// For a resident: who read, showed in full or changed his record, when, in what role and why.
/// Staff by name and role; his own reads left out. Not for a family member acting for him.
#[utoipa::path(get, path = "/api/v1/me/record-views", tag = "me",
    responses(
        (status = 200, description = "Newest first", body = Vec<MyRecordView>),
        (status = 403, description = "No resident record linked, or a family member's account", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_record_views(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<MyRecordView>>, ApiError> {
    Ok(Json(st.svc.my_record_views(&c).await.api(lang)?))
}

/// For a resident: a copy of everything held about him (PIPL art. 45): his record in full,
/// categories and their history, changes on the register, visits (not the workers' sealed
/// notes), requests, points, votes, and who looked at his record and why. Audited. Not for a
/// family member acting for him.
#[utoipa::path(get, path = "/api/v1/me/data-copy", tag = "me",
    responses(
        (status = 200, description = "The copy", body = DataCopy),
        (status = 403, description = "No resident record linked, or a family member's account", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_data_copy(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<DataCopy>, ApiError> {
    Ok(Json(st.svc.my_data_copy(&c).await.api(lang)?))
}

/// The same copy as an Excel workbook, a sheet per part.
#[utoipa::path(get, path = "/api/v1/me/data-copy.xlsx", tag = "me",
    responses(
        (status = 200, description = "The workbook",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "No resident record linked, or a family member's account", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_data_copy_workbook(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Response, ApiError> {
    let copy = st.svc.my_data_copy(&c).await.api(lang)?;
    let book = yijia_service::data_copy::workbook(&copy, lang.en()).api(lang)?;
    Ok(crate::download::xlsx("my-data.xlsx", book))
}

/// For a resident: the grid workers of their grid, with the phones they are called on at work.
#[utoipa::path(get, path = "/api/v1/me/grid-workers", tag = "me",
    responses(
        (status = 200, description = "Whom to call", body = Vec<GridContact>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_grid_workers(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<GridContact>>, ApiError> {
    Ok(Json(st.svc.my_grid_workers(&c).await.api(lang)?))
}

/// My points: the balance and the month's statement.
#[utoipa::path(get, path = "/api/v1/me/points", tag = "me", params(MonthParam),
    responses(
        (status = 200, description = "The statement", body = Statement),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
        (status = 422, description = "The month is not like 2026-11", body = ErrorBody),
    ))]
pub async fn my_points(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<MonthParam>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(st.svc.my_statement(&c, q.month.as_deref()).await.api(lang)?))
}

/// Activities I may join, each with my own sign-up.
#[utoipa::path(get, path = "/api/v1/me/activities", tag = "me",
    responses(
        (status = 200, description = "The activities", body = Vec<ActivityView>),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_activities(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ActivityView>>, ApiError> {
    Ok(Json(st.svc.my_activities(&c).await.api(lang)?))
}

/// Sign myself up (onto the waiting list when it is full).
#[utoipa::path(post, path = "/api/v1/me/activities/{id}/signup", tag = "me",
    params(("id" = i64, Path, description = "Activity id")),
    responses(
        (status = 201, description = "Signed up or waiting", body = SignupView),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "No such activity in my community", body = ErrorBody),
        (status = 409, description = "Signed up already, or the activity is over", body = ErrorBody),
        (status = 422, description = "Not for my category", body = ErrorBody),
    ))]
pub async fn sign_me_up(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<SignupView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.sign_me_up(&c, id).await.api(lang)?)))
}

/// Give up my place (the first one waiting gets it).
#[utoipa::path(post, path = "/api/v1/me/activities/{id}/cancel", tag = "me",
    params(("id" = i64, Path, description = "Activity id")),
    responses(
        (status = 200, description = "Cancelled", body = SignupView),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not signed up for it", body = ErrorBody),
        (status = 409, description = "The activity is confirmed or cancelled", body = ErrorBody),
    ))]
pub async fn cancel_my_signup(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SignupView>, ApiError> {
    Ok(Json(st.svc.cancel_my_signup(&c, id).await.api(lang)?))
}

/// What my community's shop offers.
#[utoipa::path(get, path = "/api/v1/me/shop/items", tag = "me",
    responses(
        (status = 200, description = "The items on offer", body = Vec<ItemView>),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_shop_items(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ItemView>>, ApiError> {
    Ok(Json(st.svc.my_shop_items(&c).await.api(lang)?))
}

/// My redemptions, newest first, with their pickup codes.
#[utoipa::path(get, path = "/api/v1/me/shop/redemptions", tag = "me",
    responses(
        (status = 200, description = "The redemptions", body = Vec<RedemptionView>),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_redemptions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<RedemptionView>>, ApiError> {
    Ok(Json(st.svc.my_redemptions(&c).await.api(lang)?))
}

/// Redeem an item for myself; the `client_id` makes it safe to send again.
#[utoipa::path(post, path = "/api/v1/me/shop/redemptions", tag = "me", request_body = MyRedeemInput,
    responses(
        (status = 201, description = "Redeemed: show the pickup code", body = Redeemed),
        (status = 200, description = "Redeemed before with this client id", body = Redeemed),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not my community's shop", body = ErrorBody),
        (status = 409, description = "The client id was used for another redemption", body = ErrorBody),
        (status = 422, description = "A field is wrong, or not enough points, stock or limit", body = ErrorBody),
    ))]
pub async fn redeem_mine(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<MyRedeemInput>,
) -> Result<(StatusCode, Json<Redeemed>), ApiError> {
    super::shop::answer(st.svc.redeem_mine(&c, b).await.api(lang)?, lang)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckMeInput {
    /// The token of the code scanned at the activity.
    pub token: String,
}

/// I scanned the code at the activity: checked in, or out when in already.
#[utoipa::path(post, path = "/api/v1/me/activities/{id}/check", tag = "me",
    params(("id" = i64, Path, description = "Activity id")), request_body = CheckMeInput,
    responses(
        (status = 200, description = "Checked in or out", body = SignupView),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "No such activity in my community", body = ErrorBody),
        (status = 409, description = "Not signed up, waiting, or out already", body = ErrorBody),
        (status = 422, description = "The code has expired", body = ErrorBody),
    ))]
pub async fn check_me(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckMeInput>,
) -> Result<Json<SignupView>, ApiError> {
    Ok(Json(st.svc.check_me(&c, id, &b.token).await.api(lang)?))
}

/// Whether my name may appear on the public honours board.
#[utoipa::path(get, path = "/api/v1/me/honours", tag = "me",
    responses(
        (status = 200, description = "My choice", body = HonourConsent),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_honour_consent(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<HonourConsent>, ApiError> {
    Ok(Json(st.svc.my_honour_consent(&c).await.api(lang)?))
}

/// Choose whether my name may appear on the public honours board.
#[utoipa::path(put, path = "/api/v1/me/honours", tag = "me", request_body = HonourConsent,
    responses(
        (status = 200, description = "My choice", body = HonourConsent),
        (status = 403, description = "The account is not linked to a resident record", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn set_my_honour_consent(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<HonourConsent>,
) -> Result<Json<HonourConsent>, ApiError> {
    Ok(Json(st.svc.set_my_honour_consent(&c, b).await.api(lang)?))
}
