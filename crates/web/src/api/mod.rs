//! The JSON API under `/api/v1`. Each route is declared once, below: its
//! policy and scope here, its method, path and documentation in the
//! handler's `#[utoipa::path]`, from which `/api/openapi.json` is built.

mod account;
mod activities;
mod audit;
mod auth;
mod cases;
mod dashboard;
mod duty;
pub(crate) mod exports;
mod integrations;
mod me;
mod notices;
mod org;
mod pledges;
mod points;
mod projects;
mod residents;
mod shop;
mod stations;
mod users;
mod visits;

use serde::Deserialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::routes;
use yijia_service::ServiceError;

use crate::error::ApiError;
use crate::i18n::Lang;
use crate::policy::{Policy, Routes, Scope};

pub(crate) trait ApiResult<T> {
    fn api(self, lang: Lang) -> Result<T, ApiError>;
}

impl<T> ApiResult<T> for Result<T, ServiceError> {
    fn api(self, lang: Lang) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::from_service(&e, lang))
    }
}

/// `?page=&per_page=` as in DESIGN section 7.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// From 1; default 1.
    pub page: Option<i64>,
    /// 1 to 500; default 50.
    pub per_page: Option<i64>,
}

use yijia_service::roles::*;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/healthz", Public, Scope::None, healthz)
        .api(Public, Scope::None, routes!(auth::login))
        .api(LoggedIn, Scope::Own, routes!(auth::logout))
        .api(LoggedIn, Scope::Own, routes!(auth::me))
        .api(LoggedIn, Scope::Own, routes!(auth::change_password))
        .api(LoggedIn, Scope::Own, routes!(account::status))
        .api(LoggedIn, Scope::Own, routes!(account::setup))
        .api(LoggedIn, Scope::Own, routes!(account::confirm))
        .api(LoggedIn, Scope::Own, routes!(account::recovery_codes))
        .api(LoggedIn, Scope::Own, routes!(account::disable))
        .api(LoggedIn, Scope::Own, routes!(account::my_sessions))
        .api(LoggedIn, Scope::Own, routes!(account::end_my_session))
        .api(Roles(ORG_VIEWERS), Scope::Grants, routes!(org::org_tree))
        .api(Roles(ORG_EDITORS), Scope::Named, routes!(org::create_org_node))
        .api(Roles(ORG_VIEWERS), Scope::Object, routes!(org::get_org_node))
        .api(Roles(ORG_EDITORS), Scope::Object, routes!(org::update_org_node))
        .api(Roles(ORG_EDITORS), Scope::Object, routes!(org::delete_org_node))
        .api(Roles(USER_MANAGERS), Scope::Grants, routes!(users::list_users))
        .api(Roles(USER_MANAGERS), Scope::Named, routes!(users::create_user))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(users::get_user))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(users::disable_user))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(users::enable_user))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(account::reset))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(account::user_sessions))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(account::end_user_sessions))
        .api(Roles(USER_MANAGERS), Scope::Object, routes!(account::end_user_session))
        .api(Roles(AUDIT_READERS), Scope::Grants, routes!(audit::list_audit))
        .api(Roles(AUDIT_READERS), Scope::Grants, routes!(audit::export_audit))
        .api(Roles(RESIDENT_READERS), Scope::Grants, routes!(residents::list_residents))
        .api(Roles(REGISTRARS), Scope::Named, routes!(residents::add_resident))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::get_resident))
        .api(Roles(REGISTRARS), Scope::Object, routes!(residents::update_resident))
        .api(Roles(FULL_EXPORTERS), Scope::Named, routes!(exports::request_export))
        .api(Roles(FULL_EXPORTERS), Scope::Grants, routes!(exports::list_exports))
        .api(Roles(EXPORT_APPROVERS), Scope::Object, routes!(exports::decide_export))
        .api(Roles(FULL_EXPORTERS), Scope::Object, routes!(exports::download_export))
        .api(Roles(RESIDENT_READERS), Scope::Grants, routes!(residents::list_categories))
        .api(Roles(CATEGORY_MAKERS), Scope::Named, routes!(residents::add_category))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::get_household))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::get_building))
        .api(Roles(CASE_FILERS), Scope::Grants, routes!(cases::list_cases))
        .api(Roles(CASE_FILERS), Scope::Named, routes!(cases::create_case))
        .api(Roles(CASE_FILERS), Scope::Grants, routes!(cases::similar_cases))
        .api(Roles(CASE_FILERS), Scope::Object, routes!(cases::get_case))
        .api(Roles(CASE_FILERS), Scope::Object, routes!(cases::act_on_case))
        .api(Roles(CASE_FILERS), Scope::Object, routes!(cases::rate_case))
        .api(Roles(CASE_HANDLERS), Scope::Object, routes!(cases::note_case))
        .api(Roles(CASE_HANDLERS), Scope::Object, routes!(cases::record_dispute))
        .api_upload(crate::PHOTO_BODY_LIMIT, Roles(CASE_FILERS), Scope::Object, routes!(cases::add_photos))
        .api(Roles(CASE_FILERS), Scope::Object, routes!(cases::get_photo))
        .api(Roles(ORG_EDITORS), Scope::Grants, routes!(integrations::list))
        .api(Roles(ORG_EDITORS), Scope::Named, routes!(integrations::issue))
        .api(Roles(ORG_EDITORS), Scope::Object, routes!(integrations::revoke))
        .api(Roles(WEBHOOK_MAKERS), Scope::Grants, routes!(integrations::list_webhooks))
        .api(Roles(WEBHOOK_MAKERS), Scope::Named, routes!(integrations::add_webhook))
        .api(Roles(WEBHOOK_MAKERS), Scope::Object, routes!(integrations::disable_webhook))
        .api(Roles(CASE_FILERS), Scope::Grants, routes!(cases::list_case_categories))
        .api(Roles(CATALOGUE_EDITORS), Scope::Named, routes!(cases::save_case_category))
        .api(Roles(REGISTRARS), Scope::Object, routes!(residents::change_category))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::category_history))
        .api(Roles(RESIDENT_READERS), Scope::Grants, routes!(residents::category_counts))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::unmask_resident))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(residents::resident_views))
        .api(Roles(COVERAGE_READERS), Scope::Grants, routes!(visits::walk_list))
        .api(Roles(POINT_KEEPERS), Scope::Named, routes!(points::transfer))
        .api(Roles(POINT_KEEPERS), Scope::Object, routes!(points::reverse))
        .api(Roles(POINT_KEEPERS), Scope::Grants, routes!(points::approvals))
        .api(Roles(POINT_KEEPERS), Scope::Object, routes!(points::approve))
        .api(Roles(POINT_KEEPERS), Scope::Object, routes!(points::reject))
        .api(Roles(POINT_READERS), Scope::Grants, routes!(points::community_accounts))
        .api(Roles(POINT_READERS), Scope::Object, routes!(points::statement))
        .api(Roles(POINT_READERS), Scope::Object, routes!(points::resident_account))
        .api(Roles(POINT_READERS), Scope::Grants, routes!(activities::list_activities))
        .api(Roles(ORGANISERS), Scope::Named, routes!(activities::create_activity))
        .api(Roles(POINT_READERS), Scope::Object, routes!(activities::get_activity))
        .api(Roles(ORGANISERS), Scope::Object, routes!(activities::sign_up_for_activity))
        .api(Roles(ORGANISERS), Scope::Object, routes!(activities::cancel_signup))
        .api(Roles(ORGANISERS), Scope::Object, routes!(activities::check_in))
        .api(Roles(ORGANISERS), Scope::Object, routes!(activities::check_out))
        .api(Roles(POINT_KEEPERS), Scope::Object, routes!(activities::confirm_activity))
        .api(Roles(POINT_READERS), Scope::Grants, routes!(shop::list_items))
        .api(Roles(SHOP_CLERKS), Scope::Named, routes!(shop::add_item))
        .api(Roles(SHOP_CLERKS), Scope::Object, routes!(shop::update_item))
        .api(Roles(SHOP_CLERKS), Scope::Object, routes!(shop::change_stock))
        .api_upload(crate::PHOTO_BODY_LIMIT, Roles(SHOP_CLERKS), Scope::Object, routes!(shop::set_item_photo))
        .api(Roles(ITEM_VIEWERS), Scope::Object, routes!(shop::item_photo))
        .api(Roles(SHOP_CLERKS), Scope::Named, routes!(shop::redeem))
        .api(Roles(SHOP_CLERKS), Scope::Grants, routes!(shop::waiting_redemptions))
        .api(Roles(SHOP_CLERKS), Scope::Object, routes!(shop::hand_over))
        .api(Roles(SHOP_CLERKS), Scope::Object, routes!(shop::cancel_redemption))
        .api(Roles(POINT_READERS), Scope::Grants, routes!(shop::shop_report))
        .api(Roles(REGISTRARS), Scope::Object, routes!(me::invite_resident))
        .api(Public, Scope::None, routes!(me::join))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::check_me))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::my_honour_consent))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::set_my_honour_consent))
        .api(Public, Scope::None, routes!(duty::honours))
        .api(Roles(POINT_READERS), Scope::Grants, routes!(duty::list_posts))
        .api(Roles(ORGANISERS), Scope::Named, routes!(duty::add_post))
        .api(Roles(ORGANISERS), Scope::Object, routes!(duty::add_shift))
        .api(Roles(ORGANISERS), Scope::Object, routes!(duty::check_code))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::my_points))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::my_activities))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::sign_me_up))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::cancel_my_signup))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::my_shop_items))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::my_redemptions))
        .api(Roles(RESIDENTS), Scope::Own, routes!(me::redeem_mine))
        .api(Roles(VISITORS), Scope::Named, routes!(visits::log_visit))
        .api(Roles(VISITORS), Scope::Named, routes!(visits::log_visits))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(visits::visit_photo))
        .api(Roles(RESIDENT_READERS), Scope::Object, routes!(visits::resident_plan))
        .api(Roles(REGISTRARS), Scope::Object, routes!(visits::set_resident_plan))
        .api(Roles(COVERAGE_READERS), Scope::Grants, routes!(visits::care_intervals))
        .api(Roles(CARE_PLANNERS), Scope::Named, routes!(visits::set_care_interval))
        .api(Roles(COVERAGE_READERS), Scope::Grants, routes!(visits::coverage))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, routes!(dashboard::dashboard))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, routes!(dashboard::monthly_report))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, routes!(dashboard::monthly_workbook))
        .api(Roles(STATION_READERS), Scope::Grants, routes!(stations::list_stations))
        .api(Roles(STATION_CLERKS), Scope::Named, routes!(stations::add_station))
        .api(Roles(STATION_READERS), Scope::Object, routes!(stations::get_station))
        .api(Roles(STATION_CLERKS), Scope::Object, routes!(stations::update_station))
        .api(Roles(STATION_CLERKS), Scope::Object, routes!(stations::add_service))
        .api(Roles(STATION_READERS), Scope::Object, routes!(stations::station_day))
        .api(Roles(STATION_CLERKS), Scope::Object, routes!(stations::record_service))
        .api(Roles(STATION_READERS), Scope::Object, routes!(stations::station_month))
        .api(Roles(STATION_CLERKS), Scope::Object, routes!(stations::update_service))
        .api(Roles(SLOT_READERS), Scope::Object, routes!(stations::service_slots))
        .api(Roles(BOOKERS), Scope::Object, routes!(stations::book))
        .api(Roles(BOOKERS), Scope::Object, routes!(stations::cancel_appointment))
        .api(Roles(STATION_CLERKS), Scope::Object, routes!(stations::miss_appointment))
        .api(Roles(PROJECT_READERS), Scope::Grants, routes!(projects::list_projects))
        .api(Roles(PROJECT_MANAGERS), Scope::Named, routes!(projects::create_project))
        .api(Roles(PROJECT_READERS), Scope::Object, routes!(projects::get_project))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::add_budget_line))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::apply_for_funding))
        .api(Roles(PROJECT_APPROVERS), Scope::Object, routes!(projects::decide_funding))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::record_expense))
        .api(Roles(PROJECT_APPROVERS), Scope::Object, routes!(projects::decide_expense))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::add_milestone))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::finish_milestone))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::move_project))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::count_votes))
        .api(Roles(RESIDENTS), Scope::Own, routes!(projects::my_projects))
        .api(Roles(RESIDENTS), Scope::Own, routes!(projects::vote))
        .api(Public, Scope::None, routes!(projects::spending_board))
        .api_upload(crate::PHOTO_BODY_LIMIT, Roles(PROJECT_MANAGERS), Scope::Object, routes!(projects::add_file))
        .api(Roles(PROJECT_READERS), Scope::Object, routes!(projects::get_file))
        .api(Public, Scope::None, routes!(projects::board_photo))
        .api(Roles(PLEDGE_READERS), Scope::Grants, routes!(pledges::pledge_year))
        .api(Roles(PLEDGE_UPDATERS), Scope::Named, routes!(pledges::propose))
        .api(Roles(PLEDGE_MANAGERS), Scope::Named, routes!(pledges::open_year))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, routes!(pledges::advance_year))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, routes!(pledges::shortlist))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, routes!(pledges::set_owner))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, routes!(pledges::report_progress))
        .api(Roles(RESIDENTS), Scope::Own, routes!(pledges::my_pledges))
        .api(Roles(RESIDENTS), Scope::Own, routes!(pledges::propose_mine))
        .api(Roles(RESIDENTS), Scope::Own, routes!(pledges::vote_mine))
        .api(Roles(RESIDENTS), Scope::Own, routes!(pledges::judge_mine))
        .api(Public, Scope::None, routes!(pledges::pledges_board))
        .api(Public, Scope::None, routes!(pledges::board_pledge_photo))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, routes!(pledges::add_update_photos))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, routes!(pledges::add_pledge_milestone))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, routes!(pledges::finish_pledge_milestone))
        .api(Roles(NOTICE_READERS), Scope::Grants, routes!(notices::list_notices))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Named, routes!(notices::post_notice))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Object, routes!(notices::withdraw_notice))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Object, routes!(notices::pin_notice))
        .api(Roles(RESIDENTS), Scope::Own, routes!(notices::my_notices))
        .api(Roles(RESIDENTS), Scope::Own, routes!(notices::read_notice))
        .api(Roles(RESIDENTS), Scope::Own, routes!(stations::my_stations))
        .api(Roles(RESIDENTS), Scope::Own, routes!(stations::my_appointments))
        .api(Roles(CASE_HANDLERS), Scope::Object, routes!(visits::finish_revisit))
}

/// 200 while the database answers.
async fn healthz(axum::extract::State(st): axum::extract::State<crate::AppState>) -> Result<&'static str, ApiError> {
    st.svc.db.ping().await.map_err(|e| ApiError::from_service(&ServiceError::from(e), Lang::Zh))?;
    Ok("ok")
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// What the OpenAPI document says beyond the paths the route table adds.
#[derive(OpenApi)]
#[openapi(
    info(title = "yijia (驿家) API", description = "Community grid governance and resident services. \
        Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`; lists take `?page=&per_page=`; \
        times are RFC 3339 in Asia/Shanghai."),
    // schemas that only query parameters use are not collected by themselves
    components(schemas(yijia_service::registry::ResidentSort)),
    modifiers(&Bearer),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
