// A layer list that does not start with input<N>.
// expect: ctnn: a network's layer list must start with input<N>, the number of input features
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
