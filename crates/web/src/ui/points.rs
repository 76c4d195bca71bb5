//! Volunteering and the love-points shop on a phone: the resident's own
//! points, activities and shop; the organiser's activities with check-in
//! and confirmation; the clerk's counter.

use super::prelude::*;
use axum::http::{HeaderMap, StatusCode, header};
use yijia_service::activities::{ActivityInput, ActivityView, SignupInput};
use yijia_service::duty::{PostInput, PostView, ShiftInput};
use yijia_service::honours::{HonourConsent, HonoursBoard};
use yijia_service::points::Statement;
use yijia_service::roles::{ORGANISERS, POINT_KEEPERS, POINT_READERS, RESIDENTS, SHOP_CLERKS};
use yijia_service::shop::{CancelInput, ItemInput, ItemView, MyRedeemInput, RedemptionView, ShopReport, StockInput};
use yijia_service::{Caller, ServiceError};

use super::form::{Flash, again, local_time, short_time, whole};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/me/points", Roles(RESIDENTS), Scope::Own, my_points)
        .get("/me/activities", Roles(RESIDENTS), Scope::Own, my_activities)
        .post("/me/activities/{id}/signup", Roles(RESIDENTS), Scope::Own, my_signup)
        .post("/me/activities/{id}/cancel", Roles(RESIDENTS), Scope::Own, my_cancel)
        .get("/me/shop", Roles(RESIDENTS), Scope::Own, my_shop)
        .post("/me/shop", Roles(RESIDENTS), Scope::Own, my_redeem)
        .get("/activities", Roles(POINT_READERS), Scope::Grants, activities)
        .post("/activities", Roles(ORGANISERS), Scope::Named, activity_create)
        .get("/activities/{id}", Roles(POINT_READERS), Scope::Object, activity)
        .post("/activities/{id}/signups", Roles(ORGANISERS), Scope::Object, activity_signup)
        .post("/activities/{id}/check", Roles(ORGANISERS), Scope::Object, activity_check)
        .post("/activities/{id}/confirm", Roles(POINT_KEEPERS), Scope::Object, activity_confirm)
        .get("/shop", Roles(SHOP_CLERKS), Scope::Grants, shop)
        .post("/shop/redemptions/{id}/handover", Roles(SHOP_CLERKS), Scope::Object, shop_hand_over)
        .post("/shop/redemptions/{id}/cancel", Roles(SHOP_CLERKS), Scope::Object, shop_cancel)
        .post("/shop/items", Roles(SHOP_CLERKS), Scope::Named, shop_add_item)
        .post("/shop/items/{id}/stock", Roles(SHOP_CLERKS), Scope::Object, shop_stock)
        .upload("/shop/items/{id}/photo", crate::PHOTO_BODY_LIMIT, Roles(SHOP_CLERKS), Scope::Object, shop_photo)
        .get("/duty", Roles(POINT_READERS), Scope::Grants, duty)
        .post("/duty/posts", Roles(ORGANISERS), Scope::Named, duty_add_post)
        .post("/duty/posts/{id}/shifts", Roles(ORGANISERS), Scope::Object, duty_add_shift)
        .get("/activities/{id}/code", Roles(ORGANISERS), Scope::Object, check_code)
        .get("/me/check", Roles(RESIDENTS), Scope::Own, my_check_page)
        .post("/me/check", Roles(RESIDENTS), Scope::Own, my_check)
        .get("/me/honours", Roles(RESIDENTS), Scope::Own, my_honours)
        .post("/me/honours", Roles(RESIDENTS), Scope::Own, my_honours_consent)
        .get("/honours", Public, Scope::None, honours)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    month: Option<String>,
    ok: Option<String>,
    code: Option<String>,
    redeemed: Option<i64>,
}

fn fresh_id() -> String {
    yijia_service::visits::new_client_id("shop")
}

// ---- the resident's points -------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_points.html")]
struct MyPointsPage {
    c: Chrome,
    st: Statement,
    before: String,
    after: Option<String>,
}

fn month_step(month: &str, by: i32) -> String {
    let (y, m) = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<i32>().ok()?)))
        .unwrap_or((2026, 1));
    let n = y * 12 + (m - 1) + by;
    format!("{:04}-{:02}", n.div_euclid(12), n.rem_euclid(12) + 1)
}

