//! The honours board: published rules worked out from the month's
//! confirmed attendance, never typed in. A resident's name shows on the
//! public board only when they chose so; otherwise the line says that a
//! resident earned it.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::activity::Honour;
use yijia_domain::org::OrgKind;
use yijia_domain::time::HOUR_MS;
use yijia_store::activities as store;
use yijia_store::org;

use crate::audit::{Event, record};
use crate::invitations::own_record;
use crate::points::month_range;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HonoursBoard {
    pub community: String,
    pub community_name: String,
    /// `2026-11`.
    pub month: String,
    pub honours: Vec<HonourView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HonourView {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The published rule.
    pub rule: String,
    pub rule_en: String,
    pub holders: Vec<Holder>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holder {
    /// Only when the resident chose to be named.
    pub name: Option<String>,
    pub activities: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct HonourConsent {
    /// Whether my name may appear on the public honours board.
    pub public: bool,
}

/// The first moment of a month (`2026-11-01`) and of the next, in Beijing time.
pub(crate) fn month_ms(first: &str, last: &str) -> Result<(i64, i64)> {
    let day = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis() - 8 * HOUR_MS)
            .ok_or_else(|| ServiceError::invalid("month", "月份格式应为 2026-11", "a month is written 2026-11"))
    };
    Ok((day(first)?, day(last)? + 24 * HOUR_MS))
}

impl Services {
    /// A community's honours for a month (last month when none): public.
    pub async fn honours_board(&self, community: &str, month: Option<&str>) -> Result<HonoursBoard> {
        let now = self.now();
        // the last whole month
        let default = yijia_domain::time::to_local(now)
            .date_naive()
            .with_day(1)
            .and_then(|d| d.pred_opt())
            .map(|d| d.format("%Y-%m").to_string());
        let (month, first, last) = month_range(month.or(default.as_deref()), now)?;
        let (from, to) = month_ms(&first, &last)?;
        let mut tx = self.db.read().await?;
        let Some(com) = org::by_code(&mut tx, community.trim()).await?.filter(|c| c.kind == OrgKind::Community) else {
            return Err(ServiceError::NotFound);
        };
        let rows = store::attendance(&mut tx, com.id, from, to).await?;
        tx.commit().await?;
        let month_rows: Vec<(i64, i64, i64)> = rows.iter().map(|r| (r.resident_id, r.activities, r.minutes)).collect();
        let honours = Honour::ALL
            .iter()
            .map(|h| {
                let ids = h.earned_by(&month_rows);
                let mut holders: Vec<Holder> = rows
                    .iter()
                    .filter(|r| ids.contains(&r.resident_id))
                    .map(|r| Holder {
                        name: r.public.then(|| r.name.clone()),
                        activities: r.activities,
                        minutes: r.minutes,
                    })
                    .collect();
                holders.sort_by_key(|h| std::cmp::Reverse(h.minutes));
                HonourView {
                    code: h.code().into(),
                    name: h.name_zh().into(),
                    name_en: h.name_en().into(),
                    rule: h.rule_zh().into(),
                    rule_en: h.rule_en().into(),
                    holders,
                }
            })
            .collect();
        Ok(HonoursBoard { community: com.code, community_name: com.name, month, honours })
    }

    /// The board of the resident's own community.
    pub async fn my_honours_board(&self, caller: &Caller, month: Option<&str>) -> Result<HonoursBoard> {
        let mut tx = self.db.read().await?;
        let (_, com) = own_record(&mut tx, caller).await?;
        tx.commit().await?;
        self.honours_board(&com.code, month).await
    }

    pub async fn my_honour_consent(&self, caller: &Caller) -> Result<HonourConsent> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, _) = own_record(&mut tx, caller).await?;
            let public = store::consent(&mut tx, r.id).await?;
            tx.commit().await?;
            Ok(HonourConsent { public })
        })
        .await
    }

    /// A resident chooses whether their name appears on the public board.
    pub async fn set_my_honour_consent(&self, caller: &Caller, input: HonourConsent) -> Result<HonourConsent> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, _) = own_record(&mut tx, caller).await?;
            store::set_consent(&mut tx, r.id, input.public, now).await?;
            let e = Event::ok("honour_consent", format!("resident:{}", r.id), &r.grid_path);
            record(&mut tx, caller, now, &e.with(json!({ "public": input.public }))).await?;
            tx.commit().await?;
            Ok(input)
        })
        .await
    }
}
