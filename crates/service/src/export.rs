//! The roster back out, in the layout people keep: one sheet per grid, a
//! title row, the same columns. Personal data stays masked; every export is
//! audited and carries who exported it and when.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use serde::Serialize;
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::org::OrgKind;
use yijia_domain::registry::Category;
use yijia_domain::registry::ExportStatus;
use yijia_store::{exports, org, residents};

use crate::approvals::{Asked, AwaitingKind, tell_deciders};
use crate::audit::{Event, record};
use crate::categories::CategoryDef;
use crate::registry::{aad_id, aad_phone, years_before};
use crate::roles::{EXPORT_APPROVERS, FULL_EXPORTERS};
use crate::roles::{RESIDENT_READERS, UNMASKERS};
use crate::{Caller, Result, ServiceError, Services};

/// The roster's columns, as the export writes them and the import reads them.
pub const HEADERS: [&str; 12] = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "联系电话",
    "小区",
    "楼栋",
    "单元",
    "门牌号",
    "人员类别",
    "备注",
];

impl Unmask<'_> {
    /// A row's ID number and phone in full, with the person's own key.
    fn open(&self, r: &residents::ExportRow) -> Result<(String, String)> {
        let own = r.own_key.as_deref().map(|w| self.keys.unwrap_data_key(&r.uid, w)).transpose()?;
        let open = |sealed: Option<&str>, aad: &str| -> Result<String> {
            Ok(sealed.map(|s| self.keys.open_with(own.as_ref(), aad, s)).transpose()?.unwrap_or_default())
        };
        Ok((
            open(r.id_number_sealed.as_deref(), &aad_id(&r.uid))?,
            open(r.phone_sealed.as_deref(), &aad_phone(&r.uid))?,
        ))
    }
}

fn xlsx(e: XlsxError) -> ServiceError {
    ServiceError::caused("writing the workbook", e)
}

/// How long an approval stays good for its one download.
const APPROVAL_VALID_MS: i64 = 24 * 3600 * 1000;

/// A request to export with personal data in full, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApprovalView {
    pub id: i64,
    pub community: String,
    pub community_name: String,
    /// The category's code and name, when the export is of one.
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    /// pending, approved, rejected or used
    pub status: ExportStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// What the approver said.
    pub decision_note: Option<String>,
    /// You may approve or reject it.
    pub can_decide: bool,
    /// You asked, it is approved, and the download is still open.
    pub can_download: bool,
}

/// The personal data the unmasked workbook shows, opened row by row.
struct Unmask<'a> {
    keys: &'a crate::keys::Keyring,
}

impl Services {
    /// The residents of `community` within the caller's scope (optionally
    /// of one category) as a masked roster workbook.
    pub async fn export_residents(&self, caller: &Caller, community: &str, category: Option<&str>) -> Result<Vec<u8>> {
        let com = self.export_community(community).await?;
        let category = self.export_category(&com, category).await?;
        self.export_book(caller, &com, category, None).await
    }

