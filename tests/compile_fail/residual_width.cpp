// A residual branch that changes the width: y = x + f(x) cannot add 8 values to 4.
// expect: ctnn: a residual branch must keep the width
// expect-also: (8 == 4)
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::input<4>, ctnn::residual<ctnn::dense<8>, ctnn::relu>, ctnn::dense<1>> net{};
