//! The audit log's hash chain: each entry's hash covers its own fields and
//! the hash of the entry before, so a changed or removed entry breaks every
//! link after it.

use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an entry that the chain covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: Option<i64>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub object: &'a str,
    pub org_path: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
}

pub fn entry_hash(prev_hash: &str, e: &EntryFields<'_>) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so that no two different entries can
    // serialise to the same bytes.
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(prev_hash.as_bytes());
    field(&e.seq.to_be_bytes());
    field(&e.at_ms.to_be_bytes());
    field(e.actor.map(|a| a.to_string()).unwrap_or_default().as_bytes());
    field(e.actor_name.as_bytes());
    field(e.action.as_bytes());
    field(e.outcome.as_bytes());
    field(e.object.as_bytes());
    field(e.org_path.as_bytes());
    field(e.ip.as_bytes());
    field(e.detail.as_bytes());
    hex::encode(h.finalize())
}

/// What an erasure keeps checkable of the entries it empties. Their hashes
/// can no longer be recomputed, so the erasure's own entry (itself in the
/// chain) carries a digest of what each keeps: its place, time, actor,
/// action, outcome, object, org path and stored hash, in order.
#[derive(Debug, Clone, Default)]
pub struct KeptDigest(Sha256);

impl KeptDigest {
    pub fn add(&mut self, e: &EntryFields<'_>, hash: &str) {
        let mut field = |b: &[u8]| {
            self.0.update((b.len() as u64).to_be_bytes());
            self.0.update(b);
        };
        field(&e.seq.to_be_bytes());
        field(&e.at_ms.to_be_bytes());
        field(e.actor.map(|a| a.to_string()).unwrap_or_default().as_bytes());
        field(e.action.as_bytes());
        field(e.outcome.as_bytes());
        field(e.object.as_bytes());
        field(e.org_path.as_bytes());
        field(hash.as_bytes());
    }

    /// Hex in groups of eight: the audit log masks any eleven digits in a
    /// row as a mobile number, and a bare digest has such runs.
    pub fn finish(self) -> String {
        let hex = hex::encode(self.0.finalize());
        hex.as_bytes().chunks(8).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
    }
}

/// What an audited action on a record, or a change in its categories,
/// means for the person reading: (code, zh, en).
pub const RECORD_ACTIONS: &[(&str, &str, &str)] = &[
    ("resident_view", "查看了档案", "viewed the record"),
    ("resident_unmask", "查看了完整信息", "showed data in full"),
    ("resident_add", "登记", "registered"),
    ("resident_category", "调整了类别", "changed categories"),
    ("visit_read", "查看了走访记录", "read the visits"),
    ("care_plan", "调整了走访间隔", "changed the visit interval"),
    ("resident_edit", "修改了信息", "edited the record"),
    ("resident_life", "登记了在册变动", "recorded a change on the register"),
    ("resident_life_read", "查看了在册变动", "read the changes on the register"),
    ("data_copy", "导出了个人信息副本", "made a copy of the data"),
    ("resident_invite", "生成了账号邀请码", "made an invitation code"),
    ("proxy_link", "登记了家属代办", "linked a family proxy"),
    ("record_request", "提出了更正或删除申请", "asked for a correction or an erasure"),
    ("record_request_answer", "答复了更正或删除申请", "answered a correction or erasure request"),
    ("resident_move", "登记了迁居", "recorded a move"),
    ("transfer_request", "申请转至其他社区", "asked another community to take the record over"),
    ("transfer_accept", "接收了转入", "took the record over"),
    ("added", "加入", "added"),
    ("removed", "移出", "removed"),
    ("changed", "修改", "changed"),
];

/// A protected field by name: (zh, en); empty for one it does not know.
pub fn field_name(field: &str) -> (&'static str, &'static str) {
    match field {
        "id_number" => ("身份证号", "ID number"),
        "phone" => ("电话", "phone"),
        "details" => ("类别详情", "category details"),
        _ => ("", ""),
    }
}

/// An action's words, or the code itself when it has none.
pub fn record_action(code: &str, en: bool) -> &str {
    match RECORD_ACTIONS.iter().find(|(c, ..)| *c == code) {
        Some((_, zh, e)) => {
            if en {
                e
            } else {
                zh
            }
        }
        None => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(action: &str) -> EntryFields<'_> {
        EntryFields {
            seq: 1,
            at_ms: 5,
            actor: Some(2),
            actor_name: "secretary",
            action,
            outcome: "ok",
            object: "user:2",
            org_path: "/root/",
            ip: "127.0.0.1",
            detail: "{}",
        }
    }

    #[test]
    fn hash_depends_on_every_field_and_the_previous_hash() {
        let a = entry_hash(GENESIS, &fields("login"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, entry_hash(GENESIS, &fields("logout")));
        assert_ne!(a, entry_hash(&a, &fields("login")));
        let mut f = fields("login");
        f.actor = None;
        assert_ne!(a, entry_hash(GENESIS, &f));
        let mut f = fields("login");
        f.actor_name = "someone-else";
        assert_ne!(a, entry_hash(GENESIS, &f));
    }

    #[test]
    fn the_kept_digest_ignores_what_an_erasure_empties_and_nothing_else() {
        let digest = |e: &EntryFields<'_>, hash: &str| {
            let mut d = KeptDigest::default();
            d.add(e, hash);
            d.finish()
        };
        let a = digest(&fields("login"), "h");
        let mut emptied = fields("login");
        (emptied.actor_name, emptied.ip, emptied.detail) = ("", "", "");
        assert_eq!(a, digest(&emptied, "h"));
        assert_ne!(a, digest(&fields("logout"), "h"));
        assert_ne!(a, digest(&fields("login"), "g"));
        let mut later = fields("login");
        later.at_ms += 1;
        assert_ne!(a, digest(&later, "h"));
        assert_ne!(a, KeptDigest::default().finish(), "none is not one");
        assert_eq!(crate::phone::mask_mobiles(&a), a, "never taken for a phone number");
        assert_eq!(a.len(), 64 + 7);
    }

    #[test]
    fn field_boundaries_matter() {
        let mut x = fields("ab");
        x.outcome = "c";
        let mut y = fields("a");
        y.outcome = "bc";
        assert_ne!(entry_hash(GENESIS, &x), entry_hash(GENESIS, &y));
    }
}
