//! "did you mean ...?": the closest of a few known names to a mistyped one.

/// The candidate closest to `name` by edit distance, when it is close enough to be the
/// likely intent (at most a third of the name's length, and at least one edit allowed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&name.to_lowercase(), &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance: insertions, deletions and substitutions each count one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push((previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_likely_intent_only() {
        let keys = ["namespace", "release", "chart", "subPath"];
        assert_eq!(closest("namspace", keys), Some("namespace"));
        assert_eq!(closest("subpath", keys), Some("subPath"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(edit_distance("gitsnyc", "gitsync"), 2);
        assert_eq!(edit_distance("abc", ""), 3);
    }
}
