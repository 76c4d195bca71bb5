//! Reading the rosters (台账) people keep in Excel: columns found by what
//! their headers mean, not by one spelling; cells written in the many ways
//! people write them.

use chrono::NaiveDate;

use crate::Invalid;
use crate::registry::Category;

/// A cell as a spreadsheet gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text: integral numbers without a decimal point.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Seq,
    Name,
    Sex,
    IdNumber,
    BirthDate,
    Phone,
    Estate,
    Building,
    Entrance,
    Door,
    Categories,
    Relation,
    Residence,
    Notes,
}

impl Column {
    pub fn field(self) -> &'static str {
        match self {
            Column::Seq => "seq",
            Column::Name => "name",
            Column::Sex => "sex",
            Column::IdNumber => "id_number",
            Column::BirthDate => "birth_date",
            Column::Phone => "phone",
            Column::Estate => "estate",
            Column::Building => "building",
            Column::Entrance => "entrance",
            Column::Door => "door",
            Column::Categories => "categories",
            Column::Relation => "relation",
            Column::Residence => "residence",
            Column::Notes => "notes",
        }
    }
}

/// The headers of a blank roster, in order, each with what it means.
pub const TEMPLATE: [(&str, Column); 14] = [
    ("序号", Column::Seq),
    ("姓名", Column::Name),
    ("性别", Column::Sex),
    ("身份证号码", Column::IdNumber),
    ("出生日期", Column::BirthDate),
    ("联系电话", Column::Phone),
    ("小区", Column::Estate),
    ("楼栋", Column::Building),
    ("单元", Column::Entrance),
    ("门牌号", Column::Door),
    ("人员类别", Column::Categories),
    ("与户主关系", Column::Relation),
    ("居住状态", Column::Residence),
    ("备注", Column::Notes),
];

/// The sheet of the blank roster that says how to fill it in, by language.
pub const HELP_SHEETS: [&str; 2] = ["填写说明", "How to fill it in"];

/// What a header means (身份证号码 / 公民身份号码 / 身份证号 are one column).
pub fn header_column(header: &str) -> Option<Column> {
    let h: String = header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '(' | ')' | '（' | '）' | ':' | '：'))
        .collect();
    let has = |k: &str| h.contains(k);
    Some(if has("身份") || has("证件号") {
        Column::IdNumber
    } else if has("电话") || has("手机") || has("联系方式") {
        Column::Phone
    } else if has("姓名") || h == "名字" {
        Column::Name
    } else if has("性别") {
        Column::Sex
    } else if has("出生") || has("生日") {
        Column::BirthDate
    } else if has("小区") || has("院落") {
        Column::Estate
    } else if has("单元") {
        Column::Entrance
    } else if has("楼") || has("栋") {
        Column::Building
    } else if has("门牌") || has("房号") || has("室号") || has("户号") {
        Column::Door
    } else if has("类别") || has("类型") || has("分类") {
        Column::Categories
    } else if has("关系") {
        Column::Relation
    } else if has("居住") || has("人户") {
        Column::Residence
    } else if has("备注") {
        Column::Notes
    } else if has("序号") || has("编号") {
        Column::Seq
    } else {
        return None;
    })
}

/// The header row among the first rows: the first that names a person and
/// at least two other columns. Answers its index and the column of each
/// cell.
pub fn find_header(rows: &[Vec<Cell>]) -> Option<(usize, Vec<Option<Column>>)> {
    rows.iter().take(15).enumerate().find_map(|(i, row)| {
        let cols: Vec<Option<Column>> = row.iter().map(|c| header_column(&c.text())).collect();
        let known = cols.iter().flatten().count();
        (known >= 3 && cols.contains(&Some(Column::Name))).then_some((i, cols))
    })
}

/// A row that ends the data: 合计 / 总计 / 小计.
pub fn is_totals(row: &[Cell]) -> bool {
    row.iter().take(3).any(|c| {
        let t = c.text();
        t.starts_with("合计") || t.starts_with("总计") || t.starts_with("小计")
    })
}

fn bad_date(field: &str, s: &str) -> Invalid {
    Invalid::new(field, format!("日期「{s}」看不懂"), format!("cannot read the date '{s}'"))
}

