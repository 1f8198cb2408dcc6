//! Atoms of a QM9 heavy-atom graph: the five node classes of GSVAE and formal charges.

use serde::{Deserialize, Serialize};

/// Node class, in the paper's one-hot order `[C, O, N, F, ghost]` (digest molecular.md §1).
///
/// `Ghost` marks a padding node (stored as element H by the GSVAE code); a valid molecule has no
/// bonds at ghost nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AtomClass {
    /// Carbon.
    C,
    /// Oxygen.
    O,
    /// Nitrogen.
    N,
    /// Fluorine.
    F,
    /// Padding node (no atom).
    Ghost,
}

impl AtomClass {
    /// All classes in one-hot order.
    pub const ALL: [AtomClass; 5] = [
        AtomClass::C,
        AtomClass::O,
        AtomClass::N,
        AtomClass::F,
        AtomClass::Ghost,
    ];

    /// Number of classes (the one-hot width).
    pub const COUNT: usize = 5;

    /// Position in the one-hot vector `[C, O, N, F, ghost]`.
    ///
    /// # Example
    /// ```
    /// use molgraph::AtomClass;
    /// assert_eq!(AtomClass::N.index(), 2);
    /// assert_eq!(AtomClass::from_index(2), Some(AtomClass::N));
    /// ```
    pub fn index(self) -> usize {
        match self {
            AtomClass::C => 0,
            AtomClass::O => 1,
            AtomClass::N => 2,
            AtomClass::F => 3,
            AtomClass::Ghost => 4,
        }
    }

    /// The class at a one-hot position, `None` past the end.
    ///
    /// # Example
    /// ```
    /// use molgraph::AtomClass;
    /// assert_eq!(AtomClass::from_index(4), Some(AtomClass::Ghost));
    /// assert_eq!(AtomClass::from_index(5), None);
    /// ```
    pub fn from_index(index: usize) -> Option<AtomClass> {
        AtomClass::ALL.get(index).copied()
    }

    /// Element symbol (`"H"` for a ghost, as in the GSVAE code).
    ///
    /// # Example
    /// ```
    /// use molgraph::AtomClass;
    /// assert_eq!(AtomClass::F.symbol(), "F");
    /// ```
    pub fn symbol(self) -> &'static str {
        match self {
            AtomClass::C => "C",
            AtomClass::O => "O",
            AtomClass::N => "N",
            AtomClass::F => "F",
            AtomClass::Ghost => "H",
        }
    }

    /// Atomic number (1 for a ghost, which the GSVAE code stores as H).
    ///
    /// # Example
    /// ```
    /// use molgraph::AtomClass;
    /// assert_eq!(AtomClass::O.atomic_number(), 8);
    /// ```
    pub fn atomic_number(self) -> u8 {
        match self {
            AtomClass::C => 6,
            AtomClass::O => 8,
            AtomClass::N => 7,
            AtomClass::F => 9,
            AtomClass::Ghost => 1,
        }
    }

    /// Whether this is the padding class.
    ///
    /// # Example
    /// ```
    /// use molgraph::AtomClass;
    /// assert!(AtomClass::Ghost.is_ghost() && !AtomClass::C.is_ghost());
    /// ```
    pub fn is_ghost(self) -> bool {
        self == AtomClass::Ghost
    }

    /// Valence-shell electrons (C 4, N 5, O 6, F 7; ghost 1).
    pub(crate) fn outer_electrons(self) -> i32 {
        match self {
            AtomClass::C => 4,
            AtomClass::N => 5,
            AtomClass::O => 6,
            AtomClass::F => 7,
            AtomClass::Ghost => 1,
        }
    }
}

/// A node: its class and formal charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Atom {
    /// Element (or ghost).
    pub class: AtomClass,
    /// Formal charge in units of e.
    pub charge: i8,
}

impl Atom {
    /// A neutral atom of the given class.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Atom, AtomClass};
    /// assert_eq!(Atom::neutral(AtomClass::C).charge, 0);
    /// ```
    pub fn neutral(class: AtomClass) -> Atom {
        Atom { class, charge: 0 }
    }

    /// Largest allowed bond-order sum, by the isoelectronic rule RDKit applies to charged atoms:
    /// the default valence of the element with atomic number `Z − charge` (C 4, N 3, O 2, F 1,
    /// N⁺ 4, O⁻ 1, N⁻ 2, C⁻ 3, O⁺ 3, …). `None` for a ghost or a charge outside B…Ne.
    ///
    /// ```text
    /// allowed(C) = 4, allowed(N) = 3, allowed(O) = 2, allowed(F) = 1,
    /// allowed(N⁺) = 4, allowed(O⁻) = 1, allowed(N⁻) = 2          [GSVAE digest §8.1, rule 4]
    /// ```
    ///
    /// # Example
    /// ```
    /// use molgraph::{Atom, AtomClass};
    /// assert_eq!(Atom { class: AtomClass::N, charge: 1 }.max_valence(), Some(4));
    /// assert_eq!(Atom { class: AtomClass::O, charge: -1 }.max_valence(), Some(1));
    /// assert_eq!(Atom::neutral(AtomClass::Ghost).max_valence(), None);
    /// ```
    pub fn max_valence(&self) -> Option<u8> {
        if self.class.is_ghost() {
            return None;
        }
        let z = i32::from(self.class.atomic_number()) - i32::from(self.charge);
        match z {
            5 => Some(3),
            6 => Some(4),
            7 => Some(3),
            8 => Some(2),
            9 => Some(1),
            10 => Some(0),
            _ => None,
        }
    }

    /// Standard atomic weight used by RDKit's `MolWt` (H 1.008, C 12.011, N 14.007, O 15.999,
    /// F 18.998; digest §8.4). A ghost weighs nothing.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Atom, AtomClass};
    /// assert!((Atom::neutral(AtomClass::C).atomic_weight() - 12.011).abs() < 1e-12);
    /// ```
    pub fn atomic_weight(&self) -> f64 {
        match self.class {
            AtomClass::C => 12.011,
            AtomClass::O => 15.999,
            AtomClass::N => 14.007,
            AtomClass::F => 18.998,
            AtomClass::Ghost => 0.0,
        }
    }
}

/// Atomic weight of hydrogen used by RDKit's `MolWt`.
pub(crate) const HYDROGEN_WEIGHT: f64 = 1.008;
