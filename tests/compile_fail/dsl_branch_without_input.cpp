// A DSL list without input<N> given to network_of (it is a residual branch, not a network).
// expect: ctnn: network_of takes a layer list that starts with input<N>
#include <ctnn/ctnn.hpp>

ctnn::network_of<float, ctnn::dense<3> | ctnn::relu> net{};
