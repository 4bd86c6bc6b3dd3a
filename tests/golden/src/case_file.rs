//! The one reader of golden case files (format: the repo's `tests/golden/cases/README.md`).
//!
//! Shared by the build script (which reads the shape-determining keys to write the types) and
//! the harness `tests/golden.rs` (which reads every value), each through
//! `#[path = "..."] mod case_file;`. Parsing is strict: a line that is not `key: value ...`, a
//! key with a space or a colon, an empty value (two spaces, a trailing space), a repeated key,
//! or a first key other than `kind` is an error, never skipped.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A parsed case file. It records which keys were read, so that a consumer can fail on a
/// recorded number nobody looked at.
#[derive(Clone, Debug)]
pub struct CaseFile {
    entries: BTreeMap<String, Vec<String>>,
    read: RefCell<BTreeSet<String>>,
}

impl CaseFile {
    /// Parses the text of a case file.
    pub fn parse(text: &str) -> Result<CaseFile, String> {
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, values) = line
                .split_once(": ")
                .ok_or_else(|| format!("line {n}: not `key: value ...`"))?;
            if key.is_empty() || key.contains([' ', ':']) {
                return Err(format!("line {n}: bad key `{key}`"));
            }
            if entries.is_empty() && key != "kind" {
                return Err(format!("line {n}: the first key is `{key}`, not `kind`"));
            }
            let values: Vec<String> = values.split(' ').map(str::to_string).collect();
            if values.iter().any(String::is_empty) {
                return Err(format!(
                    "line {n}: `{key}` has an empty value (two spaces or a trailing space)"
                ));
            }
            if entries.insert(key.to_string(), values).is_some() {
                return Err(format!("line {n}: key `{key}` appears twice"));
            }
        }
        if entries.is_empty() {
            return Err("no `key: value` line".to_string());
        }
        Ok(CaseFile {
            entries,
            read: RefCell::new(BTreeSet::new()),
        })
    }

    /// The keys not read so far, in sorted order.
    pub fn unread(&self) -> Vec<String> {
        let read = self.read.borrow();
        self.entries
            .keys()
            .filter(|k| !read.contains(*k))
            .cloned()
            .collect()
    }

    /// The raw values of `key` (at least one), marking it read.
    pub fn words(&self, key: &str) -> Result<&[String], String> {
        self.read.borrow_mut().insert(key.to_string());
        self.entries
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("missing key `{key}`"))
    }

    /// The single value of `key`.
    pub fn word(&self, key: &str) -> Result<&str, String> {
        match self.words(key)? {
            [one] => Ok(one),
            more => Err(format!("`{key}`: expected one value, found {}", more.len())),
        }
    }

    pub fn floats(&self, key: &str) -> Result<Vec<f64>, String> {
        self.words(key)?
            .iter()
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| format!("`{key}`: `{s}` is not a float"))
            })
            .collect()
    }

    pub fn float(&self, key: &str) -> Result<f64, String> {
        let s = self.word(key)?;
        s.parse()
            .map_err(|_| format!("`{key}`: `{s}` is not a float"))
    }

    pub fn ints(&self, key: &str) -> Result<Vec<usize>, String> {
        self.words(key)?
            .iter()
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("`{key}`: `{s}` is not an integer"))
            })
            .collect()
    }

    pub fn int(&self, key: &str) -> Result<usize, String> {
        let s = self.word(key)?;
        s.parse()
            .map_err(|_| format!("`{key}`: `{s}` is not an integer"))
    }

    pub fn boolean(&self, key: &str) -> Result<bool, String> {
        match self.word(key)? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("`{key}`: `{other}` is not a boolean")),
        }
    }

    /// A copy, with nothing read, in which value `index` of `key` is `value` (written so that
    /// it parses back exactly).
    pub fn with_value(&self, key: &str, index: usize, value: f64) -> Result<CaseFile, String> {
        let mut entries = self.entries.clone();
        let slot = entries
            .get_mut(key)
            .and_then(|v| v.get_mut(index))
            .ok_or_else(|| format!("no value {index} in `{key}`"))?;
        *slot = format!("{value:e}");
        Ok(CaseFile {
            entries,
            read: RefCell::new(BTreeSet::new()),
        })
    }
}
