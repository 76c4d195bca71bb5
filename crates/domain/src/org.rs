//! The org tree: subdistrict → community → grid, under one root that stands
//! for the whole deployment (where admins hold their grant).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::Invalid;

crate::labelled! {
    stored in "org_nodes.kind";
    pub enum OrgKind {
        Root = ("root", "全域", "Deployment"),
        Subdistrict = ("subdistrict", "街道", "Subdistrict"),
        Community = ("community", "社区", "Community"),
        Grid = ("grid", "网格", "Grid"),
    }
}

impl OrgKind {
    /// The kind a node of this kind must hang under.
    pub fn parent_kind(self) -> Option<OrgKind> {
        match self {
            OrgKind::Root => None,
            OrgKind::Subdistrict => Some(OrgKind::Root),
            OrgKind::Community => Some(OrgKind::Subdistrict),
            OrgKind::Grid => Some(OrgKind::Community),
        }
    }
}

impl FromStr for OrgKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::from_code(s).ok_or_else(|| {
            Invalid::new(
                "kind",
                format!("未知的组织类型「{s}」,可选:subdistrict, community, grid"),
                format!("unknown org kind '{s}', expected subdistrict, community or grid"),
            )
        })
    }
}

/// A stable org code such as `zhengyang`, `chengnan` or `chengnan-g01`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgCode(String);

pub const ROOT_CODE: &str = "root";

