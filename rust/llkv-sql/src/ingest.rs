//! Bulk ingest of Arrow data into a stored table: the fast path next to
//! row-wise INSERT. Batches are mapped to the table's columns by name,
//! widened to the column types, checked like INSERT rows (NOT NULL, types,
//! unique keys, CHECK, foreign keys) and appended in one transaction
//! without going through SQL text.

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_cast::{cast_with_options, CastOptions};
use arrow_schema::{DataType, Schema};
use llkv_executor::eval::arrow_err;
use llkv_plan::{Error, Result, Value};
use llkv_runtime::Transaction;
use llkv_table::{ColumnMeta, SqlType, TableMeta};

use crate::coerce::coerce_for_column;
use crate::dml::{check_unique, default_value, insert_checked, lookup_table, table_arrow_schema};

/// The SQL type a new table's column gets for Arrow data of type `t`.
pub(crate) fn sql_type_of(name: &str, t: &DataType) -> Result<SqlType> {
    Ok(match widened(t) {
        Some(DataType::Int64) => SqlType::Integer,
        Some(DataType::Float64) => SqlType::Real,
        Some(DataType::Utf8) => SqlType::Text,
        Some(DataType::Boolean) => SqlType::Boolean,
        Some(DataType::Binary) => SqlType::Blob,
        Some(DataType::Date32) => SqlType::Date,
        Some(DataType::Timestamp(..)) => SqlType::Timestamp,
        Some(DataType::Decimal128(precision, scale)) => SqlType::Decimal { precision, scale },
        _ => {
            return Err(Error::not_supported(format!(
                "column {name}: Arrow type {t} has no llkv column type yet"
            )))
        }
    })
}

/// The engine type Arrow data of type `t` is widened to before it is
/// checked against a column (None: not supported).
fn widened(t: &DataType) -> Option<DataType> {
    use DataType::*;
    Some(match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Int64,
        Float16 | Float32 | Float64 => Float64,
        Utf8 | LargeUtf8 | Utf8View => Utf8,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => Binary,
        Boolean => Boolean,
        Null => Null,
        Date32 | Date64 => Date32,
        Timestamp(..) => Timestamp(arrow_schema::TimeUnit::Microsecond, None),
        Dictionary(_, value) => return widened(value),
        // Decimals keep their digits; a negative scale (or more than 38
        // digits) has no DECIMAL of ours and reads as a float.
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s)
            if *s >= 0 && *s as u8 <= *p && *p <= llkv_plan::decimal::MAX_PRECISION =>
        {
            Decimal128(*p, *s)
        }
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => Float64,
        _ => return None,
    })
}

/// Converts `array` to its widened type `wide`. Timestamps keep their
/// instant: one with a time zone becomes the UTC microseconds it stands
/// for (a plain cast would shift it to wall-clock time).
fn widen(
    array: &ArrayRef,
    wide: &DataType,
    options: &CastOptions<'_>,
) -> std::result::Result<ArrayRef, arrow_schema::ArrowError> {
    if let (DataType::Timestamp(_, Some(tz)), DataType::Timestamp(unit, None)) =
        (array.data_type(), wide)
    {
        let same_zone = DataType::Timestamp(*unit, Some(tz.clone()));
        let micros = cast_with_options(array, &same_zone, options)?;
        let naive = arrow_array::TimestampMicrosecondArray::from(micros.to_data())
            .with_timezone_opt(None::<String>);
        return Ok(std::sync::Arc::new(naive));
    }
    cast_with_options(array, wide, options)
}

/// Creates `table` with one nullable column per field of `schema`.
fn create_from_schema(txn: &mut Transaction, table: &str, schema: &Schema) -> Result<()> {
    if schema.fields().is_empty() {
        return Err(Error::programming("cannot create a table without columns"));
    }
    let mut columns: Vec<ColumnMeta> = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        if columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(f.name()))
        {
            return Err(Error::programming(format!(
                "duplicate column name: {}",
                f.name()
            )));
        }
        columns.push(ColumnMeta {
            name: f.name().clone(),
            sql_type: sql_type_of(f.name(), f.data_type())?,
            nullable: true,
            field_id: i as u32,
            primary_key: false,
            unique: false,
            default: None,
        });
    }
    let catalog = txn.catalog_mut();
    crate::limits::check_columns(table, columns.len())?;
    let id = catalog.next_table_id.max(1);
    catalog.next_table_id = id + 1;
    catalog.tables.insert(
        table.to_ascii_lowercase(),
        std::sync::Arc::new(TableMeta {
            id,
            name: table.to_owned(),
            next_field_id: columns.len() as u32,
            columns,
            next_row_id: 0,
            segments: vec![],
            unique_constraints: vec![],
            checks: vec![],
            foreign_keys: vec![],
        }),
    );
    Ok(())
}

