//! Open311 GeoReport v2: the catalogue as services, cases as service
//! requests. Reading is public and shows no personal data (no description,
//! no reporter, the place to the building and the point to about 100 m);
//! filing needs an API key an admin issued for a community or above it.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use yijia_domain::Msg;
use yijia_domain::case::{CaseKind, Channel, Priority};
use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, rfc3339};
use yijia_store::{cases, org};

use super::CaseInput;
use crate::audit::{Event, record};
use crate::caller::Grant;
use crate::roles::KEY_ISSUERS;
use crate::{Caller, Result, ServiceError, Services};

/// The default and the longest window of a request search.
pub const WINDOW_DAYS: i64 = 90;
/// The most requests one answer lists.
pub const MAX_REQUESTS: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: String,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// A service request as anyone may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub service_request_id: String,
    /// open or closed
    pub status: String,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    /// The estate and building, never the door.
    pub address: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
}

/// What a client posts.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub api_key: String,
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    /// `attribute[code]` values.
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    pub service_request_id: String,
    pub token: String,
    pub service_notice: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub jurisdiction_id: Option<String>,
    pub service_request_id: Option<String>,
    pub service_code: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub status: Option<String>,
}

/// An API key as its issuer sees it (the key itself is shown once).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// Only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

fn parse_time(field: &str, s: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).map(|t| t.timestamp_millis()).map_err(|_| {
        ServiceError::invalid(
            field,
            format!("{field} 须为 W3C 时间,如 2026-01-01T00:00:00Z"),
            format!("{field} must be a W3C datetime such as 2026-01-01T00:00:00Z"),
        )
    })
}

fn public_request(k: &cases::Case, place: &str) -> Request {
    let state = k.state;
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Request {
        service_request_id: k.id.to_string(),
        status: if state.is_open() { "open" } else { "closed" }.to_owned(),
        status_notes: format!("{} / {}", state.name_zh(), state.name_en()),
        service_name: k.category_name.clone(),
        service_code: k.category_code.clone(),
        agency_responsible: k.grid_name.clone().unwrap_or_else(|| k.community_name.clone()),
        service_notice: String::new(),
        requested_datetime: rfc3339(k.created_at),
        updated_datetime: rfc3339(k.updated_at),
        expected_datetime: state.is_open().then(|| rfc3339(k.resolve_due)),
        address: place.to_owned(),
        lat: k.lat.map(round),
        long: k.lon.map(round),
    }
}