async fn my_points(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let month = q.month.as_deref().filter(|m| !m.is_empty());
    let s = st.svc.my_statement(&c, month).await.page(lang)?;
    // a link to the next month, up to this one
    let this_month = match month {
        Some(_) => st.svc.my_statement(&c, None).await.page(lang)?.month,
        None => s.month.clone(),
    };
    let after = (s.month < this_month).then(|| month_step(&s.month, 1));
    let page = MyPointsPage {
        c: Chrome::for_caller(lang, &c, "/me/points", "/me/points"),
        before: month_step(&s.month, -1),
        after,
        st: s,
    };
    Ok(page.into_response())
}

// ---- the resident's activities ---------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_activities.html")]
struct MyActivitiesPage {
    c: Chrome,
    list: Vec<ActivityView>,
    flash: Flash,
}

impl MyActivitiesPage {
    fn mine<'a>(&self, a: &'a ActivityView) -> Option<&'a yijia_service::activities::SignupView> {
        a.signups.iter().find(|s| s.status != yijia_domain::activity::SignupStatus::Cancelled)
    }

    fn full(&self, a: &ActivityView) -> bool {
        i64::try_from(a.signed_up).unwrap_or(i64::MAX) >= a.capacity
    }
}

async fn render_my_activities(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let list = st.svc.my_activities(c).await.page(lang)?;
    let status = flash.status();
    let page = MyActivitiesPage { c: Chrome::for_caller(lang, c, "/me/activities", "/me/activities"), list, flash };
    Ok((status, page).into_response())
}

async fn my_activities(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.ok.map(|_| lang.t("已保存。", "Saved.").to_owned());
    render_my_activities(&st, &c, lang, Flash { ok, error: None }).await
}

async fn my_signup(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    match st.svc.sign_me_up(&c, id).await {
        Ok(_) => Ok(Redirect::to("/me/activities?ok=1").into_response()),
        Err(e) => render_my_activities(&st, &c, lang, again(e, lang)?).await,
    }
}

async fn my_cancel(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    match st.svc.cancel_my_signup(&c, id).await {
        Ok(_) => Ok(Redirect::to("/me/activities?ok=1").into_response()),
        Err(e) => render_my_activities(&st, &c, lang, again(e, lang)?).await,
    }
}

// ---- the resident's shop ---------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_shop.html")]
struct MyShopPage {
    c: Chrome,
    balance: i64,
    items: Vec<ItemView>,
    mine: Vec<RedemptionView>,
    just: Option<RedemptionView>,
    flash: Flash,
}

impl MyShopPage {
    fn fresh_id(&self) -> String {
        fresh_id()
    }
}

async fn render_my_shop(st: &AppState, c: &Caller, lang: Lang, just: Option<i64>, flash: Flash) -> PageResult {
    let balance = st.svc.my_statement(c, None).await.page(lang)?.account.balance;
    let items = st.svc.my_shop_items(c).await.page(lang)?;
    let mine = st.svc.my_redemptions(c).await.page(lang)?;
    let just = just.and_then(|id| {
        mine.iter().find(|r| r.id == id && r.status == yijia_domain::shop::RedemptionStatus::Waiting).cloned()
    });
    let status = flash.status();
    let page = MyShopPage { c: Chrome::for_caller(lang, c, "/me/shop", "/me/shop"), balance, items, mine, just, flash };
    Ok((status, page).into_response())
}

async fn my_shop(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    render_my_shop(&st, &c, lang, q.redeemed, Flash::default()).await
}

#[derive(Deserialize)]
struct RedeemForm {
    client_id: String,
    item_id: i64,
}

async fn my_redeem(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<RedeemForm>) -> PageResult {
    let input = MyRedeemInput { client_id: f.client_id, item_id: f.item_id, quantity: Some(1) };
    match st.svc.redeem_mine(&c, input).await {
        Ok(r) if r.done() => {
            let id = r.redemption.map(|x| x.id).unwrap_or_default();
            Ok(Redirect::to(&format!("/me/shop?redeemed={id}")).into_response())
        }
        Ok(r) => {
            let error = if lang.en() { r.message_en } else { r.message };
            render_my_shop(&st, &c, lang, None, Flash { ok: None, error }).await
        }
        Err(e) => render_my_shop(&st, &c, lang, None, again(e, lang)?).await,
    }
}

