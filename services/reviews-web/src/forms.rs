//! URL-encoded form bodies with repeated fields (`item=3&item=7`), which serde's form
//! decoding cannot read into a list.

use bytes::Bytes;

/// The fields of a form, in order.
#[derive(Debug, Clone, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &Bytes) -> Self {
        FormFields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// Returns the first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Returns every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_kept() {
        let form = FormFields::parse(&Bytes::from_static(b"item=3&item=7&why=a+b%21"));
        assert_eq!(form.all("item"), ["3", "7"]);
        assert_eq!(form.get("why"), Some("a b!"));
        assert_eq!(form.get("missing"), None);
    }
}
