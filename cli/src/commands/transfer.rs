//! `import` and `export`: CSV and JSON Lines (formats in `docs/cli.md`).

use super::stdout_error;
use crate::args::{ExportArgs, Format, ImportArgs};
use crate::csvfmt::{ExportLayout, Header};
use crate::error::{file_error, CliError, CliResult};
use crate::open::{open_existing, open_or_create, parse_pk_def};
use crate::progress;
use crate::rowjson::{json_to_row, row_to_json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use tablesync::{
    Column, Condition, Database, GetOptions, PkBound, PrimaryKey, RangeBound, RangeOptions,
    SyncPolicy, TableSchema, WriteOp,
};

/// Most rows one `batch_write` takes.
const BATCH: usize = 200;

fn format_of(path: &Path, given: Option<Format>) -> CliResult<Format> {
    if let Some(f) = given {
        return Ok(f);
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl") | Some("ndjson") | Some("json") => Ok(Format::Jsonl),
        _ => Err(CliError::arg(format!(
            "cannot tell the format of {} from its extension; pass --format csv or --format jsonl",
            path.display()
        ))),
    }
}

/// The schema to import into: the table's, or the one `--pk` describes.
/// Returns whether the table must still be created.
fn import_schema(db: &Database, table: &str, pk: &[String]) -> CliResult<(TableSchema, bool)> {
    let wanted = if pk.is_empty() {
        None
    } else {
        let cols = pk
            .iter()
            .map(|s| parse_pk_def(s))
            .collect::<CliResult<Vec<_>>>()?;
        let s = TableSchema::new(table, cols);
        s.validate()?;
        Some(s)
    };
    match (db.describe_table(table), wanted) {
        (Ok(d), None) => Ok((d.schema, false)),
        (Ok(d), Some(w)) if d.schema.primary_key == w.primary_key => Ok((d.schema, false)),
        (Ok(_), Some(_)) => Err(CliError::arg(format!(
            "table '{table}' exists with a different primary key than --pk gives"
        ))),
        (Err(tablesync::Error::ObjectNotExist(_)), Some(w)) => Ok((w, true)),
        (Err(tablesync::Error::ObjectNotExist(m)), None) => Err(CliError::new(
            "OTSObjectNotExist",
            format!("{m}; pass --pk name:TYPE … to create it"),
        )),
        (Err(e), _) => Err(e.into()),
    }
}

/// Every row of the file, parsed and checked before anything is written.
fn parse_file(
    path: &Path,
    format: Format,
    schema: &TableSchema,
) -> CliResult<Vec<(usize, PrimaryKey, Vec<Column>)>> {
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(size, "parsing");
    let mut rows = Vec::new();
    match format {
        Format::Jsonl => {
            let mut reader = BufReader::with_capacity(1 << 16, file);
            let mut line = String::new();
            let mut n = 0usize;
            loop {
                line.clear();
                let read = reader.read_line(&mut line).map_err(|e| {
                    let at = format!("{} line {}", path.display(), n + 1);
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        CliError::input("not UTF-8 text").context(at)
                    } else {
                        file_error(path, e).context(at)
                    }
                })?;
                if read == 0 {
                    break;
                }
                n += 1;
                bar.inc(read as u64);
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                let (pk, cols) = json_to_row(schema, text)
                    .map_err(|e| e.context(format!("{} line {n}", path.display())))?;
                rows.push((n, pk, cols));
            }
        }
        Format::Csv => {
            let mut reader =
                csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(CountingReader {
                        inner: file,
                        bar: bar.clone(),
                    });
            let header = reader
                .headers()
                .map_err(|e| CliError::input(format!("{}: header: {e}", path.display())))?
                .clone();
            let names: Vec<&str> = header.iter().collect();
            let header = Header::parse(schema, &names)
                .map_err(|e| e.context(format!("{} line 1", path.display())))?;
            let mut record = csv::StringRecord::new();
            loop {
                let more = reader
                    .read_record(&mut record)
                    .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
                if !more {
                    break;
                }
                let line = record.position().map_or(0, |p| p.line() as usize);
                let fields: Vec<&str> = record.iter().collect();
                let (pk, cols) = header
                    .row(schema, &fields)
                    .map_err(|e| e.context(format!("{} line {line}", path.display())))?;
                rows.push((line, pk, cols));
            }
        }
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// Counts bytes read into a progress bar.
struct CountingReader<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// `tablesync import`.
pub fn import(a: &ImportArgs, region: Option<&str>, sync: SyncPolicy) -> CliResult<()> {
    let format = format_of(&a.file, a.format)?;
    if !a.file.is_file() {
        return Err(file_error(&a.file, "no such file"));
    }
    let mut db = open_or_create(&a.dir, region, sync)?;
    let (schema, create) = import_schema(&db, &a.table, &a.pk)?;
    let rows = parse_file(&a.file, format, &schema)?;
    if create {
        db.create_table(schema.clone())?;
    }
    let total = rows.len();
    let written = write_rows(&mut db, &a.table, rows)?;
    let digest = db.table_digest(&a.table)?;
    db.close()?;
    println!(
        "imported {written} rows ({total} in the file) into '{}'; digest {digest}",
        a.table
    );
    Ok(())
}

/// Write rows in batches; a row that fails stops the import with its line number.
fn write_rows(
    db: &mut Database,
    table: &str,
    rows: Vec<(usize, PrimaryKey, Vec<Column>)>,
) -> CliResult<u64> {
    let bar = progress::rows(rows.len() as u64, "importing");
    let mut written = 0u64;
    let mut batch: Vec<WriteOp> = Vec::with_capacity(BATCH);
    let mut lines: Vec<usize> = Vec::with_capacity(BATCH);
    let mut keys: HashSet<PrimaryKey> = HashSet::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<WriteOp>,
                     lines: &mut Vec<usize>,
                     keys: &mut HashSet<PrimaryKey>|
     -> CliResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let results = db.batch_write(std::mem::take(batch))?;
        for (r, line) in results.into_iter().zip(lines.iter()) {
            if let Err(e) = r {
                return Err(CliError::from(e).context(format!(
                    "line {line} ({written} rows before it were imported)"
                )));
            }
            written += 1;
        }
        bar.inc(lines.len() as u64);
        lines.clear();
        keys.clear();
        Ok(())
    };
    for (line, pk, columns) in rows {
        // A batch may not touch one row twice; a repeated key starts a new batch
        // so the later line wins, as it would one put at a time.
        if batch.len() == BATCH || keys.contains(&pk) {
            flush(&mut batch, &mut lines, &mut keys)?;
        }
        keys.insert(pk.clone());
        lines.push(line);
        batch.push(WriteOp::Put {
            table: table.to_string(),
            primary_key: pk,
            columns,
            condition: Condition::ignore(),
        });
    }
    flush(&mut batch, &mut lines, &mut keys)?;
    bar.finish_and_clear();
    Ok(written)
}

/// Every row of a table, all visible versions.
fn scan_all<'a>(
    db: &'a Database,
    table: &str,
    schema: &TableSchema,
    options: &RangeOptions,
) -> tablesync::Scan<'a> {
    db.scan(
        table,
        RangeBound::all(schema, PkBound::InfMin),
        RangeBound::all(schema, PkBound::InfMax),
        options.clone(),
    )
}