/// Dates as rosters write them: Excel dates, `1945.3.2`, `1945/03/02`,
/// `1945-03-02`, `1945年3月2日`, `19450302` (text or number).
pub fn parse_date(cell: &Cell, field: &str) -> Result<Option<NaiveDate>, Invalid> {
    let s = match cell {
        Cell::Empty => return Ok(None),
        Cell::Date(d) => return Ok(Some(*d)),
        Cell::Number(_) | Cell::Text(_) => cell.text(),
    };
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").map(Some).map_err(|_| bad_date(field, &s));
    }
    let parts: Vec<&str> = s.split(['.', '/', '-', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    if let [y, m, d] = parts.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.trim().parse(), m.trim().parse(), d.trim().parse())
        && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
    {
        return Ok(Some(date));
    }
    Err(bad_date(field, &s))
}

/// `3`, `3号楼`, `3栋`, `3号` → `3号楼`; other names stay as written.
pub fn building_name(cell: &Cell) -> String {
    let t = cell.text();
    let digits = t.trim_end_matches("号楼").trim_end_matches('栋').trim_end_matches('号').trim_end_matches('幢');
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) { format!("{digits}号楼") } else { t }
}

/// `2`, `2单元` → `2单元`.
pub fn entrance_name(cell: &Cell) -> String {
    let t = cell.text();
    let digits = t.trim_end_matches("单元");
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) { format!("{digits}单元") } else { t }
}

/// The longest building, entrance or door (`12号楼`, `2单元`, `1502`).
pub const MAX_ADDRESS_PART: usize = 16;

/// The parts of a door address as written (after `building_name` and
/// `entrance_name`): building and door given, each part at most
/// `MAX_ADDRESS_PART` characters. `prefix` goes before each field's name
/// (`household.`).
pub fn check_address(prefix: &str, building: &str, entrance: &str, door: &str) -> Result<(), Invalid> {
    let long = |s: &str| s.chars().count() > MAX_ADDRESS_PART;
    if building.is_empty() || long(building) {
        return Err(Invalid::new(
            format!("{prefix}building"),
            format!("请填写楼栋(如 3号楼,{MAX_ADDRESS_PART} 字以内)"),
            format!("give the building (3号楼, at most {MAX_ADDRESS_PART} characters)"),
        ));
    }
    if long(entrance) {
        return Err(Invalid::new(
            format!("{prefix}entrance"),
            format!("单元最多 {MAX_ADDRESS_PART} 个字(如 2单元)"),
            format!("the entrance is at most {MAX_ADDRESS_PART} characters (2单元)"),
        ));
    }
    if door.is_empty() || long(door) {
        return Err(Invalid::new(
            format!("{prefix}door"),
            format!("请填写门牌号(如 502,{MAX_ADDRESS_PART} 字以内)"),
            format!("give the door number (502, at most {MAX_ADDRESS_PART} characters)"),
        ));
    }
    Ok(())
}

