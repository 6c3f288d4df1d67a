//! Shell-like splitting of a command line into words, and the reverse
//! (quoting words so that splitting gives them back).

/// Splits like a POSIX shell without expansions: blanks separate words,
/// `'…'` is literal, `"…"` honours `\"`, `\\`, `\$` and `` \` ``, and a
/// backslash outside quotes makes the next character literal.
pub fn split_words(line: &str) -> Result<Vec<String>, super::CliError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => {
                            return Err(super::CliError::Quote(
                                "unterminated single quote in command line",
                            ));
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => {
                                return Err(super::CliError::Quote(
                                    "unterminated double quote in command line",
                                ));
                            }
                        },
                        Some(c) => cur.push(c),
                        None => {
                            return Err(super::CliError::Quote(
                                "unterminated double quote in command line",
                            ));
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => cur.push(c),
                    None => cur.push('\\'),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Quotes one word for a shell (single quotes when needed).
pub fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '_' | '.' | '/' | ':' | '=' | ',' | '+' | '@' | '%' | '^'
                )
        });
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Joins words into a command line that [`split_words`] splits back.
pub fn render_command_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_words(r#"docker  service create --health-cmd "redis-cli ping" -e 'A=b c' x\ y"#)
                .unwrap(),
            vec![
                "docker",
                "service",
                "create",
                "--health-cmd",
                "redis-cli ping",
                "-e",
                "A=b c",
                "x y"
            ]
        );
        assert_eq!(split_words(r#""a\"b" ''"#).unwrap(), vec![r#"a"b"#, ""]);
        assert!(split_words("docker 'oops").is_err());
        assert!(split_words("docker \"oops").is_err());
    }

    #[test]
    fn render_round_trips() {
        let words = [
            "docker",
            "service",
            "update",
            "--health-cmd",
            "a b",
            "it's",
            "",
        ];
        let line = render_command_line(&words);
        assert_eq!(split_words(&line).unwrap(), words);
        assert_eq!(
            render_command_line(&["docker", "service", "scale", "redis=5"]),
            "docker service scale redis=5"
        );
    }
}
