//! `bench-compare --scaling`: batched put and point get throughput against
//! table size, for tablesync and SQLite in-memory measured in the same run,
//! printed as a table and drawn as an SVG (`plotters`).

use crate::data;
use crate::ours;
use crate::sqlite::{self, Mode};
use plotters::prelude::*;
use std::path::Path;

/// One size's figures (rows/s).
pub struct Point {
    /// Rows in the table.
    pub rows: u64,
    /// Batched put, tablesync.
    pub put_ours: f64,
    /// Batched put, SQLite in-memory.
    pub put_sqlite: f64,
    /// Point get, tablesync.
    pub get_ours: f64,
    /// Point get, SQLite in-memory.
    pub get_sqlite: f64,
}

fn per_sec(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// Measure each size on fresh tables (`tmp` holds nothing: both sides are
/// in memory).
pub fn measure(sizes: &[u64], tmp: &Path) -> Result<Vec<Point>, String> {
    let mut out = Vec::new();
    for &n in sizes {
        let recs = data::recs(n);
        let mut db = ours::memory_db("scaling").map_err(|e| e.to_string())?;
        let put_ours = ours::batched_put(&mut db, &recs).map_err(|e| e.to_string())?;
        let mut c = sqlite::open(Mode::Memory, tmp).map_err(|e| e.to_string())?;
        let (put_sqlite, r) = ours::timed(|| sqlite::insert_batched(&mut c, &recs));
        r.map_err(|e| e.to_string())?;
        let probes = n.min(200_000);
        let uids = data::probe_uids(probes, n);
        let (get_ours, found) = ours::point_get(&db, &uids).map_err(|e| e.to_string())?;
        let (get_sqlite, found_sqlite) = ours::timed(|| sqlite::point_get(&c, &uids));
        let found_sqlite = found_sqlite.map_err(|e| e.to_string())?;
        if found != probes || found_sqlite != probes {
            return Err(format!(
                "{n} rows: found {found} / {found_sqlite} of {probes} probed rows"
            ));
        }
        out.push(Point {
            rows: n,
            put_ours: per_sec(n, put_ours),
            put_sqlite: per_sec(n, put_sqlite),
            get_ours: per_sec(probes, get_ours),
            get_sqlite: per_sec(probes, get_sqlite),
        });
    }
    Ok(out)
}

/// Print the figures with the ratio to SQLite.
pub fn print(points: &[Point]) {
    println!(
        "{:>10}  {:>14} {:>14} {:>7}  {:>14} {:>14} {:>7}",
        "rows", "put ours/s", "put SQLite/s", "ratio", "get ours/s", "get SQLite/s", "ratio"
    );
    for p in points {
        println!(
            "{:>10}  {:>14.0} {:>14.0} {:>6.2}×  {:>14.0} {:>14.0} {:>6.2}×",
            p.rows,
            p.put_ours,
            p.put_sqlite,
            p.put_ours / p.put_sqlite.max(1e-9),
            p.get_ours,
            p.get_sqlite,
            p.get_ours / p.get_sqlite.max(1e-9)
        );
    }
}

/// Draw batched put (top) and point get (bottom) against table size.
pub fn plot(path: &Path, points: &[Point]) -> Result<(), String> {
    let root = SVGBackend::new(path, (900, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(350);
    let x_max = points.iter().map(|p| p.rows).max().unwrap_or(1) as f64 * 1.05;
    type Pick = fn(&Point) -> f64;
    let panels: [(_, &str, Pick, Pick); 2] = [
        (
            &top,
            "batched put (rows/s) vs table size",
            |p| p.put_ours,
            |p| p.put_sqlite,
        ),
        (
            &bottom,
            "point get (rows/s) vs table size",
            |p| p.get_ours,
            |p| p.get_sqlite,
        ),
    ];
    for (area, title, ours_of, sqlite_of) in panels {
        let y_max = points
            .iter()
            .map(|p| ours_of(p).max(sqlite_of(p)))
            .fold(1.0, f64::max)
            * 1.15;
        let mut c = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc("rows in the table")
            .draw()
            .map_err(|e| e.to_string())?;
        let series =
            |f: Pick| -> Vec<(f64, f64)> { points.iter().map(|p| (p.rows as f64, f(p))).collect() };
        c.draw_series(LineSeries::new(series(ours_of), &RED))
            .map_err(|e| e.to_string())?
            .label("tablesync")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        c.draw_series(LineSeries::new(series(sqlite_of), &BLUE))
            .map_err(|e| e.to_string())?
            .label("SQLite in-memory")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
