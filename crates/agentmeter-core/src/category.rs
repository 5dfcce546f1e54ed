//! The one table of charge categories. Every list over charges (CSV rows, table headers,
//! meter-v1 and projection-v1 keys, FOCUS SKUs, the Monte Carlo's arrays, contract category
//! names) is read from [`TABLE`], the billed categories, and [`COLUMNS`], the cost columns they
//! add up to (meter-v1's `cost` object: cache writes of both TTLs together). Values per
//! category are a [`PerCategory`] or a [`PerCostColumn`], indexed by the enum, never by a
//! number.
//!
//! Adding a charge is a row in each table it needs (a new [`CostColumn`] only if it is shown
//! apart) and its rating rule in `rate`; the tests walk every output for every row.
//! This module depends on nothing else in the crate.

use std::ops::{Add, AddAssign, Index, IndexMut};

/// How a category's quantity is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Running milliseconds, priced per hour.
    Ms,
    /// Tokens, priced per million.
    Tokens,
    /// Web searches, priced per 1,000.
    Searches,
}

impl Unit {
    /// The unit as CSV and the line items write it.
    pub const fn key(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Tokens => "tokens",
            Unit::Searches => "searches",
        }
    }

    /// How many units a price table's rate is for: an hour, a million tokens, 1,000 searches.
    pub const fn per_rate(self) -> i64 {
        match self {
            Unit::Ms => 3_600_000,
            Unit::Tokens => 1_000_000,
            Unit::Searches => 1000,
        }
    }

    /// FOCUS `PricingUnit`: the unit the rate is for.
    pub const fn focus_pricing_unit(self) -> &'static str {
        match self {
            Unit::Ms => "Hours",
            Unit::Tokens => "1M Tokens",
            Unit::Searches => "1000 Searches",
        }
    }

    /// FOCUS `ConsumedUnit`.
    pub const fn focus_consumed_unit(self) -> &'static str {
        match self {
            Unit::Ms => "Hours",
            Unit::Tokens => "Tokens",
            Unit::Searches => "Searches",
        }
    }

    /// Whether FOCUS counts consumption in the pricing unit (hours: FOCUS has no millisecond),
    /// else in the unit itself.
    pub const fn focus_consumed_in_pricing_unit(self) -> bool {
        matches!(self, Unit::Ms)
    }
}

/// A category's FOCUS `SkuId` and `ChargeDescription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sku {
    /// One SKU whatever the model.
    Fixed {
        id: &'static str,
        description: &'static str,
    },
    /// One SKU per model: `{model}:{key}`, described as `{model} {what}`.
    PerModel { what: &'static str },
}

/// One billed category: everything an output needs to show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub category: Category,
    /// Its name: CSV `category`, the line items, FOCUS `x_Category`, meter-v1's `tokens` keys,
    /// contract `categories`, baseline-v1's token fields.
    pub key: &'static str,
    pub unit: Unit,
    /// The cost column its amounts add up to.
    pub column: CostColumn,
    /// Its quantity's name where quantities stand alone: meter-v1 (`active_ms`,
    /// `web_searches`; tokens sit under `tokens`), sessions.parquet, reconcile.
    pub quantity_key: &'static str,
    /// Part of what the model read: counts toward a request's long-context threshold.
    pub model_input: bool,
    pub sku: Sku,
    /// The bucket of an invoice (Admin cost report) it falls in; `None`: its model's.
    pub invoice_bucket: Option<&'static str>,
    /// Its quantity in words, one sentence: the description of its keys in the JSON Schemas
    /// (`tokens`, `active_ms`, `web_searches`, a price row's rates).
    pub description: &'static str,
}

/// One cost column: the amounts of one or more categories, added up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRow {
    pub column: CostColumn,
    /// Its name: meter-v1's `cost` keys, projection-v1's categories, reports and charts.
    pub key: &'static str,
    /// Its header in tables.
    pub label: &'static str,
    /// Its header in the narrow meter table, where the columns of one label are added up.
    pub compact_label: &'static str,
    /// The `--tokens` header of a token column.
    pub token_label: Option<&'static str>,
    /// Its count's key and header against an Admin usage report (`reconcile --usage-report`).
    pub usage_report: Option<(&'static str, &'static str)>,
    /// The scenario key of a token column's per-request distribution (`fit` writes it).
    pub scenario_key: Option<&'static str>,
    /// What it charges, one sentence: the description of its keys in the JSON Schemas
    /// (`cost`, projection-v1's `categories`).
    pub description: &'static str,
}

