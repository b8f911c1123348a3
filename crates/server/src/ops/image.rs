//! Image processing on GET (`x-oss-process=image/...`): info, resize and format, for PNG and JPEG.

use crate::http::body::Body;
use crate::http::json::quote;
use crate::State;
use http::Response;
use image::{DynamicImage, ImageFormat};
use ossd_engine::model::ObjectRecord;
use ossd_errors::{Code, Error, Result};
use std::io::Cursor;
use std::io::Read;
use std::sync::Arc;

/// The largest object image processing reads (OSS: "A source image cannot exceed 20 MB").
pub const MAX_IMAGE: u64 = 20 << 20;
/// The longest side of a source image (OSS: 30,000 pixels, EC 0040-00000019).
pub const MAX_SOURCE_SIDE: u32 = 30_000;
/// The most pixels in a source image (OSS: 250 million, EC 0040-00000012).
pub const MAX_SOURCE_PIXELS: u64 = 250_000_000;
/// The most memory the decoder may take for one image (ossd's own bound; the decoder's default).
pub const MAX_DECODE_ALLOC: u64 = 512 << 20;
/// The range of resize parameters w, h, l and s (OSS: [1,16384], EC 0040-00000312 and 0040-00000315).
pub const MAX_RESIZE_SIDE: u32 = 16_384;
/// The most pixels in a resized image (OSS: 4,096 x 4,096, EC 0040-00000007).
pub const MAX_RESIZED_PIXELS: u64 = 4096 * 4096;
/// The most steps in one x-oss-process spec (ossd's own bound; each step is a full pass over the image).
pub const MAX_STEPS: usize = 8;

#[derive(Debug, PartialEq)]
pub enum Action {
    Info,
    Resize { w: Option<u32>, h: Option<u32>, fixed: bool },
    Format(ImageFormat),
}

fn bad(spec: &str, why: &str) -> Error {
    let shown: String = spec.chars().take(256).collect();
    Error::invalid_argument("x-oss-process", &shown, format!("Invalid image process: {why}."))
}

