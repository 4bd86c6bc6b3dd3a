//! Generates one exactly-typed check per golden case.
//!
//! constnet's shapes are types, so a case with `sizes: 4 8 3` needs the type
//! `seq![Dense<4, 8, A0, T>, Dense<8, 3, A1, T>]` at compile time. This script reads every
//! `*.txt` in `$GOLDEN_DIR` (default: the repo's `tests/golden/cases/`), and writes a Rust table
//! with one function per case and scalar type. Files are read with the one case-file parser,
//! `src/case_file.rs`, which the harness shares. Only the shape-determining keys are read here;
//! every value is read and checked at run time by `tests/golden.rs`. A case this script
//! cannot type (an unknown kind, activation, loss or optimizer) becomes a function that
//! fails with the reason, so the test fails instead of skipping it.

#[allow(dead_code)] // the harness uses the rest
#[path = "src/case_file.rs"]
mod case_file;

use case_file::CaseFile;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=GOLDEN_DIR");
    println!("cargo:rerun-if-changed=src/case_file.rs");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..");
    let dir = match env::var("GOLDEN_DIR") {
        Ok(d) if !d.is_empty() => {
            let p = PathBuf::from(d);
            if p.is_absolute() { p } else { root.join(p) }
        }
        _ => manifest.join("cases"),
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let mut out = String::new();
    writeln!(
        out,
        "pub const GOLDEN_DIR: &str = {:?};",
        dir.display().to_string()
    )
    .unwrap();
    writeln!(out, "pub const CASES: &[GeneratedCase] = &[").unwrap();
    let mut funcs = String::new();
    for (n, file) in files.iter().enumerate() {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        for dtype in ["f64", "f32"] {
            let body = match fs::read_to_string(file) {
                Ok(text) => match CaseFile::parse(&text).and_then(|m| generate(&m, dtype)) {
                    Ok(call) => call,
                    Err(why) => format!("let _ = c; Err({why:?}.to_string())"),
                },
                Err(e) => format!(
                    "let _ = c; Err({:?}.to_string())",
                    format!("cannot read file: {e}")
                ),
            };
            writeln!(
                funcs,
                "fn case_{n}_{dtype}(c: &Case) -> Result<usize, String> {{ {body} }}"
            )
            .unwrap();
            writeln!(
                out,
                "    GeneratedCase {{ name: {name:?}, path: {:?}, dtype: {dtype:?}, run: case_{n}_{dtype} }},",
                file.display().to_string()
            )
            .unwrap();
        }
    }
    writeln!(out, "];").unwrap();
    out.push_str(&funcs);
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("golden_cases.rs");
    fs::write(dest, out).unwrap();
}

fn activation(name: &str) -> Result<&'static str, String> {
    Ok(match name {
        "identity" => "Identity",
        "relu" => "Relu",
        "leaky_relu" => "LeakyRelu",
        "elu" => "Elu",
        "sigmoid" => "Sigmoid",
        "tanh" => "Tanh",
        "softplus" => "Softplus",
        "gelu" => "Gelu",
        "gelu_tanh" => "GeluTanh",
        "silu" => "Silu",
        "softmax" => "Softmax",
        other => return Err(format!("unsupported activation `{other}`")),
    })
}

/// The recurrent layer type of a `gru`/`lstm` case or of a `recurrent_train` `cell`.
fn cell(name: &str) -> Result<&'static str, String> {
    match name {
        "gru" => Ok("layers::Gru"),
        "lstm" => Ok("layers::Lstm"),
        other => Err(format!("unsupported recurrent cell `{other}`")),
    }
}

/// The loss expression and whether its target is a class index.
fn loss(m: &CaseFile) -> Result<(&'static str, &'static str), String> {
    let name = m.word("loss")?;
    let target = m.word("target_kind")?;
    let pair = match (name, target) {
        ("mse", "values") => ("mse", "values"),
        ("l1", "values") => ("l1", "values"),
        ("huber", "values") => ("huber", "values"),
        ("smooth_l1", "values") => ("smooth_l1", "values"),
        ("bce", "values") => ("bce", "values"),
        ("bce_with_logits", "values") => ("bce_with_logits", "values"),
        ("cross_entropy", "class_index") => ("cross_entropy", "class_index"),
        ("cross_entropy", "probabilities") | ("cross_entropy_probs", "probabilities") => {
            ("cross_entropy_probs", "probabilities")
        }
        (l, t) => return Err(format!("unsupported loss `{l}` with target_kind `{t}`")),
    };
    Ok(pair)
}

