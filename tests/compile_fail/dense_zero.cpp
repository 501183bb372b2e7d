// A dense layer with no outputs.
// expect: ctnn: dense<N> needs at least one output: N must be > 0
// expect-also: (0 > 0)
#include <ctnn/ctnn.hpp>

using net = ctnn::network<float, ctnn::input<4>, ctnn::dense<0>, ctnn::relu>;
net n{};
