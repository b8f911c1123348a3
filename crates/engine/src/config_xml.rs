//! The XML documents of lifecycle rules and access logging (`LifecycleConfiguration`, `BucketLoggingStatus`),
//! read with the bounded reader under the rules PutBucketLifecycle and PutBucketLogging apply. The server
//! reads request bodies with them; the engine reads configurations that releases before it typed them stored
//! as these documents (see `Engine::upgrade_configs`).

use crate::bucket::Logging;
use crate::lifecycle::{LifecycleRule, When};
use ossd_errors::xml::{parse, Node};
use ossd_errors::{Code, Error, Result};
use ossd_sign::date::parse_iso8601;

fn malformed(why: &str) -> Error {
    Error::new(Code::MalformedXML).ctx("Detail", why)
}

fn when(n: &Node) -> Result<Option<When>> {
    if let Some(d) = n.text_of("Days") {
        let days: u32 = d.trim().parse().map_err(|_| malformed("Days is not a positive integer"))?;
        if days == 0 {
            return Err(Error::invalid_argument("Days", d, "Days must be a positive integer."));
        }
        return Ok(Some(When::Days(days)));
    }
    for tag in ["Date", "CreatedBeforeDate"] {
        if let Some(d) = n.text_of(tag) {
            return parse_iso8601(d).map(|t| Some(When::Before(t))).ok_or_else(|| malformed("a date is not ISO 8601"));
        }
    }
    Ok(None)
}

/// A `LifecycleConfiguration`: 1 to 1000 rules, each with a Status and at least one action.
pub fn parse_lifecycle(raw: &[u8]) -> Result<Vec<LifecycleRule>> {
    let doc = parse(raw, "LifecycleConfiguration")?;
    let mut rules = Vec::new();
    for r in doc.all("Rule") {
        let status = r.text_of("Status").map(str::trim).ok_or_else(|| malformed("Rule/Status is required"))?;
        if status != "Enabled" && status != "Disabled" {
            return Err(malformed("Status must be Enabled or Disabled"));
        }
        let tags = r
            .all("Tag")
            .chain(r.child("Filter").into_iter().flat_map(|f| f.all("Tag")))
            .map(|t| (t.text_of("Key").unwrap_or("").to_string(), t.text_of("Value").unwrap_or("").to_string()))
            .collect();
        let rule = LifecycleRule {
            id: r.text_of("ID").unwrap_or("").to_string(),
            prefix: r.text_of("Prefix").unwrap_or("").to_string(),
            enabled: status == "Enabled",
            tags,
            expiration: match r.child("Expiration") {
                Some(e) => when(e)?,
                None => None,
            },
            abort_upload: match r.child("AbortMultipartUpload") {
                Some(e) => when(e)?,
                None => None,
            },
        };
        if rule.expiration.is_none() && rule.abort_upload.is_none() {
            return Err(malformed("a Rule needs an Expiration or AbortMultipartUpload action"));
        }
        rules.push(rule);
    }
    if rules.is_empty() || rules.len() > 1000 {
        return Err(malformed("a lifecycle configuration has 1 to 1000 rules"));
    }
    Ok(rules)
}

/// A `BucketLoggingStatus`: None when it has no `LoggingEnabled` (logging off). The target bucket is not
/// checked here (`Engine::put_bucket_logging` does).
pub fn parse_logging(raw: &[u8]) -> Result<Option<Logging>> {
    let doc = parse(raw, "BucketLoggingStatus")?;
    Ok(doc.child("LoggingEnabled").map(|l| Logging {
        target_bucket: l.text_of("TargetBucket").map(|s| s.trim().to_string()).unwrap_or_default(),
        target_prefix: l.text_of("TargetPrefix").unwrap_or("").to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_rules() {
        let r = parse_lifecycle(
            b"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>logs/</Prefix><Status>Enabled</Status>\
              <Tag><Key>k</Key><Value>v</Value></Tag><Expiration><Days>3</Days></Expiration>\
              <AbortMultipartUpload><CreatedBeforeDate>2020-01-02T00:00:00.000Z</CreatedBeforeDate></AbortMultipartUpload>\
              </Rule></LifecycleConfiguration>",
        )
        .unwrap();
        assert_eq!(r[0].id, "r");
        assert_eq!(r[0].prefix, "logs/");
        assert!(r[0].enabled);
        assert_eq!(r[0].expiration, Some(When::Days(3)));
        assert_eq!(r[0].abort_upload, Some(When::Before(1_577_923_200_000)));
        assert_eq!(r[0].tags, vec![("k".to_string(), "v".to_string())]);
        for bad in [
            &b"<LifecycleConfiguration><Rule><Prefix/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"[..],
            b"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>x</Days></Expiration></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule>",
            b"<LifecycleConfiguration></LifecycleConfiguration>",
        ] {
            assert_eq!(parse_lifecycle(bad).unwrap_err().code, Code::MalformedXML);
        }
        let zero = b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(parse_lifecycle(zero).unwrap_err().code, Code::InvalidArgument);
    }

    #[test]
    fn logging_status() {
        let on =
            b"<BucketLoggingStatus><LoggingEnabled><TargetBucket> logs </TargetBucket><TargetPrefix>p/</TargetPrefix>\
                   </LoggingEnabled></BucketLoggingStatus>";
        let want = Logging { target_bucket: "logs".into(), target_prefix: "p/".into() };
        assert_eq!(parse_logging(on).unwrap(), Some(want));
        assert_eq!(parse_logging(b"<BucketLoggingStatus/>").unwrap(), None);
        assert_eq!(parse_logging(b"<Other/>").unwrap_err().code, Code::MalformedXML);
    }
}
