//! Votes for residents who have no phone: a grid worker carries a ballot
//! of a building (names, no ID numbers) door to door, then records each
//! vote with the signed slip's photo or a witness. One vote a resident,
//! whatever the channel; every recorded vote is audited.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::ballot::{self as rules, Channel};
use yijia_domain::project::Stage;
use yijia_store::ballots::{Cast, CastVote};
use yijia_store::pledges;
use yijia_store::projects as store;
use yijia_store::{places, residents};

use crate::audit::{Event, record};
use crate::cases::PhotoFile;
use crate::roles::{BALLOT_RECORDERS, RESIDENT_READERS};
use crate::{Caller, Result, ServiceError, Services};

/// One resident on a ballot: their name and, once cast, their vote.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BallotLine {
    pub resident_id: i64,
    pub name: String,
    pub vote: Option<CastView>,
}

/// A vote as it came in.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CastView {
    pub accept: bool,
    pub channel: Channel,
    /// Who recorded it (staff, or the family member acting); none for the resident's own phone.
    pub recorded_by: Option<String>,
    pub witness: Option<String>,
    /// Whether a photo of the signed slip is kept.
    pub slip: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BallotDoor {
    pub entrance: String,
    pub door: String,
    pub people: Vec<BallotLine>,
}

/// The acceptance ballot of one building of a project.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BallotView {
    pub project_id: i64,
    pub title: String,
    pub building_id: i64,
    pub building: String,
    pub open: bool,
    pub doors: Vec<BallotDoor>,
    /// Doors of this building in grids outside your scope are not shown.
    pub partial: bool,
}

/// A resident's pledge vote (or, with `verdict`, his year-end verdict) that staff record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PaperPledge {
    pub resident_id: i64,
    /// Who saw the resident vote; needed when no slip is photographed.
    #[serde(default)]
    pub witness: String,
    /// For a verdict at the year's end: kept or not, and satisfaction.
    #[serde(default)]
    pub verdict: Option<PaperVerdict>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
pub struct PaperVerdict {
    pub kept: bool,
    /// 1 to 5.
    pub satisfaction: i64,
}

/// A vote a grid worker or staff records for a resident.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PaperVote {
    pub resident_id: i64,
    pub accept: bool,
    /// Who saw the resident vote (and what they are to them); needed when no slip is photographed.
    #[serde(default)]
    pub witness: String,
}

fn cast_view(accept: bool, c: CastVote) -> CastView {
    CastView { accept, channel: c.channel, recorded_by: c.recorded_by, witness: c.witness, slip: c.slip.is_some() }
}

/// How a resident's own vote comes in: his phone, or his family member's.
pub(crate) fn own_cast(caller: &Caller) -> Cast<'_> {
    match &caller.proxy {
        Some(p) => Cast { channel: Channel::Proxy, recorded_by: Some(&p.family_name), slip: None, witness: None },
        None => Cast::PHONE,
    }
}

/// What a resident who already voted is told, whoever cast it.
pub(crate) fn already_in(c: &CastVote) -> ServiceError {
    match (c.channel, &c.recorded_by) {
        (Channel::Phone, _) | (_, None) => ServiceError::conflict("您已投过票", "you have voted already"),
        (ch, Some(by)) => ServiceError::conflict(
            format!("您的票已经记下了({},{by} 记录),不能再投", ch.name_zh()),
            format!("your vote is already in ({}, recorded by {by}): it cannot be cast again", ch.name_en()),
        ),
    }
}