fn generate(m: &CaseFile, t: &str) -> Result<String, String> {
    let kind = m.word("kind")?;
    match kind {
        "mlp" => {
            let layers = m.int("layers")?;
            let sizes = m.ints("sizes")?;
            let acts = m.words("activations")?;
            if sizes.len() != layers + 1 || acts.len() != layers || layers == 0 {
                return Err("`layers`, `sizes` and `activations` disagree".into());
            }
            let mut types = Vec::new();
            for i in 0..layers {
                types.push(format!(
                    "Dense<{}, {}, {}, {t}>",
                    sizes[i],
                    sizes[i + 1],
                    activation(&acts[i])?
                ));
            }
            let batch = m.int("batch")?;
            let (loss_name, _) = loss(m)?;
            let optimizer = m.word("optimizer")?;
            // AMSGrad is a type (one more state buffer), so it decides the function.
            let amsgrad = |name: &'static str, amsgrad_name: &'static str| {
                Ok::<_, String>(match m.word("optimizer.amsgrad")? {
                    "true" => amsgrad_name,
                    "false" => name,
                    other => {
                        return Err(format!("`optimizer.amsgrad`: `{other}` is not a boolean"));
                    }
                })
            };
            let opt = match optimizer {
                "sgd" | "adagrad" | "rmsprop" | "adamax" | "nadam" => optimizer,
                "adam" => amsgrad("adam", "adam_amsgrad")?,
                "adamw" => amsgrad("adamw", "adamw_amsgrad")?,
                other => return Err(format!("unsupported optimizer `{other}`")),
            };
            Ok(format!(
                "mlp::<{t}, seq![{}], {}, {}, {batch}, _, _>(c, {loss_name}(c), opt_{opt})",
                types.join(", "),
                sizes[0],
                sizes[layers],
            ))
        }
        "activation" => {
            let a = activation(m.word("activation")?)?;
            Ok(format!(
                "activation::<{t}, {a}, {}, {}>(c)",
                m.int("features")?,
                m.int("batch")?
            ))
        }
        "loss" => {
            let (loss_name, _) = loss(m)?;
            Ok(format!(
                "loss_case::<{t}, {}, {}, _>(c, |c, ()| {loss_name}(c))",
                m.int("outputs")?,
                m.int("batch")?
            ))
        }
        "layernorm" => Ok(format!(
            "layer_norm::<{t}, {}, {}>(c)",
            m.int("features")?,
            m.int("batch")?
        )),
        "batchnorm1d" => {
            let batch = m.int("batch")?;
            if batch < 2 {
                return Err("batchnorm1d needs batch >= 2 in training".into());
            }
            Ok(format!(
                "batch_norm::<{t}, {}, {batch}, {}>(c)",
                m.int("features")?,
                m.int("eval_batch")?
            ))
        }
        "conv1d" => conv1d(m, t),
        "conv2d" => conv2d(m, t),
        "pool2d" => pool2d(m, t),
        "cnn_train" => cnn_train(m, t),
        "batchnorm2d" => {
            let [batch, channels, height, width, eval] =
                ["batch", "channels", "height", "width", "eval_batch"].map(|k| m.int(k));
            let (batch, height, width) = (batch?, height?, width?);
            if batch * height * width < 2 {
                return Err("batchnorm2d needs at least 2 values per channel in training".into());
            }
            Ok(format!(
                "batch_norm2d::<{t}, {}, {height}, {width}, {batch}, {}>(c)",
                channels?, eval?
            ))
        }
        "gru" | "lstm" => Ok(format!(
            "recurrent::<{t}, {}<{}, {}, {t}>, {}, {}, {}, {}>(c)",
            cell(kind)?,
            m.int("input_size")?,
            m.int("hidden_size")?,
            m.int("input_size")?,
            m.int("hidden_size")?,
            m.int("seq_len")?,
            m.int("batch")?
        )),
        "recurrent_train" => Ok(format!(
            "recurrent_train::<{t}, {}<{}, {}, {t}>, {}, {}, {}, {}, {}>(c)",
            cell(m.word("cell")?)?,
            m.int("input_size")?,
            m.int("hidden_size")?,
            m.int("input_size")?,
            m.int("hidden_size")?,
            m.int("output_size")?,
            m.int("seq_len")?,
            m.int("batch")?
        )),
        other => Err(format!("unknown kind `{other}`")),
    }
}