impl Services {
    /// The community an Open311 call is about: the one named, or the only one.
    async fn jurisdiction(&self, tx: &mut yijia_store::Tx, id: Option<&str>) -> Result<org::OrgNode> {
        match id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(code) => org::by_code(tx, code).await?.filter(|n| n.kind == OrgKind::Community).ok_or_else(|| {
                ServiceError::invalid(
                    "jurisdiction_id",
                    format!("没有社区「{code}」"),
                    format!("no jurisdiction '{code}'"),
                )
            }),
            None => {
                let all = cases::communities(tx).await?;
                match all.as_slice() {
                    [one] => Ok(one.clone()),
                    _ => Err(ServiceError::invalid(
                        "jurisdiction_id",
                        "本服务覆盖多个社区,请给出 jurisdiction_id(社区代码)",
                        "this endpoint serves several communities: give jurisdiction_id (a community code)",
                    )),
                }
            }
        }
    }

    pub async fn open311_services(&self, jurisdiction: Option<&str>) -> Result<Vec<Service>> {
        let mut tx = self.db.conn().await?;
        let com = self.jurisdiction(&mut tx, jurisdiction).await?;
        let cats = cases::categories(&mut tx, com.id).await?;
        Ok(cats
            .into_iter()
            .filter(|c| c.active)
            .map(|c| {
                let kind = c.kind;
                Service {
                    service_code: c.code,
                    service_name: c.name,
                    description: if c.description.is_empty() { c.name_en } else { c.description },
                    metadata: true,
                    kind: "realtime".to_owned(),
                    keywords: format!("{},{}", kind.code(), kind.name_zh()),
                    group: kind.name_zh().to_owned(),
                }
            })
            .collect())
    }

    pub async fn open311_definition(&self, jurisdiction: Option<&str>, code: &str) -> Result<ServiceDefinition> {
        let mut tx = self.db.conn().await?;
        let com = self.jurisdiction(&mut tx, jurisdiction).await?;
        let cat = cases::category_by_code(&mut tx, com.id, code).await?.filter(|c| c.active);
        let cat = cat.ok_or(ServiceError::NotFound)?;
        let mut attributes = vec![Attribute {
            variable: true,
            code: "priority".to_owned(),
            datatype: "singlevaluelist".to_owned(),
            required: false,
            datatype_description: "紧急程度 / how urgent".to_owned(),
            order: 1,
            description: format!("默认「{}」/ default: {}", cat.priority.code(), cat.priority.code()),
            values: Priority::ALL
                .into_iter()
                .map(|p| AttributeValue {
                    key: p.code().to_owned(),
                    name: format!("{} / {}", p.name_zh(), p.name_en()),
                })
                .collect(),
        }];
        if cat.kind == CaseKind::Hazard {
            attributes.push(Attribute {
                variable: true,
                code: "at_risk".to_owned(),
                datatype: "string".to_owned(),
                required: false,
                datatype_description: "危及什么 / what is at risk".to_owned(),
                order: 2,
                description: "如:楼道行人、顶层住户 / e.g. people in the stairwell".to_owned(),
                values: vec![],
            });
        }
        Ok(ServiceDefinition { service_code: cat.code, attributes })
    }

    /// Requests of a jurisdiction, newest first: by id, or by code, status
    /// and a window of at most 90 days (the last 90 by default).
    pub async fn open311_requests(&self, q: &RequestQuery) -> Result<Vec<Request>> {
        let now = self.now();
        let mut tx = self.db.conn().await?;
        let com = self.jurisdiction(&mut tx, q.jurisdiction_id.as_deref()).await?;
        let ids: Vec<i64> = match q.service_request_id.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(list) => list
                .split(',')
                .map(|s| {
                    s.trim().parse::<i64>().map_err(|_| {
                        ServiceError::invalid("service_request_id", format!("不是编号:{s}"), format!("not an id: {s}"))
                    })
                })
                .collect::<Result<_>>()?,
            None => vec![],
        };
        let rows = if !ids.is_empty() {
            cases::public_by_ids(&mut tx, com.id, &ids).await?
        } else {
            let end = q.end_date.as_deref().map(|s| parse_time("end_date", s)).transpose()?;
            let start = q.start_date.as_deref().map(|s| parse_time("start_date", s)).transpose()?;
            let (start, end) = match (start, end) {
                (Some(s), Some(e)) => (s, e),
                (Some(s), None) => (s, s + WINDOW_DAYS * DAY_MS),
                (None, Some(e)) => (e - WINDOW_DAYS * DAY_MS, e),
                (None, None) => (now + 1 - WINDOW_DAYS * DAY_MS, now + 1),
            };
            if end < start || end - start > WINDOW_DAYS * DAY_MS {
                return Err(ServiceError::invalid(
                    "start_date",
                    "查询时段须在 90 天以内",
                    "start_date to end_date may span at most 90 days",
                ));
            }
            let codes: Vec<String> = q
                .service_code
                .as_deref()
                .map(|s| s.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect())
                .unwrap_or_default();
            let mut open = None;
            if let Some(st) = q.status.as_deref().filter(|s| !s.trim().is_empty()) {
                let wanted: Vec<&str> = st.split(',').map(str::trim).collect();
                if wanted.iter().any(|w| *w != "open" && *w != "closed") {
                    return Err(ServiceError::invalid(
                        "status",
                        "status 只能是 open 或 closed",
                        "status is open or closed",
                    ));
                }
                if !(wanted.contains(&"open") && wanted.contains(&"closed")) {
                    open = Some(wanted.contains(&"open"));
                }
            }
            cases::public_list(&mut tx, com.id, &codes, open, start, end, MAX_REQUESTS).await?
        };
        Ok(rows.iter().map(|p| public_request(&p.case, &p.place)).collect())
    }

    pub async fn open311_request(&self, jurisdiction: Option<&str>, id: &str) -> Result<Request> {
        let id: i64 = id.trim().parse().map_err(|_| ServiceError::NotFound)?;
        let q = RequestQuery {
            jurisdiction_id: jurisdiction.map(str::to_owned),
            service_request_id: Some(id.to_string()),
            ..Default::default()
        };
        self.open311_requests(&q).await?.into_iter().next().ok_or(ServiceError::NotFound)
    }

    pub async fn open311_token(&self, jurisdiction: Option<&str>, token: &str) -> Result<TokenAnswer> {
        let mut tx = self.db.conn().await?;
        let com = self.jurisdiction(&mut tx, jurisdiction).await?;
        let k = cases::by_token(&mut tx, token.trim()).await?.filter(|k| k.community_id == com.id);
        let k = k.ok_or(ServiceError::NotFound)?;
        Ok(TokenAnswer { service_request_id: k.id.to_string(), token: token.trim().to_owned() })
    }

    /// Files a request for the holder of an API key.
    pub async fn open311_create(&self, r: &NewRequest) -> Result<Created> {
        let mut tx = self.db.conn().await?;
        let key = cases::api_key_by_hash(&mut tx, &key_hash(&r.api_key)).await?.filter(|k| k.revoked_at.is_none());
        let Some(key) = key else {
            return Err(ServiceError::Forbidden(Msg::new("api_key 无效或已停用", "the api_key is invalid or revoked")));
        };
        let com = self.jurisdiction(&mut tx, r.jurisdiction_id.as_deref()).await?;
        let key_org = org::by_id(&mut tx, key.org_id).await?;
        drop(tx);
        if !com.path.starts_with(&key_org.path) {
            return Err(ServiceError::Forbidden(Msg::new(
                "此 api_key 不能向该社区提交",
                "this api_key may not file requests in that jurisdiction",
            )));
        }
        let attr = |code: &str| r.attributes.iter().find(|(c, _)| c == code).map(|(_, v)| v.trim().to_owned());
        let priority = match attr("priority").filter(|p| !p.is_empty()) {
            Some(p) => Some(Priority::parse(&p).ok_or_else(|| {
                ServiceError::invalid("attribute[priority]", format!("没有优先级「{p}」"), format!("no priority '{p}'"))
            })?),
            None => None,
        };
        let name: String =
            [r.last_name.as_deref(), r.first_name.as_deref()].into_iter().flatten().map(str::trim).collect();
        let description = match r.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.to_owned(),
            None => r.address_string.clone().unwrap_or_default(),
        };
        let description = crate::fields::text_between("description", &description, 1, 2000)?;
        let description = match r.address_string.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) if a != description => format!("{description}\n地址:{a}"),
            _ => description,
        };
        let input = CaseInput {
            community: Some(com.code.clone()),
            category: r.service_code.clone(),
            priority,
            description,
            channel: Some(Channel::Open311),
            lon: r.long,
            lat: r.lat,
            reporter_name: Some(name).filter(|n| !n.is_empty()),
            reporter_phone: r.phone.clone(),
            at_risk: attr("at_risk"),
            ..Default::default()
        };
        // the key files as staff of its scope would, for this call only
        let caller = Caller {
            user_id: None,
            username: format!("apikey:{}", key.id),
            display_name: format!("Open311 · {}", key.name),
            grants: vec![Grant {
                role: Role::CommunityStaff,
                org_code: key_org.code.clone(),
                org_name: key_org.name.clone(),
                org_kind: key_org.kind,
                org_path: key_org.path.clone(),
            }],
            ip: "open311".to_owned(),
            api_key: Some(key.id),
            ..Caller::operator()
        };
        let v = self.create_case(&caller, &input).await?;
        let mut tx = self.db.conn().await?;
        let k = cases::get(&mut tx, v.summary.id).await?.ok_or(ServiceError::NotFound)?;
        Ok(Created {
            service_request_id: k.id.to_string(),
            token: k.token.unwrap_or_default(),
            service_notice: format!("已受理登记,将在 {} 前处理 / filed", v.resolve_due),
        })
    }

    /// Issues an API key for Open311 clients of `scope` (a community or
    /// above); the key is shown once.
    pub async fn issue_api_key(&self, caller: &Caller, name: &str, scope: &str) -> Result<ApiKeyView> {
        if !caller.has_any(KEY_ISSUERS) {
            return Err(ServiceError::forbidden());
        }
        let name = crate::fields::text_between("name", name, 2, 60)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let node = org::by_code(&mut tx, scope.trim()).await?.filter(|n| n.kind != OrgKind::Grid);
        let Some(node) = node else {
            return Err(ServiceError::invalid(
                "scope",
                format!("没有社区或街道「{scope}」"),
                format!("no community or subdistrict '{scope}'"),
            ));
        };
        if !caller.covers(KEY_ISSUERS, &node.path) {
            return Err(ServiceError::forbidden());
        }
        let key = format!("y311_{}", hex::encode(rand::random::<[u8; 24]>()));
        let id = cases::insert_api_key(&mut tx, &name, &key_hash(&key), node.id, &caller.username, now).await?;
        let e = Event::ok("api_key_issue", format!("api_key:{id}"), &node.path);
        record(&mut tx, caller, now, &e.with(json!({ "name": name }))).await?;
        tx.commit().await?;
        Ok(ApiKeyView {
            id,
            name,
            scope: node.code,
            created_by: caller.username.clone(),
            created_at: rfc3339(now),
            revoked_at: None,
            key: Some(key),
        })
    }

    pub async fn api_keys(&self, caller: &Caller) -> Result<Vec<ApiKeyView>> {
        if !caller.has_any(KEY_ISSUERS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.conn().await?;
        let rows = cases::api_keys(&mut tx).await?;
        Ok(rows
            .into_iter()
            .filter(|k| caller.covers(KEY_ISSUERS, &k.org_path))
            .map(|k| ApiKeyView {
                id: k.id,
                name: k.name,
                scope: k.org_code,
                created_by: k.created_by,
                created_at: rfc3339(k.created_at),
                revoked_at: k.revoked_at.map(rfc3339),
                key: None,
            })
            .collect())
    }

    pub async fn revoke_api_key(&self, caller: &Caller, id: i64) -> Result<()> {
        if !caller.has_any(KEY_ISSUERS) {
            return Err(ServiceError::forbidden());
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let k = cases::api_keys(&mut tx).await?.into_iter().find(|k| k.id == id);
        let Some(k) = k.filter(|k| caller.covers(KEY_ISSUERS, &k.org_path)) else {
            return Err(ServiceError::NotFound);
        };
        cases::revoke_api_key(&mut tx, id, now).await?;
        record(&mut tx, caller, now, &Event::ok("api_key_revoke", format!("api_key:{id}"), &k.org_path)).await?;
        tx.commit().await?;
        Ok(())
    }
}
