//! X/Y grids: a batch's items laid out by two of their bound tokens (or the seed), and the
//! same layout drawn as one labelled PNG.
//!
//! Rows and columns follow each token's value order (option order, wildcard list order;
//! values an item lacks, as with a token nested in an option it did not choose, come last as
//! "—"). A cell holds every item with that pair of values: more than one when other tokens
//! vary too.

use std::collections::{BTreeMap, HashMap};

use diesel_async::AsyncPgConnection;
use image::{Rgb, RgbImage};
use serde::Deserialize;

use crate::batches::{self, Batch};
use crate::jobs::{queue, Job, JobState};
use crate::media::{MediaStore, ThumbSize};
use crate::products::{self, Product};
use crate::prompt::{Binding, Bindings};

/// The seed as an axis.
pub const SEED_AXIS: &str = "seed";
/// The label of a value an item does not bind.
pub const MISSING: &str = "—";

/// What the layout needs of one item.
#[derive(Debug, Clone)]
pub struct GridItem {
    pub bindings: Bindings,
    pub seed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<String>,
    pub rows: Vec<String>,
    /// `cells[row][column]`: indexes into the items, in item order.
    pub cells: Vec<Vec<Vec<usize>>>,
}

/// An axis value: sorts by option index, then text; a missing binding sorts last.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Bound(Vec<u32>, String),
    Missing,
}

impl Value {
    fn label(&self) -> String {
        match self {
            Value::Bound(_, text) => text.clone(),
            Value::Missing => MISSING.into(),
        }
    }
}

fn value_of(item: &GridItem, axis: &str, seed_rank: &BTreeMap<i64, u32>) -> Value {
    if axis == SEED_AXIS {
        return Value::Bound(vec![seed_rank[&item.seed]], item.seed.to_string());
    }
    match item.bindings.get(axis) {
        Some(Binding { index, value }) => Value::Bound(index.clone(), value.clone()),
        None => Value::Missing,
    }
}

/// Lays `items` out with `x` across and `y` down (token keys like `t0`, or [`SEED_AXIS`]).
pub fn layout(items: &[GridItem], x: &str, y: &str) -> Layout {
    // Seeds in order of first appearance, so the seed axis follows item order.
    let mut seed_rank = BTreeMap::new();
    for item in items {
        let next = seed_rank.len() as u32;
        seed_rank.entry(item.seed).or_insert(next);
    }
    let values = |axis: &str| -> Vec<Value> {
        let mut vs: Vec<Value> = items
            .iter()
            .map(|i| value_of(i, axis, &seed_rank))
            .collect();
        vs.sort();
        vs.dedup();
        vs
    };
    let columns = values(x);
    let rows = values(y);
    let mut cells = vec![vec![Vec::new(); columns.len()]; rows.len()];
    for (i, item) in items.iter().enumerate() {
        let c = columns
            .binary_search(&value_of(item, x, &seed_rank))
            .expect("every value is a column");
        let r = rows
            .binary_search(&value_of(item, y, &seed_rank))
            .expect("every value is a row");
        cells[r][c].push(i);
    }
    Layout {
        columns: columns.iter().map(Value::label).collect(),
        rows: rows.iter().map(Value::label).collect(),
        cells,
    }
}

/// A token offered as an axis.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Axis {
    pub key: String,
    pub label: String,
}

/// A batch, its jobs and products, laid out.
pub struct BatchGrid {
    pub batch: Batch,
    pub jobs: Vec<Job>,
    pub products: Vec<Product>,
    /// Job id -> index into `products`.
    product_by_job: HashMap<i64, usize>,
    /// The batch's tokens, then the seed.
    pub axes: Vec<Axis>,
    pub x: String,
    pub y: String,
    pub layout: Layout,
}

