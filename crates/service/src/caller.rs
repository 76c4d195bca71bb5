//! Who is calling, with their grants. Built by `auth::authenticate` from a
//! session, or by the command line as the operator.

use serde::Serialize;
use yijia_domain::org::{OrgKind, path_covers};
use yijia_domain::proxy::{Act, Acts};
use yijia_domain::role::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub role: Role,
    pub org_code: String,
    pub org_name: String,
    pub org_kind: OrgKind,
    #[serde(skip)]
    pub org_path: String,
}

#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` for the operator at the command line.
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub ip: String,
    /// The session's CSRF token, when the caller came with a session.
    pub csrf_token: Option<String>,
    pub(crate) token_hash: Option<String>,
    pub(crate) password_set_at: i64,
    /// Set when an Open311 client files with an API key.
    pub(crate) api_key: Option<i64>,
    /// The resident record a resident's account is linked to; for a
    /// family member acting for a resident (`proxy`), that resident's.
    pub resident_id: Option<i64>,
    /// A family member acting for a resident (代办): the link.
    pub proxy: Option<ProxyGrant>,
    /// A role of theirs needs a second factor and they have none yet: the
    /// session may only set one up.
    pub(crate) must_enrol: bool,
    /// They log in with a second factor.
    pub(crate) two_factor: bool,
}

/// What a family member's session may do for the resident it acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyGrant {
    pub id: i64,
    pub acts: Acts,
    /// The family member's own name, and the resident's.
    pub family_name: String,
    pub resident_name: String,
}

impl Caller {
    /// The resident this caller may act as for `act`: their own record, or
    /// for a family member the resident's when the resident allowed it.
    pub fn resident_for(&self, act: Act) -> Option<i64> {
        match &self.proxy {
            Some(p) if !p.acts.allows(act) => None,
            _ => self.resident_id,
        }
    }

    /// The operator at the command line: may do what an admin may, and
    /// bootstrap the first users.
    pub fn operator() -> Self {
        Self {
            user_id: None,
            username: "cli".to_owned(),
            display_name: "命令行 / command line".to_owned(),
            grants: vec![Grant {
                role: Role::Admin,
                org_code: "root".to_owned(),
                org_name: "全域".to_owned(),
                org_kind: OrgKind::Root,
                org_path: "/root/".to_owned(),
            }],
            ip: "local".to_owned(),
            csrf_token: None,
            token_hash: None,
            password_set_at: 0,
            api_key: None,
            resident_id: None,
            proxy: None,
            must_enrol: false,
            two_factor: false,
        }
    }

    /// The server itself, for what background jobs do: holds no grants.
    pub fn system() -> Self {
        Self {
            username: "system".to_owned(),
            display_name: "系统 / system".to_owned(),
            grants: vec![],
            ip: "local".to_owned(),
            ..Self::operator()
        }
    }

    /// Whether this session may only set up a second factor.
    pub fn must_enrol(&self) -> bool {
        self.must_enrol
    }

    pub fn is_operator(&self) -> bool {
        self.user_id.is_none()
    }

    pub fn roles(&self) -> Vec<Role> {
        let mut r: Vec<Role> = self.grants.iter().map(|g| g.role).collect();
        r.sort();
        r.dedup();
        r
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.grants.iter().any(|g| roles.contains(&g.role))
    }

    /// Whether a grant of one of `roles` covers the node at `path`.
    pub fn covers(&self, roles: &[Role], path: &str) -> bool {
        self.grants.iter().any(|g| roles.contains(&g.role) && path_covers(&g.org_path, path))
    }

    /// The paths of the caller's grants of these roles, outermost only.
    pub fn scope_paths(&self, roles: &[Role]) -> Vec<String> {
        let mut paths: Vec<String> =
            self.grants.iter().filter(|g| roles.contains(&g.role)).map(|g| g.org_path.clone()).collect();
        paths.sort();
        paths.dedup();
        let all = paths.clone();
        paths.retain(|p| !all.iter().any(|q| q != p && path_covers(q, p)));
        paths
    }

    /// Where the caller's own actions are filed in the audit log.
    pub fn home_path(&self) -> &str {
        self.grants.first().map(|g| g.org_path.as_str()).unwrap_or("/root/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, path: &str) -> Grant {
        Grant {
            role,
            org_code: path.to_owned(),
            org_name: String::new(),
            org_kind: OrgKind::Grid,
            org_path: path.to_owned(),
        }
    }

    fn caller(grants: Vec<Grant>) -> Caller {
        Caller { grants, user_id: Some(1), ..Caller::operator() }
    }

    #[test]
    fn coverage_is_by_role_and_path() {
        let c = caller(vec![grant(Role::GridWorker, "/root/z/c/g1/"), grant(Role::Resident, "/root/z/c/")]);
        assert!(c.covers(&[Role::GridWorker], "/root/z/c/g1/"));
        assert!(!c.covers(&[Role::GridWorker], "/root/z/c/g2/"));
        assert!(c.covers(&[Role::Resident], "/root/z/c/g2/"));
        assert!(!c.covers(&[Role::Secretary], "/root/z/c/g1/"));
    }

    #[test]
    fn scope_paths_keep_the_outermost() {
        let c = caller(vec![
            grant(Role::CommunityStaff, "/root/z/c/"),
            grant(Role::CommunityStaff, "/root/z/c/g1/"),
            grant(Role::CommunityStaff, "/root/z/d/"),
        ]);
        assert_eq!(c.scope_paths(&[Role::CommunityStaff]), ["/root/z/c/", "/root/z/d/"]);
    }
}
