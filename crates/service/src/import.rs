//! Importing the rosters people keep in Excel. Every good row goes in, every
//! bad row is reported with its sheet, row and reason, the rest of the file
//! still imports, and importing the same file again changes nothing. All of
//! it happens in one transaction: a failure midway leaves the database as
//! it was.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use serde::Serialize;
use serde_json::json;
use yijia_domain::Invalid;
use yijia_domain::org::OrgKind;
use yijia_domain::registry::{Category, Residence};
use yijia_domain::role::Role;
use yijia_domain::roster::{self, Cell, Column};
use yijia_store::{Tx, org, places, residents, users};

use crate::audit::{Event, record};
use crate::registry::{CategoryInput, Prepared, ResidentInput};
use crate::roles::IMPORTERS;
use crate::visits::FirstDue;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BadRow {
    pub sheet: String,
    /// The row number as Excel shows it (from 1).
    pub row: u32,
    /// The name on the row, as typed, so that the importer finds the person.
    pub name: String,
    /// The ID number on the row, masked.
    pub id_masked: String,
    pub field: String,
    pub reason_zh: String,
    pub reason_en: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub sheets: usize,
    /// Data rows read (blank and totals rows are not counted).
    pub rows: usize,
    pub imported: usize,
    /// Rows whose person is registered already (a second import).
    pub unchanged: usize,
    pub bad: Vec<BadRow>,
    /// Estates that the roster named and the community did not have yet.
    pub new_estates: Vec<String>,
    /// Who comes under a care plan, per grid: whose walk they join and when.
    pub plans: Vec<PlansJoined>,
    pub dry_run: bool,
}

/// Imported people who came under a care plan in one grid.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlansJoined {
    pub grid: String,
    pub grid_name: String,
    /// The grid's workers, by name.
    pub workers: Vec<String>,
    pub people: usize,
    /// Their first visits are due from this day …
    pub first_due_from: String,
    /// … to this one, spread over one interval.
    pub first_due_to: String,
}

fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) => Cell::Date(d.date()),
            None => Cell::Number(dt.as_f64()),
        },
    }
}

/// A sheet's rows, with the Excel number of the first.
struct Sheet {
    name: String,
    first_row: u32,
    rows: Vec<Vec<Cell>>,
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Sheet>> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        ServiceError::invalid(
            "file",
            format!("无法读取 Excel 文件(.xlsx):{e}"),
            format!("cannot read the Excel file (.xlsx): {e}"),
        )
    })?;
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).map_err(|e| {
            ServiceError::invalid(
                "file",
                format!("无法读取工作表「{name}」:{e}"),
                format!("cannot read the sheet '{name}': {e}"),
            )
        })?;
        let first_row = range.start().map(|(r, _)| r + 1).unwrap_or(1);
        let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
        let rows = range
            .rows()
            .map(|r| {
                let mut cells = vec![Cell::Empty; first_col];
                cells.extend(r.iter().map(to_cell));
                cells
            })
            .collect();
        sheets.push(Sheet { name, first_row, rows });
    }
    Ok(sheets)
}

/// `第3网格` → 3
fn grid_number(sheet: &str) -> Option<u32> {
    let s = sheet.trim();
    let inner = s.strip_prefix('第')?.strip_suffix("网格")?;
    inner.parse().ok().or_else(|| {
        let zh = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
        zh.iter().position(|d| *d == inner).map(|n| n as u32)
    })
}

