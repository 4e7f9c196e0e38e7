//! The list filters Atlassian's SCIM service answers: `userName eq`, `externalId eq` (users) and
//! `displayName eq` (groups). Anything else is a 400 `invalidFilter`, as Atlassian answers it.

use crate::sim::error::SimError;

/// A parsed `attribute eq "value"` filter.
#[derive(Debug, PartialEq, Eq)]
pub struct EqFilter {
    /// The attribute, as written by the caller.
    pub attribute: String,
    /// The value, unquoted and unescaped.
    pub value: String,
}

/// Parses `attr eq "value"`, refusing every other form and any attribute outside `allowed`.
pub fn parse(filter: &str, allowed: &[&str]) -> Result<EqFilter, SimError> {
    let invalid = || {
        SimError::bad_request(
            "invalidFilter",
            format!(
                "Unsupported filter: {filter}. Only {} are supported",
                allowed
                    .iter()
                    .map(|a| format!("{a} eq"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let f = filter.trim();
    let (attribute, rest) = f.split_once(char::is_whitespace).ok_or_else(invalid)?;
    let rest = rest.trim_start();
    let (op, value) = rest.split_once(char::is_whitespace).ok_or_else(invalid)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(invalid());
    }
    let canonical = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(attribute))
        .ok_or_else(invalid)?;
    let value = value.trim();
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(invalid)?;
    let mut unescaped = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescaped.push(chars.next().ok_or_else(invalid)?),
            '"' => return Err(invalid()),
            c => unescaped.push(c),
        }
    }
    Ok(EqFilter {
        attribute: (*canonical).to_owned(),
        value: unescaped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_only_on_allowed_attributes() {
        let f = parse(r#"userName eq "ada@x.io""#, &["userName", "externalId"]).unwrap();
        assert_eq!(
            f,
            EqFilter {
                attribute: "userName".into(),
                value: "ada@x.io".into()
            }
        );
        let f = parse(r#"USERNAME EQ "a \"b\"""#, &["userName"]).unwrap();
        assert_eq!(f.value, r#"a "b""#);
        for bad in [
            r#"emails[type eq "work"].value eq "a""#,
            r#"userName sw "a""#,
            r#"userName eq "a" and externalId eq "b""#,
            r#"title eq "x""#,
            "userName eq unquoted",
            "",
        ] {
            assert_eq!(
                parse(bad, &["userName", "externalId"])
                    .unwrap_err()
                    .scim_type,
                Some("invalidFilter"),
                "{bad}"
            );
        }
    }
}
