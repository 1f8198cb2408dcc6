//! Wildman–Crippen atom typing for C/N/O/F/H as hand-coded environment rules.
//!
//! Each rule mirrors one SMARTS line of RDKit's ordered `Crippen.txt` table (the 1999 paper's
//! types); rules are tried in the table's order and the first match wins. SMARTS semantics used:
//! `C`/`N`/`O` aliphatic, `c`/`n`/`o`/`a` aromatic, `A` aliphatic, `H<k>` total hydrogens,
//! `X<k>` total connections (hydrogens included), an unwritten bond is single or aromatic.
//! Rules for elements absent from QM9 (P, S, Cl, Br, I, metals) can never match and are left out.

use crate::{AtomClass, MolGraph, aromaticity::Aromaticity};

/// LogP of a cleaned-up graph with its aromaticity.
pub(super) fn logp(graph: &MolGraph, aromatic: &Aromaticity) -> f64 {
    let env = Env { graph, aromatic };
    (0..graph.n_atoms())
        .filter(|&i| !graph.atoms()[i].class.is_ghost())
        .map(|i| {
            let heavy = env.heavy_type(i);
            let h = f64::from(graph.implicit_hydrogens(i));
            heavy + h * env.hydrogen_type(i)
        })
        .sum()
}

/// Bond as SMARTS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Single,
    Double,
    Triple,
    Aromatic,
}

impl Kind {
    /// The unwritten SMARTS bond: single or aromatic.
    fn default_bond(self) -> bool {
        matches!(self, Kind::Single | Kind::Aromatic)
    }
}

struct Env<'a> {
    graph: &'a MolGraph,
    aromatic: &'a Aromaticity,
}

type Pred<'p> = &'p dyn Fn(usize, Kind) -> bool;

