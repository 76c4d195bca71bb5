//! zh-CN by default, English on request: the `lang` cookie (set by the
//! switch on every page), else `Accept-Language`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn from_parts(parts: &Parts) -> Self {
        let cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lang=").map(str::to_owned));
        match cookie.as_deref() {
            Some("en") => return Lang::En,
            Some("zh") => return Lang::Zh,
            _ => {}
        }
        let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if accept.trim_start().to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::Zh }
    }

    pub fn en(self) -> bool {
        self == Lang::En
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
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
        match self {
            Lang::Zh => format!("{n} {zh}"),
            Lang::En if n == "1" => format!("{n} {one}"),
            Lang::En => format!("{n} {many}"),
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
        assert_eq!(Lang::En.count(1_i64, "票", "vote", "votes"), "1 vote");
        assert_eq!(Lang::En.count(0_usize, "票", "vote", "votes"), "0 votes");
        assert_eq!(Lang::Zh.count(1_i64, "票", "vote", "votes"), "1 票");
    }
}
