//! The National Provider Identifier check digit.

/// Checks that `npi` is ten ASCII digits whose last digit is the Luhn check digit.
///
/// CMS's "Requirements for NPI Check Digit" computes the check digit with the Luhn formula
/// (ISO/IEC 7812) as if the prefix `80840` (health applications, United States) preceded
/// the NPI. That prefix adds a constant 24 to the sum, which is the form used here. Issued
/// NPIs also start with 1 or 2, but that is not checked, because published synthetic
/// examples (US Core's `9941339100`) start with other digits.
pub fn is_valid_npi(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }

    // Walk from the check digit leftwards: every second digit is doubled, and a doubled
    // value above 9 contributes its digit sum (the same as subtracting 9).
    let mut sum: u32 = 24;
    for (position, byte) in npi.bytes().rev().enumerate() {
        let digit = u32::from(byte - b'0');
        sum += if position % 2 == 1 {
            let doubled = digit * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            digit
        };
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::is_valid_npi;

    #[test]
    fn npi_check_digit_accepts_published_examples() {
        // 1234567893 is the worked example in the CMS check-digit requirements; the others
        // are the NPIs of the FHIR examples under testdata.
        for npi in ["1234567893", "9941339100", "9999991018", "5185897399", "1100099997"] {
            assert!(is_valid_npi(npi), "{npi}");
        }
    }

    #[test]
    fn npi_check_digit_rejects_changed_digit() {
        assert!(!is_valid_npi("1234567894"));
        assert!(!is_valid_npi("9941339101"));
    }

    #[test]
    fn npi_check_digit_rejects_bad_shapes() {
        for npi in ["", "123456789", "12345678930", "12345678 3", "١٢٣٤٥٦٧٨٩٣", "+234567893"]
        {
            assert!(!is_valid_npi(npi), "{npi:?}");
        }
    }
}
