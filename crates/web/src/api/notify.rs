//! What people are told: one's messages (the bell), one's preferences,
//! and the delivery log of what went out through the providers.

use super::prelude::*;
use serde::Serialize;
use yijia_domain::notify::DeliveryState;
use yijia_service::notify::{
    DeliveryView, Messages, PreferencesInput, PreferencesView, StaffGroupInput, StaffGroupView,
};
use yijia_service::{Page, PageReq};

/// Your messages, newest first, and how many are unread.
#[utoipa::path(get, path = "/api/v1/messages", tag = "notify", params(PageParams),
    responses(
        (status = 200, description = "Your messages", body = Messages),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn my_messages(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Messages>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(st.svc.messages(&c, page).await.api(lang)?))
}

/// How many of your messages are unread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unread {
    pub unread: i64,
}

/// The bell's count: how many of your messages are unread.
#[utoipa::path(get, path = "/api/v1/messages/unread", tag = "notify",
    responses((status = 200, description = "The count", body = Unread)))]
pub async fn unread_messages(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<Unread>, ApiError> {
    Ok(Json(Unread { unread: st.svc.unread_messages(&c).await.api(lang)? }))
}

/// Which message to mark read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// One message; left out, all of them.
    #[serde(default)]
    pub id: Option<i64>,
}

/// How many messages changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Changed {
    pub changed: u64,
}

/// Mark one message read, or all of them.
#[utoipa::path(post, path = "/api/v1/messages/read", tag = "notify", request_body = ReadInput,
    responses(
        (status = 200, description = "Marked", body = Changed),
        (status = 404, description = "No such message of yours", body = ErrorBody),
    ))]
pub async fn read_messages(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<ReadInput>,
) -> Result<Json<Changed>, ApiError> {
    Ok(Json(Changed { changed: st.svc.read_messages(&c, b.id).await.api(lang)? }))
}

/// How you are told: your email, quiet hours, and channels per kind of message.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notify",
    responses((status = 200, description = "Your preferences", body = PreferencesView)))]
pub async fn my_preferences(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(st.svc.preferences(&c).await.api(lang)?))
}

/// Change how you are told; what is left out stays as it was.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notify", request_body = PreferencesInput,
    responses(
        (status = 200, description = "Your preferences, changed", body = PreferencesView),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn set_my_preferences(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<PreferencesInput>,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(st.svc.set_preferences(&c, &b).await.api(lang)?))
}

/// Which deliveries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// Only those in this state (`parked`: waiting for you).
    pub state: Option<DeliveryState>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// What went out to people in your area through SMS and email, newest first; addresses masked.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "notify", params(DeliveryParams),
    responses(
        (status = 200, description = "The deliveries", body = Page<DeliveryView>),
        (status = 404, description = "Your role does not read the delivery log", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn deliveries(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<DeliveryParams>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(st.svc.deliveries(&c, q.state, page, lang.en()).await.api(lang)?))
}

/// Send a parked or failed message again.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/requeue", tag = "notify",
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "Queued again", body = DeliveryView),
        (status = 404, description = "No such delivery in your area", body = ErrorBody),
        (status = 409, description = "It is not parked or failed", body = ErrorBody),
    ))]
pub async fn requeue_delivery(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(st.svc.requeue_delivery(&c, id).await.api(lang)?))
}

/// The provider's acknowledgement, in the shape it asks for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SmsAck {
    /// Alibaba Cloud: `{"code": 0, "msg": "接收成功"}`
    Aliyun { code: i64, msg: String },
    /// Tencent Cloud: `{"result": 0, "errmsg": "OK"}`
    Tencent { result: i64, errmsg: String },
}

fn ack(p: yijia_service::notify::SmsProvider) -> SmsAck {
    match p {
        yijia_service::notify::SmsProvider::Aliyun => SmsAck::Aliyun { code: 0, msg: "接收成功".into() },
        yijia_service::notify::SmsProvider::Tencent => SmsAck::Tencent { result: 0, errmsg: "OK".into() },
    }
}

/// The SMS provider pushes delivery receipts here (Alibaba Cloud's SmsReport, Tencent Cloud's status callback).
#[utoipa::path(post, path = "/api/v1/sms/receipts/{token}", tag = "notify",
    params(("token" = String, Path, description = "The secret set up as sms_callback_token")),
    request_body = Object,
    responses(
        (status = 200, description = "Taken", body = SmsAck),
        (status = 404, description = "Not a callback set up here", body = ErrorBody),
        (status = 422, description = "Not receipts in the provider's shape", body = ErrorBody),
    ))]
pub async fn sms_receipts(
    State(st): State<AppState>,
    lang: Lang,
    ApiPath(token): ApiPath<String>,
    ApiJson(b): ApiJson<serde_json::Value>,
) -> Result<Json<SmsAck>, ApiError> {
    let (provider, _) = st.svc.sms_receipts(&token, b).await.api(lang)?;
    Ok(Json(ack(provider)))
}

/// The SMS provider pushes replies from phones here; 退订 or TD stops SMS to that phone.
#[utoipa::path(post, path = "/api/v1/sms/replies/{token}", tag = "notify",
    params(("token" = String, Path, description = "The secret set up as sms_callback_token")),
    request_body = Object,
    responses(
        (status = 200, description = "Taken", body = SmsAck),
        (status = 404, description = "Not a callback set up here", body = ErrorBody),
        (status = 422, description = "Not replies in the provider's shape", body = ErrorBody),
    ))]
pub async fn sms_replies(
    State(st): State<AppState>,
    lang: Lang,
    ApiPath(token): ApiPath<String>,
    ApiJson(b): ApiJson<serde_json::Value>,
) -> Result<Json<SmsAck>, ApiError> {
    let (provider, _) = st.svc.sms_replies(&token, b).await.api(lang)?;
    Ok(Json(ack(provider)))
}

/// The robots of the staff work groups in your reach.
#[utoipa::path(get, path = "/api/v1/staff-groups", tag = "notify",
    responses(
        (status = 200, description = "The groups", body = Vec<StaffGroupView>),
        (status = 404, description = "Your role does not keep work groups", body = ErrorBody),
    ))]
pub async fn staff_groups(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<StaffGroupView>>, ApiError> {
    Ok(Json(st.svc.staff_groups(&c, lang.en()).await.api(lang)?))
}

/// Tell a grid's or a community's staff work group through its WeCom or DingTalk robot.
#[utoipa::path(post, path = "/api/v1/staff-groups", tag = "notify", request_body = StaffGroupInput,
    responses(
        (status = 201, description = "Added", body = StaffGroupView),
        (status = 404, description = "Your role does not keep work groups", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_staff_group(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<StaffGroupInput>,
) -> Result<(StatusCode, Json<StaffGroupView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_staff_group(&c, &b).await.api(lang)?)))
}

/// Stop telling a work group.
#[utoipa::path(post, path = "/api/v1/staff-groups/{id}/remove", tag = "notify",
    params(("id" = i64, Path, description = "Group id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such group in your reach", body = ErrorBody),
    ))]
pub async fn remove_staff_group(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    st.svc.remove_staff_group(&c, id).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
