//! Loading MNIST-like IDX datasets into flat `f32` arrays for the plasticity experiments, and the
//! across-seed summaries (mean and bootstrap CI) their reports share.

use anyhow::Context as _;
use datasets::{LabelledImages, idx};
use linalg::{
    rng::{Stream, stream},
    stats::{bootstrap_ci, mean},
};

use crate::{data::Dataset, report::Report, reproduce::Context};

/// Images as one flat `f32` array (pixel / 255, row-major, image after image) with labels.
pub(crate) struct ImageSet {
    /// `len × n_inputs` values.
    pub(crate) pixels: Vec<f32>,
    /// One label per image.
    pub(crate) labels: Vec<usize>,
    /// Values per image.
    pub(crate) n_inputs: usize,
    /// Number of classes: the dataset's (every label is below it), not the largest label + 1,
    /// so a split that lacks a class keeps the dataset's output width.
    pub(crate) n_classes: usize,
}

impl ImageSet {
    fn from_labelled(data: &LabelledImages, n_classes: usize) -> ImageSet {
        let n_inputs = data.images().image_len();
        let mut pixels = vec![0.0f32; data.len() * n_inputs];
        for (idx, chunk) in pixels.chunks_exact_mut(n_inputs).enumerate() {
            data.images().write_f32(idx, chunk);
        }
        let labels = data
            .labels()
            .as_slice()
            .iter()
            .map(|&l| usize::from(l))
            .collect();
        ImageSet {
            pixels,
            labels,
            n_inputs,
            n_classes,
        }
    }

    /// Number of images.
    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    /// Image `idx` as a slice.
    pub(crate) fn image(&self, idx: usize) -> &[f32] {
        &self.pixels[idx * self.n_inputs..(idx + 1) * self.n_inputs]
    }

    /// The images at `indices`, as a new set.
    pub(crate) fn select(&self, indices: &[usize]) -> ImageSet {
        let mut pixels = Vec::with_capacity(indices.len() * self.n_inputs);
        for &idx in indices {
            pixels.extend_from_slice(self.image(idx));
        }
        let labels = indices.iter().map(|&idx| self.labels[idx]).collect();
        ImageSet {
            pixels,
            labels,
            n_inputs: self.n_inputs,
            n_classes: self.n_classes,
        }
    }

    /// `(image, label)` pairs in the order of `indices`.
    pub(crate) fn samples<'a>(
        &'a self,
        indices: &'a [usize],
    ) -> impl Iterator<Item = (&'a [f32], usize)> + 'a {
        indices
            .iter()
            .map(move |&idx| (self.image(idx), self.labels[idx]))
    }
}

/// Train and test splits of an MNIST-like dataset.
pub(crate) struct TrainTest {
    /// The 60,000 training images.
    pub(crate) train: ImageSet,
    /// The 10,000 test images.
    pub(crate) test: ImageSet,
}

/// Reads, verifies and parses MNIST or Fashion-MNIST (same file names), recording provenance.
pub(crate) fn load_mnist_like(
    ctx: &Context,
    dataset: Dataset,
    report: &mut Report,
) -> anyhow::Result<TrainTest> {
    let names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    let bytes = ctx.read_data(dataset, &names, report)?;
    let parse = |images: usize, labels: usize| -> anyhow::Result<LabelledImages> {
        idx::parse_dataset(&bytes[images], &bytes[labels], &idx::IdxSpec::MNIST)
            .with_context(|| format!("reading {dataset}/{} with {}", names[images], names[labels]))
    };
    Ok(TrainTest {
        train: ImageSet::from_labelled(&parse(0, 1)?, idx::IdxSpec::MNIST.n_classes),
        test: ImageSet::from_labelled(&parse(2, 3)?, idx::IdxSpec::MNIST.n_classes),
    })
}

/// Mean and 95 % percentile-bootstrap CI of per-seed values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeedSummary {
    /// Mean over seeds.
    pub(crate) mean: f64,
    /// Lower end of the 95 % CI.
    pub(crate) low: f64,
    /// Upper end of the 95 % CI.
    pub(crate) high: f64,
}

/// Summarises per-seed values; the bootstrap draws from its own stream of `seed`, so the CI is
/// reproducible.
pub(crate) fn summarize(values: &[f64], seed: u64) -> SeedSummary {
    let m = mean(values).unwrap_or(f64::NAN);
    let (low, high) =
        bootstrap_ci(values, 0.95, 2000, &mut stream(seed, Stream::Bootstrap)).unwrap_or((m, m));
    SeedSummary { mean: m, low, high }
}

impl SeedSummary {
    /// `0.912 [0.905, 0.918]`.
    pub(crate) fn display(&self) -> String {
        format!("{:.3} [{:.3}, {:.3}]", self.mean, self.low, self.high)
    }
}
