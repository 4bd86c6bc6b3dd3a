//! Int8 models converted by TensorFlow Lite, loaded into typed int8 networks: every output
//! equals what LiteRT's reference kernels computed, exactly.
#![cfg(feature = "tflite")]

use constnet::int8_seq;
use constnet::layers::{Same, Valid};
use constnet::quant::{
    Image, Int8AvgPool2d, Int8Conv2d, Int8Dense, Int8DepthwiseConv2d, Int8GlobalAvgPool2d,
    Int8MaxPool2d, Int8Reshape, Int8Residual, Int8Skip, Int8Tensor,
};
use constnet::{Zeros, tflite};

type Mlp = int8_seq![Int8Dense<64, 32>, Int8Dense<32, 10>];

type Cnn = int8_seq![
    Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8DepthwiseConv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8Conv2d<8, 16, 1, 1, 8, 8, 8, 8, Valid>,
    Int8MaxPool2d<16, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
    Int8Conv2d<16, 16, 3, 3, 4, 4, 1, 1, Valid<2, 2>>,
    Int8GlobalAvgPool2d<16, 1, 1>,
    Int8Dense<16, 10>,
];

type Block = Int8Residual<
    int8_seq![Int8Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>, Int8Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>],
    Int8Skip<Image<8, 8, 8>>,
>;

type ResNet = int8_seq![
    Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
    Block,
    Int8AvgPool2d<8, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
    Int8Reshape<Image<8, 4, 4>, 128>,
    Int8Dense<128, 10>,
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/tflite/{name}.tflite",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `(input, expected output)` rows of a fixture's expected file.
fn expected(name: &str) -> Vec<(Vec<i8>, Vec<i8>)> {
    rows(&format!("{name}.expected.txt"))
}

/// `(input, output)` rows of `file` in `tests/fixtures/tflite/`.
fn rows(file: &str) -> Vec<(Vec<i8>, Vec<i8>)> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/tflite/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let numbers = |s: &str| {
        s.split_whitespace()
            .map(|v| v.parse::<i8>().unwrap())
            .collect::<Vec<_>>()
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (input, output) = l.split_once('|').unwrap();
            (numbers(input), numbers(output))
        })
        .collect()
}

/// Loads `name` into a zero network of type `L` and checks every row.
fn reproduces<L>(name: &str) -> Box<L>
where
    L: tflite::FromTflite,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let mut net: Box<L> = Box::new(L::zeros());
    tflite::load_into(&mut *net, &fixture(name)).unwrap();
    net.check(0).unwrap();
    let rows = expected(name);
    assert_eq!(rows.len(), 360);
    let mut wrong = 0;
    for (i, (input, output)) in rows.iter().enumerate() {
        let mut x = L::Input::zeros();
        x.values_mut().copy_from_slice(input);
        let y = net.forward(&x);
        if y.values() != &output[..] {
            wrong += 1;
            if wrong < 4 {
                eprintln!("{name} row {i}: {:?} expected {:?}", y.values(), output);
            }
        }
    }
    assert_eq!(
        wrong, 0,
        "{name}: {wrong} of 360 rows differ from TensorFlow Lite's reference kernels"
    );
    net
}

#[test]
fn mlp_reproduces_tflite_reference_exactly() {
    reproduces::<Mlp>("digits_mlp_64_32_10_int8");
}

#[test]
fn depthwise_cnn_reproduces_tflite_reference_exactly() {
    reproduces::<Cnn>("digits_cnn_dw_int8");
}

#[test]
fn residual_cnn_reproduces_tflite_reference_exactly() {
    reproduces::<ResNet>("digits_resnet_int8");
}

/// Loaded, written by `tflite::to_bytes` and read back: the same network (so the same outputs
/// as LiteRT's reference kernels), and written again the same bytes.
fn round_trips<L>(name: &str)
where
    L: tflite::FromTflite + tflite::ToTflite + PartialEq,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let net = reproduces::<L>(name);
    let bytes = tflite::to_bytes(&*net).unwrap();
    keep_written(name, &bytes);
    let mut back: Box<L> = Box::new(L::zeros());
    tflite::load_into(&mut *back, &bytes).unwrap();
    assert!(*back == *net, "{name}: read back differs");
    assert!(
        tflite::to_bytes(&*back).unwrap() == bytes,
        "{name}: written twice differs"
    );
}

