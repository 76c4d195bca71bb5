//! The JSON API under `/api/v1`. Each route is declared once, below: its
//! policy and scope here, its method, path and documentation in the
//! handler's `#[utoipa::path]`, from which `/api/openapi.json` is built.

mod account;
mod activities;
mod audit;
mod auth;
mod broadcasts;
mod cases;
mod dashboard;
mod duty;
pub(crate) mod exports;
mod integrations;
mod me;
mod moves;
mod notices;
mod notify;
mod org;
mod pledges;
mod points;
mod prelude;
mod projects;
mod proxies;
mod residents;
mod rights;
mod shop;
mod stations;
mod users;
mod visits;

use serde::Deserialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
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

/// `documented!(pledges::shortlist)`: the handler with what its
/// `#[utoipa::path]` says (the type that attribute writes beside it).
macro_rules! documented {
    ($m:ident :: $h:ident) => {
        pastey::paste! { crate::policy::Documented::of::<$m::[<__path_ $h>], _, _>($m::$h) }
    };
}

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/healthz", Public, Scope::None, healthz)
        .api(Public, Scope::None, documented!(auth::login))
        .api(Public, Scope::None, documented!(auth::sms_code))
        .api(Public, Scope::None, documented!(auth::sms_login))
        .api(LoggedIn, Scope::Own, documented!(auth::logout))
        .api(LoggedIn, Scope::Own, documented!(auth::me))
        .api(LoggedIn, Scope::Own, documented!(auth::change_password))
        .api(LoggedIn, Scope::Own, documented!(account::status))
        .api(LoggedIn, Scope::Own, documented!(account::setup))
        .api(LoggedIn, Scope::Own, documented!(account::confirm))
        .api(LoggedIn, Scope::Own, documented!(account::recovery_codes))
        .api(LoggedIn, Scope::Own, documented!(account::disable))
        .api(LoggedIn, Scope::Own, documented!(account::my_sessions))
        .api(LoggedIn, Scope::Own, documented!(account::end_my_session))
        .api(Roles(ORG_VIEWERS), Scope::Grants, documented!(org::org_tree))
        .api(Roles(ORG_EDITORS), Scope::Named, documented!(org::create_org_node))
        .api(Roles(ORG_VIEWERS), Scope::Object, documented!(org::get_org_node))
        .api(Roles(ORG_EDITORS), Scope::Object, documented!(org::update_org_node))
        .api(Roles(ORG_EDITORS), Scope::Object, documented!(org::delete_org_node))
        .api(Roles(USER_MANAGERS), Scope::Grants, documented!(users::list_users))
        .api(Roles(USER_MANAGERS), Scope::Named, documented!(users::create_user))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(users::get_user))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(users::disable_user))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(users::enable_user))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(users::set_work_phone))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(account::reset))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(account::user_sessions))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(account::end_user_sessions))
        .api(Roles(USER_MANAGERS), Scope::Object, documented!(account::end_user_session))
        .api(Roles(AUDIT_READERS), Scope::Grants, documented!(audit::list_audit))
        .api(Roles(AUDIT_READERS), Scope::Grants, documented!(audit::export_audit))
        .api(Roles(RESIDENT_READERS), Scope::Grants, documented!(residents::list_residents))
        .api(Roles(REGISTRARS), Scope::Named, documented!(residents::add_resident))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::get_resident))
        .api(Roles(REGISTRARS), Scope::Object, documented!(residents::update_resident))
        .api(Roles(FULL_EXPORTERS), Scope::Named, documented!(exports::request_export))
        .api(Roles(FULL_EXPORTERS), Scope::Grants, documented!(exports::list_exports))
        .api(Roles(EXPORT_APPROVERS), Scope::Object, documented!(exports::decide_export))
        .api(Roles(FULL_EXPORTERS), Scope::Object, documented!(exports::download_export))
        .api(Roles(RESIDENT_READERS), Scope::Grants, documented!(residents::list_categories))
        .api(Roles(CATEGORY_MAKERS), Scope::Named, documented!(residents::add_category))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::get_household))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::get_building))
        .api(Roles(CASE_FILERS), Scope::Grants, documented!(cases::list_cases))
        .api(Roles(CASE_FILERS), Scope::Named, documented!(cases::create_case))
        .api(Roles(CASE_FILERS), Scope::Grants, documented!(cases::similar_cases))
        .api(Roles(CASE_FILERS), Scope::Object, documented!(cases::get_case))
        .api(Roles(CASE_FILERS), Scope::Object, documented!(cases::act_on_case))
        .api(Roles(CASE_FILERS), Scope::Object, documented!(cases::rate_case))
        .api(Roles(CASE_HANDLERS), Scope::Object, documented!(cases::note_case))
        .api(Roles(CASE_HANDLERS), Scope::Object, documented!(cases::record_dispute))
        .api(Roles(CASE_FILERS), Scope::Object, documented!(cases::add_photos).with_body_limit(crate::PHOTO_BODY_LIMIT))
        .api(Roles(CASE_FILERS), Scope::Object, documented!(cases::get_photo))
        .api(Roles(ORG_EDITORS), Scope::Grants, documented!(integrations::list))
        .api(Roles(ORG_EDITORS), Scope::Named, documented!(integrations::issue))
        .api(Roles(ORG_EDITORS), Scope::Object, documented!(integrations::revoke))
        .api(Roles(WEBHOOK_MAKERS), Scope::Grants, documented!(integrations::list_webhooks))
        .api(Roles(WEBHOOK_MAKERS), Scope::Named, documented!(integrations::add_webhook))
        .api(Roles(WEBHOOK_MAKERS), Scope::Object, documented!(integrations::disable_webhook))
        .api(Roles(CASE_FILERS), Scope::Grants, documented!(cases::list_case_categories))
        .api(Roles(CATALOGUE_EDITORS), Scope::Named, documented!(cases::save_case_category))
        .api(Roles(REGISTRARS), Scope::Object, documented!(residents::change_category))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::category_history))
        .api(Roles(RESIDENT_READERS), Scope::Grants, documented!(residents::category_counts))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::unmask_resident))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(residents::resident_views))
        .api(Roles(REGISTRARS), Scope::Object, documented!(residents::change_life))
        .api(Roles(LIFE_READERS), Scope::Object, documented!(residents::life_events))
        .api(Roles(UNMASKERS), Scope::Object, documented!(residents::resident_data_copy))
        .api(Roles(REGISTRARS), Scope::Object, documented!(moves::move_resident))
        .api(Roles(REGISTRARS), Scope::Object, documented!(moves::request_transfer))
        .api(Roles(REGISTRARS), Scope::Grants, documented!(moves::transfers))
        .api(Roles(TRANSFER_DECIDERS), Scope::Object, documented!(moves::accept_transfer))
        .api(Roles(TRANSFER_DECIDERS), Scope::Object, documented!(moves::refuse_transfer))
        .api(Roles(REGISTRARS), Scope::Object, documented!(rights::ask_for_resident))
        .api(Roles(RECORD_REQUEST_READERS), Scope::Grants, documented!(rights::record_requests))
        .api(Roles(RECORD_REQUEST_DECIDERS), Scope::Object, documented!(rights::answer_record_request))
        .api(Roles(LIFE_READERS), Scope::Object, documented!(rights::retention))
        .api(Roles(RETENTION_SETTERS), Scope::Object, documented!(rights::set_retention))
        .api(Roles(COVERAGE_READERS), Scope::Grants, documented!(visits::walk_list))
        .api(Roles(POINT_KEEPERS), Scope::Named, documented!(points::transfer))
        .api(Roles(POINT_KEEPERS), Scope::Object, documented!(points::reverse))
        .api(Roles(POINT_KEEPERS), Scope::Grants, documented!(points::approvals))
        .api(Roles(POINT_KEEPERS), Scope::Object, documented!(points::approve))
        .api(Roles(POINT_KEEPERS), Scope::Object, documented!(points::reject))
        .api(Roles(POINT_READERS), Scope::Grants, documented!(points::community_accounts))
        .api(Roles(POINT_READERS), Scope::Object, documented!(points::statement))
        .api(Roles(POINT_READERS), Scope::Object, documented!(points::resident_account))
        .api(Roles(POINT_READERS), Scope::Grants, documented!(activities::list_activities))
        .api(Roles(ORGANISERS), Scope::Named, documented!(activities::create_activity))
        .api(Roles(POINT_READERS), Scope::Object, documented!(activities::get_activity))
        .api(Roles(ORGANISERS), Scope::Object, documented!(activities::sign_up_for_activity))
        .api(Roles(ORGANISERS), Scope::Object, documented!(activities::cancel_signup))
        .api(Roles(ORGANISERS), Scope::Object, documented!(activities::check_in))
        .api(Roles(ORGANISERS), Scope::Object, documented!(activities::check_out))
        .api(Roles(POINT_KEEPERS), Scope::Object, documented!(activities::confirm_activity))
        .api(Roles(POINT_READERS), Scope::Grants, documented!(shop::list_items))
        .api(Roles(SHOP_CLERKS), Scope::Named, documented!(shop::add_item))
        .api(Roles(SHOP_CLERKS), Scope::Object, documented!(shop::update_item))
        .api(Roles(SHOP_CLERKS), Scope::Object, documented!(shop::change_stock))
        .api(
            Roles(SHOP_CLERKS),
            Scope::Object,
            documented!(shop::set_item_photo).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(Roles(ITEM_VIEWERS), Scope::Object, documented!(shop::item_photo))
        .api(Roles(SHOP_CLERKS), Scope::Named, documented!(shop::redeem))
        .api(Roles(SHOP_CLERKS), Scope::Grants, documented!(shop::waiting_redemptions))
        .api(Roles(SHOP_CLERKS), Scope::Object, documented!(shop::hand_over))
        .api(Roles(SHOP_CLERKS), Scope::Object, documented!(shop::cancel_redemption))
        .api(Roles(POINT_READERS), Scope::Grants, documented!(shop::shop_report))
        .api(Roles(REGISTRARS), Scope::Object, documented!(me::invite_resident))
        .api(Public, Scope::None, documented!(me::join))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(proxies::list_proxies))
        .api(
            Roles(REGISTRARS),
            Scope::Object,
            documented!(proxies::link_proxy).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(Roles(PROXY_ENDERS), Scope::Object, documented!(proxies::end_proxy))
        .api(Roles(REGISTRARS), Scope::Object, documented!(proxies::renew_proxy))
        .api(Roles(RESIDENTS), Scope::Own, documented!(proxies::my_proxies))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::check_me))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_honour_consent))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::set_my_honour_consent))
        .api(Public, Scope::None, documented!(duty::honours))
        .api(Roles(POINT_READERS), Scope::Grants, documented!(duty::list_posts))
        .api(Roles(ORGANISERS), Scope::Named, documented!(duty::add_post))
        .api(Roles(ORGANISERS), Scope::Object, documented!(duty::add_shift))
        .api(Roles(ORGANISERS), Scope::Object, documented!(duty::check_code))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_points))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_grid_workers))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_record_views))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_data_copy))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_data_copy_workbook))
        .api(Roles(RESIDENTS), Scope::Own, documented!(rights::ask_about_my_record))
        .api(Roles(RESIDENTS), Scope::Own, documented!(rights::my_record_requests))
        .api(Roles(APPROVERS), Scope::Grants, documented!(me::my_approvals))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_activities))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::sign_me_up))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::cancel_my_signup))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_shop_items))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::my_redemptions))
        .api(Roles(RESIDENTS), Scope::Own, documented!(me::redeem_mine))
        .api(Roles(VISITORS), Scope::Named, documented!(visits::log_visit))
        .api(Roles(VISITORS), Scope::Named, documented!(visits::log_visits))
        .api(Roles(VISITORS), Scope::Object, documented!(visits::undo_visit))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(visits::visit_photo))
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(visits::resident_plan))
        .api(Roles(REGISTRARS), Scope::Object, documented!(visits::set_resident_plan))
        .api(Roles(COVERAGE_READERS), Scope::Grants, documented!(visits::care_intervals))
        .api(Roles(CARE_PLANNERS), Scope::Named, documented!(visits::set_care_interval))
        .api(Roles(COVERAGE_READERS), Scope::Grants, documented!(visits::coverage))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, documented!(dashboard::dashboard))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, documented!(dashboard::monthly_report))
        .api(Roles(DASHBOARD_READERS), Scope::Grants, documented!(dashboard::monthly_workbook))
        .api(Roles(STATION_READERS), Scope::Grants, documented!(stations::list_stations))
        .api(Roles(STATION_CLERKS), Scope::Named, documented!(stations::add_station))
        .api(Roles(STATION_READERS), Scope::Object, documented!(stations::get_station))
        .api(Roles(STATION_CLERKS), Scope::Object, documented!(stations::update_station))
        .api(Roles(STATION_CLERKS), Scope::Object, documented!(stations::add_service))
        .api(Roles(STATION_READERS), Scope::Object, documented!(stations::station_day))
        .api(Roles(STATION_CLERKS), Scope::Object, documented!(stations::record_service))
        .api(Roles(STATION_READERS), Scope::Object, documented!(stations::station_month))
        .api(Roles(STATION_CLERKS), Scope::Object, documented!(stations::update_service))
        .api(Roles(SLOT_READERS), Scope::Object, documented!(stations::service_slots))
        .api(Roles(BOOKERS), Scope::Object, documented!(stations::book))
        .api(Roles(BOOKERS), Scope::Object, documented!(stations::cancel_appointment))
        .api(Roles(STATION_CLERKS), Scope::Object, documented!(stations::miss_appointment))
        .api(Roles(PROJECT_READERS), Scope::Grants, documented!(projects::list_projects))
        .api(Roles(PROJECT_MANAGERS), Scope::Named, documented!(projects::create_project))
        .api(Roles(PROJECT_READERS), Scope::Object, documented!(projects::get_project))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::add_budget_line))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::apply_for_funding))
        .api(Roles(PROJECT_APPROVERS), Scope::Object, documented!(projects::decide_funding))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::record_expense))
        .api(Roles(PROJECT_APPROVERS), Scope::Object, documented!(projects::decide_expense))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::add_milestone))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::finish_milestone))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::move_project))
        .api(Roles(PROJECT_MANAGERS), Scope::Object, documented!(projects::count_votes))
        .api(Roles(RESIDENTS), Scope::Own, documented!(projects::my_projects))
        .api(Roles(RESIDENTS), Scope::Own, documented!(projects::vote))
        .api(Public, Scope::None, documented!(projects::spending_board))
        .api(
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            documented!(projects::add_file).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(Roles(PROJECT_READERS), Scope::Object, documented!(projects::get_file))
        .api(Roles(BALLOT_RECORDERS), Scope::Object, documented!(projects::project_ballot))
        .api(
            Roles(BALLOT_RECORDERS),
            Scope::Object,
            documented!(projects::record_paper_vote).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(Roles(RESIDENT_READERS), Scope::Object, documented!(projects::vote_slip))
        .api(Public, Scope::None, documented!(projects::board_photo))
        .api(Roles(PLEDGE_READERS), Scope::Grants, documented!(pledges::pledge_year))
        .api(Roles(PLEDGE_UPDATERS), Scope::Named, documented!(pledges::propose))
        .api(Roles(PLEDGE_MANAGERS), Scope::Named, documented!(pledges::open_year))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, documented!(pledges::advance_year))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, documented!(pledges::shortlist))
        .api(Roles(PLEDGE_MANAGERS), Scope::Object, documented!(pledges::set_owner))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, documented!(pledges::report_progress))
        .api(Roles(RESIDENTS), Scope::Own, documented!(pledges::my_pledges))
        .api(Roles(RESIDENTS), Scope::Own, documented!(pledges::propose_mine))
        .api(Roles(RESIDENTS), Scope::Own, documented!(pledges::vote_mine))
        .api(Roles(BALLOT_RECORDERS), Scope::Object, documented!(pledges::pledge_ballot))
        .api(
            Roles(BALLOT_RECORDERS),
            Scope::Object,
            documented!(pledges::record_paper_pledge_vote).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(
            Roles(BALLOT_RECORDERS),
            Scope::Object,
            documented!(pledges::record_paper_pledge_verdict).with_body_limit(crate::PHOTO_BODY_LIMIT),
        )
        .api(Roles(RESIDENTS), Scope::Own, documented!(pledges::judge_mine))
        .api(Public, Scope::None, documented!(pledges::pledges_board))
        .api(Public, Scope::None, documented!(pledges::board_pledge_photo))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, documented!(pledges::add_update_photos))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, documented!(pledges::add_pledge_milestone))
        .api(Roles(PLEDGE_UPDATERS), Scope::Object, documented!(pledges::finish_pledge_milestone))
        .api(Roles(NOTICE_READERS), Scope::Grants, documented!(notices::list_notices))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Named, documented!(notices::post_notice))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Object, documented!(notices::withdraw_notice))
        .api(Roles(NOTICE_PUBLISHERS), Scope::Object, documented!(notices::pin_notice))
        .api(Roles(RESIDENTS), Scope::Own, documented!(notices::my_notices))
        .api(Roles(RESIDENTS), Scope::Own, documented!(notices::read_notice))
        .api(Roles(RESIDENTS), Scope::Own, documented!(stations::my_stations))
        .api(Roles(RESIDENTS), Scope::Own, documented!(stations::my_appointments))
        .api(Roles(CASE_HANDLERS), Scope::Object, documented!(visits::finish_revisit))
        .api(Roles(BROADCAST_READERS), Scope::Grants, documented!(broadcasts::list_broadcasts))
        .api(Roles(BROADCASTERS), Scope::Named, documented!(broadcasts::send_broadcast))
        .api(LoggedIn, Scope::Own, documented!(broadcasts::current_broadcasts))
        .api(LoggedIn, Scope::Object, documented!(broadcasts::get_broadcast))
        .api(Roles(BROADCASTERS), Scope::Object, documented!(broadcasts::confirm_broadcast))
        .api(Roles(BROADCASTERS), Scope::Object, documented!(broadcasts::end_broadcast))
        .api(Roles(BROADCAST_READERS), Scope::Object, documented!(broadcasts::rollcall_board))
        .api(Roles(BROADCAST_READERS), Scope::Object, documented!(broadcasts::rollcall_people))
        .api(Roles(BROADCAST_READERS), Scope::Object, documented!(broadcasts::unreachable_people))
        .api(Roles(BROADCAST_READERS), Scope::Object, documented!(broadcasts::answer_rollcall))
        .api(Roles(RESIDENTS), Scope::Object, documented!(broadcasts::answer_safe))
        .api(LoggedIn, Scope::Own, documented!(notify::my_messages))
        .api(LoggedIn, Scope::Own, documented!(notify::unread_messages))
        .api(LoggedIn, Scope::Own, documented!(notify::read_messages))
        .api(LoggedIn, Scope::Own, documented!(notify::my_preferences))
        .api(LoggedIn, Scope::Own, documented!(notify::set_my_preferences))
        .api(Roles(DELIVERY_READERS), Scope::Grants, documented!(notify::deliveries))
        .api(Roles(DELIVERY_READERS), Scope::Object, documented!(notify::requeue_delivery))
        .api(Public, Scope::None, documented!(notify::sms_receipts))
        .api(Public, Scope::None, documented!(notify::sms_replies))
        .api(Roles(GROUP_KEEPERS), Scope::Grants, documented!(notify::staff_groups))
        .api(Roles(GROUP_KEEPERS), Scope::Named, documented!(notify::add_staff_group))
        .api(Roles(GROUP_KEEPERS), Scope::Object, documented!(notify::remove_staff_group))
}

/// 200 while the database answers.
async fn healthz(axum::extract::State(st): axum::extract::State<crate::AppState>) -> Result<&'static str, ApiError> {
    st.svc.db.ping().await.map_err(|e| ApiError::from_service(&ServiceError::from(e), Lang::ZH))?;
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
