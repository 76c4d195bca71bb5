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

/// Letters and digits a code is made of: none that read alike (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// An invitation code of eight characters from eight random draws,
/// written `ABCD-2345` to be read aloud or typed on a phone.
pub fn invitation_code(draws: [u8; 8]) -> String {
    let c: Vec<char> = draws.iter().map(|d| CODE_ALPHABET[*d as usize % CODE_ALPHABET.len()] as char).collect();
    format!("{}-{}", c[..4].iter().collect::<String>(), c[4..].iter().collect::<String>())
}

/// A code as typed (lower case, spaces, with or without the dash) in the
/// form it was given, or `None` when it cannot be one.
pub fn normalize_invitation_code(s: &str) -> Option<String> {
    let c: String = s.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    if c.len() != 8 || !c.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!("{}-{}", &c[..4], &c[4..]))
}

#[cfg(test)]
mod invitation_tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = invitation_code([0, 1, 2, 3, 30, 31, 200, 9]);
        assert_eq!(code, "2345-Z2GB");
        assert_eq!(normalize_invitation_code(" 2345 z2gb ").as_deref(), Some("2345-Z2GB"));
        assert_eq!(normalize_invitation_code("2345-Z2GB").as_deref(), Some(code.as_str()));
    }

    #[test]
    fn look_alike_and_short_codes_are_not_codes() {
        assert_eq!(normalize_invitation_code("2345-Z2Q0"), None);
        assert_eq!(normalize_invitation_code("2345-Z2Q"), None);
        assert_eq!(normalize_invitation_code("2345-Z2QBB"), None);
    }
}
