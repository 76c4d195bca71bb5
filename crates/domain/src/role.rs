//! The roles of DESIGN section 1.

use std::str::FromStr;

use crate::Invalid;
use crate::org::OrgKind;

crate::labelled! {
    stored in "grants.role";
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Resident = ("resident", "居民", "Resident"),
        GridWorker = ("grid_worker", "网格员", "Grid worker"),
        StationClerk = ("station_clerk", "服务站管理员", "Station clerk"),
        CommunityStaff = ("community_staff", "社区工作者", "Community staff"),
        Secretary = ("secretary", "社区书记", "Secretary"),
        StreetOfficer = ("street_officer", "街道", "Street officer"),
        Admin = ("admin", "系统管理员", "Administrator"),
    }
}

impl Role {
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

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::from_code(s).ok_or_else(|| {
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