/// Categories joined by 、，, / or spaces, each by any of its names.
pub fn parse_categories(cell: &Cell) -> Result<Vec<Category>, Invalid> {
    let mut out = Vec::new();
    for part in category_words(cell) {
        let c = Category::parse(&part).ok_or_else(|| unknown_category(&part))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The words of a categories cell, split at 、,，/;； | and spaces.
pub fn category_words(cell: &Cell) -> Vec<String> {
    cell.text()
        .split(|c: char| matches!(c, '、' | ',' | '，' | '/' | ';' | '；' | '|') || c.is_whitespace())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn unknown_category(word: &str) -> Invalid {
    Invalid::new("categories", format!("不认识的人员类别「{word}」"), format!("unknown category '{word}'"))
}

/// An ID number cell. Excel keeps numbers to 15 significant digits, so an
/// 18-digit number typed into a number cell has lost its last digits.
pub fn id_text(cell: &Cell) -> Result<String, Invalid> {
    match cell {
        Cell::Number(n) if *n >= 1e15 => Err(Invalid::new(
            "id_number",
            "身份证号存成了数字格式,Excel 已丢失末尾几位,请把该列设为文本后重新填写",
            "the ID number was stored as a number and Excel lost its last digits; make the column text and type it again",
        )),
        c => Ok(c.text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blank_roster_reads_back_column_for_column() {
        for (h, c) in TEMPLATE {
            assert_eq!(header_column(h), Some(c), "{h}");
        }
        let row: Vec<Cell> = TEMPLATE.iter().map(|(h, _)| Cell::Text((*h).to_owned())).collect();
        let (at, cols) = find_header(&[row]).expect("a header");
        assert_eq!((at, cols.len()), (0, 14));
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn headers_by_meaning() {
        for (h, c) in [
            ("身份证号码", Column::IdNumber),
            ("公民身份号码", Column::IdNumber),
            ("身份证号", Column::IdNumber),
            ("联系电话", Column::Phone),
            ("电话", Column::Phone),
            ("手机号", Column::Phone),
            ("姓 名", Column::Name),
            ("楼栋", Column::Building),
            ("单元", Column::Entrance),
            ("门牌号", Column::Door),
            ("人员类别", Column::Categories),
            ("与户主关系", Column::Relation),
        ] {
            assert_eq!(header_column(h), Some(c), "{h}");
        }
        assert_eq!(header_column("填报单位:城南社区居委会"), None);
    }

    #[test]
    fn the_header_row_is_found_below_titles() {
        let rows = vec![
            vec![t("城南社区第1网格居民信息台账(2024年)")],
            vec![t("填报单位:城南社区居委会"), Cell::Empty, t("填报日期:")],
            vec![t("序号"), t("姓名"), t("性别"), t("身份证号码")],
        ];
        let (i, cols) = find_header(&rows).unwrap();
        assert_eq!(i, 2);
        assert_eq!(cols[3], Some(Column::IdNumber));
    }

    #[test]
    fn dates_in_five_spellings() {
        let d = NaiveDate::from_ymd_opt(1945, 3, 2);
        for c in [
            t("1945.3.2"),
            t("1945/03/02"),
            t("1945-03-02"),
            t("1945年3月2日"),
            t("19450302"),
            Cell::Number(19450302.0),
            Cell::Date(d.unwrap()),
        ] {
            assert_eq!(parse_date(&c, "birth_date").unwrap(), d, "{c:?}");
        }
        assert_eq!(parse_date(&Cell::Empty, "birth_date").unwrap(), None);
        assert_eq!(parse_date(&t("1945.2.30"), "birth_date").unwrap_err().field, "birth_date");
        assert!(parse_date(&t("去年"), "birth_date").is_err());
    }

    #[test]
    fn buildings_entrances_and_categories() {
        assert_eq!(building_name(&Cell::Number(3.0)), "3号楼");
        assert_eq!(building_name(&t("3号楼")), "3号楼");
        assert_eq!(building_name(&t("12栋")), "12号楼");
        assert_eq!(building_name(&t("综合楼")), "综合楼");
        assert_eq!(entrance_name(&Cell::Number(2.0)), "2单元");
        assert_eq!(entrance_name(&t("2单元")), "2单元");
        assert_eq!(
            parse_categories(&t("独居老人/退役军人，党员")).unwrap(),
            [Category::ElderlyAlone, Category::Veteran, Category::PartyMember]
        );
        assert_eq!(parse_categories(&t("残障人员 党员")).unwrap(), [Category::Disabled, Category::PartyMember]);
        assert_eq!(parse_categories(&t("孤寡老人、残疾人")).unwrap(), [Category::ElderlyAlone, Category::Disabled]);
        assert!(parse_categories(&t("宠物")).is_err());
        assert!(parse_categories(&Cell::Empty).unwrap().is_empty());
    }

    #[test]
    fn id_numbers_that_excel_turned_into_numbers() {
        assert!(id_text(&Cell::Number(220182194503025170.0)).is_err());
        assert_eq!(id_text(&Cell::Number(220182450302123.0)).unwrap(), "220182450302123");
        assert_eq!(Cell::Number(13438648853.0).text(), "13438648853");
    }

    #[test]
    fn totals_rows() {
        assert!(is_totals(&[t("合计"), t("390人")]));
        assert!(!is_totals(&[Cell::Number(1.0), t("彭德")]));
    }
}