/// Two ints, height first.
fn pair(m: &CaseFile, key: &str) -> Result<[usize; 2], String> {
    match m.ints(key)?.as_slice() {
        &[h, w] => Ok([h, w]),
        other => Err(format!("`{key}`: expected 2 ints, found {}", other.len())),
    }
}

/// The output size PyTorch's formula gives, or an error naming the key.
fn out_size(key: &str, n: usize, k: usize, s: usize, p: usize, d: usize) -> Result<usize, String> {
    let span = d * (k - 1) + 1;
    if k == 0 || s == 0 || d == 0 || span > n + 2 * p {
        return Err(format!("`{key}`: the kernel does not fit the padded input"));
    }
    Ok((n + 2 * p - span) / s + 1)
}

/// The exact `Conv2d` type of a `conv2d` case (every compile-time check done here first).
fn conv2d(m: &CaseFile, t: &str) -> Result<String, String> {
    let act = activation(m.word("activation")?)?;
    let [c_in, c_out, h, w, groups, h_out, w_out, batch] = [
        "in_channels",
        "out_channels",
        "height",
        "width",
        "groups",
        "out_height",
        "out_width",
        "batch",
    ]
    .map(|key| m.int(key));
    let (c_in, c_out, h, w, groups, h_out, w_out, batch) =
        (c_in?, c_out?, h?, w?, groups?, h_out?, w_out?, batch?);
    let [kh, kw] = pair(m, "kernel_size")?;
    let [sh, sw] = pair(m, "stride")?;
    let [ph, pw] = pair(m, "padding")?;
    let [dh, dw] = pair(m, "dilation")?;
    if m.word("padding_mode")? != "zeros" {
        return Err("only `padding_mode: zeros` is supported".into());
    }
    if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
        return Err("in_channels and out_channels must be divisible by groups".into());
    }
    if out_size("out_height", h, kh, sh, ph, dh)? != h_out
        || out_size("out_width", w, kw, sw, pw, dw)? != w_out
    {
        return Err("`out_height`/`out_width` differ from PyTorch's formula".into());
    }
    let cg = c_in / groups;
    let padded = format!("Padded<{ph}, {pw}, {sh}, {sw}, {dh}, {dw}>");
    let options = if m.boolean("bias")? {
        padded
    } else {
        format!("NoBias<{padded}>")
    };
    Ok(format!(
        "conv2d::<{t}, {act}, {options}, {c_in}, {c_out}, {kh}, {kw}, {h}, {w}, {h_out}, {w_out}, {cg}, {batch}>(c)"
    ))
}

