//! The dashboard: a community's grids, or a subdistrict's communities, at a
//! glance. What is open or due now is counted on the indexes the lists use;
//! what happened in a month comes from the tallies the database keeps with
//! every change (`store::tallies`). Each figure counts a list the caller can
//! open, and the two agree.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use yijia_domain::case::CaseKind;
use yijia_domain::org::OrgKind;
use yijia_domain::registry::Category;
use yijia_domain::time::{to_local, year_of};
use yijia_store::{dashboard as store, org, residents, tallies};

use crate::fields::ymd;
use crate::roles::DASHBOARD_READERS;
use crate::{Caller, Result, ServiceError, Services};

/// How many months the trends cover: this one and the twelve before, so
/// that the same month last year is there.
pub const MONTHS: u32 = 13;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseFigures {
    pub kind: CaseKind,
    pub kind_name: String,
    pub open: i64,
    /// Near (not past) their deadline now.
    pub near: i64,
    /// Past their deadline now.
    pub late: i64,
}

/// One row of the dashboard: a grid of a community, a community of a
/// subdistrict, or the total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitFigures {
    pub code: String,
    pub name: String,
    pub people: i64,
    /// People per category (codes of `categories`); children by birth date.
    pub categories: BTreeMap<String, i64>,
    /// Residents under a visiting plan; overdue (due before today); due in
    /// the coming seven days.
    pub planned: i64,
    pub overdue: i64,
    pub due_soon: i64,
    /// Of those under a plan, the share not overdue, in tenths of a percent.
    pub on_time_permille: Option<i64>,
    /// Open cases by kind (request, dispute, hazard).
    pub cases: Vec<CaseFigures>,
    /// This year's committed pledges and their mean progress (percent).
    pub pledges: i64,
    pub pledge_progress: Option<i64>,
    /// Its boundary (GeoJSON geometry), when drawn: a community's is its grids'.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

/// A month of the whole: cases, visits, points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `2026-11`.
    pub month: String,
    pub filed: i64,
    pub accepted: i64,
    pub resolved: i64,
    /// Mean minutes from filing to acceptance, of those accepted this month.
    pub accept_minutes: Option<i64>,
    /// Mean hours from filing to resolution, of those resolved this month.
    pub resolve_hours: Option<i64>,
    pub rated: i64,
    /// Mean rating (1–5) in tenths: 46 is 4.6.
    pub satisfaction_tenths: Option<i64>,
    pub visits: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryName {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// A place drawn on the map: a building, or an estate.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MapPlace {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub org: String,
    pub org_name: String,
    /// `community` or `subdistrict` (or `root`).
    pub org_kind: OrgKind,
    /// What the rows are: `grid` or `community`.
    pub unit_kind: String,
    /// `2026-11-30`, Beijing time.
    pub today: String,
    pub categories: Vec<CategoryName>,
    pub units: Vec<UnitFigures>,
    /// Open cases of the community not placed in a grid yet (a community's
    /// dashboard only; a subdistrict's rows include them).
    pub unplaced: Vec<CaseFigures>,
    pub total: UnitFigures,
    /// The last `MONTHS` months, oldest first.
    pub months: Vec<MonthFigures>,
    /// Buildings and estates with a point (a community's dashboard only).
    pub places: Vec<MapPlace>,
}

fn kinds() -> Vec<CaseFigures> {
    CaseKind::ALL
        .into_iter()
        .map(|kind| CaseFigures { kind, kind_name: kind.name_zh().to_owned(), open: 0, near: 0, late: 0 })
        .collect()
}

fn add_cases(to: &mut [CaseFigures], kind: CaseKind, open: i64, near: i64, late: i64) {
    if let Some(f) = to.iter_mut().find(|f| f.kind == kind) {
        f.open += open;
        f.near += near;
        f.late += late;
    }
}

/// Of those under a plan, the share not overdue, in tenths of a percent.
fn on_time(planned: i64, overdue: i64) -> Option<i64> {
    (planned > 0).then(|| (planned - overdue) * 1000 / planned)
}

