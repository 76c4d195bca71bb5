//! How pages word what they show: names in the page's language, times as
//! people read them, a QR code.

use yijia_domain::Label;
use yijia_domain::case::Timeliness;
use yijia_service::ServiceError;
use yijia_service::cases::CaseBox;

use crate::i18n::Lang;

/// Names in the page's language.
pub(crate) struct Names(pub Lang);

impl Names {
    /// A kind, state, priority, action, channel or timeline line by name.
    pub fn of<L: Label>(&self, x: &L) -> &'static str {
        self.0.name(*x)
    }
    pub fn case_box(&self, b: &CaseBox) -> &'static str {
        if self.0.en() { b.name_en() } else { b.name_zh() }
    }
    /// A deadline badge: (css class, text).
    pub fn timeliness(&self, t: &Option<Timeliness>) -> Option<(&'static str, &'static str)> {
        match t {
            Some(Timeliness::Near) => Some(("warn", self.0.t("临期", "near deadline"))),
            Some(Timeliness::Overdue) => Some(("late", self.0.t("超期", "overdue"))),
            _ => None,
        }
    }
    /// An RFC 3339 time as people read it: `2026-11-29 14:05`.
    pub fn time(&self, t: &str) -> String {
        t.get(..16).map(|s| s.replace('T', " ")).unwrap_or_default()
    }
}

/// A QR code of `text` as inline SVG, at least 240 px across.
pub(crate) fn qr_svg(text: &str) -> Result<String, ServiceError> {
    qrcode::QrCode::new(text.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build())
        .map_err(|e| ServiceError::caused("QR code", e))
}

/// A relation to the head of household in the reader's language: the
/// common ones have English, anything else stays as typed.
pub(crate) fn relation(english: bool, zh: &str) -> String {
    match yijia_domain::registry::relation_en(zh) {
        Some(en) if english => en.to_owned(),
        _ => zh.to_owned(),
    }
}