// ---- the organiser's activities --------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "activities.html")]
struct ActivitiesPage {
    c: Chrome,
    list: Vec<ActivityView>,
    can_organise: bool,
    f: ActivityForm,
    flash: Flash,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ActivityForm {
    title: String,
    place: String,
    starts_at: String,
    ends_at: String,
    capacity: String,
    points_rule: String,
    points: String,
    description: String,
}

async fn render_activities(st: &AppState, c: &Caller, lang: Lang, f: ActivityForm, flash: Flash) -> PageResult {
    let list = st.svc.activities(c, None).await.page(lang)?;
    let status = flash.status();
    let page = ActivitiesPage {
        c: Chrome::for_caller(lang, c, "/activities", "/activities"),
        list,
        can_organise: c.has_any(ORGANISERS),
        f,
        flash,
    };
    Ok((status, page).into_response())
}

async fn activities(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let f = ActivityForm {
        capacity: "20".into(),
        points_rule: "per_hour".into(),
        points: "10".into(),
        ..Default::default()
    };
    render_activities(&st, &c, lang, f, Flash::default()).await
}

async fn activity_create(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<ActivityForm>,
) -> PageResult {
    let r = async {
        let input = ActivityInput {
            title: f.title.clone(),
            description: Some(f.description.clone()),
            place: f.place.clone(),
            starts_at: local_time(&f.starts_at),
            ends_at: local_time(&f.ends_at),
            capacity: whole("capacity", &f.capacity, lang)?,
            who_may_join: None,
            points_rule: f.points_rule.clone(),
            points: whole("points", &f.points, lang)?,
        };
        st.svc.create_activity(&c, None, input).await
    };
    match r.await {
        Ok(a) => Ok(Redirect::to(&format!("/activities/{}", a.id)).into_response()),
        Err(e) => render_activities(&st, &c, lang, f, again(e, lang)?).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "activity.html")]
struct ActivityPage {
    c: Chrome,
    a: ActivityView,
    can_organise: bool,
    can_confirm: bool,
    flash: Flash,
}

async fn render_activity(st: &AppState, c: &Caller, lang: Lang, id: i64, flash: Flash) -> PageResult {
    let a = st.svc.activity(c, id).await.page(lang)?;
    let status = flash.status();
    let page = ActivityPage {
        c: Chrome::for_caller(lang, c, "/activities", &format!("/activities/{id}")),
        can_organise: c.has_any(ORGANISERS) && a.status == yijia_domain::activity::ActivityStatus::Open,
        can_confirm: c.has_any(POINT_KEEPERS) && a.status == yijia_domain::activity::ActivityStatus::Open,
        a,
        flash,
    };
    Ok((status, page).into_response())
}

async fn activity(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    let ok = q.ok.map(|_| lang.t("已保存。", "Saved.").to_owned());
    render_activity(&st, &c, lang, id, Flash { ok, error: None }).await
}

/// The outcome of a change on the activity page: back to it, with the error if any.
async fn after_activity_change<T>(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    id: i64,
    r: Result<T, ServiceError>,
) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/activities/{id}?ok=1")).into_response()),
        Err(e) => render_activity(st, c, lang, id, again(e, lang)?).await,
    }
}

#[derive(Deserialize)]
struct SignupForm {
    resident_id: String,
}

async fn activity_signup(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<SignupForm>,
) -> PageResult {
    let r = match whole("resident_id", &f.resident_id, lang) {
        Ok(resident_id) => st.svc.sign_up(&c, id, SignupInput { resident_id }).await,
        Err(e) => Err(e),
    };
    after_activity_change(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct CheckForm {
    resident_id: i64,
    /// `in` or `out`.
    what: String,
    #[serde(default)]
    at: String,
}

async fn activity_check(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<CheckForm>,
) -> PageResult {
    let at = Some(f.at.trim()).filter(|a| !a.is_empty()).map(local_time);
    let r = st.svc.check(&c, id, f.resident_id, f.what == "out", at.as_deref()).await;
    after_activity_change(&st, &c, lang, id, r).await
}

async fn activity_confirm(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.confirm_activity(&c, id).await;
    after_activity_change(&st, &c, lang, id, r).await
}

// ---- the clerk's counter ---------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "shop.html")]
struct ShopPage {
    c: Chrome,
    code: String,
    found: Option<RedemptionView>,
    waiting: Vec<RedemptionView>,
    items: Vec<ItemView>,
    report: ShopReport,
    flash: Flash,
}

async fn render_shop(st: &AppState, c: &Caller, lang: Lang, code: &str, flash: Flash) -> PageResult {
    // a refused change is 422; a code that finds nothing is an answer like any search
    let status = flash.status();
    let mut flash = flash;
    let found = match code.trim() {
        "" => None,
        code => match st.svc.redemption_by_code(c, None, code).await {
            Ok(r) => Some(r),
            Err(ServiceError::NotFound) => {
                flash.error = Some(
                    lang.t(
                        "没有等待领取的这个取货码:请核对六位数字",
                        "No redemption waits under this code: check the six digits",
                    )
                    .to_owned(),
                );
                None
            }
            Err(e) => return Err(e).page(lang),
        },
    };
    let waiting = st.svc.waiting_redemptions(c, None).await.page(lang)?;
    let items = st.svc.shop_items(c, None).await.page(lang)?;
    let report = st.svc.shop_report(c, None, None).await.page(lang)?;
    let page = ShopPage {
        c: Chrome::for_caller(lang, c, "/shop", "/shop"),
        code: code.trim().to_owned(),
        found,
        waiting,
        items,
        report,
        flash,
    };
    Ok((status, page).into_response())
}

async fn shop(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.ok.map(|o| match o.as_str() {
        "handed_over" => lang.t("已交付。", "Handed over.").to_owned(),
        "cancelled" => lang.t("已取消,积分和库存已退回。", "Cancelled: the points and the stock went back.").to_owned(),
        _ => lang.t("已保存。", "Saved.").to_owned(),
    });
    render_shop(&st, &c, lang, q.code.as_deref().unwrap_or(""), Flash { ok, error: None }).await
}

async fn after_shop_change<T>(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    ok: &str,
    r: Result<T, ServiceError>,
) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/shop?ok={ok}")).into_response()),
        Err(e) => render_shop(st, c, lang, "", again(e, lang)?).await,
    }
}

