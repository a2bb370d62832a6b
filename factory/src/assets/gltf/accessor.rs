//! Reading an accessor's elements out of its buffer view, once its bounds are checked.

use super::doc::Component;

/// An accessor's elements in place: `count` elements of `n` components, `stride` bytes apart.
#[derive(Clone, Copy)]
pub struct Elements<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub component: Component,
    pub n: usize,
    pub count: usize,
    pub normalized: bool,
}

impl Elements<'_> {
    /// Component `c` of element `i`, as stored (normalised integers mapped to -1..1 or 0..1).
    #[inline]
    pub fn get(&self, i: usize, c: usize) -> f64 {
        let at = i * self.stride + c * self.component.size();
        let d = &self.data[at..];
        let raw = match self.component {
            Component::I8 => d[0] as i8 as f64,
            Component::U8 => d[0] as f64,
            Component::I16 => i16::from_le_bytes([d[0], d[1]]) as f64,
            Component::U16 => u16::from_le_bytes([d[0], d[1]]) as f64,
            Component::U32 => u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as f64,
            Component::F32 => f32::from_le_bytes([d[0], d[1], d[2], d[3]]) as f64,
        };
        if self.normalized {
            match self.component {
                Component::I8 => (raw / 127.0).max(-1.0),
                Component::U8 => raw / 255.0,
                Component::I16 => (raw / 32767.0).max(-1.0),
                Component::U16 => raw / 65535.0,
                Component::U32 | Component::F32 => raw,
            }
        } else {
            raw
        }
    }

    /// Element `i` as up to four components.
    #[inline]
    pub fn vec(&self, i: usize) -> [f64; 4] {
        let mut out = [0.0; 4];
        for (c, slot) in out.iter_mut().enumerate().take(self.n.min(4)) {
            *slot = self.get(i, c);
        }
        out
    }

    /// Element `i` of an index accessor.
    #[inline]
    pub fn index(&self, i: usize) -> u32 {
        let at = i * self.stride;
        let d = &self.data[at..];
        match self.component {
            Component::U8 => d[0] as u32,
            Component::U16 => u16::from_le_bytes([d[0], d[1]]) as u32,
            _ => u32::from_le_bytes([d[0], d[1], d[2], d[3]]),
        }
    }
}

/// What one pass over an accessor learnt: the smallest and largest value of each component (as
/// stored, before normalisation) and the first element that is not a finite number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub non_finite: Option<usize>,
}

pub fn summarise(e: &Elements<'_>) -> Summary {
    let raw = Elements {
        normalized: false,
        ..*e
    };
    let mut min = vec![f64::INFINITY; e.n];
    let mut max = vec![f64::NEG_INFINITY; e.n];
    let mut non_finite = None;
    for i in 0..e.count {
        for c in 0..e.n {
            let v = raw.get(i, c);
            if !v.is_finite() {
                non_finite.get_or_insert(i);
                continue;
            }
            if v < min[c] {
                min[c] = v;
            }
            if v > max[c] {
                max[c] = v;
            }
        }
    }
    Summary {
        min,
        max,
        non_finite,
    }
}
