//! Parkour's test sets: teachgym's own rule for the walking, swimming and climbing sets of 100
//! tasks each (`examples/test_sets/parkour_{walking,swimming,climbing}.csv`).
//!
//! TeachMyAgent's test-set vectors describe terrains of *its* CPPN weights; with teachgym's own
//! weights they give other terrains, and 40 % of them lie outside the default training space.
//! So teachgym draws its own, inside the default space ([`ParkourConfig::default`]), from one
//! seeded stream per set ([`PARKOUR_TEST_SET_SEED`] plus the skill's index), every value rounded
//! to 4 decimals:
//!
//! | set | CPPN inputs | water level | creepers (width, height, spacing) | scale |
//! |---|---|---|---|---|
//! | walking | uniform in the default box | 0 (dry) | 0.25, 0 (the smallest, far above), 5 | 10 |
//! | swimming | uniform | 1 (water up to the highest ceiling point) | 0.25, 0, 5 | 10 |
//! | climbing | uniform | uniform in [0, 0.8] | 0.25, uniform in [0, 4], uniform in [0, 5] | 10 |
//!
//! A test in `envs/tests/parkour.rs` regenerates the stored files from this rule.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::body::{Embodiment, Locomotion};
use super::env::{ParkourConfig, PARKOUR_DIM_NAMES};

/// Seed of the first set's stream (walking); swimming and climbing add 1 and 2.
pub const PARKOUR_TEST_SET_SEED: u64 = 31;
/// Tasks per Parkour test set.
pub const PARKOUR_TEST_SET_SIZE: usize = 100;

/// What a Parkour test set exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParkourSkill {
    /// Dry tracks: walkers.
    Walking,
    /// Tracks under water: swimmers.
    Swimming,
    /// Water, and creepers of every size: climbers.
    Climbing,
}

impl ParkourSkill {
    /// All three, in file order.
    pub const ALL: [ParkourSkill; 3] = [
        ParkourSkill::Walking,
        ParkourSkill::Swimming,
        ParkourSkill::Climbing,
    ];

    /// `walking`, `swimming` or `climbing`.
    pub fn name(self) -> &'static str {
        match self {
            ParkourSkill::Walking => "walking",
            ParkourSkill::Swimming => "swimming",
            ParkourSkill::Climbing => "climbing",
        }
    }

    /// The set's tasks by the module's rule.
    pub fn tasks(self) -> Vec<[f64; 8]> {
        let space = ParkourConfig::default();
        let mut rng = Pcg64::seed_from_u64(PARKOUR_TEST_SET_SEED + self as u64);
        let round = |v: f64| (v * 1e4).round() / 1e4;
        let uniform = |[low, high]: [f64; 2], rng: &mut Pcg64| {
            round(low + (high - low) * rng.random::<f64>())
        };
        (0..PARKOUR_TEST_SET_SIZE)
            .map(|_| {
                let [a, b, c] = space
                    .input_vector_bounds
                    .map(|bounds| uniform(bounds, &mut rng));
                let (water, height, spacing) = match self {
                    ParkourSkill::Walking => (0.0, 0.0, 5.0),
                    ParkourSkill::Swimming => (1.0, 0.0, 5.0),
                    ParkourSkill::Climbing => (
                        uniform([0.0, 0.8], &mut rng),
                        uniform(space.creepers_height_bounds, &mut rng),
                        uniform(space.creepers_spacing_bounds, &mut rng),
                    ),
                };
                [a, b, c, water, 0.25, height, spacing, 10.0]
            })
            .collect()
    }

    /// The set TeachMyAgent's Parkour protocol tests `body` on: swimmers the swimming set,
    /// climbers the climbing set, walkers and amphibians (bipedal walkers first) the walking set.
    pub fn of(body: Embodiment) -> Self {
        match body.body().locomotion {
            Locomotion::Swimmer => ParkourSkill::Swimming,
            Locomotion::Climber => ParkourSkill::Climbing,
            Locomotion::Walker | Locomotion::Amphibian => ParkourSkill::Walking,
        }
    }

    /// The set as CSV text: a header of the dimension names, then one task per row (the format
    /// `teachgym train --test-set` and `TestSet::from_csv` read).
    pub fn csv(self) -> String {
        let mut text = PARKOUR_DIM_NAMES.join(",");
        text.push('\n');
        for task in self.tasks() {
            let row: Vec<String> = task.iter().map(|v| format!("{v:?}")).collect();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        text
    }
}
