//! The org tree: subdistricts, communities and grids.

use super::prelude::*;
use yijia_domain::org::OrgKind;
use yijia_service::Caller;
use yijia_service::roles::{ORG_EDITORS, ORG_VIEWERS};

use super::fixable;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/org", Roles(ORG_VIEWERS), Scope::Grants, org_tree)
        .post("/org", Roles(ORG_EDITORS), Scope::Named, org_create)
        .get("/org/{code}", Roles(ORG_VIEWERS), Scope::Object, org_node)
        .post("/org/{code}", Roles(ORG_EDITORS), Scope::Object, org_update)
}

// ---- org -------------------------------------------------------------------

struct NodeLine {
    code: String,
    name: String,
    kind_name: &'static str,
    depth: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "org.html")]
struct OrgPage {
    c: Chrome,
    nodes: Vec<NodeLine>,
    /// Codes are for those who edit the tree (and the API); others read names.
    show_codes: bool,
}

async fn org_tree(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let nodes = st.svc.org_tree(&c).await.page(lang)?;
    let nodes = nodes
        .into_iter()
        .map(|n| NodeLine { kind_name: lang.name(n.kind), code: n.code, name: n.name, depth: n.depth })
        .collect();
    let show_codes = c.has_any(ORG_EDITORS);
    Ok(OrgPage { c: Chrome::for_caller(lang, &c, "/org", "/org"), nodes, show_codes }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "org_node.html")]
struct OrgNodePage {
    c: Chrome,
    node: yijia_service::org::OrgNodeView,
    kind_name: &'static str,
    parent: Option<String>,
    children: Vec<(String, String)>,
    /// An estate and its grid: (code, name).
    estates: Vec<(String, Option<(String, String)>)>,
    map: Option<super::map::MapSvg>,
    editable: bool,
    is_grid: bool,
    boundary_text: String,
    child_kind: Option<&'static str>,
    message: Option<String>,
}

async fn render_node(st: &AppState, c: &Caller, lang: Lang, code: &str, message: Option<String>) -> PageResult {
    let detail = st.svc.org_node(c, code).await.page(lang)?;
    let node = detail.node;
    let points: Vec<(f64, f64, String)> =
        detail.estates.iter().filter_map(|e| Some((e.lon?, e.lat?, e.name.clone()))).collect();
    // a grid's own boundary, or its community's grids, each a link
    let mut shapes: Vec<(&serde_json::Value, Option<String>)> =
        detail.children.iter().filter_map(|c| Some((c.boundary.as_ref()?, Some(format!("/org/{}", c.code))))).collect();
    if let Some(b) = &node.boundary {
        shapes.push((b, None));
    }
    let map = super::map::MapSvg::new(&shapes, &points);
    let editable = c.has_any(ORG_EDITORS) && node.kind != OrgKind::Root;
    let child_kind = match node.kind {
        OrgKind::Root => Some("subdistrict"),
        OrgKind::Subdistrict => Some("community"),
        OrgKind::Community => Some("grid"),
        OrgKind::Grid => None,
    }
    .filter(|_| c.has_any(ORG_EDITORS));
    let here = format!("/org/{}", node.code);
    let page = OrgNodePage {
        c: Chrome::for_caller(lang, c, "/org", &here),
        kind_name: lang.name(node.kind),
        parent: node.parent.clone(),
        estates: detail
            .estates
            .into_iter()
            .map(|e| {
                let grid = e.grid.map(|g| {
                    let name = detail.children.iter().find(|ch| ch.code == g).map(|ch| ch.name.clone());
                    (g.clone(), name.unwrap_or(g))
                });
                (e.name, grid)
            })
            .collect(),
        children: detail.children.into_iter().map(|ch| (ch.code, ch.name)).collect(),
        map,
        editable: editable || (c.has_any(ORG_EDITORS) && child_kind.is_some()),
        is_grid: node.kind == OrgKind::Grid,
        boundary_text: node.boundary.as_ref().map(|b| b.to_string()).unwrap_or_default(),
        child_kind,
        message,
        node,
    };
    Ok(page.into_response())
}

async fn org_node(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(code): Path<String>) -> PageResult {
    render_node(&st, &c, lang, &code, None).await
}

#[derive(Deserialize)]
struct OrgUpdateForm {
    name: String,
    boundary: Option<String>,
}

async fn org_update(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(code): Path<String>,
    Form(f): Form<OrgUpdateForm>,
) -> PageResult {
    let boundary = f.boundary.as_deref().map(|b| Some(b).filter(|b| !b.trim().is_empty()));
    let msg = match st.svc.org_update(&c, &code, Some(&f.name), boundary).await {
        Ok(_) => lang.t("已保存", "Saved").to_owned(),
        Err(e) => fixable(e, lang)?,
    };
    render_node(&st, &c, lang, &code, Some(msg)).await
}

#[derive(Deserialize)]
struct OrgCreateForm {
    parent: String,
    kind: String,
    code: String,
    name: String,
}

async fn org_create(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<OrgCreateForm>) -> PageResult {
    let parent = f.parent.clone();
    let new =
        yijia_service::org::NewNode { code: f.code, kind: f.kind, name: f.name, parent: f.parent, boundary: None };
    match st.svc.org_create(&c, new).await {
        Ok(n) => Ok(Redirect::to(&format!("/org/{}", n.code)).into_response()),
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_node(&st, &c, lang, &parent, Some(msg)).await
        }
    }
}
