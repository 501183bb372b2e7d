#pragma once
// The named tensors ("state dict") of what ctnn saves and loads, in a fixed order:
//
//   a network         its parameters, then its buffers, with PyTorch's nn.Sequential state_dict
//                     names: "0.weight" [out, in], "0.bias" [out], "3.0.weight" inside the block at
//                     index 3, "1.running_mean", "1.num_batches_tracked" (an int64 scalar)
//   Net::gradients    the gradients under the names of their parameters
//   a trainer         its network's tensors; then, for each state array of its optimizer,
//                     "optimizer.<array>.<parameter>" with the parameter's shape (<array> is the
//                     name PyTorch's optimizer state uses: exp_avg, exp_avg_sq, max_exp_avg_sq,
//                     momentum_buffer, square_avg, grad_avg, sum); "trainer.step", the number of
//                     steps taken (I64 scalar); and "trainer.rng", the state of the trainer's random
//                     generator (dropout) as the I64 with the same 64 bits.
//
// The trainer-only names contain no layer index first, so PyTorch's
// model.load_state_dict(state, strict=False) takes the network's tensors from a trainer
// checkpoint and reports the rest as unexpected keys.
//
// for_each_entry(x, f) calls f(entry_name, param_tensor<P>) for tensors of x's scalar type,
// f(entry_name, scaled_tensor<P>) for optimizer state kept scaled (below), and
// f(entry_name, integer_entry) for int64 scalars; P is const T when x is const.
#include <ctnn/layers/layer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ctnn::io::detail {

inline std::string key(const layer_path& path, std::string_view name) {
    std::string k = path.str<std::string>();
    k += '.';
    k += name;
    return k;
}

// The key of an entry, built only when asked for (committing a load must not allocate).
struct entry_name {
    std::string_view group;            // "" or "optimizer.exp_avg"
    const layer_path* path = nullptr;  // nullptr: name is the whole key ("trainer.step")
    std::string_view name;

    std::string str() const {
        if (!path) return std::string(name);
        std::string k(group);
        if (!group.empty()) k += '.';
        return k + key(*path, name);
    }
};

// An int64 scalar: its current value and how to set it (nullptr when saving from a const target).
struct integer_entry {
    std::int64_t value;
    void* object;
    void (*set)(void* object, std::int64_t value);
};

// A counter is rank 0 and int64 (num_batches_tracked): detected through the tensor's kind, where
// param_tensor has one.
template <class Tensor>
constexpr bool is_counter(const Tensor& t) noexcept {
    if constexpr (requires { t.kind; }) return t.kind == decltype(t.kind)::counter;
    else return false;
}

template <class Tensor>
integer_entry counter_entry(const Tensor& t) {
    if constexpr (requires { t.counter(); }) {
        integer_entry e{t.counter(), nullptr, nullptr};
        if constexpr (requires { t.set_counter(std::int64_t{}); }) {
            e.object = const_cast<void*>(static_cast<const void*>(&t));
            e.set = [](void* o, std::int64_t v) { static_cast<const Tensor*>(o)->set_counter(v); };
        }
        return e;
    } else {
        return integer_entry{0, nullptr, nullptr};
    }
}

// What kind of target x is.
template <class X>
concept trainer_like = requires(X& x) {
    x.network();
    x.state();
    x.steps();
};
template <class X>
concept parameter_holder = requires(X& x) { x.for_each_parameter([](const layer_path&, const auto&) {}); };

// The parameters, then the buffers, of a network or a parameter store.
template <class X, class F>
void for_each_tensor_entry(X& x, F& f) {
    auto visit = [&](const layer_path& path, const auto& t) {
        const entry_name k{{}, &path, t.name};
        if (is_counter(t)) f(k, counter_entry(t));
        else f(k, t);
    };
    x.for_each_parameter(visit);
    if constexpr (requires { x.for_each_buffer(visit); }) x.for_each_buffer(visit);
}

// The optimizer state arrays, by the names PyTorch uses, each present only if the state has it
// with one element per element of the parameter block.
template <class M>
constexpr std::size_t extent_of() noexcept {
    using A = std::remove_cvref_t<M>;
    if constexpr (std::is_array_v<A>) return std::extent_v<A>;
    else if constexpr (requires { std::tuple_size<A>::value; }) return std::tuple_size<A>::value;
    else return 0;
}
// f(name, values, scale): scale is 0 for an array that holds PyTorch's values, else the factor the
// state divides them by (scales[0] for the first moment, scales[1] for the second: state_scales).
template <std::size_t N, class State, class F>
void for_each_state_array(State& s, std::array<double, 2> scales, F&& f) {
    auto one = [&](std::string_view name, auto& member, double scale = 0) {
        if constexpr (extent_of<decltype(member)>() == N) f(name, std::data(member), scale);
    };
    if constexpr (requires { s.exp_avg; }) one("optimizer.exp_avg", s.exp_avg, scales[0]);
    if constexpr (requires { s.exp_avg_sq; }) one("optimizer.exp_avg_sq", s.exp_avg_sq, scales[1]);
    if constexpr (requires { s.max_exp_avg_sq; }) one("optimizer.max_exp_avg_sq", s.max_exp_avg_sq, scales[1]);
    if constexpr (requires { s.momentum_buffer; }) one("optimizer.momentum_buffer", s.momentum_buffer);
    if constexpr (requires { s.square_avg; }) one("optimizer.square_avg", s.square_avg);
    if constexpr (requires { s.grad_avg; }) one("optimizer.grad_avg", s.grad_avg);
    if constexpr (requires { s.sum; }) one("optimizer.sum", s.sum);
}