async fn shop_hand_over(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.hand_over(&c, id).await;
    after_shop_change(&st, &c, lang, "handed_over", r).await
}

#[derive(Deserialize)]
struct ReasonForm {
    reason: String,
}

async fn shop_cancel(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> PageResult {
    let r = st.svc.cancel_redemption(&c, id, CancelInput { reason: f.reason }).await;
    after_shop_change(&st, &c, lang, "cancelled", r).await
}

#[derive(Deserialize)]
struct ItemForm {
    name: String,
    price: String,
    #[serde(default)]
    monthly_limit: String,
    #[serde(default)]
    description: String,
}

async fn shop_add_item(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<ItemForm>) -> PageResult {
    let r = async {
        let limit = match f.monthly_limit.trim() {
            "" => None,
            l => Some(whole("monthly_limit", l, lang)?),
        };
        let input = ItemInput {
            name: f.name,
            description: Some(f.description),
            price: whole("price", &f.price, lang)?,
            monthly_limit: limit,
            active: Some(true),
        };
        st.svc.add_item(&c, None, input).await
    };
    let r = r.await;
    after_shop_change(&st, &c, lang, "saved", r).await
}

#[derive(Deserialize)]
struct StockForm {
    change: String,
    reason: String,
}

async fn shop_stock(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<StockForm>,
) -> PageResult {
    let r = match whole("change", &f.change, lang) {
        Ok(change) => st.svc.change_stock(&c, id, StockInput { change, reason: f.reason }).await,
        Err(e) => Err(e),
    };
    after_shop_change(&st, &c, lang, "saved", r).await
}

async fn shop_photo(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = match crate::upload::read(form, "photo").await {
        Ok(u) => st.svc.set_item_photo(&c, id, u.files).await,
        Err((_, msg)) => Err(ServiceError::invalid("photo", msg.clone(), msg)),
    };
    after_shop_change(&st, &c, lang, "saved", r).await
}

// ---- duty posts and shifts -------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "duty.html")]
struct DutyPage {
    c: Chrome,
    posts: Vec<PostView>,
    can_organise: bool,
    flash: Flash,
}

async fn render_duty(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let posts = st.svc.duty_posts(c, None).await.page(lang)?;
    let status = flash.status();
    let page = DutyPage {
        c: Chrome::for_caller(lang, c, "/duty", "/duty"),
        posts,
        can_organise: c.has_any(ORGANISERS),
        flash,
    };
    Ok((status, page).into_response())
}

async fn duty(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.ok.map(|_| lang.t("已保存。", "Saved.").to_owned());
    render_duty(&st, &c, lang, Flash { ok, error: None }).await
}

async fn after_duty_change<T>(st: &AppState, c: &Caller, lang: Lang, r: Result<T, ServiceError>) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to("/duty?ok=1").into_response()),
        Err(e) => render_duty(st, c, lang, again(e, lang)?).await,
    }
}

async fn duty_add_post(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<PostInput>) -> PageResult {
    let r = st.svc.add_post(&c, None, f).await;
    after_duty_change(&st, &c, lang, r).await
}

