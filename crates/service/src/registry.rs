//! The registry: residents, their households and categories, and the rules
//! for their personal data (DESIGN section 6): sealed at rest, masked in
//! every answer, shown in full only through `unmask`, with a reason, audited
//! in the same transaction; every read of a record is audited too.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::id_number::{IdNumber, Sex};
use yijia_domain::org::OrgKind;
use yijia_domain::phone::Phone;
use yijia_domain::registry::{Category, Residence, age_on, is_child, validate_person_name};
use yijia_domain::role::Role;
use yijia_store::{Tx, audit as store_audit, org, places, residents};

use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::keys::DataKey;
use crate::roles::{REGISTRARS, RESIDENT_READERS, UNMASKERS};
use crate::visits::FirstDue;
use crate::{Caller, Page, PageReq, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    /// An estate of the grid's community, by name (丁香花园三期).
    pub estate: String,
    /// 3号楼
    pub building: String,
    /// 2单元 (may be empty)
    #[serde(default)]
    pub entrance: String,
    /// 502
    pub door: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub category: Category,
    /// The category's own details: disabled {kind, grade}; hardship and
    /// subsistence {kind}; pregnant {due_date}.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentInput {
    pub name: String,
    /// male or female (男 / 女); taken from the ID number when absent.
    pub sex: Option<String>,
    /// YYYY-MM-DD; taken from the ID number when absent.
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// Code of the grid the resident lives in.
    pub grid: String,
    pub household: Option<HouseholdInput>,
    /// Relation to the head of the household (户主, 配偶, 子女, …).
    pub relation: Option<String>,
    /// permanent, tenant, registered_absent, present_unregistered, working_away
    pub residence: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub categories: Vec<CategoryInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AddressView {
    pub household_id: i64,
    pub building_id: i64,
    pub estate: String,
    pub building: String,
    pub entrance: String,
    pub door: String,
}

impl From<places::Address> for AddressView {
    fn from(a: places::Address) -> Self {
        AddressView {
            household_id: a.household_id,
            building_id: a.building_id,
            estate: a.estate,
            building: a.building,
            entrance: a.entrance,
            door: a.door,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    /// `elderly_alone`, …, or `c<id>` for a category the community made.
    pub category: String,
    pub name: String,
    pub name_en: String,
    /// Follows from data (a child by birth date); not stored.
    pub derived: bool,
    /// Whether sealed details exist (shown through unmask).
    pub has_details: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResidentView {
    pub id: i64,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<String>,
    pub age: Option<u32>,
    /// Masked (`220182********1234`); absent for station clerks.
    pub id_number: Option<String>,
    /// Masked (`138****5678`); absent for station clerks.
    pub phone: Option<String>,
    pub grid: String,
    pub grid_name: String,
    pub address: Option<AddressView>,
    pub relation: String,
    pub residence: Residence,
    pub notes: String,
    pub categories: Vec<CategoryView>,
    /// Stated data that contradicts the ID number, for a person to check.
    pub flags: Vec<Flag>,
    /// On the register, moved away or deceased, and since which day.
    pub status: yijia_domain::life::Status,
    pub status_on: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unmasked {
    pub field: String,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// On a resident's own phone: who looked at his record, and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MyRecordView {
    /// RFC 3339
    pub at: String,
    /// Their name.
    pub who_name: String,
    /// Their role (grid worker, community staff…).
    pub who_role: Option<Role>,
    /// `resident_view` (read the record), `resident_unmask` (showed a field
    /// in full), `visit_read`, `resident_edit`, …
    pub action: String,
    /// For an unmask: the field shown, and the reason given.
    pub field: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    /// RFC 3339
    pub at: String,
    /// Their login name (a resident's mobile masked).
    pub who: String,
    /// Their name, as the record's reader knows them.
    pub who_name: String,
    /// Their first role.
    pub who_role: Option<Role>,
    /// For an unmask: the field shown, and the reason given.
    pub field: Option<String>,
    pub reason: Option<String>,
    /// resident_view, resident_unmask, resident_add, …
    pub action: String,
    /// For an unmask: which field and why.
    pub detail: String,
}

/// A resident checked and sealed, ready to be stored.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub new: residents::NewResident,
    pub cats: Vec<(Category, Option<String>)>,
    /// Categories the community made (codes), held without details.
    pub custom: Vec<String>,
    pub flags: Vec<Flag>,
    /// The person's own key, and its wrapped form when it is new.
    pub own: DataKey,
    pub wrapped: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ResidentFilter {
    pub grid: Option<String>,
    /// A category by code, alias or name (a community's own too).
    pub category: Option<String>,
    pub residence: Option<Residence>,
    /// Ages in whole years, both ends included.
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
    /// An address: an estate by name, and a building, entrance and door of it.
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
    pub name: Option<String>,
    /// An exact ID number or phone number.
    pub q: Option<String>,
    pub sort: ResidentSort,
    /// Those moved away or deceased; by default, those on the register.
    pub status: Option<yijia_domain::life::Status>,
}

/// The order of a resident list (a domain type, shared with the store).
pub use yijia_domain::registry::ResidentSort;

/// What an edit changes: the fields given replace those on record.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentEdit {
    /// The `version` of the record as you read it.
    pub version: i64,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    /// A new ID number; leave out to keep the one on record.
    pub id_number: Option<String>,
    /// A new phone number; leave out to keep it, "" to remove it.
    pub phone: Option<String>,
    /// A new address; leave out to keep it.
    pub household: Option<HouseholdInput>,
    pub relation: Option<String>,
    pub residence: Option<String>,
    pub notes: Option<String>,
}

/// `pregnant` ends this many days after the due date: the 42-day
/// postpartum period (产后 42 天) in which the community still visits.
pub const PREGNANCY_GRACE_DAYS: u64 = 42;

/// The same day `n` years earlier, as `YYYY-MM-DD`.
pub(crate) fn years_before(d: NaiveDate, n: i32) -> String {
    use chrono::Datelike;
    // 29 February falls back to the 28th in a year without it
    let y = d.year() - n;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or(NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
        .to_string()
}

fn today(now_ms: i64) -> NaiveDate {
    yijia_domain::time::to_local(now_ms).date_naive()
}

pub(crate) fn aad_id(uid: &str) -> String {
    format!("residents.id_number:{uid}")
}
pub(crate) fn aad_phone(uid: &str) -> String {
    format!("residents.phone:{uid}")
}
fn aad_details(uid: &str, category: &str) -> String {
    format!("resident_categories.details:{uid}:{category}")
}

fn check_details(i: usize, c: &CategoryInput) -> Result<Option<String>> {
    let field = format!("categories[{i}].details");
    // a roster seldom knows the due date: without it the category stays
    // until someone removes it
    let Some(d) = &c.details else {
        return Ok(None);
    };
    let allowed = c.category.detail_fields();
    if let Some(k) = d.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ServiceError::invalid(
            &field,
            format!("「{}」没有「{k}」这一项,可填:{}", c.category.name_zh(), allowed.join(", ")),
            format!("'{}' has no detail '{k}'; it has: {}", c.category.code(), allowed.join(", ")),
        ));
    }
    // each detail is a short text (肢体, 二级, 2027-02-01), never a document
    if let Some((k, _)) = d.iter().find(|(_, v)| v.as_str().is_none_or(|t| t.chars().count() > 32)) {
        return Err(ServiceError::invalid(
            &format!("{field}.{k}"),
            "每项须为 32 字以内的文字",
            "each detail is a text of at most 32 characters",
        ));
    }
    if c.category == Category::Pregnant {
        let due = d.get("due_date").and_then(|v| v.as_str()).unwrap_or("");
        crate::fields::date(&format!("{field}.due_date"), due)?;
    }
    Ok(Some(serde_json::Value::Object(d.clone()).to_string()))
}

impl Services {
    fn keys(&self) -> &crate::keys::Keyring {
        &self.keys
    }

    pub async fn add_resident(&self, caller: &Caller, input: ResidentInput) -> Result<ResidentView> {
        if !caller.has_any(REGISTRARS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.read().await?;
        let grid = org::by_code(&mut tx, input.grid.trim()).await?;
        tx.commit().await?;
        let Some(grid) = grid.filter(|g| g.kind == OrgKind::Grid && caller.covers(REGISTRARS, &g.path)) else {
            return Err(ServiceError::invalid(
                "grid",
                format!("找不到您可登记的网格「{}」", input.grid),
                format!("no grid '{}' that you register residents in", input.grid),
            ));
        };
        let now = self.now();
        let p = self.prepare(&input, grid.id, now)?;
        let mut tx = self.db.write().await?;
        let household_id = match &input.household {
            Some(h) => Some(self.household(&mut tx, &grid, h, now).await?),
            None => None,
        };
        let id = self.store_prepared(&mut tx, &p, household_id, &caller.username).await?;
        let codes: Vec<&str> = p.cats.iter().map(|(c, _)| c.code()).collect();
        let e = Event::ok("resident_add", format!("resident:{id}"), &grid.path);
        record(&mut tx, caller, now, &e.with(json!({ "categories": codes, "flags": p.flags.len() }))).await?;
        let view = self.view(&mut tx, caller, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Checks a resident's data and seals what is personal; no IO.
    pub(crate) fn prepare(&self, input: &ResidentInput, grid_id: i64, now: i64) -> Result<Prepared> {
        self.prepare_as(input, grid_id, now, uuid::Uuid::new_v4(), None)
    }

    /// `prepare` with the row's uid chosen by the caller (generated data
    /// that should come out the same every time).
    pub(crate) fn prepare_as(
        &self,
        input: &ResidentInput,
        grid_id: i64,
        now: i64,
        uid: uuid::Uuid,
        own: Option<DataKey>,
    ) -> Result<Prepared> {
        let name = validate_person_name(&input.name)?;
        let pinyin = yijia_domain::registry::name_pinyin(&name);
        let id = match input.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(IdNumber::parse(s)?),
            None => None,
        };
        let phone = match input.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(Phone::parse(s)?),
            None => None,
        };
        let sex = match input.sex.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(
                Sex::parse(s)
                    .ok_or_else(|| ServiceError::invalid("sex", "性别应为「男」或「女」", "sex is male or female"))?,
            ),
            None => None,
        };
        let birth = match input.birth_date.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(crate::fields::date("birth_date", s)?),
            None => None,
        };
        if birth.is_some_and(|b| b > today(self.now())) {
            return Err(ServiceError::invalid("birth_date", "出生日期不能晚于今天", "the birth date is in the future"));
        }
        let residence = match input.residence.as_deref() {
            Some(s) => Residence::parse(s).ok_or_else(|| {
                ServiceError::invalid(
                    "residence",
                    format!("未知的居住状态「{s}」"),
                    format!("unknown residence status '{s}'"),
                )
            })?,
            None => Residence::Permanent,
        };
        let relation = input.relation.clone().unwrap_or_default().trim().chars().take(16).collect::<String>();
        let notes = input.notes.clone().unwrap_or_default().trim().chars().take(500).collect::<String>();
        let mut seen = std::collections::BTreeSet::new();
        let mut cats = Vec::new();
        for (i, c) in input.categories.iter().enumerate() {
            if c.category.derived() {
                return Err(ServiceError::invalid(
                    &format!("categories[{i}].category"),
                    "「儿童」由出生日期自动判断,无需填写",
                    "'child' follows from the birth date and is not entered",
                ));
            }
            if !seen.insert(c.category) {
                continue;
            }
            cats.push((c.category, check_details(i, c)?));
        }
        let flags: Vec<Flag> = id
            .as_ref()
            .map(|id| id.mismatches(sex, birth))
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let msg = m.message();
                let code = match m {
                    yijia_domain::id_number::Mismatch::Sex { .. } => "sex_mismatch",
                    yijia_domain::id_number::Mismatch::BirthDate { .. } => "birth_date_mismatch",
                };
                Flag { code: code.into(), zh: msg.zh, en: msg.en }
            })
            .collect();
        // what the ID number says fills what was not stated
        let sex = sex.or(id.as_ref().map(IdNumber::sex));
        let birth = birth.or(id.as_ref().and_then(IdNumber::birth_date));

        let keys = self.keys();
        let uid = uid.to_string();
        let (own, wrapped) = match own {
            Some(k) => (k, None),
            None => keys.new_data_key(&uid).map(|(k, w)| (k, Some(w)))?,
        };
        let new = residents::NewResident {
            grid_id,
            household_id: None,
            name_pinyin: pinyin.0,
            name_initials: pinyin.1,
            name: name.clone(),
            sex,
            birth_date: birth.map(|b| b.to_string()),
            id_number_sealed: id.as_ref().map(|i| own.seal(&aad_id(&uid), i.as_str())).transpose()?,
            id_number_index: id.as_ref().map(|i| keys.blind("id_number", i.as_str())).transpose()?,
            id_number_masked: id.as_ref().map(IdNumber::masked),
            phone_sealed: phone.as_ref().map(|p| own.seal(&aad_phone(&uid), &p.normalized())).transpose()?,
            phone_index: phone.as_ref().map(|p| keys.blind("phone", &p.normalized())).transpose()?,
            phone_masked: phone.as_ref().map(Phone::masked),
            relation,
            residence,
            notes,
            flags: serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()),
            now,
            uid: uid.clone(),
        };
        Ok(Prepared { new, cats, custom: vec![], flags, own, wrapped })
    }

    /// Stores a prepared resident and their categories in `tx`.
    pub(crate) async fn store_prepared(
        &self,
        tx: &mut Tx,
        p: &Prepared,
        household_id: Option<i64>,
        by: &str,
    ) -> Result<i64> {
        let ids = self.store_many(tx, &[(p, household_id)], by, FirstDue::Today).await?;
        ids.first().copied().ok_or(ServiceError::NotFound)
    }

    /// Stores prepared residents (with their households) and their
    /// categories in `tx`, a few statements for many people; their ids.
    pub(crate) async fn store_many(
        &self,
        tx: &mut Tx,
        batch: &[(&Prepared, Option<i64>)],
        by: &str,
        first: FirstDue,
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(residents::BATCH) {
            let rows: Vec<residents::NewResident> = chunk
                .iter()
                .map(|(p, household_id)| residents::NewResident { household_id: *household_id, ..p.new.clone() })
                .collect();
            let chunk_ids = on_conflict(residents::insert_many(tx, &rows).await, || {
                Msg::new("该身份证号已登记,请先查找此人", "this ID number is registered already; look the person up")
            })?;
            let mut sealed = Vec::new();
            let mut own = Vec::new();
            for ((p, _), id) in chunk.iter().zip(&chunk_ids) {
                if let Some(w) = &p.wrapped {
                    own.push((*id, w.clone()));
                }
                for (c, details) in &p.cats {
                    let s =
                        details.as_deref().map(|d| p.own.seal(&aad_details(&p.new.uid, c.code()), d)).transpose()?;
                    sealed.push((*id, c.code(), s, p.new.now));
                }
                for code in &p.custom {
                    sealed.push((*id, code.as_str(), None, p.new.now));
                }
            }
            let cats: Vec<residents::NewCategory<'_>> = sealed
                .iter()
                .map(|(id, code, s, now)| residents::NewCategory {
                    resident_id: *id,
                    category: code,
                    details_sealed: s.as_deref(),
                    reason: "登记 / registered",
                    by_user: by,
                    now: *now,
                })
                .collect();
            residents::add_categories(tx, &cats).await?;
            yijia_store::erasure::insert_keys(tx, &own).await?;
            // those whose categories carry a care plan are due for a visit
            self.replan(tx, yijia_store::visits::Whose::Residents(&chunk_ids), first).await?;
            ids.extend(chunk_ids);
        }
        Ok(ids)
    }

    pub(crate) async fn household(
        &self,
        tx: &mut Tx,
        grid: &org::OrgNode,
        h: &HouseholdInput,
        now: i64,
    ) -> Result<i64> {
        let community = grid.parent_id.ok_or(ServiceError::NotFound)?;
        let Some(estate) = places::estate_by_name(tx, community, h.estate.trim()).await? else {
            return Err(ServiceError::invalid(
                "household.estate",
                format!("本社区没有名为「{}」的小区", h.estate),
                format!("this community has no estate called '{}'", h.estate),
            ));
        };
        // written as 3, 3号楼 or 3栋, it is one building; 2 and 2单元 one entrance
        let text = |s: &str| yijia_domain::roster::Cell::Text(s.trim().to_owned());
        let building = yijia_domain::roster::building_name(&text(&h.building));
        let entrance = yijia_domain::roster::entrance_name(&text(&h.entrance));
        let (building, door) = (building.as_str(), h.door.trim());
        yijia_domain::roster::check_address("household.", building, &entrance, door)?;
        let b = places::building(tx, estate, building, now).await?;
        Ok(places::household(tx, grid.id, b, &entrance, door, now).await?)
    }

    /// Masked views of several residents, with their addresses.
    async fn views_of(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        rows: Vec<residents::Resident>,
    ) -> Result<Vec<ResidentView>> {
        let households: Vec<i64> = rows.iter().filter_map(|r| r.household_id).collect();
        let at: std::collections::HashMap<i64, places::Address> =
            places::addresses(tx, &households).await?.into_iter().map(|a| (a.household_id, a)).collect();
        Ok(rows
            .into_iter()
            .map(|r| {
                let address = r.household_id.and_then(|h| at.get(&h).cloned());
                self.to_view(caller, r, address)
            })
            .collect())
    }

    /// The masked view of a resident, read in the caller's transaction.
    async fn view(&self, tx: &mut Tx, caller: &Caller, id: i64) -> Result<ResidentView> {
        let r = residents::get(tx, id).await?.ok_or(ServiceError::NotFound)?;
        let address = match r.household_id {
            Some(h) => places::address(tx, h).await?,
            None => None,
        };
        Ok(self.to_view(caller, r, address))
    }

    pub(crate) fn to_view(
        &self,
        caller: &Caller,
        r: residents::Resident,
        address: Option<places::Address>,
    ) -> ResidentView {
        let birth = r.birth_date.as_deref().and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
        let today = today(self.now());
        let mut categories: Vec<CategoryView> = r
            .category_codes()
            .into_iter()
            .filter_map(|held| {
                let (name, name_en) = match (Category::parse(held.code), held.custom_name) {
                    (Some(c), _) => (c.name_zh().to_owned(), c.name_en().to_owned()),
                    (None, Some(n)) => (n.to_owned(), n.to_owned()),
                    (None, None) => return None,
                };
                Some(CategoryView {
                    category: held.code.to_owned(),
                    name,
                    name_en,
                    derived: false,
                    has_details: held.has_details,
                })
            })
            .collect();
        if birth.is_some_and(|b| is_child(b, today)) {
            let c = Category::Child;
            categories.push(CategoryView {
                category: c.code().into(),
                name: c.name_zh().into(),
                name_en: c.name_en().into(),
                derived: true,
                has_details: false,
            });
        }
        // station clerks see names, never ID numbers or phones
        let sees_ids = caller.covers(UNMASKERS, &r.grid_path);
        ResidentView {
            id: r.id,
            name: r.name,
            sex: r.sex,
            age: birth.and_then(|b| age_on(b, today)),
            birth_date: r.birth_date,
            id_number: r.id_number_masked.filter(|_| sees_ids),
            phone: r.phone_masked.filter(|_| sees_ids),
            grid: r.grid_code,
            grid_name: r.grid_name,
            address: address.map(AddressView::from),
            relation: r.relation,
            residence: r.residence,
            notes: r.notes,
            categories,
            flags: serde_json::from_str(&r.flags).unwrap_or_default(),
            status: r.status,
            status_on: r.status_on,
            version: r.version,
        }
    }

    /// A resident in the caller's scope; anyone else is "not found", and
    /// the attempt is audited.
    pub(crate) async fn resident_in_scope(
        &self,
        caller: &Caller,
        id: i64,
        roles: &[Role],
        action: &str,
    ) -> Result<residents::Resident> {
        let mut conn = self.db.conn().await?;
        let r = residents::get(&mut conn, id).await?;
        drop(conn);
        match r {
            Some(r) if caller.covers(roles, &r.grid_path) => Ok(r),
            Some(r) => Err(self.deny(caller, action, &format!("resident:{}", r.id)).await),
            None => Err(ServiceError::NotFound),
        }
    }

    /// A resident in the caller's scope whose record may still change: an
    /// erased one takes no edit (409).
    pub(crate) async fn resident_to_change(
        &self,
        caller: &Caller,
        id: i64,
        roles: &[Role],
        action: &str,
    ) -> Result<residents::Resident> {
        let r = self.resident_in_scope(caller, id, roles, action).await?;
        crate::erasure::not_erased(&r)?;
        Ok(r)
    }

    /// Changes a resident's own data (not their grid or categories). Fields
    /// left out keep their value; the edit is refused when the record
    /// changed since `version` was read. The audit log names the fields
    /// changed, never their values.
    pub async fn update_resident(&self, caller: &Caller, id: i64, edit: ResidentEdit) -> Result<ResidentView> {
        let r = self.resident_to_change(caller, id, REGISTRARS, "resident_edit").await?;
        let keys = self.keys();
        let mut conn = self.db.conn().await?;
        let own = self.own_key(&mut conn, id).await?;
        drop(conn);
        // what is not given stays: a sealed value is opened only to be sealed again
        let kept = |sealed: &Option<String>, aad: String| {
            sealed.as_deref().map(|s| keys.open_with(own.as_ref(), &aad, s)).transpose()
        };
        let id_number = match edit.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(s.to_owned()),
            None => kept(&r.id_number_sealed, aad_id(&r.uid))?,
        };
        let phone = match edit.phone.as_deref().map(str::trim) {
            Some("") => None,
            Some(s) => Some(s.to_owned()),
            None => kept(&r.phone_sealed, aad_phone(&r.uid))?,
        };
        let input = ResidentInput {
            name: edit.name.clone(),
            sex: edit.sex.clone(),
            birth_date: edit.birth_date.clone(),
            id_number,
            phone,
            grid: r.grid_code.clone(),
            household: edit.household.clone(),
            relation: edit.relation.clone(),
            residence: edit.residence.clone(),
            notes: edit.notes.clone(),
            categories: vec![],
        };
        let uid = uuid::Uuid::parse_str(&r.uid).map_err(|e| ServiceError::caused("a stored resident uid", e))?;
        let now = self.now();
        let p = self.prepare_as(&input, r.grid_id, now, uid, own)?;
        let mut tx = self.db.write().await?;
        let household_id = match &edit.household {
            Some(h) => {
                let grid = org::by_id(&mut tx, r.grid_id).await?;
                Some(self.household(&mut tx, &grid, h, now).await?)
            }
            None => r.household_id,
        };
        let new = residents::NewResident { household_id, ..p.new };
        let updated = on_conflict(residents::update(&mut tx, id, edit.version, &new).await, || {
            Msg::new("该身份证号已登记给另一位居民", "this ID number belongs to another resident")
        })?;
        if let (true, Some(w)) = (updated, p.wrapped) {
            yijia_store::erasure::insert_keys(&mut tx, &[(id, w)]).await?;
        }
        if !updated {
            return Err(ServiceError::Conflict(Msg::new(
                "这条记录在您打开后已被他人修改,请刷新后再改",
                "someone else changed this record after you opened it; reload it and edit again",
            )));
        }
        let changed: Vec<&str> = [
            ("name", r.name != new.name),
            ("sex", r.sex != new.sex),
            ("birth_date", r.birth_date != new.birth_date),
            // a number given counts as changed: the masked forms may not differ
            ("id_number", edit.id_number.as_deref().is_some_and(|s| !s.trim().is_empty())),
            ("phone", edit.phone.is_some()),
            ("household", r.household_id != new.household_id),
            ("relation", r.relation != new.relation),
            ("residence", r.residence != new.residence),
            ("notes", r.notes != new.notes),
        ]
        .into_iter()
        .filter(|(_, c)| *c)
        .map(|(f, _)| f)
        .collect();
        let e = Event::ok("resident_edit", format!("resident:{id}"), &r.grid_path);
        record(&mut tx, caller, now, &e.with(json!({ "fields": changed, "flags": p.flags.len() }))).await?;
        let view = self.view(&mut tx, caller, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Removes `pregnant` from everyone whose due date is more than
    /// `PREGNANCY_GRACE_DAYS` ago, with a line in its history; returns how
    /// many. A pregnancy recorded without a due date stays until removed.
    pub async fn end_pregnancies(&self) -> Result<usize> {
        let now = self.now();
        let cutoff = today(now) - chrono::Days::new(PREGNANCY_GRACE_DAYS);
        let keys = self.keys();
        let mut tx = self.db.write().await?;
        let mut ended = Vec::new();
        let holders = residents::holders(&mut tx, Category::Pregnant.code()).await?;
        let own = self.own_keys(&mut tx, &holders.iter().map(|h| h.resident_id).collect::<Vec<_>>()).await?;
        for h in holders {
            let Some(sealed) = &h.details_sealed else { continue };
            let aad = aad_details(&h.uid, Category::Pregnant.code());
            let details = keys.open_with(own.get(&h.resident_id), &aad, sealed)?;
            let due = serde_json::from_str::<serde_json::Value>(&details)
                .ok()
                .and_then(|d| d.get("due_date").and_then(|v| v.as_str()).map(str::to_owned))
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            if due.is_some_and(|d| d < cutoff) {
                residents::remove_category(&mut tx, h.resident_id, Category::Pregnant.code()).await?;
                let why =
                    format!("预产期已过 {PREGNANCY_GRACE_DAYS} 天 / {PREGNANCY_GRACE_DAYS} days past the due date");
                residents::history(&mut tx, h.resident_id, "pregnant", "removed", &why, "system", now).await?;
                ended.push(h.resident_id);
            }
        }
        self.replan(&mut tx, yijia_store::visits::Whose::Residents(&ended), FirstDue::Today).await?;
        if !ended.is_empty() {
            let e = Event::ok("pregnancy_ends", "residents".to_owned(), "/root/");
            record(&mut tx, &Caller::operator(), now, &e.with(json!({ "residents": ended }))).await?;
        }
        tx.commit().await?;
        Ok(ended.len())
    }

    /// One resident, masked. The read is audited, so that the resident can
    /// see who looked.
    pub async fn get_resident(&self, caller: &Caller, id: i64) -> Result<ResidentView> {
        let r = self.resident_in_scope(caller, id, RESIDENT_READERS, "resident_view").await?;
        self.within_read_limit(caller).await?;
        let mut tx = self.db.write().await?;
        record(&mut tx, caller, self.now(), &Event::ok("resident_view", format!("resident:{id}"), &r.grid_path))
            .await?;
        let view = self.view(&mut tx, caller, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Shows one protected field in full: `id_number`, `phone` or
    /// `details`. The reason and the field go to the audit log in the same
    /// transaction; when that write fails, nothing is shown.
    pub async fn unmask(&self, caller: &Caller, id: i64, field: &str, reason: &str) -> Result<Unmasked> {
        let r = self.resident_in_scope(caller, id, RESIDENT_READERS, "resident_unmask").await?;
        if !caller.covers(UNMASKERS, &r.grid_path) {
            return Err(ServiceError::Forbidden(Msg::new(
                "您的角色不能查看完整的个人信息",
                "your role may not see personal data in full",
            )));
        }
        let reason = reason.trim();
        if reason.chars().count() < 2 || reason.chars().count() > 200 {
            return Err(ServiceError::invalid(
                "reason",
                "请写明查看原因(2–200 字)",
                "give a reason (2–200 characters)",
            ));
        }
        self.within_read_limit(caller).await?;
        let keys = self.keys();
        let mut tx = self.db.write().await?;
        let e = Event::ok("resident_unmask", format!("resident:{id}"), &r.grid_path);
        record(&mut tx, caller, self.now(), &e.with(json!({ "field": field, "reason": reason }))).await?;
        let own = self.own_key(&mut tx, id).await?;
        let own = own.as_ref();
        let value = match field {
            "id_number" => match &r.id_number_sealed {
                Some(s) => json!(keys.open_with(own, &aad_id(&r.uid), s)?),
                None => serde_json::Value::Null,
            },
            "phone" => match &r.phone_sealed {
                Some(s) => json!(keys.open_with(own, &aad_phone(&r.uid), s)?),
                None => serde_json::Value::Null,
            },
            "details" => {
                let mut m = serde_json::Map::new();
                for c in residents::categories(&mut tx, id).await? {
                    if let Some(s) = &c.details_sealed {
                        let plain = keys.open_with(own, &aad_details(&r.uid, &c.category), s)?;
                        m.insert(c.category, serde_json::from_str(&plain).unwrap_or(serde_json::Value::Null));
                    }
                }
                serde_json::Value::Object(m)
            }
            other => {
                return Err(ServiceError::invalid(
                    "field",
                    format!("没有可查看的字段「{other}」(可选 id_number, phone, details)"),
                    format!("no field '{other}' to show (id_number, phone or details)"),
                ));
            }
        };
        tx.commit().await?;
        Ok(Unmasked { field: field.to_owned(), value })
    }

    /// Residents in the caller's scope, masked, by name.
    pub async fn list_residents(
        &self,
        caller: &Caller,
        f: ResidentFilter,
        page: PageReq,
    ) -> Result<Page<ResidentView>> {
        let mut paths = caller.scope_paths(RESIDENT_READERS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let mut conn = self.db.conn().await?;
        if let Some(code) = f.grid.as_deref().filter(|g| !g.is_empty()) {
            let node = org::by_code(&mut conn, code).await?;
            let Some(node) = node.filter(|n| caller.covers(RESIDENT_READERS, &n.path)) else {
                return Err(ServiceError::invalid(
                    "grid",
                    format!("找不到网格「{code}」"),
                    format!("no grid '{code}'"),
                ));
            };
            paths = vec![node.path];
        }
        let category = match f.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(self.choose_category(&mut conn, c, &paths).await?),
            None => None,
        };
        drop(conn);
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            return self.find_exact(caller, q, &paths, page).await;
        }
        for (field, age) in [("age_min", f.age_min), ("age_max", f.age_max)] {
            if age.is_some_and(|a| a > 150) {
                return Err(ServiceError::invalid(field, "年龄须在 0 到 150 之间", "an age is between 0 and 150"));
            }
        }
        let today = today(self.now());
        // a child is one born less than 14 years ago: found by birth date
        let child = category
            .as_ref()
            .and_then(|c| c.category())
            .filter(|c| *c == Category::Child)
            .map(|_| years_before(today, 14));
        let oldest = f.age_max.map(|a| years_before(today, a as i32 + 1));
        let born_after = child.into_iter().chain(oldest).max();
        let born_before = f.age_min.map(|a| years_before(today, a as i32));
        let filter = residents::Filter {
            paths,
            born_after,
            born_before,
            residence: f.residence.map(|r| r.code().to_owned()),
            estate: f.estate.clone().filter(|e| !e.trim().is_empty()),
            building: f
                .building
                .as_deref()
                .filter(|b| !b.trim().is_empty())
                .map(|b| yijia_domain::roster::building_name(&yijia_domain::roster::Cell::Text(b.to_owned()))),
            entrance: f
                .entrance
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|e| yijia_domain::roster::entrance_name(&yijia_domain::roster::Cell::Text(e.to_owned()))),
            door: f.door.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            sort: f.sort,
            status: f.status,
            category: category.filter(|c| !c.derived).map(|c| c.code),
            // pinyin is searched in lower case without spaces: "Cui xh" → "cuixh"
            name: f
                .name
                .map(|n| if n.is_ascii() { n.to_lowercase().replace(' ', "") } else { n.trim().to_owned() })
                .filter(|n| !n.is_empty()),
        };
        let mut tx = self.db.conn().await?;
        let (rows, total) = residents::list(&mut tx, &filter, page.per_page, page.offset()).await?;
        let items = self.views_of(&mut tx, caller, rows).await?;
        tx.commit().await?;
        Ok(Page::of(items, total, page))
    }

    /// Exact search by ID number or phone through their blind indexes; the
    /// search is audited (with the masked value only).
    async fn find_exact(
        &self,
        caller: &Caller,
        q: &str,
        paths: &[String],
        page: PageReq,
    ) -> Result<Page<ResidentView>> {
        let keys = self.keys();
        let id = IdNumber::parse(q).ok();
        let phone = Phone::parse(q).ok();
        if id.is_none() && phone.is_none() {
            return Err(ServiceError::invalid(
                "q",
                "请输入完整的 18 位身份证号或 11 位手机号;只记得几位数字或名字时,请在「姓名」一栏输入姓名",
                "type a whole 18-character ID number or 11-digit phone number; with only some digits or a name, type the name in the Name box",
            ));
        }
        let id_index = id.as_ref().map(|i| keys.blind("id_number", i.as_str())).transpose()?.unwrap_or_default();
        let phone_index = phone.as_ref().map(|p| keys.blind("phone", &p.normalized())).transpose()?.unwrap_or_default();
        let masked = id.as_ref().map(IdNumber::masked).or(phone.as_ref().map(Phone::masked)).unwrap_or_default();
        // nothing is answered unless the search is in the log
        let mut tx = self.db.write().await?;
        let found = residents::by_index(&mut tx, &id_index, &phone_index).await?;
        let e = Event::ok("resident_search", "residents".to_owned(), caller.home_path());
        record(&mut tx, caller, self.now(), &e.with(json!({ "q": masked }))).await?;
        tx.commit().await?;
        let found = found.into_iter().filter(|r| paths.iter().any(|p| r.grid_path.starts_with(p.as_str()))).collect();
        let mut tx = self.db.conn().await?;
        let items = self.views_of(&mut tx, caller, found).await?;
        drop(tx);
        let total = items.len() as i64;
        let items = items.into_iter().skip(page.offset() as usize).take(page.per_page as usize).collect();
        Ok(Page::of(items, total, page))
    }

    /// Who viewed, unmasked or changed a resident's record, newest first.
    pub async fn record_views(&self, caller: &Caller, id: i64) -> Result<Vec<RecordView>> {
        self.resident_in_scope(caller, id, RESIDENT_READERS, "resident_views").await?;
        let mut conn = self.db.conn().await?;
        Ok(views_of_record(&mut conn, id, 200).await?.into_iter().map(|l| l.view).collect())
    }

    /// For a resident, on his own phone: who read, showed in full or changed
    /// his record, when, in what role and why (DESIGN section 6). Staff by
    /// name and role (none when they hold no grant now), never their login;
    /// his own reads and refused attempts left out. A family member acting
    /// for him does not see it.
    pub async fn my_record_views(&self, caller: &Caller) -> Result<Vec<MyRecordView>> {
        let id = crate::invitations::own_resident_id(caller)?;
        let mut conn = self.db.conn().await?;
        looked_by_others(&mut conn, id, caller.user_id, 200).await
    }

    /// The sealed fields of a record opened, for a copy of the person's own
    /// data: ID number, phone, and each category's details.
    pub(crate) fn open_personal(
        &self,
        r: &residents::Resident,
        categories: &[residents::CategoryRow],
        own: Option<&DataKey>,
    ) -> Result<OpenedFields> {
        let keys = self.keys();
        let id_number = r.id_number_sealed.as_ref().map(|s| keys.open_with(own, &aad_id(&r.uid), s)).transpose()?;
        let phone = r.phone_sealed.as_ref().map(|s| keys.open_with(own, &aad_phone(&r.uid), s)).transpose()?;
        let mut details = std::collections::BTreeMap::new();
        for c in categories {
            if let Some(s) = &c.details_sealed {
                let plain = keys.open_with(own, &aad_details(&r.uid, &c.category), s)?;
                details.insert(c.category.clone(), serde_json::from_str(&plain)?);
            }
        }
        Ok((id_number, phone, details))
    }
}

