// layer<I> inside a residual block with I past its branch.
// expect: ctnn: layer<I> is out of range for this residual block
#include <ctnn/ctnn.hpp>

using Net = ctnn::network<float, ctnn::input<4>, ctnn::residual<ctnn::dense<4>, ctnn::relu>>;

float f(const Net& net) { return net.layer<0>().layer<2>().weight(0, 0); }
