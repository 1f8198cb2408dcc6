//! Tests of `datasets::emnist`: mapping files and the balanced-47 view on a synthetic ByClass set.

use datasets::{
    Error, Images, LabelledImages, Labels,
    emnist::{self, BALANCED_MERGED, Mapping},
};

/// The text of EMNIST's `emnist-byclass-mapping.txt`: `label ascii_code` for 0-9, A-Z, a-z.
fn byclass_mapping_text() -> String {
    ('0'..='9')
        .chain('A'..='Z')
        .chain('a'..='z')
        .enumerate()
        .map(|(label, ch)| format!("{label} {}\n", u32::from(ch)))
        .collect()
}

/// Balanced label of a ByClass character, computed from characters only (independent of the
/// crate's label arithmetic): merged lowercase letters become uppercase, then the position in
/// the Balanced class order.
fn reference_balanced_label(ch: char) -> u8 {
    let ch = if BALANCED_MERGED.contains(ch) {
        ch.to_ascii_uppercase()
    } else {
        ch
    };
    let order: String = ('0'..='9')
        .chain('A'..='Z')
        .chain("abdefghnqrt".chars())
        .collect();
    order.chars().position(|c| c == ch).unwrap() as u8
}

/// A synthetic ByClass split: `rounds` rounds, each one image of every label 0..62 in a
/// scrambled order; image `i` is 1x2 with pixels `[i / 256, i % 256]` so it can be traced back.
fn synthetic_byclass(rounds: usize, skip: impl Fn(u8, usize) -> bool) -> LabelledImages {
    let mut labels = Vec::new();
    for round in 0..rounds {
        for step in 0..62u8 {
            // 17 is coprime with 62, so this visits every label once per round.
            let label = ((usize::from(step) * 17 + round * 5) % 62) as u8;
            if !skip(label, round) {
                labels.push(label);
            }
        }
    }
    let pixels = (0..labels.len())
        .flat_map(|i| [(i / 256) as u8, (i % 256) as u8])
        .collect();
    LabelledImages::new(Images::new(1, 2, pixels).unwrap(), Labels::new(labels)).unwrap()
}

fn original_index(image: &[u8]) -> usize {
    usize::from(image[0]) * 256 + usize::from(image[1])
}

#[test]
fn mapping_parses_the_byclass_file() {
    let mapping = Mapping::parse(&byclass_mapping_text()).unwrap();
    assert_eq!(mapping, Mapping::byclass());
    assert_eq!(mapping.len(), 62);
    assert!(!mapping.is_empty());
    let text: String = (0..62).map(|l| mapping.char_of(l).unwrap()).collect();
    assert_eq!(
        text,
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    );
    assert_eq!(mapping.char_of(62), None);
    assert_eq!(mapping.label_of('a'), Some(36));
    assert_eq!(mapping.label_of('!'), None);
}

#[test]
fn mapping_accepts_letters_style_and_blank_lines() {
    // EMNIST Letters: labels from 1, with upper and lower codes.
    let mapping = Mapping::parse("1 65 97\n\n2 66 98\r\n").unwrap();
    assert_eq!(mapping.len(), 2);
    assert_eq!(
        (mapping.char_of(0), mapping.char_of(1), mapping.char_of(2)),
        (None, Some('A'), Some('B'))
    );
    assert!(mapping.check(&Labels::new(vec![1, 2, 2])).is_ok());
    assert_eq!(
        mapping.check(&Labels::new(vec![1, 0])),
        Err(Error::LabelOutOfRange {
            index: 1,
            label: 0,
            n_classes: 3
        })
    );
}

#[test]
fn mapping_errors_name_the_line() {
    #[track_caller]
    fn check(text: &str, line: usize, msg: &str) {
        assert_eq!(
            Mapping::parse(text),
            Err(Error::Mapping {
                line,
                msg: msg.to_owned()
            })
        );
    }
    check("0 48\n1\n", 2, "expected `label ascii_code`, got \"1\"");
    check("x 48", 1, "label \"x\" is not an integer in 0..=255");
    check(
        "0 48\n256 49",
        2,
        "label \"256\" is not an integer in 0..=255",
    );
    check("0 4x", 1, "character code \"4x\" is not an integer");
    check("0 55296", 1, "character code 55296 is not a character");
    check("0 48 q", 1, "extra field \"q\" is not an integer");
    check("0 48\n0 49", 2, "label 0 is mapped twice (to '0' and '1')");
    assert_eq!(
        Mapping::parse("0 48\n1").unwrap_err().to_string(),
        "mapping line 2: expected `label ascii_code`, got \"1\""
    );
}