#[derive(Deserialize)]
struct ShiftForm {
    starts_at: String,
    ends_at: String,
    capacity: String,
    points: String,
}

async fn duty_add_shift(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ShiftForm>,
) -> PageResult {
    let r = async {
        let input = ShiftInput {
            starts_at: local_time(&f.starts_at),
            ends_at: local_time(&f.ends_at),
            capacity: whole("capacity", &f.capacity, lang)?,
            points: whole("points", &f.points, lang)?,
        };
        st.svc.add_shift(&c, id, input).await
    };
    let r = r.await;
    after_duty_change(&st, &c, lang, r).await
}

// ---- the code residents scan at an activity --------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "check_code.html")]
struct CheckCodePage {
    c: Chrome,
    a: ActivityView,
    svg: String,
    url: String,
    valid_until: String,
}

async fn check_code(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult {
    let a = st.svc.activity(&c, id).await.page(lang)?;
    let code = st.svc.check_code(&c, id).await.page(lang)?;
    // the phone that scans it reaches the server by the address this page came from
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if st.cfg.tls { "https" } else { "http" };
    let url = format!("{scheme}://{host}{}", code.path);
    let svg = super::qr_svg(&url).page(lang)?;
    let page = CheckCodePage {
        c: Chrome::for_caller(lang, &c, "/activities", &format!("/activities/{id}/code")),
        a,
        svg,
        url,
        valid_until: short_time(&code.valid_until),
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct CheckParams {
    a: i64,
    t: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "my_check.html")]
struct MyCheckPage {
    c: Chrome,
    a: Option<ActivityView>,
    t: String,
    flash: Flash,
}

/// The page the scanned code opens: what it is about, and one button.
async fn my_check_page(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<CheckParams>,
) -> PageResult {
    let list = st.svc.my_activities(&c).await.page(lang)?;
    let a = list.into_iter().find(|a| a.id == q.a);
    let page = MyCheckPage {
        c: Chrome::for_caller(lang, &c, "/me/activities", "/me/activities"),
        a,
        t: q.t,
        flash: Flash::default(),
    };
    Ok(page.into_response())
}

async fn my_check(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<CheckParams>) -> PageResult {
    match st.svc.check_me(&c, f.a, &f.t).await {
        Ok(_) => Ok(Redirect::to("/me/activities?ok=1").into_response()),
        Err(e) => {
            let flash = again(e, lang)?;
            let a = st.svc.my_activities(&c).await.page(lang)?.into_iter().find(|a| a.id == f.a);
            let page =
                MyCheckPage { c: Chrome::for_caller(lang, &c, "/me/activities", "/me/activities"), a, t: f.t, flash };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

// ---- honours ---------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "honours.html")]
struct HonoursPage {
    c: Chrome,
    b: HonoursBoard,
    /// On the resident's own page: whether they are named.
    consent: Option<bool>,
    before: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BoardParams {
    #[serde(default)]
    community: String,
    month: Option<String>,
}

/// The public board: no login.
async fn honours(State(st): State<AppState>, lang: Lang, Query(q): Query<BoardParams>) -> PageResult {
    let title = lang.t("志愿光荣榜", "Volunteer honours");
    if let Some(r) = super::boards::choose(&st, lang, Some(q.community.as_str()), "/honours", title).await {
        return r;
    }
    let b = st.svc.honours_board(&q.community, q.month.as_deref().filter(|m| !m.is_empty())).await.page(lang)?;
    let here = format!("/honours?community={}&month={}", b.community, b.month);
    let page = HonoursPage { c: Chrome::anonymous(lang, &here), before: month_step(&b.month, -1), b, consent: None };
    Ok(page.into_response())
}

async fn my_honours(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let b = st.svc.my_honours_board(&c, q.month.as_deref().filter(|m| !m.is_empty())).await.page(lang)?;
    let consent = st.svc.my_honour_consent(&c).await.page(lang)?.public;
    let page = HonoursPage {
        c: Chrome::for_caller(lang, &c, "/me/honours", "/me/honours"),
        before: month_step(&b.month, -1),
        b,
        consent: Some(consent),
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct ConsentForm {
    public: String,
}

async fn my_honours_consent(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<ConsentForm>,
) -> PageResult {
    let input = HonourConsent { public: f.public == "yes" };
    st.svc.set_my_honour_consent(&c, input).await.page(lang)?;
    Ok(Redirect::to("/me/honours").into_response())
}
