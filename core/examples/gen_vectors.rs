//! Writes the golden vectors `tests/vectors/*.json`.
//!
//! Run `cargo run -p tablesync --example gen_vectors` after an intended
//! format change; `cargo test -p tablesync --test vectors` fails whenever
//! the files differ from what this generator produces.

#[path = "../tests/vectors_gen/mod.rs"]
mod vectors_gen;

fn main() -> std::io::Result<()> {
    let dir = vectors_gen::vectors_dir();
    std::fs::create_dir_all(&dir)?;
    for (name, text) in vectors_gen::generate_all() {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
