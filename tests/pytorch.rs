//! PyTorch interchange: real safetensors files written by PyTorch (`tests/fixtures/`) load
//! into typed networks that reproduce PyTorch's own outputs, and files written by constnet
//! load back bit for bit.
#![cfg(feature = "safetensors")]

use constnet::init::{self, Init};
use constnet::safetensors::{self as st, Keys};
use constnet::{BatchNorm, Dense, Dropout, Identity, Layer, Params, Relu, Scalar, Tanh, seq};

/// The fixture's bytes.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `(inputs, outputs)` of every line of a fixture's expected file.
fn expected(name: &str) -> Vec<(Vec<f64>, Vec<f64>)> {
    let text = String::from_utf8(fixture(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (x, y) = line.split_once(" | ").expect("input | output");
            let parse = |s: &str| {
                s.split_whitespace()
                    .map(|v| v.parse::<f64>().unwrap())
                    .collect()
            };
            (parse(x), parse(y))
        })
        .collect()
}

/// Runs every expected line through `net` and checks each output within `rel` relative
/// error (with a floor of `rel` for outputs near zero); returns the number of rows.
fn check_outputs<const IN: usize, const OUT: usize, T: Scalar, N>(
    net: &N,
    file: &str,
    rel: f64,
) -> usize
where
    N: Layer<Input = [T; IN], Output = [T; OUT]>,
{
    let rows = expected(file);
    assert!(!rows.is_empty());
    let mut worst = 0.0f64;
    for (x, want) in &rows {
        let x: [T; IN] = core::array::from_fn(|i| T::from_f64(x[i]));
        let y = net.forward(&x);
        assert_eq!(want.len(), OUT);
        for (got, want) in y.iter().zip(want) {
            let err = (Scalar::to_f64(*got) - want).abs() / want.abs().max(1.0);
            worst = worst.max(err);
        }
    }
    assert!(
        worst <= rel,
        "{file}: worst relative error {worst:e} > {rel:e}"
    );
    rows.len()
}

type Iris = seq![Dense<4, 16, Relu>, Dense<16, 3>];
type IrisBn = seq![Dense<4, 16>, BatchNorm<16>, constnet::ActivationLayer<Relu, 16>, Dense<16, 3>];
type Digits = seq![Dense<64, 32, Tanh, f64>, Dense<32, 10, Identity, f64>];

#[test]
fn iris_f32_reproduces_pytorch() {
    let mut net = Iris::zeros_for_test();
    st::load_into(&mut net, &fixture("iris_4_16_3_relu_f32.safetensors")).unwrap();
    assert_eq!(
        check_outputs(&net, "iris_4_16_3_relu_f32.expected.txt", 1e-5),
        150
    );
}

#[test]
fn digits_f64_reproduces_pytorch() {
    let mut net = Digits::zeros_for_test();
    st::load_into(&mut net, &fixture("digits_64_32_10_tanh_f64.safetensors")).unwrap();
    check_outputs(&net, "digits_64_32_10_tanh_f64.expected.txt", 1e-12);
}

#[test]
fn f64_file_loads_into_an_f32_network() {
    type Digits32 = seq![Dense<64, 32, Tanh>, Dense<32, 10>];
    let mut net = Digits32::zeros_for_test();
    st::load_into(&mut net, &fixture("digits_64_32_10_tanh_f64.safetensors")).unwrap();
    check_outputs(&net, "digits_64_32_10_tanh_f64.expected.txt", 1e-5);
}

#[test]
fn f32_file_loads_into_an_f64_network() {
    type Iris64 = seq![Dense<4, 16, Relu, f64>, Dense<16, 3, Identity, f64>];
    let mut net = Iris64::zeros_for_test();
    st::load_into(&mut net, &fixture("iris_4_16_3_relu_f32.safetensors")).unwrap();
    check_outputs(&net, "iris_4_16_3_relu_f32.expected.txt", 1e-5);
}

