// Rebuild when a static file is added or changed: they are embedded at compile time.
fn main() {
    println!("cargo:rerun-if-changed=../../static");
}
