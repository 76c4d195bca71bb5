//! Telling people: what is told (`Topic`), through which channel, the
//! words of each message, quiet hours and the length rules of an SMS. No
//! message carries an ID number, a category or more than the first
//! character of a name: the words are fixed here, with only numbers, dates
//! and links as variables.

use chrono::Timelike;

use crate::time::{MINUTE_MS, to_local};

crate::labelled! {
    stored in "deliveries.channel, staff_groups.kind";
    /// How a message reaches a person. In-app needs no provider.
    pub enum NotifyChannel {
        InApp = ("in_app", "站内消息", "In-app"),
        Sms = ("sms", "短信", "SMS"),
        Email = ("email", "邮件", "Email"),
        /// A staff work group's robot: a grid's or a community's group.
        WeCom = ("wecom", "企业微信群", "WeCom group"),
        DingTalk = ("dingtalk", "钉钉群", "DingTalk group"),
    }
}

impl NotifyChannel {
    /// The channels that go out through a provider, held by quiet hours.
    pub const OUTBOUND: [NotifyChannel; 2] = [NotifyChannel::Sms, NotifyChannel::Email];
    /// What a person chooses among; work groups are set up by the community.
    pub const PERSONAL: [NotifyChannel; 3] = [NotifyChannel::InApp, NotifyChannel::Sms, NotifyChannel::Email];
    /// The robots of staff work groups.
    pub const GROUPS: [NotifyChannel; 2] = [NotifyChannel::WeCom, NotifyChannel::DingTalk];
}

crate::labelled! {
    stored in "deliveries.state";
    /// Where one message to one person through one channel stands.
    pub enum DeliveryState {
        Queued = ("queued", "待发送", "Queued"),
        /// Handed to a sender under a lease; if the sender dies, it is
        /// sent again under the same message id when the lease ends.
        Sending = ("sending", "发送中", "Sending"),
        Sent = ("sent", "已发送", "Sent"),
        /// The provider's receipt says the phone got it.
        Delivered = ("delivered", "已送达", "Delivered"),
        /// Will not be sent: no address, stopped, over the daily cap, or
        /// refused by the provider for good.
        Failed = ("failed", "发送失败", "Failed"),
        /// Failed every retry; waits for an admin.
        Parked = ("parked", "已搁置", "Parked"),
    }
}

crate::labelled! {
    stored in "deliveries.topic";
    /// What a message is about; each person chooses channels per topic.
    pub enum Topic {
        CaseAccepted = ("case_accepted", "诉求已受理", "Request accepted"),
        CaseResolved = ("case_resolved", "诉求已办结", "Request resolved"),
        CaseReopened = ("case_reopened", "案件重新办理", "Case reopened"),
        CaseAssigned = ("case_assigned", "新派单", "Case assigned"),
        CaseNearDeadline = ("case_near_deadline", "案件临期", "Case near its deadline"),
        CaseOverdue = ("case_overdue", "案件超期", "Case overdue"),
        CaseEscalated = ("case_escalated", "案件上报街道", "Case escalated"),
        /// Something waits for this person's decision: money, an export in
        /// full, a points adjustment (told when it is asked).
        ApprovalAsked = ("approval_asked", "待我审批", "Awaiting my approval"),
        RedemptionReady = ("redemption_ready", "兑换待领取", "Redemption ready"),
        AppointmentTomorrow = ("appointment_tomorrow", "明日预约", "Appointment tomorrow"),
        VoteOpen = ("vote_open", "验收投票", "Vote open"),
        Notice = ("notice", "社区公告", "Community notice"),
        VisitsOverdue = ("visits_overdue", "走访逾期", "Visits overdue"),
        /// Each morning, for grid workers, secretaries and street officers:
        /// what is overdue, near, waiting for approval.
        DailyDigest = ("daily_digest", "每日待办", "Daily digest"),
        /// Each morning, the count of unread messages about the topics a
        /// person chose daily, on the channels chosen for them.
        Summary = ("summary", "消息汇总", "Summary of messages"),
        /// An emergency broadcast: every channel, quiet hours and the daily
        /// cap overridden; not a choice on the preferences page.
        Emergency = ("emergency", "紧急广播", "Emergency broadcast"),
        /// A one-time code a resident asked for to log in: sent at once by
        /// SMS to that phone alone, never kept as a message.
        LoginCode = ("login_code", "登录验证码", "Login code"),
    }
}

