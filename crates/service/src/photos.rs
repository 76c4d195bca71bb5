//! Photos people upload: only JPEG, PNG or WebP, told by their content (not
//! their name or the type the browser claims), within size and pixel
//! limits, turned upright and re-encoded so that no metadata (EXIF, GPS,
//! camera, comments) survives, and scaled down to what a phone shows.

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits, RgbImage};
use tokio::sync::Semaphore;

use crate::{Result, ServiceError};

/// The largest upload accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most pixels a photo may have (a 48-megapixel phone camera fits).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The longest side kept; larger photos are scaled down.
pub const MAX_SIDE: u32 = 2048;

/// The megapixels decoded at once across the server: a decoded photo
/// holds 3 or 4 bytes a pixel, so four uploads of nine 7000 × 7000 PNGs
/// wait their turn instead of holding 1.7 GB together.
pub const DECODE_BUDGET_MP: u32 = 64;
static DECODING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(DECODE_BUDGET_MP as usize)));
/// Pixels being decoded now, and the most ever at once (for tests).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static HIGH_WATER: AtomicU64 = AtomicU64::new(0);

/// The most pixels ever decoded at once in this process.
pub fn decoding_high_water() -> u64 {
    HIGH_WATER.load(Ordering::Relaxed)
}

/// Cleans uploads off the async threads, each waiting for its share of
/// the decoding budget (told by its header, before any pixel is decoded).
pub async fn clean_all(uploads: Vec<Vec<u8>>) -> Result<Vec<Photo>> {
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        out.push(clean_gated(u, clean).await?);
    }
    Ok(out)
}

/// Runs `f` (a cleaning) on `upload` off the async threads once the
/// upload's pixels fit in the decoding budget.
pub async fn clean_gated<T: Send + 'static>(
    upload: Vec<u8>,
    f: impl FnOnce(&[u8]) -> Result<T> + Send + 'static,
) -> Result<T> {
    let pixels = header_pixels(&upload).unwrap_or(0);
    let mp = pixels.div_ceil(1_000_000).clamp(1, u64::from(DECODE_BUDGET_MP)) as u32;
    let turn = DECODING.clone().acquire_many_owned(mp).await.map_err(|e| ServiceError::caused("photo gate", e))?;
    // the turn goes with the decoding: a client that hangs up does not
    // free the budget while its photo is still being decoded
    tokio::task::spawn_blocking(move || {
        let now = IN_FLIGHT.fetch_add(pixels, Ordering::Relaxed) + pixels;
        HIGH_WATER.fetch_max(now, Ordering::Relaxed);
        let done = f(&upload);
        IN_FLIGHT.fetch_sub(pixels, Ordering::Relaxed);
        drop(turn);
        done
    })
    .await
    .map_err(|e| ServiceError::caused("cleaning a photo", e))?
}

/// Width × height as the header says, without decoding; `None` for what
/// is not a photo (the cleaning refuses it).
fn header_pixels(upload: &[u8]) -> Option<u64> {
    let reader = ImageReader::new(Cursor::new(upload)).with_guessed_format().ok()?;
    let (w, h) = reader.into_dimensions().ok()?;
    Some(u64::from(w) * u64::from(h))
}

/// A photo ready to keep: re-encoded bytes and what they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

fn refused(zh: &str, en: &str) -> ServiceError {
    ServiceError::invalid("photo", zh, en)
}

/// What a photo kept under `name` (by its extension, as `clean` gave it) is:
/// its content type and extension.
pub fn kept_as(name: &str) -> (&'static str, &'static str) {
    match name.rsplit('.').next() {
        Some("png") => ("image/png", "png"),
        Some("webp") => ("image/webp", "webp"),
        _ => ("image/jpeg", "jpg"),
    }
}

/// Checks and cleans one upload.
pub fn clean(upload: &[u8]) -> Result<Photo> {
    if upload.is_empty() {
        return Err(refused("照片是空的", "the photo is empty"));
    }
    if upload.len() > MAX_BYTES {
        return Err(refused(
            &format!("照片不能超过 {} MB", MAX_BYTES / 1024 / 1024),
            &format!("a photo is at most {} MB", MAX_BYTES / 1024 / 1024),
        ));
    }
    let (format, content_type, extension) = match image::guess_format(upload) {
        Ok(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        Ok(ImageFormat::Png) => (ImageFormat::Png, "image/png", "png"),
        Ok(ImageFormat::WebP) => (ImageFormat::WebP, "image/webp", "webp"),
        _ => return Err(refused("只能上传 JPEG、PNG 或 WebP 照片", "only JPEG, PNG or WebP photos")),
    };
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let damaged = || refused("照片已损坏或无法识别", "the photo is damaged or cannot be read");
    let mut decoder = reader.into_decoder().map_err(|_| damaged())?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(refused(
            &format!("照片像素过多({w}×{h}),请缩小后再传"),
            &format!("the photo has too many pixels ({w}×{h}); make it smaller"),
        ));
    }
    // a photo held sideways says so in its EXIF, which is about to go
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| damaged())?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > MAX_SIDE {
        // integer box averaging: a filtered resize keeps a float copy of
        // the whole photo's columns, as large again as the photo
        img = img.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    let mut out = Cursor::new(Vec::new());
    let written = match format {
        ImageFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            img.to_rgb8().write_with_encoder(enc)
        }
        ImageFormat::Png => img.write_to(&mut out, ImageFormat::Png),
        _ => img.to_rgba8().write_to(&mut out, ImageFormat::WebP),
    };
    written.map_err(|e| ServiceError::caused("re-encoding a photo", e))?;
    Ok(Photo { bytes: out.into_inner(), content_type, extension, width: img.width(), height: img.height() })
}

