//! The web-form generator's language: our own word lists (names, cities, airports, products,
//! ...), the catalogue of form fields built on them, and the fixed vocabulary that turns every
//! string the env can show into token ids. Everything is compiled into the crate; nothing is
//! read at run time.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// Widget kinds a form field can be rendered as, from the cheapest to solve to the costliest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WidgetKind {
    /// `<input type=text>`: one `Type`.
    Text,
    /// A group of checkboxes, exactly the one labelled with the value must be ticked.
    Checkbox,
    /// A radio group: click the option labelled with the value.
    Radio,
    /// A drop-down list (`<select>`).
    Select,
    /// A text input with a suggestion list; only a picked suggestion counts.
    Autocomplete,
    /// A date input with a calendar pop-up.
    Date,
}

impl WidgetKind {
    /// Non-text kinds in increasing order of the steps they take at the `widget` level.
    pub(crate) const NON_TEXT: [WidgetKind; 5] = [
        WidgetKind::Checkbox,
        WidgetKind::Radio,
        WidgetKind::Select,
        WidgetKind::Autocomplete,
        WidgetKind::Date,
    ];

    /// Lower-case name, used in HTML and in diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            WidgetKind::Text => "text",
            WidgetKind::Checkbox => "checkbox",
            WidgetKind::Radio => "radio",
            WidgetKind::Select => "select",
            WidgetKind::Autocomplete => "autocomplete",
            WidgetKind::Date => "date",
        }
    }
}

/// Where a field's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pool {
    /// Index into [`POOLS`].
    Phrases(usize),
    /// Calendar dates near the form's "today".
    Dates,
}

/// One kind of form field: its key, the other ways to say it, the widgets it may use and its
/// values.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub key: &'static str,
    /// Paraphrases for instruction noise and ambiguous labels; never equal to `key`.
    pub synonyms: &'static [&'static str],
    /// Short form used by ambiguous labels.
    pub abbreviation: &'static str,
    /// Widget kinds the field may be rendered as (every field can be a text input).
    pub kinds: &'static [WidgetKind],
    pub pool: Pool,
}

