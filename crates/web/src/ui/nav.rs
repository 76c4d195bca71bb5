//! Where a caller may go: the menu of every page, the home page, and the
//! choice of a community for those above several.

use super::prelude::*;
use yijia_domain::org::OrgKind;
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_service::Caller;
use yijia_service::roles::{AUDIT_READERS, ORG_VIEWERS, USER_MANAGERS};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/", LoggedIn, Scope::Own, home)
}

impl Chrome {
    pub fn for_caller(l: Lang, c: &Caller, active: &'static str, here: &str) -> Self {
        Self {
            l,
            user: Some(c.display_name.clone()),
            csrf: c.csrf_token.clone().unwrap_or_default(),
            // until a required second factor is set up, nothing else opens
            links: if c.must_enrol() { vec![] } else { links(l, c).into_iter().map(|(h, t, _)| (h, t)).collect() },
            active,
            here: here.to_owned(),
            acting: c.proxy.as_ref().map(|p| {
                let acts: Vec<&str> = p.acts.list().iter().map(|a| l.name(*a)).collect();
                (p.resident_name.clone(), acts.join(l.t("、", ", ")))
            }),
        }
    }
}

/// The pages a caller may open: (href, title, what it is for).
fn links(l: Lang, c: &Caller) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut v = vec![("/", l.t("首页", "Home"), "")];
    if c.has_any(yijia_service::roles::APPROVERS) {
        v.push((
            "/approvals",
            l.t("待我审批", "Awaiting me"),
            l.t(
                "资金申请、大额支出、完整信息导出、超限积分调整",
                "Funding, large expenses, full-data exports, points above the limit",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::DASHBOARD_READERS) {
        v.push((
            "/dashboard",
            l.t("看板", "Dashboard"),
            l.t("网格地图、重点人群、走访与事件、逐月趋势", "Grids on a map, people, visits and cases, month by month"),
        ));
        v.push((
            "/reports/monthly",
            l.t("月报", "Monthly report"),
            l.t(
                "报街道的月报:本月、上月、去年同月,可下载 Excel、可打印",
                "The month against the one before and last year, as Excel or printed",
            ),
        ));
    }
    if c.has_any(ORG_VIEWERS) {
        v.push((
            "/org",
            l.t("组织架构", "Org tree"),
            l.t("街道、社区、网格及网格边界", "Subdistricts, communities, grids and their boundaries"),
        ));
    }
    if c.has_any(yijia_service::roles::RESIDENT_READERS) {
        v.push((
            "/residents",
            l.t("居民", "Residents"),
            l.t("按类别归档的居民信息", "Residents, archived by category"),
        ));
    }
    if c.has_any(yijia_service::roles::REGISTRARS) {
        v.push((
            "/transfers",
            l.t("转入转出", "Transfers"),
            l.t(
                "转到其他社区的居民,以及等本社区接收的",
                "Residents moving to another community, and those to take over",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::RECORD_REQUEST_READERS) {
        v.push((
            "/record-requests",
            l.t("更正与删除申请", "Corrections and erasures"),
            l.t(
                "居民对自己信息的更正、删除申请,以及信息保存期限",
                "Residents asking to correct or erase their data, and how long it is kept",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::CASE_HANDLERS) {
        v.push((
            "/cases",
            l.t("事件", "Cases"),
            l.t("诉求、矛盾纠纷与安全隐患,按时限办理", "Requests, disputes and hazards, on time"),
        ));
    } else if c.has_any(yijia_service::roles::CASE_FILERS)
        && c.proxy.as_ref().is_none_or(|p| p.acts.allows(Act::Requests))
    {
        v.push((
            "/cases",
            l.t("我的诉求", "My requests"),
            l.t("反映问题、查看办理进度、评价", "Tell us, follow it, rate it"),
        ));
    }
    if c.has_any(yijia_service::roles::COVERAGE_READERS) {
        // a walk is a grid's: the street office reads coverage instead
        if c.has_any(yijia_service::roles::VISITORS) {
            v.push((
                "/walk",
                l.t("今日走访", "Today's walk"),
                l.t("今天该走访谁,一键记录,没有信号也能用", "Who to visit today, logged in a tap, even without signal"),
            ));
        }
        v.push((
            "/coverage",
            l.t("走访覆盖", "Coverage"),
            l.t("按时走访率、超期名单、走访间隔", "Visited on time, who is overdue, visit intervals"),
        ));
    }
    if c.resident_id.is_some() && c.has_any(&[Role::Resident]) {
        // a family member acting for a resident sees only what he allowed
        let may = |act: Option<Act>| match (&c.proxy, act) {
            (None, _) => true,
            (Some(p), Some(a)) => p.acts.allows(a),
            (Some(_), None) => false,
        };
        if may(Some(Act::Points)) {
            v.push((
                "/me/points",
                l.t("我的积分", "My points"),
                l.t("积分余额与每月明细", "Balance and monthly statement"),
            ));
        }
        if may(None) {
            v.push((
                "/me/activities",
                l.t("志愿活动", "Volunteering"),
                l.t("报名参加,按时长得积分", "Sign up, earn points for your time"),
            ));
        }
        if may(Some(Act::Points)) {
            v.push((
                "/me/shop",
                l.t("爱心超市", "Love-points shop"),
                l.t("用积分兑换米、油等日用品", "Spend points on rice, oil and everyday goods"),
            ));
        }
        if may(Some(Act::Book)) {
            v.push((
                "/me/stations",
                l.t("服务站预约", "Station services"),
                l.t(
                    "量血压、理发、法律咨询等,在手机上预约",
                    "Blood-pressure checks, haircuts, legal advice: book on your phone",
                ),
            ));
        }
        if may(Some(Act::Vote)) {
            v.push((
                "/me/pledges",
                l.t("十件实事", "Ten practical things"),
                l.t("提建议、投票、看进展、年终评议", "Propose, vote, follow, judge at the year's end"),
            ));
        }
        if may(Some(Act::Vote)) {
            v.push((
                "/me/projects",
                l.t("楼栋修缮", "Building repairs"),
                l.t("看资金和进度,完工后投票验收", "See the money and the work; vote when it is finished"),
            ));
        }
        if may(None) {
            v.push((
                "/me/honours",
                l.t("光荣榜", "Honours"),
                l.t("每月志愿标兵,自己决定是否署名", "The month's volunteers; you choose whether you are named"),
            ));
        }
        if c.proxy.is_none() {
            v.push((
                "/me/record",
                l.t("谁看过我的信息", "Who looked at my record"),
                l.t("工作人员何时、为何查看您的档案", "When and why staff read your record"),
            ));
            v.push((
                "/me/data",
                l.t("我的信息副本", "A copy of my data"),
                l.t(
                    "社区保存的关于您的全部信息,可打印、可下载",
                    "Everything the community holds about you, to print or download",
                ),
            ));
            v.push((
                "/me/requests",
                l.t("更正或删除我的信息", "Correct or erase my data"),
                l.t("信息有误请更正;迁出或去世后可申请删除", "Ask for a correction; after moving away, an erasure"),
            ));
        }
        v.push((
            "/me/proxies",
            l.t("家属代办", "Family proxy"),
            l.t("谁可以替您办事,或您在替谁办事", "Who may act for you, or for whom you act"),
        ));
    }
    if c.has_any(yijia_service::roles::ORGANISERS) {
        v.push((
            "/activities",
            l.t("志愿活动", "Volunteering"),
            l.t("发布活动、签到签退、确认发放积分", "Put up activities, check in and out, give the points"),
        ));
        v.push((
            "/duty",
            l.t("门岗值守", "Duty posts"),
            l.t("岗位、排班、值守积分", "Posts, shifts, points for time on duty"),
        ));
    }
    if c.has_any(yijia_service::roles::PLEDGE_READERS) {
        v.push((
            "/pledges",
            l.t("十件实事", "Pledges"),
            l.t(
                "征集建议、居民投票、承诺办理、年终评议",
                "Proposals, residents' votes, what was promised, the year-end verdict",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::PROJECT_READERS) {
        v.push((
            "/projects",
            l.t("修缮项目", "Repair projects"),
            l.t(
                "资金申请与审批、预算支出、居民验收",
                "Funding and approvals, budget and expenses, residents' acceptance",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::BROADCAST_READERS) {
        v.push((
            "/broadcasts",
            l.t("紧急广播", "Emergency broadcasts"),
            l.t(
                "寒潮停暖、停水、险情:一栋楼到全街道,所有渠道同时发出",
                "Heating off, water off, danger: a building to a subdistrict, every channel at once",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::NOTICE_READERS) {
        v.push((
            "/notices",
            l.t("公告", "Notices"),
            l.t(
                "发给社区、网格或楼栋,置顶、定时、已读人数",
                "To the community, a grid or a building: pinned, timed, read counts",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::STATION_READERS) {
        v.push((
            "/stations",
            l.t("党群服务站", "Service stations"),
            l.t(
                "服务项目、当天预约、服务记录、月度统计",
                "Services, the day's appointments, services given, monthly figures",
            ),
        ));
    }
    if c.has_any(yijia_service::roles::SHOP_CLERKS) {
        v.push((
            "/shop",
            l.t("爱心超市", "Love-points shop"),
            l.t("凭取货码交付、库存、月报", "Hand over by pickup code, stock, the month's figures"),
        ));
    }
    if c.has_any(USER_MANAGERS) {
        v.push(("/users", l.t("用户", "Users"), l.t("账户、角色授权、停用", "Accounts, role grants, disabling")));
    }
    if c.has_any(yijia_service::roles::DELIVERY_READERS) {
        v.push((
            "/deliveries",
            l.t("发送记录", "Deliveries"),
            l.t("短信、邮件发到了没有,失败的重发", "Whether SMS and email went out; send failed ones again"),
        ));
    }
    if c.has_any(AUDIT_READERS) {
        v.push((
            "/audit",
            l.t("审计日志", "Audit log"),
            l.t("登录、拒绝访问与每一次修改", "Logins, denials and every change"),
        ));
    }
    v.push((
        "/account",
        l.t("账户安全", "Account security"),
        l.t("密码、两步验证、登录的设备", "Password, two-step login, devices logged in"),
    ));
    v
}

// ---- home ----------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    display_name: String,
    grants: Vec<(String, String)>,
    tiles: Vec<(&'static str, &'static str, &'static str)>,
    alerts: yijia_service::visits::VisitAlerts,
    walker: bool,
    notices: Vec<yijia_service::notices::NoticeView>,
    /// A resident's grid workers, whom they call.
    contacts: Vec<yijia_service::invitations::GridContact>,
    /// How many items wait for the caller's decision.
    waiting: usize,
}

async fn home(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Response {
    let grants = c.grants.iter().map(|g| (lang.name(g.role).to_owned(), g.org_name.clone())).collect();
    let tiles = links(lang, &c).into_iter().skip(1).collect();
    // "no contact in N days": a worker hears of their grids, the community of the longest overdue
    let alerts = st.svc.visit_alerts(&c).await.unwrap_or_default();
    // a resident's notices for where they live, pinned first
    let notices = if c.resident_id.is_some() { st.svc.my_notices(&c).await.unwrap_or_default() } else { vec![] };
    let contacts = if c.resident_id.is_some() { st.svc.my_grid_workers(&c).await.unwrap_or_default() } else { vec![] };
    let waiting = if c.has_any(yijia_service::roles::APPROVERS) {
        st.svc.approvals_waiting(&c).await.unwrap_or_default()
    } else {
        0
    };
    HomePage {
        c: Chrome::for_caller(lang, &c, "/", "/"),
        display_name: c.display_name.clone(),
        grants,
        tiles,
        alerts,
        walker: c.has_any(&[Role::GridWorker]),
        notices,
        contacts,
        waiting,
    }
    .into_response()
}

// ---- a street officer chooses one of their communities ---------------------

#[derive(Template, WebTemplate)]
#[template(path = "choose_community.html")]
struct ChooseCommunityPage {
    c: Chrome,
    title: String,
    path: String,
    communities: Vec<(String, String)>,
}

/// Whether a community-wide page must first ask which community: none
/// named, and the caller's grants of these roles are all above one (a
/// street officer over several).
pub(crate) fn must_choose_community(c: &Caller, roles: &[Role], community: Option<&str>) -> bool {
    community.is_none_or(|s| s.trim().is_empty())
        && !c.grants.iter().any(|g| roles.contains(&g.role) && matches!(g.org_kind, OrgKind::Community | OrgKind::Grid))
}

/// The communities under the caller, each a link to `path?community=CODE`.
pub(crate) async fn choose_community(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    active: &'static str,
    title: &str,
) -> PageResult {
    let communities = st
        .svc
        .org_tree(c)
        .await
        .page(lang)?
        .into_iter()
        .filter(|n| n.kind == OrgKind::Community)
        .map(|n| (n.code, n.name))
        .collect();
    let chrome = Chrome::for_caller(lang, c, active, active);
    Ok(ChooseCommunityPage { c: chrome, title: title.to_owned(), path: active.to_owned(), communities }.into_response())
}