impl Env<'_> {
    fn class(&self, i: usize) -> AtomClass {
        self.graph.atoms()[i].class
    }
    fn charge(&self, i: usize) -> i8 {
        self.graph.atoms()[i].charge
    }
    fn arom(&self, i: usize) -> bool {
        self.aromatic.atoms[i]
    }
    fn h(&self, i: usize) -> u8 {
        self.graph.implicit_hydrogens(i)
    }
    fn x(&self, i: usize) -> usize {
        self.graph.degree(i) + usize::from(self.h(i))
    }
    /// Aliphatic atom of a class (`C`, `N`, `O`, `F`).
    fn aliphatic(&self, j: usize, class: AtomClass) -> bool {
        self.class(j) == class && !self.arom(j)
    }
    /// Aliphatic heavy atom (`[A;!#1]`).
    fn al(&self, j: usize) -> bool {
        !self.arom(j)
    }
    /// Aliphatic N, O or F (`[N,O,P,S,F,Cl,Br,I]` in C/N/O/F chemistry).
    fn hetero(&self, j: usize) -> bool {
        !self.arom(j) && matches!(self.class(j), AtomClass::N | AtomClass::O | AtomClass::F)
    }
    fn neighbours(&self, i: usize) -> Vec<(usize, Kind)> {
        self.graph
            .bonds()
            .iter()
            .enumerate()
            .filter(|(_, b)| b.a == i || b.b == i)
            .map(|(idx, b)| {
                let kind = if self.aromatic.bonds[idx] {
                    Kind::Aromatic
                } else {
                    match b.order.value() {
                        1 => Kind::Single,
                        2 => Kind::Double,
                        _ => Kind::Triple,
                    }
                };
                (b.other(i), kind)
            })
            .collect()
    }

    /// Whether distinct neighbours of `i` (other than those in `exclude`) satisfy all `preds`.
    fn matches(&self, i: usize, exclude: &[usize], preds: &[Pred<'_>]) -> bool {
        let nbrs: Vec<(usize, Kind)> = self
            .neighbours(i)
            .into_iter()
            .filter(|(j, _)| !exclude.contains(j))
            .collect();
        let mut used = vec![false; nbrs.len()];
        assign(&nbrs, preds, &mut used)
    }

    fn any(&self, i: usize, pred: Pred<'_>) -> bool {
        self.matches(i, &[], &[pred])
    }

    fn heavy_type(&self, i: usize) -> f64 {
        match (self.class(i), self.arom(i)) {
            (AtomClass::C, false) => self.aliphatic_carbon(i),
            (AtomClass::C, true) => self.aromatic_carbon(i),
            (AtomClass::N, false) => self.aliphatic_nitrogen(i),
            (AtomClass::N, true) => match self.charge(i) {
                0 => -0.3239,         // N11 [n+0]
                q if q > 0 => -1.119, // N12 [n;+,+2,+3]
                _ => -0.4806,         // NS
            },
            (AtomClass::O, false) => self.aliphatic_oxygen(i),
            (AtomClass::O, true) => 0.1552, // O1 [o]
            (AtomClass::F, _) => {
                if self.charge(i) == 0 {
                    0.4202 // F [#9-0]
                } else {
                    0.0
                }
            }
            (AtomClass::Ghost, _) => 0.0,
        }
    }

    fn aliphatic_carbon(&self, i: usize) -> f64 {
        let h = self.h(i);
        let x = self.x(i);
        let sa_c = |j: usize, k: Kind| k.default_bond() && self.aliphatic(j, AtomClass::C);
        let sa_al = |j: usize, k: Kind| k.default_bond() && self.al(j);
        let sa_het = |j: usize, k: Kind| k.default_bond() && self.hetero(j);
        let sa_arom = |j: usize, k: Kind| k.default_bond() && self.arom(j);
        let sa_c_arom =
            |j: usize, k: Kind| k.default_bond() && self.arom(j) && self.class(j) == AtomClass::C;
        let dbl_c = |j: usize, k: Kind| k == Kind::Double && self.aliphatic(j, AtomClass::C);
        // C1 [CH4], [CH3]C, [CH2](C)C
        if h == 4
            || (h == 3 && self.any(i, &sa_c))
            || (h == 2 && self.matches(i, &[], &[&sa_c, &sa_c]))
        {
            return 0.1441;
        }
        // C2 [CH](C)(C)C, [C](C)(C)(C)C
        if (h == 1 && self.matches(i, &[], &[&sa_c, &sa_c, &sa_c]))
            || self.matches(i, &[], &[&sa_c, &sa_c, &sa_c, &sa_c])
        {
            return 0.0;
        }
        // C3 [CH3][N,O,..], [CH2X4]([N,O,..])[A;!#1]
        if (h == 3 && self.any(i, &sa_het))
            || (h == 2 && x == 4 && self.matches(i, &[], &[&sa_het, &sa_al]))
        {
            return -0.2035;
        }
        // C4 [CH1X4](het)([A])[A], [CH0X4](het)([A])([A])[A]
        if (h == 1 && x == 4 && self.matches(i, &[], &[&sa_het, &sa_al, &sa_al]))
            || (h == 0 && x == 4 && self.matches(i, &[], &[&sa_het, &sa_al, &sa_al, &sa_al]))
        {
            return -0.2051;
        }
        // C5 [C]=[!C;A;!#1]
        if self.any(i, &|j, k| {
            k == Kind::Double && self.al(j) && self.class(j) != AtomClass::C
        }) {
            return -0.2783;
        }
        // C6 [CH2]=C, [CH1](=C)[A;!#1], [CH0](=C)([A;!#1])[A;!#1], [C](=C)=C
        if (h == 2 && self.any(i, &dbl_c))
            || (h == 1 && self.matches(i, &[], &[&dbl_c, &sa_al]))
            || (h == 0 && self.matches(i, &[], &[&dbl_c, &sa_al, &sa_al]))
            || self.matches(i, &[], &[&dbl_c, &dbl_c])
        {
            return 0.1551;
        }
        // C7 [CX2]#[A;!#1]
        if x == 2 && self.any(i, &|j, k| k == Kind::Triple && self.al(j)) {
            return 0.0017;
        }
        // C8 [CH3]c, C9 [CH3]a
        if h == 3 && self.any(i, &sa_c_arom) {
            return 0.08452;
        }
        if h == 3 && self.any(i, &sa_arom) {
            return -0.1444;
        }
        // C10 [CH2X4]a, C11 [CHX4]a, C12 [CH0X4]a
        if x == 4 && self.any(i, &sa_arom) {
            return match h {
                2 => -0.0516,
                1 => 0.1193,
                0 => -0.0967,
                _ => 0.08129,
            };
        }
        // C26 [C](=C)(a)[A;!#1], [C](=C)(c)a, [CH1](=C)a, [C]=c
        if self.matches(i, &[], &[&dbl_c, &sa_arom, &sa_al])
            || self.matches(i, &[], &[&dbl_c, &sa_c_arom, &sa_arom])
            || (h == 1 && self.matches(i, &[], &[&dbl_c, &sa_arom]))
            || self.any(i, &|j, k| {
                k == Kind::Double && self.arom(j) && self.class(j) == AtomClass::C
            })
        {
            return 0.264;
        }
        0.08129 // CS [#6]
    }

    fn aromatic_carbon(&self, i: usize) -> f64 {
        let ar_a = |j: usize, k: Kind| k == Kind::Aromatic && self.arom(j);
        // C14 [c][#9]
        if self.any(i, &|j, k| k.default_bond() && self.class(j) == AtomClass::F) {
            return 0.0;
        }
        // C18 [cH]
        if self.h(i) == 1 {
            return 0.1581;
        }
        // C19 [c](:a)(:a):a
        if self.matches(i, &[], &[&ar_a, &ar_a, &ar_a]) {
            return 0.2955;
        }
        let single_to = |pred: &dyn Fn(usize) -> bool| {
            self.matches(
                i,
                &[],
                &[&ar_a, &ar_a, &|j, k| k == Kind::Single && pred(j)],
            )
        };
        // C20 -a, C21 -C, C22 -N, C23 -O
        if single_to(&|j| self.arom(j)) {
            return 0.2713;
        }
        if single_to(&|j| self.aliphatic(j, AtomClass::C)) {
            return 0.136;
        }
        if single_to(&|j| self.aliphatic(j, AtomClass::N)) {
            return 0.4619;
        }
        if single_to(&|j| self.aliphatic(j, AtomClass::O)) {
            return 0.5437;
        }
        // C25 [c](:a)(:a)=[C,N,O]
        if self.matches(
            i,
            &[],
            &[&ar_a, &ar_a, &|j, k| {
                k == Kind::Double
                    && self.al(j)
                    && matches!(self.class(j), AtomClass::C | AtomClass::N | AtomClass::O)
            }],
        ) {
            return -0.8186;
        }
        0.08129 // CS
    }

    fn aliphatic_nitrogen(&self, i: usize) -> f64 {
        let h = self.h(i);
        let q = self.charge(i);
        let sa_al = |j: usize, k: Kind| k.default_bond() && self.al(j);
        let sa_heavy = |_: usize, k: Kind| k.default_bond();
        let sa_arom = |j: usize, k: Kind| k.default_bond() && self.arom(j);
        let dbl_heavy = |_: usize, k: Kind| k == Kind::Double;
        if q == 0 {
            if h == 2 && self.any(i, &sa_al) {
                return -1.019; // N1
            }
            if h == 1 && self.matches(i, &[], &[&sa_al, &sa_al]) {
                return -0.7096; // N2
            }
            if h == 2 && self.any(i, &sa_arom) {
                return -1.027; // N3
            }
            if h == 1 && self.matches(i, &[], &[&sa_arom, &sa_heavy]) {
                return -0.5188; // N4
            }
            if h == 1 && self.any(i, &dbl_heavy) {
                return 0.08387; // N5
            }
            if self.matches(i, &[], &[&dbl_heavy, &sa_heavy]) {
                return 0.1836; // N6
            }
            if self.matches(i, &[], &[&sa_al, &sa_al, &sa_al]) {
                return -0.3187; // N7
            }
            if self.matches(i, &[], &[&sa_arom, &sa_heavy, &sa_al])
                || self.matches(i, &[], &[&sa_arom, &sa_arom, &sa_arom])
            {
                return -0.4458; // N8
            }
            if self.any(i, &|j, k| k == Kind::Triple && self.al(j)) {
                return 0.01508; // N9
            }
        }
        if (1..=3).contains(&q) {
            if (1..=3).contains(&h) {
                return -1.95; // N10
            }
            let dbl_al = |j: usize, k: Kind| k == Kind::Double && self.al(j);
            if h == 0
                && (self.matches(i, &[], &[&sa_al, &sa_al, &sa_al, &sa_al])
                    || self.matches(i, &[], &[&dbl_al, &sa_al, &sa_heavy])
                    || self.matches(
                        i,
                        &[],
                        &[
                            &|j, k| k == Kind::Double && self.class(j) == AtomClass::C,
                            &|j, k| k == Kind::Double && self.class(j) == AtomClass::N,
                        ],
                    ))
            {
                return -0.3396; // N13
            }
        }
        // N14 [N;+]#[A;!#1], [N;-], [N;+](=[N;-])=N
        if (q > 0 && self.any(i, &|j, k| k == Kind::Triple && self.al(j)))
            || q < 0
            || (q > 0
                && self.matches(
                    i,
                    &[],
                    &[
                        &|j, k| {
                            k == Kind::Double
                                && self.aliphatic(j, AtomClass::N)
                                && self.charge(j) < 0
                        },
                        &|j, k| k == Kind::Double && self.aliphatic(j, AtomClass::N),
                    ],
                ))
        {
            return 0.2887;
        }
        -0.4806 // NS
    }

    fn aliphatic_oxygen(&self, i: usize) -> f64 {
        let h = self.h(i);
        let q = self.charge(i);
        let x = self.x(i);
        let sa_al = |j: usize, k: Kind| k.default_bond() && self.al(j);
        let sa_arom = |j: usize, k: Kind| k.default_bond() && self.arom(j);
        let sa_heavy = |_: usize, k: Kind| k.default_bond();
        if h == 1 || h == 2 {
            return -0.2893; // O2 [OH,OH2]
        }
        if self.matches(i, &[], &[&sa_al, &sa_al]) {
            return -0.0684; // O3
        }
        if self.matches(i, &[], &[&sa_arom, &sa_heavy]) {
            return -0.4195; // O4
        }
        // O5 [O]=[#7,#8], [OX1;-][#7]
        if self.any(i, &|j, k| {
            k == Kind::Double && matches!(self.class(j), AtomClass::N | AtomClass::O)
        }) || (x == 1
            && q < 0
            && self.any(i, &|j, k| k.default_bond() && self.class(j) == AtomClass::N))
        {
            return 0.0335;
        }
        // O12 [O-]C(=O)
        if q == -1
            && self.any(i, &|j, k| {
                k.default_bond()
                    && self.aliphatic(j, AtomClass::C)
                    && self.matches(
                        j,
                        &[i],
                        &[&|l, kl| kl == Kind::Double && self.aliphatic(l, AtomClass::O)],
                    )
            })
        {
            return -1.326;
        }
        // O7 [OX1;-][!#1;!N;!S]
        if x == 1
            && q < 0
            && self.any(i, &|j, k| {
                k.default_bond() && !self.aliphatic(j, AtomClass::N)
            })
        {
            return -1.189;
        }
        // O8 [O]=c
        if self.any(i, &|j, k| {
            k == Kind::Double && self.arom(j) && self.class(j) == AtomClass::C
        }) {
            return 0.1788;
        }
        // The carbonyl carbon, for O9-O11.
        let carbonyl: Vec<usize> = self
            .neighbours(i)
            .into_iter()
            .filter(|&(j, k)| k == Kind::Double && self.aliphatic(j, AtomClass::C))
            .map(|(j, _)| j)
            .collect();
        let any_carbonyl = |test: &dyn Fn(usize) -> bool| carbonyl.iter().any(|&j| test(j));
        let sa_c = |l: usize, k: Kind| k.default_bond() && self.aliphatic(l, AtomClass::C);
        let sa_c_arom =
            |l: usize, k: Kind| k.default_bond() && self.arom(l) && self.class(l) == AtomClass::C;
        let sa_any_c = |l: usize, k: Kind| k.default_bond() && self.class(l) == AtomClass::C;
        // O9 [O]=[CH]C, [O]=C(C)([A;!#1]), [O]=[CH][N,O], [O]=[CH2], [O]=[CX2]=O
        if any_carbonyl(&|j| {
            (self.h(j) == 1 && self.matches(j, &[i], &[&sa_c]))
                || self.matches(j, &[i], &[&sa_c, &sa_al])
                || (self.h(j) == 1
                    && self.matches(
                        j,
                        &[i],
                        &[&|l, k| {
                            k.default_bond()
                                && !self.arom(l)
                                && matches!(self.class(l), AtomClass::N | AtomClass::O)
                        }],
                    ))
                || self.h(j) == 2
                || (self.x(j) == 2
                    && self.matches(
                        j,
                        &[i],
                        &[&|l, k| k == Kind::Double && self.aliphatic(l, AtomClass::O)],
                    ))
        }) {
            return -0.1526;
        }
        // O10 [O]=[CH]c, [O]=C([C,c])[a;!#1], [O]=C(c)[A;!#1]
        if any_carbonyl(&|j| {
            (self.h(j) == 1 && self.matches(j, &[i], &[&sa_c_arom]))
                || self.matches(j, &[i], &[&sa_any_c, &sa_arom])
                || self.matches(j, &[i], &[&sa_c_arom, &sa_al])
        }) {
            return 0.1129;
        }
        // O11 [O]=C([!#1;!#6])[!#1;!#6]
        let sa_not_c = |l: usize, k: Kind| k.default_bond() && self.class(l) != AtomClass::C;
        if any_carbonyl(&|j| self.matches(j, &[i], &[&sa_not_c, &sa_not_c])) {
            return 0.4833;
        }
        -0.1188 // OS [#8]
    }

    /// Contribution of each hydrogen on heavy atom `i` (H1-H4, HS).
    fn hydrogen_type(&self, i: usize) -> f64 {
        match (self.class(i), self.arom(i)) {
            (AtomClass::C, _) => 0.123, // H1 [#1][#6]
            // H3 [#1][#7]. RDKit types H on aromatic [nH] as H3 too (measured on the fixture:
            // typing it H2 by `[#1][!C;!N;!O]` is off by 0.4819 on every pyrrole-type N).
            (AtomClass::N, _) => 0.2142,
            (AtomClass::O, false) => {
                let sa =
                    |pred: &dyn Fn(usize) -> bool| self.any(i, &|j, k| k.default_bond() && pred(j));
                // H2 [#1]O[CX4,c], [#1]O[!C;!N;!O;!S] (a second H on water counts).
                if self.h(i) == 2
                    || sa(&|j| {
                        (self.aliphatic(j, AtomClass::C) && self.x(j) == 4)
                            || (self.arom(j) && self.class(j) == AtomClass::C)
                    })
                    || sa(&|j| self.arom(j) || self.class(j) == AtomClass::F)
                {
                    return -0.2677;
                }
                // H3 [#1]O[#7]
                if sa(&|j| self.class(j) == AtomClass::N) {
                    return 0.2142;
                }
                // H4 [#1]OC=[#6,#7,O,S], [#1]O[O,S]
                if sa(&|j| {
                    self.aliphatic(j, AtomClass::C)
                        && self.matches(
                            j,
                            &[i],
                            &[&|l, k| {
                                k == Kind::Double
                                    && match self.class(l) {
                                        AtomClass::C | AtomClass::N => true,
                                        AtomClass::O => !self.arom(l),
                                        _ => false,
                                    }
                            }],
                        )
                }) || sa(&|j| self.aliphatic(j, AtomClass::O))
                {
                    return 0.298;
                }
                0.1125 // HS
            }
            _ => 0.1125, // HS
        }
    }
}

/// Backtracking: an injective assignment of predicates to unused neighbours.
fn assign(nbrs: &[(usize, Kind)], preds: &[Pred<'_>], used: &mut [bool]) -> bool {
    let Some((first, rest)) = preds.split_first() else {
        return true;
    };
    for (idx, &(j, k)) in nbrs.iter().enumerate() {
        if !used[idx] && first(j, k) {
            used[idx] = true;
            if assign(nbrs, rest, used) {
                used[idx] = false;
                return true;
            }
            used[idx] = false;
        }
    }
    false
}
