//! A [`Figure`] drawn as SVG by plotters: the layout on a grid [`SCALE`] times finer than the
//! nominal size, the axes with [`super::ticks`]'s tidy labels, markers and the legend.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticks::{linear_range, linear_ticks, log_range, log_ticks, tidy};
use super::{Figure, SeriesStyle, VerticalMarker, MAX_SIZE, MIN_SIZE, PALETTE};
use crate::error::{OccamError, Result};

/// What failures are reported as (`OccamError::Computation`'s `what`).
const WHAT: &str = "drawing a figure";

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

impl SeriesStyle {
    fn has_line(self) -> bool {
        !matches!(self, SeriesStyle::Points)
    }

    fn has_markers(self) -> bool {
        matches!(self, SeriesStyle::Points | SeriesStyle::LineAndPoints)
    }
}

impl Figure {
    /// The palette entry of series `i`.
    fn colour_index(&self, i: usize) -> usize {
        self.series[i].colour.unwrap_or(i)
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
}
