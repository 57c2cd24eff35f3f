//! Figures for a report folder: line and point plots as self-contained SVG, ready to paste into a
//! paper or a README.
//!
//! A [`Figure`] holds named [`Series`] of `(x, y)` points, axis labels, optional log axes and
//! optional [`VerticalMarker`]s (say, the empirical-Bayes optimum of a prior scale);
//! [`Figure::to_svg`] draws it into a `String`:
//!
//! ```
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
//! ```
//!
//! What a reader can rely on:
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

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{OccamError, Result};

/// What failures are reported as (`OccamError::Computation`'s `what`).
const WHAT: &str = "drawing a figure";

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

/// The internal grid is this many times finer than the nominal size.
const SCALE: i32 = 2;

// Nominal sizes, in pixels of the nominal figure.
const TITLE_PX: f64 = 17.0;
const DESC_PX: f64 = 15.0;
const TICK_PX: f64 = 13.0;
const LEGEND_PX: f64 = 13.0;
const LINE_WIDTH: i32 = 2;
const MARKER_RADIUS: i32 = 4;
const TICK_LEN: i32 = 5;

/// The share of a character's font size that its width is taken to be. Generous for digits and
/// lower case in common sans-serif fonts, so boxes sized with it hold their text.
const CHAR_WIDTH: f64 = 0.58;

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

impl SeriesStyle {
    fn has_line(self) -> bool {
        !matches!(self, SeriesStyle::Points)
    }

    fn has_markers(self) -> bool {
        matches!(self, SeriesStyle::Points | SeriesStyle::LineAndPoints)
    }
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

