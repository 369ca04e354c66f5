//! Generates the protobuf messages of Tablestore's wide-column API from the
//! service's published `.proto` files, with a pure-Rust compiler (no `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/table_store.proto", "proto/table_store_filter.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
