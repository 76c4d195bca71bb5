//! The demo community of the story: 正阳街道, 城南社区, its six grids and
//! five estates (丁香花园, 丁香花园三期, …), one user for each role. Seeded once; later capabilities add their own.

use serde_json::Value;
use yijia_domain::role::Role;
use yijia_store::meta;

use crate::org::NewNode;
use crate::users::{NewGrant, NewUser};
use crate::{Caller, Result, ServiceError, Services};

const GRIDS: &str = include_str!("demo-chengnan-grids.geojson");

/// The demo password of every demo user (printed at start).
pub const PASSWORD: &str = "chengnan-demo-2024";

/// (username, display name, role, scope)
pub const USERS: &[(&str, &str, Role, &str)] = &[
    ("admin", "系统管理员", Role::Admin, "root"),
    ("officer", "赵街道", Role::StreetOfficer, "zhengyang"),
    ("secretary", "王小红", Role::Secretary, "chengnan"),
    ("staff", "刘社工", Role::CommunityStaff, "chengnan"),
    ("worker1", "李网格", Role::GridWorker, "chengnan-g01"),
    ("clerk", "孙站长", Role::StationClerk, "chengnan"),
    ("resident", "张大爷", Role::Resident, "chengnan-g01"),
];

impl Services {
    /// Seeds the demo unless it is there already; `true` when it seeded.
    pub async fn seed_demo(&self) -> Result<bool> {
        let mut tx = self.db.read().await?;
        let seeded = meta::get(&mut tx, "demo_seeded").await?.is_some();
        tx.commit().await?;
        if seeded {
            return Ok(false);
        }
        let op = Caller::operator();
        let node = |code: &str, kind: &str, name: &str, parent: &str, boundary: Option<String>| NewNode {
            code: code.into(),
            kind: kind.into(),
            name: name.into(),
            parent: parent.into(),
            boundary,
        };
        self.org_create(&op, node("zhengyang", "subdistrict", "正阳街道", "root", None)).await?;
        self.org_create(&op, node("chengnan", "community", "城南社区", "zhengyang", None)).await?;
        let grids: Value = serde_json::from_str(GRIDS).map_err(|e| ServiceError::Internal(e.to_string()))?;
        for f in grids["features"].as_array().into_iter().flatten() {
            let code = f["properties"]["code"].as_str().unwrap_or("");
            if !code.starts_with("chengnan-g") {
                continue;
            }
            let name = f["properties"]["name"].as_str().unwrap_or(code);
            self.org_create(&op, node(code, "grid", name, "chengnan", Some(f["geometry"].to_string()))).await?;
        }
        // the estates of the story, placed in their grids by their location
        for f in grids["features"].as_array().into_iter().flatten() {
            let (Some(name), Some(lon), Some(lat)) = (
                f["properties"]["estate"].as_str(),
                f["geometry"]["coordinates"][0].as_f64(),
                f["geometry"]["coordinates"][1].as_f64(),
            ) else {
                continue;
            };
            self.add_estate_at(&op, name, lon, lat).await?;
        }
        for (username, display_name, role, scope) in USERS {
            self.add_user(
                &op,
                NewUser {
                    username: (*username).into(),
                    display_name: (*display_name).into(),
                    password: PASSWORD.into(),
                    grants: vec![NewGrant { role: *role, scope: (*scope).into() }],
                },
            )
            .await?;
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_seeded", "1").await?;
        tx.commit().await?;
        Ok(true)
    }
}
