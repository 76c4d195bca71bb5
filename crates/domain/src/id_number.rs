//! Resident identity card numbers (公民身份号码), GB 11643-1999.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::Invalid;

crate::labelled! {
    stored in "residents.sex";
    pub enum Sex {
        Male = ("male", "男", "Male"),
        Female = ("female", "女", "Female"),
    }
}

impl Sex {
    /// 男 / 女 / M / F / male / female, as rosters write it.
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim().to_lowercase().as_str() {
            "男" | "m" | "male" | "1" => Some(Sex::Male),
            "女" | "f" | "female" | "2" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// An 18-character ID number with a valid check digit and birth date. The
/// plain value is personal data: show it through [`IdNumber::masked`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    char::from(CHECK[(sum % 11) as usize])
}

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Invalid {
    Invalid::new("id_number", zh, en)
}

/// Removes what people type around a number: spaces, a leading quote
/// (Excel's "text" marker), full-width digits and letters.
pub fn clean_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            'ｘ' | 'Ｘ' => Some('X'),
            c if c.is_whitespace() || matches!(c, '\'' | '‘' | '’' | '`' | '"' | '\u{200b}') => None,
            c => Some(c.to_ascii_uppercase()),
        })
        .collect()
}

impl IdNumber {
    /// Accepts 18 characters (a trailing `x` is upper-cased) or a legacy
    /// 15-digit number, which is converted to 18.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let s = clean_digits(input);
        let bytes = s.as_bytes();
        let s = match bytes.len() {
            18 => {
                if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
                    return Err(invalid(
                        "身份证号只能由数字和末位的 X 组成",
                        "an ID number has digits only, and possibly an X at the end",
                    ));
                }
                let expected = check_char(&bytes[..17]);
                if char::from(bytes[17]) != expected {
                    return Err(invalid(
                        format!("身份证号校验位错误(末位应为 {expected}),请核对号码"),
                        format!(
                            "the check digit is wrong (the last character should be {expected}); please check the number"
                        ),
                    ));
                }
                s
            }
            15 => {
                if !bytes.iter().all(u8::is_ascii_digit) {
                    return Err(invalid("15 位身份证号只能由数字组成", "a 15-digit ID number has digits only"));
                }
                let mut first17 = String::with_capacity(18);
                first17.push_str(&s[..6]);
                first17.push_str("19");
                first17.push_str(&s[6..]);
                let c = check_char(first17.as_bytes());
                first17.push(c);
                first17
            }
            n => {
                return Err(invalid(
                    format!("身份证号应为 18 位(或旧式 15 位),这里是 {n} 位"),
                    format!("an ID number has 18 characters (or 15 in the old form), not {n}"),
                ));
            }
        };
        if s.as_bytes()[0] == b'0' {
            return Err(invalid("身份证号的地区码无效", "the area code of the ID number is invalid"));
        }
        let id = IdNumber(s);
        if id.birth_date().is_none() {
            return Err(invalid("身份证号中的出生日期无效", "the birth date inside the ID number is not a real date"));
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `220182********1234`
    pub fn masked(&self) -> String {
        mask_text(&self.0)
    }

    pub fn area_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        let y = self.0[6..10].parse().ok()?;
        let m = self.0[10..12].parse().ok()?;
        let d = self.0[12..14].parse().ok()?;
        NaiveDate::from_ymd_opt(y, m, d).filter(|d| d.year() >= 1880)
    }

    /// The 17th digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// Builds a valid number from its parts (for generated demo data).
    pub fn from_parts(area: &str, birth: NaiveDate, seq: u16, sex: Sex) -> Option<Self> {
        if area.len() != 6 || !area.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut seq = seq % 1000;
        let odd = seq % 2 == 1;
        if odd != (sex == Sex::Male) {
            seq = if seq == 999 { 998 } else { seq + 1 };
        }
        let mut s = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
        let c = check_char(s.as_bytes());
        s.push(c);
        Self::parse(&s).ok()
    }
}

/// Never prints the number itself.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// A stated sex or birth date that contradicts the ID number: flagged for a
/// person to look at, never silently "fixed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Sex { stated: Sex, from_id: Sex },
    BirthDate { stated: NaiveDate, from_id: NaiveDate },
}