/// The point of a repository an export reads.
fn point_of(a: &ExportArgs) -> CliResult<tablesync::backup::RestorePoint> {
    use tablesync::backup::RestorePoint;
    Ok(match (&a.backup, &a.at, a.at_stamp) {
        (Some(id), _, _) => RestorePoint::Backup(id.clone()),
        (_, Some(t), _) => RestorePoint::at_millis(super::backup::parse_time(t)?),
        (_, _, Some(s)) => RestorePoint::Stamp(s),
        _ => RestorePoint::Latest,
    })
}

/// `tablesync export`.
pub fn export(a: &ExportArgs, region: Option<&str>) -> CliResult<()> {
    let to_stdout = a.file.as_os_str() == "-";
    let format = if to_stdout {
        a.format.unwrap_or(Format::Jsonl)
    } else {
        format_of(&a.file, a.format)?
    };
    let loc = a.dir.to_string_lossy();
    let mut db = if super::backup::is_repository(&loc) {
        super::backup::table_at(&loc, &a.key, &a.table, point_of(a)?)?
    } else if a.at.is_some() || a.at_stamp.is_some() || a.backup.is_some() {
        return Err(CliError::arg(format!(
            "{}: --at, --at-stamp and --backup read a backup repository, not a database directory",
            a.dir.display()
        )));
    } else {
        open_existing(&a.dir, region, SyncPolicy::Always)?
    };
    let d = db.describe_table(&a.table)?;
    let schema = d.schema;
    let options = RangeOptions {
        read: GetOptions {
            max_versions: schema.options.max_versions,
            ..GetOptions::default()
        },
        ..RangeOptions::default()
    };
    let all = |db| scan_all(db, &a.table, &schema, &options);
    let layout = if format == Format::Csv {
        let bar = progress::rows(d.row_count, "checking");
        let mut layout = ExportLayout::new(!a.no_timestamps);
        for row in all(&db) {
            layout.observe(&row?)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        Some(layout)
    } else {
        None
    };
    let partial: PathBuf = {
        let mut p = a.file.clone().into_os_string();
        p.push(".partial");
        p.into()
    };
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&partial).map_err(|e| file_error(&partial, e))?)
    };
    let io_err = |e: std::io::Error| {
        if to_stdout {
            stdout_error(e)
        } else {
            file_error(&partial, e)
        }
    };
    let bar = progress::rows(d.row_count, "exporting");
    let mut n = 0u64;
    match &layout {
        None => {
            let mut out = BufWriter::with_capacity(1 << 16, sink);
            for row in all(&db) {
                writeln!(out, "{}", row_to_json(&row?, !a.no_timestamps)).map_err(io_err)?;
                n += 1;
                bar.inc(1);
            }
            out.flush().map_err(io_err)?;
        }
        Some(layout) => {
            let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, sink));
            let csv_err = |e: csv::Error| match e.into_kind() {
                csv::ErrorKind::Io(e) => io_err(e),
                other => CliError::new(crate::error::FILE_IO, format!("{other:?}")),
            };
            w.write_record(layout.header(&schema)).map_err(csv_err)?;
            for row in all(&db) {
                w.write_record(layout.record(&schema, &row?))
                    .map_err(csv_err)?;
                n += 1;
                bar.inc(1);
            }
            w.flush().map_err(io_err)?;
        }
    }
    bar.finish_and_clear();
    if !to_stdout {
        std::fs::rename(&partial, &a.file).map_err(|e| file_error(&a.file, e))?;
    }
    let digest = db.table_digest(&a.table)?;
    db.close()?;
    eprintln!(
        "exported {n} rows of '{}' to {}; digest {digest}",
        a.table,
        if to_stdout {
            "standard output".to_string()
        } else {
            a.file.display().to_string()
        }
    );
    Ok(())
}