/// A record's ID number, phone and category details, opened.
pub(crate) type OpenedFields = (Option<String>, Option<String>, std::collections::BTreeMap<String, serde_json::Value>);

/// Who read, showed in full or changed a record, but its own account
/// (`own`): what its resident is shown. Refused attempts read nothing.
pub(crate) async fn looked_by_others(
    conn: &mut Tx,
    id: i64,
    own: Option<i64>,
    limit: i64,
) -> Result<Vec<MyRecordView>> {
    let list = views_of_record(conn, id, limit).await?;
    Ok(list
        .into_iter()
        .filter(|l| l.done && (own.is_none() || l.actor != own) && STAFF_LOOKS.contains(&l.view.action.as_str()))
        .map(|l| l.view)
        .map(|v| MyRecordView {
            at: v.at,
            who_name: v.who_name,
            who_role: v.who_role,
            action: v.action,
            field: v.field,
            reason: v.reason,
        })
        .collect())
}

/// What staff do with a record that its resident is shown.
const STAFF_LOOKS: &[&str] = &[
    "resident_view",
    "resident_unmask",
    "visit_read",
    "resident_edit",
    "resident_category",
    "resident_life",
    "resident_life_read",
    "data_copy",
    "care_plan",
    "proxy_link",
    "resident_invite",
    "record_request",
    "record_request_answer",
    "resident_move",
    "transfer_request",
    "transfer_accept",
];

