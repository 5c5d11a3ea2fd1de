//! `--agency NAME` and the `--agency-*` options that follow it: clap collects each option's values, this
//! groups them in command-line order, so that `--agency A --agency-domain-id X --agency B
//! --agency-domain-name Y` is A in account X, then B (assumed with A's credentials) in account Y.

use std::ffi::OsString;
use std::time::Duration;

use cce_autopilot::Agency;
use cce_autopilot_kubeconfig::managed::{AgencyMark, IdentityMark};

/// One `--agency` with its options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgencyArg {
    /// `--agency`.
    pub name: String,
    /// `--agency-domain-id`.
    pub domain_id: Option<String>,
    /// `--agency-domain-name`.
    pub domain_name: Option<String>,
    /// `--agency-duration`.
    pub duration: Option<Duration>,
    /// `--agency-session-name`.
    pub session_name: Option<String>,
}

impl AgencyArg {
    /// The library's agency; an error names what is missing.
    pub fn to_agency(&self) -> Result<Agency, String> {
        let agency = match (&self.domain_id, &self.domain_name) {
            (Some(id), None) => Agency::in_domain_id(&self.name, id),
            (None, Some(name)) => Agency::in_domain_name(&self.name, name),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "--agency {} takes --agency-domain-id or --agency-domain-name, not both",
                    self.name
                ));
            }
            (None, None) => {
                return Err(format!(
                    "--agency {} needs the account it is in: --agency-domain-id ID (STS) or \
                     --agency-domain-name NAME (IAM) after it",
                    self.name
                ));
            }
        };
        let agency = match self.duration {
            Some(d) => agency.duration_secs(u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
            None => agency,
        };
        Ok(match &self.session_name {
            Some(name) => agency.session_name(name),
            None => agency,
        })
    }

    /// The options that give this agency again, in order (for an exec entry), as `--flag=value`: a value
    /// that starts with `-` stays a value.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![format!("--agency={}", self.name)];
        let options = [
            ("--agency-domain-id", self.domain_id.clone()),
            ("--agency-domain-name", self.domain_name.clone()),
            (
                "--agency-duration",
                self.duration.map(|d| format!("{}s", d.as_secs())),
            ),
            ("--agency-session-name", self.session_name.clone()),
        ];
        for (flag, value) in options {
            if let Some(value) = value {
                args.push(format!("{flag}={value}"));
            }
        }
        args
    }
}

impl From<&AgencyArg> for AgencyMark {
    fn from(a: &AgencyArg) -> Self {
        AgencyMark::new(&a.name, a.domain_id.clone(), a.domain_name.clone()).with_session(
            a.duration
                .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
            a.session_name.clone(),
        )
    }
}

impl From<&AgencyMark> for AgencyArg {
    fn from(a: &AgencyMark) -> Self {
        AgencyArg {
            name: a.name.clone(),
            domain_id: a.domain_id.clone(),
            domain_name: a.domain_name.clone(),
            duration: a.duration_secs.map(|s| Duration::from_secs(u64::from(s))),
            session_name: a.session_name.clone(),
        }
    }
}

/// The identity of a profile and agencies, as owner marks record it (`None`: the default chain).
pub fn identity_of(profile: Option<&String>, agencies: &[AgencyArg]) -> Option<IdentityMark> {
    IdentityMark::of(
        profile.cloned(),
        agencies.iter().map(AgencyMark::from).collect(),
    )
}

/// The agencies of a command line (the program name first), in order; an `--agency-*` option before any
/// `--agency`, or given twice for one agency, is an error.
pub fn agencies_in(args: impl IntoIterator<Item = OsString>) -> Result<Vec<AgencyArg>, String> {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut out: Vec<AgencyArg> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--agency") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        if !matches!(
            flag,
            "--agency"
                | "--agency-domain-id"
                | "--agency-domain-name"
                | "--agency-duration"
                | "--agency-session-name"
        ) {
            i += 1;
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => {
                i += 1;
                args.get(i).cloned().unwrap_or_default()
            }
        };
        i += 1;
        if flag == "--agency" {
            out.push(AgencyArg {
                name: value,
                ..AgencyArg::default()
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            return Err(format!(
                "{flag} must follow the --agency NAME it belongs to"
            ));
        };
        let twice = || format!("--agency {} has {flag} twice", current.name);
        match flag {
            "--agency-domain-id" if current.domain_id.is_none() => current.domain_id = Some(value),
            "--agency-domain-name" if current.domain_name.is_none() => {
                current.domain_name = Some(value);
            }
            "--agency-duration" if current.duration.is_none() => {
                current.duration = Some(
                    super::parse_duration(&value).map_err(|e| format!("--agency-duration: {e}"))?,
                );
            }
            "--agency-session-name" if current.session_name.is_none() => {
                current.session_name = Some(value);
            }
            _ => return Err(twice()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Vec<AgencyArg>, String> {
        agencies_in(line.split(' ').map(OsString::from))
    }

    #[test]
    fn each_agency_takes_the_options_that_follow_it() {
        let got = parse(
            "cce-autopilot --agency a --agency-domain-id X kubeconfig get --agency=b \
             --agency-domain-name=Y --agency-duration 2h --agency-session-name s1 --cluster c",
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].name.as_str(), got[0].domain_id.as_deref()),
            ("a", Some("X"))
        );
        assert_eq!(got[1].domain_name.as_deref(), Some("Y"));
        assert_eq!(got[1].duration, Some(Duration::from_secs(7200)));
        assert_eq!(
            got[1].to_args(),
            [
                "--agency=b",
                "--agency-domain-name=Y",
                "--agency-duration=7200s",
                "--agency-session-name=s1"
            ]
        );
        assert!(
            parse("x --agency-domain-id X --agency a")
                .unwrap_err()
                .contains("must follow")
        );
        assert!(
            parse("x --agency a --agency-domain-id X --agency-domain-id Z")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            parse("x --agency a").unwrap()[0]
                .to_agency()
                .unwrap_err()
                .contains("needs the account")
        );
        assert!(parse("x -- --agency a").unwrap().is_empty());
    }
}
