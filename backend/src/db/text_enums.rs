//! The domain's string enums as PostgreSQL `text` columns: each value is written and read through
//! its one explicit mapping (`as_str` / `FromStr`), so no query spells a status as a raw string,
//! and a value the code does not know reads as an error naming it.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Text};

use crate::domain::agent::{AgentStatus, Role};
use crate::domain::call::{
    CallStatus, MonitorMode, ParticipantKind, ParticipantStatus, TransferEndReason, TransferMode,
    TransferStatus,
};
use crate::domain::inbox::CallbackKind;

/// What `#[derive(AsExpression, FromSqlRow)]` with `sql_type = Text` would write, for enums that
/// live in `domain` and stay free of storage attributes.
macro_rules! text_enum {
    ($($ty:ty),+ $(,)?) => {$(
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                let text = std::str::from_utf8(value.as_bytes())?;
                Ok(text.parse::<$ty>()?)
            }
        }

        impl Queryable<Text, Pg> for $ty {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<Text> for $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = Bound<Nullable<Text>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Text> for &'a $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
    )+};
}

text_enum!(
    Role,
    AgentStatus,
    CallStatus,
    ParticipantKind,
    ParticipantStatus,
    MonitorMode,
    TransferMode,
    TransferStatus,
    TransferEndReason,
    CallbackKind,
);

// `FromSqlRow` comes from `Queryable` through diesel's blanket impls; make sure it does.
const _: fn() = || {
    fn reads_as_text<T: FromSqlRow<Text, Pg>>() {}
    reads_as_text::<CallStatus>();
};
