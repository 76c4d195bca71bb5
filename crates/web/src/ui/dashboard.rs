//! The dashboard page: the grids (or communities) on a map coloured by a
//! chosen figure, a table of every figure linking to the list it counts,
//! and the months behind them.

use super::prelude::*;
use yijia_service::dashboard::{CaseFigures, Dashboard, UnitFigures};
use yijia_service::reports::{MONTH_LINES, MonthlyReport, change_percent, month_value};
use yijia_service::roles::DASHBOARD_READERS;

use super::map::{Area, MapSvg};

pub fn routes(r: Routes) -> Routes {
    r.get("/dashboard", Policy::Roles(DASHBOARD_READERS), Scope::Grants, dashboard)
        .get("/reports/monthly", Policy::Roles(DASHBOARD_READERS), Scope::Grants, report)
        .get("/reports/monthly.xlsx", Policy::Roles(DASHBOARD_READERS), Scope::Grants, report_workbook)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    org: Option<String>,
    /// What colours the map: `late` (cases past their deadline), `overdue`
    /// (visits) or a category code.
    by: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    d: Dashboard,
    map: Option<MapSvg>,
    /// The figure on the map, and the choices.
    by: String,
    choices: Vec<(String, String)>,
    /// The row with the highest figure on the map, if any is above zero.
    top: Option<String>,
    /// The months and the series' names, for the charts' script.
    months_json: String,
    names_json: String,
}

/// The figure that colours the map, of one row.
fn figure(u: &UnitFigures, by: &str) -> i64 {
    match by {
        "late" => u.cases.iter().map(|c| c.late).sum(),
        "overdue" => u.overdue,
        category => u.categories.get(category).copied().unwrap_or(0),
    }
}

/// `#rrggbb` from pale green (nothing) to deep red (the most).
fn shade(v: i64, max: i64) -> String {
    let t = if max > 0 { v as f64 / max as f64 } else { 0.0 };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(232.0, 198.0), mix(243.0, 40.0), mix(234.0, 40.0))
}

/// How the pages of figures write them.
trait Figures {
    fn dashboard(&self) -> &Dashboard;

    fn unit_is_grid(&self) -> bool {
        self.dashboard().unit_kind == "grid"
    }

    /// Open, near or late cases of every kind.
    fn sum(&self, cases: &[CaseFigures], which: &str) -> i64 {
        cases
            .iter()
            .map(|k| match which {
                "open" => k.open,
                "near" => k.near,
                _ => k.late,
            })
            .sum()
    }

    fn permille(&self, v: &Option<i64>) -> String {
        v.map_or_else(|| "—".to_owned(), |p| format!("{}.{}%", p / 10, p % 10))
    }

    fn tenths(&self, v: &Option<i64>) -> String {
        v.map_or_else(|| "—".to_owned(), |t| format!("{}.{}", t / 10, t % 10))
    }

    fn or_dash(&self, v: &Option<i64>) -> String {
        v.map_or_else(|| "—".to_owned(), |v| v.to_string())
    }
}

impl DashboardPage {
    /// The residents a people figure counts.
    fn people_href(&self, code: &str, category: Option<&str>) -> String {
        match category {
            Some(c) => format!("/residents?grid={code}&category={c}"),
            None => format!("/residents?grid={code}"),
        }
    }

    /// The cases a case figure counts (no `kind`: every kind).
    fn cases_href(&self, code: &str, case_box: &str, kind: Option<&yijia_domain::case::CaseKind>) -> String {
        match kind {
            None => format!("/cases?box={case_box}&org={code}"),
            Some(kind) => format!("/cases?box={case_box}&kind={kind}&org={code}"),
        }
    }

    /// Who is overdue for a visit.
    fn overdue_href(&self, code: &str) -> String {
        format!("/coverage?org={code}")
    }

    /// The list the map's figure counts, for a row.
    fn figure_href(&self, code: &str) -> String {
        match self.by.as_str() {
            "late" => self.cases_href(code, "overdue", None),
            "overdue" => self.overdue_href(code),
            category => self.people_href(code, Some(category)),
        }
    }
}

impl Figures for DashboardPage {
    fn dashboard(&self) -> &Dashboard {
        &self.d
    }
}