#[test]
fn balanced_chars_are_the_47_classes() {
    let chars: String = (0..47).map(|l| emnist::balanced_char(l).unwrap()).collect();
    assert_eq!(chars, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt");
    assert_eq!(emnist::balanced_char(47), None);
    assert_eq!(emnist::balanced_char(255), None);
    // No balanced letter is one of the merged ones.
    assert!(!chars.chars().any(|c| BALANCED_MERGED.contains(c)));
    assert_eq!(BALANCED_MERGED.len() + 11, 26);
}

#[test]
fn byclass_labels_map_to_balanced_labels() {
    let mapping = Mapping::byclass();
    for label in 0..62 {
        let ch = mapping.char_of(label).unwrap();
        assert_eq!(
            emnist::balanced_label_of_byclass(label),
            Some(reference_balanced_label(ch)),
            "label {label} ({ch})"
        );
    }
    assert_eq!(emnist::balanced_label_of_byclass(62), None);
    assert_eq!(emnist::balanced_label_of_byclass(255), None);
}

#[test]
fn balanced_view_keeps_the_first_images_of_each_class_in_file_order() {
    let per_class = 3;
    let byclass = synthetic_byclass(4, |_, _| false);
    let balanced = emnist::balanced_from_byclass(&byclass, per_class).unwrap();
    assert_eq!(balanced.len(), 47 * per_class);
    assert_eq!(balanced.class_counts(), vec![per_class; 47]);

    // Reference: walk the file, keep an item while its class has fewer than `per_class`.
    let mapping = Mapping::byclass();
    let mut kept = [0usize; 47];
    let mut expected = Vec::new();
    for (idx, &label) in byclass.labels().as_slice().iter().enumerate() {
        let class = reference_balanced_label(mapping.char_of(label).unwrap());
        if kept[usize::from(class)] < per_class {
            kept[usize::from(class)] += 1;
            expected.push((idx, class));
        }
    }
    let got: Vec<(usize, u8)> = (0..balanced.len())
        .map(|i| {
            (
                original_index(balanced.images().image(i)),
                balanced.label(i),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // Merged classes draw from both cases: 'C' gets some 'c' images.
    let c_upper = mapping.label_of('C').unwrap();
    let c_lower = mapping.label_of('c').unwrap();
    let sources: Vec<u8> = got
        .iter()
        .filter(|&&(_, class)| class == c_upper)
        .map(|&(idx, _)| byclass.label(idx))
        .collect();
    assert!(
        sources.contains(&c_upper) && sources.contains(&c_lower),
        "{sources:?}"
    );
}

#[test]
fn balanced_view_reports_a_short_class() {
    // 'f' (ByClass 41) appears in the first round only.
    let byclass = synthetic_byclass(3, |label, round| label == 41 && round > 0);
    let err = emnist::balanced_from_byclass(&byclass, 2).unwrap_err();
    assert_eq!(
        err,
        Error::MissingClass {
            class: 'f',
            have: 1,
            need: 2
        }
    );
    assert_eq!(err.to_string(), "class 'f' has 1 images, 2 needed");
    // A merged class is short only when both cases together are short: 'c' alone missing is fine.
    let byclass = synthetic_byclass(2, |label, _| label == 38);
    assert!(emnist::balanced_from_byclass(&byclass, 2).is_ok());
}

#[test]
fn balanced_view_rejects_labels_outside_byclass() {
    let images = Images::new(1, 1, vec![0, 0]).unwrap();
    let byclass = LabelledImages::new(images, Labels::new(vec![3, 62])).unwrap();
    let err = emnist::balanced_from_byclass(&byclass, 1).unwrap_err();
    assert_eq!(
        err,
        Error::LabelOutOfRange {
            index: 1,
            label: 62,
            n_classes: 62
        }
    );
    assert_eq!(
        err.to_string(),
        "label 62 of item 1 is out of range: the split has 62 classes"
    );
}