const FIRST_NAMES: &[&str] = &[
    "ada", "bruno", "carla", "dmitri", "elena", "farid", "greta", "hugo", "ines", "jonas", "kira",
    "luca", "marta", "nadia", "oscar", "paula", "quentin", "rosa", "samir", "tamara", "ulrich",
    "vera", "walter", "ximena", "yusuf", "zoe", "amara", "boris", "celine", "diego", "emil",
    "fatima", "gustav", "hana", "ivan", "julia", "kofi", "lena", "milo", "nora",
];
const LAST_NAMES: &[&str] = &[
    "almeida",
    "brandt",
    "castro",
    "dubois",
    "eriksen",
    "ferreira",
    "gallo",
    "horvath",
    "ibsen",
    "jansen",
    "kowalski",
    "lindqvist",
    "moreau",
    "novak",
    "okafor",
    "petrov",
    "quinn",
    "rossi",
    "schmidt",
    "tanaka",
    "urban",
    "varga",
    "weber",
    "xu",
    "yilmaz",
    "zapata",
    "andersen",
    "bianchi",
    "costa",
    "duarte",
    "engel",
    "fischer",
    "garcia",
    "hoffmann",
    "ivanova",
    "jovanovic",
    "keller",
    "lopez",
    "meyer",
    "nielsen",
];
const CITIES: &[&str] = &[
    "lisbon",
    "porto",
    "madrid",
    "seville",
    "paris",
    "lyon",
    "berlin",
    "hamburg",
    "munich",
    "vienna",
    "prague",
    "warsaw",
    "krakow",
    "budapest",
    "rome",
    "milan",
    "naples",
    "athens",
    "oslo",
    "bergen",
    "stockholm",
    "malmo",
    "helsinki",
    "tallinn",
    "riga",
    "vilnius",
    "dublin",
    "cork",
    "london",
    "leeds",
    "glasgow",
    "brussels",
    "ghent",
    "amsterdam",
    "utrecht",
    "zurich",
    "geneva",
    "basel",
    "zagreb",
    "sofia",
];
const AIRPORTS: &[&str] = &[
    "lis lisbon",
    "opo porto",
    "mad madrid",
    "bcn barcelona",
    "cdg paris",
    "ory orly",
    "ber berlin",
    "ham hamburg",
    "muc munich",
    "vie vienna",
    "prg prague",
    "waw warsaw",
    "bud budapest",
    "fco rome",
    "mxp milan",
    "ath athens",
    "osl oslo",
    "arn stockholm",
    "hel helsinki",
    "dub dublin",
    "lhr heathrow",
    "lgw gatwick",
    "man manchester",
    "edi edinburgh",
    "bru brussels",
    "ams schiphol",
    "zrh zurich",
    "gva geneva",
    "cph copenhagen",
    "kef reykjavik",
];
const COUNTRIES: &[&str] = &[
    "portugal",
    "spain",
    "france",
    "germany",
    "austria",
    "czechia",
    "poland",
    "hungary",
    "italy",
    "greece",
    "norway",
    "sweden",
    "finland",
    "estonia",
    "latvia",
    "lithuania",
    "ireland",
    "belgium",
    "netherlands",
    "switzerland",
    "croatia",
    "bulgaria",
    "romania",
    "denmark",
    "iceland",
    "slovenia",
    "slovakia",
    "serbia",
    "albania",
    "malta",
    "cyprus",
    "luxembourg",
    "canada",
    "mexico",
    "brazil",
    "chile",
    "peru",
    "japan",
    "kenya",
    "morocco",
];
const PRODUCTS: &[&str] = &[
    "desk lamp",
    "coffee grinder",
    "rain jacket",
    "hiking boots",
    "yoga mat",
    "water bottle",
    "travel mug",
    "wool scarf",
    "bike helmet",
    "phone case",
    "laptop stand",
    "wall clock",
    "tea kettle",
    "backpack",
    "sunglasses",
    "umbrella",
    "notebook",
    "fountain pen",
    "headphones",
    "keyboard",
    "bath towel",
    "pillow",
    "frying pan",
    "cutting board",
    "plant pot",
    "candle",
    "picture frame",
    "alarm clock",
    "card game",
    "chess set",
    "tennis racket",
    "swim goggles",
    "camping stove",
    "sleeping bag",
    "flashlight",
    "tool box",
    "garden hose",
    "door mat",
    "shoe rack",
    "bread knife",
];
const COLORS: &[&str] = &[
    "red", "blue", "green", "yellow", "black", "white", "orange", "purple", "grey", "brown",
    "pink", "teal",
];
const SIZES: &[&str] = &["small", "medium", "large", "extra large", "extra small"];
const CABINS: &[&str] = &["economy", "premium economy", "business", "first"];
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const TITLES: &[&str] = &["mr", "ms", "mrs", "dr", "mx", "prof"];
const PAYMENTS: &[&str] = &[
    "credit card",
    "debit card",
    "bank transfer",
    "cash",
    "voucher",
];
const DELIVERY: &[&str] = &["standard", "express", "next day", "pickup", "locker"];
const SEATS: &[&str] = &["window", "aisle", "middle", "exit row"];
const MEALS: &[&str] = &["vegetarian", "vegan", "fish", "chicken", "kosher", "halal"];
const LANGUAGES: &[&str] = &[
    "english",
    "portuguese",
    "spanish",
    "french",
    "german",
    "italian",
    "polish",
    "greek",
    "swedish",
    "finnish",
    "dutch",
    "czech",
];
const TOPICS: &[&str] = &[
    "sports",
    "music",
    "travel",
    "cooking",
    "science",
    "history",
    "gardening",
    "photography",
    "movies",
    "games",
];
const COMPANIES: &[&str] = &[
    "acme",
    "northwind",
    "bluepeak",
    "greenfield",
    "ironbridge",
    "lumen",
    "oakridge",
    "polaris",
    "redwood",
    "silverline",
    "starling",
    "tidewater",
    "brightwave",
    "cobalt",
    "evergreen",
    "foxglove",
    "harbor",
    "kestrel",
    "meridian",
    "orchid",
];
const STREETS: &[&str] = &[
    "main street",
    "oak avenue",
    "river road",
    "hill lane",
    "park way",
    "mill street",
    "church road",
    "station road",
    "lake drive",
    "king street",
    "queen street",
    "elm close",
    "bridge street",
    "market square",
    "garden row",
    "castle hill",
    "harbour road",
    "north lane",
    "south avenue",
    "west street",
];
const USERNAMES: &[&str] = &[
    "ada42", "bruno7", "carla88", "dmitri5", "elena21", "farid3", "greta19", "hugo64", "ines9",
    "jonas11", "kira30", "luca77", "marta2", "nadia15", "oscar8", "paula40", "rosa6", "samir13",
    "vera55", "zoe1",
];
const PETS: &[&str] = &[
    "dog", "cat", "rabbit", "parrot", "hamster", "turtle", "goldfish",
];
const AIRLINES: &[&str] = &[
    "aerolux",
    "skyway",
    "nordair",
    "suncoast",
    "alpine air",
    "blue heron",
    "coral jet",
    "eastwind",
];

