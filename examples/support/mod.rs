//! Shared by the examples that draw pictures (`image_compression`, `pca`, `mimo_capacity`,
//! `matrix_completion`): the engine from the command line, a tiny RGB canvas with a 5×7 bitmap font, PNG
//! output, and the output directory. Not an example itself (cargo only builds
//! `examples/*.rs` and `examples/*/main.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use batched_svd::{Backend, Engine, Report, Solver};

/// The engine interface for the command line: `--gpu` or `--cpu` force an engine; otherwise
/// `Backend::Auto`, which on a software adapter (llvmpipe/lavapipe) sends the shapes its
/// kernels are slow for to the CPU engine. Each result's report says which engine ran and why.
pub fn solver(args: &[String]) -> Result<Solver, String> {
    let backend = if args.iter().any(|a| a == "--cpu") {
        Backend::Cpu
    } else if args.iter().any(|a| a == "--gpu") {
        Backend::Gpu
    } else {
        Backend::Auto
    };
    Solver::new(backend).map_err(|e| format!("--gpu: {e}"))
}

/// A one-line description of the engine a result ran on, for the examples' output.
pub fn engine_line(report: &Report, solver: &Solver) -> String {
    let choice = report.engine();
    match (choice.kind, solver.gpu()) {
        (Engine::Gpu, Some(gpu)) => format!(
            "GPU, {} ({:?}; {})",
            gpu.adapter_info().name,
            gpu.adapter_info().backend,
            choice.reason
        ),
        _ => format!("CPU ({})", choice.reason),
    }
}

/// The output directory: the first argument that is not a flag, or
/// `target/examples-output/NAME` in the crate; created if missing.
pub fn output_dir(args: &[String], name: &str) -> std::io::Result<PathBuf> {
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join("examples-output")
                .join(name)
        });
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// An RGB colour.
pub type Rgb = [u8; 3];

/// An RGB image in memory, row-major, 3 bytes per pixel.
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        let pixels = background
            .iter()
            .copied()
            .cycle()
            .take(width * height * 3)
            .collect();
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Sets one pixel (ignored outside the canvas).
    pub fn set(&mut self, x: i64, y: i64, color: Rgb) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return;
        }
        let at = (y as usize * self.width + x as usize) * 3;
        self.pixels[at..at + 3].copy_from_slice(&color);
    }

    /// Fills the rectangle `[x, x + w) × [y, y + h)`.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, color);
            }
        }
    }

    /// A filled disc of radius `r` around `(cx, cy)`.
    pub fn disc(&mut self, cx: f64, cy: f64, r: f64, color: Rgb) {
        let (x0, x1) = ((cx - r).floor() as i64, (cx + r).ceil() as i64);
        let (y0, y1) = ((cy - r).floor() as i64, (cy + r).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                if dx * dx + dy * dy <= r * r {
                    self.set(x, y, color);
                }
            }
        }
    }

    /// A line from `(x0, y0)` to `(x1, y1)`, `thickness` pixels wide.
    pub fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, thickness: f64, color: Rgb) {
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()) * 2.0).ceil().max(1.0) as usize;
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            self.disc(
                x0 + t * (x1 - x0),
                y0 + t * (y1 - y0),
                thickness / 2.0,
                color,
            );
        }
    }

    /// Copies a grayscale or RGB image with values in [0, 1] (clamped) to `(x, y)`:
    /// `planes` holds 1 (gray) or 3 (RGB) planes of `w×h` row-major values.
    pub fn blit(&mut self, x: i64, y: i64, w: usize, h: usize, planes: &[&[f32]]) {
        for row in 0..h {
            for col in 0..w {
                let value = |p: &[f32]| (p[row * w + col].clamp(0.0, 1.0) * 255.0).round() as u8;
                let color = match planes {
                    [r, g, b, ..] => [value(r), value(g), value(b)],
                    [g, ..] => [value(g); 3],
                    [] => [0; 3],
                };
                self.set(x + col as i64, y + row as i64, color);
            }
        }
    }

    /// Draws `text` with the 5×7 font scaled by `scale`, top-left at `(x, y)`; returns the
    /// width drawn. Upper case is drawn as lower case; unknown characters as blanks.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, color: Rgb) -> i64 {
        let mut cx = x;
        for ch in text.chars() {
            let rows = glyph(ch.to_ascii_lowercase());
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..5 {
                    if bits & (0x10 >> rx) != 0 {
                        self.fill_rect(cx + rx * scale, y + ry as i64 * scale, scale, scale, color);
                    }
                }
            }
            cx += 6 * scale;
        }
        cx - x
    }

    /// Width in pixels of `text` at `scale`.
    pub fn text_width(text: &str, scale: i64) -> i64 {
        text.chars().count() as i64 * 6 * scale
    }

    /// Writes the canvas as an 8-bit RGB PNG.
    pub fn save_png(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut encoder = png::Encoder::new(file, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(())
    }
}

/// The 5×7 bitmap of a character (5 low bits per row, top row first).
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'a' => [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F],
        'b' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E],
        'c' => [0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E],
        'd' => [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F],
        'e' => [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E],
        'f' => [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08],
        'g' => [0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        'h' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11],
        'i' => [0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E],
        'j' => [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C],
        'k' => [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12],
        'l' => [0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
        'n' => [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11],
        'o' => [0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E],
        'p' => [0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10],
        'q' => [0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01],
        'r' => [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
        's' => [0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E],
        't' => [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06],
        'u' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D],
        'v' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'w' => [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A],
        'x' => [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11],
        'y' => [0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        'z' => [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        _ => [0; 7],
    }
}
