//! `ossd fsck`: runs the engine's consistency check on a data dir and reports it for people and scripts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "\
What --repair does: it deletes blobs that no object and no part of an open multipart upload names (what a write \
interrupted by a crash leaves; nothing can read them). It never changes or deletes an object or part record: one \
whose blob is missing, has the wrong size or fails its checksum is reported with its bucket and key, for you to \
restore (from a backup) or delete through the API. A missing blob may only be out of reach (an unmounted disk), and \
a record removed for it could not be brought back.

fsck takes the data dir's lock: it refuses to run while a server (or another fsck) has the data dir open, and a \
server cannot start while it runs.

Exit status: 0 clean; 1 problems found and all repaired; 4 problems left (found without --repair, or not \
repairable); 8 the check could not run.")]
pub struct FsckArgs {
    /// The data directory to check.
    #[arg(long, env = "OSSD_DATA", default_value = "./ossd-data")]
    data: PathBuf,
    /// Delete unreferenced blobs (see below); damaged records are only reported.
    #[arg(long)]
    repair: bool,
}

pub fn run(a: FsckArgs) -> ExitCode {
    check(&a.data, a.repair)
}

fn check(data: &Path, repair: bool) -> ExitCode {
    let report = match ossd_engine::fsck::check(data, repair) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ossd fsck: {e}");
            return ExitCode::from(8);
        }
    };
    for p in &report.problems {
        let fixed = if repair && p.repairable() { " [deleted]" } else { "" };
        println!("{p}{fixed}");
    }
    let left = report.problems.len() - report.repaired;
    println!(
        "ossd fsck {}: {} objects, {} upload parts, {} blobs, {} bytes checked; {} problems, {} repaired, {} left",
        data.display(),
        report.objects,
        report.parts,
        report.blobs,
        report.bytes_checked,
        report.problems.len(),
        report.repaired,
        left
    );
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else if left == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::from(4)
    }
}
