// Streaming speed of RTNeural (https://github.com/jatinchowdhury18/RTNeural, BSD-3-Clause) on
// the sequence models of constnet's `perf_report`: one sample in, one sample out, the
// compile-time `ModelT` API, batch 1.
//
//   GRU8:   GRU 1 -> 8, Dense 8 -> 1
//   LSTM16: LSTM 1 -> 16, Dense 16 -> 1
//   LSTM32: LSTM 1 -> 32, Dense 32 -> 1
//   CONV:   causal Conv1D 1 -> 8 (kernel 3), tanh, Conv1D 8 -> 8 (kernel 3, dilation 2),
//           tanh, Dense 8 -> 1
//
// Weights are seeded uniform values in +-1/sqrt(H) (PyTorch's initialization range); the
// time of these layers does not depend on the values. The signal is seeded noise plus two
// sines in about [-1, 1], 4096 samples per pass. Each figure is the median of 21 rounds of
// about 50 ms, ns per sample; the rounds of the four models are interleaved.
//
// Build and run: benches/peers/rtneural/run.sh (see benches/peers/README.md).
#include <RTNeural/RTNeural.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

namespace {

std::mt19937 rng(7);

float uniform(float bound) {
    return std::uniform_real_distribution<float>(-bound, bound)(rng);
}

std::vector<std::vector<float>> matrix(int rows, int cols, float bound) {
    std::vector<std::vector<float>> m(rows, std::vector<float>(cols));
    for (auto& row : m)
        for (auto& v : row)
            v = uniform(bound);
    return m;
}

std::vector<float> vec(int n, float bound) {
    std::vector<float> v(n);
    for (auto& x : v)
        x = uniform(bound);
    return v;
}

template <typename DenseLayer>
void set_dense(DenseLayer& dense, int in) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(in));
    dense.setWeights(matrix(1, in, bound));
    auto bias = vec(1, bound);
    dense.setBias(bias.data());
}

template <int H>
using GruModel = RTNeural::ModelT<float, 1, 1, RTNeural::GRULayerT<float, 1, H>,
                                  RTNeural::DenseT<float, H, 1>>;
template <int H>
using LstmModel = RTNeural::ModelT<float, 1, 1, RTNeural::LSTMLayerT<float, 1, H>,
                                   RTNeural::DenseT<float, H, 1>>;
using ConvModel = RTNeural::ModelT<float, 1, 1, RTNeural::Conv1DT<float, 1, 8, 3, 1>,
                                   RTNeural::TanhActivationT<float, 8>,
                                   RTNeural::Conv1DT<float, 8, 8, 3, 2>,
                                   RTNeural::TanhActivationT<float, 8>,
                                   RTNeural::DenseT<float, 8, 1>>;

template <int H>
void init(GruModel<H>& model) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(H));
    auto& gru = model.template get<0>();
    gru.setWVals(matrix(1, 3 * H, bound));
    gru.setUVals(matrix(H, 3 * H, bound));
    gru.setBVals(matrix(2, 3 * H, bound));
    set_dense(model.template get<1>(), H);
    model.reset();
}

template <int H>
void init(LstmModel<H>& model) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(H));
    auto& lstm = model.template get<0>();
    lstm.setWVals(matrix(1, 4 * H, bound));
    lstm.setUVals(matrix(H, 4 * H, bound));
    lstm.setBVals(vec(4 * H, bound));
    set_dense(model.template get<1>(), H);
    model.reset();
}

void init(ConvModel& model) {
    auto conv = [](auto& layer, int in, int out, int kernel) {
        const float bound = 1.0f / std::sqrt(static_cast<float>(in * kernel));
        std::vector<std::vector<std::vector<float>>> w(
            out, std::vector<std::vector<float>>(in, std::vector<float>(kernel)));
        for (auto& o : w)
            for (auto& i : o)
                for (auto& v : i)
                    v = uniform(bound);
        layer.setWeights(w);
        layer.setBias(vec(out, bound));
    };
    conv(model.get<0>(), 1, 8, 3);
    conv(model.get<2>(), 8, 8, 3);
    set_dense(model.get<4>(), 8);
    model.reset();
}

std::vector<float> signal() {
    std::mt19937 noise(21);
    std::vector<float> s(4096);
    const float pi = 3.14159265358979f;
    for (size_t n = 0; n < s.size(); ++n) {
        const float t = static_cast<float>(n) / 48000.0f;
        s[n] = 0.5f * std::sin(2.0f * pi * 220.0f * t) + 0.3f * std::sin(2.0f * pi * 1234.0f * t)
            + 0.2f * std::uniform_real_distribution<float>(-1.0f, 1.0f)(noise);
    }
    return s;
}

volatile float sink;

// Seconds per sample of `passes` passes over the signal.
template <typename Model>
double seconds_per_sample(Model& model, const std::vector<float>& x, int passes) {
    float acc = 0.0f;
    const auto start = std::chrono::steady_clock::now();
    for (int p = 0; p < passes; ++p)
        for (float v : x)
            acc += model.forward(&v);
    const auto end = std::chrono::steady_clock::now();
    sink = acc;
    return std::chrono::duration<double>(end - start).count()
        / (static_cast<double>(passes) * x.size());
}

} // namespace

int main() {
    const auto x = signal();
    GruModel<8> gru8;
    LstmModel<16> lstm16;
    LstmModel<32> lstm32;
    ConvModel conv;
    init(gru8);
    init(lstm16);
    init(lstm32);
    init(conv);
    std::vector<std::function<double(int)>> models = {
        [&](int p) { return seconds_per_sample(gru8, x, p); },
        [&](int p) { return seconds_per_sample(lstm16, x, p); },
        [&](int p) { return seconds_per_sample(lstm32, x, p); },
        [&](int p) { return seconds_per_sample(conv, x, p); },
    };
    const char* names[] = {"GRU8", "LSTM16", "LSTM32", "CONV"};
    std::vector<int> passes;
    for (auto& m : models) {
        // Passes for a round of about 50 ms.
        const double per_pass = m(4) / 4.0 * x.size();
        passes.push_back(std::max(1, static_cast<int>(0.05 / per_pass)));
    }
    std::vector<std::vector<double>> rounds(models.size());
    for (int r = 0; r < 21; ++r)
        for (size_t k = 0; k < models.size(); ++k)
            rounds[k].push_back(models[k](passes[k]));
    for (size_t k = 0; k < models.size(); ++k) {
        auto& t = rounds[k];
        std::sort(t.begin(), t.end());
        std::printf("RTNeural %s %s stream_ns: %.1f\n", RTNEURAL_BACKEND_NAME, names[k],
                    t[t.size() / 2] * 1e9);
    }
}
