// dropout<P> with P outside [0, 1].
// expect: ctnn: dropout<P>: P is the probability of zeroing an element and must be between 0 and 1
#include <ctnn/ctnn.hpp>

ctnn::network<float, ctnn::input<4>, ctnn::dropout<1.5>, ctnn::dense<1>> net{};
