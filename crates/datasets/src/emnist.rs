//! EMNIST: label mapping files, the transposed image storage, and the balanced-47 view.
//!
//! EMNIST images are IDX files like MNIST's, but each image is stored transposed: view it
//! upright with [`Images::transposed`](crate::Images::transposed). The label of each split is
//! explained by a mapping file whose lines read `label ascii_code` (see [`Mapping`]).
//!
//! ByClass labels are `0-9` digits, `10-35` `'A'-'Z'` and `36-61` `'a'-'z'`. The Balanced split
//! has 47 classes: ByMerge's merge of the 15 lowercase letters whose shape is the uppercase
//! one ([`BALANCED_MERGED`]), with the same number of images per class.
//! [`balanced_from_byclass`] rebuilds such a view from a ByClass split.

use crate::{
    error::{Error, Result},
    idx::{LabelledImages, Labels},
    qm9::quote,
};

/// The lowercase letters that EMNIST ByMerge (and so Balanced) merges into their uppercase class.
pub const BALANCED_MERGED: &str = "cijklmopsuvwxyz";

/// The lowercase letters that keep their own class in EMNIST Balanced (labels 36 to 46).
pub const BALANCED_LOWERCASE: &str = "abdefghnqrt";

/// Number of classes of EMNIST Balanced.
pub const N_BALANCED_CLASSES: usize = 47;

/// Number of classes of EMNIST ByClass.
pub const N_BYCLASS_CLASSES: usize = 62;

/// An EMNIST mapping file: which character each label stands for.
///
/// Lines read `label ascii_code`; the Letters split's file adds a second code (the lowercase
/// form), which is accepted and ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapping {
    /// `chars[label]` is the character of `label`, `None` for a label the file does not list.
    chars: Vec<Option<char>>,
    len: usize,
}

impl Mapping {
    /// Parses a mapping file. Blank lines are skipped; labels must be unique and below 256.
    ///
    /// # Errors
    ///
    /// [`Error::Mapping`] naming the line for a missing or non-numeric field, a label above
    /// 255, a code that is not a character, or a repeated label.
    ///
    /// # Example
    ///
    /// ```
    /// let mapping = datasets::emnist::Mapping::parse("0 48\n1 49\n2 65\n")?;
    /// assert_eq!((mapping.len(), mapping.char_of(2)), (3, Some('A')));
    /// assert!(datasets::emnist::Mapping::parse("0 48\n0 49\n").is_err());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Mapping> {
        let mut mapping = Mapping::default();
        for (line_idx, line) in text.lines().enumerate() {
            let line_no = line_idx + 1;
            let err = |msg: String| Error::Mapping { line: line_no, msg };
            let mut fields = line.split_whitespace();
            let Some(label_field) = fields.next() else {
                continue;
            };
            let code_field = fields
                .next()
                .ok_or_else(|| err(format!("expected `label ascii_code`, got {}", quote(line))))?;
            let label: u8 = label_field.parse().map_err(|_| {
                err(format!(
                    "label {} is not an integer in 0..=255",
                    quote(label_field)
                ))
            })?;
            let code: u32 = code_field.parse().map_err(|_| {
                err(format!(
                    "character code {} is not an integer",
                    quote(code_field)
                ))
            })?;
            let ch = char::from_u32(code)
                .ok_or_else(|| err(format!("character code {code} is not a character")))?;
            for extra in fields {
                extra
                    .parse::<u32>()
                    .map_err(|_| err(format!("extra field {} is not an integer", quote(extra))))?;
            }
            let slot = usize::from(label);
            if mapping.chars.len() <= slot {
                mapping.chars.resize(slot + 1, None);
            }
            if let Some(previous) = mapping.chars[slot] {
                return Err(err(format!(
                    "label {label} is mapped twice (to {previous:?} and {ch:?})"
                )));
            }
            mapping.chars[slot] = Some(ch);
            mapping.len += 1;
        }
        Ok(mapping)
    }

    /// The EMNIST ByClass mapping: `0-9` digits, `10-35` `'A'-'Z'`, `36-61` `'a'-'z'`.
    ///
    /// # Example
    ///
    /// ```
    /// let mapping = datasets::emnist::Mapping::byclass();
    /// assert_eq!((mapping.char_of(10), mapping.char_of(61)), (Some('A'), Some('z')));
    /// ```
    pub fn byclass() -> Mapping {
        let chars: Vec<Option<char>> = ('0'..='9')
            .chain('A'..='Z')
            .chain('a'..='z')
            .map(Some)
            .collect();
        Mapping {
            len: chars.len(),
            chars,
        }
    }

    /// The character of `label`, or `None` if the mapping does not list it.
    ///
    /// # Example
    ///
    /// ```
    /// let mapping = datasets::emnist::Mapping::parse("36 97")?;
    /// assert_eq!((mapping.char_of(36), mapping.char_of(0)), (Some('a'), None));
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn char_of(&self, label: u8) -> Option<char> {
        self.chars.get(usize::from(label)).copied().flatten()
    }

    /// The label of `ch`, or `None` if no label maps to it (the smallest if several do).
    ///
    /// # Example
    ///
    /// ```
    /// let mapping = datasets::emnist::Mapping::byclass();
    /// assert_eq!(mapping.label_of('b'), Some(37));
    /// ```
    pub fn label_of(&self, ch: char) -> Option<u8> {
        let idx = self.chars.iter().position(|&c| c == Some(ch))?;
        Some(u8::try_from(idx).expect("labels were parsed as u8"))
    }

    /// Number of labels the mapping lists.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::emnist::Mapping::byclass().len(), 62);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping lists no label.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(datasets::emnist::Mapping::parse("")?.is_empty());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks that every label has a character in this mapping.
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`] for the first label that has none.
    ///
    /// # Example
    ///
    /// ```
    /// let mapping = datasets::emnist::Mapping::parse("0 48\n1 49")?;
    /// assert!(mapping.check(&datasets::Labels::new(vec![1, 0])).is_ok());
    /// assert!(mapping.check(&datasets::Labels::new(vec![1, 2])).is_err());
    /// # Ok::<(), datasets::Error>(())
    /// ```
    pub fn check(&self, labels: &Labels) -> Result<()> {
        match labels
            .as_slice()
            .iter()
            .position(|&label| self.char_of(label).is_none())
        {
            None => Ok(()),
            Some(index) => Err(Error::LabelOutOfRange {
                index,
                label: labels.as_slice()[index],
                n_classes: self.chars.len(),
            }),
        }
    }
}

