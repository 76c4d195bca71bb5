//! Password rules. The default: at least 10 characters and not a common
//! password. A stricter profile (character classes, rotation) is there for
//! deployments whose security assessors ask for it (等保).

use crate::Invalid;

const COMMON: &str = include_str!("common-passwords.txt");

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordPolicy {
    /// Require three of: lower case, upper case, digit, other.
    pub require_classes: bool,
    /// Days after which a password must be changed; 0 = never.
    pub max_age_days: u32,
}

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

impl PasswordPolicy {
    pub fn check(&self, password: &str, username: &str) -> Result<(), Invalid> {
        let n = password.chars().count();
        if n < MIN_LEN {
            return Err(Invalid::new(
                "password",
                format!("密码至少需要 {MIN_LEN} 个字符"),
                format!("the password needs at least {MIN_LEN} characters"),
            ));
        }
        if n > MAX_LEN {
            return Err(Invalid::new(
                "password",
                format!("密码最多 {MAX_LEN} 个字符"),
                format!("the password may have at most {MAX_LEN} characters"),
            ));
        }
        let lower = password.to_lowercase();
        if is_common(&lower) {
            return Err(Invalid::new(
                "password",
                "这个密码太常见,容易被猜到,请换一个",
                "this password is too common and easy to guess; choose another",
            ));
        }
        if !username.is_empty() && lower.contains(&username.to_lowercase()) {
            return Err(Invalid::new("password", "密码不能包含用户名", "the password must not contain the username"));
        }
        if self.require_classes {
            let classes = [
                password.chars().any(|c| c.is_lowercase()),
                password.chars().any(|c| c.is_uppercase()),
                password.chars().any(|c| c.is_ascii_digit()),
                password.chars().any(|c| !c.is_alphanumeric()),
            ];
            if classes.iter().filter(|&&c| c).count() < 3 {
                return Err(Invalid::new(
                    "password",
                    "密码须包含小写字母、大写字母、数字、符号中的至少三类",
                    "the password needs three of: lower case, upper case, digits, symbols",
                ));
            }
        }
        Ok(())
    }

    /// Whether a password set at `set_at_ms` must be changed at `now_ms`.
    pub fn expired(&self, set_at_ms: i64, now_ms: i64) -> bool {
        self.max_age_days > 0 && now_ms - set_at_ms > i64::from(self.max_age_days) * crate::time::DAY_MS
    }
}

fn is_common(lower: &str) -> bool {
    COMMON.lines().filter(|l| !l.starts_with('#')).any(|l| l.trim() == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy() {
        let p = PasswordPolicy::default();
        assert!(p.check("short", "x").is_err());
        assert!(p.check("1234567890", "x").is_err(), "common");
        assert!(p.check("Password123", "x").is_err(), "common, case-insensitive");
        assert!(p.check("丁香花园三期的屋顶漏了", "x").is_ok(), "ten Chinese characters");
        assert!(p.check("wang.xiaohong-2024", "wang.xiaohong").is_err());
        assert!(p.check("correct horse battery", "x").is_ok());
    }

    #[test]
    fn strict_profile_needs_classes() {
        let p = PasswordPolicy { require_classes: true, max_age_days: 90 };
        assert!(p.check("correct horse battery", "x").is_err());
        assert!(p.check("Correct horse battery 9", "x").is_ok());
        assert!(!p.expired(0, 89 * crate::time::DAY_MS));
        assert!(p.expired(0, 91 * crate::time::DAY_MS));
        assert!(!PasswordPolicy::default().expired(0, 10_000 * crate::time::DAY_MS));
    }
}
