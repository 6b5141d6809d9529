//! The tool when the GPU fails under it, and processes sharing the on-disk pipeline cache:
//!
//! * the device destroyed in the middle of `svd --backend gpu` (the tool's fault-injection
//!   variable, see `cli/src/fault.rs`): exit 2, one line naming the device loss, nothing
//!   written;
//! * two processes compiling into one cache directory at once, one of them killed at a random
//!   moment, many times: the survivor's results are right, and every cache entry on disk is
//!   whole (its envelope's length and checksum match), so no process ever reads a torn entry.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli::{Scratch, assert_error, assert_success, entries, run_env};
use common::matrices::{Rng, gaussian_row_major};
use common::svd::{load_f32, save};

#[test]
fn device_lost_mid_run_is_exit_2_with_nothing_written() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("device_lost");
    let input = s.path("a.npy");
    // Seconds of multi-dispatch work on lavapipe (a round trip per sweep).
    let (count, m, n) = (256, 48, 48);
    save(
        &input,
        &[count, m, n],
        &gaussian_row_major(count as usize, 48, 48, 9),
    );
    for delay in ["0", "30", "150"] {
        let out = s.path(&format!("out-{delay}"));
        let started = Instant::now();
        let result = run_env(
            &[
                "svd".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
                "--backend".as_ref(),
                "gpu".as_ref(),
            ],
            &[("BATCHED_SVD_FAULT_DESTROY_DEVICE_MS", delay)],
        );
        assert_error(&result, "device lost");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the lost device made the tool hang"
        );
        assert!(
            !out.exists() || entries(&out).is_empty(),
            "destroyed after {delay} ms: files written: {:?}",
            entries(&out)
        );
    }
}

/// Whether `file` is a whole cache entry: the library's envelope (magic `BSVDPC01`, the data's
/// length, its FNV-1a checksum) around exactly that many bytes.
fn whole_entry(file: &[u8]) -> bool {
    if file.len() < 24 || &file[..8] != b"BSVDPC01" {
        return false;
    }
    let word = |i: usize| u64::from_le_bytes(file[i..i + 8].try_into().unwrap());
    let data = &file[24..];
    let fnv = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    word(8) == data.len() as u64 && word(16) == fnv
}

#[test]
fn processes_sharing_the_pipeline_cache_never_see_a_torn_entry() {
    if common::gpu().is_none() {
        return;
    }
    let s = Scratch::new("shared_cache");
    let cache = s.path("cache");
    fs::create_dir_all(&cache).unwrap();
    let cache_env = cache.to_str().unwrap().to_string();
    let tool = env!("CARGO_BIN_EXE_batched-svd");
    let spawn = |input: &Path, out: &Path| {
        Command::new(tool)
            .args([
                "svd".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ])
            .args(["--backend", "gpu"])
            .env("BATCHED_SVD_CACHE_DIR", &cache_env)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the tool")
    };
    let mut rng = Rng::new(77);
    let mut kills = 0;
    for round in 0..20usize {
        // New shapes every round, so both processes compile (and save the cache) every time.
        let (ma, na) = (3 + round % 9, 2 + round % 7);
        let (mb, nb) = (2 + round % 5, 4 + round % 11);
        let a = s.path(&format!("a{round}.npy"));
        let b = s.path(&format!("b{round}.npy"));
        save(
            &a,
            &[64, ma as u64, na as u64],
            &gaussian_row_major(64, ma, na, round as u64),
        );
        let b_data = gaussian_row_major(64, mb, nb, 100 + round as u64);
        save(&b, &[64, mb as u64, nb as u64], &b_data);
        let (out_a, out_b) = (s.path(&format!("oa{round}")), s.path(&format!("ob{round}")));
        let mut victim = spawn(&a, &out_a);
        let survivor = spawn(&b, &out_b);
        // Kill the first one at a random moment of its start-up, compile and cache save.
        std::thread::sleep(Duration::from_millis(rng.next_u64() % 400));
        if victim.try_wait().unwrap().is_none() {
            victim.kill().unwrap();
            kills += 1;
        }
        let _ = victim.wait();
        let done = survivor.wait_with_output().unwrap();
        assert_success(&done);
        // The survivor's σ against nalgebra in f64.
        let (_, sigma) = load_f32(&out_b.join("s.npy"));
        let k = mb.min(nb);
        for i in 0..64 {
            let mat =
                nalgebra::DMatrix::from_row_slice(mb, nb, &b_data[i * mb * nb..(i + 1) * mb * nb])
                    .map(f64::from);
            let reference = mat.singular_values();
            for j in 0..k {
                let got = f64::from(sigma[i * k + j]);
                assert!(
                    (got - reference[j]).abs() <= 1e-4 * reference[0],
                    "round {round} matrix {i}: σ {got} vs {}",
                    reference[j]
                );
            }
        }
        // Every entry on disk is whole; temporaries of the killed writer are not entries.
        for file in fs::read_dir(&cache).unwrap().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") {
                continue;
            }
            let bytes = fs::read(file.path()).unwrap();
            assert!(
                whole_entry(&bytes),
                "round {round}: cache entry {name} is torn or damaged"
            );
        }
    }
    eprintln!("{kills} of 20 rounds killed a process mid-run");
    let whole = fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .filter(|f| !f.file_name().to_string_lossy().contains(".tmp"))
        .count();
    assert!(
        whole >= 1,
        "no cache entry was ever written: the test saw nothing"
    );
    // A process started after all this reads the cache and works.
    let c = s.path("c.npy");
    save(&c, &[8, 4, 4], &gaussian_row_major(8, 4, 4, 5));
    let out = s.path("oc");
    let last = Command::new(tool)
        .args([
            "svd".as_ref(),
            c.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ])
        .args(["--backend", "gpu"])
        .env("BATCHED_SVD_CACHE_DIR", &cache_env)
        .output()
        .unwrap();
    assert_success(&last);
}
