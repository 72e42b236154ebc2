//! Romanising Chinese for carriers' systems: Hanyu Pinyin without tone marks, plain ASCII,
//! each word capitalised; digits and Latin text the seller wrote are kept.
//!
//! Word split: a personal name is surname + given name (`王小明` → `Wang Xiaoming`); a place
//! is its proper name, then each generic part as its own word (`科技园南路 18号` →
//! `Keji Yuan Nan Lu 18 Hao`, `深圳市` → `Shenzhen Shi`, or `Shenzhen` as a city).

use pinyin::ToPinyin;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A person: surname, then given name.
    Name,
    /// A company: its name as a place is split, the legal form translated (`Co., Ltd.`).
    Company,
    /// A street, district or building.
    Place,
    /// A city: as a place, without a trailing 市.
    City,
    /// A province or state: as a place, without a trailing 省, 市 or 自治区.
    Province,
}

/// Surnames of two characters (taken before the single ones).
const COMPOUND_SURNAMES: [&str; 16] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "司徒", "令狐", "夏侯", "公孙", "尉迟",
    "长孙", "宇文", "轩辕", "端木",
];

/// Surnames read otherwise than the dictionary's first choice (only as a surname).
const SURNAMES: [(&str, &str); 14] = [
    ("曾", "zeng"),
    ("单", "shan"),
    ("解", "xie"),
    ("区", "ou"),
    ("仇", "qiu"),
    ("朴", "piao"),
    ("查", "zha"),
    ("乐", "yue"),
    ("盖", "ge"),
    ("翟", "zhai"),
    ("覃", "qin"),
    ("缪", "miao"),
    ("尉迟", "yu chi"),
    ("长孙", "zhang sun"),
];

/// Words the dictionary's first reading gets wrong: well-known places and buildings.
const WORDS: [(&str, &str); 8] = [
    ("重庆", "chong qing"),
    ("厦门", "xia men"),
    ("大厦", "da sha"),
    ("蚌埠", "beng bu"),
    ("银行", "yin hang"),
    ("六安", "lu an"),
    ("番禺", "pan yu"),
    ("长沙", "chang sha"),
];

/// Generic place words of more than one character: one word each.
const PLACE_WORDS: [&str; 16] = [
    "特别行政区",
    "自治区",
    "自治州",
    "开发区",
    "工业区",
    "工业园",
    "大道",
    "大街",
    "大厦",
    "广场",
    "小区",
    "花园",
    "单元",
    "社区",
    "新区",
    "中心",
];
/// Generic place parts that end a proper name of two or more characters (`南山` + `区`).
const PLACE_SUFFIXES: &str = "省市区县镇乡村路街道巷弄园";
/// Units after a number (`18号`, `3栋`): always a word of their own.
const UNITS: &str = "号楼栋幢座层室";
const DIRECTIONS: &str = "东南西北中";

/// Legal forms of companies, longest first, and how they are written in English.
const LEGAL_FORMS: [(&str, &str); 5] = [
    ("股份有限公司", "Co., Ltd."),
    ("有限责任公司", "Co., Ltd."),
    ("有限公司", "Co., Ltd."),
    ("集团", "Group"),
    ("公司", "Co."),
];

/// Whether a character is a Chinese character the romaniser reads.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Full-width forms and Chinese punctuation as the ASCII a carrier's system takes.
fn narrow(c: char) -> Option<char> {
    let u = c as u32;
    Some(match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u - 0xFEE0)?,
        '\u{3000}' | '·' | '・' => ' ',
        '、' => ',',
        '。' => '.',
        '—' | '–' => '-',
        '【' | '「' | '《' => '(',
        '】' | '」' | '》' => ')',
        c => c,
    })
}

/// Accented Latin letters folded to plain ASCII; anything else outside ASCII is dropped.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à'..='å' => "a",
        'À'..='Å' => "A",
        'è'..='ë' => "e",
        'È'..='Ë' => "E",
        'ì'..='ï' => "i",
        'Ì'..='Ï' => "I",
        'ò'..='ö' | 'ø' => "o",
        'Ò'..='Ö' | 'Ø' => "O",
        'ù'..='ü' => "u",
        'Ù'..='Ü' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' => "Y",
        'ñ' => "n",
        'Ñ' => "N",
        'ç' => "c",
        'Ç' => "C",
        'ß' => "ss",
        _ => return None,
    })
}

