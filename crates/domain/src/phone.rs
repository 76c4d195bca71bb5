//! Phone numbers as people write them: mobiles (`138 1234 5678`,
//! `+86 138-1234-5678`) and landlines (`0431-81234567`, `(0431)81234567`).

use std::fmt;

use crate::Invalid;
use crate::id_number::clean_digits;

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Phone {
    /// 11 digits starting 13–19.
    Mobile(String),
    /// Area code (with its 0) and local number, e.g. ("0431", "81234567");
    /// the area code is empty when none was written.
    Landline(String, String),
}

fn invalid() -> Invalid {
    Invalid::new(
        "phone",
        "电话号码无效:手机号应为 11 位(如 138 1234 5678),座机如 0431-81234567",
        "not a phone number: a mobile has 11 digits (138 1234 5678), a landline looks like 0431-81234567",
    )
}

impl Phone {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let s = clean_digits(input);
        let s = s.trim_start_matches('+');
        // area code in brackets: (0431)81234567
        let s: String =
            s.chars().map(|c| if matches!(c, '(' | ')' | '（' | '）' | '—' | '－' | '.') { '-' } else { c }).collect();
        let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(invalid());
        }
        let digits: String = parts.concat();
        let national = digits
            .strip_prefix("0086")
            .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11 && d.starts_with('1')))
            .unwrap_or(&digits);
        if national.len() == 11 && national.starts_with('1') && (b'3'..=b'9').contains(&national.as_bytes()[1]) {
            return Ok(Phone::Mobile(national.to_owned()));
        }
        let is_area = |a: &str| a.starts_with('0') && (3..=4).contains(&a.len());
        let is_local = |l: &str| (7..=8).contains(&l.len()) && !l.starts_with('0') && !l.starts_with('1');
        match parts.as_slice() {
            [area, local] if is_area(area) && is_local(local) => {
                Ok(Phone::Landline((*area).to_owned(), (*local).to_owned()))
            }
            [local] if is_local(local) => Ok(Phone::Landline(String::new(), (*local).to_owned())),
            [all] if all.starts_with('0') => {
                // area code written together with the number: 3 digits for
                // 010 and 02x, else 4
                let n = if all.starts_with("01") || all.starts_with("02") { 3 } else { 4 };
                let (area, local) = all.split_at(n.min(all.len()));
                if is_local(local) { Ok(Phone::Landline(area.to_owned(), local.to_owned())) } else { Err(invalid()) }
            }
            _ => Err(invalid()),
        }
    }

    /// The normalised form that is stored and searched: `13812345678`,
    /// `0431-81234567`, `81234567`.
    pub fn normalized(&self) -> String {
        match self {
            Phone::Mobile(m) => m.clone(),
            Phone::Landline(a, l) if a.is_empty() => l.clone(),
            Phone::Landline(a, l) => format!("{a}-{l}"),
        }
    }

    /// `138****5678`, `0431-****4567`
    pub fn masked(&self) -> String {
        match self {
            Phone::Mobile(m) => format!("{}****{}", &m[..3], &m[7..]),
            Phone::Landline(a, l) => {
                let tail = &l[l.len() - 4..];
                if a.is_empty() { format!("****{tail}") } else { format!("{a}-****{tail}") }
            }
        }
    }
}

/// Never prints the number itself.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// `text` with every mobile number in it masked (`138****5678`): a run of
/// exactly 11 digits starting with 1. For free text that may hold a login
/// name (a resident's is his mobile number), such as an audit entry.
pub fn mask_mobiles(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            let next = (i + 1..bytes.len()).find(|&j| bytes[j].is_ascii_digit()).unwrap_or(bytes.len());
            out.push_str(&text[i..next]);
            i = next;
            continue;
        }
        let end = (i..bytes.len()).find(|&j| !bytes[j].is_ascii_digit()).unwrap_or(bytes.len());
        let run = &text[i..end];
        if run.len() == 11 && run.starts_with('1') {
            out.push_str(&run[..3]);
            out.push_str("****");
            out.push_str(&run[7..]);
        } else {
            out.push_str(run);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_as_people_write_them() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "8613812345678",
            "0086-13812345678",
            "１３８１２３４５６７８",
            "'13812345678",
        ] {
            assert_eq!(Phone::parse(s).unwrap(), Phone::Mobile("13812345678".into()), "{s}");
        }
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
        assert!(Phone::parse("12812345678").is_err(), "no mobile starts 12");
        assert!(Phone::parse("1381234567").is_err(), "ten digits");
    }

    #[test]
    fn landlines() {
        for s in ["0431-81234567", "0431 81234567", "(0431)81234567", "（0431）81234567", "043181234567"] {
            assert_eq!(Phone::parse(s).unwrap().normalized(), "0431-81234567", "{s}");
        }
        assert_eq!(Phone::parse("010-12345678").unwrap_err().field, "phone", "a local number does not start with 1");
        assert_eq!(Phone::parse("01062345678").unwrap().normalized(), "010-62345678");
        assert_eq!(Phone::parse("6123456").unwrap().normalized(), "6123456");
        assert_eq!(Phone::parse("0431-81234567").unwrap().masked(), "0431-****4567");
        assert!(Phone::parse("call me").is_err());
        assert!(Phone::parse("").is_err());
        assert!(!format!("{:?}", Phone::parse("13812345678").unwrap()).contains("1234"));
    }

    #[test]
    fn mobiles_in_text_are_masked_and_nothing_else() {
        assert_eq!(mask_mobiles("user:13812345678"), "user:138****5678");
        assert_eq!(
            mask_mobiles("{\"username\":\"13812345678\",\"n\":1764460800000}"),
            "{\"username\":\"138****5678\",\"n\":1764460800000}"
        );
        assert_eq!(mask_mobiles("worker1 23812345678 1381234567"), "worker1 23812345678 1381234567");
        assert_eq!(mask_mobiles("张阿姨13812345678号"), "张阿姨138****5678号");
        assert_eq!(mask_mobiles(""), "");
    }
}
