//! The argv that parses back to a given `cli::Args`: how the orchestrator calls values-merge,
//! so a renamed flag breaks the build or the round-trip test below, never a user's run.

use std::ffi::{OsStr, OsString};

use crate::cli::Args;

impl Args {
    /// The command line (without the program name) that `cli::command()` parses to `self`.
    /// Every value is attached with `=` so one starting with `-` stays a value, and the files
    /// come last, after `--`, so a file named like a flag stays a file.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        let flags: [(&str, &Vec<String>); 6] = [
            ("--set", &self.set),
            ("--set-string", &self.set_string),
            ("--set-json", &self.set_json),
            ("--set-file", &self.set_file),
            ("--set-literal", &self.set_literal),
            ("--unset", &self.unset),
        ];
        for (flag, values) in flags {
            args.extend(values.iter().map(|value| attached(flag, OsStr::new(value))));
        }
        let paths = [
            ("--output", &self.output),
            ("--in-place", &self.in_place),
            ("--defaults", &self.defaults),
            ("--schema", &self.schema),
            ("--diff", &self.diff),
        ];
        for (flag, path) in paths {
            if let Some(path) = path {
                args.push(attached(flag, path.as_os_str()));
            }
        }
        if self.explain {
            args.push("--explain".into());
        }
        args.push(attached("--helm-major", OsStr::new(self.helm_major.as_arg())));
        if !self.files.is_empty() {
            args.push("--".into());
            args.extend(self.files.iter().map(OsString::from));
        }
        args
    }
}

fn attached(flag: &str, value: &OsStr) -> OsString {
    let mut arg = OsString::from(flag);
    arg.push("=");
    arg.push(value);
    arg
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::Parser;

    use super::*;
    use crate::merge::HelmMajor;

    fn check(args: Args) {
        let mut argv = vec![OsString::from("values-merge")];
        argv.extend(args.to_args());
        let parsed = Args::try_parse_from(&argv).unwrap_or_else(|error| panic!("{argv:?}: {error}"));
        assert_eq!(parsed, args, "{argv:?}");
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    /// Every field set, in the two combinations clap allows (`-o` excludes `--in-place`,
    /// `--explain` excludes `--diff`), with values that look like flags.
    #[test]
    fn every_field_round_trips() {
        let full = Args {
            files: strings(&["-", "overrides.yaml", "-looks-like-a-flag.yaml"]),
            set: strings(&["images.airflow.tag=2.10.5", "a=-1,b=x"]),
            set_string: strings(&["c=10"]),
            set_json: strings(&[r#"d={"e":[1]}"#]),
            set_file: strings(&["f=/tmp/a file.pem"]),
            set_literal: strings(&["g=a,b=c"]),
            unset: strings(&["apiServer.service.type", r"podAnnotations.prometheus\.io/scrape"]),
            output: Some(PathBuf::from("out put.yaml")),
            in_place: None,
            defaults: Some(PathBuf::from("chart/values.yaml")),
            schema: Some(PathBuf::from("chart/values.schema.json")),
            explain: true,
            diff: None,
            helm_major: HelmMajor::Four,
        };
        check(full.clone());
        check(Args {
            output: None,
            in_place: Some(PathBuf::from("-values.yaml")),
            explain: false,
            diff: Some(PathBuf::from("before.yaml")),
            helm_major: HelmMajor::Three,
            ..full
        });
    }

    #[test]
    fn nothing_set_round_trips_to_the_defaults() {
        let empty = Args::try_parse_from(["values-merge"]).expect("parses");
        assert_eq!(empty, Args::default(), "Default is the empty command line");
        assert_eq!(empty.to_args(), vec![OsString::from("--helm-major=3")]);
        check(empty);
    }

    #[test]
    fn the_old_helm_spelling_still_parses() {
        let old = Args::try_parse_from(["values-merge", "--helm", "4"]).expect("parses");
        assert_eq!(old.helm_major, HelmMajor::Four);
    }
}