/// The exact network type of a `cnn_train` case (its three architectures, as the golden
/// README describes them) and its optimizer.
fn cnn_train(m: &CaseFile, t: &str) -> Result<String, String> {
    let [batch, ci, h, w, ch, k, eval] = [
        "batch",
        "in_channels",
        "height",
        "width",
        "channels",
        "classes",
        "eval_batch",
    ]
    .map(|key| m.int(key));
    let (batch, ci, h, w, ch, k, eval) = (batch?, ci?, h?, w?, ch?, k?, eval?);
    if m.word("loss")? != "cross_entropy" {
        return Err("cnn_train: only the cross_entropy loss is supported".into());
    }
    let img = |c: usize, h: usize, w: usize| format!("[[[{t}; {c}]; {w}]; {h}]");
    let bn = |c: usize, h: usize, w: usize| format!("BatchNorm2d<{c}, {h}, {w}, {t}>");
    let relu = |c: usize, h: usize, w: usize| format!("ActivationMap<Relu, {}>", img(c, h, w));
    let net = match m.word("arch")? {
        "conv_pool_dense" => {
            let (ks, p) = (m.int("kernel_size")?, m.int("padding")?);
            let (ho, wo) = (
                out_size("height", h, ks, 1, p, 1)?,
                out_size("width", w, ks, 1, p, 1)?,
            );
            let (hp, wp) = (
                out_size("height", ho, 2, 2, 0, 1)?,
                out_size("width", wo, 2, 2, 0, 1)?,
            );
            let n = ch * hp * wp;
            format!(
                "seq![Conv2d<{ci}, {ch}, {ks}, {ks}, {h}, {w}, {ho}, {wo}, Relu, {t}, Padded<{p}, {p}>>, MaxPool2d<{ch}, 2, 2, {ho}, {wo}, {hp}, {wp}, {t}>, Flatten<{}, {n}>, Dense<{n}, {k}, Identity, {t}>]",
                img(ch, hp, wp)
            )
        }
        "ds_cnn" => {
            let [kh, kw] = pair(m, "kernel_size")?;
            let [sh, sw] = pair(m, "stride")?;
            let [ph, pw] = pair(m, "padding")?;
            let (ho, wo) = (
                out_size("height", h, kh, sh, ph, 1)?,
                out_size("width", w, kw, sw, pw, 1)?,
            );
            format!(
                "seq![Conv2d<{ci}, {ch}, {kh}, {kw}, {h}, {w}, {ho}, {wo}, Identity, {t}, Padded<{ph}, {pw}, {sh}, {sw}>>, {b}, {r}, DepthwiseConv2d<{ch}, 3, 3, {ho}, {wo}, {ho}, {wo}, Identity, {t}, NoBias<Padded<1, 1>>>, {b}, {r}, Conv2d<{ch}, {ch}, 1, 1, {ho}, {wo}, {ho}, {wo}, Identity, {t}, NoBias<Valid>>, {b}, {r}, GlobalAvgPool2d<{ch}, {ho}, {wo}, {t}>, Dense<{ch}, {k}, Identity, {t}>]",
                b = bn(ch, ho, wo),
                r = relu(ch, ho, wo)
            )
        }
        "resnet" => {
            let (ho, wo) = (
                out_size("height", h, 3, 2, 1, 1)?,
                out_size("width", w, 3, 2, 1, 1)?,
            );
            let c2 = 2 * ch;
            let conv3 = |cin: usize,
                         cout: usize,
                         h: usize,
                         w: usize,
                         ho: usize,
                         wo: usize,
                         s: usize| {
                format!(
                    "Conv2d<{cin}, {cout}, 3, 3, {h}, {w}, {ho}, {wo}, Identity, {t}, NoBias<Padded<1, 1, {s}, {s}>>>"
                )
            };
            let block1 = format!(
                "Residual<seq![{}, {}, {}, {}, {}], Skip<{}>, Relu>",
                conv3(ch, ch, h, w, h, w, 1),
                bn(ch, h, w),
                relu(ch, h, w),
                conv3(ch, ch, h, w, h, w, 1),
                bn(ch, h, w),
                img(ch, h, w)
            );
            let block2 = format!(
                "Residual<seq![{}, {}, {}, {}, {}], seq![Conv2d<{ch}, {c2}, 1, 1, {h}, {w}, {ho}, {wo}, Identity, {t}, NoBias<Valid<2, 2>>>, {}], Relu>",
                conv3(ch, c2, h, w, ho, wo, 2),
                bn(c2, ho, wo),
                relu(c2, ho, wo),
                conv3(c2, c2, ho, wo, ho, wo, 1),
                bn(c2, ho, wo),
                bn(c2, ho, wo)
            );
            format!(
                "seq![{}, {}, {}, {block1}, {block2}, GlobalAvgPool2d<{c2}, {ho}, {wo}, {t}>, Dense<{c2}, {k}, Identity, {t}>]",
                conv3(ci, ch, h, w, h, w, 1),
                bn(ch, h, w),
                relu(ch, h, w)
            )
        }
        other => return Err(format!("unsupported cnn_train arch `{other}`")),
    };
    let opt = match (
        m.word("optimizer")?,
        m.word("optimizer.amsgrad").unwrap_or("false"),
    ) {
        ("sgd", _) => "sgd",
        ("adam", "false") => "adam",
        ("adam", "true") => "adam_amsgrad",
        ("adamw", "false") => "adamw",
        ("adamw", "true") => "adamw_amsgrad",
        (other, _) => return Err(format!("unsupported optimizer `{other}`")),
    };
    Ok(format!(
        "cnn_train::<{t}, {net}, _, {ci}, {h}, {w}, {k}, {batch}, {eval}>(c, opt_{opt})"
    ))
}

