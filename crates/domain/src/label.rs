//! One way to declare an enum that is stored and shown: `labelled!` gives it
//! its codes (what the database and the API carry), a strict `from_code`,
//! and its names in Chinese and English through `Label`. With the `sqlx`
//! feature it is stored as TEXT on both backends, and a stored code that
//! names no variant fails the read, naming the table, column and value:
//! never a default inside a state machine. What people type (诉求, 紧急) is
//! parsed leniently by each enum's own `parse`, in forms and imports only.

/// The names a value is shown by.
pub trait Label: Copy {
    fn name_zh(self) -> &'static str;
    fn name_en(self) -> &'static str;

    /// The English name where the reader chose English, else the Chinese.
    fn name(self, en: bool) -> &'static str {
        if en { self.name_en() } else { self.name_zh() }
    }
}

/// So that a page may name what it holds by reference.
impl<T: Label> Label for &T {
    fn name_zh(self) -> &'static str {
        (*self).name_zh()
    }
    fn name_en(self) -> &'static str {
        (*self).name_en()
    }
}

/// A stored code that names no variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {type_name} '{value}' stored in {stored_in} (known: {known})")]
pub struct UnknownCode {
    pub type_name: &'static str,
    /// The table and column (or columns) the type is stored in.
    pub stored_in: &'static str,
    pub value: String,
    pub known: String,
}

/// Declares a labelled enum. Each variant is `Name = ("code", "名称", "Name")`;
/// `stored in "table.column";` first makes it a database type.
#[macro_export]
macro_rules! labelled {
    (
        $(stored in $stored:literal;)?
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            pub const ALL: [$name; $crate::labelled!(@count $($variant)+)] = [$($name::$variant),+];

            /// What is stored and what the API carries.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Exactly a code, nothing else.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub const fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub const fn name_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }
        }

        /// The code: what a page puts in an attribute or a link.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        // by hand: utoipa's derive does not see a `rename` a macro wrote, and
        // would document the variants' Rust names instead of their codes
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let codes: Vec<&'static str> = $name::ALL.iter().map(|x| x.code()).collect();
                let object = utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(codes))
                    .build();
                utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $crate::label::Label for $name {
            fn name_zh(self) -> &'static str {
                $name::name_zh(self)
            }
            fn name_en(self) -> &'static str {
                $name::name_en(self)
            }
        }

        $( $crate::stored_as_text!($name, $stored); )?
    };
    (@count) => { 0 };
    (@count $head:ident $($rest:ident)*) => { 1 + $crate::labelled!(@count $($rest)*) };
}

/// TEXT on every sqlx backend, decoded strictly (see `UnknownCode`).
#[doc(hidden)]
#[macro_export]
macro_rules! stored_as_text {
    ($name:ident, $stored:literal) => {
        #[cfg(feature = "sqlx")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'static str as sqlx::Encode<'q, DB>>::encode(self.code(), buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let code = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                $name::from_code(code).ok_or_else(|| {
                    Box::new($crate::label::UnknownCode {
                        type_name: stringify!($name),
                        stored_in: $stored,
                        value: code.chars().take(64).collect(),
                        known: $name::ALL.map($name::code).join(", "),
                    }) as sqlx::error::BoxDynError
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Label;

    crate::labelled! {
        stored in "tests.colour";
        /// A test enum.
        #[derive(PartialOrd, Ord)]
        pub enum Colour {
            Red = ("red", "红", "Red"),
            #[allow(dead_code)]
            DarkBlue = ("dark_blue", "深蓝", "Dark blue"),
        }
    }

    #[test]
    fn codes_and_names_round_trip() {
        for c in Colour::ALL {
            assert_eq!(Colour::from_code(c.code()), Some(c));
            assert_eq!(serde_json::to_value(c).ok(), Some(serde_json::json!(c.code())));
        }
        assert_eq!(Colour::from_code("红"), None, "names are not codes");
        assert_eq!(Colour::from_code(" red"), None, "codes are exact");
        assert_eq!(Colour::DarkBlue.name(true), "Dark blue");
        assert_eq!(Colour::DarkBlue.name(false), "深蓝");
        assert!(Colour::Red < Colour::DarkBlue);
    }
}
