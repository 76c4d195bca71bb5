//! What waits for a decision in 待我审批.

crate::labelled! {
    /// What an item in 待我审批 asks.
    pub enum AwaitingKind {
        Funding = ("funding", "资金申请", "Funding application"),
        Expense = ("expense", "大额支出", "Large expense"),
        Export = ("export", "完整信息导出", "Full-data export"),
        Points = ("points", "积分调整", "Points adjustment"),
    }
}
