//! Nothing here: the crate exists for its test, `tests/platform`, which starts the
//! whole platform with `scripts/up.sh` on ports of its own and checks every link of the
//! data path from a burst of load to the replica count the HPA would compute.
