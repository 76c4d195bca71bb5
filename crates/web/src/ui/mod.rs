//! Server-rendered pages (askama, compiled in), mobile first, zh-CN with an
//! English switch. Forms post with a CSRF field; htmx swaps table rows.
//!
//! One module per capability, each with its own `routes`; `nav` is the menu
//! and the home page, `form` reads what forms send, `show` words what pages
//! show, `prelude` is what every page module imports. Errors become pages
//! in `crate::error`, the frame is `crate::chrome`.

mod account;
mod approvals;
mod audit;
mod boards;
mod broadcasts;
mod cases;
mod dashboard;
mod data_copy;
mod form;
mod login;
mod map;
mod moves;
mod nav;
mod notices;
mod notify;
mod org;
mod pledges;
mod points;
mod prelude;
mod projects;
mod proxies;
pub(crate) use proxies::proxy_input;
mod residents;
mod rights;
mod show;
mod stations;
mod users;
mod visits;

pub(crate) use crate::error::{PageError, PageResult, fixable, fixable_field};
pub(crate) use nav::{choose_community, must_choose_community};
pub(crate) use show::qr_svg;
pub(crate) use users::user_row_or_list;

use crate::policy::Routes;

pub fn routes(r: Routes) -> Routes {
    let r = login::routes(r);
    let r = nav::routes(r);
    let r = org::routes(r);
    let r = users::routes(r);
    let r = audit::routes(r);
    let r = residents::routes(r);
    let r = data_copy::routes(r);
    let r = rights::routes(r);
    let r = moves::routes(r);
    let r = cases::routes(r);
    let r = visits::routes(r);
    let r = points::routes(r);
    let r = stations::routes(r);
    let r = dashboard::routes(r);
    let r = notices::routes(r);
    let r = projects::routes(r);
    let r = proxies::routes(r);
    let r = pledges::routes(r);
    let r = boards::routes(r);
    let r = approvals::routes(r);
    let r = notify::routes(r);
    let r = broadcasts::routes(r);
    account::routes(r)
}
