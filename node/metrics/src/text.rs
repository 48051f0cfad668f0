//! A strict parser of the Prometheus text exposition format (version 0.0.4), for tests and
//! tools that read `/debug/metrics/prometheus` or qtm's `/metrics`.

use std::collections::HashSet;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

impl Sample {
    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A line that is not valid text format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}: {text:?}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
    /// The line.
    pub text: String,
}

/// Labels in the order written.
type Labels = Vec<(String, String)>;

const TYPES: [&str; 5] = ["counter", "gauge", "summary", "histogram", "untyped"];

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Parses `k="v",...}` (after the `{`); returns the labels and the rest after `}`.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find('=').ok_or("label without '='")?;
        let key = s[..eq].trim();
        if !is_name(key) || key.contains(':') {
            return Err(format!("bad label name {key:?}"));
        }
        s = s[eq + 1..].trim_start().strip_prefix('"').ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err("bad escape in label value".into()),
                },
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        };
        labels.push((key.to_owned(), value));
        s = s[end + 1..].trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err("expected ',' or '}' after a label".into());
        }
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end =
        line.find(|c: char| c == '{' || c.is_whitespace()).ok_or("no value after the name")?;
    let name = &line[..name_end];
    if !is_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = line[name_end..].trim_start();
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (l, r) = parse_labels(after)?;
        labels = l;
        rest = r;
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("missing value")?;
    let value = parse_value(value).ok_or_else(|| format!("bad value {value:?}"))?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if fields.next().is_some() {
        return Err("trailing fields".into());
    }
    Ok(Sample { name: name.to_owned(), labels, value })
}

/// Parses a whole exposition. Comments must be `# TYPE <name> <type>` (once per name),
/// `# HELP <name> ...` or free text; every other non-empty line must be a sample.
pub fn parse(text: &str) -> Result<Vec<Sample>, ParseError> {
    let mut samples = Vec::new();
    let mut typed = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let err = |reason: String| ParseError { line: i + 1, reason, text: line.to_owned() };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            match words.next() {
                Some("TYPE") => {
                    let (Some(name), Some(kind), None) = (words.next(), words.next(), words.next())
                    else {
                        return Err(err("TYPE needs a name and a type".into()));
                    };
                    if !is_name(name) || !TYPES.contains(&kind) {
                        return Err(err("bad TYPE line".into()));
                    }
                    if !typed.insert(name.to_owned()) {
                        return Err(err(format!("second TYPE line for {name}")));
                    }
                }
                Some("HELP") if !words.next().is_some_and(is_name) => {
                    return Err(err("bad HELP line".into()));
                }
                _ => {}
            }
            continue;
        }
        samples.push(parse_sample(trimmed).map_err(err)?);
    }
    Ok(samples)
}

/// The value of the first sample named `name` whose labels include all of `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .map(|s| s.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_geth_shapes() {
        let text = "# TYPE chain_head_block gauge\nchain_head_block 5\n\n\
                    # TYPE chain_execution_count counter\nchain_execution_count 2\n\n\
                    # TYPE chain_execution summary\nchain_execution {quantile=\"0.5\"} 1.5e+06\n\
                    chain_execution{quantile=\"0.99\"} 2000000\nchain_execution_sum 3500000 1700000000000\n";
        let s = parse(text).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(value(&s, "chain_head_block", &[]), Some(5.0));
        assert_eq!(value(&s, "chain_execution", &[("quantile", "0.5")]), Some(1.5e6));
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            "1abc 3",
            "abc",
            "abc{x=1} 2",
            "abc{x=\"1\" 2",
            "abc three",
            "# TYPE a gauge\n# TYPE a gauge",
            "# TYPE a meter",
            "abc 1 2 3",
            "a-b 1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let escaped = parse("a{p=\"x\\\"y\\\\\"} +Inf").unwrap();
        assert_eq!(escaped[0].label("p"), Some("x\"y\\"));
    }
}