/// A JPEG whose EXIF says where it was taken (GPS) and that it is held
/// sideways: what a phone sends, for tests of the cleaning.
#[doc(hidden)]
#[allow(clippy::expect_used)] // a fixed sample that always encodes
pub fn sample_jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, _| image::Rgb([(x * 255 / w) as u8, 80, 160]));
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new(&mut out);
    // little-endian TIFF: orientation 6 (rotate 90°) and a GPS pointer,
    // followed by a GPS directory whose latitude reference is "N"
    let mut exif = b"II\x2a\0\x08\0\0\0\x02\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    exif.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    exif.extend_from_slice(&[1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    exif.extend_from_slice(b"GPSLAT44.8182N");
    enc.set_exif_metadata(exif).expect("encoding a sample");
    enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8).expect("encoding a sample");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use image::RgbImage;

    use super::*;

    #[test]
    fn exif_and_gps_are_gone_and_the_photo_is_upright() {
        let raw = sample_jpeg_with_gps(64, 32);
        assert!(raw.windows(4).any(|w| w == b"Exif") && raw.windows(6).any(|w| w == b"GPSLAT"));
        let p = clean(&raw).unwrap();
        assert_eq!(p.content_type, "image/jpeg");
        assert!(!p.bytes.windows(4).any(|w| w == b"Exif"), "no EXIF block");
        assert!(!p.bytes.windows(6).any(|w| w == b"GPSLAT"));
        // turned by the orientation it carried: 64×32 held sideways is 32×64
        assert_eq!((p.width, p.height), (32, 64));
        let back = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (32, 64));
    }

    #[test]
    fn the_content_decides_not_the_name() {
        let mut png = Vec::new();
        RgbImage::new(8, 8).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        assert_eq!(clean(&png).unwrap().content_type, "image/png");
        let mut webp = Vec::new();
        image::RgbaImage::new(8, 8).write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP).unwrap();
        assert_eq!(clean(&webp).unwrap().content_type, "image/webp");
        for bad in [&b"<html><script>alert(1)</script></html>"[..], b"GIF89a\x01\0\x01\0", b"%PDF-1.7", b""] {
            let e = clean(bad).unwrap_err();
            assert!(matches!(e, ServiceError::Invalid(ref i) if i.field == "photo"), "{e:?}");
        }
        // a JPEG cut short
        let raw = sample_jpeg_with_gps(64, 64);
        assert!(clean(&raw[..raw.len() / 3]).is_err());
    }

    #[test]
    fn size_and_pixel_limits() {
        let big = vec![0xFF; MAX_BYTES + 1];
        assert!(clean(&big).is_err());
        // a tiny PNG header that claims 30000 × 30000 pixels
        let mut png = Vec::new();
        let enc = image::codecs::png::PngEncoder::new(&mut png);
        enc.write_image(&[0; 3], 1, 1, image::ExtendedColorType::Rgb8).unwrap();
        // IHDR width and height live at bytes 16..24
        png[16..20].copy_from_slice(&30_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&30_000u32.to_be_bytes());
        let e = clean(&png).unwrap_err();
        assert!(matches!(e, ServiceError::Invalid(_)), "{e:?}");
        // large photos are scaled down to what a phone shows
        let img = RgbImage::new(3000, 1000);
        let mut jpg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpg), ImageFormat::Jpeg).unwrap();
        let p = clean(&jpg).unwrap();
        assert_eq!((p.width, p.height), (MAX_SIDE, 683));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn big_photos_wait_their_turn_within_the_decoding_budget() {
        // 6000 × 6000 of one colour: a small PNG that decodes to 108 MB
        let img = RgbImage::from_pixel(6000, 6000, image::Rgb([200, 200, 200]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        assert!(png.len() < 1_000_000);
        let uploads: Vec<_> = (0..6).map(|_| tokio::spawn(clean_all(vec![png.clone()]))).collect();
        for p in uploads {
            assert_eq!(p.await.unwrap().unwrap()[0].width, MAX_SIDE);
        }
        let most = decoding_high_water();
        assert!(most >= 36_000_000, "{most}");
        assert!(most <= u64::from(DECODE_BUDGET_MP) * 1_000_000, "at most the budget at once: {most}");
    }
}