impl Services {
    /// Imports residents from an .xlsx roster into `community`. Sheets named
    /// `第N网格` go to grid N (by name, or by the code ending `-gNN`); other
    /// sheets need an entry in `grid_of_sheet`.
    pub async fn import_residents(
        &self,
        caller: &Caller,
        bytes: &[u8],
        community: &str,
        grid_of_sheet: &HashMap<String, String>,
        dry_run: bool,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport> {
        let mut conn = self.db.conn().await?;
        let com = org::by_code(&mut conn, community.trim()).await?;
        let Some(com) =
            com.filter(|c| c.kind == OrgKind::Community && (caller.is_operator() || caller.covers(IMPORTERS, &c.path)))
        else {
            return Err(ServiceError::invalid(
                "community",
                format!("找不到您可导入的社区「{community}」"),
                format!("no community '{community}' that you import into"),
            ));
        };
        let grids = org::children(&mut conn, com.id).await?;
        // the community's own categories, by name
        let customs: HashMap<String, String> = residents::customs(&mut conn, std::slice::from_ref(&com.path))
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c.code()))
            .collect();
        drop(conn);
        let sheets = read_workbook(bytes)?;
        let mut report = ImportReport { sheets: sheets.len(), dry_run, ..Default::default() };
        // an upper bound: title, header and blank rows are not data
        let total_rows: usize = sheets.iter().map(|s| s.rows.len()).sum();
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut seen: HashMap<String, (String, u32)> = HashMap::new();
        let mut estates: BTreeMap<String, i64> = BTreeMap::new();
        let mut sheets_read = Vec::new();
        for sheet in &sheets {
            let grid = match grid_of_sheet.get(&sheet.name) {
                Some(code) => grids.iter().find(|g| g.code == *code),
                None => grid_number(&sheet.name).and_then(|n| {
                    grids.iter().find(|g| g.name == sheet.name || g.code.ends_with(&format!("-g{n:02}")))
                }),
            };
            let bad = |row: u32, field: &str, zh: String, en: String| BadRow {
                sheet: sheet.name.clone(),
                row,
                name: String::new(),
                id_masked: String::new(),
                field: field.to_owned(),
                reason_zh: zh,
                reason_en: en,
            };
            let Some((header_at, columns)) = roster::find_header(&sheet.rows) else {
                // the blank roster's own instructions are not data
                if !roster::HELP_SHEETS.contains(&sheet.name.as_str())
                    && sheet.rows.iter().any(|r| r.iter().any(|c| !c.is_empty()))
                {
                    report.bad.push(bad(
                        sheet.first_row,
                        "",
                        "找不到表头行(需有「姓名」等列)".into(),
                        "no header row (with a name column) found".into(),
                    ));
                }
                continue;
            };
            let Some(grid) = grid else {
                report.bad.push(bad(
                    sheet.first_row,
                    "sheet",
                    format!("工作表「{}」对应哪个网格?请用 --grid 指定", sheet.name),
                    format!("which grid is sheet '{}'? map it with --grid", sheet.name),
                ));
                continue;
            };
            let col = |c: Column| columns.iter().position(|x| *x == Some(c));
            let mut pending = Vec::new();
            for (i, row) in sheet.rows.iter().enumerate().skip(header_at + 1) {
                if row.iter().all(Cell::is_empty) {
                    continue;
                }
                if roster::is_totals(row) {
                    break;
                }
                let excel_row = sheet.first_row + i as u32;
                report.rows += 1;
                let cell = |c: Column| col(c).and_then(|i| row.get(i)).cloned().unwrap_or(Cell::Empty);
                let at = (sheet.name.clone(), excel_row);
                match self.read_row(&cell, grid, now, at, &mut seen, &customs) {
                    Ok(row) => pending.push(row),
                    Err(RowError::Bad(e)) => report.bad.push(BadRow {
                        name: cell(Column::Name).text(),
                        id_masked: yijia_domain::id_number::mask_text(&cell(Column::IdNumber).text()),
                        ..bad(excel_row, &e.field, e.msg.zh, e.msg.en)
                    }),
                    Err(RowError::Fatal(e)) => return Err(e),
                }
                progress(report.rows, total_rows);
            }
            sheets_read.push((grid, pending));
        }
        // who is registered already, asked before anything is added: on
        // PostgreSQL the planner's picture of the table is from before the
        // import, and a lookup planned for an empty table scans a full one
        let indexes: Vec<String> = sheets_read
            .iter()
            .flat_map(|(_, rows)| rows.iter().filter_map(|r| r.p.new.id_number_index.clone()))
            .collect();
        let known = residents::registered(&mut tx, &indexes).await?;
        for (grid, pending) in sheets_read {
            let mut ctx =
                Places { com: &com, grid, now, estates: &mut estates, report: &mut report, buildings: HashMap::new() };
            self.store_rows(&mut tx, caller, pending, &known, &mut ctx).await?;
        }
        let e = Event::ok("resident_import", format!("org:{}", com.code), &com.path);
        let detail = json!({ "rows": report.rows, "imported": report.imported, "unchanged": report.unchanged, "bad": report.bad.len(), "dry_run": dry_run });
        record(&mut tx, caller, now, &e.with(detail)).await?;
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
            // a large import changes what the planner should choose
            self.db.optimize().await?;
        }
        Ok(report)
    }
}

/// A row read and checked, waiting to be stored with its sheet's others.
struct PendingRow {
    p: Prepared,
    /// estate, building, entrance, door
    home: Option<(String, String, String, String)>,
}