impl Mismatch {
    pub fn message(&self) -> crate::Msg {
        match self {
            Mismatch::Sex { stated, from_id } => crate::Msg::new(
                format!("登记性别为「{}」,与身份证号(「{}」)不符", stated.name_zh(), from_id.name_zh()),
                format!("the stated sex ({stated:?}) contradicts the ID number ({from_id:?})"),
            ),
            Mismatch::BirthDate { stated, from_id } => crate::Msg::new(
                format!("登记出生日期 {stated} 与身份证号中的 {from_id} 不符"),
                format!("the stated birth date {stated} contradicts the ID number's {from_id}"),
            ),
        }
    }
}

impl IdNumber {
    pub fn mismatches(&self, sex: Option<Sex>, birth: Option<NaiveDate>) -> Vec<Mismatch> {
        let mut v = Vec::new();
        if let Some(s) = sex
            && s != self.sex()
        {
            v.push(Mismatch::Sex { stated: s, from_id: self.sex() });
        }
        if let (Some(b), Some(from_id)) = (birth, self.birth_date())
            && b != from_id
        {
            v.push(Mismatch::BirthDate { stated: b, from_id });
        }
        v
    }
}

/// Any text typed as an ID number, valid or not, masked the same way: the
/// first six and the last four characters kept (a bad row of a roster is
/// shown to the importer without the whole number).
pub fn mask_text(s: &str) -> String {
    let chars: Vec<char> = clean_digits(s).chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 12 => format!(
            "{}{}{}",
            chars[..6].iter().collect::<String>(),
            "*".repeat(n - 10),
            chars[n - 4..].iter().collect::<String>()
        ),
        n => format!("{}{}", chars[0], "*".repeat(n - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_masks_like_a_number() {
        assert_eq!(mask_text("220182199001011234"), "220182********1234");
        assert_eq!(mask_text(" 22018219900101123 "), "220182*******1123", "one digit short: still masked");
        assert_eq!(mask_text("12345"), "1****");
        // a cell Excel keeps as text: the quote is no digit to show
        assert_eq!(mask_text("'220104199001010796"), "220104********0796");
        assert_eq!(mask_text(""), "");
    }

    // 11010519491231002X is the standard's own example.
    const EXAMPLE: &str = "11010519491231002X";

    #[test]
    fn the_standards_example() {
        let id = IdNumber::parse(EXAMPLE).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn cleans_what_people_type() {
        for s in [
            "11010519491231002x",
            " 110105 19491231 002X ",
            "'11010519491231002X",
            "１１０１０５１９４９１２３１００２ｘ",
        ] {
            assert_eq!(IdNumber::parse(s).unwrap().as_str(), EXAMPLE, "{s:?}");
        }
    }

    #[test]
    fn refuses_wrong_check_digits_and_dates() {
        let e = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(e.field, "id_number");
        assert!(e.msg.zh.contains("校验位") && e.msg.en.contains("X"), "{e:?}");
        // a valid check digit over an impossible date
        let mut s = "22018219450230001".to_owned();
        s.push(check_char(s.as_bytes()));
        assert!(IdNumber::parse(&s).unwrap_err().msg.en.contains("birth date"));
        assert!(IdNumber::parse("1234").is_err());
        assert!(IdNumber::parse("11010519491231002Y").is_err());
    }

    #[test]
    fn converts_legacy_fifteen_digit_numbers() {
        // 15 digits: area, YYMMDD, sequence
        let id = IdNumber::parse("220182450302123").unwrap();
        assert_eq!(id.as_str().len(), 18);
        assert!(id.as_str().starts_with("22018219450302123"));
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1945, 3, 2));
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(IdNumber::parse(id.as_str()).unwrap(), id, "the converted number is valid");
    }

    #[test]
    fn flags_contradictions() {
        let id = IdNumber::parse(EXAMPLE).unwrap();
        assert!(id.mismatches(Some(Sex::Female), NaiveDate::from_ymd_opt(1949, 12, 31)).is_empty());
        let m = id.mismatches(Some(Sex::Male), NaiveDate::from_ymd_opt(1949, 12, 30));
        assert_eq!(m.len(), 2);
        assert!(m[0].message().zh.contains("性别"));
    }

    #[test]
    fn builds_valid_numbers_from_parts() {
        let b = NaiveDate::from_ymd_opt(1938, 5, 17).unwrap();
        for (seq, sex) in [(0, Sex::Male), (1, Sex::Male), (998, Sex::Female), (999, Sex::Female)] {
            let id = IdNumber::from_parts("220182", b, seq, sex).unwrap();
            assert_eq!((id.sex(), id.birth_date()), (sex, Some(b)));
            assert_eq!(id.area_code(), "220182");
        }
    }
}