/// Pinyin syllables of a word: known words first, then each character's first reading.
fn syllables(word: &[char], table: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < word.len() {
        for (w, reading) in table {
            let n = w.chars().count();
            if word.len() >= i + n && word[i..i + n].iter().copied().eq(w.chars()) {
                out.extend(reading.split(' ').map(String::from));
                i += n;
                continue 'outer;
            }
        }
        if let Some(p) = word[i].to_pinyin() {
            // ü only follows l and n in pinyin; written "yu" there, as Chinese passports do.
            out.push(p.plain().replace('ü', "yu"));
        }
        i += 1;
    }
    out
}

/// One capitalised word of the syllables, with an apostrophe where a syllable starting
/// with a vowel would run into the one before it (`Xi'an`).
fn word_of(chars: &[char], table: &[(&str, &str)]) -> String {
    let mut w = String::new();
    for s in syllables(chars, table) {
        if !w.is_empty() && s.starts_with(['a', 'e', 'o']) {
            w.push('\'');
        }
        w.push_str(&s);
    }
    let mut cs = w.chars();
    match cs.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
        None => w,
    }
}

/// A proper name of one to three characters is one word; a longer one is split in pairs,
/// as most Chinese words have two characters.
fn push_stem(words: &mut Vec<Vec<char>>, stem: &mut Vec<char>) {
    let mut rest = &stem[..];
    while rest.len() > 3 {
        words.push(rest[..2].to_vec());
        rest = &rest[2..];
    }
    if !rest.is_empty() {
        words.push(rest.to_vec());
    }
    stem.clear();
}

/// Splits a run of Chinese characters written as a place into words.
fn place_words(run: &[char]) -> Vec<Vec<char>> {
    let mut words = Vec::new();
    let mut stem: Vec<char> = Vec::new();
    let mut i = 0;
    while i < run.len() {
        if let Some(w) = PLACE_WORDS.iter().find(|w| {
            run[i..]
                .iter()
                .copied()
                .take(w.chars().count())
                .eq(w.chars())
        }) {
            push_stem(&mut words, &mut stem);
            words.push(w.chars().collect());
            i += w.chars().count();
            continue;
        }
        let c = run[i];
        let street = "路街道巷".contains(c);
        if UNITS.contains(c) {
            push_stem(&mut words, &mut stem);
            words.push(vec![c]);
        } else if PLACE_SUFFIXES.contains(c)
            && (stem.len() >= 2 || (street && stem.len() == 1 && DIRECTIONS.contains(stem[0])))
        {
            // 中山东路: the direction is a word of its own, between the name and the road.
            let direction = match stem.last() {
                Some(&d) if street && stem.len() >= 3 && DIRECTIONS.contains(d) => stem.pop(),
                _ => None,
            };
            push_stem(&mut words, &mut stem);
            words.extend(direction.map(|d| vec![d]));
            words.push(vec![c]);
        } else {
            stem.push(c);
        }
        i += 1;
    }
    push_stem(&mut words, &mut stem);
    words
}

fn name_words(run: &[char]) -> Vec<Vec<char>> {
    let compound = COMPOUND_SURNAMES
        .iter()
        .any(|s| run.len() > 2 && run[..2].iter().copied().eq(s.chars()));
    let cut = if compound { 2 } else { 1 }.min(run.len());
    let (surname, given) = run.split_at(cut);
    [surname.to_vec(), given.to_vec()]
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect()
}

