#pragma once
// The layer-list DSL: operator| composes layer specs into a list, network_of makes it a network.
//
//   using Net = ctnn::network_of<float, ctnn::input<2> | ctnn::dense<8> | ctnn::tanh | ctnn::dense<1>>;
//   static_assert(std::is_same_v<Net, ctnn::network<float, ctnn::input<2>, ctnn::dense<8>,
//                                                    ctnn::tanh, ctnn::dense<1>>>);
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/layer.hpp>
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

namespace detail {
template <class T, class List>
struct network_of_impl {
    static_assert(sizeof(List) == 0 && false,
                  "ctnn: network_of takes a layer list written input<N> | layer | layer ...");
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