    /// A category by code, alias or name, among those the community knows.
    async fn export_category(&self, com: &org::OrgNode, category: Option<&str>) -> Result<Option<CategoryDef>> {
        match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                let mut conn = self.db.conn().await?;
                Ok(Some(self.choose_category(&mut conn, c, std::slice::from_ref(&com.path)).await?))
            }
            None => Ok(None),
        }
    }

    async fn export_community(&self, community: &str) -> Result<org::OrgNode> {
        let mut conn = self.db.conn().await?;
        let com = org::by_code(&mut conn, community.trim()).await?;
        com.filter(|c| c.kind == OrgKind::Community).ok_or_else(|| {
            ServiceError::invalid(
                "community",
                format!("找不到社区「{community}」"),
                format!("no community '{community}'"),
            )
        })
    }

    /// The workbook; with an approval (checked by the caller), unmasked and
    /// marked as such on every sheet and printed page.
    async fn export_book(
        &self,
        caller: &Caller,
        com: &org::OrgNode,
        category: Option<CategoryDef>,
        approval: Option<&exports::Approval>,
    ) -> Result<Vec<u8>> {
        let paths: Vec<String> = if caller.is_operator() {
            vec![com.path.clone()]
        } else {
            caller
                .scope_paths(RESIDENT_READERS)
                .into_iter()
                .filter_map(|p| {
                    if p.starts_with(&com.path) {
                        Some(p)
                    } else if com.path.starts_with(&p) {
                        Some(com.path.clone())
                    } else {
                        None
                    }
                })
                .collect()
        };
        if paths.is_empty() {
            return Err(self.deny(caller, "resident_export", &format!("org:{}", com.code)).await);
        }
        self.within_read_limit(caller).await?;
        let today = yijia_domain::time::to_local(self.now()).date_naive();
        let filter = residents::Filter {
            paths,
            category: category.as_ref().filter(|c| !c.derived).map(|c| c.code.clone()),
            name: None,
            // the same cut-off as the list, 29 February included
            born_after: (category.as_ref().and_then(CategoryDef::category) == Some(Category::Child))
                .then(|| years_before(today, 14)),
            ..Default::default()
        };
        // station clerks see names, never ID numbers (masked or not)
        let sees_ids = caller.is_operator() || caller.has_any(UNMASKERS);
        let now = self.now();
        let mut tx = self.db.write().await?;
        if let Some(a) = approval
            && !exports::use_once(&mut tx, a.id, now).await?
        {
            return Err(ServiceError::Conflict(Msg::new(
                "此审批已用过或已失效",
                "this approval was used or has lapsed",
            )));
        }
        let rows = residents::export_rows(&mut tx, &filter).await?;
        let names: std::collections::HashMap<String, String> =
            residents::customs(&mut tx, std::slice::from_ref(&com.path))
                .await?
                .into_iter()
                .map(|c| (c.code(), c.name))
                .collect();
        let e = Event::ok("resident_export", format!("org:{}", com.code), &com.path);
        let detail = json!({
            "rows": rows.len(), "category": category.as_ref().map(|c| c.code.as_str()), "masked": approval.is_none(),
            "approval": approval.map(|a| a.id),
        });
        record(&mut tx, caller, now, &e.with(detail)).await?;
        let stamp = match approval {
            None => format!(
                "导出人:{} 导出时间:{} · 个人信息已脱敏,仅供工作使用",
                caller.display_name,
                yijia_domain::time::display(now)
            ),
            Some(a) => format!(
                "导出人:{} 导出时间:{} · 含完整个人信息,经 {} 批准(第 {} 号,事由:{}),严禁外传",
                caller.display_name,
                yijia_domain::time::display(now),
                a.decided_name.as_deref().unwrap_or(""),
                a.id,
                a.reason
            ),
        };
        let unmask = approval.map(|_| Unmask { keys: &self.keys });
        let book = workbook(&com.name, &rows, &stamp, sees_ids, unmask.as_ref(), &names)?;
        tx.commit().await?;
        Ok(book)
    }

    /// Asks for an export with personal data in full, with the reason.
    pub async fn request_unmasked_export(
        &self,
        caller: &Caller,
        community: &str,
        category: Option<&str>,
        reason: &str,
    ) -> Result<ApprovalView> {
        let com = self.export_community(community).await?;
        let Some(user) = caller.user_id.filter(|_| caller.has_any(FULL_EXPORTERS)) else {
            return Err(ServiceError::Forbidden(Msg::new(
                "您的角色不能导出完整的个人信息",
                "your role may not export personal data in full",
            )));
        };
        if !caller.covers(FULL_EXPORTERS, &com.path) {
            return Err(self.deny(caller, "export_request", &format!("org:{}", com.code)).await);
        }
        let reason = reason.trim();
        if reason.chars().count() < 4 || reason.chars().count() > 200 {
            return Err(ServiceError::invalid(
                "reason",
                "请写明导出完整信息的事由(4–200 字)",
                "say why the export needs personal data in full (4–200 characters)",
            ));
        }
        let category = self.export_category(&com, category).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let new = exports::NewApproval {
            community_id: com.id,
            category: category.as_ref().map(|c| c.code.as_str()),
            category_name: category.as_ref().map(|c| c.name.as_str()),
            reason,
            requested_by: user,
            requested_name: &caller.display_name,
            now,
        };
        let id = exports::insert(&mut tx, &new).await?;
        let sid = id.to_string();
        let asked = Asked {
            kind: AwaitingKind::Export,
            id: &sid,
            community_id: com.id,
            community_path: &com.path,
            asked_by: Some(user),
        };
        tell_deciders(&mut tx, now, &asked).await?;
        let e = Event::ok("export_request", format!("export:{id}"), &com.path);
        record(&mut tx, caller, now, &e.with(json!({ "category": category.as_ref().map(|c| c.code.as_str()) })))
            .await?;
        let a = exports::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(self.approval_view(caller, a))
    }

    /// Approves (or rejects) a request: a secretary or street officer over
    /// its community, never the one who asked.
    pub async fn decide_unmasked_export(
        &self,
        caller: &Caller,
        id: i64,
        approve: bool,
        note: Option<&str>,
    ) -> Result<ApprovalView> {
        let note = crate::fields::optional_text("note", note, 500)?;
        let mut conn = self.db.conn().await?;
        let a = exports::get(&mut conn, id).await?;
        drop(conn);
        let mine = |a: &exports::Approval| {
            caller.covers(UNMASKERS, &a.community_path) || caller.covers(EXPORT_APPROVERS, &a.community_path)
        };
        let a = self.reached(caller, ServiceError::in_reach(a, mine, "export_decide", format!("export:{id}"))).await?;
        if !caller.covers(EXPORT_APPROVERS, &a.community_path) {
            return Err(ServiceError::Forbidden(Msg::new(
                "只有社区书记或街道干部可以审批",
                "only a secretary or street officer approves",
            )));
        }
        if caller.user_id == Some(a.requested_by) {
            return Err(ServiceError::Forbidden(Msg::new(
                "不能审批自己的申请,请由另一位书记或街道干部审批",
                "you cannot approve your own request; another secretary or street officer must",
            )));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let status = if approve { ExportStatus::Approved } else { ExportStatus::Rejected };
        let by = caller.user_id.unwrap_or_default();
        if !exports::decide(&mut tx, id, status, (by, &caller.display_name), &note, now).await? {
            return Err(ServiceError::Conflict(Msg::new("此申请已处理过", "this request was decided already")));
        }
        let e = Event::ok(
            if approve { "export_approve" } else { "export_reject" },
            format!("export:{id}"),
            &a.community_path,
        );
        record(&mut tx, caller, now, &e).await?;
        let a = exports::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(self.approval_view(caller, a))
    }

    /// Requests in the caller's scope, newest first.
    pub async fn export_approvals(&self, caller: &Caller) -> Result<Vec<ApprovalView>> {
        let paths = caller.scope_paths(UNMASKERS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let mut conn = self.db.conn().await?;
        let rows = exports::list(&mut conn, &paths, 50).await?;
        Ok(rows.into_iter().map(|a| self.approval_view(caller, a)).collect())
    }

    /// The approved export, once, by the one who asked, within a day.
    pub async fn export_residents_unmasked(&self, caller: &Caller, id: i64) -> Result<Vec<u8>> {
        let mut conn = self.db.conn().await?;
        let a = exports::get(&mut conn, id).await?;
        drop(conn);
        let mine = |a: &exports::Approval| caller.user_id == Some(a.requested_by);
        let a =
            self.reached(caller, ServiceError::in_reach(a, mine, "export_download", format!("export:{id}"))).await?;
        if !self.can_download(&a) {
            return Err(ServiceError::Conflict(Msg::new(
                "此申请尚未批准,或已下载过,或批准已超过 24 小时",
                "this request is not approved, was downloaded already, or was approved more than 24 hours ago",
            )));
        }
        let com = org::by_code(&mut self.db.conn().await?, &a.community_code).await?.ok_or(ServiceError::NotFound)?;
        let category = self.export_category(&com, a.category.as_deref()).await?;
        self.export_book(caller, &com, category, Some(&a)).await
    }

    fn can_download(&self, a: &exports::Approval) -> bool {
        a.status == ExportStatus::Approved && a.decided_at.is_some_and(|t| self.now() - t < APPROVAL_VALID_MS)
    }

    fn approval_view(&self, caller: &Caller, a: exports::Approval) -> ApprovalView {
        let display = yijia_domain::time::display;
        ApprovalView {
            id: a.id,
            can_decide: a.status == ExportStatus::Pending
                && caller.covers(EXPORT_APPROVERS, &a.community_path)
                && caller.user_id != Some(a.requested_by),
            can_download: caller.user_id == Some(a.requested_by) && self.can_download(&a),
            community: a.community_code,
            community_name: a.community_name,
            category_name: a.category_name,
            category: a.category,
            reason: a.reason,
            requested_by: a.requested_name,
            requested_at: display(a.requested_at),
            status: a.status,
            decided_by: a.decided_name,
            decided_at: a.decided_at.map(display),
            decision_note: a.decision_note.filter(|n| !n.is_empty()),
        }
    }
}

fn workbook(
    community: &str,
    rows: &[residents::ExportRow],
    stamp: &str,
    sees_ids: bool,
    unmask: Option<&Unmask<'_>>,
    custom_names: &std::collections::HashMap<String, String>,
) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let mut grids: Vec<(&str, &str)> = rows.iter().map(|r| (r.grid_code.as_str(), r.grid_name.as_str())).collect();
    grids.dedup();
    if grids.is_empty() {
        grids.push(("", "居民"));
    }
    for (code, name) in grids {
        let ws = wb.add_worksheet().set_name(sheet_name(name)).map_err(xlsx)?;
        ws.merge_range(0, 0, 0, 11, &format!("{community}{name}居民信息台账"), &title).map_err(xlsx)?;
        ws.write(1, 0, stamp).map_err(xlsx)?;
        if unmask.is_some() {
            // on every printed page too: who, when, on whose approval
            let mark = format!("&C{}", stamp.replace('&', "&&"));
            ws.set_header(&mark).set_footer(&mark);
        }
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_with_format(2, c as u16, *h, &bold).map_err(xlsx)?;
        }
        let mut n = 0u32;
        for r in rows.iter().filter(|r| r.grid_code == code) {
            n += 1;
            let row = 2 + n;
            let sex = r.sex.map_or("", |s| s.name_zh());
            let cats: Vec<&str> = r
                .categories
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter_map(|code| {
                    Category::parse(code).map(Category::name_zh).or(custom_names.get(code).map(String::as_str))
                })
                .collect();
            let residence = r.residence.name_zh();
            let notes =
                [residence, r.notes.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(";");
            let (id, phone) = match unmask {
                Some(u) => u.open(r)?,
                None => (r.id_number_masked.clone().unwrap_or_default(), r.phone_masked.clone().unwrap_or_default()),
            };
            let (id, phone) = if sees_ids { (id.as_str(), phone.as_str()) } else { ("", "") };
            let cells = [
                sex,
                id,
                r.birth_date.as_deref().unwrap_or(""),
                phone,
                r.estate.as_deref().unwrap_or(""),
                r.building.as_deref().unwrap_or(""),
                r.entrance.as_deref().unwrap_or(""),
                r.door.as_deref().unwrap_or(""),
            ];
            ws.write(row, 0, n).map_err(xlsx)?;
            ws.write(row, 1, cell(&r.name)).map_err(xlsx)?;
            for (i, v) in cells.iter().enumerate() {
                ws.write_with_format(row, 2 + i as u16, cell(v), &text).map_err(xlsx)?;
            }
            ws.write(row, 10, cell(&cats.join("、"))).map_err(xlsx)?;
            ws.write(row, 11, cell(&notes)).map_err(xlsx)?;
        }
        ws.write_with_format(3 + n, 0, "合计", &bold).map_err(xlsx)?;
        ws.write(3 + n, 1, format!("{n}人")).map_err(xlsx)?;
        ws.set_column_width(3, 20).map_err(xlsx)?;
        ws.set_column_width(5, 14).map_err(xlsx)?;
        ws.set_column_width(6, 14).map_err(xlsx)?;
    }
    wb.save_to_buffer().map_err(xlsx)
}

/// The most characters Excel keeps in a cell.
const CELL_MAX: usize = 32_767;

/// A text as a cell holds it: one too long for Excel is cut with "…", so
/// that one bad value never fails a whole workbook.
pub(crate) fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(CELL_MAX - 1) {
        Some((at, _)) => format!("{}…", &s[..at]).into(),
        None => s.into(),
    }
}

/// A name as a sheet may carry it: at most 31 characters, none of
/// `[]:*?/\`, not starting or ending with an apostrophe, never empty.
pub(crate) fn sheet_name(s: &str) -> String {
    let clean: String =
        s.chars().map(|c| if "[]:*?/\\".contains(c) || c.is_control() { '_' } else { c }).take(31).collect();
    let clean = clean.trim_matches('\'').trim();
    if clean.is_empty() { "_".to_owned() } else { clean.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_sheet_names_fit_excel() {
        assert_eq!(cell("3单元"), "3单元");
        let long = "单".repeat(40_000);
        assert_eq!(cell(&long).chars().count(), CELL_MAX);
        assert_eq!(sheet_name("第3网格/东[新]"), "第3网格_东_新_");
        assert_eq!(sheet_name(&"网".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name("''"), "_");
    }
}
