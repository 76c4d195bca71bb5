//! The registry's words: resident categories, residence status, relations,
//! and the categories that follow from data.

use chrono::{Datelike, NaiveDate};

use crate::Invalid;

crate::labelled! {
    /// The built-in categories (人员类别).
    #[derive(PartialOrd, Ord)]
    pub enum Category {
        Hardship = ("hardship", "困难群众", "People in hardship"),
        Subsistence = ("subsistence", "低保户", "Subsistence allowance"),
        ElderlyAlone = ("elderly_alone", "独居老人", "Elderly living alone"),
        Disabled = ("disabled", "残障人员", "Disabled"),
        Pregnant = ("pregnant", "孕妇", "Pregnant"),
        Child = ("child", "儿童", "Child"),
        Veteran = ("veteran", "退役军人", "Veteran"),
        PartyMember = ("party_member", "党员", "Party member"),
    }
}

impl Category {
    /// The code, or one of the names rosters use for it (独居老人 and
    /// 孤寡老人, 残疾人 and 残障人员, …).
    pub fn parse(s: &str) -> Option<Category> {
        let s = s.trim();
        Category::ALL.into_iter().find(|c| c.code() == s).or(match s {
            "困难群众" | "困难户" | "困难家庭" => Some(Category::Hardship),
            "低保户" | "低保" | "低保对象" => Some(Category::Subsistence),
            "独居老人" | "孤寡老人" | "空巢老人" => Some(Category::ElderlyAlone),
            "残障人员" | "残疾人" | "残障人士" | "残疾" => Some(Category::Disabled),
            "孕妇" | "孕产妇" => Some(Category::Pregnant),
            "儿童" | "未成年人" => Some(Category::Child),
            "退役军人" | "复员军人" | "退伍军人" => Some(Category::Veteran),
            "党员" | "中共党员" => Some(Category::PartyMember),
            _ => None,
        })
    }

    /// Categories that follow from data and are never entered by hand.
    pub fn derived(self) -> bool {
        self == Category::Child
    }

    /// The detail fields this category keeps (sealed at rest).
    pub fn detail_fields(self) -> &'static [&'static str] {
        match self {
            Category::Disabled => &["kind", "grade"],
            Category::Hardship | Category::Subsistence => &["kind"],
            Category::Pregnant => &["due_date"],
            _ => &[],
        }
    }
}

/// Under 14 on `today`.
pub fn is_child(birth: NaiveDate, today: NaiveDate) -> bool {
    age_on(birth, today).is_some_and(|a| a < 14)
}

pub fn age_on(birth: NaiveDate, today: NaiveDate) -> Option<u32> {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    u32::try_from(age).ok()
}

/// Days after the due date that a pregnancy still counts (the postpartum
/// period the care plan covers).
pub const PREGNANCY_GRACE_DAYS: i64 = 42;

pub fn pregnancy_active(due: NaiveDate, today: NaiveDate) -> bool {
    today <= due + chrono::Duration::days(PREGNANCY_GRACE_DAYS)
}

crate::labelled! {
    stored in "residents.residence";
    /// Residence status (居住状态).
    #[derive(Default)]
    pub enum Residence {
        /// 常住
        #[default]
        Permanent = ("permanent", "常住", "Permanent"),
        /// 租户
        Tenant = ("tenant", "租户", "Tenant"),
        /// 户在人不在: registered here, living elsewhere
        RegisteredAbsent = ("registered_absent", "户在人不在", "Registered, living elsewhere"),
        /// 人在户不在: living here, registered elsewhere
        PresentUnregistered = ("present_unregistered", "人在户不在", "Living here, registered elsewhere"),
        /// 外出务工
        WorkingAway = ("working_away", "外出务工", "Working away"),
    }
}

impl Residence {
    /// By code or by its Chinese name.
    pub fn parse(s: &str) -> Option<Residence> {
        let s = s.trim();
        Residence::ALL.into_iter().find(|r| r.code() == s || r.name_zh() == s)
    }
}

crate::labelled! {
    stored in "export_approvals.status";
    /// An export with personal data in full: asked, decided, then used once.
    pub enum ExportStatus {
        Pending = ("pending", "待审批", "Pending"),
        Approved = ("approved", "已批准", "Approved"),
        Rejected = ("rejected", "已驳回", "Rejected"),
        Used = ("used", "已使用", "Used"),
    }
}

/// A person's name: 1–32 characters, no digits or control characters
/// (`·` for minority names is fine).
pub fn validate_person_name(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > 32 || s.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
        return Err(Invalid::new("name", "姓名须为 1–32 个字符,不含数字", "a name has 1–32 characters and no digits"));
    }
    Ok(s.to_owned())
}

