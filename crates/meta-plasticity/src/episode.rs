//! Few-shot tasks: the image pool, class splits and the sampling of one episode's task.

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use linalg::{Rng, rng::permutation};

use crate::{EpisodeConfig, Error, Result};

/// Labelled images held in memory as `f32` pixels, grouped by class.
///
/// xtask fills it from `datasets::emnist::balanced_from_byclass(..)` with `Images::write_f32`
/// (pixels in [0, 1], no normalisation [digest §1.1]); this crate does no I/O and does not
/// depend on `datasets`. Within a class, images keep the order they were given in ("pool
/// order"), which the faithful sampler uses.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePool {
    n_pixels: usize,
    pixels: Vec<f32>,
    labels: Vec<usize>,
    by_class: Vec<Vec<usize>>,
}

impl ImagePool {
    /// A pool of `labels.len()` images of `n_pixels` each, stored back to back in `pixels`.
    ///
    /// # Errors
    /// [`Error::Data`] if `n_pixels` is 0, the pixel count is not `n_pixels · labels.len()`, or
    /// a pixel is not finite (naming the image).
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::ImagePool;
    /// let pool = ImagePool::new(2, vec![0.0, 1.0, 0.5, 0.5, 1.0, 0.0], vec![1, 0, 1]).unwrap();
    /// assert_eq!(pool.class_images(1), &[0, 2]);
    /// assert_eq!(pool.image(2), &[1.0, 0.0]);
    /// assert!(ImagePool::new(2, vec![0.0; 5], vec![0, 1]).is_err());
    /// ```
    pub fn new(n_pixels: usize, pixels: Vec<f32>, labels: Vec<usize>) -> Result<Self> {
        if n_pixels == 0 {
            return Err(Error::Data {
                reason: "images have 0 pixels".to_string(),
            });
        }
        if pixels.len() != n_pixels * labels.len() {
            return Err(Error::Data {
                reason: format!(
                    "{} pixels for {} images of {n_pixels} pixels (expected {})",
                    pixels.len(),
                    labels.len(),
                    n_pixels * labels.len()
                ),
            });
        }
        if let Some(pos) = pixels.iter().position(|p| !p.is_finite()) {
            return Err(Error::Data {
                reason: format!("image {} has a non-finite pixel", pos / n_pixels),
            });
        }
        let n_classes = labels.iter().max().map_or(0, |&max| max + 1);
        let mut by_class = vec![Vec::new(); n_classes];
        for (idx, &label) in labels.iter().enumerate() {
            by_class[label].push(idx);
        }
        Ok(ImagePool {
            n_pixels,
            pixels,
            labels,
            by_class,
        })
    }

    /// Pixels per image.
    pub fn n_pixels(&self) -> usize {
        self.n_pixels
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the pool holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// One more than the largest label.
    pub fn n_classes(&self) -> usize {
        self.by_class.len()
    }

    /// Pixels of image `idx`.
    ///
    /// # Panics
    /// If `idx >= len()`.
    pub fn image(&self, idx: usize) -> &[f32] {
        &self.pixels[idx * self.n_pixels..(idx + 1) * self.n_pixels]
    }

    /// Label of image `idx`.
    ///
    /// # Panics
    /// If `idx >= len()`.
    pub fn label(&self, idx: usize) -> usize {
        self.labels[idx]
    }

    /// Indices of the images of `class`, in pool order (empty for an absent class).
    pub fn class_images(&self, class: usize) -> &[usize] {
        self.by_class.get(class).map_or(&[], Vec::as_slice)
    }
}

/// Which classes an episode may draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Meta-training: every class of the pool except the held-out ones.
    MetaTrain,
    /// Meta-testing: only the held-out classes.
    MetaTest,
}

/// One episode's task: image indices into the pool, in the order they are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The classes drawn, in draw order (may repeat under faithful sampling).
    pub classes: Vec<usize>,
    /// The `M·K` training images, shuffled (the online stream).
    pub train: Vec<usize>,
    /// The `M·Q` query images, class by class.
    pub query: Vec<usize>,
}

