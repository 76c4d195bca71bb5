use super::prelude::*;
use yijia_service::org::{NewNode, NodeDetail, OrgNodeView};

/// The org nodes you may see, in tree order.
#[utoipa::path(get, path = "/api/v1/org", tag = "org",
    responses(
        (status = 200, description = "Nodes in tree order", body = Vec<OrgNodeView>),
        (status = 404, description = "Your role has no org view", body = ErrorBody),
    ))]
pub async fn org_tree(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<OrgNodeView>>, ApiError> {
    Ok(Json(st.svc.org_tree(&c).await.api(lang)?))
}

/// One node, its children and its estates.
#[utoipa::path(get, path = "/api/v1/org/{code}", tag = "org",
    params(("code" = String, Path, description = "Org code, e.g. chengnan-g01")),
    responses(
        (status = 200, description = "The node", body = NodeDetail),
        (status = 404, description = "No such node within your scope", body = ErrorBody),
    ))]
pub async fn get_org_node(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<NodeDetail>, ApiError> {
    Ok(Json(st.svc.org_node(&c, &code).await.api(lang)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNode {
    /// Stable code: lowercase letters, digits, hyphens (e.g. chengnan-g07).
    pub code: String,
    /// subdistrict, community or grid.
    pub kind: String,
    /// Chinese name.
    pub name: String,
    /// Code of the parent node (`root` for a subdistrict).
    pub parent: String,
    /// Grids only: a GeoJSON Polygon or MultiPolygon.
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

/// Create a node (admins).
#[utoipa::path(post, path = "/api/v1/org", tag = "org", request_body = CreateNode,
    responses(
        (status = 201, description = "Created", body = OrgNodeView),
        (status = 403, description = "Not allowed here, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The code exists", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ))]
pub async fn create_org_node(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CreateNode>,
) -> Result<(StatusCode, Json<OrgNodeView>), ApiError> {
    let new = NewNode {
        code: b.code,
        kind: b.kind,
        name: b.name,
        parent: b.parent,
        boundary: b.boundary.map(|v| v.to_string()),
    };
    Ok((StatusCode::CREATED, Json(st.svc.org_create(&c, new).await.api(lang)?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNode {
    pub name: Option<String>,
    /// A GeoJSON Polygon or MultiPolygon; `null` removes the boundary.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Option<serde_json::Value>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    let v: Option<serde_json::Value> = Deserialize::deserialize(d)?;
    Ok(Some(v.filter(|v| !v.is_null())))
}

/// Rename a node or set its boundary (admins).
#[utoipa::path(patch, path = "/api/v1/org/{code}", tag = "org", request_body = UpdateNode,
    params(("code" = String, Path, description = "Org code")),
    responses(
        (status = 200, description = "Updated", body = OrgNodeView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such node within your scope", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ))]
pub async fn update_org_node(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<UpdateNode>,
) -> Result<Json<OrgNodeView>, ApiError> {
    let boundary = b.boundary.map(|o| o.map(|v| v.to_string()));
    let boundary_ref = boundary.as_ref().map(|o| o.as_deref());
    Ok(Json(st.svc.org_update(&c, &code, b.name.as_deref(), boundary_ref).await.api(lang)?))
}

/// Remove a node without children or grants (admins).
#[utoipa::path(delete, path = "/api/v1/org/{code}", tag = "org",
    params(("code" = String, Path, description = "Org code")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such node within your scope", body = ErrorBody),
        (status = 409, description = "The node still has children or grants", body = ErrorBody),
        (status = 422, description = "The root cannot be removed", body = ErrorBody),
    ))]
pub async fn delete_org_node(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    st.svc.org_delete(&c, &code).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
