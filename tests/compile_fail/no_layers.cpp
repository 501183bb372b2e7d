// A layer list with an input and nothing else.
// expect: ctnn: a network needs at least one layer after input<N>
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::input<3>> net{};