    /// The palette entry of series `i`.
    fn colour_index(&self, i: usize) -> usize {
        self.series[i].colour.unwrap_or(i)
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

    /// The figure as a standalone SVG document (UTF-8, starting `<svg`, white background).
    ///
    /// # Errors
    /// `OccamError::Computation` if the size is outside [`MIN_SIZE`]..=[`MAX_SIZE`] or the
    /// drawing library fails.
    pub fn to_svg(&self) -> Result<String> {
        let (w, h) = (self.width, self.height);
        if w < MIN_SIZE.0 || h < MIN_SIZE.1 || w > MAX_SIZE || h > MAX_SIZE {
            return Err(OccamError::computation(
                WHAT,
                format!(
                    "a figure of {w} × {h} pixels is outside the supported sizes \
                     ({} × {} to {MAX_SIZE} × {MAX_SIZE})",
                    MIN_SIZE.0, MIN_SIZE.1
                ),
            ));
        }
        let scale = SCALE as u32;
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (w * scale, h * scale)).into_drawing_area();
            if self.panels.is_empty() {
                self.draw(&root).map_err(fail)?;
            } else {
                self.draw_panels(&root).map_err(fail)?;
            }
            root.present().map_err(fail)?;
        }
        // Lay out on the fine grid, but declare the nominal size: the viewBox keeps the scale.
        let fine = format!("width=\"{}\" height=\"{}\"", w * scale, h * scale);
        let nominal = format!("width=\"{w}\" height=\"{h}\"");
        Ok(tidy_font_sizes(&svg.replacen(&fine, &nominal, 1)))
    }

    /// The title, then the panels in equal shares of the height below it.
    fn draw_panels<E>(&self, root: &DrawingArea<SVGBackend, Shift>) -> std::result::Result<(), E>
    where
        E: From<DrawingAreaErrorKind<std::io::Error>>,
    {
        root.fill(&WHITE)?;
        let body = if self.title.is_empty() {
            root.clone()
        } else {
            root.titled(&self.title, font(TITLE_PX))?
        };
        for (panel, area) in self
            .panels
            .iter()
            .zip(body.split_evenly((self.panels.len(), 1)))
        {
            let panel = Figure {
                width: self.width,
                ..panel.clone()
            };
            panel.draw(&area)?;
        }
        Ok(())
    }

    /// The points of series `index` that can be drawn on these axes, as runs broken wherever a
    /// point could not be.
    fn runs(&self, index: usize) -> Vec<Vec<(f64, f64)>> {
        let mut runs = Vec::new();
        let mut run = Vec::new();
        for &(x, y) in &self.series[index].points {
            if usable(x, self.log_x) && usable(y, self.log_y) {
                run.push((x, y));
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        runs
    }

    fn draw<E>(&self, root: &DrawingArea<SVGBackend, Shift>) -> std::result::Result<(), E>
    where
        E: From<DrawingAreaErrorKind<std::io::Error>>,
    {
        root.fill(&WHITE)?;

        let runs: Vec<Vec<Vec<(f64, f64)>>> =
            (0..self.series.len()).map(|i| self.runs(i)).collect();
        let all = || runs.iter().flatten().flatten();
        let markers: Vec<&VerticalMarker> = self
            .markers
            .iter()
            .filter(|m| usable(m.x, self.log_x))
            .collect();
        let has_data = all().next().is_some();

        let x_axis = Axis::new(
            all().map(|p| p.0).chain(markers.iter().map(|m| m.x)),
            self.log_x,
        );
        let y_axis = Axis::new(all().map(|p| p.1), self.log_y);

        // Margins and label areas, in nominal pixels, from the text they must hold.
        let tick_gap = f64::from(2 * TICK_LEN);
        let y_tick_width = y_axis
            .labels
            .iter()
            .map(|l| text_width(l, TICK_PX))
            .fold(0.0, f64::max);
        let y_desc_width = if self.y_label.is_empty() {
            0.0
        } else {
            DESC_PX * 1.2 + 8.0
        };
        let y_area = y_desc_width + y_tick_width + tick_gap + 2.0;
        let x_desc_height = if self.x_label.is_empty() {
            0.0
        } else {
            DESC_PX * 1.25 + 6.0
        };
        let x_area = tick_gap + TICK_PX * 1.2 + x_desc_height + 2.0;
        // The last x tick label is centred on its tick and may overhang the plot's right edge.
        let plot_width_guess = f64::from(self.width) - y_area - 30.0;
        let right_overhang = x_axis
            .ticks
            .iter()
            .zip(&x_axis.labels)
            .map(|(&t, l)| {
                text_width(l, TICK_PX) / 2.0 - (1.0 - x_axis.fraction(t)) * plot_width_guess
            })
            .fold(0.0, f64::max);
        let margin_right = 16.0 + right_overhang;
        let margin_top = if self.title.is_empty() { 14.0 } else { 8.0 };

        let mut builder = ChartBuilder::on(root);
        builder
            .margin_top(px(margin_top))
            .margin_bottom(px(8.0))
            .margin_left(px(10.0))
            .margin_right(px(margin_right))
            .x_label_area_size(px(x_area))
            .y_label_area_size(px(y_area));
        if !self.title.is_empty() {
            builder.caption(&self.title, font(TITLE_PX));
        }
        let mut chart = builder.build_cartesian_2d(x_axis.clone(), y_axis.clone())?;

        let tick_style = font(TICK_PX).color(&RGBColor(0x22, 0x22, 0x22));
        let mut mesh = chart.configure_mesh();
        mesh.label_style(tick_style)
            .axis_desc_style(font(DESC_PX))
            .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(SCALE as u32))
            .light_line_style(RGBColor(0xF0, 0xF0, 0xF0).stroke_width(SCALE as u32))
            .axis_style(BLACK.stroke_width(SCALE as u32))
            .set_all_tick_mark_size(TICK_LEN * SCALE)
            .x_labels(x_axis.ticks.len())
            .y_labels(y_axis.ticks.len());
        if !self.x_label.is_empty() {
            mesh.x_desc(&self.x_label);
        }
        if !self.y_label.is_empty() {
            mesh.y_desc(&self.y_label);
        }
        mesh.draw()?;

        // Elements below are drawn on `root` in its own coordinates; the chart reports the
        // backend's, which differ when `root` is a panel of a stacked figure.
        let (origin_x, origin_y) = root.get_base_pixel();
        let (px_x, px_y) = chart.plotting_area().get_pixel_range();
        let (px_x, px_y) = (
            px_x.start - origin_x..px_x.end - origin_x,
            px_y.start - origin_y..px_y.end - origin_y,
        );
        let to_px = |p: &(f64, f64)| {
            let (x, y) = chart.backend_coord(p);
            (x - origin_x, y - origin_y)
        };

        // The frame's top and right sides (the axes drew the other two).
        root.draw(&PathElement::new(
            vec![
                (px_x.start, px_y.start),
                (px_x.end - 1, px_y.start),
                (px_x.end - 1, px_y.end - 1),
            ],
            BLACK.stroke_width(SCALE as u32),
        ))?;

        // Vertical markers, under the data.
        let marker_colour = RGBColor(0x44, 0x44, 0x44);
        let mut marker_label_boxes = Vec::new();
        for marker in &markers {
            let (x, _) = to_px(&(marker.x, y_axis.lo));
            root.draw(&DashedPathElement::new(
                vec![(x, px_y.start), (x, px_y.end)],
                6 * SCALE,
                4 * SCALE,
                marker_colour.stroke_width((SCALE as u32) * 3 / 2),
            ))?;
            if !marker.label.is_empty() {
                let gap = 5 * SCALE;
                let top = px_y.start + gap;
                let width = px(text_width(&marker.label, LEGEND_PX));
                let on_left = x > (px_x.start + px_x.end) / 2;
                let (anchor, tx, left) = if on_left {
                    (HPos::Right, x - gap, x - gap - width)
                } else {
                    (HPos::Left, x + gap, x + gap)
                };
                let style = font(LEGEND_PX)
                    .color(&marker_colour)
                    .pos(Pos::new(anchor, VPos::Top));
                root.draw(&Text::new(marker.label.clone(), (tx, top), style))?;
                marker_label_boxes.push(((left, top), (left + width, top + px(LEGEND_PX * 1.2))));
            }
        }

        // The data.
        let stroke = (LINE_WIDTH * SCALE) as u32;
        for (i, (series, runs)) in self.series.iter().zip(&runs).enumerate() {
            let colour = colour(self.colour_index(i));
            for run in runs {
                let pixels: Vec<(i32, i32)> = run.iter().map(to_px).collect();
                if series.style.has_line() {
                    if pixels.len() == 1 && !series.style.has_markers() {
                        // An isolated point on a line: a dot, so that it is not lost.
                        root.draw(&Circle::new(pixels[0], LINE_WIDTH * SCALE, colour.filled()))?;
                    } else if series.style == SeriesStyle::Dashed {
                        root.draw(&DashedPathElement::new(
                            pixels.clone(),
                            8 * SCALE,
                            5 * SCALE,
                            colour.stroke_width(stroke),
                        ))?;
                    } else {
                        root.draw(&PathElement::new(
                            pixels.clone(),
                            colour.stroke_width(stroke),
                        ))?;
                    }
                }
                if series.style.has_markers() {
                    for &p in &pixels {
                        draw_marker(root, self.colour_index(i), p, MARKER_RADIUS * SCALE)?;
                    }
                }
            }
        }

        if !has_data {
            let centre = ((px_x.start + px_x.end) / 2, (px_y.start + px_y.end) / 2);
            let style = font(DESC_PX)
                .color(&RGBColor(0x77, 0x77, 0x77))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new("no data", centre, style))?;
        }

        if self.series.len() > 1 {
            // Everything the legend should avoid: points, points along lines, marker lines and
            // their labels.
            let mut obstacles: Vec<(i32, i32)> = Vec::new();
            for (series, runs) in self.series.iter().zip(&runs) {
                for run in runs {
                    let pixels: Vec<(i32, i32)> = run.iter().map(to_px).collect();
                    obstacles.extend(&pixels);
                    if series.style.has_line() {
                        for pair in pixels.windows(2) {
                            obstacles.extend(between(pair[0], pair[1], 8));
                        }
                    }
                }
            }
            for marker in &markers {
                let (x, _) = to_px(&(marker.x, y_axis.lo));
                obstacles.extend(between((x, px_y.start), (x, px_y.end), 24));
            }
            for &(a, b) in &marker_label_boxes {
                obstacles.extend([a, b, (a.0, b.1), (b.0, a.1)]);
                obstacles.extend(between(a, b, 4));
            }
            self.draw_legend(root, (&px_x, &px_y), &obstacles)?;
        }
        Ok(())
    }

    fn draw_legend<E>(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        (px_x, px_y): (&Range<i32>, &Range<i32>),
        obstacles: &[(i32, i32)],
    ) -> std::result::Result<(), E>
    where
        E: From<DrawingAreaErrorKind<std::io::Error>>,
    {
        let pad = px(7.0);
        let row = px(LEGEND_PX * 1.45);
        let sample = px(26.0);
        let gap = px(7.0);
        let text = self
            .series
            .iter()
            .map(|s| text_width(&s.name, LEGEND_PX))
            .fold(0.0, f64::max);
        let width = 2 * pad + sample + gap + px(text);
        let height = 2 * pad + row * self.series.len() as i32;
        let inset = px(8.0);

        // Upper right, upper left, lower right, lower left: the first that covers fewest data.
        let left = (px_x.start + inset, px_x.end - inset - width);
        let top = (px_y.start + inset, px_y.end - inset - height);
        let corners = [
            (left.1, top.0),
            (left.0, top.0),
            (left.1, top.1),
            (left.0, top.1),
        ];
        let slack = px(4.0);
        let covered = |&(x0, y0): &(i32, i32)| {
            obstacles
                .iter()
                .filter(|&&(x, y)| {
                    x >= x0 - slack
                        && x <= x0 + width + slack
                        && y >= y0 - slack
                        && y <= y0 + height + slack
                })
                .count()
        };
        let mut best = corners[0];
        let mut best_count = covered(&best);
        for corner in &corners[1..] {
            let count = covered(corner);
            if count < best_count {
                best = *corner;
                best_count = count;
            }
        }

        let (x0, y0) = best;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + width, y0 + height)],
            WHITE.mix(0.9).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + width, y0 + height)],
            RGBColor(0xBB, 0xBB, 0xBB).stroke_width(SCALE as u32),
        ))?;
        for (i, series) in self.series.iter().enumerate() {
            let colour = colour(self.colour_index(i));
            let cy = y0 + pad + row * i as i32 + row / 2;
            let (sx0, sx1) = (x0 + pad, x0 + pad + sample);
            let stroke = colour.stroke_width((LINE_WIDTH * SCALE) as u32);
            match series.style {
                SeriesStyle::Dashed => root.draw(&DashedPathElement::new(
                    vec![(sx0, cy), (sx1, cy)],
                    px(8.0),
                    px(5.0),
                    stroke,
                ))?,
                SeriesStyle::Line | SeriesStyle::LineAndPoints => {
                    root.draw(&PathElement::new(vec![(sx0, cy), (sx1, cy)], stroke))?
                }
                SeriesStyle::Points => {}
            }
            if series.style.has_markers() {
                draw_marker(
                    root,
                    self.colour_index(i),
                    ((sx0 + sx1) / 2, cy),
                    MARKER_RADIUS * SCALE,
                )?;
            }
            let style = font(LEGEND_PX)
                .color(&RGBColor(0x22, 0x22, 0x22))
                .pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(series.name.clone(), (sx1 + gap, cy), style))?;
        }
        Ok(())
    }
}

