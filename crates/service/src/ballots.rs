//! Votes for residents who have no phone: a grid worker carries a ballot
//! of a building (names, no ID numbers) door to door, then records each
//! vote with the signed slip's photo or a witness. One vote a resident,
//! whatever the channel; every recorded vote is audited.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::ballot::{self as rules, VoteChannel};
use yijia_domain::pledge::{Phase, PledgeStatus};
use yijia_domain::project::Stage;
use yijia_store::ballots::{Cast, CastBy, CastVote};
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
    pub channel: VoteChannel,
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

/// A pledge on a paper ballot, numbered as printed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BallotChoice {
    pub no: i64,
    pub pledge_id: i64,
    pub title: String,
}

/// A resident's pledge vote (or verdict) as it came in, by the pledge's number.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeCastView {
    pub no: i64,
    pub pledge_id: i64,
    pub channel: VoteChannel,
    pub recorded_by: Option<String>,
    pub witness: Option<String>,
    pub slip: bool,
}

/// One resident on a pledge ballot: what is in for them, and what is left.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeBallotLine {
    pub resident_id: i64,
    pub name: String,
    pub casts: Vec<PledgeCastView>,
    /// Votes left while voting; pledges not yet judged while judging.
    pub left: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeBallotDoor {
    pub entrance: String,
    pub door: String,
    pub people: Vec<PledgeBallotLine>,
}

/// The pledge ballot of one building for the community's current year:
/// while voting, the shortlist; while judging, the committed pledges.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeBallotView {
    pub community_name: String,
    pub year: i64,
    pub phase: Phase,
    /// Votes (or verdicts) can be recorded now.
    pub open: bool,
    pub votes_per_resident: i64,
    pub choices: Vec<BallotChoice>,
    pub building_id: i64,
    pub building: String,
    pub doors: Vec<PledgeBallotDoor>,
    /// Doors of this building in grids outside your scope are not shown.
    pub partial: bool,
}

/// A building the caller may carry a ballot to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BallotBuilding {
    pub id: i64,
    pub name: String,
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

/// On a resident's own pages: who put his vote in, when it was not his phone.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VotedBy {
    pub channel: VoteChannel,
    /// The family member acting for him, or the staff who recorded it.
    pub recorded_by: String,
}

pub(crate) fn voted_by(c: CastBy) -> Option<VotedBy> {
    match (c.channel, c.recorded_by) {
        (VoteChannel::Phone, _) | (_, None) => None,
        (channel, Some(recorded_by)) => Some(VotedBy { channel, recorded_by }),
    }
}

/// How a resident's own vote comes in: his phone, or his family member's.
pub(crate) fn own_cast(caller: &Caller) -> Cast<'_> {
    match &caller.proxy {
        Some(p) => Cast { channel: VoteChannel::Proxy, recorded_by: Some(&p.family_name), slip: None, witness: None },
        None => Cast::PHONE,
    }
}

/// What a resident who already voted is told, whoever cast it.
pub(crate) fn already_in(c: &CastVote) -> ServiceError {
    match (c.channel, &c.recorded_by) {
        (VoteChannel::Phone, _) | (_, None) => ServiceError::conflict("您已投过票", "you have voted already"),
        (ch, Some(by)) => ServiceError::conflict(
            format!("您的票已经记下了({},{by} 记录),不能再投", ch.name_zh()),
            format!("your vote is already in ({}, recorded by {by}): it cannot be cast again", ch.name_en()),
        ),
    }
}

/// The grids of a building the caller carries ballots in, and whether
/// some of its doors are in grids beyond them.
async fn visible_grids(tx: &mut yijia_store::Tx, caller: &Caller, building_id: i64) -> Result<(Vec<String>, bool)> {
    let grids = places::building_grid_paths(tx, building_id).await?;
    let visible: Vec<String> = grids.iter().filter(|g| caller.covers(BALLOT_RECORDERS, g)).cloned().collect();
    let partial = visible.len() < grids.len();
    Ok((visible, partial))
}