/// After `use_fixed_point` the network gives every output TensorFlow Lite Micro computes from
/// the same file (`NAME.tflm.txt`, by `tests/python/tflm_expected.py`), which differs from
/// LiteRT's reference kernels in a few values (FULLY_CONNECTED's rounding): `differ` of them.
fn reproduces_micro<L>(name: &str, differ: usize)
where
    L: tflite::FromTflite,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let mut net = reproduces::<L>(name);
    net.use_fixed_point();
    let micro = rows(&format!("{name}.tflm.txt"));
    let reference = expected(name);
    assert_eq!(micro.len(), 360);
    let mut between = 0;
    for (i, ((input, output), (same_input, reference))) in micro.iter().zip(&reference).enumerate()
    {
        assert_eq!(
            input, same_input,
            "{name} row {i}: the files' inputs differ"
        );
        between += output.iter().zip(reference).filter(|(a, b)| a != b).count();
        let mut x = L::Input::zeros();
        x.values_mut().copy_from_slice(input);
        assert_eq!(
            net.forward(&x).values(),
            &output[..],
            "{name} row {i}: not what TensorFlow Lite Micro computes"
        );
    }
    assert_eq!(
        between, differ,
        "{name}: TensorFlow Lite Micro against LiteRT's reference"
    );
}

#[test]
fn fixed_point_networks_reproduce_tflite_micro_exactly() {
    reproduces_micro::<Mlp>("digits_mlp_64_32_10_int8", 13);
    reproduces_micro::<Cnn>("digits_cnn_dw_int8", 10);
    reproduces_micro::<ResNet>("digits_resnet_int8", 6);
}

#[test]
fn models_written_as_tflite_read_back_equal() {
    round_trips::<Mlp>("digits_mlp_64_32_10_int8");
    round_trips::<Cnn>("digits_cnn_dw_int8");
    round_trips::<ResNet>("digits_resnet_int8");
}

