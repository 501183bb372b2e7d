#pragma once
// The layer-list DSL: operator| composes layer specs into a list, network_of makes it a network.
//
//   using Net = ctnn::network_of<float, ctnn::input<2> | ctnn::dense<8> | ctnn::tanh | ctnn::dense<1>>;
//   static_assert(std::is_same_v<Net, ctnn::network<float, ctnn::input<2>, ctnn::dense<8>,
//                                                    ctnn::tanh, ctnn::dense<1>>>);
// A list without input<N> is a branch, for a residual block:
//   ctnn::input<4> | ctnn::dense<16> | ctnn::residual_of<ctnn::dense<16> | ctnn::relu | ctnn::dense<16>>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/layer.hpp>
#include <ctnn/layers/residual.hpp>
#include <ctnn/network.hpp>

#include <type_traits>

namespace ctnn {

// A list of layer specs, as a value: the result of input<N> | spec | spec ...
template <auto... Specs>
struct layer_list {
    template <class T>
    using network_type = network<T, Specs...>;
};

template <std::size_t N, layer_spec S>
constexpr layer_list<input_t<N>{}, S{}> operator|(input_t<N>, S) noexcept {
    return {};
}
template <auto... Specs, layer_spec S>
constexpr layer_list<Specs..., S{}> operator|(layer_list<Specs...>, S) noexcept {
    return {};
}

// A list of layer specs without input<N>: the branch of a residual block.
template <auto... Specs>
struct branch_list {};

template <layer_spec A, layer_spec S>
constexpr branch_list<A{}, S{}> operator|(A, S) noexcept {
    return {};
}
template <auto... Specs, layer_spec S>
constexpr branch_list<Specs..., S{}> operator|(branch_list<Specs...>, S) noexcept {
    return {};
}

namespace detail {
template <class List>
struct residual_of_impl {
    static_assert(sizeof(List) == 0 && false, "ctnn: residual_of takes a branch written layer | layer ...");
    using type = residual_t<dense_t<1>{}>;
};
template <auto... Specs>
struct residual_of_impl<branch_list<Specs...>> {
    using type = residual_t<Specs...>;
};
template <layer_spec S>
struct residual_of_impl<S> {
    using type = residual_t<S{}>;
};
}  // namespace detail

// residual_of<dense<8> | relu | dense<8>> is residual<dense<8>, relu, dense<8>>.
template <auto List>
inline constexpr typename detail::residual_of_impl<std::remove_cvref_t<decltype(List)>>::type residual_of{};

namespace detail {
template <class T, class List>
struct network_of_impl {
    static_assert(sizeof(List) == 0 && false,
                  "ctnn: network_of takes a layer list that starts with input<N>: input<N> | layer | layer ...");
    using type = network<T, input_t<1>{}, dense_t<1>{}>;
};
template <class T, auto... Specs>
struct network_of_impl<T, layer_list<Specs...>> {
    using type = network<T, Specs...>;
};
}  // namespace detail

template <class T, auto List>
using network_of = typename detail::network_of_impl<T, std::remove_cvref_t<decltype(List)>>::type;

}  // namespace ctnn
