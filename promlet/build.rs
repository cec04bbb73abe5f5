//! Build information for `/api/v1/status/buildinfo`: the git revision and branch (when built
//! from a git checkout with git installed) and the compiler's version. Anything unavailable
//! is `unknown`; the build never fails for it.

use std::path::Path;
use std::process::Command;

fn main() {
    let revision = git(&["rev-parse", "HEAD"]);
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let compiler = run(&rustc, &["--version"])
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into());
    println!(
        "cargo:rustc-env=PROMLET_REVISION={}",
        revision.unwrap_or_else(|| "unknown".into())
    );
    println!(
        "cargo:rustc-env=PROMLET_BRANCH={}",
        branch.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rustc-env=PROMLET_RUSTC={compiler}");
    watch_git_head();
}

fn git(args: &[&str]) -> Option<String> {
    run("git", args)
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Rebuilds when HEAD moves: HEAD itself, the branch it names, and packed refs. Only files
/// that exist are named, since a missing one would rerun this script on every build.
fn watch_git_head() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else {
        return;
    };
    let git_dir = Path::new(&git_dir);
    let head = git_dir.join("HEAD");
    let mut watch = vec![head.clone(), git_dir.join("packed-refs")];
    if let Some(reference) = std::fs::read_to_string(&head)
        .ok()
        .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or_default();
        watch.push(git_dir.join(&reference));
        watch.push(Path::new(&common).join(&reference));
    }
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
