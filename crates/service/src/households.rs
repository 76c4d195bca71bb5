//! Households and buildings: who lives behind which door. Masked like any
//! list; a grid worker sees only the doors of their own grids.

use serde::Serialize;
use yijia_store::{places, residents};

use crate::registry::{AddressView, ResidentView};
use crate::roles::RESIDENT_READERS;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HouseholdView {
    pub id: i64,
    pub grid: String,
    pub address: AddressView,
    /// The head of the household first.
    pub members: Vec<ResidentView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DoorView {
    pub entrance: String,
    pub door: String,
    pub household_id: i64,
    pub members: Vec<ResidentView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BuildingView {
    pub id: i64,
    pub estate: String,
    pub name: String,
    /// By entrance, then door (502 after 501, 1001 after 902).
    pub doors: Vec<DoorView>,
    /// Doors of this building in grids outside your scope are not shown.
    pub partial: bool,
}

impl Services {
    pub async fn household_view(&self, caller: &Caller, id: i64) -> Result<HouseholdView> {
        let mut conn = self.db.conn().await?;
        let a = places::address(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
        if !caller.covers(RESIDENT_READERS, &a.grid_path) {
            drop(conn);
            return Err(self.deny(caller, "household_view", &format!("household:{id}")).await);
        }
        let members = residents::in_household(&mut conn, id).await?;
        let members = members.into_iter().map(|r| self.to_view(caller, r, None)).collect();
        Ok(HouseholdView { id, grid: a.grid_code.clone(), address: AddressView::from(a), members })
    }

    pub async fn building_view(&self, caller: &Caller, id: i64) -> Result<BuildingView> {
        let mut conn = self.db.conn().await?;
        let b = places::building_info(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
        let grids = places::building_grid_paths(&mut conn, id).await?;
        let visible: Vec<String> = grids.iter().filter(|p| caller.covers(RESIDENT_READERS, p)).cloned().collect();
        if visible.is_empty() {
            drop(conn);
            return Err(self.deny(caller, "building_view", &format!("building:{id}")).await);
        }
        let rows = residents::in_building(&mut conn, id, &visible).await?;
        let mut doors: Vec<DoorView> = Vec::new();
        for at in rows {
            let household_id = at.resident.household_id.unwrap_or_default();
            let view = self.to_view(caller, at.resident, None);
            match doors.last_mut() {
                Some(d) if d.household_id == household_id => d.members.push(view),
                _ => doors.push(DoorView { entrance: at.entrance, door: at.door, household_id, members: vec![view] }),
            }
        }
        Ok(BuildingView { id, estate: b.estate, name: b.name, doors, partial: visible.len() < grids.len() })
    }
}
