//! Notices (公告): announcements to a community, one of its grids, or one
//! building, with a publication window and pinned items. Residents see the
//! current ones for where they live on their home page; staff see how many
//! have read each.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::org::OrgKind;
use yijia_domain::time::rfc3339;
use yijia_store::notices::{self as store, NewNotice, Notice};
use yijia_store::{Tx, org, places};

use crate::audit::{Event, record};
use crate::fields::{text, time as time_field};
use crate::invitations::own_record;
use crate::roles::{COMMUNITY_PUBLISHERS, NOTICE_PUBLISHERS, NOTICE_READERS};
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NoticeInput {
    pub title: String,
    pub body: String,
    /// Kept at the top of the list.
    #[serde(default)]
    pub pinned: bool,
    /// To one grid (its org code); none: the whole community.
    #[serde(default)]
    pub grid: Option<String>,
    /// To one building's residents.
    #[serde(default)]
    pub building_id: Option<i64>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub publish_from: Option<String>,
    /// RFC 3339; none: until withdrawn.
    #[serde(default)]
    pub publish_until: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PinInput {
    pub pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub community: String,
    /// `community`, `grid` or `building`.
    pub audience: String,
    /// Whom it is for, to read: 城南社区, 第一网格, 丁香花园 3号楼.
    pub audience_name: String,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub publish_from: String,
    pub publish_until: Option<String>,
    pub author: String,
    /// `scheduled`, `current`, `ended` or `withdrawn`.
    pub status: String,
    /// How many accounts opened it.
    pub reads: i64,
    /// For a resident: whether they have opened it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
}

fn view(n: &Notice, com: &org::OrgNode, now: i64, read: Option<bool>) -> NoticeView {
    let (audience, audience_name) = match (&n.building_name, &n.grid_name) {
        (Some(b), _) => ("building", b.clone()),
        (None, Some(g)) => ("grid", g.clone()),
        (None, None) => ("community", com.name.clone()),
    };
    let status = if n.withdrawn_at.is_some() {
        "withdrawn"
    } else if n.publish_from > now {
        "scheduled"
    } else if n.publish_until.is_some_and(|u| u <= now) {
        "ended"
    } else {
        "current"
    };
    NoticeView {
        id: n.id,
        community: com.code.clone(),
        audience: audience.to_owned(),
        audience_name,
        title: n.title.clone(),
        body: n.body.clone(),
        pinned: n.pinned,
        publish_from: rfc3339(n.publish_from),
        publish_until: n.publish_until.map(rfc3339),
        author: n.author_name.clone(),
        status: status.to_owned(),
        reads: n.reads,
        read,
    }
}

fn optional_time(field: &str, s: Option<&str>) -> Result<Option<i64>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(time_field(field, s)?)),
        None => Ok(None),
    }
}

/// Where a resident lives: their grid and, when known, building.
async fn home_of(tx: &mut Tx, caller: &Caller) -> Result<(org::OrgNode, i64, Option<i64>)> {
    let (r, com) = own_record(tx, caller).await?;
    let building = match r.household_id {
        Some(h) => places::address(tx, h).await?.map(|a| a.building_id),
        None => None,
    };
    Ok((com, r.grid_id, building))
}

/// A notice the caller may change: posted in their scope.
async fn notice_to_change(tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Notice, org::OrgNode)> {
    let Some(n) = store::get(tx, id).await? else { return Err(ServiceError::NotFound) };
    let com = org::by_id(tx, n.community_id).await?;
    let grid_path = match n.grid_id {
        Some(g) => Some(org::by_id(tx, g).await?.path),
        None => None,
    };
    let building_paths = match n.building_id {
        Some(b) => places::building_grid_paths(tx, b).await?,
        None => vec![],
    };
    let ok = caller.covers(COMMUNITY_PUBLISHERS, &com.path)
        || grid_path.is_some_and(|p| caller.covers(NOTICE_PUBLISHERS, &p))
        || building_paths.iter().any(|p| caller.covers(NOTICE_PUBLISHERS, p));
    if !ok {
        return Err(ServiceError::denied("notice", format!("notice:{id}")));
    }
    Ok((n, com))
}

