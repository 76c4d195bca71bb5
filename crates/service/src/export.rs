//! The roster back out, in the layout people keep: one sheet per grid, a
//! title row, the same columns. Personal data stays masked; every export is
//! audited and carries who exported it and when.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use serde_json::json;
use yijia_domain::registry::Category;
use yijia_store::{org, residents};

use crate::audit::{Event, record};
use crate::registry::{READERS, UNMASKERS, years_before};
use crate::{Caller, Result, ServiceError, Services};

const HEADERS: [&str; 12] = [
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

fn xlsx(e: XlsxError) -> ServiceError {
    ServiceError::Internal(format!("writing the workbook: {e}"))
}

impl Services {
    /// The residents of `community` within the caller's scope (optionally
    /// of one category) as a masked roster workbook.
    pub async fn export_residents(
        &self,
        caller: &Caller,
        community: &str,
        category: Option<Category>,
    ) -> Result<Vec<u8>> {
        let mut conn = self.db.conn().await?;
        let com = org::by_code(&mut conn, community.trim()).await?;
        drop(conn);
        let Some(com) = com.filter(|c| c.kind == "community") else {
            return Err(ServiceError::invalid(
                "community",
                format!("找不到社区「{community}」"),
                format!("no community '{community}'"),
            ));
        };
        let paths: Vec<String> = if caller.is_operator() {
            vec![com.path.clone()]
        } else {
            caller
                .scope_paths(READERS)
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
        let today = yijia_domain::time::to_local(self.now()).date_naive();
        let filter = residents::Filter {
            paths,
            category: category.filter(|c| !c.derived()).map(|c| c.code().to_owned()),
            name: None,
            // the same cut-off as the list, 29 February included
            born_after: (category == Some(Category::Child)).then(|| years_before(today, 14)),
            ..Default::default()
        };
        // station clerks see names, never ID numbers (masked or not)
        let sees_ids = caller.is_operator() || caller.has_any(UNMASKERS);
        let now = self.now();
        let mut tx = self.db.write().await?;
        let rows = residents::export_rows(&mut tx, &filter).await?;
        let e = Event::ok("resident_export", format!("org:{}", com.code), &com.path);
        let detail = json!({ "rows": rows.len(), "category": category.map(|c| c.code()), "masked": true });
        record(&mut tx, caller, now, &e.with(detail)).await?;
        let stamp = format!(
            "导出人:{} 导出时间:{} · 个人信息已脱敏,仅供工作使用",
            caller.display_name,
            yijia_domain::time::display(now)
        );
        let book = workbook(&com.name, &rows, &stamp, sees_ids)?;
        tx.commit().await?;
        Ok(book)
    }
}

fn workbook(community: &str, rows: &[residents::ExportRow], stamp: &str, sees_ids: bool) -> Result<Vec<u8>> {
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
        let ws = wb.add_worksheet().set_name(name).map_err(xlsx)?;
        ws.merge_range(0, 0, 0, 11, &format!("{community}{name}居民信息台账"), &title).map_err(xlsx)?;
        ws.write(1, 0, stamp).map_err(xlsx)?;
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_with_format(2, c as u16, *h, &bold).map_err(xlsx)?;
        }
        let mut n = 0u32;
        for r in rows.iter().filter(|r| r.grid_code == code) {
            n += 1;
            let row = 2 + n;
            let sex = match r.sex.as_deref() {
                Some("male") => "男",
                Some("female") => "女",
                _ => "",
            };
            let cats: Vec<&str> = r
                .categories
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter_map(Category::parse)
                .map(Category::name_zh)
                .collect();
            let residence = yijia_domain::registry::Residence::parse(&r.residence).map(|x| x.name_zh()).unwrap_or("");
            let notes =
                [residence, r.notes.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(";");
            let id = if sees_ids { r.id_number_masked.as_deref().unwrap_or("") } else { "" };
            let cells = [
                sex,
                id,
                r.birth_date.as_deref().unwrap_or(""),
                r.phone_masked.as_deref().unwrap_or(""),
                r.estate.as_deref().unwrap_or(""),
                r.building.as_deref().unwrap_or(""),
                r.entrance.as_deref().unwrap_or(""),
                r.door.as_deref().unwrap_or(""),
            ];
            ws.write(row, 0, n).map_err(xlsx)?;
            ws.write(row, 1, &r.name).map_err(xlsx)?;
            for (i, v) in cells.iter().enumerate() {
                ws.write_with_format(row, 2 + i as u16, *v, &text).map_err(xlsx)?;
            }
            ws.write(row, 10, cats.join("、")).map_err(xlsx)?;
            ws.write(row, 11, &notes).map_err(xlsx)?;
        }
        ws.write_with_format(3 + n, 0, "合计", &bold).map_err(xlsx)?;
        ws.write(3 + n, 1, format!("{n}人")).map_err(xlsx)?;
        ws.set_column_width(3, 20).map_err(xlsx)?;
        ws.set_column_width(5, 14).map_err(xlsx)?;
        ws.set_column_width(6, 14).map_err(xlsx)?;
    }
    wb.save_to_buffer().map_err(xlsx)
}