/// Who read, showed or changed a record, newest first.
/// A line of a record's log: what staff see, whether it was done (not
/// refused), and by which account.
struct Looked {
    view: RecordView,
    done: bool,
    actor: Option<i64>,
}

async fn views_of_record(conn: &mut Tx, id: i64, limit: i64) -> Result<Vec<Looked>> {
    let rows = store_audit::by_object(conn, &format!("resident:{id}"), limit).await?;
    let mut people: std::collections::HashMap<i64, (String, Option<Role>)> = std::collections::HashMap::new();
    for actor in rows.iter().filter_map(|e| e.actor_id) {
        if let std::collections::hash_map::Entry::Vacant(v) = people.entry(actor)
            && let Some(u) = yijia_store::users::find_by_id(conn, actor).await?
        {
            let role = yijia_store::users::grants_of(conn, actor).await?.first().map(|g| g.role);
            v.insert((u.display_name, role));
        }
    }
    Ok(rows
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let (who_name, who_role) = match e.actor_id.and_then(|a| people.get(&a)) {
                Some((name, role)) => (name.clone(), *role),
                None => (yijia_domain::phone::mask_mobiles(&e.actor_name), None),
            };
            let view = RecordView {
                at: yijia_domain::time::rfc3339(e.at),
                who: yijia_domain::phone::mask_mobiles(&e.actor_name),
                who_name,
                who_role,
                field: detail["field"].as_str().map(str::to_owned),
                // an answer to his request reads as its reason
                reason: detail["reason"].as_str().or(detail["answer"].as_str()).map(yijia_domain::phone::mask_mobiles),
                action: e.action,
                detail: yijia_domain::phone::mask_mobiles(&e.detail),
            };
            Looked { view, done: e.outcome == "ok", actor: e.actor_id }
        })
        .collect())
}

