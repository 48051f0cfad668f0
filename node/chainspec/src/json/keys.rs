//! Case-insensitive JSON object keys, the way Go's `encoding/json` matches struct tags.
//!
//! Go matches an object key to a struct field exactly first and then ignoring ASCII case.
//! We get the same result by lower-casing every object key (never a value) before serde sees
//! the document, and by naming every field in lower case. Values (numbers, hex strings,
//! addresses used as `alloc` keys) are copied byte for byte, so no precision is lost.

use crate::ChainSpecError;

/// What the scanner expects next inside the innermost container.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    /// Inside `{ … }`; `expect_key` is true right after `{` or `,`.
    Object { expect_key: bool },
    /// Inside `[ … ]`.
    Array,
}

/// Returns `json` with every object key lower-cased (ASCII only).
///
/// The scan is a single pass over the bytes; it only tracks nesting and strings, it does not
/// validate the document (serde does that afterwards). Unbalanced brackets are reported.
pub(crate) fn lowercase_keys(json: &str) -> Result<String, ChainSpecError> {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut stack: Vec<Container> = Vec::new();
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let is_key = matches!(stack.last(), Some(Container::Object { expect_key: true }));
                let end = string_end(bytes, i)
                    .ok_or(ChainSpecError::Syntax { reason: "unterminated string" })?;
                let literal = bytes.get(i..end).unwrap_or_default();
                if is_key {
                    out.extend(literal.iter().map(u8::to_ascii_lowercase));
                    if let Some(Container::Object { expect_key }) = stack.last_mut() {
                        *expect_key = false;
                    }
                } else {
                    out.extend_from_slice(literal);
                }
                i = end;
                continue;
            }
            b'{' => stack.push(Container::Object { expect_key: true }),
            b'[' => stack.push(Container::Array),
            b'}' | b']' => {
                stack
                    .pop()
                    .ok_or(ChainSpecError::Syntax { reason: "unbalanced closing bracket" })?;
            }
            b',' => {
                if let Some(Container::Object { expect_key }) = stack.last_mut() {
                    *expect_key = true;
                }
            }
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    // Only ASCII bytes were changed, and only to other ASCII bytes, so the result is UTF-8.
    String::from_utf8(out).map_err(|_| ChainSpecError::Syntax { reason: "invalid UTF-8" })
}

/// Index one past the closing quote of the string literal starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start.checked_add(1)?;
    loop {
        match bytes.get(i)? {
            b'\\' => i = i.checked_add(2)?,
            b'"' => return i.checked_add(1),
            _ => i = i.checked_add(1)?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lowercase_keys;

    #[test]
    fn lowercases_keys_only() {
        let got = lowercase_keys(
            r#"{"ChainId":"0xAB","Alloc":{"0xAbC":{"Balance":"1"}},"L":["X",{"K":"V"}]}"#,
        )
        .unwrap();
        assert_eq!(
            got,
            r#"{"chainid":"0xAB","alloc":{"0xabc":{"balance":"1"}},"l":["X",{"k":"V"}]}"#
        );
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let got = lowercase_keys(r#"{"A\"B":"x\"Y","C":1}"#).unwrap();
        assert_eq!(got, r#"{"a\"b":"x\"Y","c":1}"#);
    }

    #[test]
    fn reports_unbalanced_and_unterminated() {
        assert!(lowercase_keys("}").is_err());
        assert!(lowercase_keys(r#"{"abc"#).is_err());
    }
}
