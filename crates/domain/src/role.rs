//! The roles of DESIGN section 1.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::Invalid;
use crate::org::OrgKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    GridWorker,
    StationClerk,
    CommunityStaff,
    Secretary,
    StreetOfficer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Resident,
        Role::GridWorker,
        Role::StationClerk,
        Role::CommunityStaff,
        Role::Secretary,
        Role::StreetOfficer,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::GridWorker => "grid_worker",
            Role::StationClerk => "station_clerk",
            Role::CommunityStaff => "community_staff",
            Role::Secretary => "secretary",
            Role::StreetOfficer => "street_officer",
            Role::Admin => "admin",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Resident => "居民",
            Role::GridWorker => "网格员",
            Role::StationClerk => "服务站管理员",
            Role::CommunityStaff => "社区工作者",
            Role::Secretary => "社区书记",
            Role::StreetOfficer => "街道",
            Role::Admin => "系统管理员",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Role::Resident => "Resident",
            Role::GridWorker => "Grid worker",
            Role::StationClerk => "Station clerk",
            Role::CommunityStaff => "Community staff",
            Role::Secretary => "Secretary",
            Role::StreetOfficer => "Street officer",
            Role::Admin => "Administrator",
        }
    }

    /// The kinds of org node a grant of this role may be attached to.
    pub fn scope_kinds(self) -> &'static [OrgKind] {
        match self {
            Role::Resident => &[OrgKind::Grid, OrgKind::Community],
            Role::GridWorker => &[OrgKind::Grid],
            Role::StationClerk | Role::CommunityStaff | Role::Secretary => &[OrgKind::Community],
            Role::StreetOfficer => &[OrgKind::Subdistrict],
            Role::Admin => &[OrgKind::Root],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.code() == s).ok_or_else(|| {
            let codes: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
            Invalid::new(
                "role",
                format!("未知角色「{s}」,可选:{}", codes.join(", ")),
                format!("unknown role '{s}', expected one of: {}", codes.join(", ")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>(), Ok(r));
        }
    }

    #[test]
    fn unknown_role_names_the_choices() {
        let e = "mayor".parse::<Role>().unwrap_err();
        assert_eq!(e.field, "role");
        assert!(e.msg.en.contains("grid_worker"), "{}", e.msg.en);
    }
}