fn fail(error: DrawingAreaErrorKind<std::io::Error>) -> OccamError {
    OccamError::computation(WHAT, error.to_string())
}

/// Whether a coordinate can be drawn on an axis: finite, and on a log axis positive (and not
/// subnormal).
fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v >= f64::MIN_POSITIVE)
}

/// Nominal pixels to the fine grid.
fn px(nominal: f64) -> i32 {
    (nominal * f64::from(SCALE)).round() as i32
}

/// The estimated width of `text` at `size` nominal pixels.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * CHAR_WIDTH
}

/// A sans-serif font of `nominal` pixels on the fine grid. (The SVG backend writes the size
/// divided by 1.24, which [`tidy_font_sizes`] rounds back.)
fn font(nominal: f64) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", nominal * f64::from(SCALE) * 1.24).into_font())
}

/// Rounds every `font-size="…"` to at most two decimals: `26.000000000000004` becomes `26`.
fn tidy_font_sizes(svg: &str) -> String {
    const KEY: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find(KEY) {
        let (head, tail) = rest.split_at(i + KEY.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        match tail[..end].parse::<f64>() {
            Ok(size) => {
                let s = format!("{size:.2}");
                out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
            }
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn colour(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The marker of series `index` (shape and colour both by index): circle, square, triangle,
/// diamond, cross.
fn draw_marker<E>(
    root: &DrawingArea<SVGBackend, Shift>,
    index: usize,
    (x, y): (i32, i32),
    r: i32,
) -> std::result::Result<(), E>
where
    E: From<DrawingAreaErrorKind<std::io::Error>>,
{
    let style = colour(index).filled();
    match index % 5 {
        0 => root.draw(&Circle::new((x, y), r, style))?,
        1 => {
            let h = r * 17 / 20;
            root.draw(&Rectangle::new([(x - h, y - h), (x + h, y + h)], style))?
        }
        2 => {
            let h = r * 6 / 5;
            root.draw(&Polygon::new(
                vec![(x, y - h), (x + h, y + h * 3 / 4), (x - h, y + h * 3 / 4)],
                style,
            ))?
        }
        3 => {
            let h = r * 6 / 5;
            root.draw(&Polygon::new(
                vec![(x, y - h), (x + h, y), (x, y + h), (x - h, y)],
                style,
            ))?
        }
        _ => {
            let stroke = colour(index).stroke_width((SCALE * 3 / 2) as u32);
            root.draw(&PathElement::new(
                vec![(x - r, y - r), (x + r, y + r)],
                stroke,
            ))?;
            root.draw(&PathElement::new(
                vec![(x - r, y + r), (x + r, y - r)],
                stroke,
            ))?
        }
    }
    Ok(())
}

/// `n` evenly spaced points strictly between `a` and `b`.
fn between(a: (i32, i32), b: (i32, i32), n: i32) -> impl Iterator<Item = (i32, i32)> {
    (1..=n).map(move |k| {
        let t = f64::from(k) / f64::from(n + 1);
        let lerp = |p: i32, q: i32| (f64::from(p) + t * f64::from(q - p)).round() as i32;
        (lerp(a.0, b.0), lerp(a.1, b.1))
    })
}

/// One axis: its range, its labelled ticks (with their labels) and its unlabelled minor ticks.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    labels: Vec<String>,
    minor: Vec<f64>,
}

impl Axis {
    /// An axis covering `values` (all usable on it) with a 5% margin each side; a default range
    /// when there are none.
    fn new(values: impl Iterator<Item = f64>, log: bool) -> Self {
        let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = if min > max {
            if log {
                (1.0, 10.0)
            } else {
                (0.0, 1.0)
            }
        } else if log {
            log_range(min, max)
        } else {
            linear_range(min, max)
        };
        let (ticks, labels, minor) = if log {
            log_ticks(lo, hi)
        } else {
            let (ticks, labels) = linear_ticks(lo, hi);
            (ticks, labels, Vec::new())
        };
        Axis {
            lo,
            hi,
            log,
            ticks,
            labels,
            minor,
        }
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            // Halves, so that a range near ±f64::MAX does not overflow.
            (v * 0.5 - self.lo * 0.5) / (self.hi * 0.5 - self.lo * 0.5)
        };
        if t.is_finite() {
            t.clamp(-1.0, 2.0)
        } else {
            0.0
        }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1) - f64::from(limit.0);
        (f64::from(limit.0) + self.fraction(*value) * span).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.ticks
            .iter()
            .position(|t| t == value)
            .map(|i| self.labels[i].clone())
            .unwrap_or_else(|| tidy(*value, 3))
    }
}

fn linear_range(min: f64, max: f64) -> (f64, f64) {
    let pad = if max > min {
        (max * 0.5 - min * 0.5) * 0.1
    } else if min == 0.0 {
        1.0
    } else {
        min.abs() * 0.1
    };
    let pad = if pad > 0.0 && pad.is_finite() {
        pad
    } else {
        1.0
    };
    let lo = (min - pad).max(-f64::MAX);
    let hi = (max + pad).min(f64::MAX);
    (lo, hi)
}

fn log_range(min: f64, max: f64) -> (f64, f64) {
    // In decades, kept where 10^x is a normal float.
    let (a, b) = (min.log10().max(-307.0), max.log10().min(308.0));
    let pad = if b > a { (b - a) * 0.05 } else { 0.3 };
    let lo = 10f64.powf((a - pad).max(-307.5));
    let hi = 10f64.powf((b + pad).min(308.2));
    if hi > lo && lo > 0.0 && hi.is_finite() {
        (lo, hi)
    } else {
        (1.0, 10.0)
    }
}

/// About six ticks at multiples of 1, 2 or 5 × 10^e, with labels of matching precision.
fn linear_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>) {
    let fallback = || (vec![lo, hi], vec![tidy(lo, 3), tidy(hi, 3)]);
    let raw = (hi * 0.5 - lo * 0.5) / 3.0; // a sixth of the span
    if !(raw.is_finite() && raw > 0.0) {
        return fallback();
    }
    let e = raw.log10().floor() as i32;
    let mag = pow10(e);
    if !(mag.is_finite() && mag > 0.0) {
        return fallback();
    }
    // The finest of 1, 2, 5, 10 × 10^e that gives at most seven ticks.
    let count = |step: f64| (hi / step).floor() - (lo / step).ceil() + 1.0;
    let nice: i64 = [1, 2, 5]
        .into_iter()
        .find(|&n| count(n as f64 * mag) <= 7.0)
        .unwrap_or(10);
    let step = nice as f64 * mag;
    let (k0, k1) = ((lo / step).ceil(), (hi / step).floor());
    if !(k0.is_finite() && k1.is_finite() && k1 >= k0 && k1 - k0 <= 50.0) {
        return fallback();
    }
    let value = |k: i64| {
        let units = (k * nice) as f64;
        if e < 0 && pow10(-e).is_finite() {
            units / pow10(-e)
        } else {
            units * mag
        }
    };
    let ticks: Vec<f64> = (k0 as i64..=k1 as i64).map(value).collect();
    let decimals = (if nice == 10 { -e - 1 } else { -e }).max(0) as usize;
    let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let labels = if largest >= 1e5 || decimals > 4 {
        // A common power of ten: 0.5×10⁶, 1.0×10⁶, …
        let big = largest.log10().floor() as i32;
        let step_exp = if nice == 10 { e + 1 } else { e };
        let mantissa_decimals = (big - step_exp).max(0) as usize;
        let scale = pow10(big);
        ticks
            .iter()
            .map(|&t| {
                if t == 0.0 {
                    "0".to_string()
                } else {
                    format!(
                        "{}×10{}",
                        fixed(t / scale, mantissa_decimals),
                        superscript(big)
                    )
                }
            })
            .collect()
    } else {
        ticks.iter().map(|&t| fixed(t, decimals)).collect()
    };
    (ticks, labels)
}

/// Ticks on a log axis: whole decades when it spans two or more (every n-th when it spans many),
/// else 1, 2 and 5 times powers of ten, else linear ticks. Unlabelled minor ticks fill in.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    let inside = |v: f64| v >= lo && v <= hi;
    // Bounded whatever lo and hi are: 10^±330 is zero or infinite.
    let d0 = lo.log10().floor().clamp(-330.0, 330.0) as i32;
    let d1 = hi.log10().ceil().clamp(-330.0, 330.0) as i32;
    let decades: Vec<i32> = (d0..=d1).filter(|&k| inside(pow10(k))).collect();
    if decades.len() >= 2 {
        let stride = decades.len().div_ceil(7) as i32;
        let picked: Vec<i32> = decades
            .iter()
            .copied()
            .filter(|k| k.rem_euclid(stride) == 0)
            .collect();
        let plain = picked.iter().all(|k| (-3..=4).contains(k));
        let labels = picked
            .iter()
            .map(|&k| {
                if plain {
                    fixed(pow10(k), (-k).max(0) as usize)
                } else {
                    format!("10{}", superscript(k))
                }
            })
            .collect();
        let minor = if stride == 1 {
            (d0..=d1)
                .flat_map(|k| (2..=9).map(move |m| mantissa_pow10(m, k)))
                .filter(|&v| inside(v))
                .collect()
        } else {
            decades
                .iter()
                .filter(|k| k.rem_euclid(stride) != 0)
                .map(|&k| pow10(k))
                .collect()
        };
        return (picked.iter().map(|&k| pow10(k)).collect(), labels, minor);
    }
    let mut ticks = Vec::new();
    let mut labels = Vec::new();
    let mut minor = Vec::new();
    for k in d0..=d1 {
        for m in 1..=9 {
            let v = mantissa_pow10(m, k);
            if !inside(v) {
                continue;
            }
            if [1, 2, 5].contains(&m) {
                ticks.push(v);
                labels.push(if (-3..=4).contains(&k) {
                    fixed(v, (-k).max(0) as usize)
                } else {
                    format!("{m}×10{}", superscript(k))
                });
            } else {
                minor.push(v);
            }
        }
    }
    if ticks.len() >= 3 {
        return (ticks, labels, minor);
    }
    let (ticks, labels) = linear_ticks(lo, hi);
    (ticks, labels, Vec::new())
}