async fn dashboard(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let d = st.svc.dashboard(&c, q.org.as_deref()).await.page(lang)?;
    let mut choices = vec![
        ("late".to_owned(), lang.t("逾期事件", "Late cases").to_owned()),
        ("overdue".to_owned(), lang.t("超期未走访", "Visits overdue").to_owned()),
    ];
    choices.extend(
        d.categories.iter().map(|k| (k.code.clone(), if lang.en() { k.name_en.clone() } else { k.name.clone() })),
    );
    let by = q.by.filter(|b| choices.iter().any(|(c, _)| c == b)).unwrap_or_else(|| "late".to_owned());
    let max = d.units.iter().map(|u| figure(u, &by)).max().unwrap_or(0);
    let top = d.units.iter().filter(|u| figure(u, &by) > 0 && figure(u, &by) == max).map(|u| u.code.clone()).next();
    // the month under way is marked: its low bars are a part, not a drop
    let this_month = yijia_domain::time::to_local(st.svc.now()).format("%Y-%m").to_string();
    let mut months = serde_json::to_value(&d.months).unwrap_or_default();
    for m in months.as_array_mut().into_iter().flatten() {
        if m["month"] == this_month.as_str() {
            m["month"] = format!("{this_month} {}", lang.t("(至今)", "(so far)")).into();
        }
    }
    let months_json = months.to_string();
    let names_json = serde_json::json!({
        "filed": lang.t("受理", "Filed"),
        "resolved": lang.t("办结", "Resolved"),
        "visits": lang.t("走访", "Visits"),
        "points_issued": lang.t("发放积分", "Points given"),
        "points_redeemed": lang.t("兑换积分", "Points spent"),
    })
    .to_string();
    let mut page = DashboardPage {
        c: Chrome::for_caller(lang, &c, "/dashboard", "/dashboard"),
        d,
        map: None,
        by,
        choices,
        top,
        months_json,
        names_json,
    };
    let areas: Vec<Area> = page
        .d
        .units
        .iter()
        .filter_map(|u| {
            let v = figure(u, &page.by);
            Some(Area {
                geometry: u.boundary.as_ref()?,
                href: Some(page.figure_href(&u.code)),
                label: Some(format!("{} {v}", u.name)),
                fill: Some(shade(v, max)),
            })
        })
        .collect();
    let points: Vec<(f64, f64, String)> = page.d.places.iter().map(|p| (p.lon, p.lat, p.name.clone())).collect();
    let map = MapSvg::of_areas(&areas, &points);
    page.map = map;
    Ok(page.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportParams {
    org: Option<String>,
    month: Option<String>,
}

/// A line of the month's table, written out.
struct Line {
    code: &'static str,
    name: &'static str,
    now: String,
    before: String,
    against_before: String,
    last_year: String,
    against_last_year: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
struct ReportPage {
    c: Chrome,
    r: MonthlyReport,
    lines: Vec<Line>,
    /// The rows of where things stand: each grid or community, the cases
    /// not dispatched yet (a community's), the total last.
    state: Vec<StateRow>,
    this_month: String,
}

/// A row of where things stand; the cases not dispatched yet have no
/// people, plans or pledges, so only their case cells are filled.
struct StateRow {
    u: UnitFigures,
    cases_only: bool,
}

impl ReportPage {
    fn heading(&self) -> String {
        let org = &self.r.dashboard.org_name;
        if self.c.l.en() {
            format!("{org} · monthly report {}", self.r.month)
        } else {
            format!("{org} {} 月报", self.r.month_zh())
        }
    }
}

impl Figures for ReportPage {
    fn dashboard(&self) -> &Dashboard {
        &self.r.dashboard
    }
}

/// A month's figure: satisfaction with its tenth (4.0), the rest whole.
fn figure_text(code: &str, v: Option<f64>) -> String {
    match v {
        Some(v) if code == "satisfaction" => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
        None => "—".to_owned(),
    }
}

fn change_text(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |p| format!("{p:+.1}%"))
}

async fn report(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<ReportParams>) -> PageResult {
    let r = st.svc.monthly_report(&c, q.org.as_deref(), q.month.as_deref()).await.page(lang)?;
    let lines = MONTH_LINES
        .iter()
        .map(|(code, zh, en)| {
            let (now, before, last) = (
                month_value(&r.this_month, code),
                month_value(&r.month_before, code),
                month_value(&r.year_before, code),
            );
            Line {
                code,
                name: if lang.en() { en } else { zh },
                now: figure_text(code, now),
                before: figure_text(code, before),
                against_before: change_text(change_percent(now, before)),
                last_year: figure_text(code, last),
                against_last_year: change_text(change_percent(now, last)),
            }
        })
        .collect();
    let d = &r.dashboard;
    let mut state: Vec<StateRow> = d.units.iter().map(|u| StateRow { u: u.clone(), cases_only: false }).collect();
    if d.unit_kind == "grid" {
        let name = lang.t("待分派", "To dispatch").to_owned();
        state.push(StateRow {
            u: UnitFigures { name, cases: d.unplaced.clone(), ..Default::default() },
            cases_only: true,
        });
    }
    let total = UnitFigures { name: lang.t("合计", "Total").to_owned(), ..d.total.clone() };
    state.push(StateRow { u: total, cases_only: false });
    let this_month = d.today.get(..7).unwrap_or_default().to_owned();
    let page =
        ReportPage { c: Chrome::for_caller(lang, &c, "/reports/monthly", "/dashboard"), r, lines, state, this_month };
    Ok(page.into_response())
}

async fn report_workbook(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<ReportParams>,
) -> PageResult {
    let r = st.svc.monthly_report(&c, q.org.as_deref(), q.month.as_deref()).await.page(lang)?;
    let book = yijia_service::reports::report_workbook(&r).page(lang)?;
    Ok(crate::download::xlsx(&r.file_name(), book))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_run_from_pale_to_deep() {
        assert_eq!(shade(0, 5), "#e8f3ea");
        assert_eq!(shade(5, 5), "#c62828");
        assert_eq!(shade(0, 0), "#e8f3ea", "nothing anywhere stays pale");
    }
}