/// Who a topic is for: what the preferences page offers each person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Residents,
    Staff,
    /// Whoever is in the area: no one opts out.
    Everyone,
    /// Told on the channels chosen for other topics (the daily summary).
    Chosen,
    /// Whoever asked for it, by SMS (a login code): not a choice.
    Asker,
}

impl Topic {
    pub fn audience(self) -> Audience {
        match self {
            Topic::CaseAccepted
            | Topic::CaseResolved
            | Topic::RedemptionReady
            | Topic::AppointmentTomorrow
            | Topic::VoteOpen
            | Topic::Notice => Audience::Residents,
            Topic::Emergency => Audience::Everyone,
            Topic::Summary => Audience::Chosen,
            Topic::LoginCode => Audience::Asker,
            _ => Audience::Staff,
        }
    }

    /// Whether a person may choose it daily (its SMS and email in the
    /// morning's summary): not what comes once a day anyway, nor what is
    /// about tomorrow, nor an emergency.
    pub fn may_be_daily(self) -> bool {
        !matches!(
            self,
            Topic::DailyDigest
                | Topic::VisitsOverdue
                | Topic::AppointmentTomorrow
                | Topic::Emergency
                | Topic::Summary
                | Topic::LoginCode
        )
    }

    /// The channels a person gets when they have chosen none: residents
    /// hear of their own affairs by SMS, staff by email when they gave one;
    /// notices and votes, told to whole buildings, stay in the app unless
    /// one asks for more.
    pub fn default_channels(self) -> &'static [NotifyChannel] {
        if matches!(self, Topic::Notice | Topic::VoteOpen) {
            return &[NotifyChannel::InApp];
        }
        match self.audience() {
            Audience::Residents => &[NotifyChannel::InApp, NotifyChannel::Sms],
            Audience::Staff => &[NotifyChannel::InApp, NotifyChannel::Email],
            Audience::Everyone => &NotifyChannel::PERSONAL,
            Audience::Chosen => &[],
            Audience::Asker => &[NotifyChannel::Sms],
        }
    }

    /// The words, with `{name}` variables, Chinese then English. The SMS
    /// template registered with the provider is the Chinese text.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Topic::CaseAccepted => (
                "您反映的问题（编号{no}）已受理，我们会尽快办理。",
                "Your request (no. {no}) has been accepted; we will act on it soon.",
            ),
            Topic::CaseResolved => (
                "您反映的问题（编号{no}）已办结，请评价：{link}",
                "Your request (no. {no}) is resolved. Please rate it: {link}",
            ),
            Topic::CaseReopened => (
                "问题（编号{no}）已重新办理，请跟进。{link}",
                "Case no. {no} has been reopened; please follow it up. {link}",
            ),
            Topic::CaseAssigned => {
                ("新派单：编号{no}，请按时受理。{link}", "New case no. {no} is yours; please accept it in time. {link}")
            }
            Topic::CaseNearDeadline => {
                ("案件编号{no}于{due}到期：{link}", "Case no. {no} is due at {due}; please act soon. {link}")
            }
            Topic::CaseOverdue => {
                ("案件（编号{no}）已超期，请立即办理。{link}", "Case no. {no} is overdue; please act now. {link}")
            }
            Topic::CaseEscalated => {
                ("案件（编号{no}）已上报街道，请查看。{link}", "Case no. {no} was escalated to the subdistrict. {link}")
            }
            Topic::ApprovalAsked => ("有一项{what}等您审批：{link}", "Waiting for your approval: {what_en}. {link}"),
            Topic::RedemptionReady => (
                "您兑换的物品已备好，请凭取货码到驿站领取：{link}",
                "Your redeemed item is ready: collect it at the station with your pickup code. {link}",
            ),
            Topic::AppointmentTomorrow => (
                "您预约的服务在{when}，请按时到站：{link}",
                "Your appointment is at {when}; please come on time. {link}",
            ),
            Topic::VoteOpen => (
                "您楼栋的修缮项目已完工，请参加验收投票：{link}",
                "A repair on your building is finished: please vote on it. {link}",
            ),
            Topic::Notice => ("社区发布了新公告，请查看：{link}", "Your community posted a notice: {link}"),
            Topic::VisitsOverdue => (
                "您的网格有{count}人已过走访日期，请安排走访：{link}",
                "{count} people in your grids are past their visit date. {link}",
            ),
            // its link is the home page, not a case
            Topic::DailyDigest => (
                "待办：超期{late}件，临期{near}件，待审批{approvals}项，未走访{visits}人：{link}",
                "Today: {late} cases overdue, {near} near their deadline, {approvals} awaiting approval, \
                 {visits} visits overdue. {link}",
            ),
            Topic::Summary => ("您有{count}条未读消息：{link}", "You have {count} unread messages: {link}"),
            Topic::LoginCode => (
                "您的登录验证码是{code}，5分钟内有效，请勿告诉他人。",
                "Your login code is {code}; it expires in 5 minutes. Tell no one.",
            ),
            // the reason is what the sender typed, within `broadcast::REASON_MAX`
            Topic::Emergency => ("{level}预警：{reason}。{link}", "{level_en} warning: {reason}. {link}"),
        }
    }

    /// The variables of the template, in the order Tencent's
    /// `TemplateParamSet` takes them.
    pub fn variables(self) -> Vec<&'static str> {
        let (zh, _) = self.words();
        let mut out = Vec::new();
        let mut rest = zh;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else { break };
            out.push(&rest[start + 1..start + len]);
            rest = &rest[start + len + 1..];
        }
        out
    }
}