/// Declares an enum and its table together, so a variant cannot lack its row (nor the table
/// a variant): the enum's order is the table's.
macro_rules! table {
    (
        $(#[$meta:meta])* pub enum $Enum:ident;
        pub const $TABLE:ident: [$Row:ident { $id:ident }; $COUNT:ident];
        $( $(#[$doc:meta])* $Variant:ident { $($field:ident: $value:expr),* $(,)? } )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $Enum {
            $( $(#[$doc])* $Variant, )*
        }

        /// How many rows the table has.
        pub const $COUNT: usize = [$($Enum::$Variant),*].len();

        pub const $TABLE: [$Row; $COUNT] = [
            $( $Row { $id: $Enum::$Variant, $($field: $value,)* }, )*
        ];
    };
}

table! {
    /// A billed charge category: a line item's kind.
    pub enum Category;
    pub const TABLE: [Row { category }; COUNT];

    /// Session running time.
    Runtime {
        key: "runtime",
        unit: Unit::Ms,
        column: CostColumn::Runtime,
        quantity_key: "active_ms",
        model_input: false,
        sku: Sku::Fixed {
            id: "managed-agents:session-runtime",
            description: "Claude Managed Agents session runtime",
        },
        invoice_bucket: Some("(session runtime)"),
        description: "Billed running time, milliseconds.",
    }
    /// Uncached input tokens.
    Input {
        key: "input",
        unit: Unit::Tokens,
        column: CostColumn::Input,
        quantity_key: "input_tokens",
        model_input: true,
        sku: Sku::PerModel { what: "input tokens" },
        invoice_bucket: None,
        description: "Uncached input tokens.",
    }
    Output {
        key: "output",
        unit: Unit::Tokens,
        column: CostColumn::Output,
        quantity_key: "output_tokens",
        model_input: false,
        sku: Sku::PerModel { what: "output tokens" },
        invoice_bucket: None,
        description: "Output tokens.",
    }
    /// Cache writes that live 5 minutes.
    CacheWrite5m {
        key: "cache_write_5m",
        unit: Unit::Tokens,
        column: CostColumn::CacheWrite,
        quantity_key: "cache_write_5m_tokens",
        model_input: true,
        sku: Sku::PerModel { what: "5-minute cache write tokens" },
        invoice_bucket: None,
        description: "Cache writes that live 5 minutes.",
    }
    /// Cache writes that live an hour.
    CacheWrite1h {
        key: "cache_write_1h",
        unit: Unit::Tokens,
        column: CostColumn::CacheWrite,
        quantity_key: "cache_write_1h_tokens",
        model_input: true,
        sku: Sku::PerModel { what: "1-hour cache write tokens" },
        invoice_bucket: None,
        description: "Cache writes that live an hour.",
    }
    CacheRead {
        key: "cache_read",
        unit: Unit::Tokens,
        column: CostColumn::CacheRead,
        quantity_key: "cache_read_tokens",
        model_input: true,
        sku: Sku::PerModel { what: "cache read tokens" },
        invoice_bucket: None,
        description: "Cache reads.",
    }
    WebSearch {
        key: "web_search",
        unit: Unit::Searches,
        column: CostColumn::WebSearch,
        quantity_key: "web_searches",
        model_input: false,
        sku: Sku::Fixed { id: "web-search", description: "Web search" },
        invoice_bucket: Some("(web search)"),
        description: "Billed web searches.",
    }
}

table! {
    /// A cost column: how meter-v1's `cost`, the tables and projections show the charges.
    pub enum CostColumn;
    pub const COLUMNS: [ColumnRow { column }; COLUMN_COUNT];

    Runtime {
        key: "runtime",
        label: "Runtime",
        compact_label: "Runtime",
        token_label: None,
        usage_report: None,
        scenario_key: None,
        description: "Session runtime.",
    }
    Input {
        key: "input",
        label: "Input",
        compact_label: "Input+cache",
        token_label: Some("In tok"),
        usage_report: Some(("input", "Input")),
        scenario_key: Some("input_tokens"),
        description: "Uncached input tokens.",
    }
    Output {
        key: "output",
        label: "Output",
        compact_label: "Output",
        token_label: Some("Out tok"),
        usage_report: Some(("output", "Output")),
        scenario_key: Some("output_tokens"),
        description: "Output tokens.",
    }
    /// Both cache-write TTLs.
    CacheWrite {
        key: "cache_write",
        label: "Cache write",
        compact_label: "Input+cache",
        token_label: Some("Write tok"),
        usage_report: Some(("cache_write", "Cache write")),
        scenario_key: Some("cache_write_tokens"),
        description: "Cache writes, both TTLs.",
    }
    CacheRead {
        key: "cache_read",
        label: "Cache read",
        compact_label: "Input+cache",
        token_label: Some("Read tok"),
        usage_report: Some(("cache_read", "Cache read")),
        scenario_key: Some("cache_read_tokens"),
        description: "Cache reads.",
    }
    WebSearch {
        key: "web_search",
        label: "Web search",
        compact_label: "Web search",
        token_label: None,
        usage_report: Some(("web_searches", "Web searches")),
        scenario_key: None,
        description: "Web searches.",
    }
}

/// Every category, in the table's order.
pub const ALL: [Category; COUNT] = {
    let mut all = [Category::Runtime; COUNT];
    let mut i = 0;
    while i < COUNT {
        all[i] = TABLE[i].category;
        i += 1;
    }
    all
};

/// Every cost column, in the table's order.
pub const ALL_COLUMNS: [CostColumn; COLUMN_COUNT] = {
    let mut all = [CostColumn::Runtime; COLUMN_COUNT];
    let mut i = 0;
    while i < COLUMN_COUNT {
        all[i] = COLUMNS[i].column;
        i += 1;
    }
    all
};

impl Category {
    pub const ALL: [Category; COUNT] = ALL;

    pub const fn row(self) -> &'static Row {
        &TABLE[self as usize]
    }

    pub const fn key(self) -> &'static str {
        self.row().key
    }

    pub const fn unit(self) -> Unit {
        self.row().unit
    }

    pub const fn column(self) -> CostColumn {
        self.row().column
    }

    /// A token kind: a field of `usage::Tokens`, a rate of a price row.
    pub const fn is_token(self) -> bool {
        matches!(self.row().unit, Unit::Tokens)
    }

    /// Priced by the model that used it (a contract's `models` limit applies to it).
    pub const fn per_model(self) -> bool {
        matches!(self.row().sku, Sku::PerModel { .. })
    }

    /// The category of this key.
    pub fn of_key(key: &str) -> Option<Category> {
        ALL.into_iter().find(|c| c.key() == key)
    }

    /// The token kinds, in the table's order.
    pub fn tokens() -> impl Iterator<Item = Category> {
        ALL.into_iter().filter(|c| c.is_token())
    }
}

impl CostColumn {
    pub const ALL: [CostColumn; COLUMN_COUNT] = ALL_COLUMNS;

    pub const fn row(self) -> &'static ColumnRow {
        &COLUMNS[self as usize]
    }

    pub const fn key(self) -> &'static str {
        self.row().key
    }

    pub const fn label(self) -> &'static str {
        self.row().label
    }

    /// The categories whose amounts it adds up, in the table's order.
    pub fn categories(self) -> impl Iterator<Item = Category> {
        ALL.into_iter().filter(move |c| c.column() == self)
    }

    /// The first of its categories (the one a column of several is priced as where only
    /// one price can be shown).
    pub fn first_category(self) -> Category {
        self.categories()
            .next()
            .expect("every cost column has a category (a unit test checks)")
    }

    /// Its categories are token kinds.
    pub fn is_token(self) -> bool {
        self.categories().any(Category::is_token)
    }

    /// Part of what the model read (long-context threshold).
    pub fn model_input(self) -> bool {
        self.categories().any(|c| c.row().model_input)
    }

    /// The token columns, in the table's order.
    pub fn tokens() -> impl Iterator<Item = CostColumn> {
        ALL_COLUMNS.into_iter().filter(|c| c.is_token())
    }
}

