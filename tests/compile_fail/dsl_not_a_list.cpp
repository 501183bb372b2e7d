// network_of given a single spec instead of a list written input<N> | layer | ...
// expect: ctnn: network_of takes a layer list that starts with input<N>
#include <ctnn/ctnn.hpp>

ctnn::network_of<float, ctnn::dense<3>> net{};
