//! The one rule for decimals people type (weights, lengths, money): a dot is the decimal
//! point; a comma is a thousands separator where it groups three digits ("1,000",
//! "1,000.50") and the decimal point otherwise ("1,5" as typed in much of Europe and Russia).

/// Splits `raw` into whole and fraction digits by that rule; `None` if it is not a number.
pub fn split(raw: &str) -> Option<(String, String)> {
    let s: String = raw.trim().chars().filter(|c| *c != ' ').collect();
    let s = if !s.contains(',') {
        s
    } else if groups_thousands(&s) {
        s.replace(',', "")
    } else if !s.contains('.') && s.matches(',').count() == 1 {
        s.replace(',', ".")
    } else {
        return None;
    };
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return None;
    }
    Some((whole.to_string(), frac.to_string()))
}

/// "1,000", "12,345,678" (with or without a fraction after a dot).
fn groups_thousands(s: &str) -> bool {
    let whole = s.split('.').next().unwrap_or("");
    let mut parts = whole.split(',');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty() && (1..=3).contains(&first.len()) && rest.iter().all(|p| p.len() == 3)
}

/// "1.25" with `scale` 3 → 1250: a decimal with at most `scale` places, times 10^scale.
pub fn scaled(raw: &str, scale: u32) -> Option<i64> {
    let (whole, frac) = split(raw)?;
    if frac.len() > scale as usize {
        return None;
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = scale as usize)
            .parse()
            .ok()?
    };
    w.checked_mul(10i64.pow(scale))?.checked_add(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_commas() {
        assert_eq!(scaled("1.25", 3), Some(1250));
        assert_eq!(scaled("1,25", 3), Some(1250), "decimal comma");
        assert_eq!(scaled("1,000", 3), Some(1_000_000), "thousands");
        assert_eq!(scaled("1,000.5", 2), Some(100_050));
        assert_eq!(scaled(" .5 ", 1), Some(5));
        assert_eq!(scaled("20", 1), Some(200));
        for bad in ["", ".", "1.2.3", "1,2,3", "abc", "-1", "1.2345", "1,23,4"] {
            assert_eq!(scaled(bad, 3), None, "{bad}");
        }
    }
}
