//! The org tree: everyone on staff sees the part they work in (and the way
//! up to it); admins edit it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::org::{Boundary, OrgCode, OrgKind, child_path, validate_org_name};
use yijia_domain::role::Role;
use yijia_store::{Tx, org, places};

use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::roles::{ORG_EDITORS, ORG_VIEWERS};
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgNodeView {
    pub code: String,
    pub kind: OrgKind,
    pub name: String,
    pub parent: Option<String>,
    pub depth: usize,
    /// The grid boundary as a GeoJSON geometry, when it has one.
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

/// The community a node lies in (itself when it is one).
pub(crate) async fn community_of(tx: &mut Tx, path: &str) -> Result<Option<org::OrgNode>> {
    // /root/<subdistrict>/<community>/…: the community is the third level
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.len() < 3 {
        return Ok(None);
    }
    Ok(org::by_code(tx, parts[2]).await?.filter(|n| n.kind == OrgKind::Community))
}

/// The communities under the caller's scope paths: those in each subtree,
/// and a grid's own community for a grid worker; each once, by id.
pub(crate) async fn communities_in(tx: &mut Tx, paths: &[String]) -> Result<Vec<org::OrgNode>> {
    let mut found: BTreeMap<i64, org::OrgNode> = BTreeMap::new();
    for p in paths {
        for n in org::subtree(tx, p).await? {
            if n.kind == OrgKind::Community {
                found.insert(n.id, n);
            }
        }
        if let Some(c) = community_of(tx, p).await? {
            found.insert(c.id, c);
        }
    }
    Ok(found.into_values().collect())
}

fn depth(path: &str) -> usize {
    path.matches('/').count().saturating_sub(2)
}

fn view(n: org::OrgNode, codes: &BTreeMap<i64, String>) -> OrgNodeView {
    OrgNodeView {
        kind: n.kind,
        parent: n.parent_id.and_then(|p| codes.get(&p).cloned()),
        depth: depth(&n.path),
        boundary: n.boundary.as_deref().and_then(|b| serde_json::from_str(b).ok()),
        code: n.code,
        name: n.name,
    }
}

/// An estate (小区) and the grid it lies in.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EstateView {
    pub name: String,
    /// Code of the grid its point lies in.
    pub grid: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// A node with what lies directly below it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NodeDetail {
    pub node: OrgNodeView,
    pub children: Vec<OrgNodeView>,
    /// Estates in this grid, or in the grids of this community.
    pub estates: Vec<EstateView>,
}

/// An org node to create.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub parent: String,
    pub boundary: Option<String>,
}

fn parse_boundary(kind: OrgKind, boundary: Option<&str>) -> Result<Option<String>> {
    match boundary.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(_) if kind != OrgKind::Grid => {
            Err(ServiceError::invalid("boundary", "只有网格可以设置边界", "only grids carry a boundary"))
        }
        Some(b) => Ok(Some(Boundary::parse(b)?.to_json().to_owned())),
    }
}

/// A community as a visitor of the public boards sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicCommunity {
    pub code: String,
    pub name: String,
    pub subdistrict: String,
}

impl Services {
    /// The communities whose boards are public, for a visitor who opened a
    /// board without naming one (a poster printed with the plain address).
    pub async fn public_communities(&self) -> Result<Vec<PublicCommunity>> {
        let mut tx = self.db.conn().await?;
        let mut list: Vec<PublicCommunity> = org::communities(&mut tx)
            .await?
            .into_iter()
            .map(|(code, name, subdistrict)| PublicCommunity { code, name, subdistrict })
            .collect();
        // as a reader looks for a name: subdistrict, then community, in pinyin order
        list.sort_by(|a, b| {
            let by = yijia_domain::text::name_cmp;
            by(&a.subdistrict, &b.subdistrict).then_with(|| by(&a.name, &b.name))
        });
        Ok(list)
    }

