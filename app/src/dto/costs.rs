//! Costs on the wire: a launch's estimate, a project's budget and spending, the price table.

use serde::{Deserialize, Serialize};

/// What a launch is expected to cost, formatted (`$0.0120`, `4 × $0.0030 per result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateDto {
    pub total: String,
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDto {
    /// In dollars; `None` is no limit.
    pub total_usd: Option<f64>,
    pub month_usd: Option<f64>,
    pub spent_total: String,
    pub spent_month: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    Image,
    Megapixel,
    GpuSecond,
    /// Per second of video or sound made.
    OutputSecond,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceDto {
    pub provider: String,
    pub model: String,
    pub unit: PriceUnit,
    pub usd: f64,
    pub edited: bool,
}

#[cfg(feature = "ssr")]
mod from_engine {
    use super::*;
    use factory::costs::{Price, Unit};

    impl From<Unit> for PriceUnit {
        fn from(u: Unit) -> Self {
            match u {
                Unit::Image => PriceUnit::Image,
                Unit::Megapixel => PriceUnit::Megapixel,
                Unit::GpuSecond => PriceUnit::GpuSecond,
                Unit::OutputSecond => PriceUnit::OutputSecond,
            }
        }
    }

    impl From<PriceUnit> for Unit {
        fn from(u: PriceUnit) -> Self {
            match u {
                PriceUnit::Image => Unit::Image,
                PriceUnit::Megapixel => Unit::Megapixel,
                PriceUnit::GpuSecond => Unit::GpuSecond,
                PriceUnit::OutputSecond => Unit::OutputSecond,
            }
        }
    }

    impl From<Price> for PriceDto {
        fn from(p: Price) -> Self {
            Self {
                provider: p.provider,
                model: p.model,
                unit: p.unit.into(),
                usd: p.usd,
                edited: p.edited,
            }
        }
    }
}