impl BatchGrid {
    /// Loads batch `id` and lays it out by `x` and `y`; an axis the batch lacks (or an empty
    /// one) falls back to the first token across and the second (or the seed) down.
    pub async fn load(
        conn: &mut AsyncPgConnection,
        id: i64,
        x: &str,
        y: &str,
    ) -> diesel::QueryResult<Option<Self>> {
        let Some(batch) = batches::get(conn, id).await? else {
            return Ok(None);
        };
        let jobs = queue::list_for_batch(conn, id).await?;
        let products = products::list_for_batch(conn, id).await?;
        let mut axes: Vec<Axis> = serde_json::from_value(batch.tokens.clone()).unwrap_or_default();
        axes.push(Axis {
            key: SEED_AXIS.into(),
            label: "seed".into(),
        });
        let pick = |wanted: &str, fallback: usize| -> String {
            if axes.iter().any(|a| a.key == wanted) {
                wanted.to_string()
            } else {
                axes[fallback.min(axes.len() - 1)].key.clone()
            }
        };
        let x = pick(x, 0);
        let y = pick(y, 1);
        let items: Vec<GridItem> = jobs
            .iter()
            .map(|j| GridItem {
                bindings: serde_json::from_value(j.bindings.clone()).unwrap_or_default(),
                seed: j.seed,
            })
            .collect();
        let layout = layout(&items, &x, &y);
        let product_by_job = products
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.job_id?, i)))
            .collect();
        Ok(Some(Self {
            batch,
            jobs,
            products,
            product_by_job,
            axes,
            x,
            y,
            layout,
        }))
    }

    pub fn product_of(&self, job: &Job) -> Option<&Product> {
        self.product_by_job.get(&job.id).map(|&i| &self.products[i])
    }

    fn axis_label(&self, key: &str) -> String {
        self.axes
            .iter()
            .find(|a| a.key == key)
            .map_or_else(|| key.to_string(), |a| a.label.clone())
    }

    /// The grid as one labelled PNG: each cell shows its first finished item's thumbnail, or
    /// says why it has none.
    pub fn export_png(&self, media: &MediaStore) -> Vec<u8> {
        let cells: Vec<Vec<CellImage>> = self
            .layout
            .cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|cell| self.cell_image(media, cell))
                    .collect()
            })
            .collect();
        render_png(
            &self.layout,
            &self.axis_label(&self.x),
            &self.axis_label(&self.y),
            &cells,
            ThumbSize::Small.pixels(),
        )
    }

    fn cell_image(&self, media: &MediaStore, cell: &[usize]) -> CellImage {
        let picture = cell.iter().find_map(|&i| {
            let product = self.product_of(&self.jobs[i])?;
            let path =
                media.thumb_path(product.project_id, &product.content_hash, ThumbSize::Small)?;
            let bytes = std::fs::read(path).ok()?;
            Some(image::load_from_memory(&bytes).ok()?.to_rgb8())
        });
        match picture {
            Some(p) => CellImage::Picture(p),
            None if cell.is_empty() => CellImage::Empty("none".into()),
            None => {
                let state = self.jobs[cell[0]].state();
                CellImage::Empty(match state {
                    JobState::Failed => "failed".into(),
                    JobState::Canceled => "canceled".into(),
                    _ => "pending".into(),
                })
            }
        }
    }
}

/// How a cell is drawn in the exported image.
pub enum CellImage {
    /// The first finished item's picture (RGB, any size; it is fitted into the cell).
    Picture(RgbImage),
    /// Nothing to show yet, or a failure, with a word saying which.
    Empty(String),
}

const SCALE: u32 = 2;
const GLYPH: u32 = 8 * SCALE;
const PAD: u32 = 8;
const BACKGROUND: Rgb<u8> = Rgb([250, 250, 249]);
const INK: Rgb<u8> = Rgb([28, 25, 23]);
const EMPTY: Rgb<u8> = Rgb([231, 229, 228]);