/// The places a sheet's rows live in, made as they are first named.
struct Places<'a> {
    com: &'a org::OrgNode,
    grid: &'a org::OrgNode,
    now: i64,
    estates: &'a mut BTreeMap<String, i64>,
    buildings: HashMap<(i64, String), i64>,
    report: &'a mut ImportReport,
}

enum RowError {
    Bad(Invalid),
    Fatal(ServiceError),
}

impl From<Invalid> for RowError {
    fn from(e: Invalid) -> Self {
        RowError::Bad(e)
    }
}

impl From<ServiceError> for RowError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(i) => RowError::Bad(i),
            e => RowError::Fatal(e),
        }
    }
}

impl From<yijia_store::StoreError> for RowError {
    fn from(e: yijia_store::StoreError) -> Self {
        RowError::Fatal(e.into())
    }
}

impl Services {
    /// Reads and checks one row: no IO. An ID number seen earlier in the
    /// file is the same person twice.
    fn read_row(
        &self,
        cell: &(dyn Fn(Column) -> Cell + Sync),
        grid: &org::OrgNode,
        now: i64,
        at: (String, u32),
        seen: &mut HashMap<String, (String, u32)>,
        customs: &HashMap<String, String>,
    ) -> std::result::Result<PendingRow, RowError> {
        let mut builtin = Vec::new();
        let mut custom = Vec::new();
        for word in roster::category_words(&cell(Column::Categories)) {
            match (Category::parse(&word), customs.get(&word)) {
                (Some(c), _) if c.derived() => {}
                (Some(c), _) if !builtin.contains(&c) => builtin.push(c),
                (Some(_), _) => {}
                (None, Some(code)) if !custom.contains(code) => custom.push(code.clone()),
                (None, Some(_)) => {}
                (None, None) => return Err(RowError::Bad(roster::unknown_category(&word))),
            }
        }
        let notes_cell = cell(Column::Notes).text();
        // 备注 often holds the residence status (户在人不在, 租户 …)
        let (residence, notes) = match (cell(Column::Residence).text(), Residence::parse(&notes_cell)) {
            (r, _) if !r.is_empty() => (Some(r), notes_cell),
            (_, Some(r)) => (Some(r.code().to_owned()), String::new()),
            _ => (None, notes_cell),
        };
        let birth = roster::parse_date(&cell(Column::BirthDate), "birth_date")?;
        let input = ResidentInput {
            name: cell(Column::Name).text(),
            sex: Some(cell(Column::Sex).text()),
            birth_date: birth.map(|b| b.to_string()),
            id_number: Some(roster::id_text(&cell(Column::IdNumber))?),
            phone: Some(cell(Column::Phone).text()),
            grid: grid.code.clone(),
            household: None,
            relation: Some(cell(Column::Relation).text()),
            residence,
            notes: Some(notes),
            categories: builtin.into_iter().map(|category| CategoryInput { category, details: None }).collect(),
        };
        let mut p = self.prepare(&input, grid.id, now)?;
        p.custom = custom;
        if let Some(f) = p.flags.first() {
            let field = if f.code == "sex_mismatch" { "sex" } else { "birth_date" };
            return Err(RowError::Bad(Invalid::new(field, f.zh.clone(), f.en.clone())));
        }
        if let Some(ix) = &p.new.id_number_index {
            if let Some((sheet, row)) = seen.get(ix) {
                return Err(RowError::Bad(Invalid::new(
                    "id_number",
                    format!("与「{sheet}」第 {row} 行是同一人"),
                    format!("the same person as row {row} of '{sheet}'"),
                )));
            }
            seen.insert(ix.clone(), at);
        }
        let (estate, door) = (cell(Column::Estate).text(), cell(Column::Door).text());
        let building = roster::building_name(&cell(Column::Building));
        let entrance = roster::entrance_name(&cell(Column::Entrance));
        let given = !estate.is_empty() && !building.is_empty() && !door.is_empty();
        if given {
            yijia_domain::org::validate_org_name(&estate).map_err(|e| Invalid { field: "estate".into(), ..e })?;
            roster::check_address("", &building, &entrance, &door)?;
        }
        let home = given.then_some((estate, building, entrance, door));
        Ok(PendingRow { p, home })
    }

