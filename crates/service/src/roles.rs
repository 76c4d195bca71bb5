//! Who may do what: every role set in one place, named by what its members
//! do. The service checks them; the web layer's route table uses the same
//! sets as they are, so the two cannot drift apart.

use yijia_domain::role::Role;

// ---- notices -----------------------------------------------------------------

/// Who posts notices: to the whole community, or to a grid or building.
pub const COMMUNITY_PUBLISHERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
/// Grid workers post to their own grids and the buildings in them.
pub const NOTICE_PUBLISHERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::GridWorker];
/// Who reads a community's notices with their read counts.
pub const NOTICE_READERS: &[Role] =
    &[Role::Secretary, Role::CommunityStaff, Role::GridWorker, Role::StationClerk, Role::StreetOfficer];

// ---- cases/open311 -----------------------------------------------------------

/// Who issues and revokes API keys.
pub const KEY_ISSUERS: &[Role] = &[Role::Admin];

// ---- cases/catalogue ---------------------------------------------------------

/// Who edits a community's catalogue.
pub const CATALOGUE_EDITORS: &[Role] = &[Role::Secretary, Role::CommunityStaff];

// ---- cases -------------------------------------------------------------------

/// Who files cases: residents for themselves, the others for anyone.
pub const CASE_FILERS: &[Role] =
    &[Role::Resident, Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];
/// Who handles the cases of their grids.
pub const GRID_HANDLERS: &[Role] = &[Role::GridWorker];
/// Who handles and hands out the cases of their community.
pub const DISPATCHERS: &[Role] = &[Role::CommunityStaff, Role::Secretary];
/// Who takes escalated cases.
pub const SUBDISTRICT_HANDLERS: &[Role] = &[Role::StreetOfficer];
/// Everyone who works on cases (the lists of the staff).
pub const CASE_HANDLERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];

// ---- visits ------------------------------------------------------------------

/// Who logs visits to the residents of their scope.
pub const VISITORS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary];
/// Who changes a community's visit intervals.
pub const CARE_PLANNERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
/// Who reads coverage and the overdue list of their scope.
pub const COVERAGE_READERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];

// ---- shop --------------------------------------------------------------------

/// Who keeps the shop: items, stock, redemptions at the counter, handing over.
pub const SHOP_CLERKS: &[Role] = &[Role::StationClerk, Role::CommunityStaff, Role::Secretary];

// ---- org ---------------------------------------------------------------------

pub const ORG_VIEWERS: &[Role] =
    &[Role::GridWorker, Role::StationClerk, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer, Role::Admin];
pub const ORG_EDITORS: &[Role] = &[Role::Admin];

// ---- registry ----------------------------------------------------------------

/// Who registers residents: in their grids, or across their community.
pub const REGISTRARS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary];
/// Who reads records (station clerks see names, never ID numbers).
pub const RESIDENT_READERS: &[Role] =
    &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer, Role::StationClerk];
/// Who takes a resident over from another community, or says no.
pub const TRANSFER_DECIDERS: &[Role] = &[Role::CommunityStaff, Role::Secretary];
/// Who reads why a record left the register (not a station clerk).
pub const LIFE_READERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];
/// Who may show a protected field in full, with a reason.
pub const UNMASKERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];

// ---- webhooks ----------------------------------------------------------------

/// Who adds and disables webhooks, within their grants.
pub const WEBHOOK_MAKERS: &[Role] = &[Role::Secretary, Role::StreetOfficer, Role::Admin];

// ---- users -------------------------------------------------------------------

/// Who manages accounts: admins anywhere, secretaries in their community.
pub const USER_MANAGERS: &[Role] = &[Role::Admin, Role::Secretary];

// ---- categories --------------------------------------------------------------

/// Who adds a category for their community.
pub const CATEGORY_MAKERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];

// ---- audit -------------------------------------------------------------------

/// The roles that read the audit log, each within its grants.
pub const AUDIT_READERS: &[Role] = &[Role::Secretary, Role::StreetOfficer, Role::Admin];

// ---- dashboard ---------------------------------------------------------------

/// Who reads dashboards and reports: community staff theirs, street
/// officers their subdistrict's.
pub const DASHBOARD_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StreetOfficer];

// ---- activities --------------------------------------------------------------

/// Who puts up activities, signs people up, checks them in and confirms.
pub const ORGANISERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StationClerk];

// ---- export ------------------------------------------------------------------