/// A fixed array with one value per key of a table, indexed by the key.
macro_rules! per_key {
    ($(#[$meta:meta])* $Per:ident, $Key:ident, $COUNT:ident, $ALL:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $Per<T>([T; $COUNT]);

        impl<T> $Per<T> {
            pub fn from_fn(mut f: impl FnMut($Key) -> T) -> Self {
                $Per(std::array::from_fn(|i| f($ALL[i])))
            }

            /// `from_fn` with a fallible `f`: the first error, in the table's order.
            pub fn try_from_fn<E>(mut f: impl FnMut($Key) -> Result<T, E>) -> Result<Self, E> {
                let mut values = Vec::with_capacity($COUNT);
                for k in $ALL {
                    values.push(f(k)?);
                }
                match values.try_into() {
                    Ok(a) => Ok($Per(a)),
                    Err(_) => unreachable!("one value per key"),
                }
            }

            /// Each key with its value, in the table's order.
            pub fn iter(
                &self,
            ) -> std::iter::Zip<std::array::IntoIter<$Key, $COUNT>, std::slice::Iter<'_, T>> {
                $ALL.into_iter().zip(self.0.iter())
            }

            pub fn iter_mut(
                &mut self,
            ) -> std::iter::Zip<std::array::IntoIter<$Key, $COUNT>, std::slice::IterMut<'_, T>>
            {
                $ALL.into_iter().zip(self.0.iter_mut())
            }

            /// The values, in the table's order.
            pub fn values(&self) -> std::slice::Iter<'_, T> {
                self.0.iter()
            }

            pub fn map<U>(self, mut f: impl FnMut($Key, T) -> U) -> $Per<U> {
                let mut keys = $ALL.into_iter();
                $Per(self.0.map(|v| f(keys.next().expect("one key per value"), v)))
            }
        }

        impl<T: Copy + Add<Output = T>> $Per<T> {
            /// The sum of the values, added in the table's order from the first.
            pub fn total(&self) -> T {
                let [first, rest @ ..] = &self.0;
                rest.iter().fold(*first, |a, b| a + *b)
            }
        }

        impl<T> Index<$Key> for $Per<T> {
            type Output = T;
            fn index(&self, k: $Key) -> &T {
                &self.0[k as usize]
            }
        }

        impl<T> IndexMut<$Key> for $Per<T> {
            fn index_mut(&mut self, k: $Key) -> &mut T {
                &mut self.0[k as usize]
            }
        }

        impl<T> IntoIterator for $Per<T> {
            type Item = ($Key, T);
            type IntoIter =
                std::iter::Zip<std::array::IntoIter<$Key, $COUNT>, std::array::IntoIter<T, $COUNT>>;
            fn into_iter(self) -> Self::IntoIter {
                $ALL.into_iter().zip(self.0)
            }
        }

        impl<T: AddAssign> AddAssign for $Per<T> {
            fn add_assign(&mut self, o: Self) {
                for (a, b) in self.0.iter_mut().zip(o.0) {
                    *a += b;
                }
            }
        }

        impl<T: AddAssign> Add for $Per<T> {
            type Output = Self;
            fn add(mut self, o: Self) -> Self {
                self += o;
                self
            }
        }

        impl<T: AddAssign + Default> std::iter::Sum for $Per<T> {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::default(), |a, b| a + b)
            }
        }
    };
}

