//! Cell-level rules: name splitting, NPI check digits, SID shape and multi-valued cells.

/// Splits `FAMILY, GIVEN` at the first comma into (family, given), both trimmed.
///
/// Returns `None` when there is no comma or one side is empty, so `BRIARWOOD, FRONT DESK 1`
/// splits but `Front Desk` and `SMITH,` do not. Names are kept in the export's case.
pub(crate) fn split_last_comma_first(name: &str) -> Option<(&str, &str)> {
    let (family, given) = name.split_once(',')?;
    let (family, given) = (family.trim(), given.trim());
    (!family.is_empty() && !given.is_empty()).then_some((family, given))
}

/// Checks an NPI: ten digits whose last digit is the Luhn check digit computed over the
/// other nine with the card-issuer prefix `80840`, as the CMS NPI standard defines it.
pub(crate) fn npi_is_valid(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits = "80840".bytes().chain(npi.bytes()).map(|b| u32::from(b - b'0'));
    let digits: Vec<u32> = digits.collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks the string form of a Windows security identifier: `S-1-` followed by
/// dash-separated decimal numbers (MS-DTYP section 2.4.2.1).
pub(crate) fn looks_like_sid(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("S-1-") else { return false };
    !rest.is_empty()
        && rest.split('-').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits a multi-valued cell at `separator` (or not at all), trimming each value and
/// dropping empty ones.
///
/// The separator is matched trimmed, so `; ` also splits `a;b`, and a value with inner
/// spaces keeps them.
pub(crate) fn split_values<'a>(cell: &'a str, separator: Option<&str>) -> Vec<&'a str> {
    let separator = separator.map(str::trim).filter(|s| !s.is_empty());
    let parts: Vec<&str> = match separator {
        Some(separator) => cell.split(separator).collect(),
        None => vec![cell],
    };
    parts.into_iter().map(str::trim).filter(|value| !value.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_split_at_first_comma() {
        assert_eq!(split_last_comma_first("SZCZEPAŃSKA, HALINA"), Some(("SZCZEPAŃSKA", "HALINA")));
        assert_eq!(split_last_comma_first("SMITH, JOHN, JR"), Some(("SMITH", "JOHN, JR")));
        assert_eq!(split_last_comma_first("Front Desk"), None);
        assert_eq!(split_last_comma_first("SMITH, "), None);
        assert_eq!(split_last_comma_first(", JOHN"), None);
    }

    #[test]
    fn npi_check_digit() {
        assert!(npi_is_valid("1234567893"));
        assert!(npi_is_valid("9999900118"));
        assert!(!npi_is_valid("1234567890"));
        assert!(!npi_is_valid("123456789"));
        assert!(!npi_is_valid("12345678 3"));
        assert!(!npi_is_valid("１234567893"));
    }

    #[test]
    fn sid_shape() {
        assert!(looks_like_sid("S-1-5-21-3623811015-3361044348-30300820-4117"));
        assert!(!looks_like_sid("S-1-"));
        assert!(!looks_like_sid("S-1-5--1"));
        assert!(!looks_like_sid("qvanterpool@example.org"));
    }

    #[test]
    fn values_split_and_trimmed() {
        assert_eq!(split_values("a; b ;; c", Some("; ")), ["a", "b", "c"]);
        assert_eq!(split_values("Nurse; Triage", None), ["Nurse; Triage"]);
        assert_eq!(split_values("  ", Some("; ")), Vec::<&str>::new());
        assert_eq!(split_values("a | b", Some(" | ")), ["a", "b"]);
    }
}
