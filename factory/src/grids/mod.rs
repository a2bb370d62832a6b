//! X/Y grids: a batch's items laid out by two of their bound tokens (or the seed), and the
//! same layout drawn as one labelled PNG.
//!
//! Rows and columns follow each token's value order (option order, wildcard list order;
//! values an item lacks, as with a token nested in an option it did not choose, come last as
//! "—"). A cell holds every item with that pair of values: more than one when other tokens
//! vary too.
//!
//! Work is bounded before anything is allocated: the two axes must differ, a grid has at most
//! [`MAX_CELLS`] cells, and the exported picture shrinks its cells to stay within
//! [`MAX_CANVAS_PIXELS`] (refusing a grid whose cells would get too small to see).

use std::collections::{BTreeMap, HashMap};

use diesel_async::AsyncPgConnection;
use serde::Deserialize;

use crate::batches::{self, Batch};
use crate::jobs::{queue, Job, JobState};
use crate::media::{MediaStore, ThumbSize};
use crate::products::{self, Product};
use crate::prompt::{Binding, Bindings};

pub(crate) mod picture;

pub use picture::{render_png, Canvas, CellImage, MAX_CANVAS_PIXELS};

/// The seed as an axis.
pub const SEED_AXIS: &str = "seed";
/// The label of a value an item does not bind.
pub const MISSING: &str = "—";
/// The rows axis that puts every item in one row.
pub const ONE_ROW: &str = "-";
/// The most cells a grid may have (columns × rows).
pub const MAX_CELLS: usize = 10_000;

/// Why a grid cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    #[error("Choose two different axes: “{0}” cannot run both across and down.")]
    SameAxis(String),
    #[error(
        "A grid of {columns} columns × {rows} rows is too large (at most {MAX_CELLS} cells); \
         choose axes with fewer values."
    )]
    TooManyCells { columns: usize, rows: usize },
    #[error(
        "A grid of {columns} columns × {rows} rows is too large to draw as one picture; \
         choose axes with fewer values."
    )]
    TooLargeToDraw { columns: usize, rows: usize },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

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