    /// The nodes the caller may see, in tree order: their subtrees and the
    /// way up from each.
    pub async fn org_tree(&self, caller: &Caller) -> Result<Vec<OrgNodeView>> {
        let paths = caller.scope_paths(ORG_VIEWERS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.read().await?;
        let mut nodes: BTreeMap<String, org::OrgNode> = BTreeMap::new();
        for p in &paths {
            for n in org::subtree(&mut tx, p).await? {
                nodes.insert(n.path.clone(), n);
            }
            // ancestors: each prefix of the path that ends at a '/'
            let mut cut = 0;
            while let Some(i) = p[cut + 1..].find('/') {
                cut += i + 1;
                let prefix = &p[..=cut];
                if prefix.len() < p.len() && !nodes.contains_key(prefix) {
                    let code = prefix.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                    if let Some(n) = org::by_code(&mut tx, code).await? {
                        nodes.insert(n.path.clone(), n);
                    }
                }
            }
        }
        tx.commit().await?;
        let codes: BTreeMap<i64, String> = nodes.values().map(|n| (n.id, n.code.clone())).collect();
        Ok(nodes.into_values().map(|n| view(n, &codes)).collect())
    }

    async fn node_in_scope(&self, caller: &Caller, code: &str, roles: &[Role], action: &str) -> Result<org::OrgNode> {
        let mut tx = self.db.read().await?;
        let node = org::by_code(&mut tx, code).await?;
        tx.commit().await?;
        match node {
            Some(n) if caller.covers(roles, &n.path) => Ok(n),
            Some(n) => Err(self.deny(caller, action, &format!("org:{}", n.code)).await),
            None => Err(ServiceError::NotFound),
        }
    }

    /// One node, its children and the estates in it.
    pub async fn org_node(&self, caller: &Caller, code: &str) -> Result<NodeDetail> {
        let n = self.node_in_scope(caller, code, ORG_VIEWERS, "org_read").await?;
        let mut tx = self.db.read().await?;
        let parent = match n.parent_id {
            Some(p) => Some(org::by_id(&mut tx, p).await?),
            None => None,
        };
        let children = org::children(&mut tx, n.id).await?;
        let estates = match (n.kind, n.parent_id) {
            (OrgKind::Community, _) => places::estates(&mut tx, n.id, None).await?,
            (OrgKind::Grid, Some(community)) => places::estates(&mut tx, community, Some(n.id)).await?,
            _ => vec![],
        };
        tx.commit().await?;
        let mut codes: BTreeMap<i64, String> = children.iter().map(|c| (c.id, c.code.clone())).collect();
        codes.insert(n.id, n.code.clone());
        if let Some(p) = parent {
            codes.insert(p.id, p.code);
        }
        let children = children.into_iter().map(|c| view(c, &codes)).collect();
        let estates = estates
            .into_iter()
            .map(|e| EstateView { name: e.name, grid: e.grid_code, lon: e.lon, lat: e.lat })
            .collect();
        Ok(NodeDetail { node: view(n, &codes), children, estates })
    }

    pub async fn org_create(&self, caller: &Caller, new: NewNode) -> Result<OrgNodeView> {
        if !caller.has_any(ORG_EDITORS) {
            return Err(ServiceError::forbidden());
        }
        let code = OrgCode::parse(&new.code)?;
        let kind: OrgKind = new.kind.parse()?;
        if kind == OrgKind::Root {
            return Err(ServiceError::invalid("kind", "只能有一个根节点", "there is only one root"));
        }
        let name = validate_org_name(&new.name)?;
        let boundary = parse_boundary(kind, new.boundary.as_deref())?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let Some(parent) = org::by_code(&mut tx, new.parent.trim()).await? else {
            return Err(ServiceError::invalid(
                "parent",
                format!("找不到上级组织「{}」", new.parent),
                format!("no parent node with code '{}'", new.parent),
            ));
        };
        let parent_kind = parent.kind;
        if kind.parent_kind() != Some(parent_kind) {
            return Err(ServiceError::invalid(
                "parent",
                format!(
                    "{}须建在{}之下,而「{}」是{}",
                    kind.name_zh(),
                    kind.parent_kind().map(|k| k.name_zh()).unwrap_or(""),
                    parent.code,
                    parent_kind.name_zh()
                ),
                format!(
                    "a {} belongs under a {}, but '{}' is a {}",
                    kind.code(),
                    kind.parent_kind().map(|k| k.code()).unwrap_or(""),
                    parent.code,
                    parent_kind.code()
                ),
            ));
        }
        if !caller.covers(ORG_EDITORS, &parent.path) {
            return Err(ServiceError::forbidden());
        }
        let path = child_path(&parent.path, &code);
        let node = org::NewNode {
            code: code.as_str(),
            kind,
            name: &name,
            parent_id: parent.id,
            path: &path,
            boundary: boundary.as_deref(),
            now,
        };
        let n = on_conflict(org::insert(&mut tx, &node).await, || {
            Msg::new(format!("组织编码「{code}」已存在"), format!("the org code '{code}' exists already"))
        })?;
        if kind == OrgKind::Community {
            crate::cases::catalogue::ensure_catalogue(&mut tx, n.id, now).await?;
        }
        let e = Event::ok("org_create", format!("org:{code}"), &path);
        record(&mut tx, caller, now, &e.with(json!({ "name": name, "kind": kind.code() }))).await?;
        tx.commit().await?;
        let codes = BTreeMap::from([(parent.id, parent.code)]);
        Ok(view(n, &codes))
    }

    /// Renames a node or sets its boundary (codes are stable and never change).
    pub async fn org_update(
        &self,
        caller: &Caller,
        code: &str,
        name: Option<&str>,
        boundary: Option<Option<&str>>,
    ) -> Result<OrgNodeView> {
        let n = self.node_in_scope(caller, code, ORG_EDITORS, "org_update").await?;
        let kind = n.kind;
        if kind == OrgKind::Root {
            return Err(ServiceError::invalid("code", "根节点不能修改", "the root cannot be changed"));
        }
        let name = match name {
            Some(s) => validate_org_name(s)?,
            None => n.name.clone(),
        };
        let boundary = match boundary {
            Some(b) => parse_boundary(kind, b)?,
            None => n.boundary.clone(),
        };
        let now = self.now();
        let mut tx = self.db.write().await?;
        let updated = org::update(&mut tx, n.id, &name, boundary.as_deref(), now).await?;
        let e = Event::ok("org_update", format!("org:{}", n.code), &n.path);
        record(&mut tx, caller, now, &e.with(json!({ "name": name, "boundary": boundary.is_some() }))).await?;
        let parent = match n.parent_id {
            Some(p) => Some(org::by_id(&mut tx, p).await?),
            None => None,
        };
        tx.commit().await?;
        let codes: BTreeMap<i64, String> = parent.into_iter().map(|p| (p.id, p.code)).collect();
        Ok(view(updated, &codes))
    }

    /// Removes a node that has no children and no grants.
    pub async fn org_delete(&self, caller: &Caller, code: &str) -> Result<()> {
        let n = self.node_in_scope(caller, code, ORG_EDITORS, "org_delete").await?;
        if n.kind == OrgKind::Root {
            return Err(ServiceError::invalid("code", "根节点不能删除", "the root cannot be removed"));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        if org::count_children(&mut tx, n.id).await? > 0
            || org::count_grants(&mut tx, n.id).await? > 0
            || places::count_places(&mut tx, n.id).await? > 0
        {
            return Err(ServiceError::Conflict(Msg::new(
                format!("「{}」下还有下级组织、小区或用户授权,不能删除", n.name),
                format!("'{}' still has child nodes, estates or user grants", n.code),
            )));
        }
        let d = org::dependents(&mut tx, n.id).await?;
        let still: Vec<(i64, &str, &str, &str)> = [
            (d.residents, "居民", "人", "residents"),
            (d.cases, "事件", "件", "cases"),
            (d.visits, "走访记录", "条", "visits"),
            (d.care_plans, "关爱计划", "个", "care plans"),
            (d.notices, "公告", "条", "notices"),
        ]
        .into_iter()
        .filter(|(k, ..)| *k > 0)
        .collect();
        if !still.is_empty() {
            let zh: Vec<String> = still.iter().map(|(k, what, unit, _)| format!("{what} {k} {unit}")).collect();
            let en: Vec<String> = still.iter().map(|(k, _, _, what)| format!("{k} {what}")).collect();
            return Err(ServiceError::Conflict(Msg::new(
                format!("「{}」还有{},请先迁移或处理后再删除", n.name, zh.join("、")),
                format!("'{}' still holds {}: move or close them first", n.code, en.join(", ")),
            )));
        }
        org::delete(&mut tx, n.id).await?;
        record(&mut tx, caller, now, &Event::ok("org_delete", format!("org:{}", n.code), &n.path)).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Services {
    /// The grid whose boundary holds the point, if any.
    pub async fn grid_at(&self, lon: f64, lat: f64) -> Result<Option<(i64, String)>> {
        let mut tx = self.db.read().await?;
        let grids = places::grid_boundaries(&mut tx).await?;
        tx.commit().await?;
        Ok(grids
            .into_iter()
            .find_map(|(id, code, b)| Boundary::parse(&b).ok().filter(|b| b.contains(lon, lat)).map(|_| (id, code))))
    }

    /// Records an estate at a point, in the grid that holds the point
    /// (admins and the operator; the registry adds the everyday path).
    pub async fn add_estate_at(&self, caller: &Caller, name: &str, lon: f64, lat: f64) -> Result<EstateView> {
        if !caller.has_any(ORG_EDITORS) {
            return Err(ServiceError::forbidden());
        }
        let name = validate_org_name(name)?;
        let Some((grid_id, grid)) = self.grid_at(lon, lat).await? else {
            return Err(ServiceError::invalid(
                "location",
                format!("坐标 ({lon}, {lat}) 不在任何网格内"),
                format!("the point ({lon}, {lat}) lies in no grid"),
            ));
        };
        let now = self.now();
        let mut tx = self.db.write().await?;
        let g = org::by_id(&mut tx, grid_id).await?;
        let path = g.path;
        let community_id = g.parent_id.ok_or(ServiceError::NotFound)?;
        let new = places::NewEstate { community_id, grid_id: Some(grid_id), name: &name, point: Some((lon, lat)), now };
        let inserted = places::insert_estate(&mut tx, &new).await;
        on_conflict(inserted, || {
            Msg::new(
                format!("网格「{grid}」中已有小区「{name}」"),
                format!("grid '{grid}' has an estate '{name}' already"),
            )
        })?;
        let e = Event::ok("estate_add", format!("estate:{name}"), &path);
        record(&mut tx, caller, now, &e.with(json!({ "grid": grid }))).await?;
        tx.commit().await?;
        Ok(EstateView { name, grid: Some(grid), lon: Some(lon), lat: Some(lat) })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn depth_counts_levels_below_root() {
        assert_eq!(super::depth("/root/"), 0);
        assert_eq!(super::depth("/root/zhengyang/chengnan/"), 2);
    }
}
