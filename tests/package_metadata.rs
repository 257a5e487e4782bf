//! One version number for the crate and every package (pom.xml, the nuspec and csproj,
//! the C# assembly, package.json and its lockfile, CHANGELOG.md), one license, and the
//! metadata each registry reads (issue 13 part 8). Reads the files; builds nothing.

use std::fs;
use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = "MIT OR Apache-2.0";

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The text between `<tag>` and `</tag>` after the first occurrence of `after`.
fn xml_after(text: &str, after: &str, tag: &str) -> String {
    let from = text.find(after).unwrap_or_else(|| panic!("{after} not found"));
    let rest = &text[from..];
    let open = format!("<{tag}>");
    let start = rest.find(&open).unwrap_or_else(|| panic!("<{tag}> not found after {after}")) + open.len();
    let end = rest[start..].find(&format!("</{tag}>")).unwrap() + start;
    rest[start..end].trim().to_string()
}

#[test]
fn every_package_has_the_crates_version() {
    let pom = read("bindings/java/pom.xml");
    assert_eq!(xml_after(&pom, "<artifactId>paytrim-auth</artifactId>", "version"), VERSION, "pom.xml");

    let nuspec = read("bindings/csharp/Paytrim.Auth.nuspec");
    assert_eq!(xml_after(&nuspec, "<metadata>", "version"), VERSION, "Paytrim.Auth.nuspec");
    let csproj = read("bindings/csharp/Paytrim.Auth.csproj");
    assert_eq!(xml_after(&csproj, "<PropertyGroup>", "Version"), VERSION, "Paytrim.Auth.csproj");
    let info = read("bindings/csharp/src/AssemblyInfo.cs");
    for attr in [
        format!("AssemblyInformationalVersion(\"{VERSION}\")"),
        format!("AssemblyVersion(\"{VERSION}.0\")"),
        format!("AssemblyFileVersion(\"{VERSION}.0\")"),
    ] {
        assert!(info.contains(&attr), "AssemblyInfo.cs lacks {attr}");
    }

    let package: serde_json::Value = serde_json::from_str(&read("bindings/node/package.json")).unwrap();
    assert_eq!(package["version"], VERSION, "package.json");
    let lock: serde_json::Value = serde_json::from_str(&read("bindings/node/package-lock.json")).unwrap();
    assert_eq!(lock["version"], VERSION, "package-lock.json");
    assert_eq!(lock["packages"][""]["version"], VERSION, "package-lock.json packages[\"\"]");

    let changelog = read("CHANGELOG.md");
    assert!(changelog.contains(&format!("\n## [{VERSION}] - ")), "CHANGELOG.md has no section for {VERSION}");
    assert!(changelog.contains(&format!("\n[{VERSION}]: ")), "CHANGELOG.md has no link for {VERSION}");
}

#[test]
fn one_license_everywhere() {
    assert_eq!(env!("CARGO_PKG_LICENSE"), LICENSE);
    let package: serde_json::Value = serde_json::from_str(&read("bindings/node/package.json")).unwrap();
    assert_eq!(package["license"], LICENSE, "package.json");
    let nuspec = read("bindings/csharp/Paytrim.Auth.nuspec");
    assert!(nuspec.contains(&format!("<license type=\"expression\">{LICENSE}</license>")), "nuspec license");
    let pom = read("bindings/java/pom.xml");
    assert!(pom.contains("<name>MIT</name>") && pom.contains("<name>Apache-2.0</name>"), "pom.xml licenses");
}

#[test]
fn each_registry_finds_its_metadata() {
    let pom = read("bindings/java/pom.xml");
    for needle in [
        "<Automatic-Module-Name>com.paytrim.auth</Automatic-Module-Name>",
        "<Enable-Native-Access>ALL-UNNAMED</Enable-Native-Access>",
        "<artifactId>maven-source-plugin</artifactId>",
        "<artifactId>maven-javadoc-plugin</artifactId>",
        "<scm>",
        "<url>https://github.com/paytrim/paytrim-auth</url>",
    ] {
        assert!(pom.contains(needle), "pom.xml lacks {needle}");
    }

    let nuspec = read("bindings/csharp/Paytrim.Auth.nuspec");
    for needle in ["<repository type=\"git\" url=", "<releaseNotes>", "<projectUrl>", "target=\"runtimes\""] {
        assert!(nuspec.contains(needle), "nuspec lacks {needle}");
    }

    let package: serde_json::Value = serde_json::from_str(&read("bindings/node/package.json")).unwrap();
    assert_eq!(package["types"], "index.d.ts");
    assert_eq!(package["exports"]["."]["types"], "./index.d.ts");
    assert_eq!(package["exports"]["."]["require"], "./index.js");
    assert_eq!(package["exports"]["."]["import"], "./index.mjs");
    assert!(package["engines"]["node"].is_string());
    let list = |k: &str| -> Vec<String> {
        package[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(list("os"), ["linux", "darwin", "win32"]);
    assert_eq!(list("cpu"), ["x64", "arm64"]);
    assert_eq!(package["scripts"]["prepack"], "node scripts/prepack.js");
}
