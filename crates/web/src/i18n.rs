//! zh-CN by default, English on request: the `lang` cookie (set by the
//! switch on every page), else `Accept-Language`. 长辈模式 (large text) by
//! the `large` cookie, set by its own switch.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

/// How the reader reads: the language, and whether in 长辈模式 (large
/// text), each remembered in a cookie set by its switch on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lang {
    en: bool,
    large: bool,
}

/// Reads one cookie's value from the request.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

impl Lang {
    pub const ZH: Lang = Lang { en: false, large: false };
    pub const EN: Lang = Lang { en: true, large: false };
    /// The cookie that holds 长辈模式.
    pub const LARGE_COOKIE: &'static str = "large";

    pub fn from_parts(parts: &Parts) -> Self {
        let large = cookie(parts, Self::LARGE_COOKIE) == Some("1");
        let en = match cookie(parts, "lang") {
            Some("en") => true,
            Some("zh") => false,
            _ => {
                let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
                accept.trim_start().to_ascii_lowercase().starts_with("en")
            }
        };
        Lang { en, large }
    }

    pub fn en(self) -> bool {
        self.en
    }

    /// 长辈模式: larger text, larger targets, one column.
    pub fn large(self) -> bool {
        self.large
    }

    pub fn code(self) -> &'static str {
        if self.en { "en" } else { "zh-CN" }
    }

    /// A labelled value's name in this language.
    pub fn name(self, x: impl yijia_domain::Label) -> &'static str {
        x.name(self.en())
    }

    /// Picks the text for this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en() { en } else { zh }
    }

    /// A count with its unit: "3 票", "1 vote", "3 votes".
    pub fn count(self, n: impl std::fmt::Display, zh: &str, one: &str, many: &str) -> String {
        let n = n.to_string();
        match (self.en, n == "1") {
            (false, _) => format!("{n} {zh}"),
            (true, true) => format!("{n} {one}"),
            (true, false) => format!("{n} {many}"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_vote_many_votes() {
        assert_eq!(Lang::EN.count(1_i64, "票", "vote", "votes"), "1 vote");
        assert_eq!(Lang::EN.count(0_usize, "票", "vote", "votes"), "0 votes");
        assert_eq!(Lang::ZH.count(1_i64, "票", "vote", "votes"), "1 票");
    }
}
