//! Maps drawn as SVG from GeoJSON, with no tile server: grid boundaries as
//! shapes, estates as labelled points, projected into a 200-unit box.

use serde_json::Value;

pub struct Shape {
    pub d: String,
    /// Where a click on the shape leads.
    pub href: Option<String>,
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
        let shapes: Vec<(Vec<Ring>, Option<String>)> =
            boundaries.iter().map(|(b, href)| (rings(b), href.clone())).collect();
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
            .map(|(rs, href)| {
                let mut d = String::new();
                for ring in rs {
                    for (i, (x, y)) in ring.iter().enumerate() {
                        let cmd = if i == 0 { 'M' } else { 'L' };
                        d.push_str(&format!("{cmd}{:.1},{:.1} ", px(*x), py(*y)));
                    }
                    d.push_str("Z ");
                }
                Shape { d, href }
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
}
