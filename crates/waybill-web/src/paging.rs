//! Paged lists: the `page` a URL asks for, clamped to the pages there are. Whatever is typed
//! (`9223372036854775807`, `-3`, `two`), the answer is a page that exists, and the list says
//! which one it shows instead.

/// One page of a list of `total` rows, `per_page` a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paging {
    /// 1-based, never past the last page.
    pub page: i64,
    /// At least 1 (an empty list has one empty page).
    pub pages: i64,
    pub per_page: i64,
    pub total: i64,
    /// What was asked for when it was not a page of this list.
    asked: Option<String>,
}

impl Paging {
    /// `raw` is the query string's `page`, as sent (absent or blank: the first page).
    pub fn clamp(raw: Option<&str>, total: i64, per_page: i64) -> Paging {
        let per_page = per_page.max(1);
        let total = total.max(0);
        let pages = (total / per_page + i64::from(total % per_page != 0)).max(1);
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        let wanted = match raw {
            None => Some(1),
            // All digits but too large for i64 is still "a page past the end".
            Some(r) if r.bytes().all(|b| b.is_ascii_digit()) => Some(r.parse().unwrap_or(i64::MAX)),
            Some(_) => None,
        };
        let page = match wanted {
            Some(n) if n > pages => pages,
            Some(n) if n >= 1 => n,
            _ => 1,
        };
        let asked = match (raw, wanted) {
            (Some(_), Some(n)) if n == page => None,
            (Some(r), _) => {
                let digits = r.strip_prefix('-').unwrap_or(r);
                let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                // Only a number is repeated back; other text is not worth showing.
                Some(if numeric {
                    r.chars().take(24).collect()
                } else {
                    String::new()
                })
            }
            (None, _) => None,
        };
        Paging {
            page,
            pages,
            per_page,
            total,
            asked,
        }
    }

    /// Rows to skip: at most `total`, so it cannot overflow.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// "There is no page 99: showing page 3 of 3." when the page asked for was not there.
    pub fn notice(&self) -> Option<String> {
        let (page, pages) = (self.page, self.pages);
        self.asked.as_deref().map(|a| match a {
            "" => format!("That is not a page number: showing page {page} of {pages}."),
            n => format!("There is no page {n}: showing page {page} of {pages}."),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_that_exist_are_kept() {
        let p = Paging::clamp(Some("2"), 51, 25);
        assert_eq!((p.page, p.pages, p.offset()), (2, 3, 25));
        assert_eq!(p.notice(), None);
        let first = Paging::clamp(None, 0, 25);
        assert_eq!((first.page, first.pages, first.offset()), (1, 1, 0));
        assert_eq!(Paging::clamp(Some(" "), 10, 25).notice(), None);
    }

    #[test]
    fn anything_else_is_clamped_and_said() {
        for (raw, total, page) in [
            ("9223372036854775807", 51, 3),
            ("99999999999999999999999", 51, 3),
            ("4", 51, 3),
            ("9223372036854775807", 0, 1),
            ("0", 51, 1),
            ("-1", 51, 1),
            ("-9223372036854775808", 51, 1),
            ("two", 51, 1),
            ("1e3", 51, 1),
            ("\u{0}", 51, 1),
        ] {
            let p = Paging::clamp(Some(raw), total, 25);
            assert_eq!(p.page, page, "{raw:?}");
            assert!(p.offset() <= total && p.offset() >= 0, "{raw:?}");
            let n = p.notice().unwrap_or_else(|| panic!("{raw:?}: no notice"));
            assert!(
                n.ends_with(&format!("showing page {page} of {}.", p.pages)),
                "{n}"
            );
        }
    }
}