/// Appends `batches` (all of `schema`) to `table`, creating it from the
/// schema first when it does not exist and `create` is set. Returns the
/// number of rows added.
pub(crate) fn insert_batches(
    txn: &mut Transaction,
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
    create: bool,
) -> Result<u64> {
    if txn.catalog().table(table).is_none() {
        if !create {
            return Err(Error::programming(format!(
                "no such table: {table} (pass create=True to create it from the data)"
            )));
        }
        if txn
            .catalog()
            .views
            .contains_key(&table.to_ascii_lowercase())
        {
            return Err(Error::programming(format!("{table} is a view")));
        }
        create_from_schema(txn, table, schema)?;
    }
    let meta = lookup_table(txn, table)?;
    // Source field feeding each table column.
    let mut source: Vec<Option<usize>> = vec![None; meta.columns.len()];
    for (i, f) in schema.fields().iter().enumerate() {
        let c = meta.column_index(f.name()).ok_or_else(|| {
            Error::programming(format!(
                "table {} has no column named {}",
                meta.name,
                f.name()
            ))
        })?;
        if source[c].replace(i).is_some() {
            return Err(Error::programming(format!(
                "column {} given twice",
                f.name()
            )));
        }
    }
    let defaults: Vec<Value> = meta
        .columns
        .iter()
        .zip(&source)
        .map(|(c, s)| match s {
            Some(_) => Ok(Value::Null),
            None => default_value(c, &[]),
        })
        .collect::<Result<_>>()?;
    let keys = txn.catalog().unique_keys(&meta);
    let target_schema = table_arrow_schema(&meta);
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let mut added = 0u64;
    for batch in batches {
        let n = batch.num_rows();
        if n == 0 {
            continue;
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(meta.columns.len());
        for (c, column) in meta.columns.iter().enumerate() {
            let array = match source[c] {
                Some(i) => {
                    let array = batch.column(i);
                    let wide = widened(array.data_type()).ok_or_else(|| {
                        Error::not_supported(format!(
                            "column {}: Arrow type {} is not supported",
                            column.name,
                            array.data_type()
                        ))
                    })?;
                    if *array.data_type() == wide {
                        array.clone()
                    } else {
                        widen(array, &wide, &strict)
                            .map_err(|e| Error::data(format!("column {}: {e}", column.name)))?
                    }
                }
                None => {
                    llkv_executor::scalar::repeat_value(&defaults[c], &defaults[c].data_type(), n)?
                }
            };
            columns.push(coerce_for_column(&array, column, &meta.name)?);
        }
        let rows = RecordBatch::try_new_with_options(
            target_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(arrow_err)?;
        if !keys.is_empty() {
            check_unique(txn, &meta, &keys, &rows)?;
        }
        insert_checked(txn, &meta, rows)?;
        added += n as u64;
    }
    Ok(added)
}

/// `data` as llkv reads it: columns of types llkv computes on (Int64,
/// Float64, Utf8, Boolean, Binary) are kept as they are (no copy); other
/// integer, float, string and binary types are widened (copied). For
/// `register`.
pub(crate) fn normalize(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let mut fields = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let wide = widened(f.data_type()).ok_or_else(|| {
            Error::not_supported(format!(
                "column {}: Arrow type {} is not supported",
                f.name(),
                f.data_type()
            ))
        })?;
        fields.push(arrow_schema::Field::new(f.name(), wide, true));
    }
    let out_schema = std::sync::Arc::new(Schema::new(fields));
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let columns = b
            .columns()
            .iter()
            .zip(out_schema.fields())
            .map(|(a, f)| {
                if a.data_type() == f.data_type() {
                    Ok(a.clone())
                } else {
                    widen(a, f.data_type(), &strict)
                        .map_err(|e| Error::data(format!("column {}: {e}", f.name())))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(
            RecordBatch::try_new_with_options(
                out_schema.clone(),
                columns,
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(arrow_err)?,
        );
    }
    Ok((out_schema, out))
}