fn mean(total: i64, n: i64, unit: i64) -> Option<i64> {
    (n > 0).then(|| (total as f64 / n as f64 / unit as f64).round() as i64)
}

/// `2026-11` of a day, and the months before it.
pub(crate) fn month_keys(day: NaiveDate, months: u32) -> Vec<String> {
    let first = day.with_day(1).unwrap_or(day);
    (0..months)
        .rev()
        .filter_map(|k| first.checked_sub_months(Months::new(k)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect()
}

/// The months `keys` of some tallies, summed.
fn fold_months<'a>(keys: &[String], kept: impl Iterator<Item = &'a tallies::Tally>) -> Vec<MonthFigures> {
    let mut sums: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for t in kept {
        let family = t.figure.split(':').next().unwrap_or("");
        let e = sums.entry((t.month.as_str(), family)).or_default();
        e.0 += t.n;
        e.1 += t.total;
    }
    keys.iter()
        .map(|month| {
            let get = |f: &str| sums.get(&(month.as_str(), f)).copied().unwrap_or((0, 0));
            let (filed, accepted, resolved, rated) =
                (get("cases_filed"), get("cases_accepted"), get("cases_resolved"), get("cases_rated"));
            MonthFigures {
                month: month.clone(),
                filed: filed.0,
                accepted: accepted.0,
                accept_minutes: mean(accepted.1, accepted.0, 60_000),
                resolved: resolved.0,
                resolve_hours: mean(resolved.1, resolved.0, 3_600_000),
                rated: rated.0,
                satisfaction_tenths: mean(rated.1 * 10, rated.0, 1),
                visits: get("visits").0,
                points_issued: get("points_issued").1,
                points_redeemed: get("points_redeemed").1,
            }
        })
        .collect()
}

impl Services {
    /// The dashboard of a community or a subdistrict (`org`, a code; by
    /// default the caller's own).
    pub async fn dashboard(&self, caller: &Caller, org_code: Option<&str>) -> Result<Dashboard> {
        let today = to_local(self.now()).date_naive();
        Ok(self.figures(caller, org_code, today, false).await?.0)
    }

    /// The dashboard with its months ending at the month of `last` (its
    /// figures of now stay now's), and with `per_unit` each row's months
    /// alike (or none).
    pub(crate) async fn figures(
        &self,
        caller: &Caller,
        org_code: Option<&str>,
        last: NaiveDate,
        per_unit: bool,
    ) -> Result<(Dashboard, Vec<Vec<MonthFigures>>)> {
        let now = self.now();
        let today = to_local(now).date_naive();
        self.denials_audited(caller, async {
            let mut tx = self.db.conn().await?;
            // the place and everything under it in one read; the scope is checked before any figure
            let (nodes, node) = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => {
                    let nodes = org::subtree_of_code(&mut tx, code).await?;
                    let Some(n) = nodes.iter().find(|n| n.code == code).cloned() else {
                        return Err(ServiceError::NotFound);
                    };
                    if !caller.covers(DASHBOARD_READERS, &n.path) {
                        return Err(ServiceError::denied("dashboard", format!("org:{code}")));
                    }
                    (nodes, n)
                }
                None => {
                    let path =
                        caller.scope_paths(DASHBOARD_READERS).into_iter().next().ok_or_else(ServiceError::forbidden)?;
                    let nodes = org::subtree(&mut tx, &path).await?;
                    let Some(n) = nodes.iter().find(|n| n.path == path).cloned() else {
                        return Err(ServiceError::NotFound);
                    };
                    (nodes, n)
                }
            };
            if node.kind == OrgKind::Grid {
                return Err(ServiceError::invalid(
                    "org",
                    "看板按社区或街道查看,请选择社区",
                    "a dashboard is of a community or a subdistrict",
                ));
            }
            let by_grid = node.kind == OrgKind::Community;
            let grids: Vec<&org::OrgNode> = nodes.iter().filter(|n| n.kind == OrgKind::Grid).collect();
            let communities: Vec<&org::OrgNode> = nodes.iter().filter(|n| n.kind == OrgKind::Community).collect();
            let unit_nodes: Vec<&org::OrgNode> = if by_grid { grids.clone() } else { communities.clone() };
            let mut units: Vec<UnitFigures> = unit_nodes
                .iter()
                .map(|n| UnitFigures {
                    code: n.code.clone(),
                    name: n.name.clone(),
                    cases: kinds(),
                    boundary: n.boundary.as_deref().and_then(|b| serde_json::from_str(b).ok()),
                    ..Default::default()
                })
                .collect();
            // a community is drawn as its grids (only grids carry a boundary)
            if !by_grid {
                let mut shapes: HashMap<i64, Vec<serde_json::Value>> = HashMap::new();
                for g in &grids {
                    let Some(b) = g.boundary.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                    else {
                        continue;
                    };
                    let polygons = match b["type"].as_str() {
                        Some("Polygon") => vec![b["coordinates"].clone()],
                        Some("MultiPolygon") => b["coordinates"].as_array().cloned().unwrap_or_default(),
                        _ => vec![],
                    };
                    shapes.entry(g.parent_id.unwrap_or_default()).or_default().extend(polygons);
                }
                for (u, n) in units.iter_mut().zip(&unit_nodes) {
                    if let Some(polygons) = shapes.remove(&n.id).filter(|p| !p.is_empty()) {
                        u.boundary = Some(serde_json::json!({ "type": "MultiPolygon", "coordinates": polygons }));
                    }
                }
            }
            // the row a node's figures go to: a unit's own, or a grid's unit
            let mut unit_of: HashMap<i64, usize> = unit_nodes.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
            let mut unit_of_code: HashMap<&str, usize> = HashMap::new();
            for g in &grids {
                let target = if by_grid { Some(g.id) } else { g.parent_id };
                if let Some(i) = target.and_then(|t| unit_of.get(&t).copied()) {
                    unit_of.insert(g.id, i);
                    unit_of_code.insert(g.code.as_str(), i);
                }
            }
            let row_of = |node_id: i64| unit_of.get(&node_id).copied();
            let row_of_code = |code: &str| unit_of_code.get(code).copied();

            let born_after = crate::registry::years_before(today, 14);
            for (grid, category, count) in residents::category_counts(&mut tx, &node.path, &born_after).await? {
                let Some(i) = row_of_code(&grid) else { continue };
                if category.is_empty() {
                    units[i].people += count;
                } else if Category::parse(&category).is_some() {
                    *units[i].categories.entry(category).or_default() += count;
                }
            }
            let grid_ids: Vec<i64> = grids.iter().map(|g| g.id).collect();
            let week_end = today + chrono::Days::new(6);
            for p in store::plans(&mut tx, &grid_ids, &ymd(today), &ymd(week_end)).await? {
                let Some(i) = row_of(p.grid_id) else { continue };
                units[i].planned += p.planned;
                units[i].overdue += p.overdue;
                units[i].due_soon += p.due_soon;
            }
            let mut unplaced = kinds();
            for c in store::open_cases(&mut tx, &node.path, now).await? {
                let row = match c.grid_id {
                    Some(g) => row_of(g),
                    None if by_grid => None,
                    None => row_of(c.community_id),
                };
                match row {
                    Some(i) => add_cases(&mut units[i].cases, c.kind, c.open, c.near, c.late),
                    None => add_cases(&mut unplaced, c.kind, c.open, c.near, c.late),
                }
            }
            let community_ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
            let mut pledges = (0, 0);
            for p in store::pledges(&mut tx, &community_ids, year_of(now)).await? {
                pledges.0 += p.committed;
                pledges.1 += p.progress;
                if let Some(i) = row_of(p.community_id) {
                    units[i].pledges = p.committed;
                    units[i].pledge_progress = mean(p.progress, p.committed, 1);
                }
            }

            let keys = month_keys(last, MONTHS);
            let (from, to) = (keys.first().cloned().unwrap_or_default(), keys.last().cloned().unwrap_or_default());
            let tally_nodes: Vec<i64> = community_ids.iter().chain(grid_ids.iter()).copied().collect();
            // the whole's months summed by the database; each row's only when asked
            let (months, kept) = if per_unit {
                let kept = tallies::of_nodes(&mut tx, &tally_nodes, &from, &to).await?;
                (fold_months(&keys, kept.iter()), kept)
            } else {
                (fold_months(&keys, tallies::summed(&mut tx, &tally_nodes, &from, &to).await?.iter()), vec![])
            };
            // a row's own tallies: a grid's, or a community's and its grids'
            let mut of_unit: Vec<Vec<&tallies::Tally>> = vec![vec![]; if per_unit { unit_nodes.len() } else { 0 }];
            for t in &kept {
                if let Some(i) = row_of(t.node_id) {
                    of_unit[i].push(t);
                }
            }
            let unit_months = of_unit.into_iter().map(|ts| fold_months(&keys, ts.into_iter())).collect();
            let places = if by_grid {
                yijia_store::places::map_points(&mut tx, &community_ids)
                    .await?
                    .into_iter()
                    .map(|(name, lon, lat)| MapPlace { name, lon, lat })
                    .collect()
            } else {
                vec![]
            };
            drop(tx);

            for u in &mut units {
                u.on_time_permille = on_time(u.planned, u.overdue);
            }
            let mut total = UnitFigures {
                code: node.code.clone(),
                name: node.name.clone(),
                cases: unplaced.clone(),
                pledges: pledges.0,
                pledge_progress: mean(pledges.1, pledges.0, 1),
                ..Default::default()
            };
            for u in &units {
                total.people += u.people;
                for (c, n) in &u.categories {
                    *total.categories.entry(c.clone()).or_default() += n;
                }
                total.planned += u.planned;
                total.overdue += u.overdue;
                total.due_soon += u.due_soon;
                for c in &u.cases {
                    add_cases(&mut total.cases, c.kind, c.open, c.near, c.late);
                }
            }
            total.on_time_permille = on_time(total.planned, total.overdue);
            let categories = Category::ALL
                .iter()
                .map(|c| CategoryName {
                    code: c.code().to_owned(),
                    name: c.name_zh().to_owned(),
                    name_en: c.name_en().to_owned(),
                })
                .collect();
            let dashboard = Dashboard {
                org: node.code.clone(),
                org_name: node.name.clone(),
                org_kind: node.kind,
                unit_kind: if by_grid { "grid" } else { "community" }.to_owned(),
                today: ymd(today),
                categories,
                units,
                unplaced: if by_grid { unplaced } else { kinds() },
                total,
                months,
                places,
            };
            Ok((dashboard, unit_months))
        })
        .await
    }

    /// Recounts every tally from the rows; the differences (none when the
    /// tallies are exact).
    pub async fn tallies_check(&self) -> Result<(usize, Vec<String>)> {
        let mut tx = self.db.read().await?;
        let kept = tallies::kept(&mut tx).await?;
        let recount: Vec<tallies::Tally> =
            tallies::recount(&mut tx).await?.into_iter().filter(|t| t.n != 0 || t.total != 0).collect();
        tx.commit().await?;
        let key = |t: &tallies::Tally| (t.node_id, t.month.clone(), t.figure.clone());
        let kept_map: BTreeMap<_, _> = kept.iter().map(|t| (key(t), (t.n, t.total))).collect();
        let recount_map: BTreeMap<_, _> = recount.iter().map(|t| (key(t), (t.n, t.total))).collect();
        let mut differences = Vec::new();
        for k in kept_map.keys().chain(recount_map.keys()).collect::<std::collections::BTreeSet<_>>() {
            let (a, b) = (kept_map.get(k), recount_map.get(k));
            if a != b {
                differences.push(format!("node {} {} {}: kept {a:?}, recounted {b:?}", k.0, k.1, k.2));
            }
        }
        Ok((recount.len(), differences))
    }

    /// Throws the tallies away and counts them afresh; how many there are.
    pub async fn tallies_rebuild(&self) -> Result<u64> {
        let mut tx = self.db.write().await?;
        let n = tallies::rebuild(&mut tx).await?;
        tx.commit().await?;
        Ok(n)
    }
}