/// A message's variables: each a number, a date or a link, never a name.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.push((name.to_owned(), value.into()));
        self
    }

    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The text of a message about `topic`, in Chinese or English.
pub fn render(topic: Topic, params: &Params, en: bool) -> String {
    let (zh, english) = topic.words();
    let mut text = if en { english } else { zh }.to_owned();
    for (name, value) in &params.0 {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text.trim_end().to_owned()
}

/// Characters in one SMS: 70 alone; a long message is sent in parts of 67.
pub const SMS_SEGMENT: usize = 70;
const SMS_PART: usize = 67;

/// How many SMS a text costs, the signature (【驿家】) included.
pub fn sms_parts(text: &str) -> usize {
    let n = text.chars().count();
    if n <= SMS_SEGMENT { 1 } else { n.div_ceil(SMS_PART) }
}

/// A person's quiet hours, in minutes after local midnight; the window may
/// cross midnight (22:00–07:00, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuietHours {
    pub from: i64,
    pub to: i64,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self { from: 22 * 60, to: 7 * 60 }
    }
}

impl QuietHours {
    /// Off: `from` equals `to`.
    pub fn none() -> Self {
        Self { from: 0, to: 0 }
    }

    /// `22:00` → minutes; an hour 0–23 and minutes 0–59.
    pub fn parse_time(s: &str) -> Option<i64> {
        let (h, m) = s.trim().split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
    }

    pub fn show(minutes: i64) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    fn covers(self, minute: i64) -> bool {
        match self.from.cmp(&self.to) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => (self.from..self.to).contains(&minute),
            std::cmp::Ordering::Greater => minute >= self.from || minute < self.to,
        }
    }

    /// When a routine message due at `now` may go: `now` itself, or the
    /// end of the quiet hours it falls in.
    pub fn release(self, now: i64) -> i64 {
        let local = to_local(now);
        let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
        if !self.covers(minute) {
            return now;
        }
        let wait = (self.to - minute).rem_euclid(24 * 60);
        let into_minute = i64::from(local.second()) * 1000 + i64::from(local.timestamp_subsec_millis());
        now + wait * MINUTE_MS - into_minute
    }
}

