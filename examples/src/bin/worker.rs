//! A barks worker for the example jobs:
//! `cargo run --release --bin worker -- --join HOST:PORT --secret-file PATH`.
//! A worker runs only jobs compiled into it, so it names the crate that
//! defines them.

use examples as _;

fn main() {
    barks::worker_main()
}