/// The classes of `phase` that have at least `K + Q` images (`K` for the faithful sampler's
/// train part plus `Q`; the same bound).
///
/// # Errors
/// [`Error::Data`] if fewer than `M` classes qualify (or, under faithful sampling, none).
///
/// # Example
/// ```
/// use meta_plasticity::{eligible_classes, EpisodeConfig, ImagePool, Phase};
/// let labels: Vec<usize> = (0..60).map(|i| i % 6).collect();
/// let pool = ImagePool::new(1, vec![0.0; 60], labels).unwrap();
/// let config = EpisodeConfig { n_ways: 2, n_train_per_class: 6, n_query_per_class: 2, held_out_classes: vec![4, 5], ..EpisodeConfig::default() };
/// assert_eq!(eligible_classes(&pool, &config, Phase::MetaTrain).unwrap(), vec![0, 1, 2, 3]);
/// assert_eq!(eligible_classes(&pool, &config, Phase::MetaTest).unwrap(), vec![4, 5]);
/// ```
pub fn eligible_classes(
    pool: &ImagePool,
    config: &EpisodeConfig,
    phase: Phase,
) -> Result<Vec<usize>> {
    let need = config.n_train_per_class + config.n_query_per_class;
    let classes: Vec<usize> = (0..pool.n_classes())
        .filter(|c| config.held_out_classes.contains(c) == (phase == Phase::MetaTest))
        .filter(|&c| pool.class_images(c).len() >= need)
        .collect();
    let min = if config.faithful { 1 } else { config.n_ways };
    if classes.len() < min {
        return Err(Error::Data {
            reason: format!(
                "{phase:?} needs {min} classes with at least {need} images each, the pool has {} ({classes:?})",
                classes.len()
            ),
        });
    }
    Ok(classes)
}

/// Draws one task from `classes` (see [`eligible_classes`]).
///
/// ```text
/// default:  M distinct classes; per class a random K + Q of its images (first K train)
/// faithful: M classes with replacement; per class its first K images train, next Q query
/// ```
///
/// The training images of all classes are then shuffled together [digest §1.1].
///
/// # Errors
/// [`Error::Data`] if `classes` is too short or a class has fewer than `K + Q` images.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// use meta_plasticity::{sample_task, EpisodeConfig, ImagePool};
/// let labels: Vec<usize> = (0..60).map(|i| i % 6).collect();
/// let pool = ImagePool::new(1, vec![0.0; 60], labels).unwrap();
/// let config = EpisodeConfig { n_ways: 3, n_train_per_class: 4, n_query_per_class: 2, ..EpisodeConfig::default() };
/// let task = sample_task(&pool, &[0, 1, 2, 3, 4, 5], &config, &mut stream(1, Stream::Episode)).unwrap();
/// assert_eq!((task.train.len(), task.query.len()), (12, 6));
/// ```
pub fn sample_task(
    pool: &ImagePool,
    classes: &[usize],
    config: &EpisodeConfig,
    rng: &mut Rng,
) -> Result<Task> {
    let (n_ways, k, q) = (
        config.n_ways,
        config.n_train_per_class,
        config.n_query_per_class,
    );
    if classes.is_empty() || (!config.faithful && classes.len() < n_ways) {
        return Err(Error::Data {
            reason: format!("cannot draw {n_ways} classes from {classes:?}"),
        });
    }
    let chosen: Vec<usize> = if config.faithful {
        (0..n_ways)
            .map(|_| classes[rng.random_range(0..classes.len())])
            .collect()
    } else {
        permutation(classes.len(), rng)[..n_ways]
            .iter()
            .map(|&idx| classes[idx])
            .collect()
    };
    let mut train = Vec::with_capacity(n_ways * k);
    let mut query = Vec::with_capacity(n_ways * q);
    for &class in &chosen {
        let images = pool.class_images(class);
        if images.len() < k + q {
            return Err(Error::Data {
                reason: format!(
                    "class {class} has {} images, an episode needs {}",
                    images.len(),
                    k + q
                ),
            });
        }
        if config.faithful {
            train.extend_from_slice(&images[..k]);
            query.extend_from_slice(&images[k..k + q]);
        } else {
            let order = permutation(images.len(), rng);
            train.extend(order[..k].iter().map(|&idx| images[idx]));
            query.extend(order[k..k + q].iter().map(|&idx| images[idx]));
        }
    }
    let order = permutation(train.len(), rng);
    let train = order.iter().map(|&idx| train[idx]).collect();
    Ok(Task {
        classes: chosen,
        train,
        query,
    })
}
