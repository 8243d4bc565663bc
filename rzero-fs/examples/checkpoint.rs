//! Writes a checkpoint directory crash-safely, then verifies it as a resume
//! would. Run: `cargo run -p rzero-fs --example checkpoint`.

use rzero_fs::{StagedDir, verify_dir, write_atomic, write_json};

fn main() -> Result<(), rzero_fs::FsError> {
    let root = std::env::temp_dir().join(format!("rzero-fs-example-{}", std::process::id()));
    let staged = StagedDir::create(root.join("step_000"))?;
    write_atomic(staged.path().join("weights.bin"), &[0u8; 1024])?;
    write_json(staged.path().join("trainer.json"), &[("steps", 1)])?;
    let dir = staged.commit()?;
    let manifest = verify_dir(&dir)?;
    for f in &manifest.files {
        tracing::info!(name = %f.name, size = f.size, crc32 = %f.crc32, "sealed");
    }
    rzero_fs::remove_dir(&root)?;
    Ok(())
}
