//! Small int8 models made by `tests/python/make_int8_models.py` (TensorFlow 2.21's converter)
//! to exercise what the digits models do not: MEAN with `keep_dims` and with rescaling,
//! SAME pools whose windows leave the image, a depthwise multiplier of 2 and dilated
//! depthwise and regular convolutions, strided SAME convolutions on even sizes, a 5×3
//! kernel, a ResNet projection block, per-tensor FULLY_CONNECTED, grouped convolutions. Their Rust source (written
//! by `tflite::to_rust`, in `generated/more/`) reproduces LiteRT's reference kernels exactly,
//! equals what `load_into` builds, and is what `to_rust` writes today.

#[allow(dead_code)]
mod avgpool_same {
    include!("generated/more/avgpool_same.rs");
}
#[allow(dead_code)]
mod conv_grouped {
    include!("generated/more/conv_grouped.rs");
}
#[allow(dead_code)]
mod conv_strided_dilated {
    include!("generated/more/conv_strided_dilated.rs");
}
#[allow(dead_code)]
mod dense_per_tensor {
    include!("generated/more/dense_per_tensor.rs");
}
#[allow(dead_code)]
mod depthwise_multiplier {
    include!("generated/more/depthwise_multiplier.rs");
}
#[allow(dead_code)]
mod mean_keepdims {
    include!("generated/more/mean_keepdims.rs");
}
#[allow(dead_code)]
mod mean_rescaled {
    include!("generated/more/mean_rescaled.rs");
}
#[allow(dead_code)]
mod residual_projection {
    include!("generated/more/residual_projection.rs");
}

#[allow(dead_code)]
mod float_edges {
    include!("generated/more/float_edges.rs");
}

/// The float32 model: its QUANTIZE and DEQUANTIZE edges around the generated int8 network
/// give LiteRT's reference outputs bit for bit (inputs and outputs are stored as bit
/// patterns), and a NaN input is an error, not a number.
#[test]
fn float_edges_equal_tflite_reference_bit_for_bit() {
    let path = format!(
        "{}/tests/fixtures/tflite/more/float_edges.expected.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let floats = |s: &str| {
        s.split_whitespace()
            .map(|v| f32::from_bits(u32::from_str_radix(v, 16).unwrap()))
            .collect::<Vec<_>>()
    };
    let mut rows = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (input, expected) = line.split_once('|').unwrap();
        let (input, expected) = (floats(input), floats(expected));
        let mut output = vec![0.0f32; expected.len()];
        float_edges::forward_f32(&float_edges::FLOAT_EDGES, &input, &mut output).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&output), bits(&expected), "row {rows}");
        rows += 1;
    }
    assert_eq!(rows, 50);
    let mut input = vec![0.25f32; 72];
    input[7] = f32::NAN;
    let mut output = [0.0f32; 5];
    let err = float_edges::forward_f32(&float_edges::FLOAT_EDGES, &input, &mut output).unwrap_err();
    assert_eq!(err.index, 7);
}

