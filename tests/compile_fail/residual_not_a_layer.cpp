// input<N> inside a residual branch.
// expect: ctnn: every entry of residual<...> must be a layer
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::input<4>, ctnn::residual<ctnn::input<4>, ctnn::dense<4>>> net{};