#[test]
fn a_mismatched_network_gets_an_error_naming_the_operator_and_is_untouched() {
    // The MLP file into a network with 16 hidden units.
    type Narrow = int8_seq![Int8Dense<64, 16>, Int8Dense<16, 10>];
    let mut net: Box<Narrow> = Box::new(Narrow::zeros());
    let before = net.clone();
    let err = tflite::load_into(&mut *net, &fixture("digits_mlp_64_32_10_int8")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("operator 0 (FULLY_CONNECTED): the weights have shape [32, 64]"),
        "{err}"
    );
    assert_eq!(net, before);

    // The CNN file into the MLP: the first operator is a CONV_2D.
    let mut mlp: Box<Mlp> = Box::new(Mlp::zeros());
    let err = tflite::load_into(&mut *mlp, &fixture("digits_cnn_dw_int8")).unwrap_err();
    assert!(
        err.to_string().contains("FULLY_CONNECTED")
            && err.to_string().contains("operator 0 (CONV_2D)"),
        "{err}"
    );

    // A network one layer short: the last operator is left over; nothing written.
    type Short = int8_seq![
        Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
        Int8DepthwiseConv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>,
        Int8Conv2d<8, 16, 1, 1, 8, 8, 8, 8, Valid>,
        Int8MaxPool2d<16, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
        Int8Conv2d<16, 16, 3, 3, 4, 4, 1, 1, Valid<2, 2>>,
        Int8GlobalAvgPool2d<16, 1, 1>,
    ];
    let mut short: Box<Short> = Box::new(Short::zeros());
    let before = short.clone();
    let err = tflite::load_into(&mut *short, &fixture("digits_cnn_dw_int8")).unwrap_err();
    assert!(
        err.to_string()
            .contains("operator 6 (FULLY_CONNECTED) is left over"),
        "{err}"
    );
    assert_eq!(short, before);

    // SAME in the file, VALID in the network.
    type WrongPadding = int8_seq![
        Int8Conv2d<1, 8, 3, 3, 8, 8, 6, 6, Valid>,
        Int8DepthwiseConv2d<8, 8, 3, 3, 6, 6, 6, 6, Same>,
    ];
    let mut wrong: Box<WrongPadding> = Box::new(WrongPadding::zeros());
    let err = tflite::load_into(&mut *wrong, &fixture("digits_cnn_dw_int8")).unwrap_err();
    assert!(
        err.to_string()
            .contains("operator 0 (CONV_2D): padding Same"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_models_are_refused() {
    let mut net: Box<Mlp> = Box::new(Mlp::zeros());
    assert!(
        tflite::load_into(&mut *net, b"")
            .unwrap_err()
            .to_string()
            .contains("too short")
    );
    assert!(
        tflite::load_into(&mut *net, b"\x10\0\0\0PK\x03\x04....")
            .unwrap_err()
            .to_string()
            .contains("TFL3")
    );
    assert!(tflite::to_rust(b"", "A", "B").is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Loads `bytes` into a fresh MLP: `Ok` gives the file's values (the loaded network
    /// equals a second load of the same bytes), `Err` leaves the network as it was.
    fn load_checks(bytes: &[u8]) {
        let mut net: Box<Mlp> = Box::new(Mlp::zeros());
        tflite::load_into(&mut *net, &fixture("digits_mlp_64_32_10_int8")).unwrap();
        let before = net.clone();
        match tflite::load_into(&mut *net, bytes) {
            Ok(()) => {
                let mut again: Box<Mlp> = Box::new(Mlp::zeros());
                tflite::load_into(&mut *again, bytes).unwrap();
                assert_eq!(net, again);
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert_eq!(net, before);
            }
        }
        let _ = tflite::to_rust(bytes, "NET", "Net");
    }

    /// A case `bit_flips_never_panic` found: one flipped bit gives a CONV_2D a filter with
    /// more channels than its image, which `to_rust` took for a grouped convolution and
    /// divided by zero groups; it is an `Err` now.
    #[test]
    fn a_filter_wider_than_its_image_is_an_error() {
        for name in [
            "digits_mlp_64_32_10_int8",
            "digits_cnn_dw_int8",
            "digits_resnet_int8",
        ] {
            let mut bytes = fixture(name);
            let at = 5056 % bytes.len();
            bytes[at] ^= 1 << 4;
            load_checks(&bytes);
        }
    }

    proptest! {
        #[test]
        fn truncated_files_never_panic(cut in 0usize..5288) {
            let bytes = fixture("digits_mlp_64_32_10_int8");
            load_checks(&bytes[..cut.min(bytes.len())]);
        }

        #[test]
        fn bit_flips_never_panic(flips in proptest::collection::vec((0usize..9176, 0u8..8), 1..6)) {
            for name in ["digits_mlp_64_32_10_int8", "digits_cnn_dw_int8", "digits_resnet_int8"] {
                let mut bytes = fixture(name);
                for &(at, bit) in &flips {
                    let at = at % bytes.len();
                    bytes[at] ^= 1 << bit;
                }
                load_checks(&bytes);
            }
        }

        #[test]
        fn lying_offsets_never_panic(at in 0usize..5288, value in any::<u32>()) {
            let mut bytes = fixture("digits_mlp_64_32_10_int8");
            let at = (at & !3).min(bytes.len() - 4);
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            load_checks(&bytes);
        }

        #[test]
        fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if bytes.len() >= 8 {
                bytes[4..8].copy_from_slice(b"TFL3");
            }
            load_checks(&bytes);
        }
    }
}

/// Keeps the written file in `target/tmp/written_tflite/` for
/// `tests/python/check_written_tflite.py`, which runs it in LiteRT.
fn keep_written(name: &str, bytes: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("written_tflite");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.tflite")), bytes).unwrap();
}

/// What a `.tflite` file cannot hold is refused by `to_bytes`, naming the layer.
#[test]
fn networks_no_tflite_file_gives_are_refused_by_name() {
    use constnet::layers::Padded;
    use constnet::quant::{MeanKernel, Quantization, QuantizedMultiplier};
    let q = Quantization::new(1.0, 0);
    let filter = [[[[1i8]; 3]; 3]];
    let error = |e: Result<Vec<u8>, tflite::Error>| e.unwrap_err().to_string();
    // A multiplier no f32 weight scale gives (2^30 + 1: the f32 nearest 0.5 give 2^30 or
    // 2^30 + 2^7).
    let conv = Int8Conv2d::<1, 1, 3, 3, 3, 3, 3, 3, Same>::new(
        filter,
        [0],
        [QuantizedMultiplier::new((1 << 30) + 1, 0)],
        q,
        q,
        [-128, 127],
    );
    let e = error(tflite::to_bytes(&conv));
    assert!(
        e.contains("layer 0 (Int8Conv2d<1, 1, 3, 3, 3, 3, 3, 3, _, 1>)")
            && e.contains("no weight scale"),
        "{e}"
    );
    // The same layer with the multiplier of weight scale 0.5 is written.
    let conv = Int8Conv2d::<1, 1, 3, 3, 3, 3, 3, 3, Same>::new(
        filter,
        [0],
        [QuantizedMultiplier::new(1 << 30, 0)],
        q,
        q,
        [-128, 127],
    );
    assert!(tflite::to_bytes(&conv).is_ok());
    // A clamp that is no fused activation.
    let clamped = Int8Conv2d::<1, 1, 3, 3, 3, 3, 3, 3, Same>::new(
        filter,
        [0],
        [QuantizedMultiplier::new(1 << 30, 0)],
        q,
        q,
        [-5, 5],
    );
    let e = error(tflite::to_bytes(&clamped));
    assert!(e.contains("clamp [-5, 5]"), "{e}");
    // Padding 2 around a 3×3 kernel is neither SAME nor VALID.
    let padded = Int8Conv2d::<1, 1, 3, 3, 3, 3, 5, 5, Padded<2, 2>>::new(
        filter,
        [0],
        [QuantizedMultiplier::new(1 << 30, 0)],
        q,
        q,
        [-128, 127],
    );
    let e = error(tflite::to_bytes(&padded));
    assert!(e.contains("neither SAME nor VALID"), "{e}");
    // A mean LiteRT's reference MEAN does not run.
    let mean = Int8GlobalAvgPool2d::<4, 2, 2>::new(q, q, MeanKernel::SameQuantization);
    let e = error(tflite::to_bytes(&mean));
    assert!(e.contains("MeanKernel::SameQuantization"), "{e}");
}

/// Random int8 networks built from scales (every operator the writer knows, random scales,
/// zero points, weights, biases and fused activations) are written by `to_bytes` and read
/// back equal: the weight scale of every channel is recovered from its requantization, in
/// both LiteRT's exact form and TensorFlow Lite Micro's fixed-point one.
mod random_networks {
    use super::*;
    use constnet::quant::{
        FusedActivation, Int8Add, Int8Chain, Int8Layer, MeanKernel, Quantization, activation_range,
    };
    use proptest::prelude::*;

    type Block = Int8Residual<Int8Conv2d<4, 4, 1, 1, 5, 5, 5, 5, Valid>, Int8Skip<Image<4, 5, 5>>>;
    type Net = Int8Chain<
        Int8Conv2d<2, 4, 3, 3, 5, 5, 5, 5, Same>,
        Int8Chain<
            Block,
            Int8Chain<
                Int8DepthwiseConv2d<4, 8, 3, 3, 5, 5, 3, 3, Valid>,
                Int8Chain<
                    Int8MaxPool2d<8, 2, 2, 3, 3, 2, 2, Same<2, 2>>,
                    Int8Chain<Int8GlobalAvgPool2d<8, 2, 2>, Int8Dense<8, 3>>,
                >,
            >,
        >,
    >;

    struct Numbers(u64);

    impl Numbers {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn byte(&mut self) -> i8 {
            self.next() as i8
        }
        /// A positive scale between 2^-14 and 2^2 with a random significand.
        fn scale(&mut self) -> f32 {
            let exponent = (self.next() % 16) as i32 - 14;
            (1.0 + (self.next() % (1 << 23)) as f32 / (1 << 23) as f32) * 2f32.powi(exponent)
        }
        fn quantization(&mut self) -> Quantization {
            Quantization::new(self.scale(), self.byte() as i32)
        }
        fn range(&mut self, output: Quantization) -> [i8; 2] {
            let activation = [
                FusedActivation::None,
                FusedActivation::Relu,
                FusedActivation::Relu6,
            ][(self.next() % 3) as usize];
            activation_range(activation, output)
        }
        fn array<T, const N: usize>(&mut self, mut f: impl FnMut(&mut Self) -> T) -> [T; N] {
            core::array::from_fn(|_| f(self))
        }
        fn bias<const N: usize>(&mut self) -> [i32; N] {
            self.array(|n| (n.next() as i32) >> 11)
        }
    }

    fn network(seed: u64) -> Box<Net> {
        let mut n = Numbers(seed | 1);
        let q0 = n.quantization();
        let q1 = n.quantization();
        let (w, b, s) = (
            n.array(|n| n.array(|n| n.array(|n| n.array(|n| n.byte())))),
            n.bias(),
            n.array::<f32, 4>(|n| n.scale()),
        );
        let range = n.range(q1);
        let first = Int8Conv2d::from_scales(w, b, q0, &s, q1, range);
        let q2 = n.quantization();
        let (w, b) = (
            n.array(|n| n.array(|n| n.array(|n| n.array(|n| n.byte())))),
            n.bias(),
        );
        let one_scale = [n.scale()];
        let range = n.range(q2);
        let body = Int8Conv2d::from_scales(w, b, q1, &one_scale, q2, range);
        let q3 = n.quantization();
        let range = n.range(q3);
        let block = Int8Residual {
            body,
            shortcut: Int8Skip::new(q1),
            add: Int8Add::from_scales(q1, q2, q3, range),
        };
        let q4 = n.quantization();
        let (w, b, s) = (
            n.array(|n| n.array(|n| n.array(|n| n.array(|n| n.byte())))),
            n.bias(),
            n.array::<f32, 8>(|n| n.scale()),
        );
        let range = n.range(q4);
        let depthwise = Int8DepthwiseConv2d::from_scales(w, b, q3, &s, q4, range);
        let range = n.range(q4);
        let pool = Int8MaxPool2d::new(q4, range);
        let q5 = n.quantization();
        let mean = Int8GlobalAvgPool2d::new(q4, q5, MeanKernel::Rescaled);
        let q6 = n.quantization();
        let (w, b, s) = (
            n.array(|n| n.array(|n| n.byte())),
            n.bias(),
            n.array::<f32, 3>(|n| n.scale()),
        );
        let range = n.range(q6);
        let dense = Int8Dense::from_scales(w, b, q5, &s, q6, range);
        Box::new(Int8Chain::new(
            first,
            Int8Chain::new(
                block,
                Int8Chain::new(depthwise, Int8Chain::new(pool, Int8Chain::new(mean, dense))),
            ),
        ))
    }

    proptest! {
        #[test]
        fn random_networks_read_back_equal(seed in any::<u64>()) {
            let net = network(seed);
            let bytes = tflite::to_bytes(&*net).unwrap();
            let mut back = constnet::quant::boxed_zeros::<Net>();
            tflite::load_into(&mut *back, &bytes).unwrap();
            prop_assert!(*back == *net);
            // TensorFlow Lite Micro's form: the same file (weight scales are recovered from
            // the fixed-point multipliers), read back and switched again.
            let mut micro = net;
            micro.use_fixed_point();
            prop_assert_eq!(tflite::to_bytes(&*micro).unwrap(), bytes);
            back.use_fixed_point();
            prop_assert!(*back == *micro);
        }
    }
}