fn rows(name: &str) -> Vec<(Vec<i8>, Vec<i8>)> {
    let path = format!(
        "{}/tests/fixtures/tflite/more/{name}.expected.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
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

fn reproduces(name: &str, forward: impl Fn(&[i8], &mut [i8])) {
    let rows = rows(name);
    assert_eq!(rows.len(), 50);
    for (i, (input, expected)) in rows.iter().enumerate() {
        let mut output = vec![0i8; expected.len()];
        forward(input, &mut output);
        assert_eq!(&output, expected, "{name} row {i}");
    }
}

#[test]
fn avgpool_same_equals_tflite_reference() {
    reproduces("avgpool_same", |x, y| {
        avgpool_same::forward_flat(&avgpool_same::AVGPOOL_SAME, x, y)
    });
}

#[test]
fn conv_grouped_equals_tflite_reference() {
    reproduces("conv_grouped", |x, y| {
        conv_grouped::forward_flat(&conv_grouped::CONV_GROUPED, x, y)
    });
}

#[test]
fn conv_strided_dilated_equals_tflite_reference() {
    reproduces("conv_strided_dilated", |x, y| {
        conv_strided_dilated::forward_flat(&conv_strided_dilated::CONV_STRIDED_DILATED, x, y)
    });
}

#[test]
fn dense_per_tensor_equals_tflite_reference() {
    reproduces("dense_per_tensor", |x, y| {
        dense_per_tensor::forward_flat(&dense_per_tensor::DENSE_PER_TENSOR, x, y)
    });
}

#[test]
fn depthwise_multiplier_equals_tflite_reference() {
    reproduces("depthwise_multiplier", |x, y| {
        depthwise_multiplier::forward_flat(&depthwise_multiplier::DEPTHWISE_MULTIPLIER, x, y)
    });
}

#[test]
fn mean_keepdims_equals_tflite_reference() {
    reproduces("mean_keepdims", |x, y| {
        mean_keepdims::forward_flat(&mean_keepdims::MEAN_KEEPDIMS, x, y)
    });
}

#[test]
fn mean_rescaled_equals_tflite_reference() {
    reproduces("mean_rescaled", |x, y| {
        mean_rescaled::forward_flat(&mean_rescaled::MEAN_RESCALED, x, y)
    });
}

#[test]
fn residual_projection_equals_tflite_reference() {
    reproduces("residual_projection", |x, y| {
        residual_projection::forward_flat(&residual_projection::RESIDUAL_PROJECTION, x, y)
    });
}

#[cfg(feature = "tflite")]
mod with_importer {
    use constnet::quant::boxed_zeros;
    use constnet::tflite;

    fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/tflite/more/{name}.tflite",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn generated_statics_equal_the_loaded_networks() {
        let mut net = boxed_zeros::<super::float_edges::FloatEdges>();
        tflite::load_into(&mut *net, &bytes("float_edges")).unwrap();
        assert_eq!(*net, super::float_edges::FLOAT_EDGES, "float_edges");
        let mut net = boxed_zeros::<super::avgpool_same::AvgpoolSame>();
        tflite::load_into(&mut *net, &bytes("avgpool_same")).unwrap();
        assert_eq!(*net, super::avgpool_same::AVGPOOL_SAME, "avgpool_same");
        let mut net = boxed_zeros::<super::conv_grouped::ConvGrouped>();
        tflite::load_into(&mut *net, &bytes("conv_grouped")).unwrap();
        assert_eq!(*net, super::conv_grouped::CONV_GROUPED, "conv_grouped");
        let mut net = boxed_zeros::<super::conv_strided_dilated::ConvStridedDilated>();
        tflite::load_into(&mut *net, &bytes("conv_strided_dilated")).unwrap();
        assert_eq!(
            *net,
            super::conv_strided_dilated::CONV_STRIDED_DILATED,
            "conv_strided_dilated"
        );
        let mut net = boxed_zeros::<super::dense_per_tensor::DensePerTensor>();
        tflite::load_into(&mut *net, &bytes("dense_per_tensor")).unwrap();
        assert_eq!(
            *net,
            super::dense_per_tensor::DENSE_PER_TENSOR,
            "dense_per_tensor"
        );
        let mut net = boxed_zeros::<super::depthwise_multiplier::DepthwiseMultiplier>();
        tflite::load_into(&mut *net, &bytes("depthwise_multiplier")).unwrap();
        assert_eq!(
            *net,
            super::depthwise_multiplier::DEPTHWISE_MULTIPLIER,
            "depthwise_multiplier"
        );
        let mut net = boxed_zeros::<super::mean_keepdims::MeanKeepdims>();
        tflite::load_into(&mut *net, &bytes("mean_keepdims")).unwrap();
        assert_eq!(*net, super::mean_keepdims::MEAN_KEEPDIMS, "mean_keepdims");
        let mut net = boxed_zeros::<super::mean_rescaled::MeanRescaled>();
        tflite::load_into(&mut *net, &bytes("mean_rescaled")).unwrap();
        assert_eq!(*net, super::mean_rescaled::MEAN_RESCALED, "mean_rescaled");
        let mut net = boxed_zeros::<super::residual_projection::ResidualProjection>();
        tflite::load_into(&mut *net, &bytes("residual_projection")).unwrap();
        assert_eq!(
            *net,
            super::residual_projection::RESIDUAL_PROJECTION,
            "residual_projection"
        );
    }

    /// The grouped model, written by `to_bytes` and read back: the same network.
    #[test]
    fn grouped_convolutions_written_as_tflite_read_back_equal() {
        let bytes = tflite::to_bytes(&super::conv_grouped::CONV_GROUPED).unwrap();
        // Kept for `tests/python/check_written_tflite.py`, which runs it in LiteRT.
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("written_tflite");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("conv_grouped.tflite"), &bytes).unwrap();
        let mut net = boxed_zeros::<super::conv_grouped::ConvGrouped>();
        tflite::load_into(&mut *net, &bytes).unwrap();
        assert_eq!(*net, super::conv_grouped::CONV_GROUPED);
    }

    #[test]
    fn generated_sources_are_what_to_rust_writes() {
        for (name, static_name, type_name) in [
            ("float_edges", "FLOAT_EDGES", "FloatEdges"),
            ("avgpool_same", "AVGPOOL_SAME", "AvgpoolSame"),
            ("conv_grouped", "CONV_GROUPED", "ConvGrouped"),
            (
                "conv_strided_dilated",
                "CONV_STRIDED_DILATED",
                "ConvStridedDilated",
            ),
            ("dense_per_tensor", "DENSE_PER_TENSOR", "DensePerTensor"),
            (
                "depthwise_multiplier",
                "DEPTHWISE_MULTIPLIER",
                "DepthwiseMultiplier",
            ),
            ("mean_keepdims", "MEAN_KEEPDIMS", "MeanKeepdims"),
            ("mean_rescaled", "MEAN_RESCALED", "MeanRescaled"),
            (
                "residual_projection",
                "RESIDUAL_PROJECTION",
                "ResidualProjection",
            ),
        ] {
            let fresh = tflite::to_rust(&bytes(name), static_name, type_name).unwrap();
            let path = format!(
                "{}/tests/generated/more/{name}.rs",
                env!("CARGO_MANIFEST_DIR")
            );
            assert!(
                fresh == std::fs::read_to_string(&path).unwrap(),
                "{path} is stale: regenerate with `cargo run --features tflite --example 13_tflite_to_rust -- tests/fixtures/tflite/more/{name}.tflite {static_name} {type_name}`"
            );
        }
    }
}