impl Services {
    /// Opens the sealed ID numbers and phones of up to `sample` residents
    /// with the keyring (after a restore: is this the key that sealed
    /// them?). Answers how many values opened and how many did not.
    pub async fn seals_open(&self, caller: &Caller, sample: i64) -> Result<(usize, usize)> {
        if !caller.is_operator() {
            return Err(ServiceError::forbidden());
        }
        let keys = self.keys();
        let mut tx = self.db.read().await?;
        let rows = residents::sealed_batch(&mut tx, 0, sample).await?;
        let own = self.own_keys(&mut tx, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        tx.commit().await?;
        let (mut opened, mut failed) = (0, 0);
        for r in rows {
            let fields = [(aad_id(&r.uid), r.id_number_sealed), (aad_phone(&r.uid), r.phone_sealed)];
            for (aad, sealed) in fields {
                match sealed.map(|s| keys.open_with(own.get(&r.id), &aad, &s)) {
                    Some(Ok(_)) => opened += 1,
                    Some(Err(_)) => failed += 1,
                    None => {}
                }
            }
        }
        Ok((opened, failed))
    }

    /// Re-seals every protected value with the active key and recomputes
    /// the blind indexes, in batches of 500 rows, each batch in one
    /// transaction. Run after `Keyring::rotate`; values under any key in
    /// the keyring can be read meanwhile. Answers the number of residents.
    pub async fn reseal_all(&self, caller: &Caller) -> Result<usize> {
        if !caller.is_operator() {
            return Err(ServiceError::forbidden());
        }
        let keys = self.keys();
        let mut after = 0;
        let mut n = 0;
        loop {
            let mut tx = self.db.write().await?;
            let rows = residents::sealed_batch(&mut tx, after, 500).await?;
            let Some(last) = rows.last() else {
                tx.commit().await?;
                break;
            };
            after = last.id;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            // each person's key wrapped again by the active master key;
            // those from before keys of their own get one now
            let mut own = std::collections::HashMap::new();
            let mut new_keys = Vec::new();
            for (id, uid, wrapped) in yijia_store::erasure::keys_of(&mut tx, &ids).await? {
                if !keys.is_current(&wrapped) {
                    yijia_store::erasure::set_key(&mut tx, id, &keys.rewrap_data_key(&uid, &wrapped)?).await?;
                }
                own.insert(id, keys.unwrap_data_key(&uid, &wrapped)?);
            }
            for r in &rows {
                if !own.contains_key(&r.id) && r.erased_at.is_none() {
                    let (k, w) = keys.new_data_key(&r.uid)?;
                    own.insert(r.id, k);
                    new_keys.push((r.id, w));
                }
            }
            yijia_store::erasure::insert_keys(&mut tx, &new_keys).await?;
            for r in rows {
                let Some(k) = own.get(&r.id) else { continue };
                // a value under the master key moves under the person's own
                let reseal = |aad: &str, s: &str| -> Result<(zeroize::Zeroizing<String>, String)> {
                    let plain = zeroize::Zeroizing::new(keys.open_with(Some(k), aad, s)?);
                    let sealed = if s.starts_with("v2.") { s.to_owned() } else { k.seal(aad, &plain)? };
                    Ok((plain, sealed))
                };
                let mut out = residents::Resealed::default();
                if let Some(s) = &r.id_number_sealed {
                    let (plain, sealed) = reseal(&aad_id(&r.uid), s)?;
                    out.id_number_sealed = Some(sealed);
                    out.id_number_index = Some(keys.blind("id_number", &plain)?);
                }
                if let Some(s) = &r.phone_sealed {
                    let (plain, sealed) = reseal(&aad_phone(&r.uid), s)?;
                    out.phone_sealed = Some(sealed);
                    out.phone_index = Some(keys.blind("phone", &plain)?);
                }
                residents::update_sealed(&mut tx, r.id, &out).await?;
                for c in residents::categories(&mut tx, r.id).await? {
                    if let Some(s) = c.details_sealed.as_deref().filter(|s| !s.starts_with("v2.")) {
                        let (_, sealed) = reseal(&aad_details(&r.uid, &c.category), s)?;
                        residents::update_details(&mut tx, r.id, &c.category, &sealed).await?;
                    }
                }
                n += 1;
            }
            tx.commit().await?;
        }
        let notes = self.reseal_visit_notes().await?;
        let mut tx = self.db.write().await?;
        let factors = crate::two_factor::reseal(&mut tx, keys).await?;
        let contacts = crate::notify::reseal(&mut tx, keys).await?;
        let e = Event::ok("keys_rotate", format!("key:{}", keys.active_id()), "/root/");
        let detail = json!({ "residents": n, "visit_notes": notes, "second_factors": factors, "notify": contacts });
        record(&mut tx, caller, self.now(), &e.with(detail)).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Visit notes sealed again under the active key, 500 at a time.
    async fn reseal_visit_notes(&self) -> Result<usize> {
        let keys = self.keys();
        let (mut after, mut n) = (0, 0);
        loop {
            let mut tx = self.db.write().await?;
            let rows = yijia_store::visits::sealed_notes(&mut tx, after, 500).await?;
            let Some(last) = rows.last() else {
                tx.commit().await?;
                return Ok(n);
            };
            after = last.0;
            let people: Vec<i64> = rows.iter().filter_map(|r| r.3).collect();
            let own = self.own_keys(&mut tx, &people).await?;
            for (id, client_id, sealed, resident) in &rows {
                let aad = crate::visits::aad_notes(client_id);
                // notes about one person move under their own key
                let k = resident.and_then(|r| own.get(&r));
                if sealed.starts_with("v2.") && k.is_some() {
                    continue;
                }
                let plain = zeroize::Zeroizing::new(keys.open_with(k, &aad, sealed)?);
                let again = match k {
                    Some(k) => k.seal(&aad, &plain)?,
                    None => keys.seal(&aad, &plain)?,
                };
                yijia_store::visits::set_notes_sealed(&mut tx, *id, &again).await?;
                n += 1;
            }
            tx.commit().await?;
        }
    }
}

/// One grid's line of the 分类归档 view.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GridCounts {
    pub grid: String,
    pub name: String,
    pub residents: i64,
    /// Residents per category (code → count); `child` follows from birth dates.
    pub categories: std::collections::BTreeMap<String, i64>,
}

impl Services {
    /// Per grid in the caller's scope: residents, and residents per
    /// category. Each count equals the length of the list
    /// `GET /api/v1/residents?grid=…&category=…`.
    pub async fn category_counts(&self, caller: &Caller) -> Result<Vec<GridCounts>> {
        let paths = caller.scope_paths(RESIDENT_READERS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let born_after = years_before(today(self.now()), 14);
        // plain reads: a transaction would only add two round trips
        let mut tx = self.db.conn().await?;
        let mut out: Vec<GridCounts> = Vec::new();
        for path in &paths {
            for n in org::subtree(&mut tx, path).await?.into_iter().filter(|n| n.kind == OrgKind::Grid) {
                out.push(GridCounts { grid: n.code, name: n.name, residents: 0, categories: Default::default() });
            }
            for (grid, category, count) in residents::category_counts(&mut tx, path, &born_after).await? {
                if let Some(g) = out.iter_mut().find(|g| g.grid == grid) {
                    if category.is_empty() {
                        g.residents = count;
                    } else {
                        g.categories.insert(category, count);
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    /// A category by code, alias or name (the community's own too).
    pub category: String,
    /// add or remove
    pub action: String,
    /// Why (kept in the category's history).
    pub reason: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub category: String,
    pub name: String,
    /// added, removed or changed
    pub change: String,
    pub reason: String,
    pub by: String,
    /// Who, by name.
    pub by_name: String,
    /// RFC 3339
    pub at: String,
}

impl Services {
    /// Adds or removes a category, with the reason in its history.
    pub async fn change_category(&self, caller: &Caller, id: i64, ch: CategoryChange) -> Result<ResidentView> {
        let r = self.resident_to_change(caller, id, RESIDENT_READERS, "resident_category").await?;
        if !caller.covers(REGISTRARS, &r.grid_path) {
            return Err(ServiceError::forbidden());
        }
        let reason = ch.reason.trim();
        if reason.chars().count() < 2 || reason.chars().count() > 200 {
            return Err(ServiceError::invalid("reason", "请写明原因(2–200 字)", "give a reason (2–200 characters)"));
        }
        let mut conn = self.db.conn().await?;
        let def = self.choose_category(&mut conn, &ch.category, std::slice::from_ref(&r.grid_path)).await?;
        drop(conn);
        if def.derived {
            return Err(ServiceError::invalid(
                "category",
                "「儿童」由出生日期自动判断,不能手动增减",
                "'child' follows from the birth date",
            ));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let code = def.code.as_str();
        match ch.action.as_str() {
            "add" => {
                // only the built-in categories carry details
                let details = match def.category() {
                    Some(category) => check_details(0, &CategoryInput { category, details: ch.details.clone() })?,
                    None => None,
                };
                let sealed = match details.as_deref() {
                    Some(d) => {
                        Some(self.own_key_or_new(&mut tx, id, &r.uid).await?.seal(&aad_details(&r.uid, code), d)?)
                    }
                    None => None,
                };
                on_conflict(
                    residents::add_category(&mut tx, id, code, sealed.as_deref(), reason, &caller.username, now).await,
                    || Msg::new(format!("已是「{}」", def.name), format!("already '{}'", def.name_en)),
                )?;
            }
            "remove" => {
                if residents::remove_category(&mut tx, id, code).await? == 0 {
                    return Err(ServiceError::invalid(
                        "category",
                        format!("此人不属于「{}」", def.name),
                        format!("not in category '{}'", def.name_en),
                    ));
                }
                residents::history(&mut tx, id, code, "removed", reason, &caller.username, now).await?;
            }
            other => {
                return Err(ServiceError::invalid(
                    "action",
                    format!("未知操作「{other}」(add / remove)"),
                    format!("unknown action '{other}' (add or remove)"),
                ));
            }
        }
        self.replan(&mut tx, yijia_store::visits::Whose::Residents(&[id]), FirstDue::Today).await?;
        let e = Event::ok("resident_category", format!("resident:{id}"), &r.grid_path);
        record(&mut tx, caller, now, &e.with(json!({ "category": code, "action": ch.action, "reason": reason })))
            .await?;
        let view = self.view(&mut tx, caller, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Who added or removed which category, when and why; newest first.
    pub async fn category_history(&self, caller: &Caller, id: i64) -> Result<Vec<HistoryView>> {
        let r = self.resident_in_scope(caller, id, RESIDENT_READERS, "resident_history").await?;
        let mut conn = self.db.conn().await?;
        history_views(&mut conn, &r).await
    }
}

/// A record's category changes, with the names of categories and of who
/// changed them.
pub(crate) async fn history_views(conn: &mut Tx, r: &residents::Resident) -> Result<Vec<HistoryView>> {
    let rows = residents::history_of(conn, r.id).await?;
    let customs = residents::customs(conn, std::slice::from_ref(&r.grid_path)).await?;
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for h in &rows {
        if !names.contains_key(&h.by_user) {
            let name = match yijia_store::users::by_username(conn, &h.by_user).await? {
                Some(u) => u.display_name,
                None => h.by_user.clone(),
            };
            names.insert(h.by_user.clone(), name);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|h| {
            let name = match Category::parse(&h.category) {
                Some(c) => c.name_zh().to_owned(),
                None => customs.iter().find(|c| c.code() == h.category)?.name.clone(),
            };
            Some(HistoryView {
                category: h.category,
                name,
                change: h.change,
                reason: h.reason,
                by_name: names.get(&h.by_user).cloned().unwrap_or_default(),
                by: h.by_user,
                at: yijia_domain::time::rfc3339(h.at),
            })
        })
        .collect())
}
