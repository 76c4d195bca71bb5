//! The frame every page shares. Pages fill it for their caller (`ui::nav`);
//! the error page fills it for nobody.

use crate::i18n::Lang;

/// What every page's frame needs: language, who is logged in, the CSRF
/// token for forms, and the links this caller may follow.
pub struct Chrome {
    pub l: Lang,
    pub user: Option<String>,
    pub csrf: String,
    pub links: Vec<(&'static str, &'static str)>,
    pub active: &'static str,
    pub here: String,
    /// For a family member acting for a resident: his name and what they may do.
    pub acting: Option<(String, String)>,
}

impl Chrome {
    pub fn anonymous(l: Lang, here: &str) -> Self {
        Self { l, user: None, csrf: String::new(), links: vec![], active: "", here: here.to_owned(), acting: None }
    }
}
