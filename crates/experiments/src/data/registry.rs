//! The dataset registry: every file neuromol reads, where to download it and its sha256.
//!
//! The layout is `<root>/<dataset>/<file>`, exactly as in the shared mirror. Each file carries two
//! checksums where they differ: the sha256 of the file as stored in the mirror, and for gzip files
//! the sha256 of the decompressed content. A file is accepted when either matches, so an official
//! MNIST download (whose gzip header differs from the mirror's, see `mnist/README.md`) and the
//! mirror's copy are both recognised. The values come from each dataset's `README.md`; the
//! decompressed sha256 of the QM9 files was computed here with `zcat FILE | sha256sum`.

use crate::data::Dataset;

/// One file of a dataset.
#[derive(Debug)]
pub(crate) struct FileSpec {
    /// File name inside `<root>/<dataset>/`.
    pub(crate) name: &'static str,
    /// Download URLs, tried in order.
    pub(crate) urls: &'static [&'static str],
    /// sha256 of the file as stored in the shared mirror (the `.gz` itself for gzip files).
    pub(crate) sha256: &'static str,
    /// sha256 of the decompressed content, for gzip files.
    pub(crate) sha256_decompressed: Option<&'static str>,
    /// What the structural check expects inside.
    pub(crate) format: Format,
}

/// The structural format of a file, which selects its structural check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Gzipped IDX images (magic 0x00000803).
    IdxImages,
    /// Gzipped IDX labels (magic 0x00000801).
    IdxLabels,
    /// EMNIST mapping text: `classes` lines `label ascii_code`.
    Mapping {
        /// Number of lines (classes).
        classes: usize,
    },
    /// The gzipped QM9 properties CSV.
    Qm9Csv,
    /// The gzipped QM9 multi-frame XYZ file.
    Qm9Xyz,
    /// A zip archive.
    Zip,
}

/// How a dataset can be fetched.
#[derive(Debug)]
pub(crate) enum Fetch {
    /// Every file downloads directly from its URLs.
    Direct,
    /// The files cannot be downloaded as they are stored; the text says where to get them.
    Manual(&'static str),
}

/// One dataset: its files, its images/labels pairs and how to fetch it.
#[derive(Debug)]
pub(crate) struct DatasetSpec {
    /// Which dataset.
    pub(crate) dataset: Dataset,
    /// Every file, in the order they are checked.
    pub(crate) files: &'static [FileSpec],
    /// (images file, labels file) pairs whose counts must agree.
    pub(crate) pairs: &'static [(&'static str, &'static str)],
    /// How to fetch the files.
    pub(crate) fetch: Fetch,
}

/// The spec of `dataset`.
pub(crate) fn spec(dataset: Dataset) -> &'static DatasetSpec {
    REGISTRY
        .iter()
        .find(|spec| spec.dataset == dataset)
        .expect("REGISTRY has one entry per Dataset variant (test registry_covers_every_dataset)")
}

