//! The SQL grammar we parse with: sqlparser's generic dialect with two
//! changes. `ON` never becomes a select-item alias, so that
//! `INSERT ... SELECT 1 ON CONFLICT ...` parses as PostgreSQL and DuckDB
//! read it, and a trailing comma is accepted at the end of a list (the
//! columns of a CREATE TABLE, a VALUES row, a select list), as DuckDB does.

use std::any::TypeId;

use sqlparser::dialect::{Dialect, GenericDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

/// The generic grammar with llkv's two changes (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct LlkvGrammar {
    generic: GenericDialect,
}

/// Forwards the listed boolean feature switches to the generic dialect.
macro_rules! forward_flags {
    ($($name:ident)*) => {
        $(fn $name(&self) -> bool {
            self.generic.$name()
        })*
    };
}

impl Dialect for LlkvGrammar {
    /// The parser's `dialect_of!` checks must treat this as the generic
    /// dialect, whose behaviour it keeps.
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.generic.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.generic.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.generic.is_identifier_part(ch)
    }

    fn is_select_item_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        explicit || (*kw != Keyword::ON && self.generic.is_column_alias(kw, parser))
    }

    fn supports_column_definition_trailing_commas(&self) -> bool {
        true
    }

    fn supports_trailing_commas(&self) -> bool {
        true
    }

    forward_flags! {
        supports_map_typedef_with_parentheses
        supports_unicode_string_literal
        supports_literal_prefix_in_qualified_name
        supports_partition_by_after_order_by
        supports_array_join_syntax
        supports_group_by_expr
        supports_group_by_with_modifier
        supports_left_associative_joins_without_parens
        supports_connect_by
        supports_match_recognize
        supports_pipe_operator
        supports_start_transaction_modifier
        supports_window_function_null_treatment_arg
        supports_dictionary_syntax
        supports_window_clause_named_window_reference
        supports_parenthesized_set_variables
        supports_select_wildcard_except
        support_map_literal_syntax
        allow_extract_custom
        allow_extract_single_quotes
        supports_extract_comma_syntax
        supports_create_view_comment_syntax
        supports_parens_around_table_factor
        supports_values_as_table_factor
        supports_create_index_with_clause
        supports_sql_option_without_value
        supports_explain_with_utility_options
        supports_exclude_constraint
        supports_limit_comma
        supports_update_order_by
        supports_from_first_select
        supports_projection_trailing_commas
        supports_asc_desc_in_column_definition
        supports_try_convert
        supports_bitwise_shift_operators
        supports_singular_value_keyword
        supports_comma_join_constraint
        supports_tilde_like_match_operator
        supports_aggregate_order_by_with_empty_args
        supports_in_table_expression
        supports_comparison_in_between_low_bound
        supports_comment_on
        supports_load_extension
        supports_named_fn_args_with_assignment_operator
        supports_struct_literal
        supports_empty_projections
        supports_nested_comments
        supports_multiline_comment_hints
        supports_copy_from_stdin_data
        supports_user_host_grantee
        supports_string_escape_constant
        supports_array_typedef_with_brackets
        supports_match_against
        supports_set_names
        supports_comma_separated_set_assignments
        supports_filter_during_aggregation
        supports_select_wildcard_exclude
        supports_data_type_signed_suffix
        supports_data_type_zerofill_suffix
        supports_interval_options
        supports_quote_delimited_string
        supports_select_wildcard_replace
        supports_select_wildcard_ilike
        supports_select_wildcard_rename
        supports_optimize_table
        supports_install
        supports_detach
        supports_prewhere
        supports_with_fill
        supports_limit_by
        supports_interpolate
        supports_settings
        supports_table_partitions
        supports_table_inheritance_markers
        supports_select_format
        supports_comment_optimizer_hint
        supports_constraint_keyword_without_name
        supports_key_column_option
        supports_comma_separated_trim
        supports_cte_without_as
        supports_select_item_multi_column_alias
        supports_xml_expressions
        supports_aliased_function_args
        supports_alter_column_position
        supports_add_column_if_not_exists
    }
}
