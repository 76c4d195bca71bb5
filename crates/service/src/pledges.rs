//! Pledges (十件实事, "ten practical things, never nine"): each year
//! residents propose on their phones, the secretary shortlists, residents
//! vote (one vote a pledge, so many a year), the community commits to the
//! most voted, owners report progress, and at the end residents judge each
//! pledge kept or not and how satisfied they are. A public board shows this
//! year's and last year's.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::ballot::ByChannel;
use yijia_domain::org::OrgKind;
use yijia_domain::pledge::{self as rules, Phase, PledgeStatus};
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::time::rfc3339;
use yijia_store::ballots::{Cast, CastBy};
use yijia_store::pledges::{self as store, Pledge, PledgeYear};
use yijia_store::{Tx, org};

use crate::audit::{Event, record};
use crate::ballots::{VotedBy, voted_by};
use crate::error::on_conflict;
use crate::fields::text;
use crate::invitations::own_record_as;
pub use crate::projects::{MilestoneDone, MilestoneInput};
use crate::roles::{PLEDGE_MANAGERS, PLEDGE_READERS, PLEDGE_UPDATERS};
use crate::{Caller, Result, ServiceError, Services};

/// Photos an update takes at once.
pub const MAX_PHOTOS: usize = 6;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct YearInput {
    pub year: i64,
    /// Votes each resident has; default 3.
    #[serde(default)]
    pub votes_per_resident: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AdvanceInput {
    /// From voting to working: how many of the most voted the community
    /// commits to; default 10.
    #[serde(default)]
    pub commit: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProposalInput {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ShortlistInput {
    pub shortlisted: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OwnerInput {
    /// Who answers for it: 王小红(社区书记).
    pub owner: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProgressInput {
    /// 0 to 100.
    pub progress: i64,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct VerdictInput {
    pub kept: bool,
    /// 1 to 5.
    pub satisfaction: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub kept: bool,
    /// The mean satisfaction (1–5) in tenths: 42 is 4.2.
    pub satisfaction_tenths: i64,
    pub judged: i64,
    /// The verdicts by how they came in.
    pub judged_by_channel: ByChannel,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeView {
    pub id: i64,
    pub year: i64,
    pub title: String,
    pub description: String,
    /// `proposed`, `shortlisted`, `committed` or `not_chosen`.
    pub status: PledgeStatus,
    /// Proposed by a resident (not by staff).
    pub from_resident: bool,
    pub owner: Option<String>,
    pub progress: i64,
    pub votes: i64,
    /// The votes by how they came in.
    pub votes_by_channel: ByChannel,
    pub verdict: Option<Verdict>,
    /// For a resident: whether they voted for it, and whether they judged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_vote: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_verdict: Option<bool>,
    /// Who put them in, when not the resident's own phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_vote_by: Option<VotedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_verdict_by: Option<VotedBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UpdateView {
    pub id: i64,
    pub pledge_id: i64,
    pub at: String,
    pub progress: i64,
    pub text: String,
    /// Its photos: ids for `/api/v1/boards/pledge-photos/{id}` (public).
    pub photos: Vec<i64>,
}

/// A step of a committed pledge, with the day it is due and the day done.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgeMilestoneView {
    pub id: i64,
    pub pledge_id: i64,
    pub title: String,
    pub due_on: String,
    pub done_on: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub community: String,
    pub community_name: String,
    pub year: i64,
    /// `proposing`, `voting`, `working`, `judging` or `closed`.
    pub phase: Phase,
    pub phase_name: String,
    pub votes_per_resident: i64,
    pub pledges: Vec<PledgeView>,
    /// The committed pledges' milestones, by pledge and day due.
    pub milestones: Vec<PledgeMilestoneView>,
    /// Progress updates, newest first.
    pub updates: Vec<UpdateView>,
    /// For a resident while voting: votes they have left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_votes_left: Option<i64>,
}

/// The public board: this year's pledges and the year before's.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PledgesBoard {
    pub community: String,
    pub community_name: String,
    pub years: Vec<YearView>,
}

/// A pledge as its readers see it.
pub(crate) fn pledge_view(p: &Pledge) -> PledgeView {
    PledgeView {
        id: p.id,
        year: p.year,
        title: p.title.clone(),
        description: p.description.clone(),
        status: p.status,
        from_resident: p.proposed_by.is_some(),
        owner: p.owner.clone(),
        progress: p.progress,
        votes: p.votes,
        votes_by_channel: ByChannel {
            phone: p.votes - p.proxy_votes - p.paper_votes,
            proxy: p.proxy_votes,
            paper: p.paper_votes,
        },
        verdict: rules::verdict(p.kept, p.not_kept, p.satisfaction_sum).map(|(kept, s)| Verdict {
            kept,
            satisfaction_tenths: s,
            judged: p.kept + p.not_kept,
            judged_by_channel: ByChannel {
                phone: p.kept + p.not_kept - p.proxy_verdicts - p.paper_verdicts,
                proxy: p.proxy_verdicts,
                paper: p.paper_verdicts,
            },
        }),
        my_vote: None,
        my_verdict: None,
        my_vote_by: None,
        my_verdict_by: None,
    }
}

async fn year_view(tx: &mut Tx, com: &org::OrgNode, y: &PledgeYear, public: bool) -> Result<YearView> {
    let phase = y.phase;
    let mut pledges: Vec<PledgeView> = store::of_year(tx, com.id, y.year).await?.iter().map(pledge_view).collect();
    if public {
        // the public sees what is being voted on and what was committed, not every proposal
        pledges.retain(|p| match phase {
            Phase::Proposing => false,
            Phase::Voting => p.status == PledgeStatus::Shortlisted,
            _ => p.status == PledgeStatus::Committed,
        });
    }
    let photos = store::photos(tx, com.id, y.year).await?;
    let updates = store::updates(tx, com.id, y.year).await?.into_iter().map(|u| update_view(u, &photos)).collect();
    let milestones = store::milestones(tx, com.id, y.year).await?.into_iter().map(milestone_view).collect();
    Ok(YearView {
        community: com.code.clone(),
        community_name: com.name.clone(),
        year: y.year,
        phase: y.phase,
        phase_name: phase.name_zh().to_owned(),
        votes_per_resident: y.votes_per_resident,
        pledges,
        milestones,
        updates,
        my_votes_left: None,
    })
}

fn update_view(u: store::Update, photos: &[store::Photo]) -> UpdateView {
    UpdateView {
        id: u.id,
        pledge_id: u.pledge_id,
        at: rfc3339(u.at),
        progress: u.progress,
        text: u.text,
        photos: photos.iter().filter(|f| f.update_id == u.id).map(|f| f.id).collect(),
    }
}

fn milestone_view(m: store::Milestone) -> PledgeMilestoneView {
    PledgeMilestoneView {
        id: m.id,
        pledge_id: m.pledge_id,
        title: m.title,
        due_on: m.due_on,
        done_on: m.done_on,
        note: m.note,
    }
}

fn wrong_phase(y: &PledgeYear, want: Phase) -> ServiceError {
    let now = y.phase;
    ServiceError::conflict(
        format!(
            "{} 年十件实事正处于「{}」,此时不能{}",
            y.year,
            now.name_zh(),
            match want {
                Phase::Proposing => "提建议",
                Phase::Voting => "投票",
                Phase::Working => "报告进展",
                Phase::Judging => "评议",
                Phase::Closed => "修改",
            }
        ),
        format!("the {} pledges are {}: not {} now", y.year, now.code(), want.code()),
    )
}

/// The year a resident acts in: the latest of their community's.
async fn current_year(tx: &mut Tx, community_id: i64) -> Result<PledgeYear> {
    store::years(tx, community_id).await?.into_iter().next().ok_or_else(|| {
        ServiceError::conflict("社区今年还没有开始征集十件实事", "the community has not opened this year's pledges")
    })
}

async fn pledge_in_scope(
    tx: &mut Tx,
    caller: &Caller,
    id: i64,
    roles: &[Role],
) -> Result<(Pledge, org::OrgNode, PledgeYear)> {
    let Some(p) = store::get(tx, id).await? else { return Err(ServiceError::NotFound) };
    let com = org::by_id(tx, p.community_id).await?;
    if !crate::cases::catalogue::works_in(caller, roles, &com.path) {
        return Err(ServiceError::denied("pledge", format!("pledge:{id}")));
    }
    let y = store::year(tx, p.community_id, p.year).await?.ok_or(ServiceError::NotFound)?;
    Ok((p, com, y))
}

/// A committed pledge the caller updates, while its year is at work.
async fn committed_while_working(tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Pledge, org::OrgNode)> {
    let (p, com, y) = pledge_in_scope(tx, caller, id, PLEDGE_UPDATERS).await?;
    if y.phase != Phase::Working {
        return Err(wrong_phase(&y, Phase::Working));
    }
    if p.status != PledgeStatus::Committed {
        return Err(ServiceError::conflict("只有承诺办理的实事报告进展", "progress is for committed pledges"));
    }
    Ok((p, com))
}

/// Whether a vote is the resident's own (his phone, his family's) or staff's on paper: what he is told.
fn by_himself(cast: &Cast<'_>) -> bool {
    cast.channel != yijia_domain::ballot::VoteChannel::Paper
}

/// A resident's vote for a shortlisted pledge, however it comes in: once
/// each, so many a year.
pub(crate) async fn cast_vote(
    tx: &mut Tx,
    (p, y): (&Pledge, &PledgeYear),
    rid: i64,
    cast: &Cast<'_>,
    now: i64,
) -> Result<()> {
    if y.phase != Phase::Voting {
        return Err(wrong_phase(y, Phase::Voting));
    }
    if p.status != PledgeStatus::Shortlisted {
        return Err(ServiceError::conflict("这项建议不在候选名单上", "that proposal is not on the ballot"));
    }
    let used = store::votes_of(tx, p.community_id, y.year, rid).await?;
    let (you_zh, you_en) = if by_himself(cast) { ("您", "you") } else { ("这位居民", "this resident") };
    if used.contains(&p.id) {
        return Err(ServiceError::conflict(
            format!("{you_zh}已为这一项投过票"),
            format!("{you_en} voted for this one already"),
        ));
    }
    if used.len() as i64 >= y.votes_per_resident {
        return Err(ServiceError::conflict(
            format!("每人最多投 {} 票,{you_zh}的票已用完", y.votes_per_resident),
            format!("{} votes each: {you_en} used them all", y.votes_per_resident),
        ));
    }
    if !store::vote(tx, p.id, rid, cast, now).await? {
        return Err(ServiceError::conflict(
            format!("{you_zh}已为这一项投过票"),
            format!("{you_en} voted for this one already"),
        ));
    }
    Ok(())
}

/// A resident's verdict on a committed pledge at the year's end, once,
/// however it comes in.
pub(crate) async fn cast_verdict(
    tx: &mut Tx,
    (p, y): (&Pledge, &PledgeYear),
    rid: i64,
    verdict: (bool, i64),
    cast: &Cast<'_>,
    now: i64,
) -> Result<()> {
    if !(1..=5).contains(&verdict.1) {
        return Err(ServiceError::invalid("satisfaction", "满意度 1 到 5", "satisfaction is 1 to 5"));
    }
    if y.phase != Phase::Judging {
        return Err(wrong_phase(y, Phase::Judging));
    }
    if p.status != PledgeStatus::Committed {
        return Err(ServiceError::conflict("只评议承诺办理的实事", "only committed pledges are judged"));
    }
    if !store::judge(tx, p.id, rid, verdict, cast, now).await? {
        let (you_zh, you_en) = if by_himself(cast) { ("您", "you") } else { ("这位居民", "this resident") };
        return Err(ServiceError::conflict(
            format!("{you_zh}已评议过这一项"),
            format!("{you_en} judged this one already"),
        ));
    }
    Ok(())
}

/// A pledge of the resident's own community, with its year.
async fn own_pledge(tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Pledge, org::OrgNode, PledgeYear, i64)> {
    let (r, com) = own_record_as(tx, caller, Act::Vote).await?;
    let found = store::get(tx, id).await?;
    let p = ServiceError::in_reach(found, |p| p.community_id == com.id, "pledge", format!("pledge:{id}"))?;
    let y = store::year(tx, com.id, p.year).await?.ok_or(ServiceError::NotFound)?;
    Ok((p, com, y, r.id))
}

fn proposal(input: &ProposalInput) -> Result<(String, String)> {
    let title = text("title", &input.title, 40)?;
    let description = input.description.as_deref().unwrap_or("").trim().to_owned();
    if description.chars().count() > 500 {
        return Err(ServiceError::invalid("description", "说明不超过 500 字", "at most 500 characters"));
    }
    Ok((title, description))
}

impl Services {
    /// Opens a year: proposals come in.
    pub async fn open_pledge_year(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: YearInput,
    ) -> Result<YearView> {
        let year = rules::check_year(input.year)?;
        let votes = input.votes_per_resident.unwrap_or(3);
        if !(1..=20).contains(&votes) {
            return Err(ServiceError::invalid("votes_per_resident", "每人 1 到 20 票", "1 to 20 votes a resident"));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, PLEDGE_MANAGERS, community).await?;
            on_conflict(store::open_year(&mut tx, com.id, i64::from(year), votes, now).await, || {
                Msg::new(format!("{year} 年已开始征集"), format!("{year} is open already"))
            })?;
            let e = Event::ok("pledge_year", format!("pledges:{year}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "votes_per_resident": votes }))).await?;
            let y = store::year(&mut tx, com.id, i64::from(year)).await?.ok_or(ServiceError::NotFound)?;
            let v = year_view(&mut tx, &com, &y, false).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// Moves a year to its next phase. From voting, the most voted of the
    /// shortlist (`commit`, default 10) become the community's pledges.
    pub async fn advance_pledge_year(
        &self,
        caller: &Caller,
        community: Option<&str>,
        year: i64,
        input: AdvanceInput,
    ) -> Result<YearView> {
        let commit = input.commit.unwrap_or(10);
        if !(1..=50).contains(&commit) {
            return Err(ServiceError::invalid("commit", "承诺 1 到 50 件", "commit to 1 to 50"));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, PLEDGE_MANAGERS, community).await?;
            let y = store::year(&mut tx, com.id, year).await?.ok_or(ServiceError::NotFound)?;
            let from = y.phase;
            let Some(to) = from.next() else {
                return Err(ServiceError::conflict(format!("{year} 年已评议结束",), format!("{year} is closed")));
            };
            let list = store::of_year(&mut tx, com.id, year).await?;
            let shortlisted: Vec<&Pledge> = list.iter().filter(|p| p.status == PledgeStatus::Shortlisted).collect();
            match to {
                Phase::Voting if shortlisted.is_empty() => {
                    return Err(ServiceError::conflict("请先从建议中选出候选项目", "shortlist some proposals first"));
                }
                Phase::Working => {
                    // most voted first (ties: the earlier proposal)
                    for (i, p) in shortlisted.iter().enumerate() {
                        let status =
                            if (i as i64) < commit { PledgeStatus::Committed } else { PledgeStatus::NotChosen };
                        store::set_status(&mut tx, p.id, status, None).await?;
                    }
                    for p in list.iter().filter(|p| p.status == PledgeStatus::Proposed) {
                        store::set_status(&mut tx, p.id, PledgeStatus::NotChosen, None).await?;
                    }
                }
                _ => {}
            }
            if !store::set_phase(&mut tx, com.id, year, from.code(), to.code()).await? {
                return Err(ServiceError::conflict("刚被他人修改,请刷新后重试", "changed meanwhile: reload and retry"));
            }
            let e = Event::ok("pledge_phase", format!("pledges:{year}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "from": from.code(), "to": to.code() }))).await?;
            let y = store::year(&mut tx, com.id, year).await?.ok_or(ServiceError::NotFound)?;
            let v = year_view(&mut tx, &com, &y, false).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// A year of the caller's community, everything in it.
    pub async fn pledge_year(&self, caller: &Caller, community: Option<&str>, year: Option<i64>) -> Result<YearView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, PLEDGE_READERS, community).await?;
            let y = match year {
                Some(y) => store::year(&mut tx, com.id, y).await?.ok_or(ServiceError::NotFound)?,
                None => current_year(&mut tx, com.id).await?,
            };
            let v = year_view(&mut tx, &com, &y, false).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// Staff propose for the community, while proposals come in.
    pub async fn propose_pledge(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: ProposalInput,
    ) -> Result<PledgeView> {
        let (title, description) = proposal(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, PLEDGE_UPDATERS, community).await?;
            let y = current_year(&mut tx, com.id).await?;
            let v = self.insert_proposal(&mut tx, caller, &com, &y, &title, &description, None, now).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// A resident proposes, on their phone.
    pub async fn propose_my_pledge(&self, caller: &Caller, input: ProposalInput) -> Result<PledgeView> {
        let (title, description) = proposal(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = own_record_as(&mut tx, caller, Act::Vote).await?;
            let y = current_year(&mut tx, com.id).await?;
            let v = self.insert_proposal(&mut tx, caller, &com, &y, &title, &description, Some(r.id), now).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_proposal(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        com: &org::OrgNode,
        y: &PledgeYear,
        title: &str,
        description: &str,
        resident: Option<i64>,
        now: i64,
    ) -> Result<PledgeView> {
        if y.phase != Phase::Proposing {
            return Err(wrong_phase(y, Phase::Proposing));
        }
        let id = on_conflict(store::insert(tx, com.id, y.year, title, description, resident, now).await, || {
            Msg::new(format!("已有建议「{title}」,可以去投票支持它"), format!("'{title}' is proposed already"))
        })?;
        let e = Event::ok("pledge_propose", format!("pledge:{id}"), &com.path);
        record(tx, caller, now, &e.with(json!({ "title": title }))).await?;
        let p = store::get(tx, id).await?.ok_or(ServiceError::NotFound)?;
        Ok(pledge_view(&p))
    }

    /// Puts a proposal on the ballot, or takes it off, while proposing.
    pub async fn shortlist_pledge(&self, caller: &Caller, id: i64, input: ShortlistInput) -> Result<PledgeView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com, y) = pledge_in_scope(&mut tx, caller, id, PLEDGE_MANAGERS).await?;
            if y.phase != Phase::Proposing {
                return Err(wrong_phase(&y, Phase::Closed));
            }
            store::set_status(
                &mut tx,
                p.id,
                if input.shortlisted { PledgeStatus::Shortlisted } else { PledgeStatus::Proposed },
                None,
            )
            .await?;
            let e = Event::ok("pledge_shortlist", format!("pledge:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "shortlisted": input.shortlisted }))).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(pledge_view(&p))
        })
        .await
    }

    /// Names who answers for a committed pledge.
    pub async fn set_pledge_owner(&self, caller: &Caller, id: i64, input: OwnerInput) -> Result<PledgeView> {
        let owner = text("owner", &input.owner, 40)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com, _) = pledge_in_scope(&mut tx, caller, id, PLEDGE_MANAGERS).await?;
            if p.status != PledgeStatus::Committed {
                return Err(ServiceError::conflict(
                    "只有承诺办理的实事有负责人",
                    "only a committed pledge has an owner",
                ));
            }
            store::set_status(&mut tx, id, PledgeStatus::Committed, Some(&owner)).await?;
            let e = Event::ok("pledge_owner", format!("pledge:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "owner": owner }))).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(pledge_view(&p))
        })
        .await
    }

    /// Reports progress on a committed pledge, while the community works,
    /// with photos of the work (cleaned, and public on the board).
    pub async fn report_pledge_progress(
        &self,
        caller: &Caller,
        id: i64,
        input: ProgressInput,
        uploads: Vec<Vec<u8>>,
    ) -> Result<PledgeView> {
        if !(0..=100).contains(&input.progress) {
            return Err(ServiceError::invalid("progress", "进度 0 到 100", "progress is 0 to 100"));
        }
        let body = text("text", &input.text, 500)?;
        let stored = self.pledge_photos(uploads).await?;
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let (p, com) = committed_while_working(&mut tx, caller, id).await?;
                let uid = store::add_update(&mut tx, p.id, input.progress, &body, &caller.display_name, now).await?;
                for f in &stored {
                    store::add_photo(&mut tx, uid, &f.name, f.photo.content_type, now).await?;
                }
                let e = Event::ok("pledge_progress", format!("pledge:{id}"), &com.path);
                record(&mut tx, caller, now, &e.with(json!({ "progress": input.progress, "photos": stored.len() })))
                    .await?;
                let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
                tx.commit().await?;
                Ok(pledge_view(&p))
            })
            .await;
        if r.is_err() {
            self.forget_photos(&stored).await;
        }
        r
    }

    /// Adds photos to a progress update, while the community works.
    pub async fn add_pledge_photos(
        &self,
        caller: &Caller,
        update_id: i64,
        uploads: Vec<Vec<u8>>,
    ) -> Result<UpdateView> {
        if uploads.is_empty() {
            return Err(ServiceError::invalid("photo", "请选择照片", "choose a photo"));
        }
        let stored = self.pledge_photos(uploads).await?;
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let Some(u) = store::update(&mut tx, update_id).await? else { return Err(ServiceError::NotFound) };
                let (p, com) = committed_while_working(&mut tx, caller, u.pledge_id).await?;
                for f in &stored {
                    store::add_photo(&mut tx, u.id, &f.name, f.photo.content_type, now).await?;
                }
                let e = Event::ok("pledge_photo", format!("pledge:{}", u.pledge_id), &com.path);
                record(&mut tx, caller, now, &e.with(json!({ "update": u.id, "photos": stored.len() }))).await?;
                let photos = store::photos(&mut tx, com.id, p.year).await?;
                tx.commit().await?;
                Ok(update_view(u, &photos))
            })
            .await;
        if r.is_err() {
            self.forget_photos(&stored).await;
        }
        r
    }

    async fn pledge_photos(&self, uploads: Vec<Vec<u8>>) -> Result<Vec<crate::cases::Stored>> {
        if uploads.len() > MAX_PHOTOS {
            return Err(ServiceError::invalid(
                "photo",
                format!("一次最多 {MAX_PHOTOS} 张照片"),
                format!("at most {MAX_PHOTOS} photos at a time"),
            ));
        }
        let photos = crate::cases::clean_photos(uploads).await?;
        self.keep_photos(&photos).await
    }

    /// A photo of a committed pledge's progress, for the public board.
    pub async fn pledge_photo(&self, photo_id: i64) -> Result<crate::cases::PhotoFile> {
        let mut tx = self.db.read().await?;
        let f = store::photo(&mut tx, photo_id).await?;
        tx.commit().await?;
        let Some(f) = f else { return Err(ServiceError::NotFound) };
        let bytes = self.files.get(&f.stored_name).await?;
        let ext = f.stored_name.rsplit('.').next().unwrap_or("jpg");
        Ok(crate::cases::PhotoFile {
            bytes,
            content_type: f.content_type,
            file_name: format!("pledge-update-{}-{}.{ext}", f.update_id, f.id),
        })
    }

    /// Adds a milestone to a committed pledge, while the community works.
    pub async fn add_pledge_milestone(
        &self,
        caller: &Caller,
        id: i64,
        input: MilestoneInput,
    ) -> Result<PledgeMilestoneView> {
        let title = text("title", &input.title, 60)?;
        let due = crate::fields::ymd(crate::fields::date("due_on", &input.due_on)?);
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com) = committed_while_working(&mut tx, caller, id).await?;
            let mid = store::add_milestone(&mut tx, p.id, &title, &due).await?;
            let e = Event::ok("pledge_milestone", format!("pledge:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "milestone": mid, "title": title }))).await?;
            let m = store::milestone(&mut tx, mid).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(milestone_view(m))
        })
        .await
    }

    /// Marks a pledge's milestone done (today unless a day is given).
    pub async fn finish_pledge_milestone(
        &self,
        caller: &Caller,
        milestone_id: i64,
        input: MilestoneDone,
    ) -> Result<PledgeMilestoneView> {
        let now = self.now();
        let (done, note) = crate::projects::milestone_done(&input, now)?;
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(m) = store::milestone(&mut tx, milestone_id).await? else { return Err(ServiceError::NotFound) };
            let (_, com) = committed_while_working(&mut tx, caller, m.pledge_id).await?;
            if !store::finish_milestone(&mut tx, milestone_id, &done, &note).await? {
                return Err(ServiceError::conflict("这个节点已完成", "the milestone is done already"));
            }
            let e = Event::ok("pledge_milestone_done", format!("pledge:{}", m.pledge_id), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "milestone": milestone_id, "done_on": done }))).await?;
            let m = store::milestone(&mut tx, milestone_id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(milestone_view(m))
        })
        .await
    }

    /// For a resident: their community's latest year, with their votes.
    pub async fn my_pledges(&self, caller: &Caller) -> Result<YearView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, com) = own_record_as(&mut tx, caller, Act::Vote).await?;
            let y = current_year(&mut tx, com.id).await?;
            let mut v = year_view(&mut tx, &com, &y, false).await?;
            let mine = store::casts_of(&mut tx, false, com.id, y.year, r.id).await?;
            let judged = store::casts_of(&mut tx, true, com.id, y.year, r.id).await?;
            tx.commit().await?;
            let of = |list: &[(i64, CastBy)], id| list.iter().find(|(p, _)| *p == id).map(|(_, c)| c.clone());
            for p in &mut v.pledges {
                let (vote, verdict) = (of(&mine, p.id), of(&judged, p.id));
                p.my_vote = Some(vote.is_some());
                p.my_verdict = Some(verdict.is_some());
                p.my_vote_by = vote.and_then(voted_by);
                p.my_verdict_by = verdict.and_then(voted_by);
            }
            v.my_votes_left = (y.phase == Phase::Voting).then(|| y.votes_per_resident - mine.len() as i64);
            Ok(v)
        })
        .await
    }

    /// A resident votes for a shortlisted pledge: once each, so many a year.
    pub async fn vote_for_pledge(&self, caller: &Caller, id: i64) -> Result<PledgeView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com, y, rid) = own_pledge(&mut tx, caller, id).await?;
            cast_vote(&mut tx, (&p, &y), rid, &crate::ballots::own_cast(caller), now).await?;
            record(&mut tx, caller, now, &Event::ok("pledge_vote", format!("pledge:{id}"), &com.path)).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(PledgeView { my_vote: Some(true), ..pledge_view(&p) })
        })
        .await
    }

    /// A resident judges a committed pledge at the year's end, once.
    pub async fn judge_pledge(&self, caller: &Caller, id: i64, input: VerdictInput) -> Result<PledgeView> {
        if !(1..=5).contains(&input.satisfaction) {
            return Err(ServiceError::invalid("satisfaction", "满意度 1 到 5", "satisfaction is 1 to 5"));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com, y, rid) = own_pledge(&mut tx, caller, id).await?;
            let verdict = (input.kept, input.satisfaction);
            cast_verdict(&mut tx, (&p, &y), rid, verdict, &crate::ballots::own_cast(caller), now).await?;
            record(&mut tx, caller, now, &Event::ok("pledge_verdict", format!("pledge:{id}"), &com.path)).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(PledgeView { my_verdict: Some(true), ..pledge_view(&p) })
        })
        .await
    }

    /// The public board: the latest year and the one before. No login.
    pub async fn pledges_board(&self, community: &str) -> Result<PledgesBoard> {
        let mut tx = self.db.read().await?;
        let Some(com) = org::by_code(&mut tx, community.trim()).await?.filter(|n| n.kind == OrgKind::Community) else {
            return Err(ServiceError::NotFound);
        };
        let mut years = Vec::new();
        for y in store::years(&mut tx, com.id).await?.iter().take(2) {
            years.push(year_view(&mut tx, &com, y, true).await?);
        }
        tx.commit().await?;
        Ok(PledgesBoard { community: com.code, community_name: com.name, years })
    }
}
