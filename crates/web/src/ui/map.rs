//! Maps drawn as SVG from GeoJSON, with no tile server: grid boundaries as
//! shapes, estates as labelled points, projected into a 200-unit box.

use serde_json::Value;

pub struct Shape {
    pub d: String,
    /// Where a click on the shape leads.
    pub href: Option<String>,
    /// A colour (`#rrggbb`) for a figure, and a label at the shape's middle.
    pub fill: Option<String>,
    pub label: Option<Point>,
}

/// A boundary to draw: where a click leads, its label and colour.
pub struct Area<'a> {
    pub geometry: &'a Value,
    pub href: Option<String>,
    pub label: Option<String>,
    pub fill: Option<String>,
}

pub struct Point {
    pub x: String,
    pub y: String,
    pub label: String,
}

pub struct MapSvg {
    pub shapes: Vec<Shape>,
    pub points: Vec<Point>,
    pub height: String,
}

type Ring = Vec<(f64, f64)>;

fn rings(geometry: &Value) -> Vec<Ring> {
    let mut out = Vec::new();
    let polys = match geometry["type"].as_str() {
        Some("Polygon") => vec![geometry["coordinates"].clone()],
        Some("MultiPolygon") => geometry["coordinates"].as_array().cloned().unwrap_or_default(),
        _ => vec![],
    };
    for poly in polys {
        for ring in poly.as_array().into_iter().flatten() {
            let pts: Vec<(f64, f64)> =
                ring.as_array().into_iter().flatten().filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?))).collect();
            if pts.len() >= 3 {
                out.push(pts);
            }
        }
    }
    out
}

impl MapSvg {
    /// `None` when there is nothing with an extent to draw.
    pub fn new(boundaries: &[(&Value, Option<String>)], points: &[(f64, f64, String)]) -> Option<Self> {
        let areas: Vec<Area> = boundaries
            .iter()
            .map(|(b, href)| Area { geometry: b, href: href.clone(), label: None, fill: None })
            .collect();
        Self::of_areas(&areas, points)
    }

    /// Boundaries coloured and labelled, with points.
    pub fn of_areas(areas: &[Area], points: &[(f64, f64, String)]) -> Option<Self> {
        let shapes: Vec<(Vec<Ring>, &Area)> = areas.iter().map(|a| (rings(a.geometry), a)).collect();
        let all = shapes.iter().flat_map(|s| s.0.iter()).flatten().copied().chain(points.iter().map(|p| (p.0, p.1)));
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in all {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        // a degree of longitude is shorter than one of latitude away from the equator
        let kx = ((y0 + y1) / 2.0).to_radians().cos();
        let (w, h) = ((x1 - x0) * kx, y1 - y0);
        let span = w.max(h);
        if span.is_nan() || span <= 0.0 {
            return None;
        }
        let k = 180.0 / span;
        let height = h * k + 20.0;
        let px = |x: f64| 10.0 + (x - x0) * kx * k;
        let py = |y: f64| height - 10.0 - (y - y0) * k;
        let shapes = shapes
            .into_iter()
            .map(|(rs, a)| {
                let mut d = String::new();
                for ring in &rs {
                    for (i, (x, y)) in ring.iter().enumerate() {
                        let cmd = if i == 0 { 'M' } else { 'L' };
                        d.push_str(&format!("{cmd}{:.1},{:.1} ", px(*x), py(*y)));
                    }
                    d.push_str("Z ");
                }
                // the label at the middle of the whole shape: a community drawn
                // by its grids is labelled across them, not on its first grid
                let label = a.label.clone().filter(|_| !rs.is_empty()).map(|label| {
                    let (mut lx0, mut ly0, mut lx1, mut ly1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                    for (x, y) in rs.iter().flatten() {
                        (lx0, ly0, lx1, ly1) = (lx0.min(*x), ly0.min(*y), lx1.max(*x), ly1.max(*y));
                    }
                    Point {
                        x: format!("{:.1}", px((lx0 + lx1) / 2.0)),
                        y: format!("{:.1}", py((ly0 + ly1) / 2.0)),
                        label,
                    }
                });
                Shape { d, href: a.href.clone(), fill: a.fill.clone(), label }
            })
            .collect();
        let points = points
            .iter()
            .map(|(x, y, label)| Point {
                x: format!("{:.1}", px(*x)),
                y: format!("{:.1}", py(*y)),
                label: label.clone(),
            })
            .collect();
        Some(Self { shapes, points, height: format!("{height:.0}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_into_the_box_with_the_north_up() {
        let b: Value = serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]});
        let m = MapSvg::new(&[(&b, None)], &[(0.5, 1.0, "北".into())]).unwrap();
        assert!(m.shapes[0].d.starts_with("M10.0,190.0 L190.0,190.0 L190.0,10.0"), "{}", m.shapes[0].d);
        assert_eq!((m.points[0].x.as_str(), m.points[0].y.as_str()), ("100.0", "10.0"));
        assert!(MapSvg::new(&[], &[]).is_none());
    }

    #[test]
    fn areas_carry_their_colour_and_a_label_in_the_middle() {
        let b: Value =
            serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]});
        let a = Area {
            geometry: &b,
            href: Some("/x".into()),
            label: Some("第1网格 3".into()),
            fill: Some("#ff0000".into()),
        };
        let m = MapSvg::of_areas(&[a], &[]).unwrap();
        let label = m.shapes[0].label.as_ref().unwrap();
        assert_eq!((label.x.as_str(), label.y.as_str(), label.label.as_str()), ("100.0", "100.0", "第1网格 3"));
        assert_eq!(m.shapes[0].fill.as_deref(), Some("#ff0000"));
    }

    #[test]
    fn a_community_of_grids_is_labelled_across_them() {
        // two grids side by side, as a community is drawn: the label between them
        let b: Value = serde_json::json!({"type": "MultiPolygon", "coordinates": [
            [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]],
            [[[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]]]]});
        let a = Area { geometry: &b, href: None, label: Some("东盛社区 2".into()), fill: None };
        let m = MapSvg::of_areas(&[a], &[]).unwrap();
        let label = m.shapes[0].label.as_ref().unwrap();
        assert_eq!((label.x.as_str(), label.y.as_str()), ("100.0", "55.0"));
    }
}
