//! [`Images`]: a set of same-sized greyscale images, one byte per pixel.

use crate::{
    error::{Error, Result},
    idx::{IMAGES_MAGIC, u32_dim},
};

/// A set of same-sized greyscale images, stored row-major, one byte per pixel.
///
/// Invariant: `pixels.len() == count · rows · cols` and `rows, cols > 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    count: usize,
    rows: usize,
    cols: usize,
    pixels: Vec<u8>,
}

impl Images {
    /// Builds an image set from row-major pixels, `rows · cols` bytes per image.
    ///
    /// # Errors
    ///
    /// [`Error::BadDims`] if `rows` or `cols` is zero, or if `pixels.len()` is not a multiple
    /// of `rows · cols`.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(1, 2, vec![1, 2, 3, 4])?;
    /// assert_eq!(images.count(), 2);
    /// assert!(datasets::Images::new(2, 2, vec![1, 2, 3]).is_err());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn new(rows: usize, cols: usize, pixels: Vec<u8>) -> Result<Images> {
        let bad = |reason| Error::BadDims {
            what: "images",
            dims: vec![pixels.len(), rows, cols],
            reason,
        };
        let size = rows
            .checked_mul(cols)
            .ok_or_else(|| bad("image size overflows"))?;
        if size == 0 {
            return Err(bad("zero-sized image"));
        }
        if !pixels.len().is_multiple_of(size) {
            return Err(bad("pixel count is not a multiple of rows·cols"));
        }
        Ok(Images {
            count: pixels.len() / size,
            rows,
            cols,
            pixels,
        })
    }

    /// Number of images.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Images::new(2, 2, vec![0; 12])?.count(), 3);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn count(&self) -> usize {
        self.count
    }

    /// Rows per image (28 for MNIST).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Images::new(2, 3, vec![0; 6])?.rows(), 2);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns per image (28 for MNIST).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Images::new(2, 3, vec![0; 6])?.cols(), 3);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Pixels per image, `rows · cols`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Images::new(2, 3, vec![0; 6])?.image_len(), 6);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn image_len(&self) -> usize {
        self.rows * self.cols
    }

    /// All pixels, image after image, each image row-major.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(1, 2, vec![1, 2, 3, 4])?;
    /// assert_eq!(images.pixels(), &[1, 2, 3, 4]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels of image `idx`, row-major.
    ///
    /// # Panics
    ///
    /// If `idx >= self.count()`.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(1, 2, vec![1, 2, 3, 4])?;
    /// assert_eq!(images.image(1), &[3, 4]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn image(&self, idx: usize) -> &[u8] {
        assert!(
            idx < self.count,
            "image index {idx} out of range for {} images",
            self.count
        );
        let len = self.image_len();
        &self.pixels[idx * len..(idx + 1) * len]
    }

    /// Writes image `idx` into `out` as `pixel / 255.0`, row-major, so ink is 1 and background 0.
    ///
    /// # Panics
    ///
    /// If `idx >= self.count()` or `out.len() != self.rows() * self.cols()`.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(1, 2, vec![0, 255])?;
    /// let mut x = [0.5f32; 2];
    /// images.write_f32(0, &mut x);
    /// assert_eq!(x, [0.0, 1.0]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn write_f32(&self, idx: usize, out: &mut [f32]) {
        let image = self.image(idx);
        assert_eq!(
            out.len(),
            image.len(),
            "write_f32: output has {} slots for an image of {} pixels",
            out.len(),
            image.len()
        );
        for (slot, &pixel) in out.iter_mut().zip(image) {
            *slot = f32::from(pixel) / 255.0;
        }
    }

    /// Transposes every image (`rows` and `cols` swap), e.g. to view EMNIST characters upright.
    ///
    /// # Example
    ///
    /// ```
    /// // One 2x3 image: [[1, 2, 3], [4, 5, 6]].
    /// let images = datasets::Images::new(2, 3, vec![1, 2, 3, 4, 5, 6])?;
    /// let t = images.transposed();
    /// assert_eq!((t.rows(), t.cols()), (3, 2));
    /// assert_eq!(t.image(0), &[1, 4, 2, 5, 3, 6]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn transposed(&self) -> Images {
        let (rows, cols) = (self.rows, self.cols);
        let mut pixels = vec![0u8; self.pixels.len()];
        for (src, dst) in self
            .pixels
            .chunks_exact(rows * cols)
            .zip(pixels.chunks_exact_mut(rows * cols))
        {
            for r in 0..rows {
                for c in 0..cols {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
        Images {
            count: self.count,
            rows: cols,
            cols: rows,
            pixels,
        }
    }

    /// The images at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// If an index is `>= self.count()`.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(1, 1, vec![10, 20, 30])?;
    /// assert_eq!(images.select(&[2, 0]).pixels(), &[30, 10]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Images {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &idx in indices {
            pixels.extend_from_slice(self.image(idx));
        }
        Images {
            count: indices.len(),
            rows: self.rows,
            cols: self.cols,
            pixels,
        }
    }

    /// Encodes the images as a raw IDX image file (the inverse of [`parse_images`](crate::idx::parse_images)).
    ///
    /// # Panics
    ///
    /// If a dimension does not fit the format's `u32`.
    ///
    /// # Example
    ///
    /// ```
    /// let images = datasets::Images::new(2, 2, vec![1, 2, 3, 4])?;
    /// let bytes = images.to_idx_bytes();
    /// assert_eq!(datasets::idx::parse_images(&bytes)?, images);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn to_idx_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.pixels.len());
        out.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
        for dim in [self.count, self.rows, self.cols] {
            out.extend_from_slice(&u32_dim(dim).to_be_bytes());
        }
        out.extend_from_slice(&self.pixels);
        out
    }
}
