//! A city-sized data set for benchmarks: Yushu's registered population
//! (1.2 million) in about 480,000 households and 3,000 grids, generated
//! (never real people) and the same for the same seed. It goes through the
//! same checks and sealing as any registration, a grid per transaction.

use std::collections::HashMap;

use chrono::NaiveDate;
use yijia_domain::role::Role;
use yijia_store::{meta, org, places};

use crate::demo::people::Generator;
use crate::org::NewNode;
use crate::users::{NewGrant, NewUser};
use crate::{Caller, Result, ServiceError, Services};

/// The password of the benchmark users (`bench-secretary`, `bench-worker`,
/// `bench-officer`).
pub const PASSWORD: &str = "yushu-bench-2024";

/// A subdistrict of 20 communities, as the monthly report is timed for.
const COMMUNITIES_PER_STREET: usize = 20;
const GRIDS_PER_COMMUNITY: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitySpec {
    pub residents: usize,
    pub grids: usize,
    pub seed: u64,
}

impl Default for CitySpec {
    fn default() -> Self {
        CitySpec { residents: 1_200_000, grids: 3_000, seed: 2024 }
    }
}

impl CitySpec {
    fn key(&self) -> String {
        format!("{} residents, {} grids, seed {}", self.residents, self.grids, self.seed)
    }
}

/// The code of grid `g` (0-based) of a city made by `generate_city`, and
/// of its community and street.
pub fn grid_code(g: usize) -> String {
    format!("{}-g{:02}", community_code(g / GRIDS_PER_COMMUNITY), g % GRIDS_PER_COMMUNITY + 1)
}

pub fn community_code(c: usize) -> String {
    format!("{}-c{:02}", street_code(c / COMMUNITIES_PER_STREET), c % COMMUNITIES_PER_STREET + 1)
}

