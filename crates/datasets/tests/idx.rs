//! Tests of `datasets::idx` on a 10-image MNIST fixture and on IDX files built here.

use std::io::Write;

use datasets::{Error, Images, LabelledImages, Labels, idx};
use flate2::{Compression, write::GzEncoder};
use proptest::prelude::*;

const IMAGES_GZ: &[u8] = include_bytes!("fixtures/mnist-t10k-10-images-idx3-ubyte.gz");
const LABELS_GZ: &[u8] = include_bytes!("fixtures/mnist-t10k-10-labels-idx1-ubyte.gz");

fn raw(gz: &[u8]) -> Vec<u8> {
    let raw = idx::decompress(gz).unwrap().into_owned();
    assert_ne!(raw.as_slice(), gz, "fixture should be gzip");
    raw
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// IDX images file with the given header dims and pixel bytes.
fn images_file(dims: [u32; 3], pixels: &[u8]) -> Vec<u8> {
    let mut out = 0x0803u32.to_be_bytes().to_vec();
    for dim in dims {
        out.extend(dim.to_be_bytes());
    }
    out.extend(pixels);
    out
}

#[track_caller]
fn check_images_err(bytes: &[u8], expected: Error) {
    assert_eq!(idx::parse_images(bytes), Err(expected));
}

#[test]
fn fixture_parses_with_mnist_values() {
    let images = idx::parse_images(IMAGES_GZ).unwrap();
    let labels = idx::parse_labels(LABELS_GZ).unwrap();
    assert_eq!((images.count(), images.rows(), images.cols()), (10, 28, 28));
    assert_eq!(images.pixels().len(), 7840);
    // Pixel sum of the first 10 MNIST test images, see fixtures/README.md.
    let sum: u64 = images.pixels().iter().map(|&p| u64::from(p)).sum();
    assert_eq!(sum, 231_611);
    assert_eq!(labels.as_slice(), &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(labels.len(), 10);
    assert!(!labels.is_empty());
}

#[test]
fn raw_and_gzip_give_equal_results() {
    let (images_raw, labels_raw) = (raw(IMAGES_GZ), raw(LABELS_GZ));
    assert_eq!(images_raw.len(), 16 + 7840);
    assert_eq!(
        idx::parse_images(&images_raw).unwrap(),
        idx::parse_images(IMAGES_GZ).unwrap()
    );
    assert_eq!(
        idx::parse_labels(&labels_raw).unwrap(),
        idx::parse_labels(LABELS_GZ).unwrap()
    );
    // Re-compressed with another encoder, and as two concatenated gzip members.
    assert_eq!(
        idx::parse_images(&gzip(&images_raw)).unwrap(),
        idx::parse_images(IMAGES_GZ).unwrap()
    );
    let mut two_members = gzip(&images_raw[..100]);
    two_members.extend(gzip(&images_raw[100..]));
    assert_eq!(
        idx::parse_images(&two_members).unwrap(),
        idx::parse_images(IMAGES_GZ).unwrap()
    );
}

#[test]
fn decompress_borrows_raw_input() {
    let bytes = raw(LABELS_GZ);
    assert!(matches!(
        idx::decompress(&bytes).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn encoding_round_trips() {
    let images_raw = raw(IMAGES_GZ);
    let images = idx::parse_images(&images_raw).unwrap();
    assert_eq!(images.to_idx_bytes(), images_raw);
    let labels_raw = raw(LABELS_GZ);
    assert_eq!(
        idx::parse_labels(&labels_raw).unwrap().to_idx_bytes(),
        labels_raw
    );
}

#[test]
fn write_f32_scales_to_unit_interval() {
    let images = idx::parse_images(IMAGES_GZ).unwrap();
    let mut x = vec![-1.0f32; 784];
    for idx in 0..images.count() {
        images.write_f32(idx, &mut x);
        for (&value, &pixel) in x.iter().zip(images.image(idx)) {
            assert_eq!(value.to_bits(), (f32::from(pixel) / 255.0).to_bits());
        }
    }
    let images = Images::new(1, 3, vec![0, 51, 255]).unwrap();
    let mut x = [9.0f32; 3];
    images.write_f32(0, &mut x);
    assert_eq!(x.map(f32::to_bits), [0.0f32, 0.2, 1.0].map(f32::to_bits));
}

#[test]
#[should_panic(expected = "write_f32: output has 3 slots for an image of 4 pixels")]
fn write_f32_panics_on_wrong_length() {
    Images::new(2, 2, vec![0; 4])
        .unwrap()
        .write_f32(0, &mut [0.0; 3]);
}

#[test]
#[should_panic(expected = "image index 2 out of range for 2 images")]
fn image_panics_out_of_range() {
    Images::new(1, 1, vec![0; 2]).unwrap().image(2);
}

#[test]
fn transposed_swaps_rows_and_columns_of_every_image() {
    let images = idx::parse_images(IMAGES_GZ).unwrap();
    let t = images.transposed();
    assert_eq!((t.count(), t.rows(), t.cols()), (10, 28, 28));
    assert_ne!(t, images);
    assert_eq!(t.transposed(), images);
    // A non-square case: 2 images of 2x3.
    let images = Images::new(2, 3, (0..12).collect()).unwrap();
    let t = images.transposed();
    assert_eq!((t.rows(), t.cols()), (3, 2));
    for idx in 0..2 {
        for r in 0..2 {
            for c in 0..3 {
                assert_eq!(t.image(idx)[c * 2 + r], images.image(idx)[r * 3 + c]);
            }
        }
    }
}

#[test]
fn labelled_images_count_and_select() {
    let set = idx::parse_labelled(IMAGES_GZ, LABELS_GZ).unwrap();
    assert_eq!(set.len(), 10);
    assert!(!set.is_empty());
    assert_eq!(set.n_classes(), 10);
    assert_eq!(set.class_counts(), vec![1, 2, 1, 0, 2, 1, 0, 1, 0, 2]);
    assert_eq!(set.label(7), 9);
    let sub = set.select(&[7, 0, 7]);
    assert_eq!(sub.labels().as_slice(), &[9, 7, 9]);
    assert_eq!(sub.images().image(1), set.images().image(0));
    assert_eq!(sub.images().image(2), set.images().image(7));
    let empty = set.select(&[]);
    assert!(empty.is_empty());
    assert_eq!((empty.n_classes(), empty.class_counts()), (0, vec![]));
    let (images, labels) = set.into_parts();
    assert_eq!((images.count(), labels.len()), (10, 10));
}

#[test]
fn count_mismatch_is_an_error() {
    let images = idx::parse_images(IMAGES_GZ).unwrap();
    let labels = Labels::new(vec![0; 9]);
    let err = LabelledImages::new(images, labels).unwrap_err();
    assert_eq!(
        err,
        Error::CountMismatch {
            images: 10,
            labels: 9
        }
    );
    assert_eq!(err.to_string(), "count mismatch: 10 images but 9 labels");
}

#[test]
fn wrong_magic_is_an_error() {
    let labels_raw = raw(LABELS_GZ);
    let err = idx::parse_images(&labels_raw).unwrap_err();
    assert_eq!(
        err,
        Error::BadMagic {
            what: "images",
            expected: 0x803,
            got: 0x801
        }
    );
    assert_eq!(
        err.to_string(),
        "bad IDX magic 0x00000801, expected 0x00000803 (images)"
    );
    assert_eq!(
        idx::parse_labels(IMAGES_GZ),
        Err(Error::BadMagic {
            what: "labels",
            expected: 0x801,
            got: 0x803
        })
    );
}

#[test]
fn short_and_long_files_are_errors() {
    let images_raw = raw(IMAGES_GZ);
    check_images_err(
        &images_raw[..10],
        Error::Truncated {
            what: "IDX images header",
            expected: 16,
            got: 10,
        },
    );
    check_images_err(
        &images_raw[..7855],
        Error::Truncated {
            what: "IDX images data",
            expected: 7856,
            got: 7855,
        },
    );
    let mut long = images_raw.clone();
    long.push(0);
    let err = idx::parse_images(&long).unwrap_err();
    assert_eq!(
        err,
        Error::TrailingBytes {
            what: "IDX images data",
            expected: 7856,
            got: 7857
        }
    );
    assert_eq!(
        err.to_string(),
        "trailing bytes after IDX images data: header announces 7856 bytes, got 7857"
    );
    assert_eq!(
        idx::parse_labels(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2]),
        Err(Error::Truncated {
            what: "IDX labels data",
            expected: 11,
            got: 10
        })
    );
    assert_eq!(
        idx::parse_labels(&[0, 0, 8, 1, 0, 0]),
        Err(Error::Truncated {
            what: "IDX labels header",
            expected: 8,
            got: 6
        })
    );
    assert_eq!(
        idx::parse_labels(&[]),
        Err(Error::Truncated {
            what: "IDX labels header",
            expected: 8,
            got: 0
        })
    );
}

#[test]
fn bad_dimensions_are_errors() {
    check_images_err(
        &images_file([2, 0, 28], &[]),
        Error::BadDims {
            what: "images",
            dims: vec![2, 0, 28],
            reason: "zero-sized image",
        },
    );
    let huge = u32::MAX;
    check_images_err(
        &images_file([huge, huge, huge], &[1, 2, 3]),
        Error::BadDims {
            what: "images",
            dims: vec![huge as usize; 3],
            reason: "size overflows usize",
        },
    );
    // An empty set is valid.
    let empty = idx::parse_images(&images_file([0, 28, 28], &[])).unwrap();
    assert_eq!((empty.count(), empty.rows()), (0, 28));
    let err = Images::new(2, 2, vec![0; 5]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad dimensions [5, 2, 2] for images: pixel count is not a multiple of rows·cols"
    );
    assert!(Images::new(0, 2, vec![]).is_err());
    assert!(Images::new(usize::MAX, 2, vec![]).is_err());
}

#[test]
fn corrupt_gzip_is_an_error() {
    // Truncated: the trailer (CRC and size) is missing.
    let err = idx::parse_images(&IMAGES_GZ[..IMAGES_GZ.len() - 4]).unwrap_err();
    assert!(matches!(err, Error::Gzip(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("gzip stream is corrupt or truncated: ")
    );
    // A flipped bit in the CRC.
    let mut bad_crc = IMAGES_GZ.to_vec();
    let crc_pos = bad_crc.len() - 8;
    bad_crc[crc_pos] ^= 1;
    assert!(matches!(idx::parse_images(&bad_crc), Err(Error::Gzip(_))));
    // Garbage after the member.
    let mut trailing = IMAGES_GZ.to_vec();
    trailing.extend(b"garbage");
    assert!(matches!(idx::parse_images(&trailing), Err(Error::Gzip(_))));
    // Only the magic.
    assert!(matches!(
        idx::decompress(&[0x1f, 0x8b]),
        Err(Error::Gzip(_))
    ));
}

#[test]
fn every_truncation_is_an_error() {
    for file in [IMAGES_GZ.to_vec(), raw(IMAGES_GZ)] {
        for len in 0..file.len() {
            assert!(idx::parse_images(&file[..len]).is_err(), "prefix {len}");
        }
    }
    for file in [LABELS_GZ.to_vec(), raw(LABELS_GZ)] {
        for len in 0..file.len() {
            assert!(idx::parse_labels(&file[..len]).is_err(), "prefix {len}");
        }
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), gz in any::<bool>()) {
        let mut input = if gz { vec![0x1f, 0x8b] } else { vec![] };
        input.extend(bytes);
        let _ = idx::parse_images(&input);
        let _ = idx::parse_labels(&input);
    }

    #[test]
    fn flipped_bytes_never_panic(pos in 0usize..1619, value in any::<u8>(), gz in any::<bool>()) {
        let mut file = if gz { IMAGES_GZ.to_vec() } else { raw(IMAGES_GZ) };
        let pos = pos % file.len();
        file[pos] = value;
        let _ = idx::parse_images(&file);
        let _ = idx::parse_labels(&file);
    }

    #[test]
    fn header_garbage_never_panics(header in proptest::collection::vec(any::<u8>(), 16)) {
        let mut file = header;
        file.extend(&raw(IMAGES_GZ)[16..]);
        let _ = idx::parse_images(&file);
    }
}

#[test]
fn datasets_are_validated_against_their_spec() {
    let spec = idx::IdxSpec::MNIST;
    let set = idx::parse_dataset(IMAGES_GZ, LABELS_GZ, &spec).unwrap();
    assert_eq!(set.len(), 10);
    let mut labels = raw(LABELS_GZ);
    labels[8 + 3] = 200;
    assert_eq!(
        idx::parse_dataset(IMAGES_GZ, &labels, &spec),
        Err(Error::LabelOutOfRange {
            index: 3,
            label: 200,
            n_classes: 10
        })
    );
    labels[8 + 3] = 61;
    assert!(idx::parse_dataset(IMAGES_GZ, &labels, &idx::IdxSpec::EMNIST_BYCLASS).is_ok());
    assert!(idx::parse_dataset(IMAGES_GZ, &labels, &idx::IdxSpec::EMNIST_BALANCED).is_err());
    let empty_images = images_file([0, 28, 28], &[]);
    let empty_labels = Labels::new(Vec::new()).to_idx_bytes();
    assert_eq!(
        idx::parse_dataset(&empty_images, &empty_labels, &spec),
        Err(Error::Empty {
            what: "IDX dataset"
        })
    );
    let wide = images_file([1, 28, 29], &[0; 28 * 29]);
    let one_label = Labels::new(vec![1]).to_idx_bytes();
    let err = idx::parse_dataset(&wide, &one_label, &spec).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            expected: (28, 28),
            got: (28, 29)
        }
    );
    assert_eq!(err.to_string(), "images are 28x29, the dataset's are 28x28");
}

#[test]
fn gzip_is_required_where_the_name_says_so() {
    assert!(idx::require_gzip(IMAGES_GZ).is_ok());
    let err = idx::require_gzip(&raw(IMAGES_GZ)).unwrap_err();
    assert_eq!(
        err,
        Error::NotGzip {
            first_bytes: vec![0, 0, 8, 3]
        }
    );
    assert!(err.to_string().contains("00, 00, 08, 03"), "{err}");
    assert!(idx::require_gzip(&[]).is_err());
}