/// Latin text for `s`: the seller's own Latin words where the field is bilingual
/// (`深圳灯饰 Shenzhen Lights` → `Shenzhen Lights`), else the pinyin of the Chinese.
pub fn romanise(s: &str, kind: Kind) -> String {
    let text: String = s.chars().filter_map(narrow).collect();
    let mut text = text.trim().to_string();
    let (strip, legal): (&[&str], Option<&str>) = match kind {
        Kind::City => (&["市"], None),
        Kind::Province => (&["特别行政区", "自治区", "省", "市"], None),
        Kind::Company => (&[], {
            let found = LEGAL_FORMS.iter().find(|(f, _)| text.ends_with(f));
            if let Some((f, _)) = found {
                text.truncate(text.len() - f.len());
            }
            found.map(|(_, en)| *en)
        }),
        _ => (&[], None),
    };
    for suffix in strip {
        if let Some(rest) = text.strip_suffix(suffix) {
            if rest.chars().filter(|c| is_han(*c)).count() >= 2 {
                text = rest.to_string();
                break;
            }
        }
    }
    let has_han = text.chars().any(is_han);
    let bilingual = has_han
        && text
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.chars().count() >= 2);
    let mut tokens: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let han = is_han(chars[i]);
        let start = i;
        while i < chars.len() && is_han(chars[i]) == han {
            i += 1;
        }
        let run = &chars[start..i];
        if !han {
            tokens.push(run.iter().collect());
        } else if !bilingual {
            if kind == Kind::Name {
                let words = name_words(run);
                for (n, w) in words.iter().enumerate() {
                    tokens.push(word_of(w, if n == 0 { &SURNAMES } else { &WORDS }));
                }
            } else {
                tokens.extend(place_words(run).iter().map(|w| word_of(w, &WORDS)));
            }
        }
    }
    tokens.extend(legal.map(String::from));
    let joined = tokens.join(" ");
    let mut ascii = String::new();
    for c in joined.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            ascii.push(c);
        } else if let Some(f) = fold(c) {
            ascii.push_str(f);
        }
    }
    let mut out = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [(" ,", ","), ("( ", "("), (" )", ")"), (",,", ",")] {
        out = out.replace(from, to);
    }
    out.trim_matches([',', ' ', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_surname_then_given_name() {
        assert_eq!(romanise("王小明", Kind::Name), "Wang Xiaoming");
        assert_eq!(romanise("李伟", Kind::Name), "Li Wei");
        assert_eq!(romanise("欧阳娜娜", Kind::Name), "Ouyang Nana");
        assert_eq!(romanise("曾小贤", Kind::Name), "Zeng Xiaoxian");
        assert_eq!(romanise("吕小红", Kind::Name), "Lyu Xiaohong");
    }

    #[test]
    fn places_keep_numbers_and_split_generic_parts() {
        assert_eq!(romanise("深圳", Kind::City), "Shenzhen");
        assert_eq!(romanise("深圳市", Kind::City), "Shenzhen");
        assert_eq!(romanise("广东省", Kind::Province), "Guangdong");
        assert_eq!(romanise("重庆市", Kind::City), "Chongqing");
        assert_eq!(romanise("西安", Kind::City), "Xi'an");
        assert_eq!(
            romanise("科技园南路 18号", Kind::Place),
            "Keji Yuan Nan Lu 18 Hao"
        );
        assert_eq!(
            romanise("南山区中山东路１８号3栋502室", Kind::Place),
            "Nanshan Qu Zhongshan Dong Lu 18 Hao 3 Dong 502 Shi"
        );
        assert_eq!(
            romanise("深南大道（A座）", Kind::Place),
            "Shennan Dadao (A Zuo)"
        );
    }

    #[test]
    fn companies_translate_the_legal_form() {
        assert_eq!(
            romanise("深圳灯饰有限公司", Kind::Company),
            "Shenzhen Dengshi Co., Ltd."
        );
    }

    #[test]
    fn bilingual_fields_keep_the_sellers_latin() {
        assert_eq!(romanise("李伟 Li Wei", Kind::Name), "Li Wei");
        assert_eq!(
            romanise("深圳灯饰 Shenzhen Lights", Kind::Company),
            "Shenzhen Lights"
        );
    }

    #[test]
    fn output_is_plain_ascii() {
        for s in ["王小明", "Zoë 深圳", "ｶﾀｶﾅ 東京都", "𠀋", "【测试】，。"]
        {
            let r = romanise(s, Kind::Place);
            assert!(r.is_ascii(), "{s} → {r}");
        }
    }
}
