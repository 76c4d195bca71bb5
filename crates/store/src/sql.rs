//! Statements built from only the parts a filter uses: one written with
//! `$n IS NULL OR …` for every optional part would get one generic plan on
//! PostgreSQL for every combination.

/// `1,2,3`: ids written into a statement's `IN (…)` as they are, which is
/// safe because an integer can carry nothing else.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// A parameter of a built statement.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

/// A statement's parameters, numbered as they are added.
#[derive(Default)]
pub(crate) struct Args(pub Vec<Arg>);

impl Args {
    /// Adds a parameter and answers its placeholder.
    pub fn push(&mut self, v: impl Into<Arg>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The placeholder the next parameter will get.
    pub fn next(&self, after: usize) -> String {
        format!("${}", self.0.len() + after)
    }

    /// `col >= $a AND col < $b`: everything under a path (or with a prefix).
    pub fn prefix(&mut self, col: &str, p: &str) -> String {
        format!("({col} >= {} AND {col} < {})", self.push(p), self.push(format!("{p}\u{10FFFF}")))
    }
}

/// Binds every collected parameter, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in &$args.0 {
            q = match a {
                $crate::sql::Arg::Text(s) => q.bind(s.as_str()),
                $crate::sql::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

/// Adds each `(id, change)` to `column` of its row of `table`, in one
/// statement (`table` and `column` are the store's own names, never input).
pub(crate) async fn add_by_id(
    tx: &mut crate::Tx,
    table: &str,
    column: &str,
    changes: &[(i64, i64)],
) -> crate::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut args = Args::default();
    let mut cases = String::new();
    let mut ids = Vec::with_capacity(changes.len());
    for (id, change) in changes {
        let p = args.push(*id);
        cases.push_str(&format!(" WHEN {p} THEN {}", args.push(*change)));
        ids.push(p);
    }
    let sql =
        format!("UPDATE {table} SET {column} = {column} + CASE id{cases} ELSE 0 END WHERE id IN ({})", ids.join(", "));
    crate::on_tx!(tx, c => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), args).execute(&mut *c).await?.rows_affected());
    Ok(())
}
