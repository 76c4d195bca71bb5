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
        let grids: Value = serde_json::from_str(GRIDS).map_err(|e| ServiceError::caused("the demo grids", e))?;
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

/// Believable, generated residents for the demo community: never real
/// people. The same seed gives the same people.
pub mod people {
    use chrono::{Datelike, NaiveDate};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use yijia_domain::id_number::{IdNumber, Sex};
    use yijia_domain::registry::Category;

    use crate::registry::{CategoryInput, HouseholdInput, ResidentInput};

    const SURNAMES: &[&str] = &[
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭",
        "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅",
        "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "崔", "单",
    ];
    const GIVEN_M: &[&str] = &[
        "伟", "强", "军", "勇", "杰", "涛", "明", "超", "国", "建", "志", "斌", "东", "海", "刚", "林", "峰", "文",
        "华", "德",
    ];
    const GIVEN_F: &[&str] = &[
        "芳", "娜", "敏", "静", "丽", "艳", "霞", "秀", "英", "玉", "兰", "梅", "红", "萍", "娟", "燕", "桂", "凤",
        "琳", "晓",
    ];

    /// `n` residents in households of one to four, spread over `grids`
    /// and `estates`, born before `today`.
    pub fn generate(seed: u64, n: usize, grids: &[String], estates: &[String], today: NaiveDate) -> Vec<ResidentInput> {
        Generator::new(seed).people(n, grids, estates, today)
    }

    /// Makes people batch after batch, never the same ID number twice.
    pub struct Generator {
        rng: StdRng,
        seen: std::collections::HashSet<u64>,
    }

    impl Generator {
        pub fn new(seed: u64) -> Self {
            Generator { rng: StdRng::seed_from_u64(seed), seen: Default::default() }
        }

        /// A value for the seeded uid of the next resident.
        pub fn next_u128(&mut self) -> u128 {
            self.rng.random()
        }

        pub fn people(
            &mut self,
            n: usize,
            grids: &[String],
            estates: &[String],
            today: NaiveDate,
        ) -> Vec<ResidentInput> {
            let (rng, seqs) = (&mut self.rng, &mut self.seen);
            people_from(rng, seqs, n, grids, estates, today)
        }
    }