impl OrgCode {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let ok_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let first_ok = s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !(2..=63).contains(&s.len()) || !ok_chars || !first_ok || s.ends_with('-') {
            return Err(Invalid::new(
                "code",
                format!("编码「{s}」无效:须为 2–63 位小写字母、数字或连字符,且以字母或数字开头结尾(如 chengnan-g01)"),
                format!(
                    "code '{s}' is invalid: 2–63 lowercase letters, digits or hyphens, starting and ending with a letter or digit (e.g. chengnan-g01)"
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn root() -> Self {
        Self(ROOT_CODE.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrgCode> for String {
    fn from(c: OrgCode) -> String {
        c.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A node's display name (Chinese), 1 to 64 characters.
pub fn validate_org_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "name",
            "名称须为 1–64 个字符,不含控制字符",
            "name must be 1–64 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

/// The materialised path of a node: `/root/zhengyang/chengnan/`. A grant on
/// a node covers every node whose path starts with the grant node's path.
pub fn child_path(parent_path: &str, code: &OrgCode) -> String {
    format!("{parent_path}{code}/")
}

pub fn path_covers(grant_path: &str, node_path: &str) -> bool {
    node_path.starts_with(grant_path)
}

/// A grid boundary: a GeoJSON Polygon or MultiPolygon (bare geometry, or a
/// Feature holding one), in WGS84 longitude/latitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    geometry: geo::MultiPolygon<f64>,
    json: String,
}

/// The most positions a boundary holds: a grid drawn by hand has dozens.
pub const MAX_BOUNDARY_POSITIONS: usize = 10_000;

impl Boundary {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let bad = |why_zh: &str, why_en: &str| {
            Invalid::new(
                "boundary",
                format!("边界不是有效的 GeoJSON 多边形:{why_zh}"),
                format!("boundary is not a valid GeoJSON polygon: {why_en}"),
            )
        };
        let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| bad(&e.to_string(), &e.to_string()))?;
        let geometry = match gj {
            geojson::GeoJson::Geometry(g) => g,
            geojson::GeoJson::Feature(f) => {
                f.geometry.ok_or_else(|| bad("Feature 没有 geometry", "the Feature has no geometry"))?
            }
            geojson::GeoJson::FeatureCollection(_) => {
                return Err(bad(
                    "应为单个 Polygon 或 MultiPolygon,而不是 FeatureCollection",
                    "expected one Polygon or MultiPolygon, not a FeatureCollection",
                ));
            }
        };
        // the conversion indexes each position's x and y: one of `[1]`
        // would panic inside geojson
        let rings: Vec<&Vec<geojson::Position>> = match &geometry.value {
            geojson::GeometryValue::Polygon { coordinates } => coordinates.iter().collect(),
            geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().flatten().collect(),
            _ => return Err(bad("只接受 Polygon 或 MultiPolygon", "only Polygon or MultiPolygon")),
        };
        if rings.iter().map(|r| r.len()).sum::<usize>() > MAX_BOUNDARY_POSITIONS {
            return Err(bad(
                &format!("最多 {MAX_BOUNDARY_POSITIONS} 个点"),
                &format!("at most {MAX_BOUNDARY_POSITIONS} positions"),
            ));
        }
        if rings
            .iter()
            .flat_map(|r| r.iter())
            .any(|p| !(2..=3).contains(&p.len()) || p.as_slice().iter().any(|c| !c.is_finite()))
        {
            return Err(bad("每个点应为 [经度, 纬度]", "each position is [longitude, latitude]"));
        }
        let g: geo::Geometry<f64> =
            geometry.try_into().map_err(|e: geojson::Error| bad(&e.to_string(), &e.to_string()))?;
        let mp = match g {
            geo::Geometry::Polygon(p) => geo::MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => {
                return Err(bad("只接受 Polygon 或 MultiPolygon", "only Polygon or MultiPolygon"));
            }
        };
        for p in &mp.0 {
            if p.exterior().0.len() < 4 {
                return Err(bad("外环至少需要 4 个点", "an exterior ring needs at least 4 positions"));
            }
            for c in p.exterior().0.iter() {
                if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
                    return Err(bad("坐标超出经纬度范围", "a position is outside longitude/latitude range"));
                }
            }
        }
        let json = geojson::Geometry::from(&mp).to_string();
        Ok(Self { geometry: mp, json })
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        use geo::Contains;
        self.geometry.contains(&geo::Point::new(lon, lat))
    }

    /// The boundary as a GeoJSON geometry, normalised to a MultiPolygon.
    pub fn to_json(&self) -> &str {
        &self.json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_with_malformed_positions_are_refused_not_panicked_on() {
        let ok = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
        assert!(Boundary::parse(ok).is_ok());
        for bad in [
            r#"{"type":"Polygon","coordinates":[[[1],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1],[0,0]]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0,0,0],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[]}"#,
            r#"{"type":"Polygon","coordinates":[[]]}"#,
            r#"{"type":"Point","coordinates":[1]}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1]]]}}"#,
        ] {
            assert_eq!(Boundary::parse(bad).unwrap_err().field, "boundary", "{bad}");
        }
    }

    #[test]
    fn org_codes() {
        assert!(OrgCode::parse("chengnan-g01").is_ok());
        assert!(OrgCode::parse("zhengyang").is_ok());
        for bad in ["", "a", "Chengnan", "-x", "x-", "城南", "a b", &"x".repeat(64)] {
            assert!(OrgCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(validate_org_name(&"城".repeat(64)).is_ok());
        assert!(validate_org_name(&"城".repeat(65)).is_err());
        assert!(validate_org_name("  ").is_err());
    }

    #[test]
    fn paths_cover_descendants_only() {
        let sub = child_path("/root/", &OrgCode::parse("zhengyang").unwrap());
        let com = child_path(&sub, &OrgCode::parse("chengnan").unwrap());
        assert!(path_covers(&sub, &com));
        assert!(!path_covers(&com, &sub));
        // a code that is a prefix of another code is not its ancestor
        let other = child_path("/root/", &OrgCode::parse("zhengyang2").unwrap());
        assert!(!path_covers(&sub, &other));
    }

    #[test]
    fn boundary_contains_points() {
        let b = Boundary::parse(
            r#"{"type":"Polygon","coordinates":[[[126.0,44.0],[126.1,44.0],[126.1,44.1],[126.0,44.1],[126.0,44.0]]]}"#,
        )
        .unwrap();
        assert!(b.contains(126.05, 44.05));
        assert!(!b.contains(126.2, 44.05));
        assert!(b.to_json().contains("MultiPolygon"));
    }

    #[test]
    fn boundary_refuses_non_polygons() {
        assert!(Boundary::parse(r#"{"type":"Point","coordinates":[126.0,44.0]}"#).is_err());
        assert!(Boundary::parse("not json").is_err());
        let e = Boundary::parse(r#"{"type":"Polygon","coordinates":[[[500,44],[126.1,44],[126.1,44.1],[500,44]]]}"#)
            .unwrap_err();
        assert_eq!(e.field, "boundary");
    }
}
