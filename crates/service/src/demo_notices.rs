//! The demo's notices: a pinned one to the whole community, one to a grid,
//! one to a building, one for this week only and one coming next week.

use yijia_domain::time::{DAY_MS, rfc3339};
use yijia_store::{meta, org, places};

use crate::notices::NoticeInput;
use crate::{Result, Services};

impl Services {
    /// Posts the demo notices, once; how many.
    pub async fn seed_demo_notices(&self) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_notices").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let building = match &community {
            Some(c) => places::buildings_of(&mut tx, c.id).await?.into_iter().next(),
            None => None,
        };
        tx.commit().await?;
        if done || community.is_none() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_notices", "1").await?;
        tx.commit().await?;
        let secretary = self.demo_caller("secretary").await?;
        let worker = self.demo_caller("worker1").await?;
        let now = self.now();
        let notice = |title: &str, body: &str| NoticeInput {
            title: title.into(),
            body: body.into(),
            pinned: false,
            grid: None,
            building_id: None,
            publish_from: None,
            publish_until: None,
        };
        let list = [
            (
                &secretary,
                NoticeInput {
                    pinned: true,
                    ..notice(
                        "冬季防火安全提示",
                        "楼道内请勿堆放杂物、停放电动车。\n发现隐患请拨打社区电话或在「我的诉求」中反映。",
                    )
                },
            ),
            (
                &secretary,
                NoticeInput {
                    publish_until: Some(rfc3339(now + 5 * DAY_MS)),
                    ..notice("停水通知", "因管网维修,丁香花园三期本周四 9:00-15:00 停水,请提前储水。")
                },
            ),
            (
                &worker,
                NoticeInput {
                    grid: Some("chengnan-g01".into()),
                    ..notice("第一网格本周走访安排", "网格员本周走访独居老人和困难家庭,如需帮助可当面提出。")
                },
            ),
            (
                &secretary,
                NoticeInput {
                    publish_from: Some(rfc3339(now + 7 * DAY_MS)),
                    ..notice("元旦联欢会报名", "12 月 31 日下午在社区活动室举办元旦联欢,欢迎报名表演节目。")
                },
            ),
        ];
        let mut made = 0;
        for (who, input) in list {
            self.post_notice(who, Some("chengnan"), input).await?;
            made += 1;
        }
        if let Some(b) = building {
            let input = NoticeInput {
                building_id: Some(b.id),
                ..notice(&format!("{} 电梯年检", b.name), "本周五上午电梯年检,暂停使用约两小时,请走楼梯并注意安全。")
            };
            self.post_notice(&secretary, Some("chengnan"), input).await?;
            made += 1;
        }
        Ok(made)
    }
}