#[test]
fn batch_norm_with_running_statistics_reproduces_pytorch() {
    let mut net = IrisBn::zeros_for_test();
    st::load_into(&mut net, &fixture("iris_4_16bn_3_relu_f32.safetensors")).unwrap();
    let bn = &net.second.first;
    assert!(bn.num_batches_tracked > 0, "num_batches_tracked loaded");
    assert!(
        bn.running_var().iter().all(|&v| v != 1.0),
        "running statistics loaded"
    );
    check_outputs(&net, "iris_4_16bn_3_relu_f32.expected.txt", 1e-5);
    // Written back with the same keys (num_batches_tracked included) and read bit for bit.
    let bytes = st::to_bytes(&net).unwrap();
    let mut again = IrisBn::zeros_for_test();
    st::load_into(&mut again, &bytes).unwrap();
    assert_eq!(again, net);
    let keys = keys_of(&bytes);
    assert_eq!(
        keys,
        [
            "0.bias",
            "0.weight",
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight",
            "3.bias",
            "3.weight"
        ]
    );
    assert_eq!(
        keys,
        keys_of(&fixture("iris_4_16bn_3_relu_f32.safetensors"))
    );
}

/// The sorted keys of a safetensors file (parsed by the `safetensors` crate).
fn keys_of(bytes: &[u8]) -> Vec<String> {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().map(String::from).collect();
    names.sort();
    names
}

#[test]
fn wrong_width_names_the_tensor_and_both_shapes_and_leaves_the_model() {
    let mut net: Iris = init::seeded(Init::HeUniform, 3);
    let before = net;
    let err = st::load_into(
        &mut net,
        &fixture("iris_4_20_3_relu_f32_for_mismatch.safetensors"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "0.weight: expected [16, 4] f32, found [20, 4] f32");
    assert_eq!(net, before);
}

#[test]
fn missing_extra_and_misshaped_tensors_are_errors_naming_them() {
    let source: seq![Dense<4, 8, Tanh>, Dense<8, 8, Relu>, Dense<8, 3>] =
        init::seeded(Init::PyTorchDefault, 1);
    let bytes = st::to_bytes(&source).unwrap();
    // Linear, Tanh, Linear, ReLU, Linear: modules 0, 2, 4.
    assert_eq!(
        keys_of(&bytes),
        [
            "0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"
        ]
    );

    // One layer short: the file's module 4 is extra.
    let mut short: seq![Dense<4, 8, Tanh>, Dense<8, 8, Relu>] = init::seeded(Init::HeUniform, 2);
    let before = short;
    let err = st::load_into(&mut short, &bytes).unwrap_err().to_string();
    assert_eq!(err, "4.bias: unexpected tensor [3] in the file");
    assert_eq!(short, before);

    // One layer more: the network's fourth layer has no module in the file.
    let mut long: seq![Dense<4, 8, Tanh>, Dense<8, 8, Relu>, Dense<8, 3, Relu>, Dense<3, 2>] =
        init::seeded(Init::HeUniform, 2);
    let before = long;
    let err = st::load_into(&mut long, &bytes).unwrap_err().to_string();
    assert_eq!(err, "6.weight: missing from the file (expected [2, 3])");
    assert_eq!(long, before);

    // A misshaped tensor in the middle: named with both shapes, nothing written.
    let mut mid: seq![Dense<4, 8, Tanh>, Dense<8, 5, Relu>, Dense<5, 3>] =
        init::seeded(Init::HeUniform, 2);
    let before = mid;
    let err = st::load_into(&mut mid, &bytes).unwrap_err().to_string();
    assert_eq!(err, "2.weight: expected [5, 8] f32, found [8, 8] f32");
    assert_eq!(mid, before);

    // A bias missing from an otherwise matching file.
    let mut tensors = tensors_of(&bytes);
    tensors.retain(|(k, ..)| k != "2.bias");
    let mut same: seq![Dense<4, 8, Tanh>, Dense<8, 8, Relu>, Dense<8, 3>] =
        init::seeded(Init::HeUniform, 2);
    let before = same;
    let err = st::load_into(&mut same, &rewrite(&tensors))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "2.bias: missing from the file (expected [8])");
    assert_eq!(same, before);

    // An extra key beside a layer's tensors.
    let mut tensors = tensors_of(&bytes);
    tensors.push((
        "2.extra".into(),
        safetensors::Dtype::F32,
        vec![2],
        vec![0; 8],
    ));
    let err = st::load_into(&mut same, &rewrite(&tensors))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "2.extra: unexpected tensor [2] in the file");
    assert_eq!(same, before);
}

type Tensors = Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>;