// An optimizer state array kept divided by scale (adam's float moments). The file holds PyTorch's
// values, the array times scale, as F64 computed in double: loading divides in double and rounds,
// which gives back the same bits (the product's relative error, 2^-53, is far below half an ulp of
// T), so that a checkpoint resumes bit for bit. Values from elsewhere (F32 from PyTorch) load the
// same way, rounded once.
template <class P>
struct scaled_tensor : param_tensor<P> {
    double scale;
    scaled_tensor(const param_tensor<P>& t, double s) noexcept : param_tensor<P>(t), scale(s) {}
    double file_value(std::size_t i) const noexcept { return static_cast<double>(this->flat(i)) * scale; }
    template <class T>
    T from_file(double v) const noexcept { return static_cast<T>(v / scale); }
};
template <class E>
inline constexpr bool is_scaled_tensor = false;
template <class P>
inline constexpr bool is_scaled_tensor<scaled_tensor<P>> = true;

// The network of a trainer, const when the trainer is (trainer::network() may have no const
// overload; reading through it does not modify the trainer).
template <class Tr>
auto& network_of(Tr& tr) {
    if constexpr (requires { tr.network(); }) return tr.network();
    else return std::as_const(const_cast<std::remove_const_t<Tr>&>(tr).network());
}

// The scales of a trainer's scaled state arrays ({0, 0}: none): those the arrays are in (a save),
// or those its optimizer steps with (a load, which decodes into them, so that the next step
// rescales nothing and a checkpoint resumes bit for bit even after the betas were changed).
template <class Tr>
std::array<double, 2> state_scales(Tr& tr, bool loading) noexcept {
    const auto& s = tr.state();
    if constexpr (requires { s.scale1; }) {
        using T = typename std::remove_cvref_t<decltype(network_of(tr))>::value_type;
        if constexpr (requires { tr.optimizer().template moment_scales<T>(); })
            if (loading) return tr.optimizer().template moment_scales<T>();
        return {s.scale1, s.scale2};
    } else {
        return {0, 0};
    }
}

// A trainer's optimizer state that is not an array: adagrad's "started" flag (set by its first
// update) follows from the step count; scaled arrays record the scales the load decoded into.
template <class Tr>
void after_load(Tr& tr) noexcept {
    if constexpr (trainer_like<Tr>) {
        if constexpr (requires { tr.state().started = true; }) tr.state().started = tr.steps() > 0;
        if constexpr (requires { tr.state().scale1; }) {
            const auto scales = state_scales(tr, true);
            tr.state().scale1 = scales[0];
            tr.state().scale2 = scales[1];
        }
    }
}

// loading: the entries a load decodes into (see state_scales).
template <class X, class F>
void for_each_entry(X& x, F&& f, bool loading = false) {
    if constexpr (trainer_like<std::remove_const_t<X>>) {
        auto& net = network_of(x);
        for_each_tensor_entry(net, f);
        using Net = std::remove_cvref_t<decltype(net)>;
        using T = typename Net::value_type;
        using P = std::conditional_t<std::is_const_v<X>, const T, T>;
        auto& state = x.state();
        const auto* block = net.parameter_block().data();
        const auto scales = state_scales(x, loading);
        for_each_state_array<Net::parameter_block_size>(state, scales, [&](std::string_view group, P* values, double scale) {
            net.for_each_parameter([&](const layer_path& path, const auto& t) {
                const param_tensor<P> s{t.name, t.rank, t.shape, values + (t.base - block), t.row_stride, t.col_stride};
                if (scale != 0) f(entry_name{group, &path, t.name}, scaled_tensor<P>{s, scale});
                else f(entry_name{group, &path, t.name}, s);
            });
        });
        integer_entry step{static_cast<std::int64_t>(x.steps()), nullptr, nullptr};
        if constexpr (!std::is_const_v<X>) {
            step.object = &x;
            step.set = [](void* o, std::int64_t v) {
                static_cast<X*>(o)->set_steps(static_cast<std::uint64_t>(v));
            };
        }
        f(entry_name{{}, nullptr, "trainer.step"}, step);
        if constexpr (requires { x.generator().state(); }) {
            integer_entry rng{static_cast<std::int64_t>(x.generator().state()), nullptr, nullptr};
            if constexpr (!std::is_const_v<X>) {
                rng.object = &x;
                rng.set = [](void* o, std::int64_t v) {
                    static_cast<X*>(o)->generator().set_state(static_cast<std::uint64_t>(v));
                };
            }
            f(entry_name{{}, nullptr, "trainer.rng"}, rng);
        }
    } else {
        for_each_tensor_entry(x, f);
    }
}

}  // namespace ctnn::io::detail
