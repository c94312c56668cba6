//! No input may panic: mutated YAML and JSON go through every reader and writer.
//!
//! The mutations are deterministic (a fixed-seed generator), so a failure is reproducible.

use chartup::yaml::{self, JsonOpts};

const SEED_DOC: &str = "a: yes\nb:\n  - 1\n  - 'two'\n  - \"th\\tree\"\n  - {x: [1, 2], y: ~}\nc: |\n  lit\n   more\nd: >-\n  folded\n  text\ne: &anc {k: v}\nf:\n  <<: *anc\n  g: 0x1F\n\"é😀\": 1.5e3\n? [k]\n: v\n# comment\nh: !!str 12\n";

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const PIECES: &[&str] = &[
    ":",
    " ",
    "\n",
    "\t",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "#",
    "&a",
    "*a",
    "!!",
    "|",
    ">",
    "?",
    "---",
    "...",
    "%YAML 1.1",
    "<<: ",
    "\\",
    "\u{85}",
    "\u{feff}",
    "😀",
    "0x",
    "1e999",
    ".inf",
    "~",
    "\r\n",
    "  ",
];

fn exercise(text: &str) {
    if let Ok(v) = yaml::from_str(text) {
        let _ = yaml::to_yaml(&v);
        let _ = yaml::to_yaml_pretty(&v);
        let _ = yaml::to_json(
            &v,
            JsonOpts {
                escape_html: true,
                indent: true,
            },
        );
        let _ = yaml::to_toml(&v);
    }
    let _ = yaml::from_str_typed(text);
    let _ = yaml::from_str_multi(text);
    let _ = yaml::from_json(text);
    let _ = yaml::from_json_partial(text);
}

#[test]
fn mutated_documents_never_panic() {
    let mut rng = Lcg(0x5eed);
    for _ in 0..3000 {
        let mut chars: Vec<char> = SEED_DOC.chars().collect();
        let edits = 1 + rng.next() % 4;
        for _ in 0..edits {
            let pos = (rng.next() as usize) % (chars.len() + 1);
            match rng.next() % 3 {
                0 if pos < chars.len() => {
                    chars.remove(pos);
                }
                1 => {
                    let piece = PIECES[(rng.next() as usize) % PIECES.len()];
                    for (k, c) in piece.chars().enumerate() {
                        chars.insert(pos + k, c);
                    }
                }
                _ => {
                    if pos < chars.len() {
                        chars[pos] = PIECES[(rng.next() as usize) % PIECES.len()]
                            .chars()
                            .next()
                            .unwrap_or(' ');
                    }
                }
            }
        }
        let text: String = chars.into_iter().collect();
        exercise(&text);
    }
}

#[test]
fn json_documents_never_panic() {
    let seed = r#"{"a":[1,2.5e3,-0,"x\u00e9\ud83d\ude00",true,null],"b":{"c":"\\\"","d":{}}}"#;
    let mut rng = Lcg(42);
    for _ in 0..3000 {
        let mut bytes: Vec<char> = seed.chars().collect();
        for _ in 0..(1 + rng.next() % 3) {
            let pos = (rng.next() as usize) % bytes.len();
            let c = ['"', '\\', '{', '}', '[', ']', ',', ':', 'u', 'e', '-', '0', ' ', 'é'][(rng.next() as usize) % 14];
            if rng.next() % 2 == 0 {
                bytes[pos] = c;
            } else {
                bytes.insert(pos, c);
            }
        }
        let text: String = bytes.into_iter().collect();
        exercise(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(yaml::from_str(&deep).is_err());
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(yaml::from_json(&deep_json).is_err());
}

#[test]
fn deepest_accepted_json_can_be_written() {
    // Just inside the parser's limit: every writer must cope (or refuse) without overflowing.
    let text = format!("{}1{}", "[".repeat(999), "]".repeat(999));
    let v = yaml::from_json(&text).expect("999 levels are accepted");
    let _ = yaml::to_yaml(&v);
    let _ = yaml::to_yaml_pretty(&v);
    let _ = yaml::to_json(&v, JsonOpts::default());
    let _ = yaml::to_toml(&v);
    let obj = format!("{}1{}", "{\"a\":".repeat(999), "}".repeat(999));
    let v = yaml::from_json(&obj).expect("999 levels are accepted");
    let _ = yaml::to_yaml(&v);
    let _ = yaml::to_yaml_pretty(&v);
    let _ = yaml::to_json(&v, JsonOpts::default());
    let _ = yaml::to_toml(&v);
}

#[test]
fn deep_but_reasonable_values_are_written() {
    // 290 levels: below the writers' limit, and within a test thread's 2 MiB stack.
    let obj = format!("{}1{}", "{\"a\":".repeat(290), "}".repeat(290));
    let v = yaml::from_json(&obj).expect("parses");
    assert!(yaml::to_yaml(&v).is_ok());
    assert!(yaml::to_yaml_pretty(&v).is_ok());
    assert!(yaml::to_json(&v, JsonOpts::default()).is_ok());
    assert!(yaml::to_toml(&v).is_ok());
}
