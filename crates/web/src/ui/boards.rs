//! The public boards' front door: a board opened without naming its
//! community (a poster printed with the plain address) asks which one, or
//! goes to the only one; and each community's poster, to print and pin up,
//! with a QR code for each board.

use super::prelude::*;
use axum::http::{HeaderMap, header};
use yijia_service::org::PublicCommunity;

pub(super) fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/boards", Public, Scope::None, boards).get("/boards/poster", Public, Scope::None, poster)
}

#[derive(Template, WebTemplate)]
#[template(path = "boards_choose.html")]
struct ChoosePage {
    c: Chrome,
    /// The board asked for: `/boards/spending`, …; `/boards` for all.
    path: String,
    title: String,
    communities: Vec<PublicCommunity>,
}

/// Which community's board: the only one at once, else a list to choose
/// from. `None` when the request named one.
pub(crate) async fn choose(
    st: &AppState,
    lang: Lang,
    community: Option<&str>,
    path: &str,
    title: &str,
) -> Option<PageResult> {
    if community.is_some_and(|c| !c.trim().is_empty()) {
        return None;
    }
    let communities = match st.svc.public_communities().await.page(lang) {
        Ok(c) => c,
        Err(e) => return Some(Err(e)),
    };
    if let [only] = communities.as_slice() {
        return Some(Ok(Redirect::to(&format!("{path}?community={}", only.code)).into_response()));
    }
    let page =
        ChoosePage { c: Chrome::anonymous(lang, path), path: path.to_owned(), title: title.to_owned(), communities };
    Some(Ok(page.into_response()))
}

#[derive(Deserialize)]
struct Params {
    community: Option<String>,
}

/// Every community's boards, to choose from.
async fn boards(State(st): State<AppState>, lang: Lang) -> PageResult {
    let communities = st.svc.public_communities().await.page(lang)?;
    let title = lang.t("社区公开栏", "Community boards").to_owned();
    Ok(ChoosePage { c: Chrome::anonymous(lang, "/boards"), path: "/boards".to_owned(), title, communities }
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "boards_poster.html")]
struct PosterPage {
    c: Chrome,
    community: PublicCommunity,
    /// (title, what it shows, address, QR code as SVG)
    boards: Vec<(&'static str, &'static str, String, String)>,
}

/// A community's poster: its name and a QR code for each public board.
async fn poster(State(st): State<AppState>, lang: Lang, headers: HeaderMap, Query(q): Query<Params>) -> PageResult {
    let title = lang.t("打印二维码海报", "Print a QR poster");
    if let Some(r) = choose(&st, lang, q.community.as_deref(), "/boards/poster", title).await {
        return r;
    }
    let code = q.community.unwrap_or_default();
    let communities = st.svc.public_communities().await.page(lang)?;
    let Some(community) = communities.into_iter().find(|c| c.code == code.trim()) else {
        return Err(yijia_service::ServiceError::NotFound).page(lang);
    };
    // the phone that scans it reaches the server by the address this page came from
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if st.cfg.tls { "https" } else { "http" };
    let mut boards = Vec::new();
    for (path, name, what) in [
        (
            "/boards/spending",
            lang.t("维修资金公开", "Repair money"),
            lang.t("每一笔钱从哪来、花在哪", "Where each yuan came from and went"),
        ),
        (
            "/boards/pledges",
            lang.t("承诺事项", "Public pledges"),
            lang.t("社区承诺了什么、办到了没有", "What the community promised, and whether it kept it"),
        ),
        ("/honours", lang.t("志愿光荣榜", "Volunteer honours"), lang.t("上个月的志愿者", "Last month's volunteers")),
    ] {
        let url = format!("{scheme}://{host}{path}?community={}", community.code);
        let svg = super::qr_svg(&url).page(lang)?;
        boards.push((name, what, url, svg));
    }
    let here = format!("/boards/poster?community={}", community.code);
    Ok(PosterPage { c: Chrome::anonymous(lang, &here), community, boards }.into_response())
}
