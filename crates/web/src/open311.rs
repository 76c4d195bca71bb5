//! Open311 GeoReport v2 under `/open311/v2/`, in JSON and XML as the
//! specification at open311.org defines them: list-shaped answers, error
//! lists, `jurisdiction_id`, a 90-day default window, status open/closed.
//! Reading is public and shows no personal data; filing needs an `api_key`.

use std::collections::HashMap;

use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yijia_service::ServiceError;
use yijia_service::cases::open311::{
    Attribute, AttributeValue, NewRequest, Request, RequestQuery, Service, ServiceDefinition,
};

use crate::AppState;
use crate::error::describe;
use crate::i18n::Lang;
use crate::policy::{Policy, Routes, Scope};

pub fn routes(r: Routes) -> Routes {
    use Policy::Public;
    r.get("/open311/v2/{resource}", Public, Scope::None, resource)
        .post("/open311/v2/{resource}", Public, Scope::None, post_request)
        .get("/open311/v2/services/{code}", Public, Scope::None, definition)
        .get("/open311/v2/requests/{id}", Public, Scope::None, one_request)
        .get("/open311/v2/tokens/{token}", Public, Scope::None, token)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

/// `services.json` → ("services", Json).
fn split(name: &str) -> Option<(&str, Format)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let f = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((stem, f))
}

#[derive(Serialize)]
struct ErrorItem {
    code: u16,
    description: String,
}

#[derive(Serialize)]
struct Errors<'a> {
    error: &'a [ErrorItem],
}

fn xml_of<T: Serialize>(root: &str, v: &T) -> Result<String, String> {
    let body = quick_xml::se::to_string_with_root(root, v).map_err(|e| e.to_string())?;
    Ok(format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{body}"))
}

/// An answer in the format asked for; XML under `root`.
fn answer<J: Serialize, X: Serialize>(status: StatusCode, f: Format, json: &J, root: &str, xml: &X) -> Response {
    let (ct, body) = match f {
        Format::Json => ("application/json; charset=utf-8", serde_json::to_string(json).map_err(|e| e.to_string())),
        Format::Xml => ("text/xml; charset=utf-8", xml_of(root, xml)),
    };
    match body {
        Ok(b) => (status, [(header::CONTENT_TYPE, ct)], b).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "writing an Open311 answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An error list, as the specification shapes it.
fn error(f: Format, status: StatusCode, description: String) -> Response {
    let items = [ErrorItem { code: status.as_u16(), description }];
    answer(status, f, &items, "errors", &Errors { error: &items })
}

fn failed(f: Format, lang: Lang, e: &ServiceError) -> Response {
    let (status, _, message, field) = describe(e, lang);
    let status = match status {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        s => s,
    };
    let text = match field {
        Some(f) if f != "open311" => format!("{f}: {message}"),
        _ => message,
    };
    error(f, status, text)
}

fn not_found(f: Format) -> Response {
    error(f, StatusCode::NOT_FOUND, "not found / 找不到".to_owned())
}

fn param(q: &HashMap<String, String>, k: &str) -> Option<String> {
    q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Serialize)]
struct ServicesXml<'a> {
    service: &'a [Service],
}

#[derive(Serialize)]
struct RequestsXml<'a> {
    request: &'a [Request],
}

async fn resource(
    State(st): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((stem, f)) = split(&name) else {
        return not_found(Format::Json);
    };
    let jurisdiction = param(&q, "jurisdiction_id");
    match stem {
        "discovery" => discovery(&headers, f),
        "services" => match st.svc.open311_services(jurisdiction.as_deref()).await {
            Ok(s) => answer(StatusCode::OK, f, &s, "services", &ServicesXml { service: &s }),
            Err(e) => failed(f, lang, &e),
        },
        "requests" => {
            let query = RequestQuery {
                jurisdiction_id: jurisdiction,
                service_request_id: param(&q, "service_request_id"),
                service_code: param(&q, "service_code"),
                start_date: param(&q, "start_date"),
                end_date: param(&q, "end_date"),
                status: param(&q, "status"),
            };
            match st.svc.open311_requests(&query).await {
                Ok(r) => answer(StatusCode::OK, f, &r, "service_requests", &RequestsXml { request: &r }),
                Err(e) => failed(f, lang, &e),
            }
        }
        _ => not_found(f),
    }
}

#[derive(Serialize)]
struct Formats {
    format: Vec<&'static str>,
}

#[derive(Serialize)]
struct Endpoint {
    specification: &'static str,
    url: String,
    changeset: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    formats: Formats,
}

#[derive(Serialize)]
struct Endpoints {
    endpoint: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Discovery {
    changeset: &'static str,
    contact: &'static str,
    key_service: &'static str,
    endpoints: Endpoints,
}

/// Where the endpoint is and what it speaks.
fn discovery(headers: &HeaderMap, f: Format) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let endpoint = |formats: Vec<&'static str>| Endpoint {
        specification: "http://wiki.open311.org/GeoReport_v2",
        url: format!("http://{host}/open311/v2"),
        changeset: "2026-11-29T00:00:00Z",
        kind: "production",
        formats: Formats { format: formats },
    };
    let d = Discovery {
        changeset: "2026-11-29T00:00:00Z",
        contact: "社区居委会 / the community office",
        key_service: "api_key 由系统管理员签发 / issued by the deployment's admin",
        endpoints: Endpoints { endpoint: vec![endpoint(vec!["application/json", "text/xml"])] },
    };
    // JSON lists formats as a plain array
    let json = serde_json::json!({
        "changeset": d.changeset, "contact": d.contact, "key_service": d.key_service,
        "endpoints": d.endpoints.endpoint.iter().map(|e| serde_json::json!({
            "specification": e.specification, "url": e.url, "changeset": e.changeset, "type": e.kind,
            "formats": e.formats.format,
        })).collect::<Vec<_>>(),
    });
    answer(StatusCode::OK, f, &json, "discovery", &d)
}

