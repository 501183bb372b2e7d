// The same mistake inside a nested block, after valid layers.
// expect: ctnn: a residual branch must keep the width
// expect-also: (3 == 6)
#include <ctnn/ctnn.hpp>

using Net = ctnn::network<double, ctnn::input<2>, ctnn::dense<6>,
                          ctnn::residual<ctnn::dense<6>, ctnn::residual<ctnn::relu, ctnn::dense<3>>>, ctnn::dense<1>>;
Net net{};