/// Every value pool, in a fixed order (the order defines phrase ids).
pub(crate) const POOLS: &[&[&str]] = &[
    FIRST_NAMES,
    LAST_NAMES,
    CITIES,
    AIRPORTS,
    COUNTRIES,
    PRODUCTS,
    COLORS,
    SIZES,
    CABINS,
    NUMBER_WORDS,
    TITLES,
    PAYMENTS,
    DELIVERY,
    SEATS,
    MEALS,
    LANGUAGES,
    TOPICS,
    COMPANIES,
    STREETS,
    USERNAMES,
    PETS,
    AIRLINES,
];

use WidgetKind::{Autocomplete as A, Checkbox as C, Date as D, Radio as R, Select as S, Text as T};

const fn phrases(pool: usize) -> Pool {
    Pool::Phrases(pool)
}

/// The field catalogue. Targets and distractor fields of one form never share an entry.
pub(crate) const CATALOGUE: &[FieldSpec] = &[
    FieldSpec {
        key: "first name",
        synonyms: &["given name", "forename"],
        abbreviation: "fname",
        kinds: &[T],
        pool: phrases(0),
    },
    FieldSpec {
        key: "last name",
        synonyms: &["surname", "family name"],
        abbreviation: "lname",
        kinds: &[T],
        pool: phrases(1),
    },
    FieldSpec {
        key: "city",
        synonyms: &["town", "municipality"],
        abbreviation: "cty",
        kinds: &[T, S, A],
        pool: phrases(2),
    },
    FieldSpec {
        key: "from",
        synonyms: &["origin", "leaving from"],
        abbreviation: "dep",
        kinds: &[T, S, A],
        pool: phrases(3),
    },
    FieldSpec {
        key: "to",
        synonyms: &["destination", "going to"],
        abbreviation: "arr",
        kinds: &[T, S, A],
        pool: phrases(3),
    },
    FieldSpec {
        key: "departure date",
        synonyms: &["outbound day", "depart on"],
        abbreviation: "dep dt",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "return date",
        synonyms: &["inbound day", "come back on"],
        abbreviation: "ret dt",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "birth date",
        synonyms: &["date of birth", "birthday"],
        abbreviation: "dob",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "check in",
        synonyms: &["arrival day", "start of stay"],
        abbreviation: "ci",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "check out",
        synonyms: &["leaving day", "end of stay"],
        abbreviation: "co",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "delivery date",
        synonyms: &["ship on", "dispatch day"],
        abbreviation: "del dt",
        kinds: &[T, D],
        pool: Pool::Dates,
    },
    FieldSpec {
        key: "class",
        synonyms: &["cabin", "fare class"],
        abbreviation: "cls",
        kinds: &[T, S, R],
        pool: phrases(8),
    },
    FieldSpec {
        key: "passengers",
        synonyms: &["travellers", "party size"],
        abbreviation: "pax",
        kinds: &[T, S, R],
        pool: phrases(9),
    },
    FieldSpec {
        key: "country",
        synonyms: &["nation", "country of residence"],
        abbreviation: "ctry",
        kinds: &[T, S, A],
        pool: phrases(4),
    },
    FieldSpec {
        key: "product",
        synonyms: &["item", "article"],
        abbreviation: "prod",
        kinds: &[T, S, A],
        pool: phrases(5),
    },
    FieldSpec {
        key: "color",
        synonyms: &["colour", "shade"],
        abbreviation: "col",
        kinds: &[T, S, R, C],
        pool: phrases(6),
    },
    FieldSpec {
        key: "size",
        synonyms: &["dimension", "fit"],
        abbreviation: "sz",
        kinds: &[T, S, R],
        pool: phrases(7),
    },
    FieldSpec {
        key: "quantity",
        synonyms: &["amount", "how many"],
        abbreviation: "qty",
        kinds: &[T, S, R],
        pool: phrases(9),
    },
    FieldSpec {
        key: "title",
        synonyms: &["salutation", "honorific"],
        abbreviation: "ttl",
        kinds: &[T, S, R],
        pool: phrases(10),
    },
    FieldSpec {
        key: "payment",
        synonyms: &["pay with", "payment method"],
        abbreviation: "pmt",
        kinds: &[T, S, R],
        pool: phrases(11),
    },
    FieldSpec {
        key: "delivery",
        synonyms: &["shipping", "dispatch"],
        abbreviation: "dlv",
        kinds: &[T, S, R],
        pool: phrases(12),
    },
    FieldSpec {
        key: "seat",
        synonyms: &["seat preference", "seating"],
        abbreviation: "st",
        kinds: &[T, S, R],
        pool: phrases(13),
    },
    FieldSpec {
        key: "meal",
        synonyms: &["food", "dinner choice"],
        abbreviation: "ml",
        kinds: &[T, S, R, C],
        pool: phrases(14),
    },
    FieldSpec {
        key: "language",
        synonyms: &["tongue", "spoken language"],
        abbreviation: "lang",
        kinds: &[T, S, R, C, A],
        pool: phrases(15),
    },
    FieldSpec {
        key: "interests",
        synonyms: &["hobbies", "topics"],
        abbreviation: "int",
        kinds: &[T, S, R, C],
        pool: phrases(16),
    },
    FieldSpec {
        key: "company",
        synonyms: &["employer", "organisation"],
        abbreviation: "org",
        kinds: &[T, A],
        pool: phrases(17),
    },
    FieldSpec {
        key: "street",
        synonyms: &["road", "address line"],
        abbreviation: "str",
        kinds: &[T],
        pool: phrases(18),
    },
    FieldSpec {
        key: "username",
        synonyms: &["login", "user id"],
        abbreviation: "usr",
        kinds: &[T],
        pool: phrases(19),
    },
    FieldSpec {
        key: "pet",
        synonyms: &["animal", "companion"],
        abbreviation: "pt",
        kinds: &[T, S, R, C],
        pool: phrases(20),
    },
    FieldSpec {
        key: "airline",
        synonyms: &["carrier", "operator"],
        abbreviation: "air",
        kinds: &[T, S, R, A],
        pool: phrases(21),
    },
];

