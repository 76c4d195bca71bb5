//! What the three vote tables (acceptance votes, pledge votes, pledge
//! verdicts) share: how a vote came in, who recorded it, and its evidence.

use serde::Serialize;

use yijia_domain::ballot::VoteChannel;

/// How a vote is being cast: the resident's phone carries nothing else;
/// a proxy or staff name themselves, and paper brings a slip or a witness.
#[derive(Debug, Clone, Copy)]
pub struct Cast<'a> {
    pub channel: VoteChannel,
    pub recorded_by: Option<&'a str>,
    /// The stored file name of the signed slip's photo.
    pub slip: Option<&'a str>,
    pub witness: Option<&'a str>,
}

impl Cast<'static> {
    pub const PHONE: Cast<'static> = Cast { channel: VoteChannel::Phone, recorded_by: None, slip: None, witness: None };
}

/// A vote as it was cast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CastVote {
    pub resident_id: i64,
    pub channel: VoteChannel,
    pub recorded_by: Option<String>,
    pub slip: Option<String>,
    pub witness: Option<String>,
    pub at: i64,
}

/// Who put a resident's vote in: his channel and, unless it was his own
/// phone, the family member or staff who recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CastBy {
    pub channel: VoteChannel,
    pub recorded_by: Option<String>,
}

impl CastVote {
    pub fn by(&self) -> CastBy {
        CastBy { channel: self.channel, recorded_by: self.recorded_by.clone() }
    }
}

/// One of a resident's votes, on anything.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResidentVote {
    pub title: String,
    pub yes: bool,
    pub channel: VoteChannel,
    pub recorded_by: Option<String>,
    pub at: i64,
}

/// A resident's votes on repair projects, pledges and pledge verdicts,
/// oldest first (for a copy of his data).
pub async fn votes_of_resident(
    tx: &mut crate::Tx,
    resident_id: i64,
) -> crate::Result<Vec<(yijia_domain::ballot::VoteOn, ResidentVote)>> {
    use yijia_domain::ballot::VoteOn;
    let queries = [
        (
            VoteOn::Project,
            "SELECT p.title, v.accept AS yes, v.channel, v.recorded_by, v.voted_at AS at \
             FROM acceptance_votes v JOIN projects p ON p.id = v.project_id WHERE v.resident_id = $1",
        ),
        (
            VoteOn::Pledge,
            "SELECT p.title, TRUE AS yes, v.channel, v.recorded_by, v.voted_at AS at \
             FROM pledge_votes v JOIN pledges p ON p.id = v.pledge_id WHERE v.resident_id = $1",
        ),
        (
            VoteOn::Verdict,
            "SELECT p.title, v.kept AS yes, v.channel, v.recorded_by, v.at \
             FROM pledge_verdicts v JOIN pledges p ON p.id = v.pledge_id WHERE v.resident_id = $1",
        ),
    ];
    let mut out = Vec::new();
    for (on, sql) in queries {
        let rows: Vec<ResidentVote> = crate::on_tx!(tx, c => sqlx::query_as(sql).bind(resident_id).fetch_all(c).await?);
        out.extend(rows.into_iter().map(|r| (on, r)));
    }
    out.sort_by_key(|(_, v)| v.at);
    Ok(out)
}
