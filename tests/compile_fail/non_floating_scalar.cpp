// A network of integers.
// expect: ctnn: a network's scalar type must be float or double
#include <ctnn/ctnn.hpp>

ctnn::network<int, ctnn::input<2>, ctnn::dense<1>> net{};