per_key!(
    /// One value per billed category.
    PerCategory,
    Category,
    COUNT,
    ALL
);
per_key!(
    /// One value per cost column.
    PerCostColumn,
    CostColumn,
    COLUMN_COUNT,
    ALL_COLUMNS
);

impl<T: AddAssign> PerCostColumn<T> {
    /// Add an amount of `category` to its column.
    pub fn add_item(&mut self, category: Category, v: T) {
        self[category.column()] += v;
    }
}

impl<T: AddAssign + Default> PerCategory<T> {
    /// The values added up by cost column (in the table's order, from the default).
    pub fn by_column(self) -> PerCostColumn<T> {
        let mut out = PerCostColumn::<T>::default();
        for (c, v) in self {
            out.add_item(c, v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn keys_are_unique_and_rows_follow_the_enum() {
        let keys: BTreeSet<&str> = TABLE.iter().map(|r| r.key).collect();
        assert_eq!(keys.len(), COUNT, "duplicate category key");
        let quantities: BTreeSet<&str> = TABLE.iter().map(|r| r.quantity_key).collect();
        assert_eq!(quantities.len(), COUNT, "duplicate quantity key");
        let columns: BTreeSet<&str> = COLUMNS.iter().map(|r| r.key).collect();
        assert_eq!(columns.len(), COLUMN_COUNT, "duplicate column key");
        let labels: BTreeSet<&str> = COLUMNS.iter().map(|r| r.label).collect();
        assert_eq!(labels.len(), COLUMN_COUNT, "duplicate column label");
        for (i, r) in TABLE.iter().enumerate() {
            assert_eq!(r.category as usize, i);
            assert_eq!(Category::of_key(r.key), Some(r.category));
        }
        for (i, r) in COLUMNS.iter().enumerate() {
            assert_eq!(r.column as usize, i);
        }
    }

    #[test]
    fn every_column_has_categories_and_the_rows_agree() {
        for col in ALL_COLUMNS {
            assert!(col.categories().next().is_some(), "{col:?} has no category");
            // A column's categories all count the same way.
            assert!(col
                .categories()
                .all(|c| c.unit() == col.first_category().unit()));
            assert_eq!(col.row().token_label.is_some(), col.is_token());
            assert_eq!(col.row().scenario_key.is_some(), col.is_token());
        }
        for c in ALL {
            // Per-model charges go under their model's bucket of an invoice.
            assert_eq!(c.per_model(), c.row().invoice_bucket.is_none(), "{c:?}");
            if let Sku::PerModel { .. } = c.row().sku {
                assert!(c.is_token(), "{c:?}");
            }
        }
        // Columns come in the order of their first categories.
        let firsts: Vec<Category> = ALL_COLUMNS.iter().map(|c| c.first_category()).collect();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn per_category_iterates_in_the_tables_order() {
        let p = PerCategory::from_fn(|c| c.key());
        let keys: Vec<&str> = p.iter().map(|(_, k)| *k).collect();
        let table: Vec<&str> = TABLE.iter().map(|r| r.key).collect();
        assert_eq!(keys, table);
        assert_eq!(
            p.into_iter().map(|(c, _)| c).collect::<Vec<_>>(),
            ALL.to_vec()
        );
        assert_eq!(p[Category::CacheRead], "cache_read");
        let q = PerCostColumn::from_fn(|c| c.key());
        let cols: Vec<&str> = q.values().copied().collect();
        assert_eq!(cols, COLUMNS.iter().map(|r| r.key).collect::<Vec<_>>());
    }

    #[test]
    fn amounts_add_up_by_column_and_in_total() {
        // 1, 2, 4, ..., 64 by category: cache writes (8 + 16) share a column.
        let p = PerCategory::from_fn(|c| 1u64 << (c as u32));
        let cols = p.by_column();
        assert_eq!(cols[CostColumn::CacheWrite], 8 + 16);
        assert_eq!(cols[CostColumn::WebSearch], 64);
        assert_eq!(cols.total(), 127);
        assert_eq!(p.total(), 127);
        let sum: PerCategory<u64> = [p, p].into_iter().sum();
        assert_eq!(sum[Category::Output], 4 + 4);
        let tried: Result<PerCategory<u8>, Category> =
            PerCategory::try_from_fn(|c| if c.is_token() { Err(c) } else { Ok(0) });
        assert_eq!(tried, Err(Category::Input));
    }
}
