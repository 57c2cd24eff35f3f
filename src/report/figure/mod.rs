//! Figures for a report folder: line and point plots as self-contained SVG, ready to paste into a
//! paper or a README.
//!
//! A [`Figure`] holds named [`Series`] of `(x, y)` points, axis labels, optional log axes and
//! optional [`VerticalMarker`]s (say, the empirical-Bayes optimum of a prior scale);
//! with the `figures` feature, `Figure::to_svg` draws it into a `String` (plotters' SVG backend,
//! in the private `svg` module):
//!
//! ```
//! # #[cfg(feature = "figures")] {
//! use occam::report::figure::Figure;
//!
//! let evidence: Vec<(f64, f64)> = (0..=40)
//!     .map(|i| 10f64.powf(-3.0 + 0.15 * i as f64))
//!     .map(|s| (s, -(s.ln() - 0.5).powi(2)))
//!     .collect();
//! let svg = Figure::new("Evidence", "prior scale s", "log evidence (nats)")
//!     .line("log evidence", evidence)
//!     .vertical_marker(0.5f64.exp(), "optimum")
//!     .log_x()
//!     .to_svg()
//!     .unwrap();
//! assert!(svg.starts_with("<svg"));
//! # }
//! ```
//!
//! This module is the figure's data model, needed by every study; the drawing lives in `svg`
//! (with its axis ticks in `ticks`), compiled only with the `figures` feature.
//!
//! What a reader can rely on (of the drawing):
//! - **Deterministic.** The same figure gives the same bytes: no clock, no randomness, no system
//!   fonts (text is emitted as SVG `<text>` in the generic `sans-serif` family and the layout
//!   uses a fixed width estimate).
//! - **Robust.** Non-finite points are skipped (a line is broken at them, not joined across
//!   them); on a log axis so are points that are not positive. A figure with no usable point
//!   still renders, with a default range and a "no data" note. Nothing here panics on data.
//! - **Readable.** Colours follow the Okabe–Ito palette (safe for colour-blind readers) in a
//!   fixed order, point series also differ by marker shape, a legend appears whenever there is
//!   more than one series (in the plot corner that covers the fewest data), and tick labels are
//!   tidy: `0.25`, not `0.25000000000000006`; `10⁻³` on a log axis spanning many decades.
//! - **Sharp.** Geometry is laid out on a grid twice as fine as the nominal size, so curves do
//!   not show whole-pixel steps when the figure is scaled up.

#[cfg(feature = "figures")]
mod svg;
#[cfg(feature = "figures")]
mod ticks;

/// The Okabe–Ito palette in the order series take it: blue, vermillion, bluish green, orange,
/// reddish purple, sky blue, black, yellow (yellow last: it is faint on white).
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (230, 159, 0),
    (204, 121, 167),
    (86, 180, 233),
    (0, 0, 0),
    (240, 228, 66),
];

/// The smallest and largest accepted `width` and `height`, in pixels.
pub const MIN_SIZE: (u32, u32) = (240, 160);
/// See [`MIN_SIZE`].
pub const MAX_SIZE: u32 = 8000;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A solid line through the points in the given order.
    Line,
    /// A dashed line through the points in the given order.
    Dashed,
    /// A marker at each point and no line.
    Points,
    /// A solid line and a marker at each point.
    LineAndPoints,
}

/// One named set of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label.
    pub name: String,
    /// The `(x, y)` points, drawn in this order.
    pub points: Vec<(f64, f64)>,
    /// How the points are drawn.
    pub style: SeriesStyle,
    /// The palette entry (and marker shape) to use; `None`: the series' own position. Series that
    /// belong together (train and test of one n) share one.
    pub colour: Option<usize>,
}

impl Series {
    /// A series from any iterator of points.
    pub fn new(
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
        style: SeriesStyle,
    ) -> Self {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
            style,
            colour: None,
        }
    }
}

/// A labelled vertical line across the plot, e.g. at the empirical-Bayes optimum.
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalMarker {
    /// Where the line is, in data units. The x axis is widened to show it; a marker that is not
    /// finite (or not positive on a log axis) is not drawn.
    pub x: f64,
    /// The text beside the top of the line; may be empty.
    pub label: String,
}

/// A line or scatter plot, drawn with [`Figure::to_svg`].
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The title above the plot; empty for none.
    pub title: String,
    /// The x axis's label; empty for none.
    pub x_label: String,
    /// The y axis's label; empty for none.
    pub y_label: String,
    /// The series, drawn (and coloured) in this order.
    pub series: Vec<Series>,
    /// Vertical marker lines.
    pub markers: Vec<VerticalMarker>,
    /// A logarithmic x axis (points with x ≤ 0 are dropped).
    pub log_x: bool,
    /// A logarithmic y axis (points with y ≤ 0 are dropped).
    pub log_y: bool,
    /// The width in pixels (of the SVG's nominal size; default 720).
    pub width: u32,
    /// The height in pixels (default 480).
    pub height: u32,
    /// Panels stacked top to bottom under this figure's title, each with its own axes (one per
    /// data set, or one per quantity on its own scale); a figure with panels draws no series of
    /// its own.
    pub panels: Vec<Figure>,
}

impl Figure {
    /// An empty 720 × 480 figure with linear axes.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Figure {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            markers: Vec::new(),
            log_x: false,
            log_y: false,
            width: 720,
            height: 480,
            panels: Vec::new(),
        }
    }

    /// A figure of `panels` stacked top to bottom under one `title`, each panel with its own axes,
    /// series and legend (its own title, if any, labels the panel). The height grows with the
    /// number of panels.
    pub fn stacked(title: impl Into<String>, panels: Vec<Figure>) -> Self {
        let height = (40 + 300 * panels.len() as u32).clamp(MIN_SIZE.1, MAX_SIZE);
        Figure {
            panels,
            height,
            ..Figure::new(title, "", "")
        }
    }

    /// Gives the last series added palette entry `index` (colour and marker shape), so that
    /// related series (e.g. train and test of one n) share a colour.
    pub fn colour_last(mut self, index: usize) -> Self {
        if let Some(series) = self.series.last_mut() {
            series.colour = Some(index);
        }
        self
    }

    /// Adds a series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Adds a solid line.
    pub fn line(
        self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series(Series::new(name, points, SeriesStyle::Line))
    }

    /// Adds a dashed line.
    pub fn dashed(
        self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series(Series::new(name, points, SeriesStyle::Dashed))
    }

    /// Adds a series of markers.
    pub fn points(
        self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series(Series::new(name, points, SeriesStyle::Points))
    }

    /// Adds a line with a marker at each point.
    pub fn line_and_points(
        self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series(Series::new(name, points, SeriesStyle::LineAndPoints))
    }

    /// Adds a labelled vertical line at `x`.
    pub fn vertical_marker(mut self, x: f64, label: impl Into<String>) -> Self {
        self.markers.push(VerticalMarker {
            x,
            label: label.into(),
        });
        self
    }

    /// Makes the x axis logarithmic.
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    /// Makes the y axis logarithmic.
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Sets the nominal size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }
}
