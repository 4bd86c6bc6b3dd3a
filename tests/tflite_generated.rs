//! The Rust source `tflite::to_rust` wrote for the three int8 fixtures (in `generated/`),
//! compiled into this test: each reproduces LiteRT's reference outputs exactly through its
//! `forward_flat`, equals the network `load_into` builds from the same file, and is what
//! `to_rust` writes today.

#[allow(dead_code)]
mod mlp {
    include!("generated/digits_mlp_64_32_10_int8.rs");
}
#[allow(dead_code)]
mod cnn {
    include!("generated/digits_cnn_dw_int8.rs");
}
#[allow(dead_code)]
mod resnet {
    include!("generated/digits_resnet_int8.rs");
}

fn dir() -> String {
    format!("{}/tests/fixtures/tflite", env!("CARGO_MANIFEST_DIR"))
}

fn rows(name: &str) -> Vec<(Vec<i8>, Vec<i8>)> {
    let text = std::fs::read_to_string(format!("{}/{name}.expected.txt", dir())).unwrap();
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
    assert_eq!(rows.len(), 360);
    for (i, (input, expected)) in rows.iter().enumerate() {
        let mut output = vec![0i8; expected.len()];
        forward(input, &mut output);
        assert_eq!(&output, expected, "{name} row {i}");
    }
}

#[test]
fn generated_networks_reproduce_tflite_reference_exactly() {
    reproduces("digits_mlp_64_32_10_int8", |x, y| {
        mlp::forward_flat(&mlp::MLP, x, y)
    });
    reproduces("digits_cnn_dw_int8", |x, y| {
        cnn::forward_flat(&cnn::CNN, x, y)
    });
    reproduces("digits_resnet_int8", |x, y| {
        resnet::forward_flat(&resnet::RESNET, x, y)
    });
}

#[test]
#[should_panic(expected = "forward_flat: input length")]
fn forward_flat_refuses_a_wrong_length() {
    let mut y = [0i8; 10];
    mlp::forward_flat(&mlp::MLP, &[0; 63], &mut y);
}

#[cfg(feature = "tflite")]
mod with_importer {
    use constnet::quant::boxed_zeros;
    use constnet::tflite;

    fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/{name}.tflite", super::dir())).unwrap()
    }

    #[test]
    fn generated_statics_equal_the_loaded_networks() {
        let mut net = boxed_zeros::<super::mlp::Mlp>();
        tflite::load_into(&mut *net, &bytes("digits_mlp_64_32_10_int8")).unwrap();
        assert_eq!(*net, super::mlp::MLP);
        let mut net = boxed_zeros::<super::cnn::Cnn>();
        tflite::load_into(&mut *net, &bytes("digits_cnn_dw_int8")).unwrap();
        assert_eq!(*net, super::cnn::CNN);
        let mut net = boxed_zeros::<super::resnet::ResNet>();
        tflite::load_into(&mut *net, &bytes("digits_resnet_int8")).unwrap();
        assert_eq!(*net, super::resnet::RESNET);
    }

    #[test]
    fn generated_sources_are_what_to_rust_writes() {
        for (name, static_name, type_name) in [
            ("digits_mlp_64_32_10_int8", "MLP", "Mlp"),
            ("digits_cnn_dw_int8", "CNN", "Cnn"),
            ("digits_resnet_int8", "RESNET", "ResNet"),
        ] {
            let fresh = tflite::to_rust(&bytes(name), static_name, type_name).unwrap();
            let path = format!("{}/tests/generated/{name}.rs", env!("CARGO_MANIFEST_DIR"));
            let saved = std::fs::read_to_string(&path).unwrap();
            assert!(
                fresh == saved,
                "{path} is stale: regenerate with `cargo run --features tflite --example 13_tflite_to_rust -- tests/fixtures/tflite/{name}.tflite {static_name} {type_name}`"
            );
        }
    }
}
