//! IAM identifiers as validated types: an account id, a role name and a role path.
//!
//! The rules are IAM's own: a role name is 1-64 characters of `[A-Za-z0-9+=,.@_-]` and is
//! case-sensitive wherever Okta sees it; a path starts and ends with `/`; an account id is
//! twelve digits.

use std::fmt;

/// A twelve-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("{raw:?} is not a 12-digit AWS account id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IAM role name, without its path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

impl RoleName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("role name is empty".to_owned());
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "role name is {} characters long, IAM allows at most {}",
                raw.chars().count(),
                Self::MAX_LEN
            ));
        }
        if let Some(bad) = raw.chars().find(|c| !is_role_name_char(*c)) {
            return Err(format!(
                "role name {raw:?} has {bad:?}, IAM allows only letters, digits and +=,.@_-"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// An IAM path such as `/` or `/okta/federated/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RolePath(String);

impl RolePath {
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid_chars = raw.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
        if raw.starts_with('/') && raw.ends_with('/') && raw.len() <= 512 && valid_chars {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "path {raw:?} must start and end with '/' and hold at most 512 printable ASCII characters"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RolePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_name_accepts_every_punctuation_iam_allows() {
        let name = RoleName::parse("Data.Eng+Ops=Team,Read@Only_v-2").unwrap();
        assert_eq!(name.as_str(), "Data.Eng+Ops=Team,Read@Only_v-2");
    }

    #[test]
    fn role_name_rejects_a_slash_and_says_which_character() {
        let err = RoleName::parse("team/admin").unwrap_err();
        assert!(err.contains("'/'"), "{err}");
    }

    #[test]
    fn role_name_of_sixty_five_characters_is_rejected() {
        assert!(RoleName::parse(&"a".repeat(64)).is_ok());
        let err = RoleName::parse(&"a".repeat(65)).unwrap_err();
        assert!(err.contains("65"), "{err}");
    }

    #[test]
    fn account_id_must_be_twelve_digits() {
        assert!(AccountId::parse("111122223333").is_ok());
        for bad in ["11112222333", "1111222233334", "11112222333x", ""] {
            assert!(AccountId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_must_be_slash_delimited() {
        assert!(RolePath::parse("/okta/federated/").is_ok());
        assert!(RolePath::parse("okta/").is_err());
        assert!(RolePath::parse("/okta").is_err());
    }
}