/// The exact pool type of a `pool2d` case.
fn pool2d(m: &CaseFile, t: &str) -> Result<String, String> {
    let [c, h, w, h_out, w_out, batch] = [
        "channels",
        "height",
        "width",
        "out_height",
        "out_width",
        "batch",
    ]
    .map(|key| m.int(key));
    let (c, h, w, h_out, w_out, batch) = (c?, h?, w?, h_out?, w_out?, batch?);
    let op = m.word("op")?;
    if op == "global_avg" {
        if h_out != 1 || w_out != 1 {
            return Err("global_avg: the output is 1×1".into());
        }
        return Ok(format!(
            "pool2d::<{t}, layers::GlobalAvgPool2d<{c}, {h}, {w}, {t}>, {c}, {h}, {w}, 1, 1, {batch}>(c, true)"
        ));
    }
    let [kh, kw] = pair(m, "kernel_size")?;
    let [sh, sw] = pair(m, "stride")?;
    let [ph, pw] = pair(m, "padding")?;
    if m.boolean("ceil_mode")? {
        return Err("only `ceil_mode: false` is supported".into());
    }
    if out_size("out_height", h, kh, sh, ph, 1)? != h_out
        || out_size("out_width", w, kw, sw, pw, 1)? != w_out
    {
        return Err("`out_height`/`out_width` differ from PyTorch's formula".into());
    }
    let layer = match op {
        "max" if m.word("padding_value")? == "neg_inf" => "MaxPool2d",
        "avg" if m.boolean("count_include_pad")? => "AvgPool2d",
        other => return Err(format!("unsupported pool `{other}` (or its padding rule)")),
    };
    Ok(format!(
        "pool2d::<{t}, layers::{layer}<{c}, {kh}, {kw}, {h}, {w}, {h_out}, {w_out}, {t}, Padded<{ph}, {pw}, {sh}, {sw}>>, {c}, {h}, {w}, {h_out}, {w_out}, {batch}>(c, false)"
    ))
}

/// The exact `Conv1d` type of a `conv1d` case, and the streaming check for stride 1. Every
/// condition the type checks at compile time is checked here first, so a bad file fails its
/// case instead of the build.
fn conv1d(m: &CaseFile, t: &str) -> Result<String, String> {
    let act = activation(m.word("activation")?)?;
    let [
        c_in,
        c_out,
        k,
        l,
        l_out,
        stride,
        padding,
        dilation,
        groups,
        batch,
    ] = [
        "in_channels",
        "out_channels",
        "kernel_size",
        "length",
        "out_length",
        "stride",
        "padding",
        "dilation",
        "groups",
        "batch",
    ]
    .map(|key| m.int(key));
    let (c_in, c_out, k, l, l_out) = (c_in?, c_out?, k?, l?, l_out?);
    let (stride, padding, dilation, groups, batch) =
        (stride?, padding?, dilation?, groups?, batch?);
    if m.word("padding_mode")? != "zeros" {
        return Err("only `padding_mode: zeros` is supported".into());
    }
    if k == 0 || stride == 0 || dilation == 0 || groups == 0 {
        return Err("kernel_size, stride, dilation and groups must be at least 1".into());
    }
    if c_in % groups != 0 || c_out % groups != 0 {
        return Err("in_channels and out_channels must be divisible by groups".into());
    }
    let span = dilation * (k - 1) + 1;
    if span > l + 2 * padding || l_out != (l + 2 * padding - span) / stride + 1 {
        return Err(
            "`out_length` is not (length + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1"
                .into(),
        );
    }
    let cg = c_in / groups;
    let history = dilation * (k - 1);
    let stream = if stride == 1 {
        format!(
            "Some(conv1d_stream::<{t}, {act}, {c_in}, {c_out}, {k}, {l}, {l_out}, {padding}, {dilation}, {groups}, {cg}, {history}>)"
        )
    } else {
        "None".to_string()
    };
    Ok(format!(
        "conv1d::<{t}, {act}, {c_in}, {c_out}, {k}, {l}, {l_out}, {stride}, {padding}, {dilation}, {groups}, {cg}, {batch}>(c, {stream})"
    ))
}
