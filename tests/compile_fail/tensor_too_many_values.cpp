// Three values for a tensor of two elements.
// expect: ctnn: more values than the tensor has elements
#include <ctnn/ctnn.hpp>

ctnn::tensor<float, 2> x{1.f, 2.f, 3.f};