    /// Stores a sheet's rows: those registered already are left as they
    /// are, the others go in with their households, many to a statement.
    async fn store_rows(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        rows: Vec<PendingRow>,
        known: &std::collections::HashSet<String>,
        ctx: &mut Places<'_>,
    ) -> Result<()> {
        let mut new = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.p.new.id_number_index.as_ref().is_some_and(|ix| known.contains(ix)) {
                ctx.report.unchanged += 1;
                continue;
            }
            let door = match &r.home {
                Some((estate, building, entrance, door)) => {
                    Some((self.import_building(tx, estate, building, ctx).await?, entrance.clone(), door.clone()))
                }
                None => None,
            };
            new.push((r, door));
        }
        let doors = new.iter().filter_map(|(_, d)| d.as_ref());
        let households = places::households(tx, ctx.grid.id, doors, ctx.now).await?;
        let mut batch = Vec::with_capacity(new.len());
        for (r, door) in &new {
            let household = door.as_ref().and_then(|d| households.get(d).copied());
            // without an ID number a person is known by name, birth date and
            // door: a second import of the same row adds nobody
            let n = &r.p.new;
            if n.id_number_index.is_none()
                && residents::registered_without_id(tx, ctx.grid.id, &n.name, n.birth_date.as_deref(), household)
                    .await?
            {
                ctx.report.unchanged += 1;
                continue;
            }
            batch.push((&r.p, household));
        }
        let ids = self.store_many(tx, &batch, &caller.username, FirstDue::Spread).await?;
        ctx.report.imported += batch.len();
        self.report_plans(tx, &ids, ctx).await
    }

    /// Says whose walk the imported people under a plan join, and when.
    async fn report_plans(&self, tx: &mut Tx, ids: &[i64], ctx: &mut Places<'_>) -> Result<()> {
        let mut due: Vec<String> = Vec::new();
        for chunk in ids.chunks(residents::BATCH) {
            let plans = yijia_store::visits::plan_inputs(tx, yijia_store::visits::Whose::Residents(chunk)).await?;
            due.extend(plans.into_iter().filter_map(|p| p.visit_due_on));
        }
        let (Some(from), Some(to)) = (due.iter().min(), due.iter().max()) else {
            return Ok(());
        };
        // two sheets of one grid make one line
        if let Some(j) = ctx.report.plans.iter_mut().find(|j| j.grid == ctx.grid.code) {
            j.people += due.len();
            j.first_due_from = j.first_due_from.clone().min(from.clone());
            j.first_due_to = j.first_due_to.clone().max(to.clone());
            return Ok(());
        }
        let workers = users::holders(tx, Role::GridWorker, &[ctx.grid.id]).await?;
        ctx.report.plans.push(PlansJoined {
            grid: ctx.grid.code.clone(),
            grid_name: ctx.grid.name.clone(),
            workers: workers.into_iter().map(|h| h.user.display_name).collect(),
            people: due.len(),
            first_due_from: from.clone(),
            first_due_to: to.clone(),
        });
        Ok(())
    }

    /// The building a row names, with its estate made when the community
    /// does not have it yet.
    async fn import_building(
        &self,
        tx: &mut Tx,
        estate_name: &str,
        building: &str,
        ctx: &mut Places<'_>,
    ) -> Result<i64> {
        let estate = match ctx.estates.get(estate_name) {
            Some(id) => *id,
            None => {
                let id = match places::estate_by_name(tx, ctx.com.id, estate_name).await? {
                    Some(id) => id,
                    None => {
                        ctx.report.new_estates.push(estate_name.to_owned());
                        let new = places::NewEstate {
                            community_id: ctx.com.id,
                            grid_id: None,
                            name: estate_name,
                            point: None,
                            now: ctx.now,
                        };
                        places::insert_estate(tx, &new).await?
                    }
                };
                ctx.estates.insert(estate_name.to_owned(), id);
                id
            }
        };
        Ok(match ctx.buildings.get(&(estate, building.to_owned())) {
            Some(b) => *b,
            None => {
                let b = places::building(tx, estate, building, ctx.now).await?;
                ctx.buildings.insert((estate, building.to_owned()), b);
                b
            }
        })
    }
}

