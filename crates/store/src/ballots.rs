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
