#pragma once
// The finite-difference gradient law: for every parameter of a network and every element of its
// input, the analytic derivative equals the central difference (f(w + h) - f(w - h)) / 2h.
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <vector>

namespace ctnn_test {

// g and dx hold backprop's gradients at (net, x); loss_at() evaluates the loss at the current
// values of net and x (the test moves them by h and back). Doubles only.
template <class Net, class X, class LossAt>
void check_finite_differences(Net& net, const typename Net::gradients& g, X& x, const X& dx, LossAt&& loss_at) {
    static_assert(std::is_same_v<typename Net::value_type, double>);
    const double h = 1e-6;
    std::vector<double> analytic;
    g.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
        for (std::size_t k = 0; k < t.size(); ++k) analytic.push_back(t.flat(k));
    });
    std::size_t at = 0;
    net.for_each_parameter([&](const ctnn::layer_path& path, const auto& t) {
        for (std::size_t k = 0; k < t.size(); ++k, ++at) {
            double& w = t.flat(k);
            const double w0 = w;
            w = w0 + h;
            const double up = loss_at();
            w = w0 - h;
            const double down = loss_at();
            w = w0;
            CAPTURE(key(path, t.name));
            CAPTURE(k);
            CHECK(analytic[at] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5).scale(1e-3));
        }
    });
    CHECK(at == Net::parameter_count);
    for (std::size_t i = 0; i < x.size; ++i) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double up = loss_at();
        x[i] = x0 - h;
        const double down = loss_at();
        x[i] = x0;
        CAPTURE(i);
        CHECK(dx[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5).scale(1e-3));
    }
}

}  // namespace ctnn_test
