//! A browser's `User-Agent` told as a person would say it: "Chrome · Android".

/// The browser and the system, or "" when neither is known. Order matters:
/// Edge and WeChat also call themselves Chrome and Safari.
pub fn describe(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = [
        ("MicroMessenger", "微信 WeChat"),
        ("DingTalk", "钉钉 DingTalk"),
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, name)| name);
    let system = [
        ("HarmonyOS", "HarmonyOS"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn names_browsers_and_systems() {
        let android = "Mozilla/5.0 (Linux; Android 14; V2231A) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/120.0.0.0 Mobile Safari/537.36";
        assert_eq!(describe(android), "Chrome · Android");
        let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44";
        assert_eq!(describe(wechat), "微信 WeChat · iPhone");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                    Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
        assert_eq!(describe(edge), "Edge · Windows");
        assert_eq!(describe("curl/8.5.0"), "curl");
        assert_eq!(describe(""), "");
    }
}
