//! Run-time device choice: `cpu`, `wgpu[:N]`, `cuda[:N]`.
//!
//! The backend is a Cargo feature (`wgpu`, `cuda`), the device a run-time
//! value; asking for a device whose feature was not built is an error that
//! says which feature to enable. `cpu` is burn's `flex` backend.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;

use crate::error::{ModelError, Result};

/// A device as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// burn `flex` (pure-Rust CPU).
    #[default]
    Cpu,
    /// A wgpu adapter: `None` = the best available, `Some(i)` = discrete GPU `i`.
    Wgpu(Option<usize>),
    /// CUDA device `i`.
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = ModelError;

    /// Parses `cpu`, `wgpu`, `wgpu:N`, `cuda` (= `cuda:0`) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| ModelError::Device {
            spec: s.to_string(),
            reason: reason.to_string(),
        };
        let (kind, index) = match s.split_once(':') {
            Some((kind, index)) => {
                let index: usize = index.parse().map_err(|_| bad("index must be a number"))?;
                (kind, Some(index))
            }
            None => (s, None),
        };
        match (kind, index) {
            ("cpu", None) => Ok(Self::Cpu),
            ("wgpu", index) => Ok(Self::Wgpu(index)),
            ("cuda", index) => Ok(Self::Cuda(index.unwrap_or(0))),
            _ => Err(bad("expected cpu, wgpu[:N] or cuda[:N]")),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Wgpu(None) => write!(f, "wgpu"),
            Self::Wgpu(Some(i)) => write!(f, "wgpu:{i}"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceSpec {
    /// The burn device (without autodiff; call `.autodiff()` to train).
    pub fn device(&self) -> Result<Device> {
        match *self {
            Self::Cpu => Ok(Device::flex()),
            Self::Wgpu(index) => wgpu(index).ok_or_else(|| self.missing("wgpu")),
            Self::Cuda(index) => cuda(index).ok_or_else(|| self.missing("cuda")),
        }
    }

    fn missing(&self, feature: &str) -> ModelError {
        ModelError::Device {
            spec: self.to_string(),
            reason: format!(
                "this build lacks the `{feature}` cargo feature (rebuild with --features {feature})"
            ),
        }
    }
}

#[cfg(feature = "wgpu")]
fn wgpu(index: Option<usize>) -> Option<Device> {
    use burn::tensor::DeviceKind;
    let kind = index.map_or(DeviceKind::DefaultDevice, DeviceKind::DiscreteGpu);
    Some(Device::wgpu(kind))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(_index: Option<usize>) -> Option<Device> {
    None
}

#[cfg(feature = "cuda")]
fn cuda(index: usize) -> Option<Device> {
    Some(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_index: usize) -> Option<Device> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_specs() {
        assert_eq!("cpu".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Cpu));
        assert_eq!(
            "wgpu".parse::<DeviceSpec>().ok(),
            Some(DeviceSpec::Wgpu(None))
        );
        assert_eq!(
            "wgpu:1".parse::<DeviceSpec>().ok(),
            Some(DeviceSpec::Wgpu(Some(1)))
        );
        assert_eq!("cuda".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Cuda(0)));
        assert_eq!(
            "cuda:3".parse::<DeviceSpec>().ok(),
            Some(DeviceSpec::Cuda(3))
        );
        for bad in ["gpu", "cuda:x", "cpu:0", ""] {
            assert!(bad.parse::<DeviceSpec>().is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_is_a_clear_error() {
        let err = DeviceSpec::Cuda(0).device().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("--features cuda")));
    }
}
