// input<N> in the middle of a layer list.
// expect: ctnn: every entry after input<N> must be a layer
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::input<3>, ctnn::dense<4>, ctnn::input<4>, ctnn::dense<1>> net{};