fn tensors_of(bytes: &[u8]) -> Tensors {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(k, v)| (k, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect()
}

fn rewrite(tensors: &Tensors) -> Vec<u8> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(k, d, s, b)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// F32 little-endian bytes of `values`.
fn f32_bytes(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

#[test]
fn dropout_takes_its_module_index_like_pytorch() {
    // The state_dict of `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2),
    // nn.Linear(8, 2))`: the Dropout is module 2, so the second Linear is module 3.
    let w0: Vec<f32> = (0..32).map(|k| (k as f32 - 15.5) / 16.0).collect();
    let b0: Vec<f32> = (0..8).map(|k| k as f32 / 8.0 - 0.5).collect();
    let w3: Vec<f32> = (0..16).map(|k| (7.5 - k as f32) / 8.0).collect();
    let b3 = vec![0.25f32, -0.125];
    let f32_ = safetensors::Dtype::F32;
    let file = rewrite(&vec![
        ("0.weight".into(), f32_, vec![8, 4], f32_bytes(w0.clone())),
        ("0.bias".into(), f32_, vec![8], f32_bytes(b0.clone())),
        ("3.weight".into(), f32_, vec![2, 8], f32_bytes(w3.clone())),
        ("3.bias".into(), f32_, vec![2], f32_bytes(b3.clone())),
    ]);
    type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
    let mut net = Net::zeros_for_test();
    net.second.first = Dropout::new(0.2);
    st::load_into(&mut net, &file).unwrap();
    for o in 0..8 {
        for i in 0..4 {
            assert_eq!(net.first.weight(o, i), w0[o * 4 + i]);
        }
    }
    assert_eq!(net.first.bias(), &b0[..]);
    let last = &net.second.second;
    for o in 0..2 {
        for i in 0..8 {
            assert_eq!(last.weight(o, i), w3[o * 8 + i]);
        }
    }
    assert_eq!(last.bias(), &b3[..]);
    // A state_dict has no `p`: the network keeps its own.
    assert_eq!(net.second.first.p, 0.2);
    // Written back with PyTorch's keys, and read back bit for bit.
    let bytes = st::to_bytes(&net).unwrap();
    assert_eq!(
        keys_of(&bytes),
        ["0.bias", "0.weight", "3.bias", "3.weight"]
    );
    let mut again = Net::zeros_for_test();
    again.second.first = Dropout::new(0.2);
    st::load_into(&mut again, &bytes).unwrap();
    assert_eq!(again, net);
    // In inference it is the network without the Dropout, which loads the same file.
    let mut plain: seq![Dense<4, 8, Relu>, Dense<8, 2>] = init::seeded(Init::HeUniform, 1);
    st::load_into(&mut plain, &file).unwrap();
    for x in [[0.5, -1.0, 2.0, 0.25], [-0.3, 0.7, 0.1, -2.0]] {
        assert_eq!(net.forward(&x), plain.forward(&x));
    }
}

#[test]
fn half_precision_is_converted_exactly_and_integers_are_refused() {
    let net: Iris = init::seeded(Init::HeUniform, 5);
    let bytes = st::to_bytes(&net).unwrap();
    // Every weight as F16 and BF16 (truncated: the conversion back must be exact).
    for dtype in [safetensors::Dtype::F16, safetensors::Dtype::BF16] {
        let mut tensors = tensors_of(&bytes);
        let mut want = Vec::new();
        for (_, d, _, b) in tensors.iter_mut() {
            let halves: Vec<u8> = b
                .chunks_exact(4)
                .flat_map(|c| {
                    let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    let h = if dtype == safetensors::Dtype::BF16 {
                        (x.to_bits() >> 16) as u16
                    } else {
                        f32_to_f16(x)
                    };
                    want.push(if dtype == safetensors::Dtype::BF16 {
                        f32::from_bits((h as u32) << 16)
                    } else {
                        f16_to_f32(h)
                    });
                    h.to_le_bytes()
                })
                .collect();
            *d = dtype;
            *b = halves;
        }
        let mut loaded = Iris::zeros_for_test();
        st::load_into(&mut loaded, &rewrite(&tensors)).unwrap();
        // Compare in the file's (sorted key) order: 0.bias, 0.weight, 2.bias, 2.weight.
        let mut got = Vec::new();
        for (k, ..) in &tensors {
            let (layer, name) = k.split_once('.').unwrap();
            let dense_rows = |rows: Vec<Vec<f32>>| rows.into_iter().flatten().collect::<Vec<_>>();
            let values: Vec<f32> = match (layer, name) {
                ("0", "weight") => dense_rows(
                    loaded
                        .first
                        .weight_rows()
                        .iter()
                        .map(|r| r.to_vec())
                        .collect(),
                ),
                ("0", "bias") => loaded.first.bias().to_vec(),
                ("2", "weight") => dense_rows(
                    loaded
                        .second
                        .weight_rows()
                        .iter()
                        .map(|r| r.to_vec())
                        .collect(),
                ),
                _ => loaded.second.bias().to_vec(),
            };
            got.extend(values);
        }
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
    // I64 weights: refused, naming the tensor and the dtype.
    let mut tensors = tensors_of(&bytes);
    let weight = tensors.iter_mut().find(|(k, ..)| k == "0.weight").unwrap();
    weight.1 = safetensors::Dtype::I32;
    let mut net2 = net;
    let err = st::load_into(&mut net2, &rewrite(&tensors))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "0.weight: cannot load an unsupported dtype");
    assert_eq!(net2, net);
}

/// Round to nearest even f32 → f16 for finite values in the f16 range (test helper).
fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let abs = x.abs();
    if abs < 6.103_515_6e-5 {
        // Subnormal f16: multiples of 2^-24.
        let q = (abs as f64 * 16_777_216.0).round_ties_even() as u16;
        return sign | q;
    }
    let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mant = bits & 0x7f_ffff;
    let mut h = ((exp as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
        h += 1;
    }
    sign | h as u16
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    if exp == 0 {
        sign * frac * 2f32.powi(-24)
    } else {
        sign * (1024.0 + frac) * 2f32.powi(exp - 25)
    }
}

#[test]
fn prefix_mapping_serves_models_that_are_not_sequential() {
    // As the GRU fixture would be: `rnn.` then `fc.`; tested here with two Dense layers.
    let net: Iris = init::seeded(Init::HeUniform, 7);
    let prefixes = Keys::Prefixes(&["hidden.", "fc."]);
    let bytes = st::to_bytes_with(&net, prefixes).unwrap();
    assert_eq!(
        keys_of(&bytes),
        ["fc.bias", "fc.weight", "hidden.bias", "hidden.weight"]
    );
    let mut loaded = Iris::zeros_for_test();
    st::load_into_with(&mut loaded, &bytes, prefixes).unwrap();
    assert_eq!(loaded, net);
    // The numbered default does not read it, and says which key it cannot place.
    let mut other = Iris::zeros_for_test();
    let err = st::load_into(&mut other, &bytes).unwrap_err().to_string();
    assert_eq!(err, "fc.bias: unexpected tensor [3] in the file");
    // Wrong number of prefixes.
    let err = st::load_into_with(&mut other, &bytes, Keys::Prefixes(&["fc."])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "key prefixes: fewer prefixes than layers with tensors"
    );
    assert_eq!(other, Iris::zeros_for_test());
}

#[test]
fn written_files_load_back_bit_for_bit_in_f32_and_f64() {
    let net32: Iris = init::seeded(Init::PyTorchDefault, 11);
    let mut back32 = Iris::zeros_for_test();
    st::load_into(&mut back32, &st::to_bytes(&net32).unwrap()).unwrap();
    assert!(same_bits(&back32, &net32));
    let net64: Digits = init::seeded(Init::PyTorchDefault, 11);
    let mut back64 = Digits::zeros_for_test();
    st::load_into(&mut back64, &st::to_bytes(&net64).unwrap()).unwrap();
    assert!(same_bits(&back64, &net64));
}

#[test]
fn file_helpers_round_trip() {
    let dir = std::env::temp_dir().join(format!("constnet-st-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("iris.safetensors");
    let net: Iris = init::seeded(Init::HeUniform, 8);
    st::save_file(&net, &path).unwrap();
    let mut back = Iris::zeros_for_test();
    st::load_file(&mut back, &path).unwrap();
    assert_eq!(back, net);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn same_bits<M: Params>(a: &M, b: &M) -> bool {
    a.tensors()
        .flatten()
        .zip(b.tensors().flatten())
        .all(|(x, y)| Scalar::to_f64(*x).to_bits() == Scalar::to_f64(*y).to_bits())
}

/// `Zeros::zeros` under a name that reads well in these tests.
trait ZerosForTest: constnet::Zeros {
    fn zeros_for_test() -> Self {
        Self::zeros()
    }
}
impl<T: constnet::Zeros> ZerosForTest for T {}

/// With `CONSTNET_EXPORT_DIR` set, writes a trained-looking BatchNorm network and its outputs
/// there, for `tests/python/check_sequential.py` (run by `.ci/run` when Python has the
/// `safetensors` and `numpy` packages): the file must be PyTorch's state_dict of
/// `nn.Sequential(Linear(4, 16), BatchNorm1d(16), ReLU(), Linear(16, 3))`.
#[test]
fn export_for_the_python_check() {
    let Some(dir) = std::env::var_os("CONSTNET_EXPORT_DIR") else {
        return;
    };
    let mut net: IrisBn = init::seeded(Init::PyTorchDefault, 21);
    let bn = &mut net.second.first;
    bn.set_running_mean(core::array::from_fn(|i| i as f32 * 0.1 - 0.5));
    bn.set_running_var(core::array::from_fn(|i| 0.5 + i as f32 * 0.05));
    bn.num_batches_tracked = 42;
    let dir = std::path::PathBuf::from(dir);
    st::save_file(&net, dir.join("iris_bn.safetensors")).unwrap();
    let mut text = String::from("# constnet's outputs\n");
    for i in 0..20 {
        let x: [f32; 4] = core::array::from_fn(|j| ((i * 7 + j * 3) % 11) as f32 * 0.5 - 2.0);
        let y = net.forward(&x);
        let join = |v: &[f32]| {
            v.iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        text += &format!("{} | {}\n", join(&x), join(&y));
    }
    std::fs::write(dir.join("iris_bn.expected.txt"), text).unwrap();
}

/// The GRU fixture's model: `rnn = nn.GRU(1, 8)`, `fc = nn.Linear(8, 1)` on every step.
type AmpGru = seq![constnet::GruSequence<1, 8, 1>, Dense<8, 1>];
const AMP_KEYS: Keys<'static> = Keys::Prefixes(&["rnn.", "fc."]);

#[test]
fn gru_fixture_streams_pytorchs_per_step_outputs() {
    let mut net = AmpGru::zeros_for_test();
    st::load_into_with(
        &mut net,
        &fixture("amp_gru_1_8_1_f32.safetensors"),
        AMP_KEYS,
    )
    .unwrap();
    let rows = expected("amp_gru_1_8_1_f32.expected.txt");
    assert!(rows.len() > 100);
    let mut state = constnet::GruState::zeros();
    let mut worst = 0.0f64;
    for (x, want) in &rows {
        let h = net.first.cell.step(&mut state, &[x[0] as f32]);
        let y = net.second.forward(&h);
        let err = (y[0] as f64 - want[0]).abs() / want[0].abs().max(1.0);
        worst = worst.max(err);
    }
    println!("amp_gru worst relative error {worst:e}");
    assert!(worst <= 1e-5, "worst relative error {worst:e}");
    // The same outputs through the block form, one buffer per 64 samples.
    let samples: Vec<f32> = rows.iter().map(|(x, _)| x[0] as f32).collect();
    let (frames, _) = samples.as_chunks::<1>();
    let mut state = constnet::GruState::zeros();
    let mut hs = vec![[0.0f32; 8]; frames.len()];
    for (xs, out) in frames.chunks(64).zip(hs.chunks_mut(64)) {
        net.first.cell.process(&mut state, xs, out);
    }
    for (h, (_, want)) in hs.iter().zip(&rows) {
        let y = net.second.forward(h)[0] as f64;
        assert!((y - want[0]).abs() <= 1e-5 * want[0].abs().max(1.0));
    }
    // Written back with PyTorch's keys and shapes, read bit for bit.
    let bytes = st::to_bytes_with(&net, AMP_KEYS).unwrap();
    assert_eq!(
        keys_of(&bytes),
        keys_of(&fixture("amp_gru_1_8_1_f32.safetensors"))
    );
    let mut again = AmpGru::zeros_for_test();
    st::load_into_with(&mut again, &bytes, AMP_KEYS).unwrap();
    assert!(same_bits(&again, &net));
    assert_eq!(
        st::to_bytes_with(&again, AMP_KEYS).unwrap(),
        st::to_bytes_with(&net, AMP_KEYS).unwrap()
    );
}

#[test]
fn recurrent_layers_follow_the_dense_error_rules() {
    let bytes = fixture("amp_gru_1_8_1_f32.safetensors");
    // A narrower GRU: the first tensor whose shape differs is named, with both shapes.
    let mut narrow = <seq![constnet::GruSequence<1, 4, 1>, Dense<4, 1>]>::zeros_for_test();
    let err = st::load_into_with(&mut narrow, &bytes, AMP_KEYS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rnn.weight_ih_l0: expected [12, 1] f32, found [24, 1] f32"
    );
    assert_eq!(
        narrow,
        <seq![constnet::GruSequence<1, 4, 1>, Dense<4, 1>]>::zeros_for_test()
    );
    // An LSTM of the same sizes wants 4 gates.
    let mut lstm = <seq![constnet::LstmSequence<1, 8, 1>, Dense<8, 1>]>::zeros_for_test();
    let err = st::load_into_with(&mut lstm, &bytes, AMP_KEYS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rnn.weight_ih_l0: expected [32, 1] f32, found [24, 1] f32"
    );
    // A missing tensor.
    let mut tensors = tensors_of(&bytes);
    tensors.retain(|(name, _, _, _)| name != "rnn.bias_hh_l0");
    let mut net = AmpGru::zeros_for_test();
    let err = st::load_into_with(&mut net, &rewrite(&tensors), AMP_KEYS).unwrap_err();
    assert!(err.to_string().starts_with("rnn.bias_hh_l0"), "{err}");
    assert_eq!(net, AmpGru::zeros_for_test());
    // In an nn.Sequential: `0.weight_ih_l0` ... then the head as module 1.
    let lstm: seq![constnet::LstmSequence<2, 3, 4>, Dense<3, 1>] =
        init::seeded(Init::PyTorchDefault, 3);
    let bytes = st::to_bytes(&lstm).unwrap();
    assert_eq!(
        keys_of(&bytes),
        [
            "0.bias_hh_l0",
            "0.bias_ih_l0",
            "0.weight_hh_l0",
            "0.weight_ih_l0",
            "1.bias",
            "1.weight"
        ]
    );
    let mut back = <seq![constnet::LstmSequence<2, 3, 4>, Dense<3, 1>]>::zeros_for_test();
    st::load_into(&mut back, &bytes).unwrap();
    assert_eq!(back, lstm);
}

// ---- Convolutional networks

/// One 8×8 one-channel image, channels-last.
type Image = [[[f32; 1]; 8]; 8];

/// Runs every expected line of a digits CNN fixture through `net` (the 64 pixels as an 8×8
/// image) and checks the 10 logits within 1e-5 relative (floor 1); returns the accuracy of
/// PyTorch's own argmax agreeing with ours.
fn check_image_outputs<N: Layer<Input = Image, Output = [f32; 10]>>(net: &N, file: &str) {
    let rows = expected(file);
    assert_eq!(rows.len(), 360);
    let mut worst = 0.0f64;
    for (x, want) in &rows {
        let image: Image =
            core::array::from_fn(|i| core::array::from_fn(|j| [x[8 * i + j] as f32]));
        let y = net.forward(&image);
        for (got, want) in y.iter().zip(want) {
            worst = worst.max((*got as f64 - want).abs() / want.abs().max(1.0));
        }
    }
    assert!(worst <= 1e-5, "{file}: worst relative error {worst:e}");
}

type DigitsCnn = seq![
    constnet::Conv2d<1, 16, 3, 3, 8, 8, 8, 8, Relu, f32, constnet::Padded<1, 1>>,
    constnet::MaxPool2d<16, 2, 2, 8, 8, 4, 4>,
    constnet::Flatten<[[[f32; 16]; 4]; 4], 256>,
    Dense<256, 10>
];

#[test]
fn a_pytorch_cnn_with_flatten_loads_and_reproduces_its_logits() {
    let mut net: DigitsCnn = init::seeded(Init::HeUniform, 0);
    st::load_into(
        &mut net,
        &fixture("digits_cnn_conv_pool_dense_f32.safetensors"),
    )
    .unwrap();
    check_image_outputs(&net, "digits_cnn_conv_pool_dense_f32.expected.txt");
    // constnet writes the same keys and shapes; the bytes load back bit for bit.
    let bytes = st::to_bytes(&net).unwrap();
    let mut back: DigitsCnn = init::seeded(Init::HeUniform, 1);
    st::load_into(&mut back, &bytes).unwrap();
    assert_eq!(back, net);
    // The wrong channel count is an error naming the key and both shapes; nothing changes.
    type Narrow = seq![
        constnet::Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Relu, f32, constnet::Padded<1, 1>>,
        constnet::MaxPool2d<8, 2, 2, 8, 8, 4, 4>,
        constnet::Flatten<[[[f32; 8]; 4]; 4], 128>,
        Dense<128, 10>
    ];
    let mut narrow: Narrow = init::seeded(Init::HeUniform, 2);
    let before = narrow;
    let error = st::load_into(&mut narrow, &bytes).unwrap_err().to_string();
    assert_eq!(
        error,
        "0.weight: expected [8, 1, 3, 3] f32, found [16, 1, 3, 3] f32"
    );
    assert_eq!(narrow, before);
}

/// The `resnet` of the golden cases, channels 8, on 8×8 one-channel images.
type Block1 = constnet::Residual<
    seq![
        constnet::Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Identity, f32, constnet::NoBias<constnet::Padded<1, 1>>>,
        constnet::BatchNorm2d<8, 8, 8>,
        constnet::ActivationMap<Relu, [[[f32; 8]; 8]; 8]>,
        constnet::Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Identity, f32, constnet::NoBias<constnet::Padded<1, 1>>>,
        constnet::BatchNorm2d<8, 8, 8>
    ],
    constnet::Skip<[[[f32; 8]; 8]; 8]>,
    Relu,
>;
type Block2 = constnet::Residual<
    seq![
        constnet::Conv2d<8, 16, 3, 3, 8, 8, 4, 4, Identity, f32, constnet::NoBias<constnet::Padded<1, 1, 2, 2>>>,
        constnet::BatchNorm2d<16, 4, 4>,
        constnet::ActivationMap<Relu, [[[f32; 16]; 4]; 4]>,
        constnet::Conv2d<16, 16, 3, 3, 4, 4, 4, 4, Identity, f32, constnet::NoBias<constnet::Padded<1, 1>>>,
        constnet::BatchNorm2d<16, 4, 4>
    ],
    seq![
        constnet::Conv2d<8, 16, 1, 1, 8, 8, 4, 4, Identity, f32, constnet::NoBias<constnet::Valid<2, 2>>>,
        constnet::BatchNorm2d<16, 4, 4>
    ],
    Relu,
>;
type DigitsResNet = seq![
    constnet::Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Identity, f32, constnet::NoBias<constnet::Padded<1, 1>>>,
    constnet::BatchNorm2d<8, 8, 8>,
    constnet::ActivationMap<Relu, [[[f32; 8]; 8]; 8]>,
    Block1,
    Block2,
    constnet::GlobalAvgPool2d<16, 4, 4>,
    Dense<16, 10>
];

/// The PyTorch module names of the ResNet's layers with tensors, in layer order.
const RESNET_KEYS: &[&str] = &[
    "stem.",
    "stem_bn.",
    "block1.conv1.",
    "block1.bn1.",
    "block1.conv2.",
    "block1.bn2.",
    "block2.conv1.",
    "block2.bn1.",
    "block2.conv2.",
    "block2.bn2.",
    "block2.down_conv.",
    "block2.down_bn.",
    "fc.",
];

#[test]
fn a_pytorch_resnet_with_nested_keys_loads_and_reproduces_its_logits() {
    let mut net: Box<DigitsResNet> = init::boxed(Init::HeUniform, 0);
    let bytes = fixture("digits_resnet_f32.safetensors");
    st::load_into_with(&mut *net, &bytes, Keys::Prefixes(RESNET_KEYS)).unwrap();
    assert!(
        net.second.first.num_batches_tracked > 0,
        "the counter loads too"
    );
    check_image_outputs(&*net, "digits_resnet_f32.expected.txt");
    let written = st::to_bytes_with(&*net, Keys::Prefixes(RESNET_KEYS)).unwrap();
    let mut back: Box<DigitsResNet> = init::boxed(Init::HeUniform, 1);
    st::load_into_with(&mut *back, &written, Keys::Prefixes(RESNET_KEYS)).unwrap();
    assert!(*back == *net, "written and read back bit for bit");
}
