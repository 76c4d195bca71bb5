//! The JSON API under `/api/v1`, documented by the OpenAPI document at
//! `/api/openapi.json`, which is generated from the annotations here.

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

use axum::Json;
use axum::http::Method;
use axum::routing::{delete, get, patch, post, put};
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

pub fn routes(r: Routes) -> Routes {
    use Method as M;
    use Policy::*;
    r.add(M::GET, "/healthz", Public, Scope::None, get(healthz))
        .add(M::GET, "/api/openapi.json", Public, Scope::None, get(openapi))
        .add(M::POST, "/api/v1/auth/login", Public, Scope::None, post(auth::login))
        .add(M::POST, "/api/v1/auth/logout", LoggedIn, Scope::Own, post(auth::logout))
        .add(M::GET, "/api/v1/me", LoggedIn, Scope::Own, get(auth::me))
        .add(M::POST, "/api/v1/me/password", LoggedIn, Scope::Own, post(auth::change_password))
        .add(M::GET, "/api/v1/me/two-factor", LoggedIn, Scope::Own, get(account::status))
        .add(M::POST, "/api/v1/me/two-factor/setup", LoggedIn, Scope::Own, post(account::setup))
        .add(M::POST, "/api/v1/me/two-factor/confirm", LoggedIn, Scope::Own, post(account::confirm))
        .add(M::POST, "/api/v1/me/two-factor/recovery-codes", LoggedIn, Scope::Own, post(account::recovery_codes))
        .add(M::POST, "/api/v1/me/two-factor/disable", LoggedIn, Scope::Own, post(account::disable))
        .add(M::GET, "/api/v1/me/sessions", LoggedIn, Scope::Own, get(account::my_sessions))
        .add(M::DELETE, "/api/v1/me/sessions/{id}", LoggedIn, Scope::Own, delete(account::end_my_session))
        .add(M::GET, "/api/v1/org", Roles(ORG_VIEWERS), Scope::Grants, get(org::org_tree))
        .add(M::POST, "/api/v1/org", Roles(ORG_EDITORS), Scope::Object, post(org::create_org_node))
        .add(M::GET, "/api/v1/org/{code}", Roles(ORG_VIEWERS), Scope::Object, get(org::get_org_node))
        .add(M::PATCH, "/api/v1/org/{code}", Roles(ORG_EDITORS), Scope::Object, patch(org::update_org_node))
        .add(M::DELETE, "/api/v1/org/{code}", Roles(ORG_EDITORS), Scope::Object, delete(org::delete_org_node))
        .add(M::GET, "/api/v1/users", Roles(USER_MANAGERS), Scope::Grants, get(users::list_users))
        .add(M::POST, "/api/v1/users", Roles(USER_MANAGERS), Scope::Object, post(users::create_user))
        .add(M::GET, "/api/v1/users/{username}", Roles(USER_MANAGERS), Scope::Object, get(users::get_user))
        .add(
            M::POST,
            "/api/v1/users/{username}/disable",
            Roles(USER_MANAGERS),
            Scope::Object,
            post(users::disable_user),
        )
        .add(M::POST, "/api/v1/users/{username}/enable", Roles(USER_MANAGERS), Scope::Object, post(users::enable_user))
        .add(
            M::POST,
            "/api/v1/users/{username}/two-factor/reset",
            Roles(USER_MANAGERS),
            Scope::Object,
            post(account::reset),
        )
        .add(
            M::GET,
            "/api/v1/users/{username}/sessions",
            Roles(USER_MANAGERS),
            Scope::Object,
            get(account::user_sessions),
        )
        .add(
            M::DELETE,
            "/api/v1/users/{username}/sessions",
            Roles(USER_MANAGERS),
            Scope::Object,
            delete(account::end_user_sessions),
        )
        .add(
            M::DELETE,
            "/api/v1/users/{username}/sessions/{id}",
            Roles(USER_MANAGERS),
            Scope::Object,
            delete(account::end_user_session),
        )
        .add(M::GET, "/api/v1/audit", Roles(AUDIT_READERS), Scope::Grants, get(audit::list_audit))
        .add(M::GET, "/api/v1/audit/export", Roles(AUDIT_READERS), Scope::Grants, get(audit::export_audit))
        .add(M::GET, "/api/v1/residents", Roles(RESIDENT_READERS), Scope::Grants, get(residents::list_residents))
        .add(M::POST, "/api/v1/residents", Roles(REGISTRARS), Scope::Object, post(residents::add_resident))
        .add(M::GET, "/api/v1/residents/{id}", Roles(RESIDENT_READERS), Scope::Object, get(residents::get_resident))
        .add(M::PUT, "/api/v1/residents/{id}", Roles(REGISTRARS), Scope::Object, put(residents::update_resident))
        .add(M::POST, "/api/v1/exports", Roles(FULL_EXPORTERS), Scope::Object, post(exports::request_export))
        .add(M::GET, "/api/v1/exports", Roles(FULL_EXPORTERS), Scope::Grants, get(exports::list_exports))
        .add(
            M::POST,
            "/api/v1/exports/{id}/decision",
            Roles(EXPORT_APPROVERS),
            Scope::Object,
            post(exports::decide_export),
        )
        .add(
            M::GET,
            "/api/v1/exports/{id}/download",
            Roles(FULL_EXPORTERS),
            Scope::Object,
            get(exports::download_export),
        )
        .add(M::GET, "/api/v1/categories", Roles(RESIDENT_READERS), Scope::Grants, get(residents::list_categories))
        .add(M::POST, "/api/v1/categories", Roles(CATEGORY_MAKERS), Scope::Object, post(residents::add_category))
        .add(M::GET, "/api/v1/households/{id}", Roles(RESIDENT_READERS), Scope::Object, get(residents::get_household))
        .add(M::GET, "/api/v1/buildings/{id}", Roles(RESIDENT_READERS), Scope::Object, get(residents::get_building))
        .add(M::GET, "/api/v1/cases", Roles(CASE_FILERS), Scope::Grants, get(cases::list_cases))
        .add(M::POST, "/api/v1/cases", Roles(CASE_FILERS), Scope::Object, post(cases::create_case))
        .add(M::GET, "/api/v1/cases/similar", Roles(CASE_FILERS), Scope::Grants, get(cases::similar_cases))
        .add(M::GET, "/api/v1/cases/{id}", Roles(CASE_FILERS), Scope::Object, get(cases::get_case))
        .add(M::POST, "/api/v1/cases/{id}/actions", Roles(CASE_FILERS), Scope::Object, post(cases::act_on_case))
        .add(M::POST, "/api/v1/cases/{id}/rating", Roles(CASE_FILERS), Scope::Object, post(cases::rate_case))
        .add(M::POST, "/api/v1/cases/{id}/notes", Roles(CASE_HANDLERS), Scope::Object, post(cases::note_case))
        .add(M::PUT, "/api/v1/cases/{id}/dispute", Roles(CASE_HANDLERS), Scope::Object, put(cases::record_dispute))
        .add(
            M::POST,
            "/api/v1/cases/{id}/photos",
            Roles(CASE_FILERS),
            Scope::Object,
            post(cases::add_photos).layer(axum::extract::DefaultBodyLimit::max(crate::PHOTO_BODY_LIMIT)),
        )
        .add(M::GET, "/api/v1/cases/{id}/photos/{photo}", Roles(CASE_FILERS), Scope::Object, get(cases::get_photo))
        .add(M::GET, "/api/v1/api-keys", Roles(ORG_EDITORS), Scope::Grants, get(integrations::list))
        .add(M::POST, "/api/v1/api-keys", Roles(ORG_EDITORS), Scope::Object, post(integrations::issue))
        .add(M::POST, "/api/v1/api-keys/{id}/revoke", Roles(ORG_EDITORS), Scope::Object, post(integrations::revoke))
        .add(M::GET, "/api/v1/webhooks", Roles(WEBHOOK_MAKERS), Scope::Grants, get(integrations::list_webhooks))
        .add(M::POST, "/api/v1/webhooks", Roles(WEBHOOK_MAKERS), Scope::Object, post(integrations::add_webhook))
        .add(
            M::POST,
            "/api/v1/webhooks/{id}/disable",
            Roles(WEBHOOK_MAKERS),
            Scope::Object,
            post(integrations::disable_webhook),
        )
        .add(M::GET, "/api/v1/case-categories", Roles(CASE_FILERS), Scope::Grants, get(cases::list_case_categories))
        .add(
            M::POST,
            "/api/v1/case-categories",
            Roles(CATALOGUE_EDITORS),
            Scope::Object,
            post(cases::save_case_category),
        )
        .add(
            M::POST,
            "/api/v1/residents/{id}/categories",
            Roles(REGISTRARS),
            Scope::Object,
            post(residents::change_category),
        )
        .add(
            M::GET,
            "/api/v1/residents/{id}/history",
            Roles(RESIDENT_READERS),
            Scope::Object,
            get(residents::category_history),
        )
        .add(
            M::GET,
            "/api/v1/residents/categories",
            Roles(RESIDENT_READERS),
            Scope::Grants,
            get(residents::category_counts),
        )
        .add(
            M::POST,
            "/api/v1/residents/{id}/unmask",
            Roles(RESIDENT_READERS),
            Scope::Object,
            post(residents::unmask_resident),
        )
        .add(
            M::GET,
            "/api/v1/residents/{id}/views",
            Roles(RESIDENT_READERS),
            Scope::Object,
            get(residents::resident_views),
        )
        .add(M::GET, "/api/v1/walk-list", Roles(COVERAGE_READERS), Scope::Grants, get(visits::walk_list))
        .add(M::POST, "/api/v1/points/transfers", Roles(POINT_KEEPERS), Scope::Object, post(points::transfer))
        .add(
            M::POST,
            "/api/v1/points/transfers/{id}/reversal",
            Roles(POINT_KEEPERS),
            Scope::Object,
            post(points::reverse),
        )
        .add(M::GET, "/api/v1/points/approvals", Roles(POINT_KEEPERS), Scope::Grants, get(points::approvals))
        .add(
            M::POST,
            "/api/v1/points/approvals/{client_id}/approve",
            Roles(POINT_KEEPERS),
            Scope::Object,
            post(points::approve),
        )
        .add(
            M::POST,
            "/api/v1/points/approvals/{client_id}/reject",
            Roles(POINT_KEEPERS),
            Scope::Object,
            post(points::reject),
        )
        .add(M::GET, "/api/v1/points/accounts", Roles(POINT_READERS), Scope::Grants, get(points::community_accounts))
        .add(
            M::GET,
            "/api/v1/points/accounts/{id}/statement",
            Roles(POINT_READERS),
            Scope::Object,
            get(points::statement),
        )
        .add(
            M::GET,
            "/api/v1/residents/{id}/points",
            Roles(POINT_READERS),
            Scope::Object,
            get(points::resident_account),
        )
        .add(M::GET, "/api/v1/activities", Roles(POINT_READERS), Scope::Grants, get(activities::list_activities))
        .add(M::POST, "/api/v1/activities", Roles(ORGANISERS), Scope::Object, post(activities::create_activity))
        .add(M::GET, "/api/v1/activities/{id}", Roles(POINT_READERS), Scope::Object, get(activities::get_activity))
        .add(
            M::POST,
            "/api/v1/activities/{id}/signups",
            Roles(ORGANISERS),
            Scope::Object,
            post(activities::sign_up_for_activity),
        )
        .add(
            M::POST,
            "/api/v1/activities/{id}/signups/{resident}/cancel",
            Roles(ORGANISERS),
            Scope::Object,
            post(activities::cancel_signup),
        )
        .add(
            M::POST,
            "/api/v1/activities/{id}/signups/{resident}/check-in",
            Roles(ORGANISERS),
            Scope::Object,
            post(activities::check_in),
        )
        .add(
            M::POST,
            "/api/v1/activities/{id}/signups/{resident}/check-out",
            Roles(ORGANISERS),
            Scope::Object,
            post(activities::check_out),
        )
        .add(
            M::POST,
            "/api/v1/activities/{id}/confirm",
            Roles(POINT_KEEPERS),
            Scope::Object,
            post(activities::confirm_activity),
        )
        .add(M::GET, "/api/v1/shop/items", Roles(POINT_READERS), Scope::Grants, get(shop::list_items))
        .add(M::POST, "/api/v1/shop/items", Roles(SHOP_CLERKS), Scope::Object, post(shop::add_item))
        .add(M::PUT, "/api/v1/shop/items/{id}", Roles(SHOP_CLERKS), Scope::Object, put(shop::update_item))
        .add(M::POST, "/api/v1/shop/items/{id}/stock", Roles(SHOP_CLERKS), Scope::Object, post(shop::change_stock))
        .add(
            M::POST,
            "/api/v1/shop/items/{id}/photo",
            Roles(SHOP_CLERKS),
            Scope::Object,
            post(shop::set_item_photo).layer(axum::extract::DefaultBodyLimit::max(crate::PHOTO_BODY_LIMIT)),
        )
        .add(M::GET, "/api/v1/shop/items/{id}/photo", Roles(ITEM_VIEWERS), Scope::Object, get(shop::item_photo))
        .add(M::POST, "/api/v1/shop/redemptions", Roles(SHOP_CLERKS), Scope::Object, post(shop::redeem))
        .add(M::GET, "/api/v1/shop/redemptions", Roles(SHOP_CLERKS), Scope::Grants, get(shop::waiting_redemptions))
        .add(
            M::POST,
            "/api/v1/shop/redemptions/{id}/handover",
            Roles(SHOP_CLERKS),
            Scope::Object,
            post(shop::hand_over),
        )
        .add(
            M::POST,
            "/api/v1/shop/redemptions/{id}/cancel",
            Roles(SHOP_CLERKS),
            Scope::Object,
            post(shop::cancel_redemption),
        )
        .add(M::GET, "/api/v1/shop/report", Roles(POINT_READERS), Scope::Grants, get(shop::shop_report))
        .add(M::POST, "/api/v1/residents/{id}/invitation", Roles(REGISTRARS), Scope::Object, post(me::invite_resident))
        .add(M::POST, "/api/v1/join", Public, Scope::None, post(me::join))
        .add(M::POST, "/api/v1/me/activities/{id}/check", Roles(RESIDENTS), Scope::Own, post(me::check_me))
        .add(M::GET, "/api/v1/me/honours", Roles(RESIDENTS), Scope::Own, get(me::my_honour_consent))
        .add(M::PUT, "/api/v1/me/honours", Roles(RESIDENTS), Scope::Own, put(me::set_my_honour_consent))
        .add(M::GET, "/api/v1/honours", Public, Scope::None, get(duty::honours))
        .add(M::GET, "/api/v1/duty/posts", Roles(POINT_READERS), Scope::Grants, get(duty::list_posts))
        .add(M::POST, "/api/v1/duty/posts", Roles(ORGANISERS), Scope::Object, post(duty::add_post))
        .add(M::POST, "/api/v1/duty/posts/{id}/shifts", Roles(ORGANISERS), Scope::Object, post(duty::add_shift))
        .add(M::GET, "/api/v1/activities/{id}/check-code", Roles(ORGANISERS), Scope::Object, get(duty::check_code))
        .add(M::GET, "/api/v1/me/points", Roles(RESIDENTS), Scope::Own, get(me::my_points))
        .add(M::GET, "/api/v1/me/activities", Roles(RESIDENTS), Scope::Own, get(me::my_activities))
        .add(M::POST, "/api/v1/me/activities/{id}/signup", Roles(RESIDENTS), Scope::Own, post(me::sign_me_up))
        .add(M::POST, "/api/v1/me/activities/{id}/cancel", Roles(RESIDENTS), Scope::Own, post(me::cancel_my_signup))
        .add(M::GET, "/api/v1/me/shop/items", Roles(RESIDENTS), Scope::Own, get(me::my_shop_items))
        .add(M::GET, "/api/v1/me/shop/redemptions", Roles(RESIDENTS), Scope::Own, get(me::my_redemptions))
        .add(M::POST, "/api/v1/me/shop/redemptions", Roles(RESIDENTS), Scope::Own, post(me::redeem_mine))
        .add(M::POST, "/api/v1/visits", Roles(VISITORS), Scope::Object, post(visits::log_visit))
        .add(M::POST, "/api/v1/visits/batch", Roles(VISITORS), Scope::Object, post(visits::log_visits))
        .add(M::GET, "/api/v1/visits/{id}/photo", Roles(RESIDENT_READERS), Scope::Object, get(visits::visit_photo))
        .add(M::GET, "/api/v1/residents/{id}/plan", Roles(RESIDENT_READERS), Scope::Object, get(visits::resident_plan))
        .add(M::PUT, "/api/v1/residents/{id}/plan", Roles(REGISTRARS), Scope::Object, put(visits::set_resident_plan))
        .add(M::GET, "/api/v1/care-intervals", Roles(COVERAGE_READERS), Scope::Grants, get(visits::care_intervals))
        .add(M::PUT, "/api/v1/care-intervals", Roles(CARE_PLANNERS), Scope::Object, put(visits::set_care_interval))
        .add(M::GET, "/api/v1/coverage", Roles(COVERAGE_READERS), Scope::Grants, get(visits::coverage))
        .add(M::GET, "/api/v1/dashboard", Roles(DASHBOARD_READERS), Scope::Grants, get(dashboard::dashboard))
        .add(M::GET, "/api/v1/reports/monthly", Roles(DASHBOARD_READERS), Scope::Grants, get(dashboard::monthly_report))
        .add(
            M::GET,
            "/api/v1/reports/monthly.xlsx",
            Roles(DASHBOARD_READERS),
            Scope::Grants,
            get(dashboard::monthly_workbook),
        )
        .add(M::GET, "/api/v1/stations", Roles(STATION_READERS), Scope::Grants, get(stations::list_stations))
        .add(M::POST, "/api/v1/stations", Roles(STATION_CLERKS), Scope::Object, post(stations::add_station))
        .add(M::GET, "/api/v1/stations/{id}", Roles(STATION_READERS), Scope::Object, get(stations::get_station))
        .add(M::PUT, "/api/v1/stations/{id}", Roles(STATION_CLERKS), Scope::Object, put(stations::update_station))
        .add(
            M::POST,
            "/api/v1/stations/{id}/services",
            Roles(STATION_CLERKS),
            Scope::Object,
            post(stations::add_service),
        )
        .add(M::GET, "/api/v1/stations/{id}/day", Roles(STATION_READERS), Scope::Object, get(stations::station_day))
        .add(
            M::POST,
            "/api/v1/stations/{id}/records",
            Roles(STATION_CLERKS),
            Scope::Object,
            post(stations::record_service),
        )
        .add(M::GET, "/api/v1/stations/{id}/month", Roles(STATION_READERS), Scope::Object, get(stations::station_month))
        .add(
            M::PUT,
            "/api/v1/station-services/{id}",
            Roles(STATION_CLERKS),
            Scope::Object,
            put(stations::update_service),
        )
        .add(
            M::GET,
            "/api/v1/station-services/{id}/slots",
            Roles(SLOT_READERS),
            Scope::Object,
            get(stations::service_slots),
        )
        .add(M::POST, "/api/v1/station-services/{id}/appointments", Roles(BOOKERS), Scope::Object, post(stations::book))
        .add(
            M::POST,
            "/api/v1/appointments/{id}/cancel",
            Roles(BOOKERS),
            Scope::Object,
            post(stations::cancel_appointment),
        )
        .add(
            M::POST,
            "/api/v1/appointments/{id}/missed",
            Roles(STATION_CLERKS),
            Scope::Object,
            post(stations::miss_appointment),
        )
        .add(M::GET, "/api/v1/projects", Roles(PROJECT_READERS), Scope::Grants, get(projects::list_projects))
        .add(M::POST, "/api/v1/projects", Roles(PROJECT_MANAGERS), Scope::Object, post(projects::create_project))
        .add(M::GET, "/api/v1/projects/{id}", Roles(PROJECT_READERS), Scope::Object, get(projects::get_project))
        .add(
            M::POST,
            "/api/v1/projects/{id}/budget",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::add_budget_line),
        )
        .add(
            M::POST,
            "/api/v1/projects/{id}/fundings",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::apply_for_funding),
        )
        .add(
            M::POST,
            "/api/v1/fundings/{id}/decision",
            Roles(PROJECT_APPROVERS),
            Scope::Object,
            post(projects::decide_funding),
        )
        .add(
            M::POST,
            "/api/v1/projects/{id}/expenses",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::record_expense),
        )
        .add(
            M::POST,
            "/api/v1/expenses/{id}/decision",
            Roles(PROJECT_APPROVERS),
            Scope::Object,
            post(projects::decide_expense),
        )
        .add(
            M::POST,
            "/api/v1/projects/{id}/milestones",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::add_milestone),
        )
        .add(
            M::POST,
            "/api/v1/milestones/{id}/done",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::finish_milestone),
        )
        .add(
            M::POST,
            "/api/v1/projects/{id}/stage",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::move_project),
        )
        .add(
            M::POST,
            "/api/v1/projects/{id}/count-votes",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::count_votes),
        )
        .add(M::GET, "/api/v1/me/projects", Roles(RESIDENTS), Scope::Own, get(projects::my_projects))
        .add(M::POST, "/api/v1/me/projects/{id}/vote", Roles(RESIDENTS), Scope::Own, post(projects::vote))
        .add(M::GET, "/api/v1/boards/spending", Public, Scope::None, get(projects::spending_board))
        .add(
            M::POST,
            "/api/v1/projects/{id}/files",
            Roles(PROJECT_MANAGERS),
            Scope::Object,
            post(projects::add_file).layer(axum::extract::DefaultBodyLimit::max(crate::PHOTO_BODY_LIMIT)),
        )
        .add(M::GET, "/api/v1/project-files/{id}", Roles(PROJECT_READERS), Scope::Object, get(projects::get_file))
        .add(M::GET, "/api/v1/boards/photos/{id}", Public, Scope::None, get(projects::board_photo))
        .add(M::GET, "/api/v1/pledges", Roles(PLEDGE_READERS), Scope::Grants, get(pledges::pledge_year))
        .add(M::POST, "/api/v1/pledges", Roles(PLEDGE_UPDATERS), Scope::Object, post(pledges::propose))
        .add(M::POST, "/api/v1/pledges/years", Roles(PLEDGE_MANAGERS), Scope::Object, post(pledges::open_year))
        .add(
            M::POST,
            "/api/v1/pledges/years/{year}/advance",
            Roles(PLEDGE_MANAGERS),
            Scope::Object,
            post(pledges::advance_year),
        )
        .add(M::POST, "/api/v1/pledges/{id}/shortlist", Roles(PLEDGE_MANAGERS), Scope::Object, post(pledges::shortlist))
        .add(M::PUT, "/api/v1/pledges/{id}/owner", Roles(PLEDGE_MANAGERS), Scope::Object, put(pledges::set_owner))
        .add(
            M::POST,
            "/api/v1/pledges/{id}/progress",
            Roles(PLEDGE_UPDATERS),
            Scope::Object,
            post(pledges::report_progress),
        )
        .add(M::GET, "/api/v1/me/pledges", Roles(RESIDENTS), Scope::Own, get(pledges::my_pledges))
        .add(M::POST, "/api/v1/me/pledges", Roles(RESIDENTS), Scope::Own, post(pledges::propose_mine))
        .add(M::POST, "/api/v1/me/pledges/{id}/vote", Roles(RESIDENTS), Scope::Own, post(pledges::vote_mine))
        .add(M::POST, "/api/v1/me/pledges/{id}/verdict", Roles(RESIDENTS), Scope::Own, post(pledges::judge_mine))
        .add(M::GET, "/api/v1/boards/pledges", Public, Scope::None, get(pledges::pledges_board))
        .add(M::GET, "/api/v1/boards/pledge-photos/{id}", Public, Scope::None, get(pledges::board_pledge_photo))
        .add(
            M::POST,
            "/api/v1/pledges/updates/{id}/photos",
            Roles(PLEDGE_UPDATERS),
            Scope::Object,
            post(pledges::add_update_photos),
        )
        .add(
            M::POST,
            "/api/v1/pledges/{id}/milestones",
            Roles(PLEDGE_UPDATERS),
            Scope::Object,
            post(pledges::add_pledge_milestone),
        )
        .add(
            M::POST,
            "/api/v1/pledges/milestones/{id}/done",
            Roles(PLEDGE_UPDATERS),
            Scope::Object,
            post(pledges::finish_pledge_milestone),
        )
        .add(M::GET, "/api/v1/notices", Roles(NOTICE_READERS), Scope::Grants, get(notices::list_notices))
        .add(M::POST, "/api/v1/notices", Roles(NOTICE_PUBLISHERS), Scope::Object, post(notices::post_notice))
        .add(
            M::POST,
            "/api/v1/notices/{id}/withdraw",
            Roles(NOTICE_PUBLISHERS),
            Scope::Object,
            post(notices::withdraw_notice),
        )
        .add(M::PUT, "/api/v1/notices/{id}/pin", Roles(NOTICE_PUBLISHERS), Scope::Object, put(notices::pin_notice))
        .add(M::GET, "/api/v1/me/notices", Roles(RESIDENTS), Scope::Own, get(notices::my_notices))
        .add(M::POST, "/api/v1/me/notices/{id}/read", Roles(RESIDENTS), Scope::Own, post(notices::read_notice))
        .add(M::GET, "/api/v1/me/stations", Roles(RESIDENTS), Scope::Own, get(stations::my_stations))
        .add(M::GET, "/api/v1/me/appointments", Roles(RESIDENTS), Scope::Own, get(stations::my_appointments))
        .add(
            M::POST,
            "/api/v1/cases/{id}/revisits/{revisit}",
            Roles(CASE_HANDLERS),
            Scope::Object,
            post(visits::finish_revisit),
        )
}

