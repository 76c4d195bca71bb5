//! Usernames.

use crate::Invalid;

/// A login name: 2–64 characters of letters, digits, `.`, `_`, `-`, `@`, or
/// an 11-digit mobile number (residents sign in with their phone).
pub fn validate_username(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    let ok =
        (2..=64).contains(&n) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok {
        return Err(Invalid::new(
            "username",
            "用户名须为 2–64 位字母、数字或 . _ - @",
            "the username must be 2–64 letters, digits or . _ - @",
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// A person's display name: 1–32 characters.
pub fn validate_display_name(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > 32 || s.chars().any(char::is_control) {
        return Err(Invalid::new("display_name", "姓名须为 1–32 个字符", "the display name must be 1–32 characters"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(validate_username(" Secretary ").unwrap(), "secretary");
        assert!(validate_username("13800138000").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("王小红").is_err());
        assert!(validate_username("a b").is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(validate_display_name(" 王小红 ").unwrap(), "王小红");
        assert!(validate_display_name("").is_err());
        assert!(validate_display_name(&"王".repeat(33)).is_err());
    }
}
