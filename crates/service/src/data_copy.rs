//! A copy of everything yijia holds about one person (PIPL art. 45): the
//! record with its sealed fields opened, categories and their history, the
//! record's life on the register, visits (their sealed notes are the
//! workers' and stay out), requests filed, points, votes, and who looked at
//! the record and why. The resident asks on his own account; staff make it
//! for him with a reason. Either way it is audited (`data_copy`), and a
//! copy made by staff appears in his who-looked list.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use yijia_domain::ballot::{VoteChannel, VoteOn};
use yijia_domain::care::{Finding, VisitMode};
use yijia_domain::case::{CaseKind, CaseState};
use yijia_store::{Tx, ballots, cases, points, residents, users, visits};

use crate::audit::{Event, record};
use crate::life::LifeEventView;
use crate::points::Statement;
use crate::registry::{HistoryView, MyRecordView, ResidentView};
use crate::roles::UNMASKERS;
use crate::{Caller, Result, ServiceError, Services};

/// Everything held about one person.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DataCopy {
    /// RFC 3339: when the copy was made.
    pub made_at: String,
    /// The record, its ID number and phone in full.
    pub record: ResidentView,
    /// Each category's details, in full, by category code.
    #[schema(value_type = Object)]
    pub category_details: BTreeMap<String, serde_json::Value>,
    pub category_history: Vec<HistoryView>,
    /// Moved away, deceased, back on the register.
    pub life: Vec<LifeEventView>,
    pub visits: Vec<CopyVisit>,
    pub cases: Vec<CopyCase>,
    /// The points account's whole statement, when there is one.
    pub points: Option<Statement>,
    pub votes: Vec<CopyVote>,
    /// Who read, showed in full or changed the record, and why.
    pub looked: Vec<MyRecordView>,
}

/// A visit, without the worker's sealed notes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CopyVisit {
    /// `YYYY-MM-DD`
    pub on: String,
    pub mode: VisitMode,
    pub health: Finding,
    pub living: Finding,
    pub needs: Finding,
    pub safety: Finding,
    pub by_name: String,
}

/// A request, dispute or hazard filed for the person or by his account.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CopyCase {
    pub id: i64,
    /// RFC 3339
    pub at: String,
    pub kind: CaseKind,
    pub category_name: String,
    pub title: String,
    pub description: String,
    pub state: CaseState,
    /// RFC 3339
    pub closed_at: Option<String>,
}

/// A vote the person cast, however it came in.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CopyVote {
    pub on: VoteOn,
    pub title: String,
    /// Accepted, voted for, or kept (for a pledge vote: always).
    pub yes: bool,
    pub channel: VoteChannel,
    /// Who put it in, unless it was his own phone.
    pub recorded_by: Option<String>,
    /// RFC 3339
    pub at: String,
}

impl DataCopy {
    /// Each category's details by the category's name, as `key: value`
    /// text (a copy for a person, not for a program).
    pub fn details_text(&self, en: bool) -> Vec<(String, String)> {
        self.category_details
            .iter()
            .map(|(code, d)| {
                let name = self
                    .record
                    .categories
                    .iter()
                    .find(|c| c.category == *code)
                    .map(|c| if en { c.name_en.clone() } else { c.name.clone() })
                    .unwrap_or_else(|| code.clone());
                let text = match d {
                    serde_json::Value::Object(m) => m
                        .iter()
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => format!("{k}: {s}"),
                            v => format!("{k}: {v}"),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                (name, text)
            })
            .collect()
    }
}

/// Why staff make a copy for someone: 2–200 characters.
fn reason_of(s: &str) -> Result<String> {
    let s = s.trim();
    if !(2..=200).contains(&s.chars().count()) || s.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "reason",
            "请写明为谁、为何导出(2–200 字)",
            "say for whom and why, in 2 to 200 characters",
        ));
    }
    Ok(s.to_owned())
}

impl Services {
    /// A resident's copy of his own data. Not for a family member acting
    /// for him: the copy holds the record in full.
    pub async fn my_data_copy(&self, caller: &Caller) -> Result<DataCopy> {
        let id = crate::invitations::own_resident_id(caller)?;
        let mut tx = self.db.write().await?;
        let r = residents::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        let e = Event::ok("data_copy", format!("resident:{id}"), &r.grid_path);
        record(&mut tx, caller, self.now(), &e.with(json!({ "for": "self" }))).await?;
        let copy = self.copy_of(&mut tx, caller, r).await?;
        tx.commit().await?;
        Ok(copy)
    }

    /// Staff make a resident's copy for him (he has no phone, say), with a
    /// reason; he sees it among who looked at his record.
    pub async fn data_copy_for(&self, caller: &Caller, id: i64, reason: &str) -> Result<DataCopy> {
        let r = self.resident_in_scope(caller, id, UNMASKERS, "data_copy").await?;
        let reason = reason_of(reason)?;
        self.within_read_limit(caller).await?;
        let mut tx = self.db.write().await?;
        let e = Event::ok("data_copy", format!("resident:{id}"), &r.grid_path);
        record(&mut tx, caller, self.now(), &e.with(json!({ "reason": reason }))).await?;
        let copy = self.copy_of(&mut tx, caller, r).await?;
        tx.commit().await?;
        Ok(copy)
    }

