// A network with no input features.
// expect: ctnn: input<N> needs at least one feature: N must be > 0
// expect-also: (0 > 0)
#include <ctnn/ctnn.hpp>

using net = ctnn::network<float, ctnn::input<0>, ctnn::dense<8>>;
net n{};
