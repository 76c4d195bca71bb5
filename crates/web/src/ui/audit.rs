//! The audit log: a page of entries, and the export for an auditor.

use super::prelude::*;
use yijia_service::PageReq;
use yijia_service::roles::AUDIT_READERS;

use super::form::PageQuery;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/audit", Roles(AUDIT_READERS), Scope::Grants, audit_page).get(
        "/audit/export",
        Roles(AUDIT_READERS),
        Scope::Grants,
        audit_export,
    )
}

// ---- audit -----------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<yijia_service::audit::EntryView>,
    total: i64,
    page: i64,
    pages: i64,
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct SpanQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn audit_export(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<SpanQuery>) -> PageResult {
    let (from, to) = (q.from.unwrap_or_default(), q.to.unwrap_or_default());
    let (file, csv) = st.svc.audit_export(&c, &from, &to).await.page(lang)?;
    Ok(crate::download::attachment("text/csv; charset=utf-8", &file, csv))
}

async fn audit_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<PageQuery>) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let req = PageReq::new(Some(page), Some(50)).page(lang)?;
    let p = st.svc.audit_list(&c, None, req).await.page(lang)?;
    let mut entries = p.items;
    for e in &mut entries {
        // "2026-11-29T21:47:00+08:00" → "2026-11-29 21:47:00"
        e.at = e.at.replace('T', " ").trim_end_matches("+08:00").to_owned();
    }
    let pages = ((p.total + 49) / 50).max(1);
    // the export's span: the last six months, as the law keeps them
    let today = yijia_domain::time::to_local(st.svc.now()).date_naive();
    let since = today.checked_sub_months(chrono::Months::new(6)).unwrap_or(today);
    let (from, to) = (since.to_string(), today.to_string());
    Ok(AuditPage {
        c: Chrome::for_caller(lang, &c, "/audit", "/audit"),
        entries,
        total: p.total,
        page,
        pages,
        from,
        to,
    }
    .into_response())
}