    fn people_from(
        rng: &mut StdRng,
        seqs: &mut std::collections::HashSet<u64>,
        n: usize,
        grids: &[String],
        estates: &[String],
        today: NaiveDate,
    ) -> Vec<ResidentInput> {
        let mut rng = rng;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let grid = grids[rng.random_range(0..grids.len())].clone();
            let household = HouseholdInput {
                estate: estates[rng.random_range(0..estates.len())].clone(),
                building: format!("{}号楼", rng.random_range(1..=12)),
                entrance: format!("{}单元", rng.random_range(1..=4)),
                door: format!("{}0{}", rng.random_range(1..=7), rng.random_range(1..=4)),
            };
            // 2.5 people a household, as in Yushu (1.2 million in 480,000)
            let size = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4][rng.random_range(0..10)];
            let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
            for member in 0..size {
                if out.len() >= n {
                    break;
                }
                let sex = if rng.random_bool(0.5) { Sex::Male } else { Sex::Female };
                // a head of household is an adult; others any age
                let age: i32 = if member == 0 { rng.random_range(22..92) } else { rng.random_range(0..85) };
                let Some(birth) =
                    NaiveDate::from_ymd_opt(today.year() - age, rng.random_range(1..=12), rng.random_range(1..=28))
                        .filter(|b| *b < today)
                else {
                    continue;
                };
                let seq: u16 = rng.random_range(0..999);
                let Some(id) = IdNumber::from_parts("220182", birth, seq, sex) else { continue };
                if !seqs.insert(id.as_str()[..17].parse().unwrap_or(0)) {
                    continue;
                }
                let pool = if sex == Sex::Male { GIVEN_M } else { GIVEN_F };
                let mut name = format!("{surname}{}", pool[rng.random_range(0..pool.len())]);
                if rng.random_bool(0.6) {
                    name.push_str(pool[rng.random_range(0..pool.len())]);
                }
                let mut cats = Vec::new();
                let mut add = |c: Category, p: f64, rng: &mut &mut StdRng| {
                    if rng.random_bool(p) {
                        cats.push(CategoryInput { category: c, details: None });
                    }
                };
                if size == 1 && age >= 70 {
                    add(Category::ElderlyAlone, 0.8, &mut rng);
                }
                add(Category::Disabled, 0.03, &mut rng);
                add(Category::Hardship, 0.03, &mut rng);
                add(Category::Subsistence, 0.02, &mut rng);
                add(Category::Veteran, if age > 40 && sex == Sex::Male { 0.04 } else { 0.0 }, &mut rng);
                add(Category::PartyMember, if age >= 18 { 0.08 } else { 0.0 }, &mut rng);
                add(
                    Category::Pregnant,
                    if sex == Sex::Female && (22..40).contains(&age) { 0.05 } else { 0.0 },
                    &mut rng,
                );
                let phone = (age >= 16).then(|| {
                    format!("1{}{:09}", [3, 5, 7, 8, 9][rng.random_range(0..5)], rng.random_range(0..1_000_000_000u32))
                });
                out.push(ResidentInput {
                    name,
                    sex: None,
                    birth_date: None,
                    id_number: Some(id.as_str().to_owned()),
                    phone,
                    grid: grid.clone(),
                    household: Some(household.clone()),
                    relation: Some(
                        if member == 0 {
                            "户主"
                        } else {
                            ["配偶", "子女", "父母", "孙子女"][rng.random_range(0..4)]
                        }
                        .into(),
                    ),
                    residence: Some(
                        ["permanent", "permanent", "permanent", "tenant", "registered_absent", "working_away"]
                            [rng.random_range(0..6)]
                        .into(),
                    ),
                    notes: None,
                    categories: cats,
                });
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn deterministic_and_believable() {
            let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
            let grids = vec!["g1".to_owned(), "g2".to_owned()];
            let estates = vec!["丁香花园".to_owned()];
            let a = generate(7, 500, &grids, &estates, today);
            let b = generate(7, 500, &grids, &estates, today);
            assert_eq!(a.len(), 500);
            assert_eq!(a.iter().map(|r| &r.name).collect::<Vec<_>>(), b.iter().map(|r| &r.name).collect::<Vec<_>>());
            for r in &a {
                let id = IdNumber::parse(r.id_number.as_deref().unwrap()).unwrap();
                assert_eq!(id.area_code(), "220182");
                assert!(id.birth_date().unwrap() < today);
            }
            let alone = a.iter().filter(|r| r.categories.iter().any(|c| c.category == Category::ElderlyAlone)).count();
            assert!(alone > 5 && alone < 100, "{alone}");
        }
    }
}

impl Services {
    /// Adds `n` generated residents to the demo community, once.
    pub async fn seed_demo_residents(&self, n: usize) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_residents").await?.is_some();
        let community = yijia_store::org::by_code(&mut tx, "chengnan").await?;
        tx.commit().await?;
        let Some(community) = community.filter(|_| !done) else {
            return Ok(0);
        };
        let mut tx = self.db.read().await?;
        let grids = yijia_store::org::children(&mut tx, community.id).await?;
        let estates: Vec<String> =
            yijia_store::places::estates(&mut tx, community.id, None).await?.into_iter().map(|e| e.name).collect();
        tx.commit().await?;
        let codes: Vec<String> = grids.iter().map(|g| g.code.clone()).collect();
        if codes.is_empty() || estates.is_empty() {
            return Ok(0);
        }
        let today = yijia_domain::time::to_local(self.now()).date_naive();
        let people = people::generate(2024, n, &codes, &estates, today);
        let now = self.now();
        let mut tx = self.db.write().await?;
        for input in &people {
            let Some(grid) = grids.iter().find(|g| g.code == input.grid) else { continue };
            let p = self.prepare(input, grid.id, now)?;
            let household = match &input.household {
                Some(h) => Some(self.household(&mut tx, grid, h, now).await?),
                None => None,
            };
            self.store_prepared(&mut tx, &p, household, "demo").await?;
        }
        meta::set(&mut tx, "demo_residents", &people.len().to_string()).await?;
        tx.commit().await?;
        Ok(people.len())
    }
}
