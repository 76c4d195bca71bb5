//! The catalogue of case categories a community edits, with deadlines per
//! priority. A community starts with the defaults below.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::case::{CaseKind, Deadlines, Priority};
use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;
use yijia_domain::time::MINUTE_MS;
use yijia_store::{Tx, cases, org};

use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::roles::CATALOGUE_EDITORS;
use crate::{Caller, Result, ServiceError, Services};

/// (code, kind, 名称, name, priority, description)
const DEFAULTS: &[(&str, CaseKind, &str, &str, Priority, &str)] = &[
    ("repair", CaseKind::Request, "房屋维修", "Home repairs", Priority::Ordinary, "漏水、门窗、楼道灯等维修"),
    ("sanitation", CaseKind::Request, "环境卫生", "Sanitation", Priority::Ordinary, "垃圾清运、楼道堆物、绿化"),
    ("utilities", CaseKind::Request, "水电气暖", "Water, power, gas, heating", Priority::Urgent, "停水停电、供暖不热"),
    ("elderly_help", CaseKind::Request, "为老服务", "Help for the elderly", Priority::Ordinary, "代办、陪诊、上门服务"),
    (
        "paperwork",
        CaseKind::Request,
        "证明办理",
        "Certificates and paperwork",
        Priority::Ordinary,
        "各类证明、政策咨询",
    ),
    ("other_request", CaseKind::Request, "其他诉求", "Other requests", Priority::Ordinary, "其他居民诉求"),
    ("neighbour", CaseKind::Dispute, "邻里纠纷", "Neighbour dispute", Priority::Ordinary, "噪音、漏水、占道等邻里矛盾"),
    ("family", CaseKind::Dispute, "家庭纠纷", "Family dispute", Priority::Urgent, "婚姻、赡养、继承等家庭矛盾"),
    ("property", CaseKind::Dispute, "物业纠纷", "Property management dispute", Priority::Complex, "物业服务、收费纠纷"),
    ("wages", CaseKind::Dispute, "劳资纠纷", "Unpaid wages", Priority::Complex, "拖欠工资等劳资矛盾"),
    ("structure", CaseKind::Hazard, "房屋安全", "Building safety", Priority::Urgent, "墙体开裂、屋顶漏雨、吊顶脱落"),
    ("fire", CaseKind::Hazard, "消防隐患", "Fire safety", Priority::Urgent, "楼道堆物、消防通道堵塞、电动车入户"),
    ("gas", CaseKind::Hazard, "燃气隐患", "Gas", Priority::Emergency, "燃气泄漏、管道老化"),
    ("wiring", CaseKind::Hazard, "电线私拉", "Unsafe wiring", Priority::Urgent, "私拉电线、飞线充电"),
    ("facility", CaseKind::Hazard, "公共设施", "Public facilities", Priority::Ordinary, "井盖、护栏、健身器材损坏"),
];

/// Gives a community the default catalogue if it has none yet.
pub(crate) async fn ensure_catalogue(tx: &mut Tx, community_id: i64, now: i64) -> Result<()> {
    if !cases::categories(tx, community_id).await?.is_empty() {
        return Ok(());
    }
    for (code, kind, name, name_en, priority, description) in DEFAULTS {
        let id = cases::insert_category(
            tx,
            &cases::NewCategory {
                community_id,
                code,
                kind: *kind,
                name,
                name_en,
                description,
                priority: *priority,
                now,
            },
        )
        .await?;
        default_deadlines(tx, id).await?;
    }
    Ok(())
}

