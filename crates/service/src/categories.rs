//! Categories: the built-in ones, and those a community adds itself (失独家庭,
//! 重点青少年 …), which residents hold by the code `c<id>`.

use serde::Serialize;
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::org::OrgKind;
use yijia_domain::registry::Category;
use yijia_store::{Tx, org, residents};

use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::roles::CATEGORY_MAKERS;
use crate::roles::RESIDENT_READERS;
use crate::{Caller, Result, ServiceError, Services};

/// A category as lists, filters and forms show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryDef {
    /// `elderly_alone`, …, or `c<id>` for a community's own.
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// Follows from data (`child`); not added by hand.
    pub derived: bool,
    /// The community that made it; none for the built-in ones.
    pub community: Option<String>,
}

impl CategoryDef {
    pub fn builtin(c: Category) -> Self {
        CategoryDef {
            code: c.code().into(),
            name: c.name_zh().into(),
            name_en: c.name_en().into(),
            derived: c.derived(),
            community: None,
        }
    }

    fn custom(c: &residents::CustomCategory) -> Self {
        CategoryDef {
            code: c.code(),
            name: c.name.clone(),
            name_en: c.name.clone(),
            derived: false,
            community: Some(c.community_code.clone()),
        }
    }

    /// The built-in category, when it is one.
    pub fn category(&self) -> Option<Category> {
        self.community.is_none().then(|| Category::parse(&self.code)).flatten()
    }
}

impl Services {
    /// The built-in categories and those of the communities in your scope.
    pub async fn categories(&self, caller: &Caller) -> Result<Vec<CategoryDef>> {
        let paths = caller.scope_paths(RESIDENT_READERS);
        let mut conn = self.db.conn().await?;
        let customs = residents::customs(&mut conn, &paths).await?;
        Ok(Category::ALL.into_iter().map(CategoryDef::builtin).chain(customs.iter().map(CategoryDef::custom)).collect())
    }

    /// Adds a category for a community (secretaries and staff).
    pub async fn add_custom_category(&self, caller: &Caller, community: &str, name: &str) -> Result<CategoryDef> {
        let mut conn = self.db.conn().await?;
        let com = org::by_code(&mut conn, community.trim()).await?;
        drop(conn);
        let Some(com) = com.filter(|c| c.kind == OrgKind::Community && caller.covers(CATEGORY_MAKERS, &c.path)) else {
            return Err(ServiceError::invalid(
                "community",
                format!("找不到您可增设类别的社区「{community}」"),
                format!("no community '{community}' that you add categories to"),
            ));
        };
        let name = name.trim();
        let bad = |c: char| matches!(c, ',' | '=' | '+' | '、' | '，' | '/' | ';' | '；' | '|') || c.is_whitespace();
        if name.chars().count() < 2 || name.chars().count() > 12 || name.chars().any(bad) {
            return Err(ServiceError::invalid(
                "name",
                "类别名称为 2–12 个字,不含空格和 、,/; 等分隔符",
                "a category name has 2–12 characters, without spaces or separators",
            ));
        }
        if Category::parse(name).is_some() {
            return Err(ServiceError::Conflict(Msg::new(
                format!("「{name}」已是内置类别"),
                format!("'{name}' is a built-in category"),
            )));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let id = on_conflict(residents::insert_custom(&mut tx, com.id, name, &caller.username, now).await, || {
            Msg::new(format!("本社区已有类别「{name}」"), format!("the community has a category '{name}' already"))
        })?;
        let e = Event::ok("category_add", format!("category:c{id}"), &com.path);
        record(&mut tx, caller, now, &e.with(json!({ "name": name }))).await?;
        tx.commit().await?;
        Ok(CategoryDef {
            code: format!("c{id}"),
            name: name.into(),
            name_en: name.into(),
            derived: false,
            community: Some(com.code),
        })
    }

    /// The category a code, alias or name stands for, among the built-in
    /// ones and those of the communities on `paths`.
    pub(crate) async fn choose_category(&self, tx: &mut Tx, text: &str, paths: &[String]) -> Result<CategoryDef> {
        let text = text.trim();
        if let Some(c) = Category::parse(text) {
            return Ok(CategoryDef::builtin(c));
        }
        let customs = residents::customs(tx, paths).await?;
        customs.iter().find(|c| c.code() == text || c.name == text).map(CategoryDef::custom).ok_or_else(|| {
            ServiceError::invalid("category", format!("没有类别「{text}」"), format!("no category '{text}'"))
        })
    }
}