/// Lays `items` out with `x` across and `y` down (token keys like `t0`, or [`SEED_AXIS`]; an
/// axis no item binds, like [`ONE_ROW`], is one row or column). Refuses the same axis twice,
/// and more than [`MAX_CELLS`] cells, before building any.
pub fn layout(items: &[GridItem], x: &str, y: &str) -> Result<Layout, GridError> {
    if x == y {
        return Err(GridError::SameAxis(x.to_string()));
    }
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
    if columns.len().saturating_mul(rows.len()) > MAX_CELLS {
        return Err(GridError::TooManyCells {
            columns: columns.len(),
            rows: rows.len(),
        });
    }
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
    Ok(Layout {
        columns: columns.iter().map(Value::label).collect(),
        rows: rows.iter().map(Value::label).collect(),
        cells,
    })
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
    /// Loads batch `id` and lays it out by `x` and `y` ([`ONE_ROW`] down puts every item in one
    /// row). An axis the batch lacks (or an empty one) falls back: across, to the first token
    /// (or the seed); down, to the first other axis, or one row when there is none or the grid
    /// would have too many cells.
    pub async fn load(
        conn: &mut AsyncPgConnection,
        id: i64,
        x: &str,
        y: &str,
    ) -> Result<Option<Self>, GridError> {
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
        let known = |wanted: &str| axes.iter().any(|a| a.key == wanted);
        let x = if known(x) {
            x.to_string()
        } else {
            axes[0].key.clone()
        };
        let defaulted = !known(y) && y != ONE_ROW;
        let mut y = if defaulted {
            axes.iter()
                .map(|a| a.key.clone())
                .find(|key| *key != x)
                .unwrap_or_else(|| ONE_ROW.to_string())
        } else {
            y.to_string()
        };
        let items: Vec<GridItem> = jobs
            .iter()
            .map(|j| GridItem {
                bindings: serde_json::from_value(j.bindings.clone()).unwrap_or_default(),
                seed: j.seed,
            })
            .collect();
        let layout = match layout(&items, &x, &y) {
            Err(GridError::TooManyCells { .. }) if defaulted => {
                y = ONE_ROW.to_string();
                layout(&items, &x, &y)?
            }
            other => other?,
        };
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
        if key == ONE_ROW {
            return "one row".into();
        }
        self.axes
            .iter()
            .find(|a| a.key == key)
            .map_or_else(|| key.to_string(), |a| a.label.clone())
    }

    /// The grid as one labelled PNG: each cell shows its first finished item's thumbnail, or
    /// says why it has none. Refused, before drawing anything, when it would not fit in
    /// [`MAX_CANVAS_PIXELS`] with cells big enough to see.
    pub fn export_png(&self, media: &MediaStore) -> Result<Vec<u8>, GridError> {
        let canvas = Canvas::plan(&self.layout, &self.axis_label(&self.y))?;
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
        Ok(render_png(
            &self.layout,
            &self.axis_label(&self.x),
            &self.axis_label(&self.y),
            &cells,
            canvas.cell,
        ))
    }

    fn cell_image(&self, media: &MediaStore, cell: &[usize]) -> CellImage {
        let picture = cell.iter().find_map(|&i| {
            let product = self.product_of(&self.jobs[i])?;
            let key =
                media.thumb_key(product.project_id, &product.content_hash, ThumbSize::Small)?;
            let bytes = media.read(&key).ok()?;
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

#[cfg(test)]
mod tests {
    use super::picture::{INK, LARGEST_CELL, SMALLEST_CELL};
    use super::*;
    use crate::prompt::{Expansion, Mode};
    use image::{Rgb, RgbImage};

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
        let grid = layout(&items, "t1", "t0").unwrap();
        assert_eq!(grid.columns, ["cat", "fox", "owl"]);
        assert_eq!(grid.rows, ["red", "blue"]);
        assert_eq!(grid.cells[1][2], [5], "blue owl is the sixth item");
        assert!(grid.cells.iter().flatten().all(|c| c.len() == 1));
    }

    #[test]
    fn a_third_token_shares_cells_and_missing_values_come_last() {
        let items = items("{a|b} {x|y {p|q}} {1|2}");
        let grid = layout(&items, "t2", "t0").unwrap();
        assert_eq!(grid.columns, ["p", "q", MISSING]);
        assert_eq!(grid.cells[0][2].len(), 2, "a x 1, a x 2");
        assert_eq!(grid.cells[0][0].len(), 2, "a y p 1, a y p 2");
    }

    #[test]
    fn the_seed_is_an_axis_in_item_order() {
        let items = items("{a|b}");
        let grid = layout(&items, SEED_AXIS, "t0").unwrap();
        assert_eq!(grid.columns.len(), 2);
        assert_eq!(grid.columns[0], items[0].seed.to_string());
    }

    #[test]
    fn the_png_has_room_for_labels_and_every_cell() {
        let items = items("{red|blue} {cat|fox|owl}");
        let grid = layout(&items, "t1", "t0").unwrap();
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

    #[test]
    fn the_same_axis_twice_is_refused_and_an_axis_nobody_binds_is_one_row() {
        let items = items("{a|b|c}");
        assert!(matches!(
            layout(&items, SEED_AXIS, SEED_AXIS),
            Err(GridError::SameAxis(_))
        ));
        let one_row = layout(&items, "t0", ONE_ROW).unwrap();
        assert_eq!(one_row.rows, [MISSING]);
        assert_eq!(one_row.columns, ["a", "b", "c"]);
    }

    #[test]
    fn a_grid_of_more_cells_than_the_cap_is_refused_before_its_cells_are_built() {
        let items: Vec<GridItem> = (0..200)
            .map(|i| GridItem {
                seed: i,
                bindings: serde_json::from_value(serde_json::json!({
                    "t0": {"i": [i], "v": format!("v{i}")}
                }))
                .unwrap(),
            })
            .collect();
        match layout(&items, SEED_AXIS, "t0") {
            Err(GridError::TooManyCells { columns, rows }) => {
                assert_eq!((columns, rows), (200, 200))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_picture_shrinks_its_cells_to_fit_and_is_refused_before_allocating_when_it_cannot() {
        let sized = |columns: usize, rows: usize| Layout {
            columns: (0..columns).map(|c| c.to_string()).collect(),
            rows: (0..rows).map(|r| r.to_string()).collect(),
            cells: Vec::new(),
        };
        let small = Canvas::plan(&sized(3, 2), "colour").unwrap();
        assert_eq!(small.cell, LARGEST_CELL);
        let big = Canvas::plan(&sized(100, 100), "colour").unwrap();
        assert!(big.cell < LARGEST_CELL && big.cell >= SMALLEST_CELL);
        assert!(u64::from(big.width) * u64::from(big.height) <= MAX_CANVAS_PIXELS);
        // A thousand seeds by a thousand seeds: about 209 GB at full size.
        assert!(matches!(
            Canvas::plan(&sized(1000, 1000), "seed"),
            Err(GridError::TooLargeToDraw { .. })
        ));
    }
}