/// The character of an EMNIST Balanced label: `0-9` digits, `10-35` `'A'-'Z'`, `36-46` the
/// letters of [`BALANCED_LOWERCASE`]; `None` from 47 on.
///
/// # Example
///
/// ```
/// use datasets::emnist::balanced_char;
/// assert_eq!((balanced_char(9), balanced_char(10), balanced_char(46)), (Some('9'), Some('A'), Some('t')));
/// assert_eq!(balanced_char(47), None);
/// ```
pub fn balanced_char(label: u8) -> Option<char> {
    match label {
        0..=9 => Some(char::from(b'0' + label)),
        10..=35 => Some(char::from(b'A' + (label - 10))),
        _ => BALANCED_LOWERCASE.chars().nth(usize::from(label - 36)),
    }
}

/// The EMNIST Balanced label of a ByClass label, merging [`BALANCED_MERGED`] into uppercase.
///
/// # Example
///
/// ```
/// use datasets::emnist::balanced_label_of_byclass;
/// // 'c' (38) merges into 'C' (12); 'a' (36) keeps its own class, 36.
/// assert_eq!(balanced_label_of_byclass(38), Some(12));
/// assert_eq!(balanced_label_of_byclass(36), Some(36));
/// assert_eq!(balanced_label_of_byclass(62), None);
/// ```
pub fn balanced_label_of_byclass(label: u8) -> Option<u8> {
    if label < 36 {
        return Some(label);
    }
    let offset = label.checked_sub(36).filter(|&o| o < 26)?;
    let lower = char::from(b'a' + offset);
    if BALANCED_MERGED.contains(lower) {
        return Some(10 + offset);
    }
    let position = BALANCED_LOWERCASE.find(lower)?;
    Some(36 + u8::try_from(position).expect("11 letters"))
}

/// Builds the 47-class EMNIST Balanced view of a ByClass split.
///
/// Labels become EMNIST Balanced labels (see [`balanced_char`]): the 15 lowercase letters of
/// [`BALANCED_MERGED`] join their uppercase class. Of each balanced class the first
/// `per_class` images in file order are kept (the Balanced split has 400 per class in the
/// paper's setting), and the result keeps file order. Images stay as stored (transposed).
///
/// # Errors
///
/// [`Error::LabelOutOfRange`] for a label above 61, [`Error::MissingClass`] naming the first
/// balanced class with fewer than `per_class` images.
///
/// # Example
///
/// ```
/// use datasets::{Images, Labels, LabelledImages, emnist};
/// // One image of each ByClass label 0..62, in label order.
/// let labels = Labels::new((0..62).collect());
/// let byclass = LabelledImages::new(Images::new(1, 1, (0..62).collect())?, labels)?;
/// let balanced = emnist::balanced_from_byclass(&byclass, 1)?;
/// // 'c' (ByClass 38) joins 'C' (12), which is already full, so it is dropped.
/// assert_eq!(balanced.labels().as_slice(), (0..47).collect::<Vec<u8>>());
/// assert_eq!(balanced.images().image(38), &[39]); // 'd'
/// assert!(emnist::balanced_from_byclass(&byclass, 2).is_err());
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn balanced_from_byclass(byclass: &LabelledImages, per_class: usize) -> Result<LabelledImages> {
    // Deviation: the official Balanced split cannot be obtained offline, so it is rebuilt from
    // ByClass by merging the ByMerge letters and keeping the first `per_class` images of each
    // class in file order (docs/deviations.md).
    let mut counts = [0usize; N_BALANCED_CLASSES];
    let mut indices = Vec::with_capacity(per_class * N_BALANCED_CLASSES);
    let mut labels = Vec::with_capacity(per_class * N_BALANCED_CLASSES);
    for (index, &label) in byclass.labels().as_slice().iter().enumerate() {
        let balanced = balanced_label_of_byclass(label).ok_or(Error::LabelOutOfRange {
            index,
            label,
            n_classes: N_BYCLASS_CLASSES,
        })?;
        let count = &mut counts[usize::from(balanced)];
        if *count < per_class {
            *count += 1;
            indices.push(index);
            labels.push(balanced);
        }
    }
    if let Some((class, &have)) = counts
        .iter()
        .enumerate()
        .find(|&(_, &have)| have < per_class)
    {
        let class = u8::try_from(class).expect("47 classes");
        return Err(Error::MissingClass {
            class: balanced_char(class).expect("class < 47"),
            have,
            need: per_class,
        });
    }
    LabelledImages::new(byclass.images().select(&indices), Labels::new(labels))
}
