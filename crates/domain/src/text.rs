//! Orders people read lists in: numbers in names by their value (8号楼
//! before 10号楼, 2单元 before 11单元) and Chinese names by pinyin (丁 ding
//! before 于 yu), not by code point.

use std::cmp::Ordering;

/// Compares two names with the numbers in them taken as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = take_number(&mut x);
                let m = take_number(&mut y);
                // by value, then the shorter spelling (7 before 07)
                match n.trim_start_matches('0').len().cmp(&m.trim_start_matches('0').len()) {
                    Ordering::Equal => {}
                    o => return o,
                }
                match n.trim_start_matches('0').cmp(m.trim_start_matches('0')).then(n.len().cmp(&m.len())) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            (Some(c), Some(d)) => {
                match pinyin_of(c).cmp(&pinyin_of(d)).then(c.cmp(&d)) {
                    Ordering::Equal => {}
                    o => return o,
                }
                x.next();
                y.next();
            }
        }
    }
}

fn take_number(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut s = String::new();
    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
        s.push(c);
        it.next();
    }
    s
}

/// A character's sort key: its pinyin with tone marks taken off for a Han
/// character (so that 丁 ding comes before 于 yu), else itself.
fn pinyin_of(c: char) -> String {
    use pinyin::ToPinyin;
    match c.to_pinyin() {
        Some(p) => p.plain().to_owned(),
        None => c.to_lowercase().collect(),
    }
}

/// Compares names of people by pinyin (surnames as surnames read, 曾 zeng,
/// 单 shan), then by the characters themselves.
pub fn name_cmp(a: &str, b: &str) -> Ordering {
    let (pa, _) = crate::registry::name_pinyin(a);
    let (pb, _) = crate::registry::name_pinyin(b);
    pa.cmp(&pb).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>, f: fn(&str, &str) -> Ordering) -> Vec<&str> {
        v.sort_by(|a, b| f(a, b));
        v
    }

    #[test]
    fn numbers_sort_by_value() {
        assert_eq!(sorted(vec!["10号楼", "8号楼", "2号楼"], natural_cmp), ["2号楼", "8号楼", "10号楼"]);
        assert_eq!(sorted(vec!["1102", "302", "1101"], natural_cmp), ["302", "1101", "1102"]);
        assert_eq!(sorted(vec!["丁香花园三期", "丁香花园二期", "阳光小区"], natural_cmp)[2], "阳光小区");
        assert_eq!(natural_cmp("2单元", "2单元"), Ordering::Equal);
        assert_eq!(natural_cmp("", "1"), Ordering::Less);
    }

    #[test]
    fn names_sort_by_pinyin() {
        assert_eq!(sorted(vec!["于敏", "丁红", "曾志", "安宁"], name_cmp), ["安宁", "丁红", "于敏", "曾志"]);
    }
}
