//! Fleets: `update --all`, `clusters list`, `refresh` and `prune` across the regions and projects of
//! `emulator serve --fleet`, names that stay unique, one back-off for the whole run, a progress bar only on
//! a terminal — kubectl judging the files.
// Unix only: kubectl and `script` (a terminal) as Linux CI runs them (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, Faults, FleetSize, RejectStatus, Trigger};
use serde_json::Value;

use crate::cli_update_support::{BIN, KUBECTL, Run};

/// An emulator serving `size`, a temporary HOME, and the CLI pointed at both with the fleet's key.
struct Fleet {
    emu: EmulatorHandle,
    home: tempfile::TempDir,
}

impl Fleet {
    fn new(size: &str, faults: Faults) -> Fleet {
        let size: FleetSize = size.parse().expect("fleet size");
        let emu = Emulator::builder()
            .fleet(size)
            .expect("fleet")
            .faults(faults)
            .start_background()
            .expect("emulator starts");
        Fleet {
            emu,
            home: tempfile::tempdir().expect("temporary HOME"),
        }
    }

    fn file(&self) -> std::path::PathBuf {
        self.home.path().join("fleet.yaml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", self.emu.access_key())
            .env("HUAWEICLOUD_SDK_SK", self.emu.secret_key())
            .args([
                "--endpoint",
                self.emu.url(),
                "--iam-endpoint",
                self.emu.url(),
            ])
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("cce-autopilot runs"))
    }

    fn update(&self, extra: &[&str]) -> Run {
        let file = self.file();
        let mut args = vec![
            "kubeconfig",
            "update",
            "--all",
            "--kubeconfig",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn contexts(&self, file: &Path) -> Vec<String> {
        let out = Command::new(KUBECTL)
            .env_clear()
            .env("HOME", self.home.path())
            .args([OsStr::new("--kubeconfig"), file.as_os_str()])
            .args(["config", "get-contexts", "-o", "name"])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn update_all_covers_every_project_of_every_region_with_names_that_stay_apart() {
    let fleet = Fleet::new("3x2x3", Faults::none());
    let run = fleet.update(&["--all-regions", "--all-projects", "--format", "json"]);
    run.success("fleet update");
    let contexts = fleet.contexts(&fleet.file());
    let mut distinct = contexts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((contexts.len(), distinct.len()), (18, 18), "{contexts:?}");
    // The default project keeps today's names (scope = region); a sub-project's carry its name.
    for name in [
        "cce_cn-north-1_app-1_internal",
        "cce_cn-north-1_p2_app-1_internal",
        "cce_cn-north-4_p2_app-3_internal",
    ] {
        assert!(contexts.iter().any(|c| c == name), "{name} in {contexts:?}");
    }
    let report = json(&run);
    let fleet_report = &report["fleet"];
    let clusters = fleet_report["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 18);
    assert!(
        clusters.iter().all(|c| c["outcome"] == "ok"),
        "{clusters:?}"
    );
    assert_eq!(clusters[3]["project"], "cn-north-1_p2");
    assert_eq!(clusters[3]["region"], "cn-north-1");
    // --all-regions asked for every region of the table: those without a project are skipped, not failed.
    let skipped = fleet_report["skipped-regions"].as_array().unwrap();
    assert_eq!(
        skipped.len(),
        cce_autopilot::region::known_regions().count() - 3
    );
    assert_eq!(fleet_report["throttling"]["waits"], 0);
    // Every certificate is the one its own project's cluster issued.
    let ids = fleet.emu.cluster_ids().to_vec();
    assert!(
        ids.iter().all(|id| fleet.emu.issued(id) == 1),
        "one certificate per cluster"
    );
}

#[test]
fn regions_select_default_projects_and_a_region_without_one_is_skipped() {
    let fleet = Fleet::new("2x3x2", Faults::none());
    let run = fleet.update(&["--regions", "cn-north-2,cn-east-3"]);
    run.success("update --regions");
    let contexts = fleet.contexts(&fleet.file());
    assert_eq!(
        contexts,
        [
            "cce_cn-north-2_app-1_internal",
            "cce_cn-north-2_app-2_internal"
        ]
    );
    assert!(
        run.stderr.contains("note: 1 region skipped") && run.stderr.contains("cn-east-3"),
        "{}",
        run.stderr
    );

    let list = fleet.run(&[
        "clusters",
        "list",
        "--regions",
        "cn-north-1",
        "--all-projects",
        "--format",
        "json",
    ]);
    list.success("clusters list --all-projects");
    let rows = json(&list);
    let projects: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["project"].as_str().unwrap())
        .collect();
    assert_eq!(
        projects,
        [
            "cn-north-1",
            "cn-north-1",
            "cn-north-1_p2",
            "cn-north-1_p2",
            "cn-north-1_p3",
            "cn-north-1_p3"
        ]
    );
    let table = fleet.run(&["clusters", "list", "--all-projects"]);
    table.success("clusters list table");
    assert_eq!(table.stdout.lines().count(), 1 + 12, "{}", table.stdout);
    assert!(table.stdout.starts_with("REGION"), "{}", table.stdout);
}

#[test]
fn a_name_template_names_every_entry_and_collisions_are_refused_before_any_certificate() {
    let fleet = Fleet::new("1x2x2", Faults::none());
    let clash = fleet.update(&["--all-projects", "--name-template", "{region}-{name}"]);
    clash.code(2, "colliding template");
    assert!(
        clash.stderr.contains("the same name cn-north-1-app-1"),
        "{}",
        clash.stderr
    );
    assert!(
        fleet
            .emu
            .cluster_ids()
            .iter()
            .all(|id| fleet.emu.issued(id) == 0),
        "nothing fetched"
    );
    assert!(!fleet.file().exists(), "nothing written");

    let run = fleet.update(&[
        "--all-projects",
        "--name-template",
        "{project}.{name}",
        "--context-namespace",
        "team-a",
    ]);
    run.success("templated update");
    let contexts = fleet.contexts(&fleet.file());
    assert_eq!(
        contexts,
        [
            "cn-north-1.app-1",
            "cn-north-1.app-2",
            "cn-north-1_p2.app-1",
            "cn-north-1_p2.app-2"
        ]
    );
    let text = std::fs::read_to_string(fleet.file()).unwrap();
    assert_eq!(text.matches("namespace: team-a").count(), 4, "{text}");
    let bad = fleet.update(&["--all-projects", "--context-namespace", "Team_A"]);
    bad.code(2, "bad namespace");
}

#[test]
fn fleet_options_refuse_a_fixed_project_and_need_all() {
    let fleet = Fleet::new("1x1x1", Faults::none());
    let file = fleet.file();
    let run = fleet.run(&[
        "--project-id",
        fleet.emu.project_id(),
        "kubeconfig",
        "update",
        "--all",
        "--all-projects",
        "--kubeconfig",
        file.to_str().unwrap(),
    ]);
    run.code(2, "--project-id with fleet options");
    assert!(run.stderr.contains("drop --project-id"), "{}", run.stderr);
    let run = fleet.run(&[
        "kubeconfig",
        "update",
        "--cluster",
        "app-1",
        "--regions",
        "cn-north-1",
    ]);
    run.code(2, "fleet options without --all");
    assert_eq!(fleet.emu.request_count(), 0, "refused before any request");
}

#[test]
fn throttling_every_tenth_call_slows_the_whole_run_and_loses_no_cluster() {
    let faults = Faults::none()
        .with_reject(Trigger::Every(10), RejectStatus::TooManyRequests)
        .with_retry_after(std::time::Duration::from_secs(1));
    let fleet = Fleet::new("2x2x6", faults);
    let run = fleet.update(&["--all-regions", "--all-projects", "--format", "json"]);
    run.success("throttled fleet update");
    assert_eq!(fleet.contexts(&fleet.file()).len(), 24);
    let report = json(&run);
    let throttling = &report["fleet"]["throttling"];
    let refused = fleet
        .emu
        .requests()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(refused >= 2, "the emulator refused {refused} calls");
    assert_eq!(throttling["waits"], refused, "{throttling}");
    assert!(
        throttling["paused-seconds"].as_f64().unwrap() >= 1.0,
        "{throttling}"
    );
    let text = fleet.update(&["--all-regions", "--all-projects"]);
    text.success("throttled fleet update, text");
    assert!(text.stderr.contains("throttled "), "{}", text.stderr);
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_and_never_on_a_pipe() {
    // 50 ms per call and 2 calls at a time: long enough for the bar to be drawn.
    let fleet = Fleet::new(
        "1x2x6",
        Faults::none().with_latency(std::time::Duration::from_millis(50)),
    );
    let piped = fleet.update(&["--all-projects", "--concurrency", "2"]);
    piped.success("piped");
    assert!(
        !piped.stderr.contains("fetching kubeconfigs") && !piped.stderr.contains('\r'),
        "{}",
        piped.stderr
    );

    // `script` gives the command a terminal and copies what it draws to its stdout.
    let file = fleet.home.path().join("tty.yaml");
    let command = fleet.command(&[
        "kubeconfig",
        "update",
        "--all",
        "--all-projects",
        "--concurrency",
        "2",
        "--kubeconfig",
        file.to_str().unwrap(),
    ]);
    let mut line: Vec<String> = vec![command.get_program().to_string_lossy().into_owned()];
    line.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    let quoted: Vec<String> = line
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let mut script = Command::new("/usr/bin/script");
    // A terminal as users have it: indicatif draws nothing for TERM=dumb or none.
    script.env_clear().env("TERM", "xterm");
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    let out = script
        .args(["-qefc", &quoted.join(" "), "/dev/null"])
        .output()
        .expect("script runs");
    let drawn = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{drawn}");
    assert!(
        drawn.contains("fetching kubeconfigs"),
        "no bar on a terminal: {drawn}"
    );
}

#[test]
fn without_region_or_endpoint_a_fleet_reaches_each_region_through_its_own_endpoint() {
    let fleet = Fleet::new("2x1x1", Faults::none());
    let url = fleet.emu.url().to_owned();
    // No --endpoint, no --region: each region's endpoint comes from the SDK's variable for it.
    let out = Command::new(BIN)
        .env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .env("HOME", fleet.home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("HUAWEICLOUD_SDK_AK", fleet.emu.access_key())
        .env("HUAWEICLOUD_SDK_SK", fleet.emu.secret_key())
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &url)
        .env("HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_1", &url)
        .env("HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_2", &url)
        .args([
            "clusters",
            "list",
            "--regions",
            "cn-north-1,cn-north-2",
            "--format",
            "json",
        ])
        .output()
        .expect("cce-autopilot runs");
    let run = Run::from(out);
    run.success("fleet list by regions");
    let rows = json(&run);
    let regions: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["cn-north-1", "cn-north-2"]);
}

#[test]
fn exec_entries_of_a_fleet_ask_in_their_own_project() {
    let fleet = Fleet::new("1x2x1", Faults::none());
    fleet
        .update(&["--all-projects", "--exec"])
        .success("fleet update --exec");
    let file: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(fleet.file()).unwrap()).unwrap();
    let users = file["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    let mut projects = Vec::new();
    for user in users {
        let args: Vec<&str> = user["user"]["exec"]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let at = args
            .iter()
            .position(|a| *a == "--project-id")
            .expect("--project-id");
        projects.push(args[at + 1].to_owned());
        assert!(
            args.windows(2).any(|w| w == ["--region", "cn-north-1"]),
            "{args:?}"
        );
    }
    projects.sort();
    projects.dedup();
    assert_eq!(
        projects.len(),
        2,
        "each entry names its own project: {projects:?}"
    );
}
