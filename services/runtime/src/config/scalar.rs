//! Scalar parsing by the YAML 1.2 core schema, for fields whose type expects a boolean or
//! a number, and for fields of any type (`deserialize_any`).

/// Reads `true` or `false` in the three spellings the core schema allows.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Reads a decimal integer with an optional sign, or `0x` hexadecimal or `0o` octal.
pub(crate) fn parse_integer(text: &str) -> Option<i128> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = unsigned.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = unsigned.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, unsigned)
    };
    // `from_str_radix` accepts its own sign, which the prefix forms must not have twice.
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    if negative { magnitude.checked_neg() } else { Some(magnitude) }
}

/// Reads a decimal number, or `.inf`, `-.inf` and `.nan` in the core schema's spellings.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let looks_numeric =
        text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !looks_numeric || !text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_forms() {
        assert_eq!(parse_integer("8080"), Some(8080));
        assert_eq!(parse_integer("-12"), Some(-12));
        assert_eq!(parse_integer("+7"), Some(7));
        assert_eq!(parse_integer("0x1F"), Some(31));
        assert_eq!(parse_integer("0o17"), Some(15));
    }

    #[test]
    fn integer_rejects_non_numbers() {
        assert_eq!(parse_integer(""), None);
        assert_eq!(parse_integer("-"), None);
        assert_eq!(parse_integer("0x"), None);
        assert_eq!(parse_integer("0x-1"), None);
        assert_eq!(parse_integer("12a"), None);
        assert_eq!(parse_integer("1_000"), None);
    }

    #[test]
    fn float_forms() {
        assert_eq!(parse_float("2.5"), Some(2.5));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("-.inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float(".nan").is_some_and(f64::is_nan));
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_float("e"), None);
    }

    #[test]
    fn bool_forms() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