#[derive(Serialize)]
struct ValuesXml<'a> {
    value: &'a [AttributeValue],
}

#[derive(Serialize)]
struct AttributeXml<'a> {
    variable: bool,
    code: &'a str,
    datatype: &'a str,
    required: bool,
    datatype_description: &'a str,
    order: u32,
    description: &'a str,
    values: ValuesXml<'a>,
}

#[derive(Serialize)]
struct AttributesXml<'a> {
    attribute: Vec<AttributeXml<'a>>,
}

#[derive(Serialize)]
struct DefinitionXml<'a> {
    service_code: &'a str,
    attributes: AttributesXml<'a>,
}

fn attribute_xml(a: &Attribute) -> AttributeXml<'_> {
    AttributeXml {
        variable: a.variable,
        code: &a.code,
        datatype: &a.datatype,
        required: a.required,
        datatype_description: &a.datatype_description,
        order: a.order,
        description: &a.description,
        values: ValuesXml { value: &a.values },
    }
}

async fn definition(
    State(st): State<AppState>,
    lang: Lang,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((code, f)) = split(&name) else {
        return not_found(Format::Json);
    };
    match st.svc.open311_definition(param(&q, "jurisdiction_id").as_deref(), code).await {
        Ok(d) => {
            let x = DefinitionXml {
                service_code: &d.service_code,
                attributes: AttributesXml { attribute: d.attributes.iter().map(attribute_xml).collect() },
            };
            answer::<ServiceDefinition, _>(StatusCode::OK, f, &d, "service_definition", &x)
        }
        Err(e) => failed(f, lang, &e),
    }
}

async fn one_request(
    State(st): State<AppState>,
    lang: Lang,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((id, f)) = split(&name) else {
        return not_found(Format::Json);
    };
    match st.svc.open311_request(param(&q, "jurisdiction_id").as_deref(), id).await {
        Ok(r) => {
            let list = [r];
            answer(StatusCode::OK, f, &list, "service_requests", &RequestsXml { request: &list })
        }
        Err(e) => failed(f, lang, &e),
    }
}

async fn token(
    State(st): State<AppState>,
    lang: Lang,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((t, f)) = split(&name) else {
        return not_found(Format::Json);
    };
    match st.svc.open311_token(param(&q, "jurisdiction_id").as_deref(), t).await {
        Ok(a) => {
            let list = [a];
            #[derive(Serialize)]
            struct X<'a> {
                request: &'a [yijia_service::cases::open311::TokenAnswer],
            }
            answer(StatusCode::OK, f, &list, "service_requests", &X { request: &list })
        }
        Err(e) => failed(f, lang, &e),
    }
}

/// POST requests: form fields as the specification names them.
async fn post_request(
    State(st): State<AppState>,
    lang: Lang,
    Path(name): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let Some(("requests", f)) = split(&name) else {
        return not_found(split(&name).map_or(Format::Json, |s| s.1));
    };
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => return error(f, StatusCode::BAD_REQUEST, "the body is not a form / 不是表单".to_owned()),
    };
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
    // a coordinate that is there but not a number is the client's mistake
    let number = |k: &str| -> Result<Option<f64>, String> {
        match get(k) {
            None => Ok(None),
            Some(v) => {
                v.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or(format!("{k}: not a number / 不是数字"))
            }
        }
    };
    let (lat, long) = match (number("lat"), number("long")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => return error(f, StatusCode::BAD_REQUEST, m),
    };
    let Some(api_key) = get("api_key") else {
        return error(f, StatusCode::FORBIDDEN, "api_key is required / 需要 api_key".to_owned());
    };
    let Some(service_code) = get("service_code") else {
        return error(f, StatusCode::BAD_REQUEST, "service_code is required / 需要 service_code".to_owned());
    };
    let attributes = pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("attribute[").and_then(|r| r.strip_suffix(']')).map(|c| (c.to_owned(), v.clone()))
        })
        .collect();
    let r = NewRequest {
        api_key,
        jurisdiction_id: get("jurisdiction_id"),
        service_code,
        lat,
        long,
        address_string: get("address_string"),
        first_name: get("first_name"),
        last_name: get("last_name"),
        phone: get("phone"),
        description: get("description"),
        attributes,
    };
    match st.svc.open311_create(&r).await {
        Ok(c) => {
            let list = [c];
            #[derive(Serialize)]
            struct X<'a> {
                request: &'a [yijia_service::cases::open311::Created],
            }
            answer(StatusCode::OK, f, &list, "service_requests", &X { request: &list })
        }
        Err(e) => failed(f, lang, &e),
    }
}
