//! Parquet and CSV files: the sources behind `read_parquet(path)` and
//! `read_csv(path, ...)`, and the writers behind `COPY ... TO`.
//!
//! A source reads only the file's schema when a statement is bound and
//! streams its rows when the plan runs, widened to the engine's column types
//! as registered Arrow data is. A connection opened with file access off
//! (`allow_file_access=False` in Python) can do none of this, whatever the
//! SQL.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use llkv_plan::{Error, ExternalSource, Result};

/// Rows per batch read from a file.
const BATCH_ROWS: usize = 64 * 1024;

/// Fails unless the connection may read and write files.
pub(crate) fn check_access(allowed: bool) -> Result<()> {
    if allowed {
        Ok(())
    } else {
        Err(Error::programming(
            "file access is disabled on this connection (allow_file_access=False)",
        ))
    }
}

/// A file format llkv reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Parquet,
    Csv,
}

impl FileFormat {
    /// The format called `name` (`FORMAT parquet`).
    pub(crate) fn named(name: &str) -> Result<FileFormat> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Ok(FileFormat::Parquet),
            "csv" => Ok(FileFormat::Csv),
            other => Err(Error::not_supported(format!(
                "file format {other} is not supported (use parquet or csv)"
            ))),
        }
    }

    /// The format a file name's extension implies (CSV unless it ends in
    /// `.parquet` or `.pq`), as DuckDB guesses for COPY.
    pub(crate) fn of_path(path: &str) -> FileFormat {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            FileFormat::Parquet
        } else {
            FileFormat::Csv
        }
    }
}

/// How CSV text is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvOptions {
    /// The first line names the columns.
    pub header: bool,
    /// Field separator.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: b',',
            quote: b'"',
        }
    }
}

impl CsvOptions {
    /// Sets option `name` (`header`, `delim`/`delimiter`/`sep`, `quote`)
    /// from its SQL value.
    pub(crate) fn set(&mut self, name: &str, value: &llkv_plan::Value) -> Result<()> {
        use llkv_plan::Value;
        let byte = |what: &str| -> Result<u8> {
            match value {
                Value::Text(s) if s.len() == 1 => Ok(s.as_bytes()[0]),
                Value::Text(s) if &**s == "\\t" => Ok(b'\t'),
                _ => Err(Error::programming(format!(
                    "CSV option {what} must be a one-character string, got {value}"
                ))),
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "header" => {
                self.header = match value {
                    Value::Boolean(b) => *b,
                    Value::Integer(i) => *i != 0,
                    _ => {
                        return Err(Error::programming(format!(
                            "CSV option header must be true or false, got {value}"
                        )))
                    }
                }
            }
            "delim" | "delimiter" | "sep" => self.delimiter = byte("delimiter")?,
            "quote" => self.quote = byte("quote")?,
            other => {
                return Err(Error::programming(format!(
                    "unknown CSV option {other} (known: header, delim, quote)"
                )))
            }
        }
        Ok(())
    }

    fn format(&self) -> arrow_csv::reader::Format {
        arrow_csv::reader::Format::default()
            .with_header(self.header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote)
    }
}

/// Opens `path` for reading, naming it in the error.
fn open(path: &Path) -> Result<File> {
    let file = File::open(path)
        .map_err(|e| Error::operational(format!("cannot open {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::operational(format!(
            "cannot read {}: it is a directory",
            path.display()
        )));
    }
    Ok(file)
}

/// The error for a file whose contents cannot be read as `what`.
fn bad_file(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::data(format!("cannot read {} as {what}: {e}", path.display()))
}

/// A source for `format` at `path`, with the schema its rows will have.
pub(crate) fn source(
    format: FileFormat,
    path: &str,
    csv: &CsvOptions,
) -> Result<(Arc<dyn ExternalSource>, SchemaRef)> {
    let path = PathBuf::from(path);
    let (file_schema, source_schema) = match format {
        FileFormat::Parquet => {
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                open(&path)?,
            )
            .map_err(|e| bad_file(&path, "Parquet", e))?;
            let schema = builder.schema().clone();
            (schema.clone(), schema)
        }
        FileFormat::Csv => {
            let (schema, _) = csv
                .format()
                .infer_schema(BufReader::new(open(&path)?), None)
                .map_err(|e| bad_file(&path, "CSV", e))?;
            let schema = Arc::new(schema);
            (schema.clone(), schema)
        }
    };
    let (schema, _) = crate::ingest::normalize(&source_schema, &[])
        .map_err(|e| Error::new(e.kind, format!("{}: {}", path.display(), e.message)))?;
    let source = FileSource {
        format,
        path,
        csv: csv.clone(),
        file_schema,
        schema: schema.clone(),
    };
    Ok((Arc::new(source), schema))
}