/// 200 while the database answers.
async fn healthz(axum::extract::State(st): axum::extract::State<crate::AppState>) -> Result<&'static str, ApiError> {
    st.svc.db.ping().await.map_err(|e| ApiError::from_service(&ServiceError::from(e), Lang::Zh))?;
    Ok("ok")
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "yijia (驿家) API", description = "Community grid governance and resident services. \
        Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`; lists take `?page=&per_page=`; \
        times are RFC 3339 in Asia/Shanghai."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        account::status, account::setup, account::confirm, account::recovery_codes, account::disable, account::reset,
        account::my_sessions, account::end_my_session, account::user_sessions, account::end_user_sessions,
        account::end_user_session,
        org::org_tree, org::create_org_node, org::get_org_node, org::update_org_node, org::delete_org_node,
        users::list_users, users::create_user, users::get_user, users::disable_user, users::enable_user,
        audit::list_audit, audit::export_audit,
        residents::list_residents, residents::add_resident, residents::get_resident,
        residents::unmask_resident, residents::resident_views, residents::category_counts,
        residents::change_category, residents::category_history, residents::update_resident,
        residents::get_household, residents::get_building, residents::list_categories, residents::add_category,
        exports::request_export, exports::list_exports, exports::decide_export, exports::download_export,
        cases::list_cases, cases::create_case, cases::get_case, cases::act_on_case, cases::rate_case,
        cases::note_case, cases::record_dispute, cases::similar_cases, cases::list_case_categories,
        cases::save_case_category, cases::add_photos, cases::get_photo,
        integrations::issue, integrations::list, integrations::revoke, integrations::add_webhook,
        integrations::list_webhooks, integrations::disable_webhook,
        visits::walk_list, visits::log_visit, visits::log_visits, visits::visit_photo, visits::resident_plan,
        visits::set_resident_plan, visits::care_intervals, visits::set_care_interval, visits::coverage, dashboard::dashboard,
        dashboard::monthly_report, dashboard::monthly_workbook,
        visits::finish_revisit,
        points::transfer, points::reverse, points::approvals, points::approve, points::reject,
        points::community_accounts, points::resident_account, points::statement,
        shop::list_items, shop::add_item, shop::update_item, shop::change_stock, shop::redeem, shop::waiting_redemptions,
        shop::hand_over, shop::cancel_redemption, shop::shop_report, shop::set_item_photo, shop::item_photo,
        activities::list_activities, activities::create_activity, activities::get_activity, activities::sign_up_for_activity, activities::cancel_signup,
        activities::check_in, activities::check_out, activities::confirm_activity,
        me::invite_resident, me::join, me::my_points, me::my_activities, me::sign_me_up, me::cancel_my_signup,
        me::my_shop_items, me::my_redemptions, me::redeem_mine, me::check_me, me::my_honour_consent,
        me::set_my_honour_consent,
        duty::list_posts, duty::add_post, duty::add_shift, duty::check_code, duty::honours,
        stations::list_stations, stations::add_station, stations::get_station, stations::update_station,
        stations::add_service, stations::update_service, stations::service_slots, stations::book,
        stations::cancel_appointment, stations::miss_appointment, stations::station_day, stations::record_service,
        stations::station_month, stations::my_stations, stations::my_appointments,
        notices::list_notices, notices::post_notice, notices::withdraw_notice, notices::pin_notice,
        notices::my_notices, notices::read_notice,
        projects::list_projects, projects::create_project, projects::get_project, projects::add_budget_line,
        projects::apply_for_funding, projects::decide_funding, projects::record_expense, projects::decide_expense,
        projects::add_milestone, projects::finish_milestone, projects::move_project, projects::count_votes,
        projects::my_projects, projects::vote, projects::spending_board, projects::add_file, projects::get_file,
        projects::board_photo,
        pledges::pledge_year, pledges::open_year, pledges::advance_year, pledges::propose, pledges::shortlist,
        pledges::set_owner, pledges::report_progress, pledges::my_pledges, pledges::propose_mine, pledges::vote_mine,
        pledges::judge_mine, pledges::pledges_board, pledges::board_pledge_photo, pledges::add_update_photos, pledges::add_pledge_milestone,
        pledges::finish_pledge_milestone,
    ),
    // schemas that only query parameters use are not collected by themselves
    components(schemas(yijia_service::registry::ResidentSort)),
    modifiers(&Bearer),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