crate::labelled! {
    /// The order of a resident list.
    #[derive(Default)]
    pub enum ResidentSort {
        /// By name (the default).
        #[default]
        Name = ("name", "按姓名", "by name"),
        /// Oldest first.
        Oldest = ("oldest", "年长在前", "oldest first"),
        /// Youngest first.
        Youngest = ("youngest", "年幼在前", "youngest first"),
        /// By estate, building, entrance and door.
        Address = ("address", "按住址", "by address"),
        /// Most recently registered first.
        Newest = ("newest", "最近登记", "newest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn categories_by_the_names_rosters_use() {
        assert_eq!(Category::parse("孤寡老人"), Some(Category::ElderlyAlone));
        assert_eq!(Category::parse("独居老人"), Some(Category::ElderlyAlone));
        assert_eq!(Category::parse("残疾人"), Some(Category::Disabled));
        assert_eq!(Category::parse("残障人员"), Some(Category::Disabled));
        assert_eq!(Category::parse("party_member"), Some(Category::PartyMember));
        assert_eq!(Category::parse("宠物"), None);
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(c));
            assert_eq!(Category::parse(c.name_zh()), Some(c));
        }
    }

    #[test]
    fn children_are_under_fourteen() {
        assert!(is_child(d(2012, 11, 30), d(2026, 11, 29)), "a day before the 14th birthday");
        assert!(!is_child(d(2012, 11, 29), d(2026, 11, 29)), "on the birthday");
        assert_eq!(age_on(d(1945, 3, 2), d(2026, 3, 1)), Some(80));
        assert_eq!(age_on(d(2030, 1, 1), d(2026, 1, 1)), None);
    }

    #[test]
    fn pregnancy_ends_after_the_grace_period() {
        let due = d(2026, 10, 1);
        assert!(pregnancy_active(due, d(2026, 11, 12)));
        assert!(!pregnancy_active(due, d(2026, 11, 13)));
    }

    #[test]
    fn residence_and_names() {
        assert_eq!(Residence::parse("户在人不在"), Some(Residence::RegisteredAbsent));
        assert_eq!(Residence::parse("tenant"), Some(Residence::Tenant));
        assert_eq!(validate_person_name(" 阿依古丽·买买提 ").unwrap(), "阿依古丽·买买提");
        assert!(validate_person_name("张三3").is_err());
        assert!(validate_person_name("").is_err());
    }
}

/// Surnames read differently from the character's everyday reading.
const SURNAMES: &[(&str, &str)] = &[
    ("尉迟", "yuchi"),
    ("万俟", "moqi"),
    ("曾", "zeng"),
    ("单", "shan"),
    ("解", "xie"),
    ("仇", "qiu"),
    ("区", "ou"),
    ("朴", "piao"),
    ("查", "zha"),
    ("盖", "ge"),
    ("覃", "qin"),
    ("乐", "yue"),
    ("缪", "miao"),
    ("翟", "zhai"),
    ("秘", "bi"),
    ("种", "chong"),
    ("繁", "po"),
    ("长", "chang"),
    ("员", "yun"),
    ("那", "na"),
    ("柏", "bai"),
    ("任", "ren"),
    ("沈", "shen"),
    ("华", "hua"),
];

/// The English for the relations to the head of household rosters use;
/// `None` for anything else, which stays as typed.
pub fn relation_en(zh: &str) -> Option<&'static str> {
    Some(match zh.trim() {
        "户主" | "本人" => "Head of household",
        "配偶" | "妻" | "夫" | "妻子" | "丈夫" => "Spouse",
        "子" | "儿子" | "长子" | "次子" => "Son",
        "女" | "女儿" | "长女" | "次女" => "Daughter",
        "子女" => "Child",
        "父亲" | "父" => "Father",
        "母亲" | "母" => "Mother",
        "孙子" => "Grandson",
        "孙女" => "Granddaughter",
        "儿媳" => "Daughter-in-law",
        "女婿" => "Son-in-law",
        "兄弟" | "兄" | "弟" => "Brother",
        "姐妹" | "姐" | "妹" => "Sister",
        "租户" => "Tenant",
        "其他" => "Other",
        _ => return None,
    })
}

/// A name in pinyin, whole (`cuixiaohong`) and by initials (`cxh`), for
/// search. The surname takes its surname reading.
pub fn name_pinyin(name: &str) -> (String, String) {
    use pinyin::ToPinyin;
    let (mut full, mut initials) = (String::new(), String::new());
    let mut rest = name;
    if let Some((s, py)) = SURNAMES.iter().find(|(s, _)| name.starts_with(s)) {
        full.push_str(py);
        // one initial per character of the surname
        let n = s.chars().count();
        if n == 1 {
            initials.push_str(&py[..1]);
        } else {
            let first = s.chars().next().map(|c| c.to_pinyin().map(|p| p.first_letter()).unwrap_or("")).unwrap_or("");
            let second = s.chars().nth(1).map(|c| c.to_pinyin().map(|p| p.first_letter()).unwrap_or("")).unwrap_or("");
            initials.push_str(first);
            initials.push_str(second);
        }
        rest = &name[s.len()..];
    }
    for c in rest.chars() {
        match c.to_pinyin() {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                full.push(c.to_ascii_lowercase());
                initials.push(c.to_ascii_lowercase());
            }
            None => {}
        }
    }
    (full, initials)
}

#[cfg(test)]
mod pinyin_tests {
    use super::name_pinyin;

    #[test]
    fn names_in_pinyin() {
        assert_eq!(name_pinyin("崔晓红"), ("cuixiaohong".into(), "cxh".into()));
        assert_eq!(name_pinyin("曾国藩"), ("zengguofan".into(), "zgf".into()));
        assert_eq!(name_pinyin("单田芳"), ("shantianfang".into(), "stf".into()));
        assert_eq!(name_pinyin("解缙"), ("xiejin".into(), "xj".into()));
        assert_eq!(name_pinyin("尉迟恭").0, "yuchigong");
        assert_eq!(name_pinyin("阿依古丽·买买提").1, "aygl".to_owned() + "mmt");
    }
}
