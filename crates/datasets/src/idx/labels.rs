//! [`Labels`] and [`LabelledImages`]: class labels, alone and paired with their images.

use crate::{
    error::{Error, Result},
    idx::{IdxSpec, Images, LABELS_MAGIC, u32_dim},
};

/// A sequence of class labels, one byte each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels {
    labels: Vec<u8>,
}

/// Images and their labels, with the same count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledImages {
    images: Images,
    labels: Labels,
}

impl Labels {
    /// Wraps a label vector.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Labels::new(vec![3, 1]).len(), 2);
    /// ```
    pub fn new(labels: Vec<u8>) -> Labels {
        Labels { labels }
    }

    /// Number of labels.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Labels::new(vec![3, 1, 4]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no labels.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(datasets::Labels::new(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels in file order.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::Labels::new(vec![3, 1]).as_slice(), &[3, 1]);
    /// ```
    pub fn as_slice(&self) -> &[u8] {
        &self.labels
    }

    /// Checks that every label is below `n_classes`.
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`] for the first label that is not.
    ///
    /// # Example
    ///
    /// ```
    /// let labels = datasets::Labels::new(vec![0, 9, 200]);
    /// assert!(labels.check_range(201).is_ok());
    /// assert!(labels.check_range(10).is_err());
    /// ```
    pub fn check_range(&self, n_classes: usize) -> Result<()> {
        match self
            .labels
            .iter()
            .position(|&label| usize::from(label) >= n_classes)
        {
            None => Ok(()),
            Some(index) => Err(Error::LabelOutOfRange {
                index,
                label: self.labels[index],
                n_classes,
            }),
        }
    }

    /// Encodes the labels as a raw IDX label file (the inverse of [`parse_labels`](crate::idx::parse_labels)).
    ///
    /// # Panics
    ///
    /// If there are more than `u32::MAX` labels.
    ///
    /// # Example
    ///
    /// ```
    /// let labels = datasets::Labels::new(vec![3, 1]);
    /// assert_eq!(datasets::idx::parse_labels(&labels.to_idx_bytes())?, labels);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn to_idx_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.labels.len());
        out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        out.extend_from_slice(&u32_dim(self.labels.len()).to_be_bytes());
        out.extend_from_slice(&self.labels);
        out
    }
}

impl From<Vec<u8>> for Labels {
    fn from(labels: Vec<u8>) -> Labels {
        Labels::new(labels)
    }
}

impl LabelledImages {
    /// Pairs images with labels.
    ///
    /// # Errors
    ///
    /// [`Error::CountMismatch`] if the counts differ.
    ///
    /// # Example
    ///
    /// ```
    /// use datasets::{Images, Labels, LabelledImages};
    /// let images = Images::new(1, 1, vec![0, 9])?;
    /// assert!(LabelledImages::new(images.clone(), Labels::new(vec![1])).is_err());
    /// assert_eq!(LabelledImages::new(images, Labels::new(vec![1, 0]))?.len(), 2);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn new(images: Images, labels: Labels) -> Result<LabelledImages> {
        if images.count() != labels.len() {
            return Err(Error::CountMismatch {
                images: images.count(),
                labels: labels.len(),
            });
        }
        Ok(LabelledImages { images, labels })
    }

    /// Number of labelled images.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![0; 3])?, Labels::new(vec![0; 3]))?;
    /// assert_eq!(set.len(), 3);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![])?, Labels::new(vec![]))?;
    /// assert!(set.is_empty());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7])?, Labels::new(vec![0]))?;
    /// assert_eq!(set.images().image(0), &[7]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn images(&self) -> &Images {
        &self.images
    }

    /// The labels.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7])?, Labels::new(vec![4]))?;
    /// assert_eq!(set.labels().as_slice(), &[4]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The label of item `idx`.
    ///
    /// # Panics
    ///
    /// If `idx >= self.len()`.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7, 8])?, Labels::new(vec![4, 2]))?;
    /// assert_eq!(set.label(1), 2);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn label(&self, idx: usize) -> u8 {
        self.labels.as_slice()[idx]
    }

    /// Number of classes, taken as the largest label plus one (0 for an empty set).
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7, 8])?, Labels::new(vec![4, 2]))?;
    /// assert_eq!(set.n_classes(), 5);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn n_classes(&self) -> usize {
        self.labels
            .as_slice()
            .iter()
            .max()
            .map_or(0, |&max| usize::from(max) + 1)
    }

    /// Number of items of each class `0..n_classes()`.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![0; 4])?, Labels::new(vec![2, 0, 2, 2]))?;
    /// assert_eq!(set.class_counts(), vec![1, 0, 3]);
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes()];
        for &label in self.labels.as_slice() {
            counts[usize::from(label)] += 1;
        }
        counts
    }

    /// The items at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// If an index is `>= self.len()`.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7, 8, 9])?, Labels::new(vec![0, 1, 2]))?;
    /// let sub = set.select(&[2, 0]);
    /// assert_eq!((sub.images().pixels(), sub.labels().as_slice()), (&[9, 7][..], &[2, 0][..]));
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> LabelledImages {
        let labels = indices.iter().map(|&idx| self.label(idx)).collect();
        LabelledImages {
            images: self.images.select(indices),
            labels: Labels::new(labels),
        }
    }

    /// Checks the set against a dataset's shape: at least one item, images of `spec`'s shape,
    /// every label below `spec.n_classes`.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::ShapeMismatch`] or [`Error::LabelOutOfRange`] (the first bad
    /// label in file order).
    ///
    /// # Example
    ///
    /// ```
    /// use datasets::{Images, LabelledImages, Labels, idx::IdxSpec};
    /// let set = LabelledImages::new(Images::new(28, 28, vec![0; 784])?, Labels::new(vec![10]))?;
    /// assert!(set.validate(&IdxSpec::EMNIST_BYCLASS).is_ok());
    /// assert!(set.validate(&IdxSpec::MNIST).is_err());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn validate(&self, spec: &IdxSpec) -> Result<()> {
        if self.is_empty() {
            return Err(Error::Empty {
                what: "IDX dataset",
            });
        }
        let got = (self.images.rows(), self.images.cols());
        if got != (spec.rows, spec.cols) {
            return Err(Error::ShapeMismatch {
                expected: (spec.rows, spec.cols),
                got,
            });
        }
        self.labels.check_range(spec.n_classes)
    }

    /// Splits the set into its images and labels.
    ///
    /// # Example
    ///
    /// ```
    /// # use datasets::{Images, Labels, LabelledImages};
    /// let set = LabelledImages::new(Images::new(1, 1, vec![7])?, Labels::new(vec![3]))?;
    /// let (images, labels) = set.into_parts();
    /// assert_eq!((images.count(), labels.len()), (1, 1));
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn into_parts(self) -> (Images, Labels) {
        (self.images, self.labels)
    }
}
