//! Memory sizes: parsing `20GiB`-style sizes, printing them, the host's
//! total memory and this process's resident set (Linux `/proc`).

use std::path::Path;

use super::PlanError;

const KIB: f64 = 1024.0;

/// Parses a size: a number (decimals allowed) and an optional unit, case
/// insensitive, with or without a space: `B`; `KB`, `MB`, `GB`, `TB`
/// (powers of 1000); `KiB`, `MiB`, `GiB`, `TiB` and the bare `K`, `M`,
/// `G`, `T` (powers of 1024). A bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, PlanError> {
    let err = |reason| PlanError::Size {
        text: text.to_string(),
        reason,
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(err("no number"));
    }
    let value: f64 = number.parse().map_err(|_| err("not a number"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => KIB,
        "m" | "mib" => KIB * KIB,
        "g" | "gib" => KIB * KIB * KIB,
        "t" | "tib" => KIB * KIB * KIB * KIB,
        _ => return Err(err("unknown unit")),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(err("too large"));
    }
    if bytes < 1.0 {
        return Err(err("must be at least one byte"));
    }
    Ok(bytes.round() as u64)
}

/// A size for people: `512 B`, `3.4 MiB`, `1.25 GiB`.
pub fn format_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= KIB && unit + 1 < units.len() {
        value /= KIB;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 100.0 {
        format!("{value:.0} {}", units[unit])
    } else if value >= 10.0 {
        format!("{value:.1} {}", units[unit])
    } else {
        format!("{value:.2} {}", units[unit])
    }
}

/// The value of `key:` in a `/proc` file of `key: N kB` lines, in bytes.
fn proc_kb(path: &Path, key: &str) -> Result<u64, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlanError::Proc {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    parse_kb(&text, key).ok_or_else(|| PlanError::Proc {
        path: path.to_path_buf(),
        message: format!("no `{key}: N kB` line"),
    })
}

/// `key: N kB` → `N · 1024`.
fn parse_kb(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// The host's memory (`MemTotal` of `/proc/meminfo`), bytes.
pub fn total_memory() -> Result<u64, PlanError> {
    proc_kb(Path::new("/proc/meminfo"), "MemTotal")
}

/// This process's resident set now (`VmRSS`), bytes.
pub fn current_rss() -> Result<u64, PlanError> {
    proc_kb(Path::new("/proc/self/status"), "VmRSS")
}

/// This process's peak resident set (`VmHWM`), bytes.
pub fn peak_rss() -> Result<u64, PlanError> {
    proc_kb(Path::new("/proc/self/status"), "VmHWM")
}

/// Resets the peak resident set to the current one (writes `5` to
/// `/proc/self/clear_refs`, Linux ≥ 4.0); false where that is not allowed,
/// in which case [`peak_rss`] still counts everything since the start.
pub fn reset_peak_rss() -> bool {
    let Ok(before) = current_rss() else {
        return false;
    };
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
        && peak_rss().is_ok_and(|peak| peak <= before + (64 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("20GiB").unwrap(), 20 << 30);
        assert_eq!(parse_size("80GB").unwrap(), 80_000_000_000);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size(" 1.5 gib ").unwrap(), 3 << 29);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("64kb").unwrap(), 64_000);
        for bad in ["", "GiB", "12 parsecs", "1.2.3GB", "0", "-5GB"] {
            let err = parse_size(bad).unwrap_err().to_string();
            assert!(err.contains("bad memory size"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_print_with_three_figures() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(3 << 29), "1.50 GiB");
        assert_eq!(format_size(20 << 30), "20.0 GiB");
        assert_eq!(format_size(300 << 20), "300 MiB");
    }

    #[test]
    fn proc_lines_parse() {
        let status = "Name:\trzero\nVmHWM:\t  218204 kB\nVmRSS:\t   13544 kB\n";
        assert_eq!(parse_kb(status, "VmRSS"), Some(13544 * 1024));
        assert_eq!(parse_kb(status, "VmHWM"), Some(218_204 * 1024));
        assert_eq!(parse_kb(status, "VmSwap"), None);
        assert_eq!(
            parse_kb("MemTotal:       24683772 kB\n", "MemTotal"),
            Some(24_683_772 * 1024)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_and_a_peak_at_least_as_large() {
        let rss = current_rss().unwrap();
        assert!(rss > 0);
        assert!(peak_rss().unwrap() >= rss);
        assert!(total_memory().unwrap() > rss);
    }
}