/// A blank roster to fill in: a sheet 第1网格 with the headers the import
/// reads (in Chinese whatever the language: they are what it looks for), an
/// example row to overwrite, and a sheet that lists what each column takes.
pub fn roster_template(english: bool) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    use yijia_domain::registry::{Category, Residence};

    let err = |e: rust_xlsxwriter::XlsxError| ServiceError::caused("writing the roster template", e);
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet().set_name("第1网格").map_err(err)?;
    for (c, (h, col)) in roster::TEMPLATE.iter().enumerate() {
        ws.write_with_format(0, c as u16, *h, &bold).map_err(err)?;
        let width = match col {
            Column::IdNumber => 22.0,
            Column::Categories | Column::Notes => 18.0,
            Column::Seq | Column::Sex => 6.0,
            _ => 11.0,
        };
        ws.set_column_width(c as u16, width).map_err(err)?;
        // ID numbers and phones as text: Excel would round 18 digits
        if matches!(col, Column::IdNumber | Column::Phone | Column::Door) {
            ws.set_column_format(c as u16, &text).map_err(err)?;
        }
    }
    let cats: Vec<&str> = Category::ALL.iter().filter(|c| !c.derived()).map(|c| c.name_zh()).collect();
    let homes: Vec<&str> = Residence::ALL.iter().map(|r| r.name_zh()).collect();
    let help = wb.add_worksheet().set_name(roster::HELP_SHEETS[usize::from(english)]).map_err(err)?;
    let lines = [
        (
            t("工作表", "Sheets"),
            t(
                "每个网格一张工作表,名为「第N网格」,对应本社区第 N 网格。",
                "One sheet per grid, named 第N网格 for grid N of the community.",
            ),
        ),
        (
            t("表头", "Headers"),
            t(
                "第一行是表头,请勿改名;可删去不用的列。",
                "The first row holds the headers: keep their names; columns you do not use may go.",
            ),
        ),
        (
            t("身份证号码", "ID number"),
            t(
                "18 位,末位可为 X;出生日期与性别须与之相符。",
                "18 characters, the last may be X; birth date and sex must agree with it.",
            ),
        ),
        (
            t("住址", "Address"),
            t(
                "小区、楼栋、门牌号都填才登记住址;同一门牌的人成为一户。",
                "Estate, building and door together register an address; people at one door form a household.",
            ),
        ),
        (t("人员类别", "Categories"), t("可填多个,用顿号或逗号分开。", "Several allowed, separated by 、 or commas.")),
        (t("居住状态", "Residence"), t("空着即为常住。", "Empty means permanent.")),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        help.write_with_format(i as u32, 0, *k, &bold).map_err(err)?;
        help.write(i as u32, 1, *v).map_err(err)?;
    }
    let at = lines.len() as u32 + 1;
    help.write_with_format(at, 0, t("人员类别可填", "Category names"), &bold).map_err(err)?;
    help.write(at, 1, cats.join("、")).map_err(err)?;
    help.write_with_format(at + 1, 0, t("居住状态可填", "Residence names"), &bold).map_err(err)?;
    help.write(at + 1, 1, homes.join("、")).map_err(err)?;
    help.set_column_width(0, 16).map_err(err)?;
    help.set_column_width(1, 90).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The report as a workbook: a summary and one line per bad row (sheet,
/// row, field, reason). It holds no personal data.
pub fn report_workbook(r: &ImportReport, english: bool) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};

    use crate::export::cell;
    let err = |e: rust_xlsxwriter::XlsxError| ServiceError::caused("writing the report", e);
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet().set_name(t("导入报告", "Import report")).map_err(err)?;
    let summary = [
        (t("工作表", "Sheets"), r.sheets),
        (t("数据行", "Data rows"), r.rows),
        (t("已导入", "Imported"), r.imported),
        (t("已登记(未变)", "Already registered"), r.unchanged),
        (t("有问题的行", "Rows with problems"), r.bad.len()),
    ];
    for (i, (k, v)) in summary.iter().enumerate() {
        ws.write_with_format(i as u32, 0, *k, &bold).map_err(err)?;
        ws.write(i as u32, 1, *v as u32).map_err(err)?;
    }
    let top = summary.len() as u32 + 1;
    for (c, h) in [t("工作表", "Sheet"), t("行号", "Row"), t("字段", "Field"), t("原因", "Reason")].iter().enumerate()
    {
        ws.write_with_format(top, c as u16, *h, &bold).map_err(err)?;
    }
    for (i, b) in r.bad.iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write(row, 0, cell(&b.sheet)).map_err(err)?;
        ws.write(row, 1, b.row).map_err(err)?;
        ws.write(row, 2, cell(&b.field)).map_err(err)?;
        ws.write(row, 3, cell(if english { &b.reason_en } else { &b.reason_zh })).map_err(err)?;
    }
    ws.set_column_width(0, 14).map_err(err)?;
    ws.set_column_width(3, 60).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}