/// Parses an `x-oss-process` value (`image/resize,w_100/format,png`).
pub fn parse(spec: &str) -> Result<Vec<Action>> {
    let rest = spec.strip_prefix("image/").ok_or_else(|| bad(spec, "only image/ processing is supported"))?;
    let mut actions = Vec::new();
    for step in rest.split('/').filter(|s| !s.is_empty()) {
        if actions.len() == MAX_STEPS {
            return Err(bad(spec, "too many processing steps"));
        }
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
                            .filter(|n| (1..=MAX_RESIZE_SIDE).contains(n))
                            .ok_or_else(|| bad(spec, "size out of range [1,16384]"))
                    };
                    match k {
                        "w" => w = Some(num()?),
                        "h" => h = Some(num()?),
                        "l" | "s" => {
                            num()?;
                        }
                        "m" => match v {
                            "fixed" => fixed = true,
                            "lfit" | "mfit" | "fill" | "pad" => fixed = false,
                            _ => return Err(bad(spec, "unknown resize mode")),
                        },
                        "limit" if v == "0" || v == "1" => {}
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

fn too_large(why: String) -> Error {
    Error::new(Code::ImageTooLarge).ctx("Detail", why)
}

/// Decodes a PNG or JPEG within OSS's source limits: the header is read first, and an image whose sides or pixel
/// count pass the limits is refused before any pixel is decoded; the decoder itself is held to the same sides
/// and to [`MAX_DECODE_ALLOC`] bytes. `Ok(None)` means the bytes are not a PNG or JPEG it can read.
pub fn decode_limited(data: &[u8]) -> Result<Option<(DynamicImage, ImageFormat)>> {
    let src = match image::guess_format(data) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        _ => return Ok(None),
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let reader = |limits: image::Limits| {
        let mut r = image::ImageReader::with_format(Cursor::new(data), src);
        r.limits(limits);
        r
    };
    let (w, h) = match reader(limits.clone()).into_dimensions() {
        Ok(d) => d,
        Err(image::ImageError::Limits(e)) => return Err(too_large(e.to_string())),
        Err(_) => return Ok(None),
    };
    if w.max(h) > MAX_SOURCE_SIDE || w as u64 * h as u64 > MAX_SOURCE_PIXELS {
        return Err(too_large(format!("the image is {w} x {h} pixels")));
    }
    match reader(limits).decode() {
        Ok(img) => Ok(Some((img, src))),
        Err(image::ImageError::Limits(e)) => Err(too_large(e.to_string())),
        Err(_) => Ok(None),
    }
}

/// The size a resize step produces from `iw` x `ih`, refused past OSS's resized-image limits.
fn resized(w: Option<u32>, h: Option<u32>, iw: u32, ih: u32, spec: &str) -> Result<(u32, u32)> {
    let (iw, ih) = (iw.max(1) as u64, ih.max(1) as u64);
    let (tw, th) = match (w, h) {
        (Some(w), Some(h)) => (w as u64, h as u64),
        (Some(w), None) => (w as u64, (w as u64 * ih / iw).max(1)),
        (None, Some(h)) => ((h as u64 * iw / ih).max(1), h as u64),
        (None, None) => (iw, ih),
    };
    if tw > MAX_RESIZE_SIDE as u64 || th > MAX_RESIZE_SIDE as u64 || tw * th > MAX_RESIZED_PIXELS {
        return Err(bad(spec, "the resized image would pass 4096 x 4096 pixels"));
    }
    Ok((tw as u32, th as u32))
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
    let spec = spec.to_string();
    let (ctype, bytes) = super::blocking(move || {
        let mut data = Vec::with_capacity(o.size as usize);
        engine.reader(&o, 0, o.size).read_to_end(&mut data).map_err(Error::internal)?;
        let Some((mut img, src)) = decode_limited(&data)? else { return Err(damaged(&o)) };
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
                    let (tw, th) = resized(*w, *h, img.width(), img.height(), &spec)?;
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

    /// A PNG whose header says `w` x `h` (8-bit grey) and whose one IDAT chunk holds `idat`.
    fn png_header(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut c = 0xffff_ffffu32;
            for &b in data {
                c ^= b as u32;
                for _ in 0..8 {
                    c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
                }
            }
            !c
        }
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32(&body).to_be_bytes());
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", idat);
        chunk(&mut out, b"IEND", b"");
        out
    }

    #[test]
    fn decompression_bombs_are_refused_from_the_header() {
        // 20,000 x 15,000 = 300 million pixels: past 250 million, within 30,000 a side.
        let e = decode_limited(&png_header(20_000, 15_000, b"")).unwrap_err();
        assert_eq!(e.code, Code::ImageTooLarge);
        // One side past 30,000.
        assert_eq!(decode_limited(&png_header(30_001, 1, b"")).unwrap_err().code, Code::ImageTooLarge);
        assert_eq!(
            decode_limited(&png_header(u32::MAX >> 1, u32::MAX >> 1, b"")).unwrap_err().code,
            Code::ImageTooLarge
        );
        // Within the limits but the pixels are missing: damaged, not a crash.
        assert!(decode_limited(&png_header(10, 10, b"garbage")).unwrap().is_none());
        assert!(decode_limited(b"not an image").unwrap().is_none());
        assert!(decode_limited(b"\xff\xd8\xff\xe0 truncated jpeg").unwrap().is_none());
        // A real small image decodes.
        let mut png = Cursor::new(Vec::new());
        DynamicImage::new_luma8(3, 2).write_to(&mut png, ImageFormat::Png).unwrap();
        let (img, f) = decode_limited(png.get_ref()).unwrap().unwrap();
        assert_eq!((img.width(), img.height(), f), (3, 2, ImageFormat::Png));
    }

    #[test]
    fn resized_images_are_bounded() {
        assert_eq!(resized(Some(100), None, 1000, 500, "s").unwrap(), (100, 50));
        assert_eq!(resized(None, Some(10), 1, 16_384, "s").unwrap(), (1, 10));
        assert!(resized(Some(5000), Some(5000), 10, 10, "s").is_err());
        // One side given, the other follows the aspect ratio past the limit.
        assert!(resized(Some(16_384), None, 1, 30_000, "s").is_err());
        assert_eq!(resized(Some(4096), Some(4096), 1, 1, "s").unwrap(), (4096, 4096));
    }

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
            "image/resize,w_16385",
            "image/resize,w_10,m_bogus",
            "image/resize,w_10,l_0",
            "image/resize,w_10,limit_7",
            "image/info/info/info/info/info/info/info/info/info",
        ] {
            assert_eq!(parse(bad).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
    }
}
