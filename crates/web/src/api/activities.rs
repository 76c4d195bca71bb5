//! Volunteer activities: putting one up, signing residents up (a waiting
//! list when full), checking them in and out, confirming the points.

use super::prelude::*;
use yijia_service::activities::{ActivityInput, ActivityView, SignupInput, SignupView};

use super::points::CommunityParam;

/// The community's activities that have not ended long ago, soonest first.
#[utoipa::path(get, path = "/api/v1/activities", tag = "activities", params(CommunityParam),
    responses(
        (status = 200, description = "The activities", body = Vec<ActivityView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_activities(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<ActivityView>>, ApiError> {
    Ok(Json(st.svc.activities(&c, q.community.as_deref()).await.api(lang)?))
}

/// Put up an activity: title, place, time, capacity, who may join, how points are earned.
#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", params(CommunityParam),
    request_body = ActivityInput,
    responses(
        (status = 201, description = "The activity", body = ActivityView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn create_activity(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<ActivityInput>,
) -> Result<(StatusCode, Json<ActivityView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.create_activity(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// One activity with everyone signed up.
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses(
        (status = 200, description = "The activity", body = ActivityView),
        (status = 404, description = "No such activity in your scope", body = ErrorBody),
    ))]
pub async fn get_activity(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ActivityView>, ApiError> {
    Ok(Json(st.svc.activity(&c, id).await.api(lang)?))
}

/// Sign a resident up; when the activity is full they go on its waiting list.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")), request_body = SignupInput,
    responses(
        (status = 201, description = "Signed up, or waiting", body = SignupView),
        (status = 404, description = "No such activity in your community", body = ErrorBody),
        (status = 409, description = "Signed up already, or the activity is over", body = ErrorBody),
        (status = 422, description = "No such resident here, or not of the category", body = ErrorBody),
    ))]
pub async fn sign_up_for_activity(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SignupInput>,
) -> Result<(StatusCode, Json<SignupView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.sign_up(&c, id, b).await.api(lang)?)))
}

/// Cancel a sign-up; a place given up goes to the first one waiting.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups/{resident}/cancel", tag = "activities",
    params(("id" = i64, Path, description = "Activity id"), ("resident" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Cancelled", body = SignupView),
        (status = 400, description = "An id is not a number", body = ErrorBody),
        (status = 404, description = "No such sign-up in your community", body = ErrorBody),
        (status = 409, description = "The activity is confirmed or cancelled", body = ErrorBody),
        (status = 422, description = "No such resident", body = ErrorBody),
    ))]
pub async fn cancel_signup(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, resident)): ApiPath<(i64, i64)>,
) -> Result<Json<SignupView>, ApiError> {
    Ok(Json(st.svc.cancel_signup(&c, id, resident).await.api(lang)?))
}

/// Check someone with a place in.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups/{resident}/check-in", tag = "activities",
    params(("id" = i64, Path, description = "Activity id"), ("resident" = i64, Path, description = "Resident id"), AtParam),
    responses(
        (status = 200, description = "Checked in", body = SignupView),
        (status = 400, description = "An id is not a number", body = ErrorBody),
        (status = 404, description = "No such sign-up in your community", body = ErrorBody),
        (status = 409, description = "Checked in already, waiting, or the activity is closed", body = ErrorBody),
        (status = 422, description = "The time is malformed, in the future or before the check-in", body = ErrorBody),
    ))]
pub async fn check_in(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, resident)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<AtParam>,
) -> Result<Json<SignupView>, ApiError> {
    Ok(Json(st.svc.check(&c, id, resident, false, q.at.as_deref()).await.api(lang)?))
}

/// Check someone out.
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups/{resident}/check-out", tag = "activities",
    params(("id" = i64, Path, description = "Activity id"), ("resident" = i64, Path, description = "Resident id"), AtParam),
    responses(
        (status = 200, description = "Checked out", body = SignupView),
        (status = 400, description = "An id or the time parameter is malformed", body = ErrorBody),
        (status = 404, description = "No such sign-up in your community", body = ErrorBody),
        (status = 409, description = "Not checked in, out already, or the activity is closed", body = ErrorBody),
        (status = 422, description = "The time is malformed, in the future or before the check-in", body = ErrorBody),
    ))]
pub async fn check_out(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, resident)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<AtParam>,
) -> Result<Json<SignupView>, ApiError> {
    Ok(Json(st.svc.check(&c, id, resident, true, q.at.as_deref()).await.api(lang)?))
}

/// Confirm the activity: the minutes each one was there turn into points from the
/// community's pool. Once.
#[utoipa::path(post, path = "/api/v1/activities/{id}/confirm", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses(
        (status = 200, description = "Confirmed, with the points given", body = ActivityView),
        (status = 404, description = "No such activity in your community", body = ErrorBody),
        (status = 409, description = "Confirmed or cancelled already", body = ErrorBody),
    ))]
pub async fn confirm_activity(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ActivityView>, ApiError> {
    Ok(Json(st.svc.confirm_activity(&c, id).await.api(lang)?))
}

/// When it happened, if not now: written down at the door, entered later.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtParam {
    /// RFC 3339, not in the future.
    pub at: Option<String>,
}
