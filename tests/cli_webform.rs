//! `teachgym render --env webform` writes the form as HTML and the raster view as PNG, and
//! rejects options that do not apply.

use std::process::Command;

#[test]
fn render_writes_the_webform_html_and_png() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("teachgym-cli-webform");
    std::fs::create_dir_all(&dir).unwrap();
    let (html, png) = (dir.join("form.html"), dir.join("form.png"));
    let out = Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(["render", "--env", "webform", "--seed", "3", "--task"])
        .arg("0.4,0.5,0.3,0.5,0.2,0.2,0.2,0.6,0.5")
        .arg("--html")
        .arg(&html)
        .arg("--png")
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("success true"), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<form"));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    std::fs::remove_dir_all(&dir).unwrap();

    let bad = Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(["render", "--env", "webform", "--task", "0.5,2"])
        .args(["--html", "/dev/null"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("9 dimensions"));
}