/// The first character of a name and a mark for the rest: 张** for 张三丰.
pub fn initial(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().clamp(1, 3))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::start_of_day;

    fn at(h: u32, m: u32) -> i64 {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default();
        start_of_day(day) + i64::from(h * 60 + m) * MINUTE_MS
    }

    #[test]
    fn quiet_hours_hold_a_message_until_they_end() {
        let q = QuietHours::default();
        assert_eq!(q.release(at(12, 0)), at(12, 0));
        assert_eq!(q.release(at(21, 59)), at(21, 59));
        assert_eq!(q.release(at(22, 0)), at(22, 0) + 9 * 60 * MINUTE_MS);
        assert_eq!(q.release(at(23, 30) + 1234), at(23, 30) + (7 * 60 + 30) * MINUTE_MS);
        assert_eq!(q.release(at(3, 0)), at(7, 0));
        assert_eq!(q.release(at(7, 0)), at(7, 0));
        // a window inside one day, and none
        let day = QuietHours { from: 12 * 60, to: 14 * 60 };
        assert_eq!(day.release(at(13, 0)), at(14, 0));
        assert_eq!(day.release(at(23, 0)), at(23, 0));
        assert_eq!(QuietHours::none().release(at(23, 0)), at(23, 0));
    }

    #[test]
    fn times_of_day_parse_strictly() {
        assert_eq!(QuietHours::parse_time("22:00"), Some(1320));
        assert_eq!(QuietHours::parse_time(" 7:05 "), Some(425));
        for bad in ["24:00", "7", "07:60", "-1:00", "a:b", ""] {
            assert_eq!(QuietHours::parse_time(bad), None, "{bad}");
        }
        assert_eq!(QuietHours::show(425), "07:05");
    }

    #[test]
    fn every_message_fits_one_sms_with_the_longest_variables() {
        // ten million cases, and a public address of up to 24 characters
        let longest = Params::default()
            .with("no", "9999999")
            .with("due", "12-31 23:59")
            .with("level", "三级")
            .with("level_en", "Level 3")
            .with("reason", "字".repeat(crate::broadcast::REASON_MAX))
            .with("when", "12-31 23:59")
            .with("count", "99999")
            .with("late", "99999")
            .with("near", "99999")
            .with("approvals", "999")
            .with("visits", "99999")
            .with("what", "完整信息导出")
            .with("what_en", "Full-data export")
            .with("code", "999999");
        for topic in Topic::ALL {
            let link = match topic {
                Topic::DailyDigest => "https://yijia.example.cn/",
                _ => "https://yijia.example.cn/cases/9999999",
            };
            let longest = longest.clone().with("link", link);
            let text = format!("【驿家】{}", render(topic, &longest, false));
            assert_eq!(sms_parts(&text), 1, "{topic:?}: {} characters: {text}", text.chars().count());
            assert!(!text.contains('{'), "{topic:?}: {text}");
            assert!(!render(topic, &longest, true).contains('{'), "{topic:?}");
        }
    }

    #[test]
    fn the_link_stands_last_after_a_stop_so_the_in_app_text_without_it_reads_whole() {
        for topic in Topic::ALL {
            let (zh, en) = topic.words();
            if !zh.contains("{link}") {
                continue;
            }
            let (zh, en) = (zh.strip_suffix("{link}"), en.strip_suffix("{link}"));
            assert!(zh.is_some_and(|t| t.ends_with(['：', '。'])), "{topic:?}: {zh:?}");
            assert!(en.is_some_and(|t| t.ends_with(". ") || t.ends_with(": ")), "{topic:?}: {en:?}");
        }
    }

    #[test]
    fn a_long_text_costs_parts_of_67() {
        assert_eq!(sms_parts(&"字".repeat(70)), 1);
        assert_eq!(sms_parts(&"字".repeat(71)), 2);
        assert_eq!(sms_parts(&"字".repeat(134)), 2);
        assert_eq!(sms_parts(&"字".repeat(135)), 3);
    }

    #[test]
    fn variables_come_in_the_order_of_the_text() {
        assert_eq!(Topic::CaseNearDeadline.variables(), vec!["no", "due", "link"]);
        assert_eq!(Topic::CaseAccepted.variables(), vec!["no"]);
    }

    #[test]
    fn a_name_shows_only_its_first_character() {
        assert_eq!(initial("张三丰"), "张**");
        assert_eq!(initial("李四"), "李*");
        assert_eq!(initial("欧阳"), "欧*");
        assert_eq!(initial(""), "");
    }
}
