//! `docs/benchmarks-disk.svg`: resident memory and throughput against
//! table size, one line per engine (`plotters`, like `bench-compare
//! --scaling`).

use crate::engine::Engine;
use crate::report::Figures;
use plotters::prelude::*;
use std::path::Path;

fn color(e: Engine) -> RGBColor {
    match e {
        Engine::Sqlite => BLUE,
        Engine::Redb => GREEN,
        Engine::RedbCkpt => RGBColor(0, 110, 0),
        Engine::RedbCkptQr => RGBColor(120, 160, 0),
        Engine::RedbKv => RGBColor(0, 160, 160),
        Engine::Fjall => MAGENTA,
        Engine::Ours => RED,
        Engine::OursPaged => RGBColor(230, 120, 0),
    }
}

type Pick = fn(&Figures) -> f64;

/// Draw four panels (peak memory of open + gets, load, point gets, scan)
/// against rows in the table, y on a log scale.
pub fn draw(path: &Path, all: &[Figures], note: &str) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::new(path, (1100, 820)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root.titled(note, ("sans-serif", 15)).map_err(|e| err(&e))?;
    let panels: [(&str, Pick); 4] = [
        ("peak resident memory, open + 100k gets (MiB)", |f| {
            f.read_peak_mib
        }),
        ("batched load (rows/s)", |f| f.load_rows_s),
        ("random point gets after reopen (gets/s)", |f| f.gets_s),
        ("scan of ≤1M rows after reopen (rows/s)", |f| {
            f.scan_rows_s
        }),
    ];
    let x_max = all.iter().map(|f| f.rows).max().unwrap_or(1) as f64 * 1.05;
    for (area, (title, pick)) in root.split_evenly((2, 2)).iter().zip(panels) {
        // Log scale: tablesync's memory and the engines' rates span 1-2
        // orders of magnitude.
        let y_max = all.iter().map(pick).fold(1.0, f64::max) * 1.5;
        let y_min = all.iter().map(pick).fold(f64::INFINITY, f64::min).max(1.0) / 1.5;
        let mut c = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(75)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .x_desc("rows in the table")
            .draw()
            .map_err(|e| err(&e))?;
        for e in Engine::ALL {
            let pts: Vec<(f64, f64)> = all
                .iter()
                .filter(|f| f.engine == e)
                .map(|f| (f.rows as f64, pick(f)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let col = color(e);
            c.draw_series(LineSeries::new(pts, col.stroke_width(2)).point_size(4))
                .map_err(|e| err(&e))?
                .label(e.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