impl Services {
    /// Posts a notice to the community, one of its grids or one building.
    pub async fn post_notice(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: NoticeInput,
    ) -> Result<NoticeView> {
        let title = text("title", &input.title, 60)?;
        let body = text("body", &input.body, 2000)?;
        let now = self.now();
        let from = optional_time("publish_from", input.publish_from.as_deref())?.unwrap_or(now);
        let until = optional_time("publish_until", input.publish_until.as_deref())?;
        if until.is_some_and(|u| u <= from.max(now)) {
            return Err(ServiceError::invalid(
                "publish_until",
                "结束时间应晚于开始和现在",
                "the end must come after the start and now",
            ));
        }
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, NOTICE_PUBLISHERS, community).await?;
            let grid = match input.grid.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
                Some(code) => match org::by_code(&mut tx, code).await? {
                    Some(g) if g.kind == OrgKind::Grid && g.path.starts_with(&com.path) => Some(g),
                    _ => {
                        return Err(ServiceError::invalid(
                            "grid",
                            format!("本社区没有网格「{code}」"),
                            format!("no grid '{code}' in the community"),
                        ));
                    }
                },
                None => None,
            };
            let building_paths = match input.building_id {
                Some(b) => match places::building_info(&mut tx, b).await? {
                    Some(info) if info.community_id == com.id => places::building_grid_paths(&mut tx, b).await?,
                    _ => {
                        return Err(ServiceError::invalid(
                            "building_id",
                            "本社区没有这栋楼",
                            "no such building in the community",
                        ));
                    }
                },
                None => vec![],
            };
            let allowed = caller.covers(COMMUNITY_PUBLISHERS, &com.path)
                || match (&grid, input.building_id) {
                    (_, Some(_)) => building_paths.iter().any(|p| caller.covers(NOTICE_PUBLISHERS, p)),
                    (Some(g), None) => caller.covers(NOTICE_PUBLISHERS, &g.path),
                    (None, None) => false,
                };
            if !allowed {
                let msg = if grid.is_none() && input.building_id.is_none() {
                    Msg::new(
                        "网格员只能向自己的网格或楼栋发公告,请选择网格",
                        "a grid worker posts to their own grids or buildings: choose one",
                    )
                } else {
                    Msg::new(
                        "只能向自己负责的网格或楼栋发公告",
                        "you post only to the grids and buildings you look after",
                    )
                };
                return Err(ServiceError::Forbidden(msg));
            }
            let new = NewNotice {
                community_id: com.id,
                grid_id: grid.as_ref().map(|g| g.id),
                building_id: input.building_id,
                title: &title,
                body: &body,
                pinned: input.pinned,
                publish_from: from,
                publish_until: until,
                author_id: caller.user_id,
                author_name: &caller.display_name,
                now,
            };
            let id = store::insert(&mut tx, &new).await?;
            // its readers are told when it is published
            let object = format!("notice:{id}");
            let payload = json!({ "notice": id }).to_string();
            yijia_store::cases::push_outbox(&mut tx, from, "notice.posted", &com.path, &object, &payload).await?;
            let e = Event::ok("notice", format!("notice:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "title": title }))).await?;
            let n = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(view(&n, &com, now, None))
        })
        .await
    }

    /// A community's notices with their read counts, newest first.
    pub async fn notices(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<NoticeView>> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, NOTICE_READERS, community).await?;
            let list = store::of_community(&mut tx, com.id, 200).await?;
            tx.commit().await?;
            Ok(list.iter().map(|n| view(n, &com, now, None)).collect())
        })
        .await
    }

    pub async fn withdraw_notice(&self, caller: &Caller, id: i64) -> Result<NoticeView> {
        self.notice_change(caller, id, None).await
    }

    pub async fn pin_notice(&self, caller: &Caller, id: i64, input: PinInput) -> Result<NoticeView> {
        self.notice_change(caller, id, Some(input.pinned)).await
    }

    /// Withdraws a notice (`pin` none) or pins or unpins it.
    async fn notice_change(&self, caller: &Caller, id: i64, pin: Option<bool>) -> Result<NoticeView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = notice_to_change(&mut tx, caller, id).await?;
            let action = match pin {
                Some(p) => {
                    store::set_pinned(&mut tx, id, p).await?;
                    if p { "notice_pin" } else { "notice_unpin" }
                }
                None => {
                    if !store::withdraw(&mut tx, id, now).await? {
                        return Err(ServiceError::conflict("这条公告已撤回", "the notice is withdrawn already"));
                    }
                    "notice_withdraw"
                }
            };
            record(&mut tx, caller, now, &Event::ok(action, format!("notice:{id}"), &com.path)).await?;
            let n = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(view(&n, &com, now, None))
        })
        .await
    }

    /// For a resident: the notices for where they live, now, each marked
    /// read or not.
    pub async fn my_notices(&self, caller: &Caller) -> Result<Vec<NoticeView>> {
        self.notices_for_me(caller, false).await
    }

    /// For a resident: the notices for where they live that have ended,
    /// the latest first (the last hundred).
    pub async fn my_past_notices(&self, caller: &Caller) -> Result<Vec<NoticeView>> {
        self.notices_for_me(caller, true).await
    }

    async fn notices_for_me(&self, caller: &Caller, ended: bool) -> Result<Vec<NoticeView>> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (com, grid, building) = home_of(&mut tx, caller).await?;
            let list = if ended {
                store::past_for(&mut tx, com.id, grid, building, now, 100).await?
            } else {
                store::current_for(&mut tx, com.id, grid, building, now).await?
            };
            let read = match caller.user_id {
                Some(u) => store::read_by(&mut tx, u, com.id).await?,
                None => vec![],
            };
            tx.commit().await?;
            Ok(list.iter().map(|n| view(n, &com, now, Some(read.contains(&n.id)))).collect())
        })
        .await
    }

    /// A resident opens a notice meant for them: it counts as read.
    pub async fn read_notice(&self, caller: &Caller, id: i64) -> Result<NoticeView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (com, grid, building) = home_of(&mut tx, caller).await?;
            let mut mine = store::current_for(&mut tx, com.id, grid, building, now).await?;
            // one that has ended can still be read again
            mine.extend(store::past_for(&mut tx, com.id, grid, building, now, 100).await?);
            if !mine.iter().any(|n| n.id == id) {
                return Err(match store::get(&mut tx, id).await? {
                    Some(_) => ServiceError::denied("notice_read", format!("notice:{id}")),
                    None => ServiceError::NotFound,
                });
            }
            if let Some(u) = caller.user_id {
                store::mark_read(&mut tx, id, u, now).await?;
            }
            let n = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(view(&n, &com, now, Some(true)))
        })
        .await
    }
}