/// 10^k, correctly rounded.
fn pow10(k: i32) -> f64 {
    mantissa_pow10(1, k)
}

/// m × 10^k, correctly rounded (as the decimal literal would be).
fn mantissa_pow10(m: u32, k: i32) -> f64 {
    format!("{m}e{k}").parse().unwrap_or(f64::NAN)
}

/// `v` with `decimals` decimals, a true minus sign, and never "-0".
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else if let Some(rest) = s.strip_prefix('-') {
        format!("−{rest}")
    } else {
        s
    }
}

/// A short label for a value that is not a tick: `significant` significant digits, trailing
/// zeros dropped.
fn tidy(v: f64, significant: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return fixed(if v.is_finite() { v } else { 0.0 }, 0);
    }
    let e = v.abs().log10().floor() as i32;
    if (-3..5).contains(&e) {
        let decimals = (significant as i32 - 1 - e).max(0) as usize;
        let s = fixed(v, decimals);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let m = v / pow10(e);
        let mantissa = fixed(m, significant.saturating_sub(1));
        let mantissa = if mantissa.contains('.') {
            mantissa
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            mantissa
        };
        format!("{mantissa}×10{}", superscript(e))
    }
}

fn superscript(k: i32) -> String {
    k.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> Vec<(f64, f64)> {
        (0..50)
            .map(|i| {
                let x = f64::from(i) / 10.0;
                (x, (x * 1.3).sin() + 0.2 * x)
            })
            .collect()
    }

    fn example() -> Figure {
        let scatter: Vec<(f64, f64)> = (0..25)
            .map(|i| {
                let x = f64::from(i) / 5.0;
                (
                    x,
                    (x * 1.3).sin() + 0.2 * x + 0.3 * (f64::from(i) * 2.1).cos(),
                )
            })
            .collect();
        Figure::new("Fit & <data>", "x", "y")
            .line("model", curve())
            .points("observed", scatter)
            .dashed("baseline", [(0.0, 0.0), (4.9, 0.98)])
            .vertical_marker(2.0, "optimum")
    }

    #[test]
    fn figure_renders_valid_svg_with_title_and_names() {
        let svg = example().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("width=\"720\" height=\"480\""));
        assert!(svg.contains("viewBox=\"0 0 1440 960\""));
        // Escaped, not raw, markup in text.
        assert!(svg.contains("Fit &amp; &lt;data&gt;"));
        for name in ["model", "observed", "baseline", "optimum"] {
            assert!(svg.contains(name), "{name} missing");
        }
        assert_eq!(svg.matches("<svg").count(), 1);
        // No untidy floats anywhere.
        assert!(!svg.contains("0000000"), "untidy number in the SVG");
    }

    #[test]
    fn figure_is_deterministic() {
        let a = example().to_svg().unwrap();
        let b = example().to_svg().unwrap();
        assert_eq!(a, b);
        let c = example().clone().log_y().to_svg().unwrap();
        assert_eq!(c, example().log_y().to_svg().unwrap());
    }

    #[test]
    fn figure_colours_follow_the_palette_in_order() {
        let svg = example().to_svg().unwrap();
        let blue = svg.find("#0072B2").unwrap();
        let vermillion = svg.find("#D55E00").unwrap();
        let green = svg.find("#009E73").unwrap();
        assert!(blue < vermillion && vermillion < green);
    }

    /// The (cx, cy) of every `<circle` in an SVG, in document order.
    fn circles(svg: &str) -> Vec<(f64, f64)> {
        let attribute = |tag: &str, name: &str| -> f64 {
            let start = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            let end = start + tag[start..].find('"').expect("closing quote");
            tag[start..end].parse().expect("a number")
        };
        svg.split("<circle")
            .skip(1)
            .map(|tag| (attribute(tag, "cx"), attribute(tag, "cy")))
            .collect()
    }

    #[test]
    fn stacked_panels_each_draw_their_data_inside_their_own_share() {
        // One point per panel at the centre of its data range: each must land in the vertical
        // middle of its own panel (the panels share the height below the title), not offset by
        // the panels above it.
        let panel = |name: &str| Figure::new(name, "x", "y").points(name, [(0.0, 0.0), (2.0, 2.0)]);
        let figure = Figure::stacked("Two panels", vec![panel("first"), panel("second")]);
        let svg = figure.to_svg().unwrap();
        for text in ["Two panels", "first", "second"] {
            assert!(svg.contains(text), "{text}");
        }
        let points = circles(&svg);
        assert_eq!(points.len(), 4, "{points:?}");
        let height = f64::from(figure.height * SCALE as u32);
        let (first_top, second_top) = (points[0].1.min(points[1].1), points[2].1.min(points[3].1));
        let (first_bottom, second_bottom) =
            (points[0].1.max(points[1].1), points[2].1.max(points[3].1));
        assert!(first_bottom < height / 2.0 + 20.0, "{points:?} in {height}");
        assert!(second_top > height / 2.0, "{points:?} in {height}");
        // The same data in equal panels: the second panel is the first moved down by one share.
        let shift = second_top - first_top;
        assert!(
            (second_bottom - first_bottom - shift).abs() < 1.0,
            "{points:?}"
        );
        assert!(shift > height / 3.0, "{points:?}");
        assert!(second_bottom < height, "{points:?} in {height}");
    }

    #[test]
    fn related_series_can_share_a_colour() {
        let svg = Figure::new("", "x", "y")
            .line("test", curve())
            .colour_last(1)
            .dashed("train", curve())
            .colour_last(1)
            .to_svg()
            .unwrap();
        let (r, g, b) = PALETTE[1];
        let shared = format!("#{r:02X}{g:02X}{b:02X}");
        let (r, g, b) = PALETTE[0];
        let unused = format!("#{r:02X}{g:02X}{b:02X}");
        assert!(svg.contains(&shared) && !svg.contains(&unused), "{svg}");
    }

    #[test]
    fn figure_survives_nan_inf_and_empty_series() {
        let bad = vec![
            (f64::NAN, 1.0),
            (0.0, 1.0),
            (1.0, f64::INFINITY),
            (2.0, 2.0),
            (f64::NEG_INFINITY, f64::NAN),
        ];
        let svg = Figure::new("bad", "x", "y")
            .line("bad", bad.clone())
            .points("empty", Vec::new())
            .vertical_marker(f64::NAN, "nowhere")
            .to_svg()
            .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));

        // Nothing usable at all: still a figure, with a note.
        for figure in [
            Figure::new("empty", "x", "y"),
            Figure::new("empty", "x", "y").line("none", Vec::new()),
            Figure::new("empty", "x", "y").points("nan", [(f64::NAN, f64::NAN)]),
            Figure::new("", "", "")
                .log_x()
                .log_y()
                .line("nan", [(f64::NAN, 1.0)]),
        ] {
            let svg = figure.to_svg().unwrap();
            assert!(svg.starts_with("<svg"));
            assert!(svg.contains("no data"));
        }

        // Degenerate and extreme ranges.
        for points in [
            vec![(1.0, 1.0)],
            vec![(0.0, 0.0), (0.0, 0.0)],
            vec![(-f64::MAX, f64::MAX), (f64::MAX, -f64::MAX)],
            vec![(5e-324, 1e-300), (5e-324, 1e-300)],
            vec![(1e12, 3e-9), (2e12, 4e-9)],
        ] {
            for log in [false, true] {
                let mut figure = Figure::new("edge", "x", "y").line_and_points("p", points.clone());
                figure.log_x = log;
                figure.log_y = log;
                let svg = figure.to_svg().unwrap();
                assert!(svg.starts_with("<svg"));
                assert!(!svg.contains("NaN"));
            }
        }
    }

    #[test]
    fn figure_log_axes_drop_non_positive_points() {
        let points = vec![
            (-1.0, 5.0),
            (0.0, 1.0),
            (0.01, 2.0),
            (1.0, -3.0),
            (100.0, 4.0),
        ];
        let figure = Figure::new("log", "s", "evidence")
            .line("a", points.clone())
            .points("b", points)
            .log_x()
            .log_y();
        let svg = figure.to_svg().unwrap();
        assert!(svg.starts_with("<svg"));
        // Only the points at x = 0.01 and 100 (with y > 0) remain for the axes.
        let axis = Axis::new([0.01, 100.0].into_iter(), true);
        assert_eq!(axis.labels, ["0.01", "0.1", "1", "10", "100"]);
        // Run-splitting: the line is broken at the dropped points.
        let runs = figure.runs(0);
        assert_eq!(runs, vec![vec![(0.01, 2.0)], vec![(100.0, 4.0)]]);
    }

    #[test]
    fn figure_errors_on_absurd_sizes() {
        let err = Figure::new("t", "x", "y")
            .size(10, 10)
            .to_svg()
            .unwrap_err();
        assert!(err.to_string().contains("drawing a figure"), "{err}");
        assert!(Figure::new("t", "x", "y").size(9000, 400).to_svg().is_err());
        assert!(Figure::new("t", "x", "y").size(400, 300).to_svg().is_ok());
    }

    #[test]
    fn figure_tick_labels_are_tidy() {
        let (_, labels) = linear_ticks(0.0, 1.0);
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (_, labels) = linear_ticks(-0.35, 0.35);
        assert_eq!(labels, ["−0.3", "−0.2", "−0.1", "0.0", "0.1", "0.2", "0.3"]);
        let (_, labels) = linear_ticks(-1.0, 23.0);
        assert_eq!(labels, ["0", "5", "10", "15", "20"]);
        let (_, labels) = linear_ticks(0.0, 2.0e6);
        assert_eq!(labels, ["0", "0.5×10⁶", "1.0×10⁶", "1.5×10⁶", "2.0×10⁶"]);
        let (_, labels) = linear_ticks(0.0, 3.0e-5);
        assert_eq!(labels[1], "0.5×10⁻⁵");

        let (_, labels, minor) = log_ticks(1e-8, 1e4);
        assert_eq!(
            labels,
            ["10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²", "10⁰", "10²", "10⁴"]
        );
        assert!(!minor.is_empty());
        let (_, labels, _) = log_ticks(1.5, 30.0);
        assert_eq!(labels, ["2", "5", "10", "20"]);
        let (ticks, labels, _) = log_ticks(2.1, 4.0);
        assert_eq!(ticks.len(), labels.len());
        assert!(ticks.len() >= 2);

        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(tidy(1234.5678, 3), "1235");
        assert_eq!(tidy(0.000123, 3), "1.23×10⁻⁴");
    }
}