/// Gives a new category the default deadlines of every priority.
async fn default_deadlines(tx: &mut Tx, category_id: i64) -> Result<()> {
    for p in Priority::ALL {
        let d = p.default_deadlines();
        let row = cases::Deadline { category_id, priority: p, accept_ms: d.accept_ms, resolve_ms: d.resolve_ms };
        cases::set_deadline(tx, &row).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadlineView {
    pub priority: Priority,
    /// Minutes to accept a case, from when it was filed.
    pub accept_minutes: i64,
    /// Minutes to resolve it, from when it was filed.
    pub resolve_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseCategoryView {
    pub id: i64,
    pub community: String,
    /// Also the Open311 `service_code`.
    pub code: String,
    pub kind: CaseKind,
    pub kind_name: String,
    pub name: String,
    pub name_en: String,
    pub description: String,
    /// The priority a new case of this category gets unless told otherwise.
    pub priority: Priority,
    pub active: bool,
    pub deadlines: Vec<DeadlineView>,
}

/// A new category, or the new state of one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseCategoryInput {
    /// Letters, digits and `_`, 2–32 characters; fixed once made.
    pub code: String,
    pub kind: CaseKind,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub priority: Priority,
    /// Default true.
    pub active: Option<bool>,
    /// Deadlines per priority; those left out keep theirs (or the defaults).
    #[serde(default)]
    pub deadlines: Vec<DeadlineView>,
}

pub(crate) fn category_view(c: &cases::Category, community: &str, deadlines: &[cases::Deadline]) -> CaseCategoryView {
    let kind = c.kind;
    let mut ds: Vec<DeadlineView> = deadlines
        .iter()
        .filter(|d| d.category_id == c.id)
        .map(|d| DeadlineView {
            priority: d.priority,
            accept_minutes: d.accept_ms / MINUTE_MS,
            resolve_minutes: d.resolve_ms / MINUTE_MS,
        })
        .collect();
    ds.sort_by_key(|d| d.priority);
    CaseCategoryView {
        id: c.id,
        community: community.to_owned(),
        code: c.code.clone(),
        kind,
        kind_name: kind.name_zh().to_owned(),
        name: c.name.clone(),
        name_en: c.name_en.clone(),
        description: c.description.clone(),
        priority: c.priority,
        active: c.active,
        deadlines: ds,
    }
}

fn check_code(code: &str) -> Result<String> {
    let code = code.trim();
    let ok = (2..=32).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && code.starts_with(|c: char| c.is_ascii_lowercase());
    if !ok {
        return Err(ServiceError::invalid(
            "code",
            "代码须为 2–32 位小写字母、数字或下划线,以字母开头",
            "the code is 2–32 lowercase letters, digits or '_', starting with a letter",
        ));
    }
    Ok(code.to_owned())
}

impl Services {
    /// Gives every community without a catalogue the defaults (communities
    /// made before cases existed); run at start.
    pub async fn ensure_case_catalogues(&self) -> Result<usize> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let ids = cases::communities_without_catalogue(&mut tx).await?;
        for id in &ids {
            ensure_catalogue(&mut tx, *id, now).await?;
        }
        tx.commit().await?;
        Ok(ids.len())
    }

    /// The community the caller works in (for one code, or their only one).
    pub(crate) async fn caller_community(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        roles: &[Role],
        community: Option<&str>,
    ) -> Result<org::OrgNode> {
        let node = match community.map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => org::by_code(tx, code).await?.filter(|n| n.kind == OrgKind::Community),
            None => {
                // the community above (or at) the caller's first grant of these roles
                let grant = caller.grants.iter().find(|g| roles.contains(&g.role));
                match grant {
                    Some(g) => crate::org::community_of(tx, &g.org_path).await?,
                    None => None,
                }
            }
        };
        let Some(node) = node else {
            return Err(ServiceError::invalid(
                "community",
                "请指明社区(社区代码)",
                "name the community (its org code)",
            ));
        };
        if !works_in(caller, roles, &node.path) {
            return Err(ServiceError::denied("case_community", format!("org:{}", node.code)));
        }
        Ok(node)
    }

    /// A community's catalogue, for anyone who files or handles cases there.
    pub async fn case_categories(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<CaseCategoryView>> {
        self.denials_audited(caller, self.case_categories_in(caller, community)).await
    }

    async fn case_categories_in(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<CaseCategoryView>> {
        let mut tx = self.db.conn().await?;
        let com = self.caller_community(&mut tx, caller, crate::roles::CASE_FILERS, community).await?;
        let cats = cases::categories(&mut tx, com.id).await?;
        let ds = cases::deadlines(&mut tx, com.id).await?;
        Ok(cats.iter().map(|c| category_view(c, &com.code, &ds)).collect())
    }

    /// Adds a category to a community's catalogue, or changes one (by code).
    pub async fn save_case_category(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: &CaseCategoryInput,
    ) -> Result<CaseCategoryView> {
        self.denials_audited(caller, self.save_case_category_in(caller, community, input)).await
    }

    async fn save_case_category_in(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: &CaseCategoryInput,
    ) -> Result<CaseCategoryView> {
        if !caller.has_any(CATALOGUE_EDITORS) {
            return Err(ServiceError::forbidden());
        }
        let code = check_code(&input.code)?;
        let name = crate::fields::text_between("name", &input.name, 1, 20)?;
        let name_en = crate::fields::text_between("name_en", input.name_en.as_deref().unwrap_or(&code), 1, 60)?;
        let description =
            crate::fields::text_between("description", input.description.as_deref().unwrap_or(""), 0, 200)?;
        for d in &input.deadlines {
            Deadlines { accept_ms: d.accept_minutes * MINUTE_MS, resolve_ms: d.resolve_minutes * MINUTE_MS }
                .check()
                .map_err(|m| ServiceError::Invalid(yijia_domain::Invalid { field: "deadlines".into(), msg: m }))?;
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let com = self.caller_community(&mut tx, caller, CATALOGUE_EDITORS, community).await?;
        if !caller.covers(CATALOGUE_EDITORS, &com.path) {
            return Err(ServiceError::denied("case_category_save", format!("org:{}", com.code)));
        }
        let existing = cases::category_by_code(&mut tx, com.id, &code).await?;
        let id = match &existing {
            Some(c) => {
                if c.kind != input.kind {
                    return Err(ServiceError::invalid(
                        "kind",
                        "已有类别不能改变种类,请新建一个类别",
                        "a category keeps its kind; make a new one instead",
                    ));
                }
                let active = input.active.unwrap_or(c.active);
                cases::update_category(&mut tx, c.id, &name, &name_en, &description, input.priority, active).await?;
                c.id
            }
            None => {
                let r = cases::insert_category(
                    &mut tx,
                    &cases::NewCategory {
                        community_id: com.id,
                        code: &code,
                        kind: input.kind,
                        name: &name,
                        name_en: &name_en,
                        description: &description,
                        priority: input.priority,
                        now,
                    },
                )
                .await;
                let id = on_conflict(r, || yijia_domain::Msg::new("已有此代码的类别", "a category has this code"))?;
                if input.active == Some(false) {
                    cases::update_category(&mut tx, id, &name, &name_en, &description, input.priority, false).await?;
                }
                default_deadlines(&mut tx, id).await?;
                id
            }
        };
        for d in &input.deadlines {
            let row = cases::Deadline {
                category_id: id,
                priority: d.priority,
                accept_ms: d.accept_minutes * MINUTE_MS,
                resolve_ms: d.resolve_minutes * MINUTE_MS,
            };
            cases::set_deadline(&mut tx, &row).await?;
        }
        let action = if existing.is_some() { "case_category_update" } else { "case_category_add" };
        let e = Event::ok(action, format!("case_category:{}:{code}", com.code), &com.path);
        record(&mut tx, caller, now, &e.with(json!({ "name": name, "deadlines": input.deadlines.len() }))).await?;
        let cats = cases::categories(&mut tx, com.id).await?;
        let ds = cases::deadlines(&mut tx, com.id).await?;
        tx.commit().await?;
        let c = cats.iter().find(|c| c.id == id).ok_or(ServiceError::NotFound)?;
        Ok(category_view(c, &com.code, &ds))
    }
}

/// Whether the caller holds a grant of these roles on the community at
/// `path`, above it, or inside it (a grid of it).
pub(crate) fn works_in(caller: &Caller, roles: &[Role], path: &str) -> bool {
    caller
        .grants
        .iter()
        .any(|g| roles.contains(&g.role) && (g.org_path.starts_with(path) || path.starts_with(&g.org_path)))
}