/// Every dataset, in [`Dataset::ALL`] order.
pub(crate) static REGISTRY: &[DatasetSpec] = &[
    DatasetSpec {
        dataset: Dataset::Mnist,
        files: &[
            FileSpec {
                name: "train-images-idx3-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
                ],
                sha256: "ae46c4f260ac4905871204038b01a6c0a113631ad2d5a23f68961fc8b88747cb",
                sha256_decompressed: Some(
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "train-labels-idx1-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/train-labels-idx1-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz",
                ],
                sha256: "4cef464b5d0fd20305c139d7358afe20954e5a0be436d0a975a9762a533e2f75",
                sha256_decompressed: Some(
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                ),
                format: Format::IdxLabels,
            },
            FileSpec {
                name: "t10k-images-idx3-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
                ],
                sha256: "8d1c48f2b24c34ae56333c3e87c95e99bc60a089031230ce093bf56699bec6b2",
                sha256_decompressed: Some(
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "t10k-labels-idx1-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
                ],
                sha256: "f03153ec6749a9b837aa118d273c38dded2e2c0817d5d584074d96c48cef8166",
                sha256_decompressed: Some(
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                ),
                format: Format::IdxLabels,
            },
        ],
        pairs: &[
            ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        ],
        fetch: Fetch::Direct,
    },
    DatasetSpec {
        dataset: Dataset::FashionMnist,
        files: &[
            FileSpec {
                name: "train-images-idx3-ubyte.gz",
                urls: &[
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
                    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/train-images-idx3-ubyte.gz",
                ],
                sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                sha256_decompressed: Some(
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "train-labels-idx1-ubyte.gz",
                urls: &[
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
                    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/train-labels-idx1-ubyte.gz",
                ],
                sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                sha256_decompressed: Some(
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                ),
                format: Format::IdxLabels,
            },
            FileSpec {
                name: "t10k-images-idx3-ubyte.gz",
                urls: &[
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
                    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/t10k-images-idx3-ubyte.gz",
                ],
                sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                sha256_decompressed: Some(
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "t10k-labels-idx1-ubyte.gz",
                urls: &[
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
                    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/t10k-labels-idx1-ubyte.gz",
                ],
                sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                sha256_decompressed: Some(
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                ),
                format: Format::IdxLabels,
            },
        ],
        pairs: &[
            ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        ],
        fetch: Fetch::Direct,
    },
    DatasetSpec {
        dataset: Dataset::Emnist,
        files: &[
            FileSpec {
                name: "emnist-byclass-test-images-idx3-ubyte.gz",
                urls: EMNIST_URLS,
                sha256: "fa6fc209e02adfeeeffa6cdf82965b566f67635f7de3c6de49925e949987ee20",
                sha256_decompressed: Some(
                    "385559d7d5c96f49cd6b55b3e9e76d7ecbf568897b6067e8cac8f1ffc2f50f81",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "emnist-byclass-test-labels-idx1-ubyte.gz",
                urls: EMNIST_URLS,
                sha256: "12d3c9e2d1e80843fbea273aae483b31f69c58d64f70fb343162c4f1bcdcdeb7",
                sha256_decompressed: Some(
                    "842d01413932b3ce7afbc9990376a16f8880a212bb42d66fa2922b4218cf300a",
                ),
                format: Format::IdxLabels,
            },
            FileSpec {
                name: "emnist-byclass-mapping.txt",
                urls: EMNIST_URLS,
                sha256: "ea02c181d813f1b49a6d220166b7097864d681f46ea87bbd8766db055debae71",
                sha256_decompressed: None,
                format: Format::Mapping { classes: 62 },
            },
            FileSpec {
                name: "emnist-mnist-test-images-idx3-ubyte.gz",
                urls: EMNIST_URLS,
                sha256: "5825a130143f483ce9deb815e62a36835a69cdd2cbba3e52fd7ee1bd17cd77a2",
                sha256_decompressed: Some(
                    "0a5442aeabc1ec6cf0a8335d81debf853b46a7570f5d93805a4d6ef8b7281063",
                ),
                format: Format::IdxImages,
            },
            FileSpec {
                name: "emnist-mnist-test-labels-idx1-ubyte.gz",
                urls: EMNIST_URLS,
                sha256: "b16afbd9da562fa6fb8ba663cd98c51b455d4452e6119e4a6202bbe5dda69a78",
                sha256_decompressed: Some(
                    "a0ffd2d4ce92418e020d53cf36f2b6c154c4f59344098a5e8d3c6e588109f0a0",
                ),
                format: Format::IdxLabels,
            },
            FileSpec {
                name: "emnist-mnist-mapping.txt",
                urls: EMNIST_URLS,
                sha256: "64e8200e94353bb873e464a7f68f734d200d3cd01121bc6ae0862e10d03afa2f",
                sha256_decompressed: None,
                format: Format::Mapping { classes: 10 },
            },
        ],
        pairs: &[
            (
                "emnist-byclass-test-images-idx3-ubyte.gz",
                "emnist-byclass-test-labels-idx1-ubyte.gz",
            ),
            (
                "emnist-mnist-test-images-idx3-ubyte.gz",
                "emnist-mnist-test-labels-idx1-ubyte.gz",
            ),
        ],
        fetch: Fetch::Manual(
            "EMNIST is distributed only inside NIST's 536 MiB archive \
             https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip (older URL \
             http://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip), which `data fetch` does not \
             unpack. Download it, extract the members `gzip/emnist-byclass-test-{images-idx3,labels-idx1}-ubyte.gz`, \
             `gzip/emnist-mnist-test-{images-idx3,labels-idx1}-ubyte.gz` and the two `emnist-*-mapping.txt` \
             files, and put them in the emnist directory named in this message; `cargo xtask data verify` then checks them \
             (the decompressed sha256 of NIST's files was not confirmed here)",
        ),
    },
    DatasetSpec {
        dataset: Dataset::Qm9,
        files: &[
            FileSpec {
                name: "qm9_props.csv.gz",
                urls: QM9_URLS,
                sha256: "af9de1f11f83f1efa8dd1991d7e13d926c464224705d8f3788a64d4db91781e8",
                sha256_decompressed: Some(
                    "276498c574a5c32cab788fa510e70aed732a2e4672d62f60ad4818a3ff23fca6",
                ),
                format: Format::Qm9Csv,
            },
            FileSpec {
                name: "qm9_geometries.xyz.gz",
                urls: QM9_URLS,
                sha256: "4af87297e630ef735c20227aabfbedee768c610a6e80ce7a1d5cadf1aa943d78",
                sha256_decompressed: Some(
                    "352d47e9ef715df042ab56396dba213247c1eb3f32218c48f5dc731b17abf55a",
                ),
                format: Format::Qm9Xyz,
            },
        ],
        pairs: &[],
        fetch: Fetch::Manual(
            "neuromol's QM9 files are a re-layout of the PyPI wheel qm9pack 1.0.3 \
             (`pip download --no-deps qm9pack==1.0.3`; files qm9pack/data/qm9_part{1,2,3}.csv), made as \
             described in the shared data mirror's qm9/README.md; the canonical figshare release \
             (https://ndownloader.figshare.com/files/3195389, 133,885 xyz files) has a different layout. \
             `data fetch` cannot rebuild them; copy qm9_props.csv.gz and qm9_geometries.xyz.gz from a \
             mirror into the qm9 directory named in this message",
        ),
    },
    DatasetSpec {
        dataset: Dataset::Omniglot,
        files: &[
            FileSpec {
                name: "images_background_small1.zip",
                urls: &[
                    "https://raw.githubusercontent.com/brendenlake/omniglot/057f034baf2ecb8530bc5710e5a23584d2a519cc/python/images_background_small1.zip",
                    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/images_background_small1.zip",
                ],
                sha256: "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4",
                sha256_decompressed: None,
                format: Format::Zip,
            },
            FileSpec {
                name: "images_background_small2.zip",
                urls: &[
                    "https://raw.githubusercontent.com/brendenlake/omniglot/057f034baf2ecb8530bc5710e5a23584d2a519cc/python/images_background_small2.zip",
                    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/images_background_small2.zip",
                ],
                sha256: "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f",
                sha256_decompressed: None,
                format: Format::Zip,
            },
            FileSpec {
                name: "all_runs.zip",
                urls: &[
                    "https://raw.githubusercontent.com/brendenlake/omniglot/057f034baf2ecb8530bc5710e5a23584d2a519cc/python/one-shot-classification/all_runs.zip",
                    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/one-shot-classification/all_runs.zip",
                ],
                sha256: "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
                sha256_decompressed: None,
                format: Format::Zip,
            },
            FileSpec {
                name: "strokes_background_small1.zip",
                urls: &[
                    "https://raw.githubusercontent.com/brendenlake/omniglot/057f034baf2ecb8530bc5710e5a23584d2a519cc/python/strokes_background_small1.zip",
                    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/strokes_background_small1.zip",
                ],
                sha256: "8cb3960fb6cf4ccf5f064ad83169f828c36c36782a0f6e7faacb7ecfae4468a2",
                sha256_decompressed: None,
                format: Format::Zip,
            },
            FileSpec {
                name: "strokes_background_small2.zip",
                urls: &[
                    "https://raw.githubusercontent.com/brendenlake/omniglot/057f034baf2ecb8530bc5710e5a23584d2a519cc/python/strokes_background_small2.zip",
                    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/strokes_background_small2.zip",
                ],
                sha256: "345bf2141efbea062833dbb2828abbc23d9e07825e46f2afdd4daecddfed6e78",
                sha256_decompressed: None,
                format: Format::Zip,
            },
        ],
        pairs: &[],
        fetch: Fetch::Direct,
    },
];

/// Where the EMNIST files come from (inside a zip archive; see [`Fetch::Manual`]).
const EMNIST_URLS: &[&str] = &[
    "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
    "http://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip",
];

/// Where the QM9 files' source comes from (a re-layout is needed; see [`Fetch::Manual`]).
const QM9_URLS: &[&str] = &["https://pypi.org/project/qm9pack/1.0.3/"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_covers_every_dataset() {
        for dataset in Dataset::ALL {
            assert_eq!(spec(dataset).dataset, dataset);
        }
        assert_eq!(REGISTRY.len(), Dataset::ALL.len());
    }

    #[test]
    fn checksums_are_sha256_hex_and_pairs_name_files() {
        for spec in REGISTRY {
            for file in spec.files {
                for sha in std::iter::once(file.sha256).chain(file.sha256_decompressed) {
                    assert_eq!(sha.len(), 64, "{}", file.name);
                    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()), "{}", file.name);
                }
                assert!(!file.urls.is_empty(), "{}", file.name);
            }
            for (images, labels) in spec.pairs {
                let find =
                    |name: &str| spec.files.iter().find(|f| f.name == name).map(|f| f.format);
                assert_eq!(find(images), Some(Format::IdxImages));
                assert_eq!(find(labels), Some(Format::IdxLabels));
            }
        }
    }
}
