//! A pflag-style flag parser (spf13/pflag as the docker CLI uses it):
//! `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `-f=value`,
//! grouped boolean shorthands (`-dq`), `--` to end flags, and pflag's own
//! error texts. Flags docker has but the simulator does not model are
//! refused with a message naming them.

use super::{CliError, InvalidArgument};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagDef {
    pub name: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    /// `false`: docker has the flag, swarmsim does not model it.
    pub supported: bool,
}

pub const fn val(name: &'static str) -> FlagDef {
    FlagDef {
        name,
        short: None,
        kind: Kind::Value,
        supported: true,
    }
}

pub const fn boolean(name: &'static str) -> FlagDef {
    FlagDef {
        name,
        short: None,
        kind: Kind::Bool,
        supported: true,
    }
}

pub const fn short(mut def: FlagDef, c: char) -> FlagDef {
    def.short = Some(c);
    def
}

/// A docker flag the simulator does not model.
pub const fn unsupported(name: &'static str) -> FlagDef {
    FlagDef {
        name,
        short: None,
        kind: Kind::Value,
        supported: false,
    }
}

/// One flag occurrence, in command-line order.
#[derive(Debug, Clone, PartialEq)]
pub struct Given {
    pub def: FlagDef,
    pub value: String,
}

impl Given {
    /// How pflag names the flag in messages: `--name` or `-e, --env`.
    pub fn display(&self) -> String {
        match self.def.short {
            Some(c) => format!("-{c}, --{}", self.def.name),
            None => format!("--{}", self.def.name),
        }
    }

    /// pflag's `invalid argument` wrapper around a value error.
    pub fn invalid(&self, err: impl std::fmt::Display) -> CliError {
        CliError::InvalidArgument(InvalidArgument::new(&self.value, self.display(), err))
    }

    pub fn as_bool(&self) -> Result<bool, CliError> {
        parse_go_bool(&self.value).ok_or_else(|| {
            self.invalid(format!(
                "strconv.ParseBool: parsing \"{}\": invalid syntax",
                self.value
            ))
        })
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

pub struct Parsed {
    pub flags: Vec<Given>,
    pub args: Vec<String>,
}

impl Parsed {
    pub fn last(&self, name: &str) -> Option<&Given> {
        self.flags.iter().rev().find(|g| g.def.name == name)
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Given> + 'a {
        self.flags.iter().filter(move |g| g.def.name == name)
    }
    /// Value of a boolean flag (`false` when not given).
    pub fn bool(&self, name: &str) -> Result<bool, CliError> {
        match self.last(name) {
            Some(g) => g.as_bool(),
            None => Ok(false),
        }
    }
}

/// Parses `args` against `defs`. With `interspersed == false` (docker
/// `service create`), the first positional argument ends the flags.
pub fn parse(args: &[String], defs: &[FlagDef], interspersed: bool) -> Result<Parsed, CliError> {
    let mut flags = Vec::new();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(def) = defs.iter().find(|d| d.name == name) else {
                return Err(CliError::UnknownFlag(name.to_string()));
            };
            if !def.supported {
                return Err(CliError::UnsupportedFlag(def.name));
            }
            let value = match (def.kind, inline) {
                (_, Some(v)) => v,
                (Kind::Bool, None) => "true".to_string(),
                (Kind::Value, None) => {
                    let Some(v) = args.get(i) else {
                        return Err(CliError::NeedsArgument(format!("--{name}")));
                    };
                    i += 1;
                    v.clone()
                }
            };
            flags.push(Given { def: *def, value });
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let shorts: Vec<char> = arg[1..].chars().collect();
            let mut k = 0;
            while k < shorts.len() {
                let c = shorts[k];
                let Some(def) = defs.iter().find(|d| d.short == Some(c)) else {
                    return Err(CliError::UnknownShorthand {
                        short: c,
                        arg: arg.clone(),
                    });
                };
                if !def.supported {
                    return Err(CliError::UnsupportedFlag(def.name));
                }
                let rest: String = shorts[k + 1..].iter().collect();
                if let Some(v) = rest.strip_prefix('=') {
                    flags.push(Given {
                        def: *def,
                        value: v.to_string(),
                    });
                    break;
                }
                match def.kind {
                    Kind::Bool => {
                        flags.push(Given {
                            def: *def,
                            value: "true".to_string(),
                        });
                        k += 1;
                    }
                    Kind::Value => {
                        let value = if !rest.is_empty() {
                            rest
                        } else if let Some(v) = args.get(i) {
                            i += 1;
                            v.clone()
                        } else {
                            return Err(CliError::NeedsArgument(format!("'{c}' in -{c}")));
                        };
                        flags.push(Given { def: *def, value });
                        break;
                    }
                }
            }
            continue;
        }
        positional.push(arg.clone());
        if !interspersed {
            positional.extend(args[i..].iter().cloned());
            break;
        }
    }
    Ok(Parsed {
        flags,
        args: positional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFS: &[FlagDef] = &[
        short(boolean("detach"), 'd'),
        short(boolean("quiet"), 'q'),
        short(val("env"), 'e'),
        val("name"),
        unsupported("mount"),
    ];

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn pflag_forms() {
        let p = parse(
            &words("--name=a -e X=1 -eY=2 -e=Z=3 -dq img cmd --x"),
            DEFS,
            false,
        )
        .unwrap();
        let vals: Vec<_> = p
            .flags
            .iter()
            .map(|g| (g.def.name, g.value.as_str()))
            .collect();
        assert_eq!(
            vals,
            vec![
                ("name", "a"),
                ("env", "X=1"),
                ("env", "Y=2"),
                ("env", "Z=3"),
                ("detach", "true"),
                ("quiet", "true")
            ]
        );
        assert_eq!(p.args, words("img cmd --x"));
        let p = parse(&words("a --detach=false b"), DEFS, true).unwrap();
        assert_eq!(p.args, words("a b"));
        assert!(!p.bool("detach").unwrap());
    }

    #[test]
    fn pflag_errors() {
        let e = |s: &str| parse(&words(s), DEFS, true).err().unwrap().to_string();
        assert_eq!(e("--foo"), "unknown flag: --foo");
        assert_eq!(e("-x"), "unknown shorthand flag: 'x' in -x");
        assert_eq!(e("-dx"), "unknown shorthand flag: 'x' in -dx");
        assert_eq!(e("--name"), "flag needs an argument: --name");
        assert_eq!(e("-e"), "flag needs an argument: 'e' in -e");
        assert_eq!(
            e("--mount type=bind"),
            "flag --mount is not supported by swarmsim"
        );
        let p = parse(&words("--detach=maybe"), DEFS, true).unwrap();
        assert_eq!(
            p.bool("detach").unwrap_err().to_string(),
            "invalid argument \"maybe\" for \"-d, --detach\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }
}