/// Who asks for a community's export in full: those who work across a
/// community or above (a grid worker unmasks one record at a time).
pub const FULL_EXPORTERS: &[Role] = &[Role::CommunityStaff, Role::Secretary, Role::StreetOfficer];
/// Who approves an export with personal data in full (not their own).
pub const EXPORT_APPROVERS: &[Role] = &[Role::Secretary, Role::StreetOfficer];

// ---- projects ----------------------------------------------------------------

/// Who runs a project: files applications, keeps the budget and expenses.
pub const PROJECT_MANAGERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
/// Who approves funding, and expenses above the community's limit.
pub const PROJECT_APPROVERS: &[Role] = &[Role::StreetOfficer];
/// Who carry a ballot door to door and record the votes of residents in their grids.
pub const BALLOT_RECORDERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary];
pub const PROJECT_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StreetOfficer, Role::GridWorker];

// ---- points ------------------------------------------------------------------

/// Who moves points by hand, within their community.
pub const POINT_KEEPERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
/// Who has a 待我审批: whoever decides money, exports or adjustments.
pub const APPROVERS: &[Role] = &[Role::Secretary, Role::StreetOfficer, Role::CommunityStaff];
/// Who reads accounts and statements, within their scope.
pub const POINT_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StationClerk, Role::StreetOfficer];

// ---- pledges -----------------------------------------------------------------

/// Who runs the year: opens it, shortlists, commits, moves it on.
pub const PLEDGE_MANAGERS: &[Role] = &[Role::Secretary];
/// Who reports progress and proposes for the community.
pub const PLEDGE_UPDATERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
pub const PLEDGE_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::GridWorker, Role::StreetOfficer];

// ---- stations ----------------------------------------------------------------

/// Who runs stations: sets up services, books for residents, records
/// services given.
pub const STATION_CLERKS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StationClerk];
/// Who reads stations, their appointments and figures.
pub const STATION_READERS: &[Role] = POINT_READERS;

// ---- import ------------------------------------------------------------------

/// Who imports: secretaries and staff, for their community.
pub const IMPORTERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];

// ---- pages and routes open to residents as well ----------------------------

/// Residents acting for themselves.
pub const RESIDENTS: &[Role] = &[Role::Resident];
/// Who may end a family proxy: the resident or the family member (both
/// hold the resident role), or staff who register residents.
pub const PROXY_ENDERS: &[Role] = &[Role::GridWorker, Role::CommunityStaff, Role::Secretary, Role::Resident];
/// The shop's goods are seen by those who read it and the community's residents.
pub const ITEM_VIEWERS: &[Role] =
    &[Role::Secretary, Role::CommunityStaff, Role::StationClerk, Role::StreetOfficer, Role::Resident];
/// Station staff, and residents acting for themselves (the service checks which).
pub const BOOKERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::StationClerk, Role::Resident];
/// Who sees a service's free slots: station staff, the street office, residents.
pub const SLOT_READERS: &[Role] =
    &[Role::Secretary, Role::CommunityStaff, Role::StationClerk, Role::StreetOfficer, Role::Resident];

// ---- notify ------------------------------------------------------------------

/// Who reads the delivery log of what went out to people, and puts a
/// parked message back in the queue: the admin for everywhere, the
/// secretary and the street officer for their own area.
pub const DELIVERY_READERS: &[Role] = &[Role::Admin, Role::Secretary, Role::StreetOfficer];
/// Who sets up the robots of a grid's or a community's staff work group.
pub const GROUP_KEEPERS: &[Role] = &[Role::Secretary, Role::Admin];

/// Who sends an emergency broadcast: the secretary for her community, the
/// street officer for his subdistrict (which a second officer confirms).
pub const BROADCASTERS: &[Role] = &[Role::Secretary, Role::StreetOfficer];
/// Staff who see the broadcasts of their area.
pub const BROADCAST_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff, Role::GridWorker, Role::StreetOfficer];

// ---- a person's rights -------------------------------------------------------

/// Who reads the requests about records (corrections, erasures).
pub const RECORD_REQUEST_READERS: &[Role] = &[Role::Secretary, Role::CommunityStaff];
/// Who answers them, and so decides an erasure.
pub const RECORD_REQUEST_DECIDERS: &[Role] = &[Role::Secretary];
/// Who sets how long the data of people who left is kept.
pub const RETENTION_SETTERS: &[Role] = &[Role::Secretary];