    /// The name on a record, for the form that asks why a copy is made.
    pub async fn resident_name(&self, caller: &Caller, id: i64) -> Result<String> {
        Ok(self.resident_in_scope(caller, id, UNMASKERS, "data_copy").await?.name)
    }

    async fn copy_of(&self, tx: &mut Tx, caller: &Caller, r: residents::Resident) -> Result<DataCopy> {
        let id = r.id;
        let user = users::user_of_resident(tx, id).await?;
        let categories = residents::categories(tx, id).await?;
        let own = self.own_key(tx, id).await?;
        let (id_number, phone, category_details) = self.open_personal(&r, &categories, own.as_ref())?;
        let mut category_history = crate::registry::history_views(tx, &r).await?;
        // names, never logins
        category_history.iter_mut().for_each(|h| h.by.clear());
        let life = crate::life::events_of(tx, id).await?;
        let visits = visits::of_resident(tx, id, 10_000)
            .await?
            .into_iter()
            // a visit to his household is about him only when it names him
            .filter(|v| v.resident_id == Some(id))
            .map(|v| CopyVisit {
                on: v.visited_on,
                mode: v.mode,
                health: v.health,
                living: v.living,
                needs: v.needs,
                safety: v.safety,
                by_name: v.visitor_name,
            })
            .collect();
        let cases = cases::filed_for(tx, id, user)
            .await?
            .into_iter()
            .map(|k| CopyCase {
                id: k.id,
                at: yijia_domain::time::rfc3339(k.created_at),
                kind: k.kind,
                category_name: k.category_name,
                title: k.title,
                description: k.description,
                state: k.state,
                closed_at: k.closed_at.map(yijia_domain::time::rfc3339),
            })
            .collect();
        let points = match points::account_of_resident(tx, id).await? {
            Some(a) => {
                let com = yijia_store::org::by_id(tx, a.community_id).await?;
                Some(crate::points::statement_of(tx, &a, &com.code, "全部".into(), "1970-01-01", "9999-12-31").await?)
            }
            None => None,
        };
        let votes = ballots::votes_of_resident(tx, id)
            .await?
            .into_iter()
            .map(|(on, v)| CopyVote {
                on,
                title: v.title,
                yes: v.yes,
                channel: v.channel,
                recorded_by: v.recorded_by,
                at: yijia_domain::time::rfc3339(v.at),
            })
            .collect();
        let looked = crate::registry::looked_by_others(tx, id, user, 100_000).await?;
        let address = match r.household_id {
            Some(h) => yijia_store::places::address(tx, h).await?,
            None => None,
        };
        let mut record = self.to_view(caller, r, address);
        record.id_number = id_number;
        record.phone = phone;
        Ok(DataCopy {
            made_at: yijia_domain::time::rfc3339(self.now()),
            record,
            category_details,
            category_history,
            life,
            visits,
            cases,
            points,
            votes,
            looked,
        })
    }
}

fn xlsx(e: rust_xlsxwriter::XlsxError) -> ServiceError {
    ServiceError::caused("writing the copy's workbook", e)
}

/// One sheet: a bold header row, then the rows as text.
fn sheet(wb: &mut rust_xlsxwriter::Workbook, name: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    let ws = wb.add_worksheet().set_name(name).map_err(xlsx)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_with_format(0, c as u16, *h, &bold).map_err(xlsx)?;
        ws.set_column_width(c as u16, 16).map_err(xlsx)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // as text: an ID number is not a number
            ws.write_with_format(r as u32 + 1, c as u16, v.as_str(), &text).map_err(xlsx)?;
        }
    }
    Ok(())
}