impl Services {
    /// The ballot of one of a project's buildings, for the worker to carry
    /// and to record on: who lives there (names only) and who has voted.
    pub async fn project_ballot(&self, caller: &Caller, project_id: i64, building_id: i64) -> Result<BallotView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let object = format!("project:{project_id}");
            let mut tx = self.db.write().await?;
            let p = store::get(&mut tx, project_id).await?.ok_or(ServiceError::NotFound)?;
            let b = store::buildings(&mut tx, project_id)
                .await?
                .into_iter()
                .find(|b| b.id == building_id)
                .ok_or(ServiceError::NotFound)?;
            let grids = places::building_grid_paths(&mut tx, building_id).await?;
            let visible: Vec<String> = grids.iter().filter(|g| caller.covers(BALLOT_RECORDERS, g)).cloned().collect();
            if visible.is_empty() {
                return Err(ServiceError::denied("project_ballot", object));
            }
            let rows = residents::in_building(&mut tx, building_id, &visible).await?;
            let casts = store::casts(&mut tx, project_id).await?;
            let com = yijia_store::org::by_id(&mut tx, p.community_id).await?;
            let mut doors: Vec<BallotDoor> = Vec::new();
            for at in rows {
                let vote =
                    casts.iter().find(|(_, c)| c.resident_id == at.resident.id).map(|(a, c)| cast_view(*a, c.clone()));
                let line = BallotLine { resident_id: at.resident.id, name: at.resident.name, vote };
                match doors.last_mut() {
                    Some(d) if d.entrance == at.entrance && d.door == at.door => d.people.push(line),
                    _ => doors.push(BallotDoor { entrance: at.entrance, door: at.door, people: vec![line] }),
                }
            }
            let seen: usize = doors.iter().map(|d| d.people.len()).sum();
            let e =
                Event::ok("project_ballot", object, &com.path).with(json!({ "building": building_id, "people": seen }));
            record(&mut tx, caller, now, &e).await?;
            tx.commit().await?;
            Ok(BallotView {
                project_id,
                title: p.title,
                building_id,
                building: format!("{} {}", b.estate, b.name),
                open: p.stage == Stage::Voting,
                doors,
                partial: visible.len() < grids.len(),
            })
        })
        .await
    }

    /// Records a resident's paper or door-to-door vote on a project's
    /// acceptance, with the signed slip's photo (at most one) or a witness.
    pub async fn record_project_vote(
        &self,
        caller: &Caller,
        project_id: i64,
        input: PaperVote,
        uploads: Vec<Vec<u8>>,
    ) -> Result<crate::projects::Votes> {
        let witness = rules::evidence(&input.witness, !uploads.is_empty())?;
        let slip = self.keep_slip(uploads).await?;
        let r = self.record_project_vote_tx(caller, project_id, &input, slip.as_deref(), witness.as_deref()).await;
        self.unless_recorded(&r, slip.as_deref()).await;
        r
    }

    /// Keeps the photo of a signed slip (one at most), cleaned; its stored name.
    async fn keep_slip(&self, uploads: Vec<Vec<u8>>) -> Result<Option<String>> {
        if uploads.len() > 1 {
            return Err(ServiceError::invalid("slip", "只需一张选票照片", "one photo of the slip"));
        }
        let Some(u) = uploads.into_iter().next() else { return Ok(None) };
        let photo = crate::photos::clean_gated(u, crate::photos::clean).await?;
        let name = format!("slip-{}.{}", uuid::Uuid::new_v4().simple(), photo.extension);
        self.files.put(&name, photo.bytes).await?;
        Ok(Some(name))
    }

    /// Forgets the slip of a vote that was not recorded.
    async fn unless_recorded<T>(&self, r: &Result<T>, slip: Option<&str>) {
        if r.is_err()
            && let Some(name) = slip
            && let Err(e) = self.files.remove(name).await
        {
            tracing::warn!(file = %name, error = %crate::error::Report(&e), "an unrecorded slip stays behind");
        }
    }

    /// Records a resident's paper or door-to-door vote on a pledge (or his
    /// verdict on one at the year's end), with the slip's photo or a witness.
    pub async fn record_pledge_ballot(
        &self,
        caller: &Caller,
        pledge_id: i64,
        input: PaperPledge,
        uploads: Vec<Vec<u8>>,
    ) -> Result<crate::pledges::PledgeView> {
        let witness = rules::evidence(&input.witness, !uploads.is_empty())?;
        let slip = self.keep_slip(uploads).await?;
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let object = format!("pledge:{pledge_id}");
                let mut tx = self.db.write().await?;
                let found = pledges::get(&mut tx, pledge_id).await?.ok_or(ServiceError::NotFound)?;
                let r = residents::get(&mut tx, input.resident_id).await?;
                let com = yijia_store::org::by_id(&mut tx, found.community_id).await?;
                let Some(r) = r.filter(|r| caller.covers(BALLOT_RECORDERS, &r.grid_path)) else {
                    return Err(ServiceError::denied("pledge_vote_record", object));
                };
                if !yijia_domain::org::path_covers(&com.path, &r.grid_path) {
                    return Err(ServiceError::invalid(
                        "resident_id",
                        "这位居民不在这个社区",
                        "this resident is not of the pledge's community",
                    ));
                }
                let y = pledges::year(&mut tx, com.id, found.year).await?.ok_or(ServiceError::NotFound)?;
                let cast = Cast {
                    channel: Channel::Paper,
                    recorded_by: Some(&caller.display_name),
                    slip: slip.as_deref(),
                    witness: witness.as_deref(),
                };
                let (action, detail) = match input.verdict {
                    None => {
                        crate::pledges::cast_vote(&mut tx, (&found, &y), r.id, &cast, now).await?;
                        ("pledge_vote_record", json!({ "resident": r.id }))
                    }
                    Some(v) => {
                        crate::pledges::cast_verdict(&mut tx, (&found, &y), r.id, (v.kept, v.satisfaction), &cast, now)
                            .await?;
                        ("pledge_verdict_record", json!({ "resident": r.id, "kept": v.kept }))
                    }
                };
                let e = Event::ok(action, object, &r.grid_path)
                    .with(json!({ "detail": detail, "slip": slip.is_some(), "witness": witness }));
                record(&mut tx, caller, now, &e).await?;
                let p = pledges::get(&mut tx, pledge_id).await?.ok_or(ServiceError::NotFound)?;
                tx.commit().await?;
                Ok(crate::pledges::pledge_view(&p))
            })
            .await;
        self.unless_recorded(&r, slip.as_deref()).await;
        r
    }

    async fn record_project_vote_tx(
        &self,
        caller: &Caller,
        project_id: i64,
        input: &PaperVote,
        slip: Option<&str>,
        witness: Option<&str>,
    ) -> Result<crate::projects::Votes> {
        let now = self.now();
        self.denials_audited(caller, async {
            let object = format!("project:{project_id}");
            let mut tx = self.db.write().await?;
            let p = store::get(&mut tx, project_id).await?.ok_or(ServiceError::NotFound)?;
            let r = residents::get(&mut tx, input.resident_id).await?;
            let Some(r) = r.filter(|r| caller.covers(BALLOT_RECORDERS, &r.grid_path)) else {
                return Err(ServiceError::denied("project_vote_record", object));
            };
            if !crate::projects::lives_in(&mut tx, r.household_id, project_id).await? {
                return Err(ServiceError::invalid(
                    "resident_id",
                    "这位居民不住在这个项目的楼里",
                    "this resident does not live in the project's buildings",
                ));
            }
            if p.stage != Stage::Voting {
                return Err(ServiceError::conflict("现在不是验收投票时间", "the project is not being voted on now"));
            }
            let cast = Cast { channel: Channel::Paper, recorded_by: Some(&caller.display_name), slip, witness };
            if !store::vote(&mut tx, project_id, r.id, input.accept, &cast, now).await? {
                let before = store::cast_of(&mut tx, project_id, r.id).await?;
                return Err(before.map_or_else(
                    || ServiceError::conflict("这位居民已投过票", "this resident has voted already"),
                    |c| match c.channel {
                        Channel::Phone => ServiceError::conflict(
                            "这位居民已在手机上投过票",
                            "this resident has voted on their phone already",
                        ),
                        ch => ServiceError::conflict(
                            format!("这位居民的票已经记下了({})", ch.name_zh()),
                            format!("this resident's vote is already in ({})", ch.name_en()),
                        ),
                    },
                ));
            }
            let com = yijia_store::org::by_id(&mut tx, p.community_id).await?;
            let e = Event::ok("project_vote_record", object, &r.grid_path).with(json!({
                "resident": r.id, "accept": input.accept, "slip": slip.is_some(), "witness": witness,
                "community": com.path,
            }));
            record(&mut tx, caller, now, &e).await?;
            let (accept, reject, by) = store::tally(&mut tx, project_id).await?;
            tx.commit().await?;
            Ok(crate::projects::Votes { accept, reject, quorum: p.quorum, by_channel: by })
        })
        .await
    }

    /// The photo of a resident's signed slip, for staff who may read them.
    pub async fn project_vote_slip(&self, caller: &Caller, project_id: i64, resident_id: i64) -> Result<PhotoFile> {
        let name = self
            .denials_audited(caller, async {
                let object = format!("project:{project_id}");
                let mut tx = self.db.read().await?;
                let r = residents::get(&mut tx, resident_id).await?;
                if !r.is_some_and(|r| caller.covers(RESIDENT_READERS, &r.grid_path)) {
                    return Err(ServiceError::denied("project_vote_slip", object));
                }
                let c = store::cast_of(&mut tx, project_id, resident_id).await?;
                tx.commit().await?;
                c.and_then(|c| c.slip).ok_or(ServiceError::NotFound)
            })
            .await?;
        let bytes = self.files.get(&name).await?;
        let (content_type, ext) = crate::photos::kept_as(&name);
        Ok(PhotoFile { bytes, content_type: content_type.to_owned(), file_name: format!("slip-{resident_id}.{ext}") })
    }
}
