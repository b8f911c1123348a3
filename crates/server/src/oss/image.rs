//! Image processing on GET (`x-oss-process=image/...`): info, resize and format, for PNG and JPEG.

use crate::body::Body;
use crate::json::quote;
use crate::State;
use http::Response;
use image::{DynamicImage, ImageFormat};
use ossd_engine::model::ObjectRecord;
use ossd_errors::{Code, Error, Result};
use std::io::{Cursor, Read};
use std::sync::Arc;

/// The largest object image processing reads.
pub const MAX_IMAGE: u64 = 20 << 20;

#[derive(Debug, PartialEq)]
pub(super) enum Action {
    Info,
    Resize { w: Option<u32>, h: Option<u32>, fixed: bool },
    Format(ImageFormat),
}

fn bad(spec: &str, why: &str) -> Error {
    Error::invalid_argument("x-oss-process", spec, format!("Invalid image process: {why}."))
}

pub(super) fn parse(spec: &str) -> Result<Vec<Action>> {
    let rest = spec.strip_prefix("image/").ok_or_else(|| bad(spec, "only image/ processing is supported"))?;
    let mut actions = Vec::new();
    for step in rest.split('/').filter(|s| !s.is_empty()) {
        let mut parts = step.split(',');
        let name = parts.next().unwrap_or("");
        match name {
            "info" => actions.push(Action::Info),
            "resize" => {
                let (mut w, mut h, mut fixed) = (None, None, false);
                for p in parts {
                    let (k, v) = p.split_once('_').ok_or_else(|| bad(spec, "resize parameters are k_v"))?;
                    let num = || {
                        v.parse::<u32>()
                            .ok()
                            .filter(|n| (1..=16_384).contains(n))
                            .ok_or_else(|| bad(spec, "size out of range"))
                    };
                    match k {
                        "w" => w = Some(num()?),
                        "h" => h = Some(num()?),
                        "m" => fixed = v == "fixed",
                        "l" | "s" | "limit" => {}
                        _ => return Err(bad(spec, "unknown resize parameter")),
                    }
                }
                if w.is_none() && h.is_none() {
                    return Err(bad(spec, "resize needs w_ or h_"));
                }
                actions.push(Action::Resize { w, h, fixed });
            }
            "format" => {
                let f = match parts.next() {
                    Some("png") => ImageFormat::Png,
                    Some("jpg") | Some("jpeg") => ImageFormat::Jpeg,
                    _ => return Err(bad(spec, "format must be png or jpg")),
                };
                actions.push(Action::Format(f));
            }
            _ => return Err(bad(spec, "unknown action")),
        }
    }
    if actions.is_empty() {
        return Err(bad(spec, "no action"));
    }
    Ok(actions)
}

fn damaged(o: &ObjectRecord) -> Error {
    Error::new(Code::ImageDamage).ctx("Key", o.key.clone())
}

fn format_name(f: ImageFormat) -> &'static str {
    if f == ImageFormat::Png {
        "png"
    } else {
        "jpg"
    }
}

/// Runs the processing spec over the object and returns the response.
pub async fn process(state: &Arc<State>, o: ObjectRecord, spec: &str) -> Result<Response<Body>> {
    let actions = parse(spec)?;
    if o.size > MAX_IMAGE {
        return Err(bad(spec, "the image is larger than 20 MiB"));
    }
    let engine = state.engine.clone();
    let (ctype, bytes) = super::blocking(move || {
        let mut data = Vec::with_capacity(o.size as usize);
        engine.reader(&o, 0, o.size).read_to_end(&mut data).map_err(Error::internal)?;
        let src = match image::guess_format(&data) {
            Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
            _ => return Err(damaged(&o)),
        };
        let mut img: DynamicImage = image::load_from_memory_with_format(&data, src).map_err(|_| damaged(&o))?;
        if actions.contains(&Action::Info) {
            let json = format!(
                "{{{}: {{\"value\": {}}}, {}: {{\"value\": {}}}, {}: {{\"value\": {}}}, {}: {{\"value\": {}}}}}",
                quote("FileSize"),
                quote(&o.size.to_string()),
                quote("Format"),
                quote(format_name(src)),
                quote("ImageHeight"),
                quote(&img.height().to_string()),
                quote("ImageWidth"),
                quote(&img.width().to_string()),
            );
            return Ok(("application/json", json.into_bytes()));
        }
        let mut out_format = src;
        for a in &actions {
            match a {
                Action::Resize { w, h, fixed } => {
                    let (iw, ih) = (img.width().max(1), img.height().max(1));
                    let (tw, th) = match (w, h) {
                        (Some(w), Some(h)) => (*w, *h),
                        (Some(w), None) => (*w, ((*w as u64 * ih as u64) / iw as u64).max(1) as u32),
                        (None, Some(h)) => (((*h as u64 * iw as u64) / ih as u64).max(1) as u32, *h),
                        (None, None) => (iw, ih),
                    };
                    img = if *fixed {
                        img.resize_exact(tw, th, image::imageops::FilterType::Triangle)
                    } else {
                        img.resize(tw, th, image::imageops::FilterType::Triangle)
                    };
                }
                Action::Format(f) => out_format = *f,
                Action::Info => {}
            }
        }
        if out_format == ImageFormat::Jpeg {
            img = DynamicImage::ImageRgb8(img.to_rgb8());
        }
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, out_format).map_err(Error::internal)?;
        let ctype = if out_format == ImageFormat::Png { "image/png" } else { "image/jpeg" };
        Ok((ctype, out.into_inner()))
    })
    .await?;
    Response::builder()
        .header(http::header::CONTENT_TYPE, ctype)
        .header(http::header::CONTENT_LENGTH, bytes.len())
        .body(Body::full(bytes))
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse("image/info").unwrap(), vec![Action::Info]);
        assert_eq!(
            parse("image/resize,w_10,h_20,m_fixed/format,jpg").unwrap(),
            vec![Action::Resize { w: Some(10), h: Some(20), fixed: true }, Action::Format(ImageFormat::Jpeg)]
        );
        for bad in [
            "video/x",
            "image/",
            "image/resize",
            "image/resize,w_0",
            "image/resize,w_x",
            "image/format,gif",
            "image/rotate,90",
        ] {
            assert_eq!(parse(bad).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
    }
}