/// Modifiers that turn a target's key into a confusable sibling label (billing vs shipping).
pub(crate) const SIBLING_MODIFIERS: &[&str] =
    &["previous", "alternate", "billing", "secondary", "other"];

/// Decoy buttons; see `ButtonRole` for what each does.
pub(crate) const DECOY_BUTTONS: &[&str] = &["cancel", "reset", "save draft"];
/// Decoy links; following one leaves the form.
pub(crate) const DECOY_LINKS: &[&str] = &["help", "privacy policy", "terms", "contact us", "home"];

/// Month names, January first.
pub(crate) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// First year the date generator can produce; dates stay within `FIRST_YEAR..=LAST_YEAR`.
pub(crate) const FIRST_YEAR: i32 = 2025;
/// Last year the date generator can produce.
pub(crate) const LAST_YEAR: i32 = 2028;

/// Words of the sentence templates, form titles, navigation and element tags.
const TEMPLATE_WORDS: &str = "please fill in the form with your set to and then submit use as \
    for a enter my is book order register booking complete step of next back submit prev \
    container label text input select checkbox radio date autocomplete button link option \
    suggestion day nav calendar registration details";

/// Fixed vocabulary of the env: id 0 is padding, then every word of the lists above in sorted
/// order. Built once.
pub(crate) struct Vocab {
    ids: HashMap<&'static str, u32, BuildHasherDefault<Fnv1a>>,
    words: Vec<&'static str>,
}

impl Vocab {
    /// Number of ids, padding included (valid ids are `0..size`).
    pub fn size(&self) -> usize {
        self.words.len() + 1
    }

    /// Id of a word; every word the generator produces is in the vocabulary.
    pub fn id(&self, word: &str) -> u32 {
        match self.ids.get(word) {
            Some(&id) => id,
            None => unreachable!("word `{word}` is missing from the compiled vocabulary"),
        }
    }