/// The grid as one PNG: axis names, column labels across the top, row labels down the left,
/// each cell `cell` pixels square.
pub fn render_png(
    layout: &Layout,
    x_name: &str,
    y_name: &str,
    cells: &[Vec<CellImage>],
    cell: u32,
) -> Vec<u8> {
    let max_chars = (cell / GLYPH).max(4) as usize;
    let row_label_chars = layout
        .rows
        .iter()
        .map(|r| r.chars().count().min(max_chars))
        .max()
        .unwrap_or(0)
        .max(y_name.chars().count().min(max_chars)) as u32;
    let left = row_label_chars * GLYPH + 2 * PAD;
    let top = 2 * GLYPH + 3 * PAD;
    let width = left + layout.columns.len() as u32 * (cell + PAD) + PAD;
    let height = top + layout.rows.len() as u32 * (cell + PAD) + PAD;
    let mut canvas = RgbImage::from_pixel(width.max(1), height.max(1), BACKGROUND);
    draw_text(
        &mut canvas,
        PAD,
        PAD,
        &format!("x: {x_name}   y: {y_name}"),
        width / GLYPH,
    );
    for (c, label) in layout.columns.iter().enumerate() {
        let x = left + c as u32 * (cell + PAD);
        draw_text(&mut canvas, x, GLYPH + 2 * PAD, label, cell / GLYPH);
    }
    for (r, label) in layout.rows.iter().enumerate() {
        let y = top + r as u32 * (cell + PAD);
        draw_text(
            &mut canvas,
            PAD,
            y + cell / 2 - GLYPH / 2,
            label,
            max_chars as u32,
        );
        for c in 0..layout.columns.len() {
            let x = left + c as u32 * (cell + PAD);
            match cells.get(r).and_then(|row| row.get(c)) {
                Some(CellImage::Picture(picture)) => {
                    let fitted = fit(picture, cell);
                    let ox = x + (cell - fitted.width()) / 2;
                    let oy = y + (cell - fitted.height()) / 2;
                    image::imageops::overlay(&mut canvas, &fitted, ox.into(), oy.into());
                }
                Some(CellImage::Empty(word)) => {
                    fill(&mut canvas, x, y, cell, cell, EMPTY);
                    draw_text(
                        &mut canvas,
                        x + PAD,
                        y + cell / 2 - GLYPH / 2,
                        word,
                        cell / GLYPH,
                    );
                }
                None => fill(&mut canvas, x, y, cell, cell, EMPTY),
            }
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(canvas)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    png
}

fn fit(picture: &RgbImage, cell: u32) -> RgbImage {
    let (w, h) = picture.dimensions();
    if w <= cell && h <= cell {
        return picture.clone();
    }
    let scale = cell as f32 / w.max(h) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    image::imageops::resize(picture, nw, nh, image::imageops::FilterType::Triangle)
}

fn fill(canvas: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    for py in y..(y + h).min(canvas.height()) {
        for px in x..(x + w).min(canvas.width()) {
            canvas.put_pixel(px, py, color);
        }
    }
}

/// Draws `text` with an 8×8 bitmap font at twice its size, cut to `max_chars` (with "…").
fn draw_text(canvas: &mut RgbImage, x: u32, y: u32, text: &str, max_chars: u32) {
    use font8x8::UnicodeFonts;
    let max_chars = max_chars.max(1) as usize;
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() > max_chars {
        chars.truncate(max_chars.saturating_sub(1));
        chars.push('…');
    }
    for (n, ch) in chars.iter().enumerate() {
        let glyph = font8x8::BASIC_FONTS
            .get(*ch)
            .or_else(|| font8x8::LATIN_FONTS.get(*ch))
            .or_else(|| match ch {
                '…' => Some([0, 0, 0, 0, 0, 0, 0b0100_1001, 0]),
                '—' => Some([0, 0, 0, 0xff, 0, 0, 0, 0]),
                _ => font8x8::BASIC_FONTS.get('?'),
            })
            .unwrap_or([0; 8]);
        let gx = x + n as u32 * GLYPH;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits & (1 << col) != 0 {
                    let px = gx + col * SCALE;
                    let py = y + row as u32 * SCALE;
                    fill(canvas, px, py, SCALE, SCALE, INK);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Expansion, Mode};

    fn items(source: &str) -> Vec<GridItem> {
        Expansion {
            mode: Mode::Combinatorial,
            count: 1,
            batch_seed: 3,
            cap: 100,
        }
        .expand(source, &std::collections::HashMap::new())
        .unwrap()
        .items
        .into_iter()
        .map(|i| GridItem {
            seed: crate::prompt::derive_seed(3, &i.bindings),
            bindings: i.bindings,
        })
        .collect()
    }

    #[test]
    fn two_tokens_make_a_grid_in_option_order() {
        let items = items("a {red|blue} {cat|fox|owl}");
        let grid = layout(&items, "t1", "t0");
        assert_eq!(grid.columns, ["cat", "fox", "owl"]);
        assert_eq!(grid.rows, ["red", "blue"]);
        assert_eq!(grid.cells[1][2], [5], "blue owl is the sixth item");
        assert!(grid.cells.iter().flatten().all(|c| c.len() == 1));
    }

    #[test]
    fn a_third_token_shares_cells_and_missing_values_come_last() {
        let items = items("{a|b} {x|y {p|q}} {1|2}");
        let grid = layout(&items, "t2", "t0");
        assert_eq!(grid.columns, ["p", "q", MISSING]);
        assert_eq!(grid.cells[0][2].len(), 2, "a x 1, a x 2");
        assert_eq!(grid.cells[0][0].len(), 2, "a y p 1, a y p 2");
    }

    #[test]
    fn the_seed_is_an_axis_in_item_order() {
        let items = items("{a|b}");
        let grid = layout(&items, SEED_AXIS, "t0");
        assert_eq!(grid.columns.len(), 2);
        assert_eq!(grid.columns[0], items[0].seed.to_string());
    }

    #[test]
    fn the_png_has_room_for_labels_and_every_cell() {
        let items = items("{red|blue} {cat|fox|owl}");
        let grid = layout(&items, "t1", "t0");
        let picture = RgbImage::from_pixel(64, 64, Rgb([200, 10, 10]));
        let cells: Vec<Vec<CellImage>> = (0..2)
            .map(|_| {
                (0..3)
                    .map(|c| {
                        if c == 2 {
                            CellImage::Empty("failed".into())
                        } else {
                            CellImage::Picture(picture.clone())
                        }
                    })
                    .collect()
            })
            .collect();
        let png = render_png(&grid, "animal", "colour", &cells, 64);
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert!(decoded.width() > 3 * 64 && decoded.height() > 2 * 64);
        let reds = decoded
            .pixels()
            .filter(|p| **p == Rgb([200, 10, 10]))
            .count();
        assert_eq!(reds, 4 * 64 * 64, "four pictures drawn whole");
        assert!(decoded.pixels().any(|p| *p == INK), "labels drawn");
    }
}