/// One file's rows.
#[derive(Debug)]
struct FileSource {
    format: FileFormat,
    path: PathBuf,
    csv: CsvOptions,
    /// The schema as the file gives it.
    file_schema: SchemaRef,
    /// The schema after widening to the engine's types.
    schema: SchemaRef,
}

impl ExternalSource for FileSource {
    fn describe(&self) -> String {
        let function = match self.format {
            FileFormat::Parquet => "read_parquet",
            FileFormat::Csv => "read_csv",
        };
        format!(
            "{function}('{}')",
            self.path.display().to_string().replace('\'', "''")
        )
    }

    fn open(&self) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>>>> {
        let path = self.path.clone();
        let file = open(&path)?;
        let batches: Box<dyn Iterator<Item = Result<RecordBatch>>> = match self.format {
            FileFormat::Parquet => {
                let reader =
                    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
                        .map_err(|e| bad_file(&path, "Parquet", e))?;
                let path = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| bad_file(&path, "Parquet", e))))
            }
            FileFormat::Csv => {
                let reader = arrow_csv::ReaderBuilder::new(self.file_schema.clone())
                    .with_format(self.csv.format())
                    .with_batch_size(BATCH_ROWS)
                    .build(BufReader::new(file))
                    .map_err(|e| bad_file(&path, "CSV", e))?;
                let path = path.clone();
                Box::new(reader.map(move |b| b.map_err(|e| bad_file(&path, "CSV", e))))
            }
        };
        let schema = self.schema.clone();
        Ok(Box::new(batches.map(move |batch| {
            let batch = batch?;
            if batch.schema().fields() == schema.fields() {
                return Ok(batch);
            }
            let (_, mut widened) = crate::ingest::normalize(&batch.schema(), &[batch])?;
            Ok(widened.pop().expect("one batch in, one out"))
        })))
    }
}

/// Writes `batches` (all of `schema`) to a new file at `path` (replacing
/// one that exists) and returns the number of rows written. A failed write
/// removes the partial file.
pub(crate) fn write(
    format: FileFormat,
    path: &str,
    csv: &CsvOptions,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64> {
    let path = PathBuf::from(path);
    let file = File::create(&path)
        .map_err(|e| Error::operational(format!("cannot create {}: {e}", path.display())))?;
    let written = write_to(format, &path, file, csv, schema, batches);
    if written.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    written
}

fn write_to(
    format: FileFormat,
    path: &Path,
    file: File,
    csv: &CsvOptions,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::operational(format!("cannot write {}: {e}", path.display()))
    };
    let mut rows = 0u64;
    match format {
        FileFormat::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            let mut writer =
                parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|e| failed(&e))?;
            for b in batches {
                writer.write(b).map_err(|e| failed(&e))?;
                rows += b.num_rows() as u64;
            }
            writer.close().map_err(|e| failed(&e))?;
        }
        FileFormat::Csv => {
            let mut out = BufWriter::new(file);
            let mut writer = arrow_csv::WriterBuilder::new()
                .with_header(csv.header)
                .with_delimiter(csv.delimiter)
                .with_quote(csv.quote)
                .build(&mut out);
            if batches.is_empty() && csv.header {
                writer
                    .write(&RecordBatch::new_empty(schema.clone()))
                    .map_err(|e| failed(&e))?;
            }
            for b in batches {
                writer.write(b).map_err(|e| failed(&e))?;
                rows += b.num_rows() as u64;
            }
            drop(writer);
            out.into_inner().map_err(|e| failed(&e))?;
        }
    }
    Ok(rows)
}

/// `schema` with its fields renamed to `names` (same count), for COPY FROM,
/// which matches file columns to table columns by position.
pub(crate) fn renamed(schema: &Schema, names: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .zip(names)
            .map(|(f, n)| f.as_ref().clone().with_name(n))
            .collect::<Vec<_>>(),
    ))
}
