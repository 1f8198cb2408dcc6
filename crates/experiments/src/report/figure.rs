//! Line charts drawn with plotters into PNG files, with a bundled TTF (no system fonts).

use std::{path::Path, sync::Once};

use anyhow::{Context, bail};
use plotters::{
    coord::ranged1d::ValueFormatter,
    prelude::*,
    style::{FontStyle, register_font},
};

/// DejaVu Sans, bundled so figures render identically on any machine (DejaVu licence, see
/// `assets/`).
const FONT: &[u8] = include_bytes!("../../../../assets/DejaVuSans.ttf");

/// Colours of successive series (colour-blind-safe Okabe–Ito palette).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// One series of a line chart, optionally with a shaded band (for example a 95 % CI).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    band: Option<Vec<(f64, f64, f64)>>,
}

impl Series {
    /// A plain line through `points`.
    pub(crate) fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_string(),
            points,
            band: None,
        }
    }

    /// A line with a shaded band: `(x, low, high)` per point.
    pub(crate) fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Series {
        self.band = Some(band);
        self
    }
}

/// A line chart: title, axis labels and series.
#[derive(Debug, Clone)]
pub(crate) struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    y_range: Option<(f64, f64)>,
    log_y: bool,
}

impl LineChart {
    /// An empty chart.
    pub(crate) fn new(title: &str, x_label: &str, y_label: &str) -> LineChart {
        LineChart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series: Vec::new(),
            y_range: None,
            log_y: false,
        }
    }

    /// Adds a series.
    pub(crate) fn series(mut self, series: Series) -> LineChart {
        self.series.push(series);
        self
    }

    /// Fixes the y range instead of fitting it to the data.
    pub(crate) fn y_range(mut self, low: f64, high: f64) -> LineChart {
        self.y_range = Some((low, high));
        self
    }

    /// Uses a logarithmic y axis (all values must be positive).
    pub(crate) fn log_y(mut self) -> LineChart {
        self.log_y = true;
        self
    }

    /// Draws the chart into a 900×600 PNG at `path`.
    pub(crate) fn render_png(&self, path: &Path) -> anyhow::Result<()> {
        register_bundled_font();
        let all_points = self.series.iter().flat_map(|s| {
            s.points.iter().copied().chain(
                s.band
                    .iter()
                    .flatten()
                    .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]),
            )
        });
        let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        let mut any = false;
        for (x, y) in all_points {
            if !x.is_finite() || !y.is_finite() {
                bail!("chart '{}' has a non-finite point ({x}, {y})", self.title);
            }
            any = true;
            (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
        }
        if !any {
            bail!("chart '{}' has no points", self.title);
        }
        if x_max <= x_min {
            x_max = x_min + 1.0;
        }
        if let Some((lo, hi)) = self.y_range {
            (y_min, y_max) = (lo, hi);
        } else if self.log_y {
            if y_min <= 0.0 {
                bail!(
                    "chart '{}' has non-positive values on a log axis",
                    self.title
                );
            }
            (y_min, y_max) = (y_min / 1.25, y_max * 1.25);
        } else {
            let pad = ((y_max - y_min) * 0.05).max(1e-9);
            (y_min, y_max) = (y_min - pad, y_max + pad);
        }
        let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
        root.fill(&WHITE).context("filling the background")?;
        if self.log_y {
            if y_min <= 0.0 {
                bail!(
                    "chart '{}' has non-positive values on a log axis",
                    self.title
                );
            }
            let chart = self
                .chart_builder(&root)
                .build_cartesian_2d(x_min..x_max, (y_min..y_max).log_scale());
            let mut chart = chart.context("building the chart")?;
            self.draw(&mut chart)?;
        } else {
            let chart = self
                .chart_builder(&root)
                .build_cartesian_2d(x_min..x_max, y_min..y_max);
            let mut chart = chart.context("building the chart")?;
            self.draw(&mut chart)?;
        }
        root.present().context("encoding the PNG")?;
        Ok(())
    }

    fn chart_builder<'a, 'b>(
        &self,
        root: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    ) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72);
        builder
    }

    fn draw<'a, X, Y>(
        &self,
        chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    ) -> anyhow::Result<()>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        // Integer tick labels on wide axes (steps, counts), three decimals on narrow ones.
        let x_range = chart.x_range();
        let x_span = x_range.end - x_range.start;
        let x_formatter = move |x: &f64| {
            if x_span >= 50.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.3}")
            }
        };
        chart
            .configure_mesh()
            .x_label_formatter(&x_formatter)
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .context("drawing the axes")?;
        let n_series = self.series.len();
        for (idx, series) in self.series.iter().enumerate() {
            // The 8-colour palette while it suffices; evenly spaced hues for larger charts.
            let colour = if n_series <= PALETTE.len() {
                PALETTE[idx]
            } else {
                let hue = HSLColor(idx as f64 / n_series as f64, 0.75, 0.42).to_rgba();
                RGBColor(hue.0, hue.1, hue.2)
            };
            if let Some(band) = &series.band {
                let polygon: Vec<(f64, f64)> = band
                    .iter()
                    .map(|&(x, lo, _)| (x, lo))
                    .chain(band.iter().rev().map(|&(x, _, hi)| (x, hi)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        polygon,
                        colour.mix(0.2).filled(),
                    )))
                    .context("drawing a band")?;
            }
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .context("drawing a series")?
                .label(series.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .context("drawing the legend")?;
        Ok(())
    }
}

/// Registers the bundled TTF as "sans-serif" once per process.
fn register_bundled_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled font is valid TTF; registration can only fail on a corrupt asset.
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            eprintln!("warning: could not register the bundled font");
        }
    });
}