pub fn street_code(s: usize) -> String {
    format!("yushu-s{:02}", s + 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    /// It was there already, made with the same spec.
    Present,
    Made {
        residents: usize,
        households: usize,
    },
}

impl Services {
    /// Makes the city into an empty registry; `progress` hears the number of
    /// residents stored so far.
    pub async fn generate_city(&self, spec: &CitySpec, progress: &(dyn Fn(usize) + Sync)) -> Result<Generated> {
        let mut conn = self.db.conn().await?;
        let done = meta::get(&mut conn, "city_generated").await?;
        if done.as_deref() == Some(spec.key().as_str()) {
            return Ok(Generated::Present);
        }
        let (_, any) = yijia_store::residents::list(
            &mut conn,
            &yijia_store::residents::Filter { paths: vec!["/".into()], ..Default::default() },
            1,
            0,
        )
        .await?;
        drop(conn);
        match done {
            Some(k) => {
                return Err(ServiceError::invalid(
                    "database",
                    format!("数据库里已有另一组城市数据({k}),请用空数据库"),
                    format!("the database holds another city ({k}); use an empty one"),
                ));
            }
            None if any > 0 => {
                return Err(ServiceError::invalid(
                    "database",
                    "数据库里已有居民,城市数据只生成到空数据库",
                    "the database has residents already; the city goes into an empty one",
                ));
            }
            None => {}
        }
        if spec.grids == 0 || spec.residents < spec.grids {
            return Err(ServiceError::invalid(
                "grids",
                "网格数应至少为 1,且不多于居民数",
                "give at least one grid and no more grids than residents",
            ));
        }
        let op = Caller::operator();
        let communities = spec.grids.div_ceil(GRIDS_PER_COMMUNITY);
        let streets = communities.div_ceil(COMMUNITIES_PER_STREET);
        let node = |code: String, kind: &str, name: String, parent: String| NewNode {
            code,
            kind: kind.into(),
            name,
            parent,
            boundary: None,
        };
        for s in 0..streets {
            self.org_create(&op, node(street_code(s), "subdistrict", format!("榆树第{}街道", s + 1), "root".into()))
                .await?;
        }
        for c in 0..communities {
            let name = format!("第{}街道第{}社区", c / COMMUNITIES_PER_STREET + 1, c % COMMUNITIES_PER_STREET + 1);
            self.org_create(&op, node(community_code(c), "community", name, street_code(c / COMMUNITIES_PER_STREET)))
                .await?;
        }
        for g in 0..spec.grids {
            let name = format!("第{}网格", g % GRIDS_PER_COMMUNITY + 1);
            self.org_create(&op, node(grid_code(g), "grid", name, community_code(g / GRIDS_PER_COMMUNITY))).await?;
        }
        for (username, display_name, role, scope) in [
            ("bench-officer", "街道测试", Role::StreetOfficer, street_code(0)),
            ("bench-secretary", "书记测试", Role::Secretary, community_code(0)),
            ("bench-worker", "网格员测试", Role::GridWorker, grid_code(0)),
        ] {
            let grants = vec![NewGrant { role, scope }];
            let user = NewUser {
                username: username.into(),
                display_name: display_name.into(),
                password: PASSWORD.into(),
                grants,
            };
            self.add_user(&op, user).await?;
        }

        let today = yijia_domain::time::to_local(self.now()).date_naive();
        let mut generator = Generator::new(spec.seed);
        let (mut stored, mut households) = (0, 0);
        for g in 0..spec.grids {
            // the remainder spread over the first grids
            let n = spec.residents / spec.grids + usize::from(g < spec.residents % spec.grids);
            households += self.generate_grid(&mut generator, g, n, today).await?;
            stored += n;
            progress(stored);
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "city_generated", &spec.key()).await?;
        tx.commit().await?;
        self.db.optimize().await?;
        Ok(Generated::Made { residents: stored, households })
    }

    /// One grid's estate and people, in one transaction; the households made.
    async fn generate_grid(&self, generator: &mut Generator, g: usize, n: usize, today: NaiveDate) -> Result<usize> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let grid = org::by_code(&mut tx, &grid_code(g)).await?.ok_or(ServiceError::NotFound)?;
        let community = grid.parent_id.ok_or(ServiceError::NotFound)?;
        let estate_name = format!("{}小区", ["丁香", "海棠", "榆林", "松涛", "春华", "龙湾", "锦绣", "和平"][g % 8]);
        let estate_name = format!("{estate_name}{}期", g % GRIDS_PER_COMMUNITY + 1);
        let new =
            places::NewEstate { community_id: community, grid_id: Some(grid.id), name: &estate_name, point: None, now };
        let estate = places::insert_estate(&mut tx, &new).await?;
        let people = generator.people(n, std::slice::from_ref(&grid.code), std::slice::from_ref(&estate_name), today);
        let mut buildings: HashMap<String, i64> = HashMap::new();
        let mut prepared = Vec::with_capacity(people.len());
        for input in &people {
            let p = self.prepare_as(input, grid.id, now, uuid::Uuid::from_u128(generator.next_u128()))?;
            let door = match &input.household {
                Some(h) => {
                    let b = match buildings.get(&h.building) {
                        Some(b) => *b,
                        None => {
                            let b = places::building(&mut tx, estate, &h.building, now).await?;
                            buildings.insert(h.building.clone(), b);
                            b
                        }
                    };
                    Some((b, h.entrance.clone(), h.door.clone()))
                }
                None => None,
            };
            prepared.push((p, door));
        }
        let homes = places::households(&mut tx, grid.id, prepared.iter().filter_map(|(_, d)| d.as_ref()), now).await?;
        let prepared: Vec<_> = prepared.into_iter().map(|(p, d)| (p, d.and_then(|d| homes.get(&d).copied()))).collect();
        let batch: Vec<(&crate::registry::Prepared, Option<i64>)> = prepared.iter().map(|(p, h)| (p, *h)).collect();
        self.store_many(&mut tx, &batch, "bench").await?;
        tx.commit().await?;
        Ok(homes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_nest() {
        assert_eq!(grid_code(0), "yushu-s01-c01-g01");
        assert_eq!(grid_code(2999), "yushu-s15-c20-g10");
        assert_eq!(community_code(20), "yushu-s02-c01");
    }
}
