//! yijia's types and rules. Nothing here does IO: values are validated once,
//! at the edge, and after that a `Username` or an `OrgCode` is trusted.

pub mod activity;
pub mod approval;
pub mod audit;
pub mod ballot;
pub mod broadcast;
pub mod care;
pub mod case;
pub mod device;
pub mod error;
pub mod id_number;
pub mod label;
pub mod life;
pub mod notify;
pub mod org;
pub mod password;
pub mod phone;
pub mod pledge;
pub mod points;
pub mod project;
pub mod proxy;
pub mod registry;
pub mod rights;
pub mod role;
pub mod roster;
pub mod shop;
pub mod station;
pub mod text;
pub mod time;
pub mod user;

pub use error::{Invalid, Msg};
pub use label::Label;
