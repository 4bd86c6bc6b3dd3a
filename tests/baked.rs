//! A network baked into the binary: `examples/generated/iris_net.rs`, written by
//! `examples/10_export.rs` from a trained model, is a `static` built by `const fn`s. It equals
//! the trained model (saved beside it in the own format) bit for bit, gives the same outputs
//! bit for bit, and exporting it again gives the same bytes.

use constnet::io::rust_source::to_rust;
use constnet::{Dense, Layer, Params, Relu, Zeros, seq};

type IrisNet = seq![Dense<4, 16, Relu>, Dense<16, 3>];

include!("../examples/generated/iris_net.rs");

const SOURCE: &str = include_str!("../examples/generated/iris_net.rs");
const WEIGHTS: &[u8] = include_bytes!("../examples/generated/iris_net.cnet");

/// The trained model as `10_export` saved it.
fn trained() -> IrisNet {
    let mut net = IrisNet::zeros();
    constnet::io::read_from(&mut net, WEIGHTS).unwrap();
    net
}

fn bits(net: &IrisNet) -> Vec<u32> {
    net.tensors().flatten().map(|v| v.to_bits()).collect()
}

#[test]
fn the_baked_network_is_the_trained_one_bit_for_bit() {
    let trained = trained();
    assert_eq!(bits(&NET), bits(&trained));
    // Outputs on every iris row (raw features: the values do not matter, the bits do).
    let csv = include_str!("../examples/data/iris.csv");
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let v: Vec<f32> = line
            .split(',')
            .take(4)
            .map(|f| f.parse().unwrap())
            .collect();
        let x = [v[0], v[1], v[2], v[3]];
        let (baked, original) = (NET.forward(&x), trained.forward(&x));
        assert_eq!(baked.map(f32::to_bits), original.map(f32::to_bits));
        rows += 1;
    }
    assert_eq!(rows, 150);
}

#[test]
fn exporting_the_baked_network_gives_the_same_bytes() {
    assert_eq!(to_rust(&NET, "NET", "IrisNet"), SOURCE);
    assert_eq!(to_rust(&trained(), "NET", "IrisNet"), SOURCE);
}