/// The copy as a workbook, a sheet per part, in Chinese or English.
pub fn workbook(c: &DataCopy, en: bool) -> Result<Vec<u8>> {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    fn n<T: yijia_domain::Label>(x: T, en: bool) -> String {
        x.name(en).to_owned()
    }
    let at = |s: &str| s.get(..16).unwrap_or(s).replace('T', " ");
    let r = &c.record;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let address = r.address.as_ref().map(|a| format!("{} {} {} {}", a.estate, a.building, a.entrance, a.door));
    let categories: Vec<String> =
        r.categories.iter().map(|k| if en { k.name_en.clone() } else { k.name.clone() }).collect();
    let mut record = vec![
        vec![t("姓名", "Name").into(), r.name.clone()],
        vec![t("性别", "Sex").into(), r.sex.map(|s| n(s, en)).unwrap_or_default()],
        vec![t("出生日期", "Born").into(), r.birth_date.clone().unwrap_or_default()],
        vec![t("身份证号", "ID number").into(), r.id_number.clone().unwrap_or_default()],
        vec![t("电话", "Phone").into(), r.phone.clone().unwrap_or_default()],
        vec![t("网格", "Grid").into(), r.grid_name.clone()],
        vec![t("住址", "Address").into(), address.unwrap_or_default()],
        vec![t("与户主关系", "Relation to the head").into(), r.relation.clone()],
        vec![t("居住状态", "Residence").into(), n(r.residence, en)],
        vec![t("在册状态", "Register status").into(), n(r.status, en)],
        vec![t("人员类别", "Categories").into(), categories.join(", ")],
        vec![t("备注", "Notes").into(), r.notes.clone()],
    ];
    for (name, text) in c.details_text(en) {
        record.push(vec![format!("{}:{name}", t("类别详情", "Category details")), text]);
    }
    record.push(vec![t("副本生成时间", "Copy made at").into(), at(&c.made_at)]);
    sheet(&mut wb, t("档案", "Record"), &[t("项目", "Item"), t("内容", "Value")], &record)?;
    let rows: Vec<Vec<String>> = c
        .category_history
        .iter()
        .map(|h| {
            let change = yijia_domain::audit::record_action(&h.change, en).to_owned();
            vec![at(&h.at), h.name.clone(), change, h.reason.clone(), h.by_name.clone()]
        })
        .collect();
    let heads = [t("时间", "When"), t("类别", "Category"), t("变动", "Change"), t("原因", "Reason"), t("经办人", "By")];
    sheet(&mut wb, t("类别变动", "Category changes"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .life
        .iter()
        .map(|e| vec![e.on.clone(), n(e.change, en), n(e.source, en), e.reason.clone(), e.by_name.clone()])
        .collect();
    let heads =
        [t("日期", "Date"), t("变动", "Change"), t("消息来源", "Who told us"), t("原因", "Reason"), t("登记人", "By")];
    sheet(&mut wb, t("在册变动", "Register"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .visits
        .iter()
        .map(|v| {
            let f = [v.health, v.living, v.needs, v.safety].map(|x| n(x, en));
            let [health, living, needs, safety] = f;
            vec![v.on.clone(), n(v.mode, en), health, living, needs, safety, v.by_name.clone()]
        })
        .collect();
    let heads = [
        t("日期", "Date"),
        t("方式", "How"),
        t("健康", "Health"),
        t("生活", "Living"),
        t("需求", "Needs"),
        t("安全", "Safety"),
        t("走访人", "By"),
    ];
    sheet(&mut wb, t("走访", "Visits"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .cases
        .iter()
        .map(|k| {
            vec![
                k.id.to_string(),
                at(&k.at),
                n(k.kind, en),
                k.category_name.clone(),
                k.title.clone(),
                k.description.clone(),
                n(k.state, en),
                k.closed_at.as_deref().map(at).unwrap_or_default(),
            ]
        })
        .collect();
    let heads = [
        t("编号", "No."),
        t("时间", "When"),
        t("类型", "Kind"),
        t("类别", "Category"),
        t("标题", "Title"),
        t("内容", "Description"),
        t("状态", "State"),
        t("办结时间", "Closed"),
    ];
    sheet(&mut wb, t("诉求", "Requests"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .points
        .iter()
        .flat_map(|s| s.lines.iter())
        .map(|l| {
            let kind = if en { l.transfer.kind.name_en().to_owned() } else { l.transfer.kind_name.clone() };
            vec![at(&l.transfer.at), l.change.to_string(), l.balance.to_string(), kind, l.transfer.memo.clone()]
        })
        .collect();
    let heads = [t("时间", "When"), t("变动", "Change"), t("余额", "Balance"), t("类型", "Kind"), t("说明", "Memo")];
    sheet(&mut wb, t("积分", "Points"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .votes
        .iter()
        .map(|v| {
            let (zh, e) = v.on.choice(v.yes);
            let choice = if en { e } else { zh };
            vec![
                at(&v.at),
                n(v.on, en),
                v.title.clone(),
                choice.to_owned(),
                n(v.channel, en),
                v.recorded_by.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let heads = [
        t("时间", "When"),
        t("事项", "On"),
        t("标题", "Title"),
        t("选择", "Choice"),
        t("方式", "How"),
        t("记录人", "Recorded by"),
    ];
    sheet(&mut wb, t("投票", "Votes"), &heads, &rows)?;
    let rows: Vec<Vec<String>> = c
        .looked
        .iter()
        .map(|v| {
            vec![
                at(&v.at),
                v.who_name.clone(),
                v.who_role.map(|r| n(r, en)).unwrap_or_default(),
                yijia_domain::audit::record_action(&v.action, en).to_owned(),
                v.field
                    .as_deref()
                    .map(yijia_domain::audit::field_name)
                    .map(|(zh, e)| t(zh, e))
                    .unwrap_or_default()
                    .to_owned(),
                v.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let heads = [
        t("时间", "When"),
        t("谁", "Who"),
        t("角色", "Role"),
        t("做了什么", "What"),
        t("字段", "Field"),
        t("原因", "Why"),
    ];
    sheet(&mut wb, t("查看记录", "Who looked"), &heads, &rows)?;
    wb.save_to_buffer().map_err(xlsx)
}