    /// The word of an id (`""` for padding or unknown ids).
    pub fn word(&self, id: u32) -> &'static str {
        if id == 0 {
            return "";
        }
        self.words.get(id as usize - 1).copied().unwrap_or("")
    }
}

/// FNV-1a: the vocabulary's keys are short, trusted words, for which SipHash's protection
/// against crafted keys only costs time.
#[derive(Default)]
pub(crate) struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The vocabulary, built on first use.
pub(crate) fn vocab() -> &'static Vocab {
    static VOCAB: OnceLock<Vocab> = OnceLock::new();
    VOCAB.get_or_init(|| {
        let mut set: BTreeSet<&'static str> = BTreeSet::new();
        let mut add = |s: &'static str| set.extend(s.split_whitespace());
        for pool in POOLS {
            pool.iter().for_each(|p| add(p));
        }
        for spec in CATALOGUE {
            add(spec.key);
            add(spec.abbreviation);
            spec.synonyms.iter().for_each(|s| add(s));
        }
        for list in [SIBLING_MODIFIERS, DECOY_BUTTONS, DECOY_LINKS, &MONTHS[..]] {
            list.iter().for_each(|s| add(s));
        }
        add(TEMPLATE_WORDS);
        for n in NUMBER_TOKENS.iter() {
            add(n);
        }
        let words: Vec<&'static str> = set.into_iter().collect();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (*w, i as u32 + 1))
            .collect();
        Vocab { ids, words }
    })
}

/// Decimal numbers that can appear: days 1..=31, page counts, years.
const NUMBER_TOKENS: [&str; 35] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
    "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "2025",
    "2026", "2027", "2028",
];

/// The decimal text of `n` for `1 <= n <= 31` or a year in `FIRST_YEAR..=LAST_YEAR`.
pub(crate) fn number_word(n: i32) -> &'static str {
    match n {
        1..=31 => NUMBER_TOKENS[(n - 1) as usize],
        FIRST_YEAR..=LAST_YEAR => NUMBER_TOKENS[(31 + n - FIRST_YEAR) as usize],
        _ => unreachable!("number {n} is outside the generator's range"),
    }
}

/// Id of a phrase: its position in the concatenation of [`POOLS`].
pub(crate) type PhraseId = u16;

/// Phrase table: the text of every pool entry, and each pool's first id.
pub(crate) struct Phrases {
    pub texts: Vec<&'static str>,
    pub pool_start: Vec<PhraseId>,
}

/// The phrase table, built on first use.
pub(crate) fn phrases_table() -> &'static Phrases {
    static PHRASES: OnceLock<Phrases> = OnceLock::new();
    PHRASES.get_or_init(|| {
        let mut texts = Vec::new();
        let mut pool_start = Vec::new();
        for pool in POOLS {
            pool_start.push(texts.len() as PhraseId);
            texts.extend_from_slice(pool);
        }
        Phrases { texts, pool_start }
    })
}

impl Phrases {
    /// The ids of pool `pool`.
    pub fn pool(&self, pool: usize) -> std::ops::Range<PhraseId> {
        let start = self.pool_start[pool];
        start..start + POOLS[pool].len() as PhraseId
    }

    /// Text of a phrase.
    pub fn text(&self, id: PhraseId) -> &'static str {
        self.texts[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        for spec in CATALOGUE {
            assert!(spec.kinds.contains(&WidgetKind::Text), "{}", spec.key);
            assert!(!spec.synonyms.contains(&spec.key), "{}", spec.key);
            assert!(spec.abbreviation != spec.key);
            if let Pool::Phrases(p) = spec.pool {
                // Choice widgets need a handful of distinct options.
                assert!(POOLS[p].len() >= 4, "{}", spec.key);
            }
        }
        for pool in POOLS {
            let unique: BTreeSet<_> = pool.iter().collect();
            assert_eq!(unique.len(), pool.len(), "duplicate in {pool:?}");
        }
    }

    #[test]
    fn vocabulary_round_trips() {
        let v = vocab();
        assert!(v.size() > 300);
        for w in ["lisbon", "2026", "submit", "extra", "31"] {
            assert_eq!(v.word(v.id(w)), w);
        }
        assert_eq!(v.word(0), "");
        assert_eq!(number_word(2028), "2028");
        assert_eq!(number_word(7), "7");
    }
}