/// A building's residents door by door, each made into a ballot line.
fn by_door<L>(
    rows: Vec<residents::AtDoor>,
    mut line: impl FnMut(residents::Resident) -> L,
) -> Vec<(String, String, Vec<L>)> {
    let mut doors: Vec<(String, String, Vec<L>)> = Vec::new();
    for at in rows {
        let l = line(at.resident);
        match doors.last_mut() {
            Some((e, d, people)) if *e == at.entrance && *d == at.door => people.push(l),
            _ => doors.push((at.entrance, at.door, vec![l])),
        }
    }
    doors
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
            let (visible, partial) = visible_grids(&mut tx, caller, building_id).await?;
            if visible.is_empty() {
                return Err(ServiceError::denied("project_ballot", object));
            }
            let rows = residents::in_building(&mut tx, building_id, &visible).await?;
            let casts = store::casts(&mut tx, project_id).await?;
            let com = yijia_store::org::by_id(&mut tx, p.community_id).await?;
            let doors = by_door(rows, |r| {
                let vote = casts.iter().find(|(_, c)| c.resident_id == r.id).map(|(a, c)| cast_view(*a, c.clone()));
                BallotLine { resident_id: r.id, name: r.name, vote }
            });
            let seen: usize = doors.iter().map(|(_, _, p)| p.len()).sum();
            let doors =
                doors.into_iter().map(|(entrance, door, people)| BallotDoor { entrance, door, people }).collect();
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
                partial,
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
        let mut v = self.record_pledge_ballots(caller, &[pledge_id], input, uploads).await?;
        v.pop().ok_or(ServiceError::NotFound)
    }

    /// Records a resident's paper votes for several pledges of a year at
    /// once (one slip, the choices on it), all or none.
    pub async fn record_pledge_ballots(
        &self,
        caller: &Caller,
        pledge_ids: &[i64],
        input: PaperPledge,
        uploads: Vec<Vec<u8>>,
    ) -> Result<Vec<crate::pledges::PledgeView>> {
        let witness = rules::evidence(&input.witness, !uploads.is_empty())?;
        if pledge_ids.is_empty() {
            return Err(ServiceError::invalid("pledge", "请选择实事", "choose the pledges voted for"));
        }
        if pledge_ids.len() > 20 || (input.verdict.is_some() && pledge_ids.len() > 1) {
            return Err(ServiceError::invalid("pledge", "选择的实事太多", "too many pledges chosen"));
        }
        let slip = self.keep_slip(uploads).await?;
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let r = residents::get(&mut tx, input.resident_id).await?;
                if let Some(r) = &r {
                    crate::life::on_register(r)?;
                }
                let mut out = Vec::with_capacity(pledge_ids.len());
                for &pledge_id in pledge_ids {
                    let object = format!("pledge:{pledge_id}");
                    let found = pledges::get(&mut tx, pledge_id).await?.ok_or(ServiceError::NotFound)?;
                    let com = yijia_store::org::by_id(&mut tx, found.community_id).await?;
                    let Some(r) = r.as_ref().filter(|r| caller.covers(BALLOT_RECORDERS, &r.grid_path)) else {
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
                        channel: VoteChannel::Paper,
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
                            let verdict = (v.kept, v.satisfaction);
                            crate::pledges::cast_verdict(&mut tx, (&found, &y), r.id, verdict, &cast, now).await?;
                            ("pledge_verdict_record", json!({ "resident": r.id, "kept": v.kept }))
                        }
                    };
                    let e = Event::ok(action, object, &r.grid_path)
                        .with(json!({ "detail": detail, "slip": slip.is_some(), "witness": witness }));
                    record(&mut tx, caller, now, &e).await?;
                    let p = pledges::get(&mut tx, pledge_id).await?.ok_or(ServiceError::NotFound)?;
                    out.push(crate::pledges::pledge_view(&p));
                }
                tx.commit().await?;
                Ok(out)
            })
            .await;
        self.unless_recorded(&r, slip.as_deref()).await;
        r
    }

    /// The pledge ballot of a building for its community's current year,
    /// for the worker to carry and to record on.
    pub async fn pledge_ballot(&self, caller: &Caller, building_id: i64) -> Result<PledgeBallotView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let object = format!("building:{building_id}");
            let mut tx = self.db.write().await?;
            let b = places::building_info(&mut tx, building_id).await?.ok_or(ServiceError::NotFound)?;
            let (visible, partial) = visible_grids(&mut tx, caller, building_id).await?;
            if visible.is_empty() {
                return Err(ServiceError::denied("pledge_ballot", object));
            }
            let com = yijia_store::org::by_id(&mut tx, b.community_id).await?;
            let y = pledges::years(&mut tx, com.id).await?.into_iter().next().ok_or_else(|| {
                ServiceError::conflict(
                    "社区今年还没有开始征集十件实事",
                    "the community has not opened this year's pledges",
                )
            })?;
            let judging = matches!(y.phase, Phase::Working | Phase::Judging | Phase::Closed);
            let wanted = if judging { PledgeStatus::Committed } else { PledgeStatus::Shortlisted };
            let mut list = pledges::of_year(&mut tx, com.id, y.year).await?;
            list.retain(|p| p.status == wanted);
            list.sort_by_key(|p| p.id);
            let choices: Vec<BallotChoice> =
                (1..).zip(&list).map(|(no, p)| BallotChoice { no, pledge_id: p.id, title: p.title.clone() }).collect();
            let casts = pledges::casts_in_building(&mut tx, judging, (com.id, y.year), building_id).await?;
            let rows = residents::in_building(&mut tx, building_id, &visible).await?;
            let each = if judging { choices.len() as i64 } else { y.votes_per_resident };
            let doors = by_door(rows, |r| {
                let casts: Vec<PledgeCastView> = casts
                    .iter()
                    .filter(|(_, c)| c.resident_id == r.id)
                    .filter_map(|(pledge_id, c)| {
                        let no = choices.iter().find(|x| x.pledge_id == *pledge_id)?.no;
                        Some(PledgeCastView {
                            no,
                            pledge_id: *pledge_id,
                            channel: c.channel,
                            recorded_by: c.recorded_by.clone(),
                            witness: c.witness.clone(),
                            slip: c.slip.is_some(),
                        })
                    })
                    .collect();
                PledgeBallotLine { resident_id: r.id, name: r.name, left: (each - casts.len() as i64).max(0), casts }
            });
            let seen: usize = doors.iter().map(|(_, _, p)| p.len()).sum();
            let e = Event::ok("pledge_ballot", object, &com.path).with(json!({ "year": y.year, "people": seen }));
            record(&mut tx, caller, now, &e).await?;
            tx.commit().await?;
            Ok(PledgeBallotView {
                community_name: com.name,
                year: y.year,
                phase: y.phase,
                open: matches!(y.phase, Phase::Voting | Phase::Judging),
                votes_per_resident: y.votes_per_resident,
                choices,
                building_id,
                building: format!("{} {}", b.estate, b.name),
                doors: doors
                    .into_iter()
                    .map(|(entrance, door, people)| PledgeBallotDoor { entrance, door, people })
                    .collect(),
                partial,
            })
        })
        .await
    }

    /// The buildings of a community with homes in the caller's grids: the
    /// ballots they may carry.
    pub async fn ballot_buildings(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<BallotBuilding>> {
        if !caller.has_any(BALLOT_RECORDERS) {
            return Ok(vec![]);
        }
        let mut tx = self.db.read().await?;
        let com = self.caller_community(&mut tx, caller, crate::roles::PLEDGE_READERS, community).await?;
        let paths = caller.scope_paths(BALLOT_RECORDERS);
        let list = places::buildings_in_grids(&mut tx, com.id, &paths).await?;
        tx.commit().await?;
        Ok(list.into_iter().map(|b| BallotBuilding { id: b.id, name: format!("{} {}", b.estate, b.name) }).collect())
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
            crate::life::on_register(&r)?;
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
            let cast = Cast { channel: VoteChannel::Paper, recorded_by: Some(&caller.display_name), slip, witness };
            if !store::vote(&mut tx, project_id, r.id, input.accept, &cast, now).await? {
                let before = store::cast_of(&mut tx, project_id, r.id).await?;
                return Err(before.map_or_else(
                    || ServiceError::conflict("这位居民已投过票", "this resident has voted already"),
                    |c| match c.channel {
                        VoteChannel::Phone => ServiceError::conflict(
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
