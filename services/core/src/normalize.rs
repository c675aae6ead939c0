//! Normalised forms of the keys that identity resolution compares.

use unicode_normalization::UnicodeNormalization;

/// Trims and lowercases a key (employee id, e-mail, login). Empty values give `None`.
pub fn key(value: &str) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() { None } else { Some(trimmed.to_lowercase()) }
}

/// The part of an e-mail address or UPN before `@`, normalised as a key.
pub fn local_part(address: &str) -> Option<String> {
    let (local, _) = address.split_once('@')?;
    key(local)
}

/// Whether `value` looks like an e-mail address or UPN.
pub fn is_address(value: &str) -> bool {
    value.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

/// A person's name as a comparison key: accents removed (NFKD, combining marks dropped),
/// lowercased, split into words, single letters (middle initials) dropped, words sorted.
/// `Núñez, José M` and `jose nunez` give the same key. Fewer than two words give `None`:
/// one word is not enough to tell people apart.
pub fn name_key(name: &str) -> Option<String> {
    let fold = |c: char| if c.is_alphanumeric() { c } else { ' ' };
    // ASCII text is its own NFKD form and has no combining marks. Its lowercase is ASCII
    // too, and an ASCII character is alphanumeric exactly when it is an ASCII letter or
    // digit, so ASCII names skip the Unicode tables, byte by byte, and give the same result.
    let folded: String = if name.is_ascii() {
        let bytes = name
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { b.to_ascii_lowercase() } else { b' ' })
            .collect();
        // Every byte is ASCII, so the conversion cannot fail.
        String::from_utf8(bytes).unwrap_or_default()
    } else {
        name.nfkd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .map(fold)
            .collect()
    };
    let mut words: Vec<&str> =
        folded.split_whitespace().filter(|w| w.chars().count() > 1).collect();
    if words.len() < 2 {
        return None;
    }
    words.sort_unstable();
    Some(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_key_ignores_order_accents_and_initials() {
        assert_eq!(name_key("Núñez, José M"), Some("jose nunez".into()));
        assert_eq!(name_key("JOSE NUNEZ"), Some("jose nunez".into()));
        assert_eq!(name_key("SZCZEPAŃSKA, HALINA"), name_key("Halina Szczepanska"));
        assert_eq!(name_key("Zoë Okafor"), Some("okafor zoe".into()));
    }

    #[test]
    fn ascii_names_fold_as_the_unicode_path_does() {
        // The ASCII fast path must agree with NFKD folding on every printable character.
        let all: String = (0x20u8..0x7f).map(char::from).collect();
        for name in [all.as_str(), "O'Brien-Smith, Mary J.", "Anne  de la Cruz", "X Æ"] {
            let slow: String = name
                .nfkd()
                .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                .flat_map(char::to_lowercase)
                .map(|c| if c.is_alphanumeric() { c } else { ' ' })
                .collect();
            let mut words: Vec<&str> =
                slow.split_whitespace().filter(|w| w.chars().count() > 1).collect();
            words.sort_unstable();
            let expected = (words.len() >= 2).then(|| words.join(" "));
            assert_eq!(name_key(name), expected, "{name:?}");
        }
    }

    #[test]
    fn name_key_needs_two_words() {
        assert_eq!(name_key("Administrator"), None);
        assert_eq!(name_key("  "), None);
    }

    #[test]
    fn local_part_of_upn() {
        assert_eq!(local_part("JNunez@Bayview.example"), Some("jnunez".into()));
        assert_eq!(local_part("no-at-sign"), None);
        assert!(is_address("a@b.example"));
        assert!(!is_address("a@b"));
    }
}
