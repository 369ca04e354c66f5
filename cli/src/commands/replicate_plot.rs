//! The SVG plot `replicate --plot` writes: lag and throughput over the run.

use plotters::prelude::*;
use std::path::Path;
use tablesync_replicate::Sample;

/// Draw lag (ms) above throughput (records/s) against seconds since start.
pub fn write_plot(path: &Path, samples: &[Sample]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(300);
    let t_max = samples
        .last()
        .map_or(1.0, |s| s.t_ms as f64 / 1000.0)
        .max(1.0);
    let lag: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (s.t_ms as f64 / 1000.0, s.lag_ms as f64))
        .collect();
    let rate: Vec<(f64, f64)> = samples
        .windows(2)
        .map(|w| {
            let dt = (w[1].t_ms.saturating_sub(w[0].t_ms)).max(1) as f64 / 1000.0;
            let dr = w[1].records_shipped.saturating_sub(w[0].records_shipped) as f64;
            (w[1].t_ms as f64 / 1000.0, dr / dt)
        })
        .collect();
    let lag_max = lag.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let rate_max = rate.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut c = ChartBuilder::on(&top)
        .caption("replication lag (ms)", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_max, 0.0..lag_max)
        .map_err(|e| e.to_string())?;
    c.configure_mesh()
        .x_desc("s")
        .draw()
        .map_err(|e| e.to_string())?;
    c.draw_series(LineSeries::new(lag, &RED))
        .map_err(|e| e.to_string())?;
    let mut c = ChartBuilder::on(&bottom)
        .caption("throughput (records/s shipped)", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_max, 0.0..rate_max)
        .map_err(|e| e.to_string())?;
    c.configure_mesh()
        .x_desc("s")
        .draw()
        .map_err(|e| e.to_string())?;
    c.draw_series(LineSeries::new(rate, &BLUE))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
