//! JSON written the way the service's Java backend writes it (Jackson's default pretty printer):
//! `"key" : value`, two spaces per object level, arrays inline as `[ a, b ]`, empty containers `{ }` and `[ ]`.
//! This is the layout of the vendor's response example, so clients are tested against the real whitespace.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

#[derive(Default)]
pub(crate) struct JacksonFormatter {
    /// One entry per open container: whether it has had an entry yet.
    open: Vec<bool>,
    /// How many objects are open: arrays do not indent.
    object_depth: usize,
}

impl JacksonFormatter {
    fn indent<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.object_depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn mark_entry(&mut self) {
        if let Some(has_entries) = self.open.last_mut() {
            *has_entries = true;
        }
    }
}

impl Formatter for JacksonFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.push(false);
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.pop();
        writer.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.mark_entry();
        writer.write_all(if first { b" " } else { b", " })
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.push(false);
        self.object_depth += 1;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let had_entries = self.open.pop().unwrap_or(false);
        self.object_depth = self.object_depth.saturating_sub(1);
        if had_entries {
            self.indent(writer)?;
            writer.write_all(b"}")
        } else {
            writer.write_all(b" }")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.mark_entry();
        if !first {
            writer.write_all(b",")?;
        }
        self.indent(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as Jackson would print it.
pub(crate) fn to_vec<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, JacksonFormatter::default());
    value.serialize(&mut serializer)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_the_vendor_example_layout() {
        let value = json!({
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.1.7:5443"}}],
            "empty": [],
            "current-context": "internal"
        });
        let text = String::from_utf8(to_vec(&value).unwrap()).unwrap();
        let expected = r#"{
  "kind" : "Config",
  "preferences" : { },
  "clusters" : [ {
    "name" : "internalCluster",
    "cluster" : {
      "server" : "https://192.168.1.7:5443"
    }
  } ],
  "empty" : [ ],
  "current-context" : "internal"
}"#;
        assert_eq!(text, expected);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn arrays_of_scalars_stay_on_one_line() {
        let text = String::from_utf8(to_vec(&json!({"a": [1, 2]})).unwrap()).unwrap();
        assert_eq!(text, "{\n  \"a\" : [ 1, 2 ]\n}");
    }
}
