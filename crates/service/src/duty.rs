//! Duty posts (门岗值守): a community's posts, and shifts at them. A shift
//! is an activity at its post, so residents sign up, are checked in and out
//! and earn points for a completed shift exactly as for any activity.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_store::activities as store;
use yijia_store::org;

use crate::activities::{ActivityInput, ActivityView};
use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::fields::text;
use crate::roles::ORGANISERS;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PostInput {
    /// 丁香花园南门岗
    pub name: String,
    pub place: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ShiftInput {
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// People on the shift.
    pub capacity: i64,
    /// Points an hour.
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PostView {
    pub id: i64,
    pub community: String,
    pub name: String,
    pub place: String,
    /// Shifts that have not ended (and those of the last week).
    pub shifts: Vec<ActivityView>,
}

impl Services {
    pub async fn add_post(&self, caller: &Caller, community: Option<&str>, input: PostInput) -> Result<PostView> {
        let name = text("name", &input.name, 50)?;
        let place = text("place", &input.place, 100)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, ORGANISERS, community).await?;
            let id = on_conflict(store::insert_post(&mut tx, com.id, &name, &place, now).await, || {
                Msg::new(format!("已有岗位「{name}」"), format!("there is a post '{name}' already"))
            })?;
            let e = Event::ok("duty_post", format!("post:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": name }))).await?;
            tx.commit().await?;
            Ok(PostView { id, community: com.code, name, place, shifts: vec![] })
        })
        .await
    }

    /// The community's posts, each with its recent and coming shifts.
    pub async fn duty_posts(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<PostView>> {
        let all = self.activities(caller, community).await?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, crate::roles::POINT_READERS, community).await?;
            let posts = store::posts(&mut tx, com.id).await?;
            tx.commit().await?;
            Ok(posts
                .into_iter()
                .map(|p| PostView {
                    shifts: all.iter().filter(|a| a.post_id == Some(p.id)).cloned().collect(),
                    id: p.id,
                    community: com.code.clone(),
                    name: p.name,
                    place: p.place,
                })
                .collect())
        })
        .await
    }

    /// A shift at a post: residents sign up for it like an activity, and
    /// a completed shift earns points an hour when confirmed.
    pub async fn add_shift(&self, caller: &Caller, post_id: i64, input: ShiftInput) -> Result<ActivityView> {
        let mut tx = self.db.read().await?;
        let post = store::post(&mut tx, post_id).await?;
        let com = match &post {
            Some(p) => Some(org::by_id(&mut tx, p.community_id).await?),
            None => None,
        };
        tx.commit().await?;
        let (Some(post), Some(com)) = (post, com) else { return Err(ServiceError::NotFound) };
        let activity = ActivityInput {
            title: format!("门岗值守 · {}", post.name),
            description: None,
            place: post.place.clone(),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            capacity: input.capacity,
            who_may_join: None,
            points_rule: "per_hour".into(),
            points: input.points,
        };
        self.put_up(caller, Some(&com.code), activity, Some(&post)).await
    }
}
